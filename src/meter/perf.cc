// PLACEHOLDER: the perf source lands here.
#include "meter/sources.h"

namespace wattlab {

ProbeResult ProbePerf(Env* env, const MeterOptions& options) {
  (void)env, (void)options;
  ProbeResult r;
  r.attempt.source = kSourceRaplPerf;
  r.attempt.reason = "not built yet";
  return r;
}

}  // namespace wattlab
