#include "meter/estimate.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/strings.h"
#include "meter/procfs.h"

namespace wattlab {

EstimateCurve EstimateCurveForCpu(const std::string& model_name, const std::string& vendor_id) {
  EstimateCurve c;
  const std::vector<std::string> tokens = NormalizeCpuModelTokens(model_name);
  auto has = [&tokens](std::initializer_list<const char*> words) {
    for (const auto& t : tokens)
      for (const char* w : words)
        if (t == w) return true;
    return false;
  };
  if (has({"xeon", "epyc", "opteron"})) {
    c.line = "server";
  } else if (has({"core", "ryzen", "threadripper", "pentium", "celeron", "athlon"})) {
    c.line = "client";
  } else {
    c.line = "server";  // a name that says neither: most often a VM's, on a server
  }
  c.full_load_fraction = c.line == "client" ? kClientFullLoadFraction : kServerFullLoadFraction;
  bool amd = false;
  if (vendor_id == "AuthenticAMD" || vendor_id == "HygonGenuine") {
    amd = true;
  } else if (vendor_id.empty()) {
    amd = has({"amd", "epyc", "ryzen", "threadripper", "opteron", "athlon"});
  }
  c.vendor = amd ? "AMD" : "Intel";
  c.idle_fraction = amd ? kIdleFractionAmd : kIdleFractionIntel;
  c.saturation = kSaturationUtilisation;
  return c;
}

double EstimateCpuPowerW(const EstimateCurve& curve, double tdp_w, double utilisation) {
  double u = utilisation >= 0 ? std::min(utilisation, 1.0) : 0.0;  // NaN -> 0
  double rise = std::min(1.0, u / curve.saturation);
  // min(): the stated maximum holds exactly, whatever the rounding of i + (m - i).
  return tdp_w * std::min(curve.full_load_fraction,
                          curve.idle_fraction + (curve.full_load_fraction - curve.idle_fraction) * rise);
}

namespace {
// Constants as people write them: 0.565 - 0.21 prints "0.355", not "0.35499999999999998".
std::string Constant(double v) { return FormatDouble(std::round(v * 1e6) / 1e6); }
}  // namespace

std::string EstimateCurveText(const EstimateCurve& c) {
  return "P = TDP x (" + Constant(c.idle_fraction) + " + " +
         Constant(c.full_load_fraction - c.idle_fraction) + " x min(1, u / " + Constant(c.saturation) +
         ")) (" + c.vendor + " idle " + Constant(c.idle_fraction) + ", " + c.line + " line full load " +
         Constant(c.full_load_fraction) + "), fitted to RAPL load profiles of " +
         std::to_string(kEstimateMeasuredCpus) + " CPUs (docs/measurement.md)";
}

std::string EstimateErrorBandLine() {
  return "the estimate has erred by about ±" + std::to_string(kEstimateErrorBandPct) + "% against RAPL on " +
         std::to_string(kEstimateMeasuredCpus) + " measured CPUs";
}

Result<CpuEstimate> EstimateForCpu(const EstimateQuery& q) {
  if (TrimCopy(q.cpu_model).empty())
    return Status::InvalidArgument(
        "give the CPU's model name, as /proc/cpuinfo prints it (e.g. \"AMD EPYC 8024P\")");
  if (q.load && !(*q.load >= 0 && *q.load <= 1))
    return Status::InvalidArgument(
        "load must be a utilisation between 0 and 1 (0.5 = half of all threads busy), got " +
        FormatDouble(*q.load));
  if (q.threads && *q.threads < 1)
    return Status::InvalidArgument("threads must be at least 1, got " + std::to_string(*q.threads));
  if (q.sockets < 1)
    return Status::InvalidArgument("sockets must be at least 1, got " + std::to_string(q.sockets));
  if (q.cpu_tdp_w && !(std::isfinite(*q.cpu_tdp_w) && *q.cpu_tdp_w > 0))
    return Status::InvalidArgument("a TDP override must be a positive number of watts, got " +
                                   FormatDouble(*q.cpu_tdp_w));
  if (q.profile != nullptr &&
      NormalizeCpuModelTokens(q.profile->cpu_model) != NormalizeCpuModelTokens(q.cpu_model))
    return Status::InvalidArgument("the profile " + q.profile_path + " was measured on '" +
                                   q.profile->cpu_model + "', not on '" + q.cpu_model +
                                   "': record one on that CPU (wattlab idle --record-profile FILE) or drop "
                                   "--estimate-profile");
  const CpuTdpRow* row = FindCpuTdpRow(q.cpu_model);
  CpuInfo info;
  info.model_name = q.cpu_model;
  info.vendor = q.vendor;
  info.family = q.family;
  info.model = q.model;
  info.sockets = q.sockets;
  info.hypervisor = false;  // a whole machine, not a VM's slice
  if (q.threads) {
    info.threads = *q.threads;
  } else if (row != nullptr && row->threads > 0) {
    info.threads = row->threads * q.sockets;
  } else if (q.profile != nullptr && q.profile->threads) {
    info.threads = *q.profile->threads * q.sockets;
  } else if (row != nullptr || q.cpu_tdp_w || q.profile != nullptr) {
    info.threads = 1;  // the table's TDP (or the override, or the profile) does not depend on it
  } else {
    return Status::InvalidArgument("CPU '" + q.cpu_model +
                                   "' is not in the TDP table, so the fallback (generation rule or " +
                                   FormatDouble(kDefaultWattsPerThread) +
                                   " W per thread) needs the thread count: give threads (--threads N)");
  }
  info.cores = info.threads;
  CpuTdpResolution tdp = ResolveCpuTdp(info, q.cpu_tdp_w);
  CpuEstimate e;
  e.cpu_model = q.cpu_model;
  e.tdp_w = tdp.tdp_w;
  e.tdp_method = tdp.method;
  e.tdp_explanation = tdp.explanation;
  const EstimateCurve curve = EstimateCurveForCpu(q.cpu_model, q.vendor);
  double scale = 1;
  if (q.profile != nullptr) {
    e.from_profile = true;
    e.error_band_pct.reset();  // the band is about the fitted curve, not a measured one
    if (q.threads && q.profile->threads && *q.threads < *q.profile->threads)
      scale = static_cast<double>(*q.threads) / *q.profile->threads;
    e.curve = "profile " + q.profile_path + " ('" + q.profile->cpu_model + "', " +
              std::to_string(q.profile->points.size()) + " points, linear between them" +
              (scale != 1 ? ", x " + FormatFixed(scale, 4) + " = " + std::to_string(*q.threads) + " of its " +
                                std::to_string(*q.profile->threads) + " threads"
                          : std::string()) +
              ")";
  } else {
    e.curve = "fitted: " + EstimateCurveText(curve);
  }
  auto power = [&](double u) {
    return q.profile != nullptr ? scale * ProfilePowerW(*q.profile, u)
                                : EstimateCpuPowerW(curve, tdp.tdp_w, u);
  };
  if (q.load) {
    e.points.push_back({*q.load, power(*q.load)});
  } else {
    for (int i = 0; i <= 10; ++i) e.points.push_back({i / 10.0, power(i / 10.0)});
  }
  return e;
}

Result<CpuLoadProfile> ParseCpuLoadProfile(const std::string& json_text) {
  auto bad = [](const std::string& what) {
    return Status::InvalidArgument("estimate profile: " + what +
                                   " (expected {\"cpu_model\": NAME, \"points\": [{\"load\": 0..1, "
                                   "\"cpu_power_w\": W}, ...]})");
  };
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return bad("not valid JSON");
  if (!j.is_object()) return bad("not a JSON object");
  CpuLoadProfile p;
  if (!j.contains("cpu_model") || !j["cpu_model"].is_string() ||
      TrimCopy(j["cpu_model"].get<std::string>()).empty())
    return bad("\"cpu_model\" must be the CPU's model name");
  p.cpu_model = j["cpu_model"].get<std::string>();
  if (j.contains("threads")) {
    if (!j["threads"].is_number_integer() || j["threads"].get<int64_t>() < 1)
      return bad("\"threads\" must be a whole number >= 1");
    p.threads = static_cast<int>(j["threads"].get<int64_t>());
  }
  if (!j.contains("points") || !j["points"].is_array()) return bad("\"points\" must be an array");
  for (const auto& pt : j["points"]) {
    if (!pt.is_object() || !pt.contains("load") || !pt.contains("cpu_power_w") || !pt["load"].is_number() ||
        !pt["cpu_power_w"].is_number())
      return bad("every point needs numbers \"load\" and \"cpu_power_w\"");
    double load = pt["load"].get<double>(), w = pt["cpu_power_w"].get<double>();
    if (!(load >= 0 && load <= 1)) return bad("load " + FormatDouble(load) + " is outside 0..1");
    if (!(std::isfinite(w) && w >= 0)) return bad("cpu_power_w " + FormatDouble(w) + " is not a power >= 0");
    p.points.push_back({load, w});
  }
  if (p.points.size() < 2) return bad("at least 2 points are needed");
  std::sort(p.points.begin(), p.points.end(),
            [](const EstimatePoint& a, const EstimatePoint& b) { return a.load < b.load; });
  for (size_t i = 1; i < p.points.size(); ++i)
    if (p.points[i].load == p.points[i - 1].load)
      return bad("load " + FormatDouble(p.points[i].load) + " is given twice");
  return p;
}

Result<CpuLoadProfile> LoadCpuLoadProfile(Env* env, const std::string& path) {
  auto text = env->ReadFile(path);
  if (!text.ok())
    return Status::InvalidArgument("cannot read the estimate profile " + path + ": " +
                                   text.status().message());
  auto p = ParseCpuLoadProfile(*text);
  if (!p.ok()) return Status::InvalidArgument(path + ": " + p.status().message());
  return p;
}

double ProfilePowerW(const CpuLoadProfile& profile, double utilisation) {
  const auto& pts = profile.points;
  if (pts.empty()) return 0;
  double u = utilisation >= 0 ? std::min(utilisation, 1.0) : 0.0;  // NaN -> 0
  if (u <= pts.front().load) return pts.front().cpu_power_w;
  if (u >= pts.back().load) return pts.back().cpu_power_w;
  auto hi = std::upper_bound(pts.begin(), pts.end(), u,
                             [](double v, const EstimatePoint& p) { return v < p.load; });
  auto lo = hi - 1;
  double f = (u - lo->load) / (hi->load - lo->load);
  return lo->cpu_power_w + f * (hi->cpu_power_w - lo->cpu_power_w);
}

std::string CpuLoadProfileToJson(const CpuLoadProfile& profile) {
  nlohmann::ordered_json j;
  j["cpu_model"] = profile.cpu_model;
  if (profile.threads) j["threads"] = *profile.threads;
  j["points"] = nlohmann::ordered_json::array();
  for (const auto& p : profile.points)
    j["points"].push_back({{"load", p.load}, {"cpu_power_w", p.cpu_power_w}});
  return j.dump(2) + "\n";
}

std::optional<double> UtilisationBetween(const CpuTimes& before, const CpuTimes& after) {
  if (after.Total() <= before.Total() || after.Busy() < before.Busy()) return std::nullopt;
  double total = static_cast<double>(after.Total() - before.Total());
  double busy = static_cast<double>(after.Busy() - before.Busy());
  return std::clamp(busy / total, 0.0, 1.0);
}

Status ValidateEstimateOptions(const MeterOptions& options) {
  if (options.cpu_tdp_w && (!std::isfinite(*options.cpu_tdp_w) || *options.cpu_tdp_w <= 0)) {
    return Status::InvalidArgument(
        "--cpu-tdp-w / WATTLAB_CPU_TDP_W must be a positive number of watts (got " +
        FormatDouble(*options.cpu_tdp_w) + "); give the CPUs' TDP, e.g. 65");
  }
  return Status::Ok();
}

namespace {

// Logical CPUs from the "cpuN" lines of /proc/stat, used when /proc/cpuinfo
// cannot be read.
int CountStatCpus(const std::string& stat_text) {
  std::istringstream in(stat_text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (line.size() > 3 && StartsWith(line, "cpu") && std::isdigit(static_cast<unsigned char>(line[3]))) ++n;
  }
  return std::max(n, 1);
}

// One /proc/stat tick; 10 ms (USER_HZ = 100) when the Env cannot tell.
std::chrono::nanoseconds TickLength(Env* env) {
  const int64_t per_s = env->ClockTicksPerSecond();
  if (per_s <= 0) return std::chrono::milliseconds(10);
  return std::chrono::nanoseconds(std::chrono::seconds(1)) / per_s;
}

class EstimateSource : public EnergySource {
 public:
  EstimateSource(Env* env, CpuTimes start, EstimateCurve curve, double tdp_w,
                 std::optional<CpuLoadProfile> profile, double profile_scale, std::optional<double> dram_w,
                 std::vector<DomainInfo> domains, std::vector<std::pair<std::string, std::string>> facts)
      : env_(env),
        prev_(start),
        tick_(TickLength(env)),
        curve_(std::move(curve)),
        tdp_w_(tdp_w),
        profile_(std::move(profile)),
        profile_scale_(profile_scale),
        dram_w_(dram_w),
        domains_(std::move(domains)),
        facts_(std::move(facts)) {}

