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
