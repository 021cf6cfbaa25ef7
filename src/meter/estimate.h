// The estimate source: CPU and DRAM power modelled from /proc, clearly
// labelled as an estimate. It is the fallback that is always available on
// Linux (it needs only /proc/stat), used where no counter can be read (VMs,
// containers, this project's build machine).
//
// Model (fitted to measured RAPL profiles, docs/measurement.md and
// bench/estimate/fit.py):
//   cpu:  P = TDP x (i + (m - i) x min(1, u / s)), s = 0.75, where
//         i (idle over TDP) = 0.21 for AMD, 0.065 for Intel and others, and
//         m (full load over TDP) = 1 for a client line (Core, Ryzen,
//         Threadripper, Pentium, Celeron, Athlon: a prior, not fitted: they
//         boost until their power limit) and 0.565 for a server line (Xeon,
//         EPYC, Opteron, or a name that says neither: they stop at their
//         all-core turbo clock first). u = busy ticks / all ticks of
//         /proc/stat between two reads. Never above m x TDP. Against RAPL on
//         4 CPUs it has erred by about +-kEstimateErrorBandPct percent (out
//         of sample).
//   dram: P = 0.375 W per GiB of MemTotal, constant (DRAM power barely
//         follows load at this level of modelling).
// TDP comes from ResolveCpuTdp (override, table, generation, 4 W/thread).
//
// Readings are mean power in W over the interval since the previous Read
// (is_counter = false, estimated = true). The first Read averages over the
// interval since the source was created (the probe takes a /proc/stat
// snapshot), never over the time since boot. When no tick passed between
// two reads (/proc/stat counts in 10 ms ticks) the previous utilisation is
// repeated.
//
// Thread-safety: Read is called by one thread (the sampler); Facts may be
// called concurrently (it reads only constants and an atomic).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "meter/cpu_tdp_table.h"
#include "meter/sources.h"