  const std::string& name() const override { return name_; }
  const std::vector<DomainInfo>& domains() const override { return domains_; }
  // /proc/stat advances in clock ticks (USER_HZ, 100 per second on Linux,
  // so 10 ms): faster reads would mostly see no tick at all.
  std::chrono::nanoseconds min_interval() const override { return tick_; }

  Status Read(std::vector<Reading>& out) override {
    if (out.size() != domains_.size())
      return Status::Internal("estimate Read: output size does not match domains");
    WATTLAB_ASSIGN_OR_RETURN(CpuTimes now, ReadProcStat(env_));
    std::optional<double> u = UtilisationBetween(prev_, now);
    if (u) {
      last_util_ = *u;
      prev_ = now;
    } else if (now.Total() < prev_.Total()) {
      prev_ = now;  // counters reset (e.g. a checkpointed VM): restart from here
    }
    last_util_pub_.store(last_util_, std::memory_order_relaxed);
    out[0] = Reading::Power(CpuPowerW(last_util_));
    if (dram_w_) out[1] = Reading::Power(*dram_w_);
    return Status::Ok();
  }

  std::vector<std::pair<std::string, std::string>> Facts() const override {
    auto f = facts_;
    f.emplace_back("estimate.last_cpu_utilisation",
                   FormatFixed(last_util_pub_.load(std::memory_order_relaxed), 3));
    return f;
  }

