// PLACEHOLDER: the estimate source lands here.
#include "meter/sources.h"

namespace wattlab {

ProbeResult ProbeEstimate(Env* env, const MeterOptions& options) {
  (void)env, (void)options;
  ProbeResult r;
  r.attempt.source = kSourceEstimate;
  r.attempt.reason = "not built yet";
  return r;
}

}  // namespace wattlab
