// JSON forms of the meter's plain structs, shared by every command that
// prints them (meters, measure, idle, train, infer, study). Keys are the
// contract: units in names (energy_j, power_w, duration_s), source names as
// in include/wattlab/meter.h. Absent optional figures are null, never NaN.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "wattlab/meter.h"

namespace wattlab {

// {name, component, source, in_total, estimated, kind: "counter"|"power",
//  unit: "J"|"W", max_energy_range_j (null when none), note}
nlohmann::json DomainInfoToJson(const DomainInfo& d);
// {source, available, chosen, reason, hint, domains: [...], facts: {k: v}}
nlohmann::json AttemptToJson(const SourceAttempt& a);
// {interval_s, attempts: [...], chosen: [source names]}
nlohmann::json MetersToJson(const std::vector<SourceAttempt>& attempts, std::chrono::nanoseconds interval);
// What a workload did inside a window (a phase or an epoch of train/infer).
struct WindowWork {
  int64_t samples = 0;              // workload samples processed in the window
  std::optional<double> mean_loss;  // epochs of training
};

// The one JSON shape of a meter window, printed by measure, train, infer:
// {name, start_s, duration_s, energy_j, mean_power_w, idle_power_w,
//  energy_above_idle_j, estimated, sources, cpu_util, attributed_share,
//  attributed_energy_j, meter_samples, net_rx_bytes, net_tx_bytes,
//  lo_rx_bytes, lo_tx_bytes, io_read_bytes, io_write_bytes (null when unread;
//  see WindowResult), domains: [{name, source, component, in_total,
//  estimated, energy_j, mean_power_w}]}
// and, when `work` is given, what the workload did in it:
// {samples, samples_per_s, energy_per_sample_j, energy_per_sample_basis
//  ("energy_above_idle_j" | "energy_j", core/energy_basis.h), mean_loss
//  (only when known)}. `meter_samples` counts sampler ticks; `samples` is
// always workload samples (measure keeps its old `samples` key: see
// docs/measurement.md).
// One meter per node (docs/scale.md): `local_rank` when the meter was given
// one; above 0 also `node_metered_by: "local rank 0"`, and energy_j,
// mean_power_w, energy_above_idle_j, attributed_energy_j and
// energy_per_sample_j are null (this process read no energy; its
// attributed_share is what it reports).
nlohmann::json WindowToJson(const WindowResult& w, const std::optional<WindowWork>& work = std::nullopt);

}  // namespace wattlab