 private:
  // The measured profile when one was given, else the fitted curve.
  double CpuPowerW(double u) const {
    return profile_ ? profile_scale_ * ProfilePowerW(*profile_, u) : EstimateCpuPowerW(curve_, tdp_w_, u);
  }

  const std::string name_ = kSourceEstimate;
  Env* env_;
  CpuTimes prev_;
  const std::chrono::nanoseconds tick_;
  double last_util_ = 0;  // before any tick: idle, the conservative guess
  std::atomic<double> last_util_pub_{0};
  const EstimateCurve curve_;
  double tdp_w_;
  std::optional<CpuLoadProfile> profile_;
  double profile_scale_ = 1;
  std::optional<double> dram_w_;
  std::vector<DomainInfo> domains_;
  std::vector<std::pair<std::string, std::string>> facts_;
};

}  // namespace

ProbeResult ProbeEstimate(Env* env, const MeterOptions& options) {
  ProbeResult r;
  SourceAttempt& a = r.attempt;
  a.source = kSourceEstimate;

  Status valid = ValidateEstimateOptions(options);
  if (!valid.ok()) {
    a.reason = valid.message();
    a.hint = "pass --cpu-tdp-w with the CPU's TDP in watts";
    return r;
  }
  auto stat_text = env->ReadFile("/proc/stat");
  if (!stat_text.ok()) {
    a.reason = "cannot read /proc/stat, so CPU utilisation is unknown: " + stat_text.status().message();
    a.hint = "mount /proc (or point WATTLAB_PROC_ROOT at a procfs tree)";
    return r;
  }
  auto start = ParseProcStat(*stat_text);
  if (!start.ok()) {
    a.reason = start.status().message();
    a.hint = "check that /proc is a Linux procfs";
    return r;
  }

  CpuInfo info;
  auto ci = ReadCpuInfo(env);
  if (ci.ok()) {
    info = *ci;
  } else {
    info.threads = CountStatCpus(*stat_text);
    a.facts.emplace_back("estimate.cpuinfo_problem", ci.status().message());
  }
  CpuTdpResolution tdp = ResolveCpuTdp(info, options.cpu_tdp_w);
  const EstimateCurve curve = EstimateCurveForCpu(info.model_name, info.vendor);

  a.facts.emplace_back("cpu.model_name", info.model_name.empty() ? "unknown" : info.model_name);
  a.facts.emplace_back("cpu.vendor", info.vendor.empty() ? "unknown" : info.vendor);
  if (info.family >= 0) a.facts.emplace_back("cpu.family", std::to_string(info.family));
  if (info.model >= 0) a.facts.emplace_back("cpu.model", std::to_string(info.model));
  a.facts.emplace_back("cpu.threads", std::to_string(info.threads));
  a.facts.emplace_back("cpu.sockets", std::to_string(info.sockets));
  a.facts.emplace_back("cpu.virtual_machine", info.hypervisor ? "yes" : "no");
  a.facts.emplace_back("estimate.cpu_tdp_w", FormatDouble(tdp.tdp_w));
  a.facts.emplace_back("estimate.cpu_tdp_method", tdp.method);
  a.facts.emplace_back("estimate.cpu_tdp", tdp.explanation);
  a.facts.emplace_back("estimate.cpu_model", EstimateCurveText(curve) +
                                                 ", u = busy/total ticks of /proc/stat between reads; idle " +
                                                 FormatDouble(EstimateCpuPowerW(curve, tdp.tdp_w, 0)) +
                                                 " W, full load " +
                                                 FormatDouble(EstimateCpuPowerW(curve, tdp.tdp_w, 1)) + " W");
  a.facts.emplace_back("estimate.error_band", EstimateErrorBandLine());

  // A measured profile replaces the fitted curve (the TDP facts stay, for reference).
  std::optional<CpuLoadProfile> profile;
  double profile_scale = 1;
  std::string profile_text;
  if (!options.estimate_profile.empty()) {
    auto loaded = LoadCpuLoadProfile(env, options.estimate_profile);
    if (!loaded.ok()) {
      a.reason = loaded.status().message();
      a.hint = "fix or drop --estimate-profile / WATTLAB_ESTIMATE_PROFILE";
      return r;
    }
    profile = std::move(*loaded);
    if (info.hypervisor && profile->threads && info.threads < *profile->threads)
      profile_scale = static_cast<double>(info.threads) / *profile->threads;
    profile_text =
        "measured profile " + options.estimate_profile + " ('" + profile->cpu_model + "', " +
        std::to_string(profile->points.size()) + " points, linear between them" +
        (profile_scale != 1 ? ", x " + FormatFixed(profile_scale, 4) + " = " + std::to_string(info.threads) +
                                  " of its " + std::to_string(*profile->threads) + " threads"
                            : std::string()) +
        "); idle " + FormatDouble(profile_scale * ProfilePowerW(*profile, 0)) + " W, full load " +
        FormatDouble(profile_scale * ProfilePowerW(*profile, 1)) + " W";
    a.facts.emplace_back("estimate.profile", profile_text);
    if (NormalizeCpuModelTokens(profile->cpu_model) != NormalizeCpuModelTokens(info.model_name))
      a.facts.emplace_back("estimate.profile_mismatch", "the profile was measured on '" + profile->cpu_model +
                                                            "', this CPU reads '" + info.model_name +
                                                            "': used as given");
  }

  DomainInfo cpu;
  cpu.name = "cpu";
  cpu.component = Component::kCpu;
  cpu.source = kSourceEstimate;
  cpu.in_total = true;
  cpu.estimated = true;
  cpu.is_counter = false;
  cpu.note = profile ? "estimate: " + profile_text
                     : "estimate: " + tdp.explanation + "; " + EstimateCurveText(curve);
  if (profile) {
    double top = 0;
    for (const auto& p : profile->points) top = std::max(top, p.cpu_power_w);
    cpu.max_power_w = profile_scale * top;
  } else {
    cpu.max_power_w = EstimateCpuPowerW(curve, tdp.tdp_w, 1.0);
  }
  std::vector<DomainInfo> domains = {cpu};

  std::optional<double> dram_w;
  auto mem = ReadMemTotalBytes(env);
  if (mem.ok()) {
    double gib = static_cast<double>(*mem) / (1024.0 * 1024.0 * 1024.0);
    dram_w = kDramWattsPerGiB * gib;
    std::string text = "DRAM " + FormatFixed(*dram_w, 2) + " W = 0.375 W/GiB x " + FormatFixed(gib, 2) +
                       " GiB MemTotal (constant; CodeCarbon's figure)";
    a.facts.emplace_back("estimate.dram", text);
    DomainInfo dram;
    dram.name = "dram";
    dram.component = Component::kDram;
    dram.source = kSourceEstimate;
    dram.in_total = true;
    dram.estimated = true;
    dram.is_counter = false;
    dram.note = "estimate: " + text;
    dram.max_power_w = *dram_w;  // constant
    domains.push_back(dram);
  } else {
    a.facts.emplace_back("estimate.dram", "not estimated: " + mem.status().message());
  }

  a.available = true;
  a.domains = domains;
  r.source = std::make_unique<EstimateSource>(env, *start, curve, tdp.tdp_w, std::move(profile),
                                              profile_scale, dram_w, std::move(domains), a.facts);
  return r;
}

}  // namespace wattlab
