// wattlab estimate --cpu-model NAME [--threads N] [--sockets S] [--load U]
// [--cpu-tdp-w W] [--estimate-profile FILE] [--json]: what wattlab's estimate
// would say for a CPU that need not be this machine's — the TDP and how it
// was found, the curve (fitted, or a measured profile of that CPU model), the
// error band, and the CPU power at one load or at 0, 0.1, ..., 1. Parsing and
// printing only; the answer is meter's EstimateForCpu.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/strings.h"
#include "meter/estimate.h"

namespace wattlab::cli {

namespace {

struct Estimate {
  std::string cpu_model, estimate_profile;
  std::optional<int64_t> threads;
  int64_t sockets = 1;
  std::optional<double> load, cpu_tdp_w;
  bool json = false;
  int Run();
};

}  // namespace

CommandFn AddEstimate(CLI::App* root) {
  auto c = std::make_shared<Estimate>();
  CLI::App* p =
      AddCommand(root, "estimate",
                 "show what wattlab's estimate would say for a CPU (need not be this machine's): its TDP and "
                 "how it was found, the error band, and CPU power against load");
  AddString(p, "--cpu-model", &c->cpu_model, "NAME",
            "the CPU's model name as /proc/cpuinfo prints it, e.g. \"AMD EPYC 8024P 8-Core Processor\"");
  AddCount(p, "--threads", &c->threads, 1, "N",
           "logical CPUs of the machine (needed when the CPU is not in the TDP table)");
  AddCount(p, "--sockets", &c->sockets, 1, "S", "sockets (default 1): a table row's TDP is per socket");
  AddNumber(p, "--load", &c->load, Range::Between(0, 1), "U",
            "one utilisation between 0 and 1 (default: a table from 0 to 1 in steps of 0.1)");
  AddNumber(p, "--cpu-tdp-w", &c->cpu_tdp_w, Range::Above(0), "W",
            "use this TDP for the whole machine instead");
  AddString(
      p, "--estimate-profile", &c->estimate_profile, "FILE",
      "a measured power-vs-load curve of this CPU model (as `wattlab idle --record-profile FILE` writes) "
      "to use instead of the fitted curve");
  AddFlag(p, "--json", &c->json, "print one JSON object");
  return [c](const Invocation&) { return c->Run(); };
}

int Estimate::Run() {
  const std::string cmd = "estimate";
  if (TrimCopy(cpu_model).empty())
    return ReportError(cmd,
                       Status::InvalidArgument("--cpu-model NAME is required (as /proc/cpuinfo prints it)"));
  EstimateQuery q;
  q.cpu_model = cpu_model;
  if (threads) q.threads = static_cast<int>(*threads);
  q.sockets = static_cast<int>(sockets);
  q.load = load;
  q.cpu_tdp_w = cpu_tdp_w;
  std::optional<CpuLoadProfile> profile;
  if (!estimate_profile.empty()) {
    auto loaded = LoadCpuLoadProfile(OpenDefaultEnv().get(), estimate_profile);
    if (!loaded.ok()) return ReportError(cmd, loaded.status());
    profile = std::move(*loaded);
    q.profile = &*profile;
    q.profile_path = estimate_profile;
  }
  auto e = EstimateForCpu(q);
  if (!e.ok()) return ReportError(cmd, e.status());
  if (json) {
    nlohmann::ordered_json j;
    j["cpu_model"] = e->cpu_model;
    j["tdp_w"] = e->tdp_w;
    j["tdp_method"] = e->tdp_method;
    j["error_band_pct"] = e->error_band_pct ? nlohmann::ordered_json(*e->error_band_pct) : nullptr;
    j["points"] = nlohmann::ordered_json::array();
    for (const auto& pt : e->points)
      j["points"].push_back({{"load", pt.load}, {"cpu_power_w", pt.cpu_power_w}});
    j["curve"] = e->curve;
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("cpu model:  %s\n", e->cpu_model.c_str());
  std::printf("TDP:        %s W (%s)\n", FormatDouble(e->tdp_w).c_str(), e->tdp_method.c_str());
  std::printf("            %s\n", e->tdp_explanation.c_str());
  if (!e->from_profile && e->tdp_method != kTdpMethodTable && e->tdp_method != kTdpMethodOverride)
    std::printf(
        "note:       '%s' is not in the TDP table; the fallback used: %s (give --cpu-tdp-w for a better "
        "figure)\n",
        e->cpu_model.c_str(), e->tdp_method.c_str());
  std::printf("curve:      %s\n", e->curve.c_str());
  if (e->from_profile)
    std::printf(
        "error:      the curve is this CPU model's measured profile, not the fitted one (whose band, ±%d%%, "
        "does not apply)\n\n",
        kEstimateErrorBandPct);
  else
    std::printf("error:      %s\n\n", EstimateErrorBandLine().c_str());
  std::printf("  load  cpu_power_w\n");
  for (const auto& pt : e->points)
    std::printf("  %4s  %11s\n", FormatFixed(pt.load, 2).c_str(), FormatFixed(pt.cpu_power_w, 2).c_str());
  return kExitOk;
}

}  // namespace wattlab::cli
