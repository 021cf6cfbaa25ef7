// wattlab idle [--seconds N] [--json]: measures the machine's idle power and
// stores it (keyed by host and sources, with its date) for
// `wattlab measure --subtract-idle`.
// wattlab idle --record-profile FILE [--profile-step U] [--profile-seconds S]
// [--json]: on a machine with a CPU energy counter, records the CPU's power
// against load (meter/profile_recorder.h) for --estimate-profile FILE.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/strings.h"
#include "meter/busy.h"
#include "meter/idle_store.h"
#include "meter/procfs.h"
#include "meter/profile_recorder.h"

namespace wattlab::cli {

namespace {

struct Idle {
  bool json = false;
  double seconds = 10;
  std::string record_profile;
  double profile_step = kProfileStepDefault;
  double profile_seconds = 5;
  CLI::Option *seconds_opt = nullptr, *step_opt = nullptr, *profile_seconds_opt = nullptr;
  MeterFlags flags;
  int Run();
  int RecordProfile();
};

}  // namespace

CommandFn AddIdle(CLI::App* root) {
  auto c = std::make_shared<Idle>();
  CLI::App* p = AddCommand(root, "idle",
                           "Measure idle power (keep the machine quiet meanwhile) and remember it for "
                           "'wattlab measure --subtract-idle'.");
  c->seconds_opt = AddNumber(p, "--seconds", &c->seconds, Range::AboveUpTo(0, 3600), "N",
                             "how long to measure, in seconds (default 10)");
  AddString(p, "--record-profile", &c->record_profile, "FILE",
            "instead: record this CPU's power against load (needs a CPU energy counter) into FILE, for "
            "--estimate-profile FILE on counter-less machines of the same CPU model");
  c->step_opt = AddNumber(p, "--profile-step", &c->profile_step, Range::Between(kProfileStepMin, 1), "U",
                          "with --record-profile: the load ladder's step (default 0.1: 0, 0.1, ..., 1)");
  c->profile_seconds_opt =
      AddNumber(p, "--profile-seconds", &c->profile_seconds, Range::AboveUpTo(0, 600), "S",
                "with --record-profile: seconds measured per load step (default 5)");
  AddFlag(p, "--json", &c->json, "print one JSON object instead of text");
  c->flags.Register(p);
  return [c](const Invocation&) { return c->Run(); };
}

int Idle::Run() {
  if (!record_profile.empty()) {
    if (Given(seconds_opt))
      return ReportError(
          "idle", Status::InvalidArgument("--seconds is for the idle baseline; with --record-profile give "
                                          "--profile-seconds (per load step)"));
    return RecordProfile();
  }
  if (Given(step_opt) || Given(profile_seconds_opt))
    return ReportError("idle", Status::InvalidArgument("--profile-step and --profile-seconds need "
                                                       "--record-profile FILE"));
  auto opened = OpenEnv(flags);
  if (!opened.ok()) return ReportError("idle", opened.status());
  std::unique_ptr<Env> env = std::move(*opened);
  auto options = flags.ResolveOptions(env.get());
  if (!options.ok()) return ReportError("idle", options.status());
  auto path = IdleStatePath(env.get());
  if (!path.ok()) return ReportError("idle", path.status());
  auto meter = Meter::Create(env.get(), *options);
  if (!meter.ok()) return ReportError("idle", meter.status());
  Status st = (*meter)->Start();
  if (!st.ok()) return ReportError("idle", st.WithContext("cannot start the meter"));
  if (!json)
    std::fprintf(stderr, "wattlab idle: measuring for %s s; keep the machine quiet...\n",
                 FormatDouble(seconds).c_str());
  auto idle = (*meter)->MeasureIdle(std::chrono::nanoseconds(static_cast<int64_t>(seconds * 1e9)));
  Status stop = (*meter)->Stop();
  if (!idle.ok()) return ReportError("idle", idle.status());
  if (!stop.ok()) return ReportError("idle", stop);

  IdleEntry e;
  e.host = HostName(env.get());
  e.sources = (*meter)->sources();
  e.idle_power_w = idle->power_w;
  e.busy = idle->busy;
  e.cpu_util = idle->cpu_util;
  e.domains_w = (*meter)->idle_domain_powers_w();
  e.measured_at_s = env->NowWallSeconds();
  e.duration_s = seconds;
  e.estimated = (*meter)->estimated();
  st = SaveIdleEntry(env.get(), *path, e);
  if (!st.ok()) return ReportError("idle", st.WithContext("cannot save the idle baseline"));

  if (idle->busy)
    std::fprintf(stderr, "wattlab idle: warning: %s\n",
                 BusyIdleWarning({true, idle->busy_reason}, idle->power_w).c_str());
  if (json) {
    nlohmann::json j;
    j["idle_power_w"] = e.idle_power_w;
    j["duration_s"] = e.duration_s;
    j["host"] = e.host;
    j["sources"] = e.sources;
    j["estimated"] = e.estimated;
    j["cpu_util"] = idle->cpu_util;
    j["busy"] = e.busy;
    j["busy_reason"] = idle->busy ? nlohmann::json(idle->busy_reason) : nlohmann::json(nullptr);
    j["measured_at_s"] = e.measured_at_s;
    j["domains"] = nlohmann::json::array();
    for (const auto& [n, w] : e.domains_w) j["domains"].push_back({{"name", n}, {"power_w", w}});
    j["path"] = *path;
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("idle power: %s W over %s s (%s%s)\n", FormatFixed(e.idle_power_w, 3).c_str(),
                FormatDouble(e.duration_s).c_str(), Join(e.sources, " + ").c_str(),
                e.estimated ? ", ESTIMATED" : ", measured");
    for (const auto& [n, w] : e.domains_w)
      std::printf("  %-12s %s W\n", n.c_str(), FormatFixed(w, 3).c_str());
    std::printf("saved for host %s in %s\n", e.host.c_str(), path->c_str());
  }
  return kExitOk;
}

int Idle::RecordProfile() {
  const std::string cmd = "idle";
  auto opened = OpenEnv(flags);
  if (!opened.ok()) return ReportError(cmd, opened.status());
  std::unique_ptr<Env> env = std::move(*opened);
  auto options = flags.ResolveOptions(env.get());
  if (!options.ok()) return ReportError(cmd, options.status());
  // Checked before minutes of measuring, not after.
  if (Status st = CheckOutputPath(env.get(), "--record-profile", record_profile); !st.ok())
    return ReportError(cmd, st);
  auto meter = Meter::Create(env.get(), *options);
  if (!meter.ok()) return ReportError(cmd, meter.status());
  if (Status st = CheckCpuEnergyCounter((*meter)->domains()); !st.ok()) {
    ReportError(cmd, st);
    return kExitUsage;
  }
  auto cpu = ReadCpuInfo(env.get());
  if (!cpu.ok()) return ReportError(cmd, cpu.status().WithContext("cannot read the CPU model"));
  const int threads = std::max(1, env->OnlineCpuCount());
  std::vector<std::string> cpu_sources;
  for (const auto& d : (*meter)->domains())
    if (d.in_total && d.component == Component::kCpu &&
        std::find(cpu_sources.begin(), cpu_sources.end(), d.source) == cpu_sources.end())
      cpu_sources.push_back(d.source);

  MeterStepOptions so;
  so.step_duration = std::chrono::nanoseconds(static_cast<int64_t>(profile_seconds * 1e9));
  so.settle = std::min<std::chrono::nanoseconds>(std::chrono::milliseconds(500), so.step_duration / 10);
  const size_t n_steps = LadderTargets(profile_step).size();
  std::fprintf(json ? stderr : stdout,
               "recording the power-versus-load profile of '%s' (%d logical CPUs) from %s: %zu steps of %s s "
               "each; keep the machine otherwise quiet\n",
               cpu->model_name.c_str(), threads, Join(cpu_sources, " + ").c_str(), n_steps,
               FormatDouble(profile_seconds).c_str());
  std::fflush(json ? stderr : stdout);

  Status st = (*meter)->Start();
  if (!st.ok()) return ReportError(cmd, st.WithContext("cannot start the meter"));
  auto generator = NewSpinningLoadGenerator(env.get(), threads);
  MeterLoadStepMeasurer measurer(env.get(), meter->get(), generator.get(), so);
  auto result =
      RunLoadLadder(&measurer, profile_step, cpu->model_name, threads, [&](const LoadLadderStep& s) {
        std::fprintf(json ? stderr : stdout, "  load %s: achieved %s, %s W%s%s\n",
                     FormatFixed(s.target_load, 2).c_str(), FormatFixed(s.achieved_load, 3).c_str(),
                     FormatFixed(s.cpu_power_w, 2).c_str(),
                     s.flag.empty() ? "" : "  FLAGGED: ", s.flag.c_str());
        std::fflush(json ? stderr : stdout);
      });
  Status stop = (*meter)->Stop();
  if (!result.ok()) return ReportError(cmd, result.status());
  if (!stop.ok()) return ReportError(cmd, stop);

  int flagged = 0;
  for (const auto& s : result->steps) flagged += s.off_target ? 1 : 0;
  bool written = false;
  if (result->profile) {
    st = SaveCpuLoadProfile(env.get(), record_profile, *result->profile);
    if (!st.ok()) return ReportError(cmd, st);
    written = true;
  }
  if (json) {
    nlohmann::ordered_json j;
    j["path"] = record_profile;
    j["written"] = written;
    j["refusal"] = written ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(result->refusal);
    j["cpu_model"] = cpu->model_name;
    j["threads"] = threads;
    j["sources"] = cpu_sources;
    j["step_seconds"] = profile_seconds;
    j["steps"] = nlohmann::ordered_json::array();
    for (const auto& s : result->steps)
      j["steps"].push_back(
          {{"target_load", s.target_load},
           {"achieved_load", s.achieved_load},
           {"cpu_power_w", s.cpu_power_w},
           {"off_target", s.off_target},
           {"flag", s.flag.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.flag)}});
    std::cout << j.dump(2) << "\n";
  }
  if (!written) {
    std::fprintf(stderr, "wattlab idle: not writing %s: %s\n", record_profile.c_str(),
                 result->refusal.c_str());
    return kExitFailure;
  }
  if (!json) {
    if (flagged > 0)
      std::printf(
          "%d of %zu steps FLAGGED (their loads missed the target; the profile keeps them at the "
          "loads they reached)\n",
          flagged, result->steps.size());
    std::printf("profile written to %s; on counter-less machines of this CPU model: --estimate-profile %s\n",
                record_profile.c_str(), record_profile.c_str());
  }
  return kExitOk;
}

}  // namespace wattlab::cli
