#include "meter/estimate.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <sstream>

#include "core/strings.h"
#include "meter/procfs.h"

namespace wattlab {

double EstimateCpuPowerW(double tdp_w, double utilisation) {
  double u = std::clamp(utilisation, 0.0, 1.0);
  return tdp_w * (kIdleFractionOfTdp + (1.0 - kIdleFractionOfTdp) * u * u * u);
}

std::optional<double> UtilisationBetween(const CpuTimes& before, const CpuTimes& after) {
  if (after.Total() <= before.Total() || after.Busy() < before.Busy()) return std::nullopt;
  double total = static_cast<double>(after.Total() - before.Total());
  double busy = static_cast<double>(after.Busy() - before.Busy());
  return std::clamp(busy / total, 0.0, 1.0);
}

Status ValidateEstimateOptions(const MeterOptions& options) {
  if (options.cpu_tdp_w && (!std::isfinite(*options.cpu_tdp_w) || *options.cpu_tdp_w <= 0)) {
    return Status::InvalidArgument("--cpu-tdp-w / WATTLAB_CPU_TDP_W must be a positive number of watts (got " +
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
  EstimateSource(Env* env, CpuTimes start, double tdp_w, std::optional<double> dram_w,
                 std::vector<DomainInfo> domains, std::vector<std::pair<std::string, std::string>> facts)
      : env_(env), prev_(start), tick_(TickLength(env)), tdp_w_(tdp_w), dram_w_(dram_w), domains_(std::move(domains)),
        facts_(std::move(facts)) {}

  const std::string& name() const override { return name_; }
  const std::vector<DomainInfo>& domains() const override { return domains_; }
  // /proc/stat advances in clock ticks (USER_HZ, 100 per second on Linux,
  // so 10 ms): faster reads would mostly see no tick at all.
  std::chrono::nanoseconds min_interval() const override { return tick_; }

  Status Read(std::vector<Reading>& out) override {
    if (out.size() != domains_.size()) return Status::Internal("estimate Read: output size does not match domains");
    WATTLAB_ASSIGN_OR_RETURN(CpuTimes now, ReadProcStat(env_));
    std::optional<double> u = UtilisationBetween(prev_, now);
    if (u) {
      last_util_ = *u;
      prev_ = now;
    } else if (now.Total() < prev_.Total()) {
      prev_ = now;  // counters reset (e.g. a checkpointed VM): restart from here
    }
    last_util_pub_.store(last_util_, std::memory_order_relaxed);
    out[0] = Reading::Power(EstimateCpuPowerW(tdp_w_, last_util_));
    if (dram_w_) out[1] = Reading::Power(*dram_w_);
    return Status::Ok();
  }

  std::vector<std::pair<std::string, std::string>> Facts() const override {
    auto f = facts_;
    f.emplace_back("estimate.last_cpu_utilisation", FormatFixed(last_util_pub_.load(std::memory_order_relaxed), 3));
    return f;
  }

 private:
  const std::string name_ = kSourceEstimate;
  Env* env_;
  CpuTimes prev_;
  const std::chrono::nanoseconds tick_;
  double last_util_ = 0;  // before any tick: idle, the conservative guess
  std::atomic<double> last_util_pub_{0};
  double tdp_w_;
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
  a.facts.emplace_back("estimate.cpu_model",
                       "P = TDP x (0.1 + 0.9 u^3), u = busy/total ticks of /proc/stat between reads "
                       "(CodeCarbon's load model); idle 10% of TDP = " +
                           FormatDouble(tdp.tdp_w * kIdleFractionOfTdp) + " W, full load " + FormatDouble(tdp.tdp_w) +
                           " W");

  DomainInfo cpu;
  cpu.name = "cpu";
  cpu.component = Component::kCpu;
  cpu.source = kSourceEstimate;
  cpu.in_total = true;
  cpu.estimated = true;
  cpu.is_counter = false;
  cpu.note = "estimate: " + tdp.explanation + "; P = TDP x (0.1 + 0.9 u^3)";
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
    domains.push_back(dram);
  } else {
    a.facts.emplace_back("estimate.dram", "not estimated: " + mem.status().message());
  }

  a.available = true;
  a.domains = domains;
  r.source = std::make_unique<EstimateSource>(env, *start, tdp.tdp_w, dram_w, std::move(domains), a.facts);
  return r;
}

}  // namespace wattlab
