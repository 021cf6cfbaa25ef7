// rapl-perf: see perf.h for what this reads.
#include "meter/perf.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>

#include "core/strings.h"
#include "meter/rapl_common.h"
#include "meter/sources.h"

namespace wattlab {

namespace {

constexpr const char* kPmuDir = "/sys/bus/event_source/devices/power";

struct PerfEventKind {
  const char* event;   // file name under events/
  const char* domain;  // domain prefix: "package" -> "package-0"
  Component component;
  bool in_total;
  bool once;  // platform-wide: opened on the first package's CPU only
  const char* note;
};

constexpr PerfEventKind kEvents[] = {
    {"energy-pkg", "package", Component::kCpu, true, false, ""},
    {"energy-cores", "core", Component::kCpu, false, false, "nested in package-"},
    {"energy-gpu", "uncore", Component::kCpu, false, false, "nested in package-"},
    {"energy-ram", "dram", Component::kDram, true, false, ""},
    {"energy-psys", "psys", Component::kPlatform, false, true, ""},
};

class PerfSource : public rapl::SourceBase {
 public:
  PerfSource() : SourceBase(kSourceRaplPerf, std::chrono::milliseconds(1)) {}
  void Add(DomainInfo info, std::unique_ptr<ReadableFile> file, double scale_j) {
    domains_.push_back(std::move(info));
    files_.push_back(std::move(file));
    scales_j_.push_back(scale_j);
  }
  void AddFact(std::string key, std::string value) { facts_.emplace_back(std::move(key), std::move(value)); }
  std::vector<DomainInfo>& mutable_domains() { return domains_; }

  Status Read(std::vector<Reading>& out) override {
    for (size_t i = 0; i < files_.size(); ++i) {
      if (Status st = ReadOne(i, out[i]); !st.ok()) return st;
    }
    return Status::Ok();
  }
  Status ReadDomains(const std::vector<size_t>& which, std::vector<Reading>& out) override {
    for (size_t i : which) {
      if (Status st = ReadOne(i, out[i]); !st.ok()) return st;
    }
    return Status::Ok();
  }

