// The one definition of a "busy" idle baseline in wattlab.
//
// An idle baseline is meant to measure the machine doing nothing. Measured
// while something else keeps it busy (a shared machine, a build, a spinning
// process), it is about as high as the runs themselves, and every figure
// "above idle" becomes noise or negative. A baseline is BUSY when:
//   - the machine's CPU utilisation during it (busy ticks over all ticks of
//     /proc/stat) exceeds 10%, or
//   - it rests on the estimate (every in_total domain estimated) and its mean
//     power is within 5% of the estimate model's maximum (the sum of the
//     domains' DomainInfo::max_power_w): the model then saw a loaded CPU.
// Everything that asks "was that baseline busy?" (the meter's MeasureIdle,
// `wattlab idle`, the study runner, the performance checks) calls JudgeIdle.
// A busy baseline is warned about when measured, stored with its flag, and
// makes --energy auto choose total energy (core/energy_basis.h).
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "wattlab/meter.h"

namespace wattlab {

inline constexpr double kBusyIdleCpuUtilisation = 0.10;  // above this: busy
inline constexpr double kBusyIdleNearMaximum = 0.05;     // within 5% of the model's maximum: busy

struct IdleVerdict {
  bool busy = false;
  std::string reason;  // one clause, "" when quiet: "CPU 52% busy during it (more than 10%)"
};

// model_max_power_w: the estimate's maximum for the whole machine when every
// in_total domain is estimated; nullopt when a counter measured any of it.
IdleVerdict JudgeIdle(double cpu_util, double power_w, std::optional<double> model_max_power_w);

// The model's maximum for these domains: the sum of max_power_w over in_total
// domains when every one is estimated and states a maximum, else nullopt.
std::optional<double> EstimateMaximumW(const std::vector<DomainInfo>& domains);

// The sentence printed when a busy baseline is measured.
std::string BusyIdleWarning(const IdleVerdict& verdict, double power_w);

}  // namespace wattlab
