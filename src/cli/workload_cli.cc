#include "cli/workload_cli.h"

#include "core/energy_basis.h"
#include "core/strings.h"
#include "meter/json.h"
#include "platform/plugin.h"
#include "report/builder.h"

namespace wattlab::cli {

void AddIdleFlags(CLI::App* cmd, IdleBaselinePolicy* out) {
  AddNumber(cmd, "--idle-seconds", &out->measure_s, Range::Between(0, 3600), "S",
            "idle baseline measured before the run when no stored one is reused (default 2; 0: no "
            "baseline)");
  AddNumber(cmd, "--idle-max-age", &out->max_age_s, Range::AtLeast(0), "S",
            "reuse the stored idle baseline of this host and these sources when younger than S seconds "
            "and not busy (default 3600; 0: always measure)");
}

void PreferPassiveOpenMpWait(Env* env) {
  (void)env->SetEnvVar("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/false);
}

Result<MeteredSession> OpenMeteredSession(const MeterFlags& flags) {
  MeteredSession s;
  WATTLAB_ASSIGN_OR_RETURN(s.env, OpenEnv(flags));
  WATTLAB_ASSIGN_OR_RETURN(MeterOptions options, flags.ResolveOptions(s.env.get()));
  // A 0.25 s busy sample of its own, not the idle baseline's busy verdict:
  // libgomp reads the policy when the plugin loads, and the baseline is
  // measured (or a stored one reused, with no verdict about now) after the
  // engine is loaded, so that loading libtorch is not idle time and a missing
  // plugin fails before any wait. Measuring the baseline first would save
  // 0.25 s only when no stored baseline is reused.
  s.omp = ChooseOmpWaitPolicy(s.env.get());
  // The engine first: loading libtorch is start-up work, not idle time.
  WATTLAB_ASSIGN_OR_RETURN(s.engine, LoadWorkloadEngine(s.env.get()));
  WATTLAB_ASSIGN_OR_RETURN(s.meter, Meter::Create(s.env.get(), options));
  WATTLAB_RETURN_IF_ERROR(s.meter->Start());
  s.meter->SetAttributionPid(s.env->Pid());
  s.context = CollectMeterContext(*s.meter, *s.engine);
  // The policy as chosen, not the raw variable: "default" when unset.
  bool named = false;
  for (auto& [k, v] : s.context.versions)
    if (k == "omp_wait_policy") v = OmpWaitPolicyName(s.omp.policy), named = true;
  if (!named) s.context.versions.emplace_back("omp_wait_policy", OmpWaitPolicyName(s.omp.policy));
  return s;
}

Status SetUpIdleBaseline(const std::string& cmd, MeteredSession* s, const IdleBaselinePolicy& policy) {
  if (s->omp.busy_at_start)
    std::fprintf(stderr, "wattlab %s: %s\n", cmd.c_str(), OmpBusyNote(s->omp).c_str());
  WATTLAB_RETURN_IF_ERROR(EstablishIdleBaseline(s->env.get(), s->meter.get(), policy, &s->context));
  if (s->context.idle_busy)
    std::fprintf(stderr, "wattlab %s: warning: %s\n", cmd.c_str(), s->context.idle_busy_warning.c_str());
  if (!s->context.idle_store_warning.empty())
    std::fprintf(stderr, "wattlab %s: warning: the idle baseline was not stored for reuse: %s\n", cmd.c_str(),
                 s->context.idle_store_warning.c_str());
  return Status::Ok();
}

std::string OmpLine(const OmpWaitChoice& c) {
  return std::string("openmp: ") + OmpWaitPolicyName(c.policy) + " wait policy (" + c.why + ")";
}

nlohmann::json OmpJson(const OmpWaitChoice& c) {
  return {{"policy", OmpWaitPolicyName(c.policy)},
          {"why", c.why},
          {"from_environment", c.from_environment},
          {"busy_at_start", c.busy_at_start}};
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
  j["idle_baseline"] = !c.idle_power_w ? "none" : c.idle_stored_at_s ? "stored" : "measured";
  j["idle_stored_at_s"] = c.idle_stored_at_s ? nlohmann::json(*c.idle_stored_at_s) : nlohmann::json();
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
         (c.idle_power_w ? FormatFixed(*c.idle_power_w, 2) + " W" +
                               (c.idle_stored_at_s
                                    ? " (stored at " + report::FormatUtc(*c.idle_stored_at_s) + ", reused)"
                                    : " (measured now over " + FormatDouble(c.idle_measured_s) + " s)") +
                               (c.idle_busy ? " (BUSY while measured)" : "")
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