 private:
  Status ReadOne(size_t i, Reading& out) {
    auto raw = files_[i]->ReadU64(0);
    if (!raw.ok()) return raw.status().WithContext(name_);
    out = Reading::Energy(static_cast<double>(*raw) * scales_j_[i]);
    return Status::Ok();
  }
  std::vector<std::unique_ptr<ReadableFile>> files_;
  std::vector<double> scales_j_;
};

}  // namespace

Result<uint64_t> ParsePerfEventConfig(const std::string& text) {
  std::optional<uint64_t> config;
  for (const std::string& term : Split(Trim(text), ',')) {
    auto eq = term.find('=');
    std::string key = Trim(term.substr(0, eq));
    std::string value = eq == std::string::npos ? "" : Trim(term.substr(eq + 1));
    if (key != "event")
      return Status::NotSupported("unsupported perf event term '" + term + "' in '" + text + "'");
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(value.c_str(), &end, 0);  // "0x02" or "2"
    if (value.empty() || *end != '\0' || errno == ERANGE)
      return Status::Corruption("malformed perf event '" + text + "' (expected event=0x..)");
    config = v;
  }
  if (!config) return Status::Corruption("malformed perf event '" + text + "' (expected event=0x..)");
  return *config;
}

ProbeResult ProbePerf(Env* env, const MeterOptions& options) {
  ProbeResult r;
  r.attempt.source = kSourceRaplPerf;
  const std::string pmu = kPmuDir;

  auto type_text = rapl::ReadTrimmed(env, pmu + "/type");
  if (!type_text.ok()) {
    r.attempt.reason =
        "no power PMU (" + env->Resolve(pmu + "/type") + ": " + type_text.status().message() + ")";
    r.attempt.hint =
        "the kernel exposes RAPL to perf on Intel since Linux 3.14 and on AMD Zen since 5.8 (Zen 3: 5.11); "
        "virtual machines "
        "usually have none: use rapl-powercap, rapl-msr or the estimate";
    return r;
  }
  auto type = ParseU64(*type_text, pmu + "/type");
  if (!type.ok() || *type > UINT32_MAX) {
    r.attempt.reason = "power PMU type is not a number: '" + *type_text + "'";
    return r;
  }

  // One CPU per package: the PMU's cpumask says which (the kernel picks them).
  std::map<int, int> cpu_of_package;  // package -> cpu
  if (auto mask = rapl::ReadTrimmed(env, pmu + "/cpumask"); mask.ok()) {
    auto cpus = rapl::ParseCpuList(*mask);
    if (cpus.ok()) {
      int ordinal = 0;
      for (int cpu : *cpus) {
        int pkg = rapl::PackageOfCpu(env, cpu).value_or(ordinal);
        if (!cpu_of_package.count(pkg)) cpu_of_package[pkg] = cpu;
        ++ordinal;
      }
    }
  }
  if (cpu_of_package.empty()) {
    auto cpus = rapl::OnlineCpus(env);
    cpu_of_package = rapl::FirstCpuPerPackage(env, cpus.ok() ? *cpus : std::vector<int>{0});
  }
  auto src = std::make_unique<PerfSource>();
  src->AddFact("pmu_type", std::to_string(*type));
  {
    std::vector<std::string> parts;
    for (auto& [pkg, cpu] : cpu_of_package)
      parts.push_back("package-" + std::to_string(pkg) + ":cpu" + std::to_string(cpu));
    src->AddFact("cpus", Join(parts, ","));
  }
  for (const PerfEventKind& k : kEvents) {
    const std::string ev = pmu + "/events/" + k.event;
    auto ev_text = rapl::ReadTrimmed(env, ev);
    if (!ev_text.ok()) continue;  // the kernel lists only the domains this CPU has
    auto config = ParsePerfEventConfig(*ev_text);
    if (!config.ok()) {
      src->AddFact(std::string(k.event) + ".skipped", config.status().message());
      continue;
    }
    auto unit = rapl::ReadTrimmed(env, ev + ".unit");
    if (unit.ok() && *unit != "Joules") {
      src->AddFact(std::string(k.event) + ".skipped", "unit is '" + *unit + "', expected Joules");
      continue;
    }
    auto scale_text = rapl::ReadTrimmed(env, ev + ".scale");
    std::optional<double> scale_j;
    if (scale_text.ok())
      if (auto v = ParseDouble(*scale_text, ev + ".scale"); v.ok() && *v > 0 && std::isfinite(*v))
        scale_j = *v;
    if (!scale_j) {
      src->AddFact(std::string(k.event) + ".skipped", "no usable " + std::string(k.event) + ".scale");
      continue;
    }
    src->AddFact(std::string(k.event) + ".scale_j", rapl::Num(*scale_j));

    for (auto& [pkg, cpu] : cpu_of_package) {
      auto file = env->OpenPerfEvent(static_cast<uint32_t>(*type), *config, cpu);
      Status st = file.ok() ? (*file)->ReadU64(0).status() : file.status();
      if (!st.ok()) {
        if (st.kind() == Status::Kind::kPermissionDenied) {
          r.attempt.reason = "perf_event_open of " + std::string(k.event) + " on cpu " + std::to_string(cpu) +
                             " denied (" + rapl::PerfParanoidText(env) + ")";
          r.attempt.hint = rapl::PerfPermissionHint();
          return r;
        }
        if (std::string(k.event) == "energy-pkg") {
          r.attempt.reason = "cannot open energy-pkg on cpu " + std::to_string(cpu) + ": " + st.ToString();
          r.attempt.hint =
              st.kind() == Status::Kind::kNotFound
                  ? "the running kernel has no such power PMU event (a --sysfs-root tree from another "
                    "machine cannot provide perf events); use rapl-powercap or rapl-msr"
                  : "use rapl-powercap or rapl-msr";
          return r;
        }
        src->AddFact(std::string(k.event) + ".skipped", "cpu " + std::to_string(cpu) + ": " + st.message());
        break;
      }
      DomainInfo d;
      d.source = kSourceRaplPerf;
      d.component = k.component;
      d.in_total = k.in_total;
      d.is_counter = true;
      d.max_energy_range_j = std::ldexp(*scale_j, 64);
      std::string number = std::to_string(pkg);
      if (k.once) {
        d.name = k.domain;  // in_total and note: ApplyIncludePsys below
      } else {
        d.name = std::string(k.domain) + "-" + number;
        if (*k.note) d.note = k.note + number;
      }
      src->Add(std::move(d), std::move(*file), *scale_j);
      if (k.once) break;
    }
  }

  if (src->domains().empty() || !StartsWith(src->domains().front().name, "package-")) {
    r.attempt.reason = "the power PMU lists no usable energy-pkg event";
    r.attempt.hint = "use rapl-powercap or rapl-msr";
    return r;
  }
  rapl::ApplyIncludePsys(src->mutable_domains(), options.include_psys);
  r.attempt.available = true;
  r.attempt.domains = src->domains();
  r.attempt.facts = src->Facts();
  r.source = std::move(src);
  return r;
}

}  // namespace wattlab
