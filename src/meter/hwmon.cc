// PLACEHOLDER: the hwmon source lands here.
#include "meter/sources.h"

namespace wattlab {

ProbeResult ProbeHwmon(Env* env, const MeterOptions& options) {
  (void)env, (void)options;
  ProbeResult r;
  r.attempt.source = kSourceHwmon;
  r.attempt.reason = "not built yet";
  return r;
}

}  // namespace wattlab
