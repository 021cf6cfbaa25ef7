// Probes: one function per source kind. Each tries its source under the Env
// and returns the attempt (available or not, why, what to do) and, when
// usable, the source. Detection (detect.cc) calls them all and chooses.
#pragma once

#include <memory>
#include <vector>

#include "core/env.h"
#include "wattlab/meter.h"

namespace wattlab {

struct ProbeResult {
  SourceAttempt attempt;
  std::unique_ptr<EnergySource> source;  // null when not available
};

ProbeResult ProbePowercap(Env* env,
                          const MeterOptions& options);        // rapl-powercap (intel-rapl + intel-rapl-mmio)
ProbeResult ProbePerf(Env* env, const MeterOptions& options);  // rapl-perf
ProbeResult ProbeMsr(Env* env, const MeterOptions& options);   // rapl-msr
ProbeResult ProbeHwmon(Env* env, const MeterOptions& options);     // hwmon
ProbeResult ProbeNvml(Env* env, const MeterOptions& options);      // nvml
ProbeResult ProbeEstimate(Env* env, const MeterOptions& options);  // estimate (always available)

}  // namespace wattlab
