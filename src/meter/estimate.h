// The estimate source: CPU and DRAM power modelled from /proc, clearly
// labelled as an estimate. It is the fallback that is always available on
// Linux (it needs only /proc/stat), used where no counter can be read (VMs,
// containers, this project's build machine).
//
// Model (CodeCarbon's fallback; docs/measurement.md, docs/conventions.md):
//   cpu:  P = TDP x (0.1 + 0.9 x u^3)
//         i.e. idle = 10% of TDP, rising with the cube of utilisation u
//         (busy ticks / all ticks of /proc/stat between two reads), so a
//         half-loaded CPU draws 21% of TDP, a fully loaded one its TDP.
//   dram: P = 0.375 W per GiB of MemTotal, constant (DRAM power barely
//         follows load at this level of modelling).
// TDP comes from ResolveCpuTdp (override, table, generation, 4 W/thread).
//
// Readings are mean power in W over the interval since the previous Read
// (is_counter = false, estimated = true). The first Read averages over the
// interval since the source was created (the probe takes a /proc/stat
// snapshot), never over the time since boot. When no tick passed between
// two reads (/proc/stat counts in 10 ms ticks) the previous utilisation is
// repeated.
//
// Thread-safety: Read is called by one thread (the sampler); Facts may be
// called concurrently (it reads only constants and an atomic).
#pragma once

#include <optional>

#include "meter/cpu_tdp_table.h"
#include "meter/sources.h"

namespace wattlab {

inline constexpr double kIdleFractionOfTdp = 0.1;
inline constexpr double kDramWattsPerGiB = 0.375;

// The load model: tdp_w x (0.1 + 0.9 u^3). u is clamped to [0, 1].
double EstimateCpuPowerW(double tdp_w, double utilisation);

// Utilisation between two /proc/stat snapshots: busy delta / total delta,
// nullopt when no tick passed (or the counters went backwards).
std::optional<double> UtilisationBetween(const CpuTimes& before, const CpuTimes& after);

// InvalidArgument when cpu_tdp_w is set but not a positive finite number.
Status ValidateEstimateOptions(const MeterOptions& options);

}  // namespace wattlab
