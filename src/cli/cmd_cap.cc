// wattlab cap: shows the power caps and clocks wattlab can turn (GPU power
// limit, CPU package power limit, CPU maximum frequency), sets them, and puts
// back the originals. Parsing and printing only; the knobs, the journal and
// the restore guarantee are src/caps.
//
//   wattlab cap [--json]                                  show every knob
//   wattlab cap --gpu-power-limit-w W [--gpu LIST]        set (stays until --restore)
//   wattlab cap --cpu-power-limit-w W [--package LIST]
//   wattlab cap --cpu-max-freq-mhz F
//   wattlab cap ... --hold DUR                            set, keep for DUR (or until
//                                                         SIGINT/SIGTERM), then restore
//   wattlab cap --restore                                 put back what the journal saved
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "caps/caps.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "core/strings.h"

namespace wattlab::cli {

namespace {

std::atomic<int> g_cap_signal{0};

// 128 + signal number, as a shell reports a process a signal ended.
constexpr int kExitSigInt = 130;
constexpr int kExitSigTerm = 143;

struct Cap {
  MeterFlags meter;
  std::optional<double> gpu_w, cpu_w, freq_mhz;
  std::string gpu_list, package_list, constraint = caps::kDefaultConstraint;
  std::optional<std::chrono::nanoseconds> hold;
  bool restore = false, json = false;
  int Run();
  int Show(Env* env, const caps::CapsOptions& o);
  int Set(Env* env, const caps::CapsOptions& o);
  int Restore(Env* env, const caps::CapsOptions& o);
};

// "0,2" -> {0, 2}; empty text -> {} (all devices).
Result<std::vector<int>> ParseIndexList(const std::string& flag, const std::string& text) {
  std::vector<int> out;
  if (TrimCopy(text).empty()) return out;
  for (const std::string& part : Split(text, ',')) {
    auto v = ParseInt(TrimCopy(part));
    if (!v || *v < 0 || *v > 1 << 16)
      return Status::InvalidArgument(flag + " takes comma-separated indices such as 0,1; got '" + text + "'");
    out.push_back(static_cast<int>(*v));
  }
  return out;
}

nlohmann::ordered_json Opt(const std::optional<double>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

std::string OptW(const std::optional<double>& v, const char* unit) {
  return v ? FormatDouble(*v) + " " + unit : "?";
}

nlohmann::ordered_json KnobsJson(const caps::Knobs& k) {
  nlohmann::ordered_json j;
  j["gpus"] = nlohmann::ordered_json::array();
  for (const auto& g : k.gpus)
    j["gpus"].push_back({{"index", g.index},
                         {"name", g.name},
                         {"limit_w", Opt(g.limit_w)},
                         {"default_w", Opt(g.default_w)},
                         {"min_w", Opt(g.min_w)},
                         {"max_w", Opt(g.max_w)},
                         {"enforced_w", Opt(g.enforced_w)},
                         {"settable", g.settable}});
  j["packages"] = nlohmann::ordered_json::array();
  for (const auto& p : k.packages) {
    nlohmann::ordered_json cs = nlohmann::ordered_json::array();
    for (const auto& c : p.constraints)
      cs.push_back({{"name", c.name},
                    {"power_limit_w", Opt(c.power_limit_w)},
                    {"time_window_s", Opt(c.time_window_s)},
                    {"min_w", Opt(c.min_w)},
                    {"max_w", Opt(c.max_w)}});
    j["packages"].push_back(
        {{"zone", p.zone}, {"name", p.name}, {"constraints", cs}, {"settable", p.settable}});
  }
  if (k.cpufreq) {
    const auto& c = *k.cpufreq;
    j["cpufreq"] = {{"cpus", c.cpus.size()},
                    {"max_freq_mhz", c.max_freq_mhz},
                    {"min_mhz", c.min_mhz},
                    {"max_mhz", c.max_mhz},
                    {"settable", c.settable}};
  } else {
    j["cpufreq"] = nullptr;
  }
  j["journal"] = k.journal ? nlohmann::ordered_json(*k.journal) : nlohmann::ordered_json(nullptr);
  return j;
}

void PrintKnobs(const caps::Knobs& k) {
  const char* yes_no[] = {"no", "yes"};
  if (k.gpus.empty()) {
    std::printf("GPU power limit (NVML): none (%s)\n", k.gpu_note.c_str());
  } else {
    std::printf("GPU power limit (NVML):\n");
    for (const auto& g : k.gpus)
      std::printf("  gpu %u  %s: limit %s, default %s, range %s to %s, enforced %s, settable %s\n", g.index,
                  g.name.c_str(), OptW(g.limit_w, "W").c_str(), OptW(g.default_w, "W").c_str(),
                  OptW(g.min_w, "W").c_str(), OptW(g.max_w, "W").c_str(), OptW(g.enforced_w, "W").c_str(),
                  yes_no[g.settable]);
  }
  if (k.packages.empty()) {
    std::printf("CPU package power limit (powercap): none (%s)\n", k.package_note.c_str());
  } else {
    std::printf("CPU package power limit (powercap):\n");
    for (const auto& p : k.packages) {
      std::printf("  %s (%s): limiting %s, settable %s\n", p.name.c_str(), p.zone.c_str(),
                  p.enabled ? (*p.enabled ? "enabled" : "disabled") : "?", yes_no[p.settable]);
      if (p.constraints.empty()) std::printf("    no power-limit constraints\n");
      for (const auto& c : p.constraints) {
        std::string range;
        if (c.min_w || c.max_w) range = ", range " + OptW(c.min_w, "W") + " to " + OptW(c.max_w, "W");
        std::printf("    %-11s limit %s, time window %s%s\n", c.name.c_str(),
                    OptW(c.power_limit_w, "W").c_str(), OptW(c.time_window_s, "s").c_str(), range.c_str());
      }
    }
  }
  if (!k.cpufreq) {
    std::printf("CPU maximum frequency (cpufreq): none (%s)\n", k.cpufreq_note.c_str());
  } else {
    const auto& c = *k.cpufreq;
    std::string now = FormatDouble(c.max_freq_mhz) + " MHz";
    if (c.lowest_max_freq_mhz != c.max_freq_mhz) now = FormatDouble(c.lowest_max_freq_mhz) + " to " + now;
    std::printf(
        "CPU maximum frequency (cpufreq): %zu CPUs, scaling_max_freq %s, range %s to %s MHz, settable %s\n",
        c.cpus.size(), now.c_str(), FormatDouble(c.min_mhz).c_str(), FormatDouble(c.max_mhz).c_str(),
        yes_no[c.settable]);
  }
  if (!k.journal) {
    std::printf("journal: none (no caps set by wattlab are in force)\n");
  } else if (k.journal_corrupt) {
    std::printf("journal: %s is CORRUPT; `%s` refuses it: read it and put the values back by hand\n",
                k.journal->c_str(), caps::kRestoreCommand);
  } else {
    std::printf("journal: %s (caps set by wattlab are in force; `%s` puts back the originals)\n",
                k.journal->c_str(), caps::kRestoreCommand);
  }
}

}  // namespace

CommandFn AddCap(CLI::App* root) {
  auto c = std::make_shared<Cap>();
  CLI::App* p =
      AddCommand(root, "cap",
                 "show, set and restore power caps and clocks: GPU power limit (NVML), CPU package power "
                 "limit (powercap), CPU maximum frequency (cpufreq). Before changing a knob wattlab saves "
                 "the value found in a journal ($WATTLAB_CAPS_JOURNAL or /run/wattlab/caps.json); "
                 "--restore puts the originals back.");
  AddNumber(p, "--gpu-power-limit-w", &c->gpu_w, Range::Above(0), "W", "set the GPU power limit to W watts");
  AddString(p, "--gpu", &c->gpu_list, "LIST", "GPU indices for --gpu-power-limit-w, e.g. 0,2 (default all)");
  AddNumber(p, "--cpu-power-limit-w", &c->cpu_w, Range::Above(0), "W",
            "set the CPU package power limit (the long_term constraint) to W watts");
  AddString(p, "--package", &c->package_list, "LIST",
            "package numbers for --cpu-power-limit-w, e.g. 0,1 (default all)");
  AddString(
      p, "--cpu-constraint", &c->constraint, "NAME",
      "the powercap constraint --cpu-power-limit-w sets (default long_term; short_term on most Intel parts)");
  AddNumber(p, "--cpu-max-freq-mhz", &c->freq_mhz, Range::Above(0), "F",
            "set every CPU's maximum frequency (scaling_max_freq) to F MHz");
  AddDuration(p, "--hold", &c->hold, std::chrono::milliseconds(1), std::chrono::hours(24 * 365), "DUR",
              "keep the caps for DUR (e.g. 30s, 10m), then restore them; SIGINT or SIGTERM restores at once");
  AddFlag(p, "--restore", &c->restore, "put back every original value saved in the journal, then remove it");
  AddFlag(p, "--json", &c->json, "print the knobs as one JSON object");
  c->meter.Register(p, /*with_interval=*/false);
  return [c](const Invocation&) { return c->Run(); };
}

int Cap::Run() {
  const bool setting = gpu_w || cpu_w || freq_mhz;
  if (restore && setting)
    return ReportError("cap",
                       Status::InvalidArgument("--restore cannot be combined with a flag that sets a cap"));
  if (hold && !setting)
    return ReportError("cap", Status::InvalidArgument("--hold needs a cap to hold (--gpu-power-limit-w, "
                                                      "--cpu-power-limit-w or --cpu-max-freq-mhz)"));
  if (!gpu_list.empty() && !gpu_w)
    return ReportError(
        "cap", Status::InvalidArgument("--gpu selects GPUs for --gpu-power-limit-w, which is missing"));
  if (!package_list.empty() && !cpu_w)
    return ReportError("cap", Status::InvalidArgument(
                                  "--package selects packages for --cpu-power-limit-w, which is missing"));
  auto env = OpenEnv(meter);
  if (!env.ok()) return ReportError("cap", env.status());
  auto mo = meter.ResolveOptions(env->get());
  if (!mo.ok()) return ReportError("cap", mo.status());
  caps::CapsOptions o;
  o.nvml_library = mo->nvml_library;
  o.journal_path = caps::JournalPath(env->get());
  if (restore) return Restore(env->get(), o);
  if (setting) return Set(env->get(), o);
  return Show(env->get(), o);
}

int Cap::Show(Env* env, const caps::CapsOptions& o) {
  caps::Knobs k = caps::ReadKnobs(env, o);
  if (json) {
    std::cout << KnobsJson(k).dump(2) << "\n";
  } else {
    PrintKnobs(k);
  }
  return kExitOk;
}

int Cap::Set(Env* env, const caps::CapsOptions& o) {
  auto gpus = ParseIndexList("--gpu", gpu_list);
  if (!gpus.ok()) return ReportError("cap", gpus.status());
  auto packages = ParseIndexList("--package", package_list);
  if (!packages.ok()) return ReportError("cap", packages.status());
  // Watch before the first change, so a signal between set and hold still restores.
  if (hold) {
    if (Status ws =
            env->WatchSignals({Signal::kInt, Signal::kTerm}, &g_cap_signal, /*reset_after_first=*/true);
        !ws.ok())
      return ReportError("cap", ws);
  }
  auto session = caps::CapSession::Open(env, o, /*restore_at_end=*/false);
  if (!session.ok()) return ReportError("cap", session.status());
  caps::CapSession& s = **session;
  Status st;
  if (gpu_w) st = s.SetGpuPowerLimit(*gpu_w, *gpus);
  if (st.ok() && cpu_w) st = s.SetPackagePowerLimit(*cpu_w, *packages, constraint);
  if (st.ok() && freq_mhz) st = s.SetCpuMaxFreq(*freq_mhz);
  if (!st.ok()) {
    // One command, one change: what this command set before the failure goes back too.
    Status back = s.Restore();
    if (!back.ok()) std::fprintf(stderr, "wattlab cap: %s\n", back.message().c_str());
    return ReportError("cap", st);
  }
  // What is in force now, read back. With --json the JSON is stdout and the
  // sentences go to stderr.
  FILE* say = json ? stderr : stdout;
  if (gpu_w) {
    std::vector<int> list = *gpus;
    if (list.empty())
      for (const auto& g : caps::ReadKnobs(env, o).gpus) list.push_back(static_cast<int>(g.index));
    for (int g : list)
      std::fprintf(say, "GPU %d power limit: %s\n", g, OptW(s.GpuPowerLimitW(g), "W").c_str());
  }
  if (cpu_w) {
    caps::Knobs k = caps::ReadKnobs(env, o);
    for (const auto& p : k.packages) {
      if (!packages->empty() && std::find(packages->begin(), packages->end(), p.package) == packages->end())
        continue;
      std::fprintf(say, "%s %s power limit: %s\n", p.name.c_str(), constraint.c_str(),
                   OptW(s.PackagePowerLimitW(p.package, constraint), "W").c_str());
    }
  }
  if (freq_mhz) std::fprintf(say, "CPU maximum frequency: %s\n", OptW(s.CpuMaxFreqMhz(), "MHz").c_str());

  if (json) std::cout << KnobsJson(caps::ReadKnobs(env, o)).dump(2) << "\n";
  if (!hold) {
    std::fprintf(say, "originals saved in %s; `%s` puts them back\n", s.journal_path().c_str(),
                 caps::kRestoreCommand);
    return kExitOk;
  }
  std::fprintf(say, "holding for %s s (SIGINT or SIGTERM restores at once)\n",
               FormatDouble(std::chrono::duration<double>(*hold).count()).c_str());
  std::fflush(say);
  std::fflush(stdout);
  const auto end = env->NowMonotonic() + *hold;
  while (g_cap_signal.load() == 0) {
    const auto now = env->NowMonotonic();
    if (now >= end) break;
    env->SleepFor(std::min<std::chrono::nanoseconds>(end - now, std::chrono::milliseconds(50)));
  }
  const int sig = g_cap_signal.load();
  Status back = s.Restore();
  env->WatchSignals({Signal::kInt, Signal::kTerm}, nullptr, false);
  if (!back.ok()) return ReportError("cap", back);
  std::fprintf(json ? stderr : stdout, "restored the values found before%s\n", sig ? " (on a signal)" : "");
  if (sig == 1) return kExitSigInt;
  if (sig == 2) return kExitSigTerm;
  return kExitOk;
}

void WarnIfCapsPending() {
  std::unique_ptr<Env> env = OpenDefaultEnv();
  if (auto w = caps::PendingJournalWarning(env.get(), caps::JournalPath(env.get())))
    std::fprintf(stderr, "wattlab: %s\n", w->c_str());
}

int Cap::Restore(Env* env, const caps::CapsOptions& o) {
  auto r = caps::RestoreFromJournal(env, o);
  if (!r.ok()) return ReportError("cap", r.status());
  if (r->restored.empty() && r->failed.empty()) {
    std::printf("nothing to restore (no journal at %s)\n", o.journal_path.c_str());
    return kExitOk;
  }
  for (const auto& line : r->restored) std::printf("restored %s\n", line.c_str());
  for (const auto& line : r->failed)
    std::fprintf(stderr, "wattlab cap: could not restore %s\n", line.c_str());
  if (!r->failed.empty()) {
    std::fprintf(stderr,
                 "wattlab cap: what could not be put back stays in %s; fix the cause and run `%s` again\n",
                 o.journal_path.c_str(), caps::kRestoreCommand);
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace wattlab::cli
