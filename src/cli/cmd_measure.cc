// wattlab measure [options] -- CMD ARGS...: runs a command and reports the
// energy the machine used meanwhile, like `perf stat` reports counters.
//
// The summary goes to stderr (or -o FILE), never to stdout, so it does not
// mix with the command's own output. Exit codes follow env(1)/timeout(1):
// the command's own code (128+N when signal N ended it); 125 when wattlab
// itself fails before running it (bad options, meter cannot start, no idle
// baseline, an output path that cannot be written); 126 found but not
// executable; 127 not found. Every output path (-o, --timeline) is checked
// before the command runs; should a write still fail at the end, the summary
// goes to stderr and to a fallback file whose path is printed, and the exit
// code is 125 when the command itself succeeded (so scripts notice), else the
// command's own. `-o -` writes the JSON summary to stdout.
#include <cstdio>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/energy_basis.h"
#include "core/strings.h"
#include "meter/command_run.h"
#include "meter/idle_store.h"
#include "meter/json.h"
#include "meter/local_rank.h"
#include "meter/procfs.h"
#include "platform/process.h"
#include "report/codecarbon.h"

namespace wattlab::cli {

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "wattlab measure: %s\n", message.c_str());
  return kExitCannotStart;
}

// t_s and the domains' power first (as before the window protocol), then
// unix_s (t_s on the wall clock, to line up with the program's own log) and
// windows: the program's windows open at that sample, joined by ';'.
std::string TimelineCsv(const std::vector<DomainInfo>& domains, const std::vector<TimelineSample>& tl,
                        double start_unix_s, const std::vector<ControlWindow>& windows) {
  std::string csv = "t_s";
  for (const auto& d : domains) csv += "," + CsvEscape(d.source + ":" + d.name + "_power_w");
  csv += ",unix_s,windows\n";
  for (const auto& s : tl) {
    csv += FormatDouble(s.t_s);
    for (double w : s.power_w) csv += "," + FormatDouble(w);
    csv += "," + FormatFixed(start_unix_s + s.t_s, 6);
    std::vector<std::string> open;
    for (const auto& w : windows)
      if (s.t_s >= w.result.start_s && s.t_s <= w.result.start_s + w.result.duration_s)
        open.push_back(w.result.name);
    csv += "," + CsvEscape(Join(open, ";")) + "\n";
  }
  return csv;
}

nlohmann::json ControlWindowToJson(const ControlWindow& w, double start_unix_s) {
  std::optional<WindowWork> work;
  if (w.samples_reported) work = WindowWork{w.samples, std::nullopt};
  nlohmann::json j = WindowToJson(w.result, work);
  j["start_unix_s"] = start_unix_s + w.result.start_s;
  j["closed_at_exit"] = w.closed_at_exit;
  return j;
}

