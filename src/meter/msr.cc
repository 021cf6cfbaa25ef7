// PLACEHOLDER: the msr source lands here.
#include "meter/sources.h"

namespace wattlab {

ProbeResult ProbeMsr(Env* env, const MeterOptions& options) {
  (void)env, (void)options;
  ProbeResult r;
  r.attempt.source = kSourceRaplMsr;
  r.attempt.reason = "not built yet";
  return r;
}

}  // namespace wattlab
