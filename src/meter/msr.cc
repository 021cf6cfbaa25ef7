// rapl-msr: see msr.h for the registers and units.
#include "meter/msr.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "core/strings.h"
#include "meter/rapl_common.h"
#include "meter/sources.h"

namespace wattlab {

namespace msr {

double EnergyUnitJ(uint64_t unit_register) {
  int esu = static_cast<int>((unit_register >> 8) & 0x1f);
  return std::ldexp(1.0, -esu);
}

bool IntelDramHasFixedUnit(int family, int model) {
  if (family != 6) return false;
  switch (model) {
    case 0x3F:  // Haswell-X
    case 0x4F:  // Broadwell-X
    case 0x56:  // Broadwell-D
    case 0x55:  // Skylake-X, Cascade Lake, Cooper Lake
    case 0x57:  // Xeon Phi Knights Landing
    case 0x85:  // Xeon Phi Knights Mill
    case 0x6A:  // Ice Lake-X
    case 0x6C:  // Ice Lake-D
    case 0x8F:  // Sapphire Rapids-X
    case 0xCF:  // Emerald Rapids-X
      return true;
    default:
      return false;
  }
}

}  // namespace msr

namespace {

struct MsrDomain {
  size_t file;  // index into files_
  uint64_t reg;
  double unit_j;
};

class MsrSource : public rapl::SourceBase {
 public:
  MsrSource() : SourceBase(kSourceRaplMsr, std::chrono::milliseconds(1)) {}
  size_t AddFile(std::unique_ptr<ReadableFile> f) {
    files_.push_back(std::move(f));
    return files_.size() - 1;
  }
  ReadableFile& file(size_t i) { return *files_[i]; }
  void Add(DomainInfo info, MsrDomain d) {
    domains_.push_back(std::move(info));
    regs_.push_back(d);
  }
  void AddFact(std::string key, std::string value) { facts_.emplace_back(std::move(key), std::move(value)); }
  std::vector<DomainInfo>& mutable_domains() { return domains_; }

