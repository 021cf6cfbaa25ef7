// PLACEHOLDER: the powercap source lands here.
#include "meter/sources.h"

namespace wattlab {

ProbeResult ProbePowercap(Env* env, const MeterOptions& options) {
  (void)env, (void)options;
  ProbeResult r;
  r.attempt.source = kSourceRaplPowercap;
  r.attempt.reason = "not built yet";
  return r;
}

}  // namespace wattlab
