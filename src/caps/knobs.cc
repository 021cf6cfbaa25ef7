// Reading the knobs, and the sysfs helpers the session writes with.
#include <algorithm>
#include <cmath>

#include "caps/internal.h"
#include "core/strings.h"
#include "meter/powercap.h"

namespace wattlab::caps {

namespace internal {

Result<uint64_t> ReadU64File(Env* env, const std::string& path) {
  auto text = env->ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseU64(*text, path);
}

namespace {

Status WithAdvice(const Status& st, const std::string& what) {
  if (st.kind() != Status::Kind::kPermissionDenied) return st;
  return Status::PermissionDenied(
      st.message() + "; changing " + what +
      " needs root (or CAP_SYS_ADMIN with write access to sysfs): run wattlab with sudo");
}

}  // namespace

Status WriteTextFile(Env* env, const std::string& path, const std::string& text, const std::string& what) {
  return WithAdvice(env->WriteFileInPlace(path, text), what);
}

Status WriteU64File(Env* env, const std::string& path, uint64_t value, const std::string& what) {
  return WriteTextFile(env, path, std::to_string(value), what);
}

bool HasCapSysAdmin(Env* env) {
  auto status = env->ReadFile("/proc/self/status");
  if (!status.ok()) return false;
  for (const std::string& line : Split(*status, '\n')) {
    if (!StartsWith(line, "CapEff:")) continue;
    std::string hex = TrimCopy(line.substr(7));
    if (hex.empty() || hex.size() > 16) return false;
    uint64_t caps = 0;
    for (char c : hex) {
      int d = (c >= '0' && c <= '9')   ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                       : -1;
      if (d < 0) return false;
      caps = caps * 16 + static_cast<uint64_t>(d);
    }
    constexpr int kCapSysAdmin = 21;
    return (caps >> kCapSysAdmin) & 1;
  }
  return false;
}

Result<std::vector<PackageZone>> ListPackageZones(Env* env) {
  WATTLAB_ASSIGN_OR_RETURN(std::vector<PowercapZone> zones, ListPowercapZones(env));
  std::vector<PackageZone> out;
  for (bool mmio : {false, true}) {
    if (mmio && !out.empty()) break;  // the mmio zone is the same package read another way
    for (const PowercapZone& z : zones) {
      if (z.mmio != mmio || z.index.size() != 1 || z.kind != "package") continue;
      PackageZone p;
      p.zone = z.id;
      p.dir = z.dir;
      p.name = z.domain;
      auto dash = z.domain.rfind('-');
      auto n = dash == std::string::npos ? std::nullopt : ParseInt(z.domain.substr(dash + 1));
      p.package = n ? static_cast<int>(*n) : z.index.front();
      out.push_back(std::move(p));
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const PackageZone& a, const PackageZone& b) { return a.package < b.package; });
  return out;
}

Result<int> FindConstraint(Env* env, const std::string& zone_dir, const std::string& name) {
  std::vector<std::string> names;
  for (int k = 0; k < 16; ++k) {
    auto n = env->ReadFile(zone_dir + "/constraint_" + std::to_string(k) + "_name");
    if (!n.ok()) break;
    if (Trim(*n) == name) return k;
    names.push_back(Trim(*n));
  }
  return Status::NotFound(
      zone_dir + " has no '" + name + "' constraint" +
      (names.empty() ? " (it has no power limits)" : " (it has: " + Join(names, ", ") + ")"));
}

std::string CpufreqPath(int cpu, const std::string& file) {
  return std::string(kCpuDir) + "/cpu" + std::to_string(cpu) + "/cpufreq/" + file;
}

std::vector<int> ListCpufreqCpus(Env* env) {
  std::vector<int> cpus;
  auto names = env->ListDir(kCpuDir);
  if (!names.ok()) return cpus;
  for (const std::string& n : *names) {
    if (!StartsWith(n, "cpu") || n.size() == 3) continue;
    auto v = ParseInt(n.substr(3));
    if (!v || *v < 0) continue;
    if (env->Exists(CpufreqPath(static_cast<int>(*v), "scaling_max_freq")))
      cpus.push_back(static_cast<int>(*v));
  }
  std::sort(cpus.begin(), cpus.end());
  return cpus;
}

double MilliToUnit(uint64_t v) { return static_cast<double>(v) / 1e3; }
double MicroToUnit(uint64_t v) { return static_cast<double>(v) / 1e6; }

}  // namespace internal

using namespace internal;

std::string JournalPath(Env* env) {
  if (auto v = env->GetEnvVar(kJournalEnvVar); v && !v->empty()) return *v;
  return kDefaultJournalPath;
}

namespace {

std::optional<double> ReadScaled(Env* env, const std::string& path, double scale) {
  auto v = ReadU64File(env, path);
  if (!v.ok()) return std::nullopt;
  return static_cast<double>(*v) * scale;
}

void ReadGpus(Env* env, const CapsOptions& options, Knobs& k) {
  auto nvml = Nvml::Open(env, options.nvml_library);
  if (!nvml.ok()) {
    k.gpu_note = nvml.status().message();
    return;
  }
  if ((*nvml)->count() == 0) {
    k.gpu_note = "NVML found no GPUs";
    return;
  }
  const bool admin = HasCapSysAdmin(env);
  for (unsigned i = 0; i < (*nvml)->count(); ++i) {
    GpuKnob g;
    g.index = i;
    g.name = (*nvml)->Name(i);
    if (auto v = (*nvml)->LimitMw(i); v.ok()) g.limit_w = MilliToUnit(*v);
    if (auto v = (*nvml)->DefaultLimitMw(i); v.ok()) g.default_w = MilliToUnit(*v);
    if (auto v = (*nvml)->EnforcedLimitMw(i); v.ok()) g.enforced_w = MilliToUnit(*v);
    if (auto v = (*nvml)->ConstraintsMw(i); v.ok()) {
      g.min_w = MilliToUnit(v->first);
      g.max_w = MilliToUnit(v->second);
    }
    g.settable = admin && g.limit_w && g.min_w && g.max_w;
    k.gpus.push_back(std::move(g));
  }
}

void ReadPackages(Env* env, Knobs& k) {
  auto zones = ListPackageZones(env);
  if (!zones.ok()) {
    k.package_note = "no powercap: " + zones.status().message();
    return;
  }
  if (zones->empty()) {
    k.package_note = "powercap lists no package zone";
    return;
  }
  for (const PackageZone& z : *zones) {
    PackageKnob p;
    p.zone = z.zone;
    p.dir = z.dir;
    p.name = z.name;
    p.package = z.package;
    for (int n = 0; n < 16; ++n) {
      const std::string base = z.dir + "/constraint_" + std::to_string(n) + "_";
      auto name = env->ReadFile(base + "name");
      if (!name.ok()) break;
      ConstraintKnob c;
      c.number = n;
      c.name = Trim(*name);
      c.power_limit_w = ReadScaled(env, base + "power_limit_uw", 1e-6);
      c.time_window_s = ReadScaled(env, base + "time_window_us", 1e-6);
      c.min_w = ReadScaled(env, base + "min_power_uw", 1e-6);
      c.max_w = ReadScaled(env, base + "max_power_uw", 1e-6);
      if (c.max_w && *c.max_w <= 0) c.max_w.reset();  // 0 means "not stated"
      p.constraints.push_back(std::move(c));
    }
    if (auto en = env->ReadFile(z.dir + "/enabled"); en.ok()) p.enabled = Trim(*en) == "1";
    if (auto n = FindConstraint(env, z.dir, kDefaultConstraint); n.ok())
      p.settable = env->CheckWritable(z.dir + "/constraint_" + std::to_string(*n) + "_power_limit_uw").ok();
    k.packages.push_back(std::move(p));
  }
}

void ReadCpufreq(Env* env, Knobs& k) {
  std::vector<int> cpus = ListCpufreqCpus(env);
  if (cpus.empty()) {
    k.cpufreq_note = "no cpufreq (no " + std::string(kCpuDir) + "/cpuN/cpufreq/scaling_max_freq)";
    return;
  }
  CpufreqKnob c;
  bool first = true, settable = true;
  for (int cpu : cpus) {
    auto cur = ReadU64File(env, CpufreqPath(cpu, "scaling_max_freq"));
    auto lo = ReadU64File(env, CpufreqPath(cpu, "cpuinfo_min_freq"));
    auto hi = ReadU64File(env, CpufreqPath(cpu, "cpuinfo_max_freq"));
    if (!cur.ok() || !lo.ok() || !hi.ok()) continue;
    const double cur_mhz = static_cast<double>(*cur) / 1e3, lo_mhz = static_cast<double>(*lo) / 1e3,
                 hi_mhz = static_cast<double>(*hi) / 1e3;
    c.cpus.push_back(cpu);
    c.max_freq_mhz = first ? cur_mhz : std::max(c.max_freq_mhz, cur_mhz);
    c.lowest_max_freq_mhz = first ? cur_mhz : std::min(c.lowest_max_freq_mhz, cur_mhz);
    c.min_mhz = first ? lo_mhz : std::max(c.min_mhz, lo_mhz);
    c.max_mhz = first ? hi_mhz : std::max(c.max_mhz, hi_mhz);
    first = false;
    settable = settable && env->CheckWritable(CpufreqPath(cpu, "scaling_max_freq")).ok();
  }
  if (c.cpus.empty()) {
    k.cpufreq_note =
        "cpufreq folders found, but none has readable scaling_max_freq and cpuinfo_{min,max}_freq";
    return;
  }
  c.settable = settable;
  k.cpufreq = c;
}

}  // namespace

Knobs ReadKnobs(Env* env, const CapsOptions& options) {
  Knobs k;
  ReadGpus(env, options, k);
  ReadPackages(env, k);
  ReadCpufreq(env, k);
  const std::string path = options.journal_path.empty() ? JournalPath(env) : options.journal_path;
  auto info = env->Stat(path);
  if (info.ok() && info->kind != FileKind::kMissing) {
    k.journal = path;
    k.journal_corrupt = !ReadJournal(env, path).ok();
  }
  return k;
}

}  // namespace wattlab::caps
