// Building a Meter from sources already in hand: Meter::Create uses it after
// detection; tests use it with fake EnergySources and a fake Env.
#pragma once

#include <memory>
#include <vector>

#include "core/env.h"
#include "wattlab/meter.h"

namespace wattlab {

// REQUIRES: report.chosen non-empty; env outlives the Meter.
std::unique_ptr<Meter> NewMeterFromDetection(Env* env, const MeterOptions& options, DetectionReport report);

}  // namespace wattlab

namespace wattlab {

// Per-domain idle power (watts, keyed by domain name) to go with
// Meter::SetIdlePower: lets attribution subtract exactly the CPU domains'
// idle share. Without it the idle power is split in proportion to each
// window's own energy split. Returns false when `meter` was not made here.
bool SetIdleDomainPowers(Meter* meter, const std::vector<std::pair<std::string, double>>& idle_w_by_domain);
// The per-domain idle powers in force (empty when unknown).
std::vector<std::pair<std::string, double>> IdleDomainPowers(const Meter* meter);

}  // namespace wattlab
