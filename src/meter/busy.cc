#include "meter/busy.h"

#include <cmath>

#include "core/strings.h"

namespace wattlab {

IdleVerdict JudgeIdle(double cpu_util, double power_w, std::optional<double> model_max_power_w) {
  IdleVerdict v;
  std::vector<std::string> why;
  if (std::isfinite(cpu_util) && cpu_util > kBusyIdleCpuUtilisation)
    why.push_back("the CPU was " + FormatFixed(cpu_util * 100, 0) + "% busy during it (more than " +
                  FormatFixed(kBusyIdleCpuUtilisation * 100, 0) + "%)");
  if (model_max_power_w && *model_max_power_w > 0 && std::isfinite(power_w) &&
      power_w >= (1.0 - kBusyIdleNearMaximum) * *model_max_power_w)
    why.push_back("its " + FormatFixed(power_w, 2) + " W is within " +
                  FormatFixed(kBusyIdleNearMaximum * 100, 0) + "% of the estimate's maximum of " +
                  FormatFixed(*model_max_power_w, 2) + " W");
  v.busy = !why.empty();
  v.reason = Join(why, "; ");
  return v;
}

std::optional<double> EstimateMaximumW(const std::vector<DomainInfo>& domains) {
  double sum = 0;
  bool any = false;
  for (const auto& d : domains) {
    if (!d.in_total) continue;
    if (!d.estimated || !(d.max_power_w > 0)) return std::nullopt;
    sum += d.max_power_w;
    any = true;
  }
  if (!any) return std::nullopt;
  return sum;
}

std::string BusyIdleWarning(const IdleVerdict& verdict, double power_w) {
  return "the idle baseline (" + FormatFixed(power_w, 2) +
         " W) was measured while the machine was busy: " + verdict.reason +
         ". Energy above idle would be noise; results on this baseline use total energy unless --energy "
         "above-idle is asked for. Measure idle again on a quiet machine.";
}

}  // namespace wattlab
