// wattlab measure [options] -- CMD ARGS...: runs a command and reports the
// energy the machine used meanwhile, like `perf stat` reports counters.
//
// The summary goes to stderr (or -o FILE), never to stdout, so it does not
// mix with the command's own output. Exit codes follow env(1)/timeout(1):
// the command's own code (128+N when signal N ended it); 125 when wattlab
// itself fails before running it (bad options, meter cannot start, no idle
// baseline); 126 found but not executable; 127 not found.
#include <cstdio>
#include <ctime>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/strings.h"
#include "meter/idle_store.h"
#include "meter/json.h"
#include "meter/meter_impl.h"
#include "platform/process.h"

namespace wattlab::cli {

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "wattlab measure: %s\n", message.c_str());
  return kExitCannotStart;
}

std::string TimelineCsv(const std::vector<DomainInfo>& domains, const std::vector<TimelineSample>& tl) {
  std::string csv = "t_s";
  for (const auto& d : domains) csv += "," + CsvEscape(d.source + ":" + d.name + "_power_w");
  csv += "\n";
  for (const auto& s : tl) {
    csv += FormatDouble(s.t_s);
    for (double w : s.power_w) csv += "," + FormatDouble(w);
    csv += "\n";
  }
  return csv;
}

std::string Human(const WindowResult& r, int exit_code, const std::vector<std::string>& command,
                  std::optional<double> idle_age_s) {
  std::string o;
  auto line = [&](const std::string& k, const std::string& v) {
    std::string key = "  " + k + " ";
    if (key.size() < 32) key.resize(32, ' ');
    o += key + v + "\n";
  };
  o += "\nwattlab measure: " + Join(command, " ") + "\n\n";
  line("duration", FormatFixed(r.duration_s, 3) + " s");
  line("energy", FormatFixed(r.energy_j, 3) + " J (" + FormatFixed(r.energy_j / 3600.0, 6) + " Wh), mean " +
                     FormatFixed(r.mean_power_w, 2) + " W");
  if (r.energy_above_idle_j) {
    std::string age = idle_age_s ? ", baseline " + FormatFixed(*idle_age_s / 3600.0, 1) + " h old" : "";
    line("above idle", FormatFixed(*r.energy_above_idle_j, 3) + " J (idle " + FormatFixed(*r.idle_power_w, 2) +
                           " W" + age + ")");
  }
  for (const auto& d : r.domains) {
    std::string v = FormatFixed(d.energy_j, 3) + " J, mean " + FormatFixed(d.mean_power_w, 2) + " W";
    if (!d.in_total) v += " (inside another domain, not in total)";
    if (d.estimated) v += " ESTIMATED";
    line(d.name + " [" + d.source + "]", v);
  }
  line("cpu utilisation", FormatFixed(r.cpu_util * 100, 1) + " %");
  if (r.attributed_share)
    line("attributed", FormatFixed(*r.attributed_share * 100, 1) + " % of busy CPU time -> " +
                           FormatFixed(*r.attributed_energy_j, 3) + " J of " +
                           (r.idle_power_w ? "dynamic (above-idle) " : "") + "CPU energy");
  if (r.net_rx_bytes)
    line("network", std::to_string(*r.net_rx_bytes) + " B in, " + std::to_string(*r.net_tx_bytes) +
                        " B out; loopback " + std::to_string(*r.lo_tx_bytes) +
                        " B (whole network namespace, not only the command)");
  if (r.io_read_bytes)
    line("storage", std::to_string(*r.io_read_bytes) + " B read, " + std::to_string(*r.io_write_bytes) +
                        " B written (the command's process tree)");
  line("sources", Join(r.sources, " + ") + (r.estimated ? " (ESTIMATED: a model of CPU time, not a measurement)"
                                                        : " (measured)"));
  line("samples", std::to_string(r.samples));
  line("exit code", std::to_string(exit_code));
  return o;
}

struct Measure {
  bool json = false, subtract_idle = false;
  std::string output, timeline;
  MeterFlags flags;
  int Run(const std::vector<std::string>& command);
};

}  // namespace