  Status Read(std::vector<Reading>& out) override {
    for (size_t i = 0; i < regs_.size(); ++i) {
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
    const MsrDomain& d = regs_[i];
    auto raw = files_[d.file]->ReadU64(d.reg);
    if (!raw.ok()) return raw.status().WithContext(name_);
    out = Reading::Energy(static_cast<double>(*raw & 0xffffffffu) * d.unit_j);
    return Status::Ok();
  }
  std::vector<std::unique_ptr<ReadableFile>> files_;
  std::vector<MsrDomain> regs_;
};

std::string Hex(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%llX", static_cast<unsigned long long>(v));
  return b;
}

}  // namespace

ProbeResult ProbeMsr(Env* env, const MeterOptions& options) {
  ProbeResult r;
  r.attempt.source = kSourceRaplMsr;
  const std::string load_hint =
      "load the msr module: `sudo modprobe msr` (and run as root or with CAP_SYS_RAWIO)";

  rapl::CpuIdent ident = rapl::ReadCpuIdent(env);
  if (!ident.IsIntel() && !ident.IsAmd()) {
    r.attempt.reason = "RAPL MSRs are known only on Intel and AMD CPUs; /proc/cpuinfo says vendor '" +
                       (ident.vendor.empty() ? std::string("unknown") : ident.vendor) + "'";
    r.attempt.hint = "use hwmon, nvml or the estimate";
    return r;
  }

  std::vector<int> cpus;
  if (auto names = env->ListDir("/dev/cpu"); names.ok()) {
    for (const std::string& n : *names) {
      auto v = ParseInt(n);
      if (v && *v >= 0 && env->Exists("/dev/cpu/" + n + "/msr")) cpus.push_back(static_cast<int>(*v));
    }
  }
  std::sort(cpus.begin(), cpus.end());
  if (cpus.empty()) {
    r.attempt.reason = "no MSR device (" + env->Resolve("/dev/cpu/0/msr") + " missing)";
    r.attempt.hint = load_hint;
    return r;
  }

  const bool intel = ident.IsIntel();
  const uint64_t unit_reg = intel ? msr::kIntelPowerUnit : msr::kAmdPowerUnit;
  auto src = std::make_unique<MsrSource>();
  src->AddFact("vendor", ident.vendor);
  std::map<int, int> packages = rapl::FirstCpuPerPackage(env, cpus);
  bool first_package = true;
  for (auto& [pkg, cpu] : packages) {
    const std::string path = "/dev/cpu/" + std::to_string(cpu) + "/msr";
    auto file = env->OpenForRead(path);
    if (!file.ok()) {
      if (file.status().kind() == Status::Kind::kPermissionDenied) {
        r.attempt.reason =
            "cannot open " + env->Resolve(path) + ": permission denied (" + file.status().message() + ")";
        r.attempt.hint =
            "run as root, or `sudo setcap cap_sys_rawio+ep $(command -v wattlab)` and make /dev/cpu/*/msr "
            "readable to your group; or use rapl-perf (perf_event_paranoid <= 0 or CAP_PERFMON)";
      } else {
        r.attempt.reason = "cannot open " + env->Resolve(path) + ": " + file.status().message();
        r.attempt.hint = load_hint;
      }
      return r;
    }
    size_t fi = src->AddFile(std::move(*file));
    ReadableFile& f = src->file(fi);
    auto unit_raw = f.ReadU64(unit_reg);
    if (!unit_raw.ok()) {
      r.attempt.reason = "cannot read the RAPL unit register " + Hex(unit_reg) + " on cpu " +
                         std::to_string(cpu) + ": " + unit_raw.status().message();
      r.attempt.hint = unit_raw.status().kind() == Status::Kind::kPermissionDenied
                           ? "run as root or `sudo setcap cap_sys_rawio+ep $(command -v wattlab)`"
                           : "this CPU may not have RAPL; use rapl-powercap, rapl-perf or the estimate";
      return r;
    }
    const double unit_j = msr::EnergyUnitJ(*unit_raw);
    if (first_package) src->AddFact("energy_unit_j", rapl::Num(unit_j));
    const std::string n = std::to_string(pkg);
    src->AddFact("package-" + n + ".cpu", std::to_string(cpu));

    struct Candidate {
      uint64_t reg;
      std::string name;
      Component component;
      bool in_total;
      bool required;
      std::string note;
      double unit_j;
    };
    std::vector<Candidate> candidates;
    if (intel) {
      double dram_unit_j =
          msr::IntelDramHasFixedUnit(ident.family, ident.model) ? msr::kIntelServerDramUnitJ : unit_j;
      candidates = {
          {msr::kIntelPkgEnergy, "package-" + n, Component::kCpu, true, true, "", unit_j},
          {msr::kIntelPp0Energy, "core-" + n, Component::kCpu, false, false, "nested in package-" + n,
           unit_j},
          {msr::kIntelPp1Energy, "uncore-" + n, Component::kCpu, false, false,
           "nested in package-" + n + "; PP1: integrated graphics on client chips", unit_j},
          {msr::kIntelDramEnergy, "dram-" + n, Component::kDram, true, false,
           dram_unit_j != unit_j ? "server DRAM unit 15.3 uJ" : "", dram_unit_j},
      };
      if (first_package)
        candidates.push_back({msr::kIntelPsysEnergy, "psys", Component::kPlatform, false, false, "",
                              unit_j});  // in_total and note: ApplyIncludePsys below
    } else {
      candidates = {{msr::kAmdPkgEnergy, "package-" + n, Component::kCpu, true, true, "", unit_j}};
    }
    for (const Candidate& c : candidates) {
      auto raw = f.ReadU64(c.reg);
      // As Linux's intel_rapl does, a register that cannot be read or reads
      // zero means the domain does not exist on this CPU.
      if (!raw.ok() || (*raw & 0xffffffffu) == 0) {
        if (c.required) {
          r.attempt.reason = "package energy register " + Hex(c.reg) + " on cpu " + std::to_string(cpu) +
                             (raw.ok() ? " reads zero" : " cannot be read: " + raw.status().message());
          r.attempt.hint = "this CPU may not have RAPL; use rapl-powercap, rapl-perf or the estimate";
          return r;
        }
        continue;
      }
      DomainInfo d;
      d.name = c.name;
      d.component = c.component;
      d.source = kSourceRaplMsr;
      d.in_total = c.in_total;
      d.is_counter = true;
      d.max_energy_range_j = std::ldexp(c.unit_j, 32);
      d.note = c.note;
      src->Add(std::move(d), MsrDomain{fi, c.reg, c.unit_j});
    }
    if (!intel && first_package)
      src->AddFact("core_energy",
                   "per-core counters (" + Hex(msr::kAmdCoreEnergy) + ") not read: nested in the package");
    first_package = false;
  }

  rapl::ApplyIncludePsys(src->mutable_domains(), options.include_psys);
  r.attempt.available = true;
  r.attempt.domains = src->domains();
  r.attempt.facts = src->Facts();
  r.source = std::move(src);
  return r;
}

}  // namespace wattlab
