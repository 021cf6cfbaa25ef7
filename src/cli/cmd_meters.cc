// wattlab meters [--json]: every energy source tried, available or not and
// why, with its domains (units, counter ranges) and facts.
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/strings.h"
#include "meter/estimate.h"
#include "meter/json.h"

namespace wattlab::cli {

namespace {

void PrintText(const DetectionReport& rep, std::chrono::nanoseconds interval) {
  std::printf("sampling interval: %s ms\n\n",
              FormatDouble(std::chrono::duration<double, std::milli>(interval).count()).c_str());
  std::vector<std::string> chosen;
  bool estimated = false, measured = false;
  for (const auto& a : rep.attempts) {
    const char* state = a.chosen ? "CHOSEN" : (a.available ? "available, not chosen" : "not available");
    std::printf("%-14s %s\n", a.source.c_str(), state);
    if (!a.reason.empty()) std::printf("  why:  %s\n", a.reason.c_str());
    if (!a.hint.empty()) std::printf("  hint: %s\n", a.hint.c_str());
    for (const auto& d : a.domains) {
      std::string range =
          d.max_energy_range_j > 0 ? ", wraps at " + FormatDouble(d.max_energy_range_j) + " J" : "";
      std::printf("  %-12s %-8s %s%s%s%s%s\n", d.name.c_str(), ComponentName(d.component),
                  d.is_counter ? "energy counter (J)" : "power (W)", range.c_str(),
                  d.in_total ? "" : ", not in total", d.estimated ? ", ESTIMATED" : "",
                  d.note.empty() ? "" : ("; " + d.note).c_str());
      if (a.chosen && d.estimated) estimated = true;
      if (a.chosen && !d.estimated) measured = true;
    }
    for (const auto& [k, v] : a.facts) std::printf("  %s: %s\n", k.c_str(), v.c_str());
    if (a.chosen) chosen.push_back(a.source);
    std::printf("\n");
  }
  if (chosen.empty())
    std::printf("no usable energy source: wattlab cannot measure here (see the reasons above)\n");
  else
    std::printf("measuring with: %s%s\n", Join(chosen, " + ").c_str(),
                !estimated ? " (measured)"
                : measured ? " (partly ESTIMATED: the estimated part is a model, not a measurement)"
                           : " (ESTIMATED: a model of CPU time, not a measurement)");
  if (estimated) {
    std::string profile;
    for (const auto& a : rep.attempts)
      for (const auto& [k, v] : a.facts)
        if (a.chosen && k == "estimate.profile") profile = v;
    if (profile.empty())
      std::printf("%s\n", EstimateErrorBandLine().c_str());
    else
      std::printf("the estimate uses a %s, not the fitted curve\n", profile.c_str());
  }
}

struct MetersOptions {
  bool json = false;
  MeterFlags meter;
};

int RunMeters(const MetersOptions& o) {
  auto env = OpenEnv(o.meter);
  if (!env.ok()) return ReportError("meters", env.status());
  auto options = o.meter.ResolveOptions(env->get());
  if (!options.ok()) return ReportError("meters", options.status());
  auto rep = DetectSources(env->get(), *options);
  if (!rep.ok()) return ReportError("meters", rep.status());
  if (o.json) {
    std::cout << MetersToJson(rep->attempts, options->interval).dump(2) << "\n";
  } else {
    PrintText(*rep, options->interval);
  }
  return kExitOk;
}

}  // namespace

CommandFn AddMeters(CLI::App* root) {
  auto o = std::make_shared<MetersOptions>();
  CLI::App* cmd = AddCommand(
      root, "meters", "List every energy source wattlab tries, whether it is available and chosen, and why.");
  AddFlag(cmd, "--json", &o->json, "print one JSON object instead of text");
  o->meter.Register(cmd);
  return [o](const Invocation&) { return RunMeters(*o); };
}

}  // namespace wattlab::cli