CommandFn AddMeasure(CLI::App* root) {
  auto c = std::make_shared<Measure>();
  CLI::App* p = AddCommand(root, "measure",
                           "Run CMD and report the energy used meanwhile (summary on stderr, or -o FILE). "
                           "Exit code: CMD's own; 125 wattlab failed; 126 not executable; 127 not found.");
  AddFlag(p, "--json", &c->json, "write the summary as one JSON object");
  AddString(p, "-o,--output", &c->output, "FILE", "write the summary to FILE instead of stderr (also -o FILE)");
  AddString(p, "--timeline", &c->timeline, "FILE.csv", "write the power timeline (one row per sample) as CSV");
  AddFlag(p, "--subtract-idle", &c->subtract_idle,
          "report energy above the idle baseline stored by 'wattlab idle'");
  c->flags.Register(p);
  return [c](const Invocation& inv) { return c->Run(inv.rest); };
}

int Measure::Run(const std::vector<std::string>& command) {
  if (command.empty()) return Fail("no command given; usage: wattlab measure [options] -- CMD [ARGS...]");

  auto opened = OpenEnv(flags);
  if (!opened.ok()) return Fail(opened.status().message());
  std::unique_ptr<Env> env = std::move(*opened);
  auto options = flags.ResolveOptions(env.get());
  if (!options.ok()) return Fail(options.status().message());
  auto created = Meter::Create(env.get(), *options);
  if (!created.ok()) return Fail("cannot start the meter: " + created.status().message());
  Meter& meter = **created;

  std::optional<double> idle_age_s;
  if (subtract_idle) {
    auto path = IdleStatePath(env.get());
    if (!path.ok()) return Fail(path.status().message());
    const std::string host = HostName(env.get());
    auto entry = FindIdleEntry(env.get(), *path, host, meter.sources());
    if (!entry.ok()) return Fail(entry.status().message());
    if (!entry->has_value())
      return Fail("no idle baseline for host " + host + " with sources " + Join(meter.sources(), "+") + " in " + *path +
                  ": run `wattlab idle` first (same meter options)");
    meter.SetIdlePower((*entry)->idle_power_w);
    SetIdleDomainPowers(&meter, (*entry)->domains_w);
    idle_age_s = env->NowWallSeconds() - (*entry)->measured_at_s;
  }

  // Our own process tree: the command is our child, and once waited for its
  // CPU time moves into our cutime/cstime, so it is still counted at the end.
  meter.SetAttributionPid(env->Pid());
  Status st = meter.Start();
  if (!st.ok()) return Fail("cannot start the meter: " + st.message());
  Meter::WindowId w = meter.BeginWindow("measure");
  auto child = ChildProcess::Spawn(command);
  if (!child.ok()) {
    (void)meter.Stop();
    std::fprintf(stderr, "wattlab measure: %s\n", child.status().message().c_str());
    return ExitCodeForSpawnFailure(child.status());
  }
  auto waited = (*child)->Wait();
  auto result = meter.EndWindow(w);
  Status stop = meter.Stop();
  if (!waited.ok()) {
    std::fprintf(stderr, "wattlab measure: %s\n", waited.status().message().c_str());
    return kExitCannotStart;
  }
  const int exit_code = *waited;
  if (!result.ok()) {
    std::fprintf(stderr, "wattlab measure: the measurement failed: %s\n", result.status().message().c_str());
    return exit_code;
  }
  if (!stop.ok()) std::fprintf(stderr, "wattlab measure: warning: %s\n", stop.message().c_str());

  std::string summary;
  if (json) {
    // The window's one shape (meter/json.h) plus what only measure knows.
    nlohmann::json j = WindowToJson(*result);
    j["command"] = command;
    j["exit_code"] = exit_code;
    j["idle_age_s"] = idle_age_s ? nlohmann::json(*idle_age_s) : nlohmann::json(nullptr);
    j["interval_s"] = std::chrono::duration<double>(meter.interval()).count();
    // Aliases kept for one release (docs/measurement.md): total_energy_j is
    // energy_j; measure's samples is the window's meter_samples.
    j["total_energy_j"] = j["energy_j"];
    j["samples"] = result->samples;
    summary = j.dump(2) + "\n";
  } else {
    summary = Human(*result, exit_code, command, idle_age_s);
  }
  if (!timeline.empty()) {
    Status ts = env->WriteFileAtomically(timeline, TimelineCsv(meter.domains(), meter.Timeline()));
    if (!ts.ok()) std::fprintf(stderr, "wattlab measure: %s\n", ts.message().c_str());
  }
  if (output.empty()) {
    std::fputs(summary.c_str(), stderr);
  } else {
    Status os = env->WriteFileAtomically(output, summary);
    if (!os.ok()) {
      std::fprintf(stderr, "wattlab measure: %s\n", os.message().c_str());
      std::fputs(summary.c_str(), stderr);
    }
  }
  return exit_code;
}

}  // namespace wattlab::cli