std::string Human(const WindowResult& r, int exit_code, const std::vector<std::string>& command,
                  std::optional<double> idle_age_s, const CommandRunResult& run,
                  const std::optional<LocalRank>& rank) {
  std::string o;
  auto line = [&](const std::string& k, const std::string& v) {
    std::string key = "  " + k + " ";
    if (key.size() < 32) key.resize(32, ' ');
    o += key + v + "\n";
  };
  o += "\nwattlab measure: " + Join(command, " ") + "\n\n";
  line("duration", FormatFixed(r.duration_s, 3) + " s");
  if (!r.node_metered) {
    // One meter per node (docs/scale.md): nothing here to add to local rank 0's figure.
    line("node energy", "not read here: this process is local rank " + std::to_string(rank->rank) + " (" +
                            rank->from + "); the node is metered by " + kNodeMeteredByRank0);
    line("cpu utilisation", FormatFixed(r.cpu_util * 100, 1) + " % (the node)");
    if (r.attributed_share)
      line("attributed share", FormatFixed(*r.attributed_share * 100, 1) +
                                   " % of the node's busy CPU time (apply it to local rank 0's dynamic CPU "
                                   "energy over the same span)");
    if (r.io_read_bytes)
      line("storage", std::to_string(*r.io_read_bytes) + " B read, " + std::to_string(*r.io_write_bytes) +
                          " B written (the command's process tree)");
    return o;
  }
  if (rank) line("local rank", "0 (" + rank->from + "): this process meters the node for the job");
  line("energy", FormatFixed(r.energy_j, 3) + " J (" + FormatFixed(r.energy_j / 3600.0, 6) + " Wh), mean " +
                     FormatFixed(r.mean_power_w, 2) + " W");
  if (r.energy_above_idle_j) {
    std::string age = idle_age_s ? ", baseline " + FormatFixed(*idle_age_s / 3600.0, 1) + " h old" : "";
    if (r.idle_busy) age += ", measured while the machine was BUSY";
    // Never negative without the reason (core/energy_basis.h).
    const ShownAboveIdle shown = ShowAboveIdle(r.energy_j, *r.energy_above_idle_j);
    line("above idle",
         FormatFixed(shown.value_j, 3) + " J (idle " + FormatFixed(*r.idle_power_w, 2) + " W" + age + ")");
    if (shown.below_idle_j > 0) line("", shown.note);
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
  line("sources", Join(r.sources, " + ") +
                      (r.estimated ? " (ESTIMATED: a model of CPU time, not a measurement)" : " (measured)"));
  line("samples", std::to_string(r.samples));
  line("exit code", std::to_string(exit_code));
  if (!run.windows.empty()) {
    o += "\n  windows (from the program, WATTLAB_CONTROL)\n";
    for (const auto& w : run.windows) {
      const WindowResult& x = w.result;
      std::string v = "at " + FormatFixed(x.start_s, 3) + " s, " + FormatFixed(x.duration_s, 3) + " s, " +
                      FormatFixed(x.energy_j, 3) + " J";
      if (x.energy_above_idle_j) {
        const ShownAboveIdle shown = ShowAboveIdle(x.energy_j, *x.energy_above_idle_j);
        v += " (" + FormatFixed(shown.value_j, 3) + " J above idle" +
             (shown.below_idle_j > 0 ? ", " + FormatFixed(shown.below_idle_j, 3) + " J below the baseline"
                                     : "") +
             ")";
      }
      if (w.samples_reported) {
        v += ", " + std::to_string(w.samples) + " samples";
        if (w.samples > 0)
          v += ", " + FormatFixed(x.energy_j / static_cast<double>(w.samples), 6) + " J/sample";
      }
      if (w.closed_at_exit) v += " [still open at exit]";
      line(w.result.name, v);
    }
  }
  for (const auto& [k, v] : run.meta) line("meta " + k, v);
  return o;
}

// CodeCarbon's row for the whole command: what wattlab knows of the machine
// (through env) and the command's window, energies split by component.
CodeCarbonRow CodeCarbonForCommand(Env* env, const WindowResult& r, double end_unix_s, double start_unix_s,
                                   const std::string& project, double intensity, double pue) {
  CodeCarbonRow row;
  row.timestamp_unix_s = end_unix_s;
  row.project_name = project;
  row.run_id = "measure-" + std::to_string(env->Pid()) + "-" + FormatFixed(start_unix_s, 0);
  row.duration_s = r.duration_s;
  row.energy_j = r.energy_j;
  row.intensity_g_per_kwh = intensity;
  row.pue = pue;
  std::optional<double> cpu, gpu, ram;
  int64_t gpus = 0;
  for (const auto& d : r.domains) {
    if (!d.in_total) continue;
    auto add = [&](std::optional<double>& v) { v = v.value_or(0) + d.energy_j; };
    if (d.component == Component::kCpu) add(cpu);
    if (d.component == Component::kGpu) {
      add(gpu);
      ++gpus;
    }
    if (d.component == Component::kDram) add(ram);
  }
  row.cpu_energy_j = cpu;
  row.gpu_energy_j = gpu;
  row.ram_energy_j = ram;
  row.gpu_count = gpus;
  if (auto k = env->ReadFile("/proc/sys/kernel/osrelease"); k.ok()) row.os = "Linux-" + Trim(*k);
  if (auto c = ReadCpuInfo(env); c.ok()) row.cpu_model = c->model_name;
  row.cpu_count = env->OnlineCpuCount();
  if (auto m = env->ReadFile("/proc/meminfo"); m.ok()) {
    for (const auto& l : Split(*m, '\n')) {
      if (!StartsWith(l, "MemTotal:")) continue;
      auto parts = Split(TrimCopy(l.substr(9)), ' ');
      if (auto kb = ParseNumber(parts[0])) row.ram_total_gb = *kb / (1024.0 * 1024.0);
    }
  }
  row.cpu_utilization_percent = r.cpu_util * 100;
  return row;
}

struct Measure {
  bool json = false, subtract_idle = false;
  std::string output, timeline, codecarbon_csv, project = "wattlab";
  double intensity = 475.0, pue = 1.0;
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
  AddString(p, "-o,--output", &c->output, "FILE",
            "write the summary to FILE instead of stderr (also -o FILE)");
  AddString(p, "--timeline", &c->timeline, "FILE.csv",
            "write the power timeline (one row per sample) as CSV");
  AddString(p, "--codecarbon-csv", &c->codecarbon_csv, "FILE",
            "append one row for the command to FILE in CodeCarbon 3.3.0's emissions.csv format");
  AddString(p, "--project-name", &c->project, "NAME", "project_name in the CodeCarbon row (default wattlab)");
  AddNumber(p, "--intensity", &c->intensity, Range::AtLeast(0), "G",
            "carbon intensity in gCO2e/kWh for the CodeCarbon row (default 475, world average)");
  AddNumber(p, "--pue", &c->pue, Range::AtLeast(1), "X",
            "power usage effectiveness for the CodeCarbon row (default 1.0)");
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
  // Outputs first: a command that runs for hours must not end in lost output.
  // Paths are the user's, so they are checked on the real filesystem.
  std::unique_ptr<Env> files = OpenDefaultEnv();
  if (output == "-") json = true;  // stdout carries the JSON summary (pipe it to jq)
  if (!output.empty())
    if (Status o = CheckOutputPath(files.get(), "-o", output); !o.ok()) return Fail(o.message());
  if (!timeline.empty())
    if (Status t = CheckOutputPath(files.get(), "--timeline", timeline); !t.ok()) return Fail(t.message());
  auto options = flags.ResolveOptions(env.get());
  if (!options.ok()) return Fail(options.status().message());
  // One meter per node (docs/scale.md): above local rank 0 no source is read.
  auto rank = LocalRankFromEnv(env.get());
  if (!rank.ok()) return Fail(rank.status().message());
  if (*rank) options->local_rank = (*rank)->rank;
  const bool node_metered = !(*rank && (*rank)->rank > 0);
  auto elsewhere = [&](const std::string& what) {
    std::fprintf(
        stderr,
        "wattlab measure: %s ignored: this process is local rank %d (%s), the node is metered by %s\n",
        what.c_str(), (*rank)->rank, (*rank)->from.c_str(), kNodeMeteredByRank0);
  };
  if (!node_metered && subtract_idle) {
    elsewhere("--subtract-idle");
    subtract_idle = false;
  }
  if (!node_metered && !codecarbon_csv.empty()) {
    elsewhere("--codecarbon-csv (it holds node energy)");
    codecarbon_csv.clear();
  }
  if (!codecarbon_csv.empty()) {
    Status cs = CheckCodeCarbonCsv(env.get(), codecarbon_csv);
    if (!cs.ok()) return Fail("--codecarbon-csv: " + cs.message());
  }
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
      return Fail("no idle baseline for host " + host + " with sources " + Join(meter.sources(), "+") +
                  " in " + *path + ": run `wattlab idle` first (same meter options)");
    meter.SetIdlePower((*entry)->idle_power_w);
    meter.SetIdleBusy((*entry)->busy);
    meter.SetIdleDomainPowers((*entry)->domains_w);
    idle_age_s = env->NowWallSeconds() - (*entry)->measured_at_s;
  }

  // Our own process tree: the command is our child, and once waited for its
  // CPU time moves into our cutime/cstime, so it is still counted at the end.
  meter.SetAttributionPid(env->Pid());
  Status st = meter.Start();
  if (!st.ok()) return Fail("cannot start the meter: " + st.message());
  // The wall clock at the whole-command window's start anchors unix_s:
  // start_unix_s + t_s (t_s counts from the meter's start).
  const double begin_unix_s = env->NowWallSeconds();
  Meter::WindowId w = meter.BeginWindow("measure");
  CommandRunOptions run_options;
  run_options.on_warning = [](const std::string& warning) {
    std::fprintf(stderr, "wattlab measure: %s\n", warning.c_str());
  };
  auto ran = RunCommandWithControl(env.get(), &meter, command, run_options);
  auto result = meter.EndWindow(w);
  Status stop = meter.Stop();
  if (!ran.ok()) {
    std::fprintf(stderr, "wattlab measure: %s\n", ran.status().message().c_str());
    return kExitCannotStart;
  }
  const CommandRunResult& run = *ran;
  if (!run.spawn_error.ok()) {
    std::fprintf(stderr, "wattlab measure: %s\n", run.spawn_error.message().c_str());
    return run.exit_code;
  }
  const int exit_code = run.exit_code;
  if (!result.ok()) {
    std::fprintf(stderr, "wattlab measure: the measurement failed: %s\n", result.status().message().c_str());
    return exit_code;
  }
  if (!stop.ok()) std::fprintf(stderr, "wattlab measure: warning: %s\n", stop.message().c_str());
  const double start_unix_s = begin_unix_s - result->start_s;

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
    j["start_unix_s"] = begin_unix_s;
    // The program's own windows (WATTLAB_CONTROL), the same window shape
    // plus start_unix_s and closed_at_exit; samples only when it said them.
    j["windows"] = nlohmann::json::array();
    for (const auto& cw : run.windows) j["windows"].push_back(ControlWindowToJson(cw, start_unix_s));
    j["meta"] = nlohmann::json::object();
    for (const auto& [k, v] : run.meta) j["meta"][k] = v;
    j["control_warnings"] = run.warnings;
    summary = j.dump(2) + "\n";
  } else {
    summary = Human(*result, exit_code, command, idle_age_s, run, *rank);
  }
  bool lost = false;
  auto fallback = [&](const std::string& what, const std::string& data, const Status& why) {
    lost = true;
    std::fprintf(stderr, "wattlab measure: %s\n", why.message().c_str());
    const std::string saved = SaveFallback(files.get(), "measure", what, data);
    if (!saved.empty())
      std::fprintf(stderr, "wattlab measure: saved the %s to %s instead\n", what.c_str(), saved.c_str());
    else
      std::fprintf(stderr, "wattlab measure: the %s could not be saved anywhere\n", what.c_str());
  };
  if (!timeline.empty()) {
    const std::string csv = TimelineCsv(meter.domains(), meter.Timeline(), start_unix_s, run.windows);
    if (Status ts = WriteOutput(files.get(), timeline, csv); !ts.ok()) fallback("timeline.csv", csv, ts);
  }
  if (!codecarbon_csv.empty()) {
    CodeCarbonRow row =
        CodeCarbonForCommand(env.get(), *result, start_unix_s + result->start_s + result->duration_s,
                             begin_unix_s, project, intensity, pue);
    Status cs = AppendCodeCarbonCsv(env.get(), codecarbon_csv, {row});
    if (!cs.ok()) {
      lost = true;  // checked before the command ran: a failure now is lost output a script must see
      std::fprintf(stderr, "wattlab measure: --codecarbon-csv: %s\n", cs.message().c_str());
    }
  }
  if (output.empty()) {
    std::fputs(summary.c_str(), stderr);
  } else if (Status os = WriteOutput(files.get(), output, summary); !os.ok()) {
    std::fputs(summary.c_str(), stderr);
    fallback(json ? "summary.json" : "summary.txt", summary, os);
  }
  // Lost output is a failure a script must see, unless the command's own
  // failure already says something went wrong.
  if (lost && exit_code == 0) return kExitCannotStart;
  return exit_code;
}

}  // namespace wattlab::cli
