// PLACEHOLDER: the nvml source lands here.
#include "meter/sources.h"

namespace wattlab {

ProbeResult ProbeNvml(Env* env, const MeterOptions& options) {
  (void)env, (void)options;
  ProbeResult r;
  r.attempt.source = kSourceNvml;
  r.attempt.reason = "not built yet";
  return r;
}

}  // namespace wattlab
