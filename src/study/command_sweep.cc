#include "study/command_sweep.h"

#include <algorithm>
#include <cmath>

#include "core/strings.h"

namespace wattlab {

std::string PhaseOfWindow(const SweepSpec& sweep, const std::string& window) {
  for (const char* phase : {"train", "eval", "infer"}) {
    if (std::find(sweep.phases.begin(), sweep.phases.end(), phase) == sweep.phases.end()) continue;
    const std::vector<std::string>* patterns = nullptr;
    for (const auto& [p, pats] : sweep.windows)
      if (p == phase) patterns = &pats;
    if (!patterns) {
      if (window == phase) return phase;
      continue;
    }
    for (const auto& pat : *patterns)
      if (GlobMatch(pat, window)) return phase;
  }
  return "";
}

std::vector<std::pair<std::string, std::string>> PlaceholderValues(const PlannedRun& r, const StudySpec& spec,
                                                                   int cpu_count) {
  const int64_t threads = r.threads > 0 ? r.threads : std::max(1, cpu_count);
  return {{"batch_size", std::to_string(r.batch_size)},
          {"threads", std::to_string(threads)},
          {"precision", r.precision},
          {"epochs", std::to_string(r.epochs)},
          {"seed", std::to_string(spec.seed)},
          {"repetition", std::to_string(r.repetition)},
          {"run_id", std::to_string(r.run_id)},
          {"dataset", spec.dataset}};
}

WindowResult SumWindows(const std::vector<WindowResult>& ws) {
  WindowResult out;
  if (ws.empty()) return out;
  out.name = ws.front().name;
  out.start_s = ws.front().start_s;
  bool all_above = true;
  double util_s = 0;
  for (const auto& w : ws) {
    out.start_s = std::min(out.start_s, w.start_s);
    out.duration_s += w.duration_s;
    out.energy_j += w.energy_j;
    out.samples += w.samples;
    out.estimated = out.estimated || w.estimated;
    util_s += w.cpu_util * w.duration_s;
    if (w.energy_above_idle_j) {
      out.energy_above_idle_j = out.energy_above_idle_j.value_or(0) + *w.energy_above_idle_j;
      out.idle_busy = out.idle_busy || w.idle_busy;
    } else {
      all_above = false;
    }
    if (w.idle_power_w) out.idle_power_w = w.idle_power_w;  // the latest baseline in force
    if (w.attributed_energy_j)
      out.attributed_energy_j = out.attributed_energy_j.value_or(0) + *w.attributed_energy_j;
    for (const auto& s : w.sources)
      if (std::find(out.sources.begin(), out.sources.end(), s) == out.sources.end()) out.sources.push_back(s);
    for (const auto& d : w.domains) {
      auto it = std::find_if(out.domains.begin(), out.domains.end(),
                             [&](const DomainEnergy& x) { return x.name == d.name; });
      if (it == out.domains.end()) {
        out.domains.push_back(d);
      } else {
        it->energy_j += d.energy_j;
        it->estimated = it->estimated || d.estimated;
      }
    }
  }
  if (!all_above) {
    out.energy_above_idle_j.reset();
    out.idle_busy = false;
  }
  if (out.duration_s > 0) {
    out.mean_power_w = out.energy_j / out.duration_s;
    out.cpu_util = util_s / out.duration_s;
    for (auto& d : out.domains) d.mean_power_w = d.energy_j / out.duration_s;
  }
  return out;
}

}  // namespace wattlab
