#include "meter/rapl_common.h"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "core/strings.h"

namespace wattlab {
namespace rapl {

Result<uint64_t> PReadDecimal(ReadableFile& file) {
  // sysfs counters are at most 20 digits plus a newline; a fixed buffer keeps
  // the sampler's hot path free of allocation.
  char buf[32];
  auto n = file.PRead(0, buf, sizeof buf);
  if (!n.ok()) return n.status();
  size_t i = 0;
  while (i < *n && (buf[i] == ' ' || buf[i] == '\t')) ++i;
  uint64_t v = 0;
  size_t digits = 0;
  for (; i < *n && buf[i] >= '0' && buf[i] <= '9'; ++i, ++digits) {
    uint64_t d = static_cast<uint64_t>(buf[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return Status::Corruption(file.path() + ": number out of range");
    v = v * 10 + d;
  }
  while (i < *n && std::isspace(static_cast<unsigned char>(buf[i]))) ++i;
  if (digits == 0 || i != *n)
    return Status::Corruption(file.path() + ": expected an unsigned integer, found '" +
                              Trim(std::string(buf, *n)) + "'");
  return v;
}

Result<std::string> ReadTrimmed(Env* env, const std::string& path) {
  auto t = env->ReadFile(path);
  if (!t.ok()) return t.status();
  return Trim(*t);
}

Result<std::vector<int>> ParseCpuList(const std::string& text) {
  std::vector<int> cpus;
  std::string t = Trim(text);
  if (t.empty()) return cpus;
  for (const std::string& part : Split(t, ',')) {
    std::string p = Trim(part);
    auto dash = p.find('-');
    std::optional<int64_t> lo, hi;
    if (dash == std::string::npos) {
      lo = hi = ParseInt(p);
    } else {
      lo = ParseInt(p.substr(0, dash));
      hi = ParseInt(p.substr(dash + 1));
    }
    if (!lo || !hi || *lo < 0 || *hi < *lo || *hi > 65535)
      return Status::InvalidArgument("malformed CPU list '" + t + "' (expected e.g. 0-3,8)");
    for (int64_t c = *lo; c <= *hi; ++c) cpus.push_back(static_cast<int>(c));
  }
  std::sort(cpus.begin(), cpus.end());
  cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
  return cpus;
}

Result<std::vector<int>> OnlineCpus(Env* env) {
  if (auto online = ReadTrimmed(env, "/sys/devices/system/cpu/online"); online.ok()) {
    auto list = ParseCpuList(*online);
    if (list.ok() && !list->empty()) return list;
  }
  auto names = env->ListDir("/sys/devices/system/cpu");
  if (!names.ok()) return names.status();
  std::vector<int> cpus;
  for (const std::string& n : *names) {
    if (!StartsWith(n, "cpu")) continue;
    if (auto v = ParseInt(n.substr(3)); v && *v >= 0) cpus.push_back(static_cast<int>(*v));
  }
  std::sort(cpus.begin(), cpus.end());
  if (cpus.empty()) return Status::NotFound("no CPUs listed under /sys/devices/system/cpu");
  return cpus;
}

std::optional<int> PackageOfCpu(Env* env, int cpu) {
  auto t =
      ReadTrimmed(env, "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/physical_package_id");
  if (!t.ok()) return std::nullopt;
  auto v = ParseInt(*t);
  if (!v || *v < 0) return std::nullopt;
  return static_cast<int>(*v);
}

namespace {

// processor -> physical id, from /proc/cpuinfo (topology fallback).
std::map<int, int> CpuinfoPackages(Env* env) {
  std::map<int, int> out;
  auto text = env->ReadFile("/proc/cpuinfo");
  if (!text.ok()) return out;
  int processor = -1;
  for (const std::string& line : Split(*text, '\n')) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = Trim(line.substr(0, colon));
    std::string value = Trim(line.substr(colon + 1));
    if (key == "processor") {
      auto v = ParseInt(value);
      processor = v ? static_cast<int>(*v) : -1;
    } else if (key == "physical id" && processor >= 0) {
      if (auto v = ParseInt(value)) out[processor] = static_cast<int>(*v);
    }
  }
  return out;
}

}  // namespace

std::map<int, int> FirstCpuPerPackage(Env* env, const std::vector<int>& cpus) {
  std::map<int, int> first;
  std::map<int, int> from_cpuinfo;
  bool cpuinfo_read = false;
  for (int cpu : cpus) {
    std::optional<int> pkg = PackageOfCpu(env, cpu);
    if (!pkg) {
      if (!cpuinfo_read) from_cpuinfo = CpuinfoPackages(env), cpuinfo_read = true;
      auto it = from_cpuinfo.find(cpu);
      // Without any topology, every CPU counts as package 0: one reading, never
      // one per CPU (which would multiply the package energy).
      pkg = it == from_cpuinfo.end() ? 0 : it->second;
    }
    if (!first.count(*pkg)) first[*pkg] = cpu;
  }
  return first;
}

CpuIdent ReadCpuIdent(Env* env) {
  CpuIdent id;
  auto text = env->ReadFile("/proc/cpuinfo");
  if (!text.ok()) return id;
  for (const std::string& line : Split(*text, '\n')) {
    auto colon = line.find(':');
    if (colon == std::string::npos) {
      if (Trim(line).empty() && !id.vendor.empty()) break;  // end of the first processor
      continue;
    }
    std::string key = Trim(line.substr(0, colon));
    std::string value = Trim(line.substr(colon + 1));
    if (key == "vendor_id" && id.vendor.empty()) id.vendor = value;
    if (key == "cpu family" && id.family < 0) id.family = static_cast<int>(ParseInt(value).value_or(-1));
    if (key == "model" && id.model < 0) id.model = static_cast<int>(ParseInt(value).value_or(-1));
  }
  return id;
}

std::string PowercapPermissionHint() {
  return "run as root; or make the counters readable (reset at boot): "
         "`sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj "
         "/sys/class/powercap/intel-rapl:*:*/energy_uj`, "
         "or for good with a udev rule: ACTION==\"add\", SUBSYSTEM==\"powercap\", "
         "RUN+=\"/bin/chmod o+r /sys%p/energy_uj\"; "
         "or use rapl-perf instead: `sudo sysctl kernel.perf_event_paranoid=0` or "
         "`sudo setcap cap_perfmon+ep $(command -v wattlab)`";
}

std::string PerfParanoidText(Env* env) {
  auto t = ReadTrimmed(env, "/proc/sys/kernel/perf_event_paranoid");
  return "kernel.perf_event_paranoid = " + (t.ok() ? *t : std::string("unknown"));
}

std::string PerfPermissionHint() {
  return "system-wide perf events need kernel.perf_event_paranoid <= 0 or CAP_PERFMON: "
         "`sudo sysctl kernel.perf_event_paranoid=0`, or `sudo setcap cap_perfmon+ep $(command -v wattlab)` "
         "(CAP_SYS_ADMIN before Linux 5.8), or run as root";
}

bool ApplyIncludePsys(std::vector<DomainInfo>& domains, bool include_psys) {
  auto add_note = [](DomainInfo& d, const std::string& n) { d.note += (d.note.empty() ? "" : "; ") + n; };
  bool has_psys = false;
  for (DomainInfo& d : domains) {
    if (d.component != Component::kPlatform) continue;
    has_psys = true;
    d.in_total = include_psys;
    add_note(
        d,
        include_psys
            ? "whole platform (SoC, package and dram); summed instead of them (include_psys)"
            : "whole platform: overlaps package and dram; reported, not summed (set include_psys to use it)");
  }
  if (!include_psys || !has_psys) return false;
  for (DomainInfo& d : domains) {
    if (d.in_total && (d.component == Component::kCpu || d.component == Component::kDram)) {
      d.in_total = false;
      add_note(d, "covered by psys (include_psys)");
    }
  }
  return true;
}

std::string Num(double v) { return FormatDouble(v); }

std::string SanitizeName(const std::string& s) {
  std::string out;
  for (char c : Trim(s)) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.')
      out.push_back(static_cast<char>(std::tolower(u)));
    else
      out.push_back('_');
  }
  return out;
}

}  // namespace rapl
}  // namespace wattlab
