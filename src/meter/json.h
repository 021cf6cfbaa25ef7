// JSON forms of the meter's plain structs, shared by every command that
// prints them (meters, measure, idle, train, infer, study). Keys are the
// contract: units in names (energy_j, power_w, duration_s), source names as
// in include/wattlab/meter.h. Absent optional figures are null, never NaN.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <vector>

#include <nlohmann/json.hpp>

#include "wattlab/meter.h"

namespace wattlab {

// {name, component, source, in_total, estimated, kind: "counter"|"power",
//  unit: "J"|"W", max_energy_range_j (null when none), note}
nlohmann::json DomainInfoToJson(const DomainInfo& d);
// {source, available, chosen, reason, hint, domains: [...], facts: {k: v}}
nlohmann::json AttemptToJson(const SourceAttempt& a);
// {interval_s, attempts: [...], chosen: [source names]}
nlohmann::json MetersToJson(const std::vector<SourceAttempt>& attempts, std::chrono::nanoseconds interval);
// {name, start_s, duration_s, energy_j, mean_power_w, idle_power_w,
//  energy_above_idle_j, estimated, sources, cpu_util, attributed_share,
//  attributed_energy_j, samples, domains: [{name, source, component,
//  in_total, estimated, energy_j, mean_power_w}]}
nlohmann::json WindowToJson(const WindowResult& w);

}  // namespace wattlab
