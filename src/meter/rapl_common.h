// Shared pieces of the counter sources read straight from the machine:
// rapl-powercap, rapl-perf, rapl-msr and hwmon.
//
// What lives here: a small EnergySource base that holds the domain list,
// facts and minimum interval (each source adds only its Read), a pread-based
// parser for sysfs decimal files (one syscall, no allocation: the sampler
// calls it up to 1000 times a second), CPU topology helpers (one CPU per
// package) and the wording of the permission hints, so every source tells the
// user the same thing.
//
// Ownership: a source owns its open files. Thread-safety: a source is read by
// one thread at a time (the sampler); the helpers are pure or go through Env.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/env.h"
#include "wattlab/meter.h"

namespace wattlab {
namespace rapl {

// Base for the four sources: everything but Read is plain data.
class SourceBase : public EnergySource {
 public:
  SourceBase(std::string name, std::chrono::nanoseconds min_interval)
      : name_(std::move(name)), min_interval_(min_interval) {}
  const std::string& name() const override { return name_; }
  const std::vector<DomainInfo>& domains() const override { return domains_; }
  std::chrono::nanoseconds min_interval() const override { return min_interval_; }
  std::vector<std::pair<std::string, std::string>> Facts() const override { return facts_; }

 protected:
  std::string name_;
  std::chrono::nanoseconds min_interval_;
  std::vector<DomainInfo> domains_;
  std::vector<std::pair<std::string, std::string>> facts_;
};

// Reads a sysfs file holding one unsigned decimal ("123456\n") with a single
// pread at offset 0. Corruption when the text is not a number.
Result<uint64_t> PReadDecimal(ReadableFile& file);

// Reads a small text file and trims it.
Result<std::string> ReadTrimmed(Env* env, const std::string& path);

// "0-3,8,10-11" -> {0,1,2,3,8,10,11}. InvalidArgument on malformed text.
Result<std::vector<int>> ParseCpuList(const std::string& text);

// CPUs the machine has online: /sys/devices/system/cpu/online, else the
// cpuN directories. Sorted.
Result<std::vector<int>> OnlineCpus(Env* env);

// physical_package_id of every given CPU (topology in sysfs; falls back to
// "physical id" in /proc/cpuinfo, then to package 0 for all).
// Returns package -> first CPU of that package, ordered by package id.
std::map<int, int> FirstCpuPerPackage(Env* env, const std::vector<int>& cpus);

// Package id of one CPU from sysfs topology; nullopt when unknown.
std::optional<int> PackageOfCpu(Env* env, int cpu);

// vendor_id, cpu family and model of the first processor in /proc/cpuinfo.
struct CpuIdent {
  std::string vendor;  // "GenuineIntel", "AuthenticAMD", "HygonGenuine", "" when unknown
  int family = -1;
  int model = -1;
  bool IsIntel() const { return vendor == "GenuineIntel"; }
  bool IsAmd() const { return vendor == "AuthenticAMD" || vendor == "HygonGenuine"; }
};
CpuIdent ReadCpuIdent(Env* env);

// "/sys/class/powercap/intel-rapl:0/energy_uj" etc. are root-only since
// CVE-2020-8694: the hint names every way out.
std::string PowercapPermissionHint();
// perf_event_paranoid's value (or "unknown") and what to do about it.
std::string PerfParanoidText(Env* env);
std::string PerfPermissionHint();

// psys covers the whole platform, packages and dram included. Without
// include_psys it is reported, not summed; with it (and a psys domain present)
// psys is summed and the cpu/dram domains it covers are not. Adjusts in_total
// and notes; returns whether psys is summed.
bool ApplyIncludePsys(std::vector<DomainInfo>& domains, bool include_psys);

// Formats a double for facts and notes ("125", "0.0009765625").
std::string Num(double v);

// Lower-case, spaces and '/' turned into '_' (hwmon labels in domain names).
std::string SanitizeName(const std::string& s);

}  // namespace rapl
}  // namespace wattlab
