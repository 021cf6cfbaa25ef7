// Fuzzes every parser of sysfs/procfs text in one target: the first byte of
// the input picks the parser, the rest is the file's text.
//
//   0 ParseU64 (core/env.h: energy_uj, max_energy_range_uj, power_limit_uw)
//   1 ParseI64            2 ParseDouble (perf's *.scale)
//   3 ParseProcStat       4 ParseCpuInfo          5 ParseMemTotalBytes
//   6 ParseMemAvailableBytes                      7 ParsePidStat
//   8 ParseNetDev         9 ParsePidIo (meter/procfs.h)
//  10 rapl::ParseCpuList (/sys/devices/system/cpu/online)
//  11 ParsePerfEventConfig (/sys/bus/event_source/devices/power/events/*)
//  12 ParseCpuLoadProfile (--estimate-profile JSON)
//
// Invariants: what each header documents (cpu lists sorted, unique, within
// 0..65535; CpuInfo.threads >= 1; byte counts that did not wrap; load
// profiles with >= 2 strictly increasing loads in [0, 1] and finite powers).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/strings.h"
#include "fuzz_check.h"
#include "meter/estimate.h"
#include "meter/perf.h"
#include "meter/procfs.h"
#include "meter/rapl_common.h"

namespace {

using namespace wattlab;

// The digits of a plain decimal without its leading zeros ("0" for zero).
std::string Canonical(std::string t) {
  bool negative = !t.empty() && (t[0] == '-' || t[0] == '+') ? (t[0] == '-') : false;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) t.erase(0, 1);
  size_t nz = t.find_first_not_of('0');
  t = nz == std::string::npos ? "0" : t.substr(nz);
  return (negative && t != "0" ? "-" : "") + t;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int which = data[0] % 13;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (which) {
    case 0: {
      auto v = ParseU64(text, "energy_uj");
      if (v.ok())
        FUZZ_CHECK(std::to_string(*v) == Canonical(Trim(text)), "'%s' read as %llu", text.c_str(),
                   static_cast<unsigned long long>(*v));
      break;
    }
    case 1: {
      auto v = ParseI64(text, "x");
      if (v.ok()) {
        const std::string t = Trim(text);
        // strtoll takes leading blanks and a sign; compare the digits only.
        if (t.find_first_of(" \t\n\v\f\r") == std::string::npos)
          FUZZ_CHECK(std::to_string(*v) == Canonical(t), "'%s' read as %lld", text.c_str(),
                     static_cast<long long>(*v));
      }
      break;
    }
    case 2: {
      auto v = ParseDouble(text, "x");
      (void)v;  // any double (inf/nan included) may come back; callers check finiteness
      break;
    }
    case 3: {
      auto t = ParseProcStat(text);
      if (t.ok()) {
        // Busy() and Total() are sums of the fields: they must be the true
        // sums, not sums that wrapped past 2^64.
        unsigned __int128 busy = t->user;
        busy += t->nice;
        busy += t->system;
        busy += t->irq;
        busy += t->softirq;
        busy += t->steal;
        const unsigned __int128 total = busy + t->idle + t->iowait;
        FUZZ_CHECK(busy == t->Busy() && total == t->Total(), "a tick sum wrapped (Busy %llu, Total %llu)",
                   static_cast<unsigned long long>(t->Busy()), static_cast<unsigned long long>(t->Total()));
      }
      break;
    }
    case 4: {
      auto info = ParseCpuInfo(text);
      if (info.ok()) {
        FUZZ_CHECK(info->threads >= 1, "threads %d", info->threads);
        FUZZ_CHECK(info->sockets >= 1, "sockets %d", info->sockets);
        FUZZ_CHECK(info->cores >= 1, "cores %d", info->cores);
      }
      break;
    }
    case 5:
    case 6: {
      auto v = which == 5 ? ParseMemTotalBytes(text) : ParseMemAvailableBytes(text);
      if (v.ok()) {
        // The first line with the key holds the number and its unit; the
        // bytes are exactly number x unit, never a product that wrapped.
        const std::string key = which == 5 ? "MemTotal:" : "MemAvailable:";
        for (const std::string& line : Split(text, '\n')) {
          if (!StartsWith(line, key)) continue;
          // Fields as the parser splits them: on any white space (" kB\f{" is "kB").
          std::vector<std::string> f;
          std::istringstream words(line.substr(key.size()));
          for (std::string w; words >> w;) f.push_back(w);
          if (f.empty()) break;
          auto n = ParseInt(f[0]);
          if (!n) break;
          unsigned __int128 scale = 1;
          if (f.size() >= 2) {
            const std::string unit = ToLower(f[1]);
            scale = unit == "kb"   ? 1024
                    : unit == "mb" ? 1024 * 1024
                    : unit == "gb" ? 1024ull * 1024 * 1024
                                   : 1;
          }
          FUZZ_CHECK(static_cast<unsigned __int128>(*n) * scale == *v, "%s read as %llu bytes (wrapped)",
                     line.c_str(), static_cast<unsigned long long>(*v));
          break;
        }
      }
      break;
    }
    case 7: {
      auto s = ParsePidStat(text);
      (void)s;  // no crash, no UB; every tick count is unsigned by construction
      break;
    }
    case 8: {
      auto b = ParseNetDev(text);
      (void)b;
      break;
    }
    case 9: {
      auto io = ParsePidIo(text);
      (void)io;
      break;
    }
    case 10: {
      auto cpus = rapl::ParseCpuList(text);
      if (cpus.ok()) {
        for (size_t i = 0; i < cpus->size(); ++i) {
          FUZZ_CHECK((*cpus)[i] >= 0 && (*cpus)[i] <= 65535, "cpu %d out of range", (*cpus)[i]);
          if (i) FUZZ_CHECK((*cpus)[i - 1] < (*cpus)[i], "not sorted and unique");
        }
      }
      break;
    }
    case 11: {
      auto c = ParsePerfEventConfig(text);
      (void)c;
      break;
    }
    case 12: {
      auto p = ParseCpuLoadProfile(text);
      if (p.ok()) {
        FUZZ_CHECK(p->points.size() >= 2, "%zu points", p->points.size());
        for (size_t i = 0; i < p->points.size(); ++i) {
          const auto& pt = p->points[i];
          FUZZ_CHECK(pt.load >= 0 && pt.load <= 1, "load %g", pt.load);
          FUZZ_CHECK(std::isfinite(pt.cpu_power_w) && pt.cpu_power_w >= 0, "power %g", pt.cpu_power_w);
          if (i) FUZZ_CHECK(p->points[i - 1].load < pt.load, "loads not increasing");
        }
        if (p->threads) FUZZ_CHECK(*p->threads >= 1, "threads %d", *p->threads);
      }
      break;
    }
  }
  return 0;
}
