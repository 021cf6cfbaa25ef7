// wattlab idle [--seconds N] [--json]: measures the machine's idle power and
// stores it (keyed by host and sources, with its date) for
// `wattlab measure --subtract-idle`.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/strings.h"
#include "meter/busy.h"
#include "meter/idle_store.h"

namespace wattlab::cli {

namespace {

struct Idle {
  bool json = false;
  double seconds = 10;
  MeterFlags flags;
  int Run();
};

}  // namespace

CommandFn AddIdle(CLI::App* root) {
  auto c = std::make_shared<Idle>();
  CLI::App* p = AddCommand(root, "idle",
                           "Measure idle power (keep the machine quiet meanwhile) and remember it for "
                           "'wattlab measure --subtract-idle'.");
  AddNumber(p, "--seconds", &c->seconds, Range::AboveUpTo(0, 3600), "N",
            "how long to measure, in seconds (default 10)");
  AddFlag(p, "--json", &c->json, "print one JSON object instead of text");
  c->flags.Register(p);
  return [c](const Invocation&) { return c->Run(); };
}

int Idle::Run() {
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

}  // namespace wattlab::cli