namespace wattlab {

// The curve's constants, fitted by bench/estimate/fit.py (form "line+vendor":
// grid search, mean over CPUs of each CPU's MAPE) on CodeCarbon's RAPL load
// profiles of four CPUs; change them only together with that script's output
// and the docs.
inline constexpr double kIdleFractionAmd = 0.21;          // P at u = 0, over TDP: AMD
inline constexpr double kIdleFractionIntel = 0.065;       // the same: Intel and any other vendor
inline constexpr double kServerFullLoadFraction = 0.565;  // P at u >= s, over TDP: server lines
inline constexpr double kClientFullLoadFraction = 1.0;    // the same, client lines: a prior, not fitted
inline constexpr double kSaturationUtilisation = 0.75;    // u at which power stops rising
// The error the estimate is stated with: the smallest 5% step covering >= 80%
// of the measured points of every CPU left out of the fit (leave-one-CPU-out),
// and how many measured CPUs that rests on.
inline constexpr int kEstimateErrorBandPct = 45;
inline constexpr int kEstimateMeasuredCpus = 4;
inline constexpr double kDramWattsPerGiB = 0.375;

// The curve for one CPU, chosen from what its name and vendor say.
struct EstimateCurve {
  double idle_fraction = kIdleFractionIntel;            // P / TDP at u = 0
  double full_load_fraction = kServerFullLoadFraction;  // P / TDP at u >= saturation: the maximum
  double saturation = kSaturationUtilisation;           // u at which power stops rising
  std::string line = "server";                          // "client" or "server"
  std::string vendor = "Intel";                         // "AMD" or "Intel" (Intel's idle for others)
};

// The line from the model name's tokens (NormalizeCpuModelTokens): "xeon",
// "epyc" or "opteron" -> server; else "core", "ryzen", "threadripper",
// "pentium", "celeron" or "athlon" -> client; else server (a name that says
// neither is most often a VM's, on a server). The vendor from cpuinfo's
// vendor_id ("AuthenticAMD", "HygonGenuine" -> AMD; "GenuineIntel" -> Intel)
// or, when that is empty, from the name (amd, epyc, ryzen, threadripper,
// opteron, athlon -> AMD); anything else gets Intel's idle fraction.
EstimateCurve EstimateCurveForCpu(const std::string& model_name, const std::string& vendor_id = "");

// The load model: tdp_w x (i + (m - i) min(1, u / s)). u is clamped to
// [0, 1] (NaN counts as 0); the result never exceeds m x tdp_w.
double EstimateCpuPowerW(const EstimateCurve& curve, double tdp_w, double utilisation);

// The curve in words, for facts and notes: "P = TDP x (0.21 + 0.355 x
// min(1, u / 0.75)) (AMD idle, server line) ...".
std::string EstimateCurveText(const EstimateCurve& curve);

// The one line every output resting on the estimate states: "the estimate
// has erred by about ±60% against RAPL on 4 measured CPUs".
std::string EstimateErrorBandLine();

// ---- "What would the estimate say for CPU X?" (wattlab estimate, place)
// A pure function over the TDP table and the curve: the CPU need not be
// this machine's.
struct CpuLoadProfile;  // below

struct EstimateQuery {
  std::string cpu_model;            // cpuinfo-style name: "AMD EPYC 8024P 8-Core Processor"
  std::optional<int> threads;       // logical CPUs of the whole machine; needed when the table lacks the CPU
  int sockets = 1;                  // multiplies a table row's per-socket TDP
  std::optional<double> load;       // one point at this utilisation (0..1); none: 0, 0.1, ..., 1
  std::optional<double> cpu_tdp_w;  // an override, as --cpu-tdp-w
  // A measured curve (--estimate-profile) to use instead of the fitted one,
  // and the file it came from. Its cpu_model must name the same CPU as
  // cpu_model (NormalizeCpuModelTokens equal), else InvalidArgument.
  const CpuLoadProfile* profile = nullptr;
  std::string profile_path;
  // Optional cpuinfo numbers for the generation rule (-1: unknown).
  std::string vendor;  // "GenuineIntel", "AuthenticAMD"
  int family = -1;
  int model = -1;
};

struct EstimatePoint {
  double load = 0;         // utilisation, 0..1
  double cpu_power_w = 0;  // estimated CPU package power at that load
};

struct CpuEstimate {
  std::string cpu_model;
  double tdp_w = 0;
  std::string tdp_method;  // kTdpMethod*: "table", "generation rule", "default 4 W per thread", "override"
  std::string tdp_explanation;  // which row (and its citation), rule or fallback
  std::optional<int> error_band_pct = kEstimateErrorBandPct;  // none when a measured profile is used
  // "fitted: P = TDP x (...)" or "profile FILE ('model', N points, ...)".
  std::string curve;
  bool from_profile = false;
  std::vector<EstimatePoint> points;
};

// InvalidArgument (with what to give instead) for a load outside 0..1, a
// non-positive thread or socket count or override, an empty model name, a
// model missing from the table when no thread count is given (and no
// profile), or a profile measured on another CPU model (naming both). With
// a profile, a --threads below the profile's threads gets that share of its
// power (as a VM slice does); the TDP is still resolved and reported.
Result<CpuEstimate> EstimateForCpu(const EstimateQuery& query);

// ---- A measured curve (--estimate-profile FILE): where a machine with
// counters has once measured a CPU model's power against load, counter-less
// VMs of the same model reuse that curve instead of the fitted one. JSON:
//   {"cpu_model": "AMD EPYC 8024P 8-Core Processor", "threads": 16,
//    "points": [{"load": 0, "cpu_power_w": 18.3}, ..., {"load": 1, "cpu_power_w": 46.2}]}
// `threads` (optional) is the logical CPUs the curve was measured over: a VM
// that sees fewer gets the per-thread share. Power between points is
// interpolated linearly and held flat beyond the first and last point.
struct CpuLoadProfile {
  std::string cpu_model;
  std::optional<int> threads;
  std::vector<EstimatePoint> points;  // >= 2, loads strictly increasing in [0, 1], power finite >= 0
};

// InvalidArgument naming what is wrong (not JSON, a missing key, a load
// outside 0..1 or repeated, a negative or non-finite power, < 2 points).
Result<CpuLoadProfile> ParseCpuLoadProfile(const std::string& json_text);
// Reads path through env; every error is InvalidArgument and names the file.
Result<CpuLoadProfile> LoadCpuLoadProfile(Env* env, const std::string& path);
// The profile's power at utilisation u (clamped to [0, 1], NaN as 0).
double ProfilePowerW(const CpuLoadProfile& profile, double utilisation);
// The JSON text ParseCpuLoadProfile reads (for the recording side).
std::string CpuLoadProfileToJson(const CpuLoadProfile& profile);

// Utilisation between two /proc/stat snapshots: busy delta / total delta,
// nullopt when no tick passed (or the counters went backwards).
std::optional<double> UtilisationBetween(const CpuTimes& before, const CpuTimes& after);

// InvalidArgument when cpu_tdp_w is set but not a positive finite number.
Status ValidateEstimateOptions(const MeterOptions& options);

}  // namespace wattlab
