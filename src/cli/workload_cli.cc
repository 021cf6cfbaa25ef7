#include "cli/workload_cli.h"

#include "core/energy_basis.h"
#include "core/strings.h"
#include "meter/json.h"
#include "platform/plugin.h"

namespace wattlab::cli {

void AddIdleSeconds(CLI::App* cmd, double* out) {
  AddNumber(cmd, "--idle-seconds", out, Range::Between(0, 3600), "S",
            "idle baseline measured before the run (default 2; 0 disables)");
}

void PreferPassiveOpenMpWait(Env* env) {
  (void)env->SetEnvVar("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/false);
}

Result<MeteredSession> OpenMeteredSession(const MeterFlags& flags) {
  MeteredSession s;
  WATTLAB_ASSIGN_OR_RETURN(s.env, OpenEnv(flags));
  PreferPassiveOpenMpWait(s.env.get());
  WATTLAB_ASSIGN_OR_RETURN(MeterOptions options, flags.ResolveOptions(s.env.get()));
  // The engine first: loading libtorch is start-up work, not idle time.
  WATTLAB_ASSIGN_OR_RETURN(s.engine, LoadWorkloadEngine(s.env.get()));
  WATTLAB_ASSIGN_OR_RETURN(s.meter, Meter::Create(s.env.get(), options));
  WATTLAB_RETURN_IF_ERROR(s.meter->Start());
  s.meter->SetAttributionPid(s.env->Pid());
  s.context = CollectMeterContext(*s.meter, *s.engine);
  return s;
}

nlohmann::json WindowJson(const MeteredWindow& w) {
  return WindowToJson(w.result, WindowWork{w.samples, w.mean_loss});
}

nlohmann::json MeterJson(const MeterContext& c) {
  nlohmann::json j;
  j["sources"] = c.sources;
  j["estimated"] = c.estimated;
  j["interval_s"] = c.interval_s;
  j["idle_power_w"] = c.idle_power_w ? nlohmann::json(*c.idle_power_w) : nlohmann::json();
  j["idle_measured_s"] = c.idle_measured_s;
  j["idle_busy"] = c.idle_busy;
  j["idle_cpu_util"] = c.idle_cpu_util ? nlohmann::json(*c.idle_cpu_util) : nlohmann::json();
  return j;
}

nlohmann::json VersionsJson(const MeterContext& c) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : c.versions) j[k] = v;
  j["wattlab"] = WattlabVersion();
  return j;
}

std::string MeterLine(const MeterContext& c) {
  return "meter: " + Join(c.sources, "+") +
         (c.estimated ? " (estimated: a model of CPU time, not a measurement)" : "") + "; idle " +
         (c.idle_power_w
              ? FormatFixed(*c.idle_power_w, 2) + " W" + (c.idle_busy ? " (BUSY while measured)" : "")
              : "not measured");
}

std::string WindowLine(const MeteredWindow& w) {
  const WindowResult& r = w.result;
  const EnergyBasis basis = WindowEnergyBasis(r.energy_j, r.energy_above_idle_j, r.idle_busy);
  const double per = EnergyPerSample(r.energy_j, r.energy_above_idle_j, w.samples, basis).value_or(0.0);
  std::string line = w.name + ": " + FormatFixed(r.duration_s, 3) + " s, " + std::to_string(w.samples) +
                     " samples (" + FormatFixed(r.duration_s > 0 ? w.samples / r.duration_s : 0, 1) +
                     "/s), " + FormatFixed(r.energy_j, 2) + " J";
  std::string why_total = " (no idle baseline)";
  if (r.energy_above_idle_j) {
    const ShownAboveIdle shown = ShowAboveIdle(r.energy_j, *r.energy_above_idle_j);
    line +=
        " (" + FormatFixed(shown.value_j, 2) + " J above idle" +
        (shown.below_idle_j > 0 ? ": " + FormatFixed(shown.below_idle_j, 4) + " J below the baseline" : "") +
        ")";
    why_total = r.idle_busy ? " (total: the idle baseline was busy)" : " (total: nothing above idle)";
  }
  line += ", " + FormatFixed(per * 1e3, 4) + " mJ/sample" + (basis == EnergyBasis::kTotal ? why_total : "");
  if (r.estimated) line += " [estimated]";
  return line;
}

}  // namespace wattlab::cli
