// procfs: parsers for the few /proc files the meter needs.
//
// /proc/stat (machine CPU ticks), /proc/cpuinfo (CPU model, vendor, family,
// model number, topology), /proc/meminfo (installed memory) and
// /proc/<pid>/stat (a process's CPU ticks and parent), /proc/net/dev
// (network bytes) and /proc/<pid>/io (storage bytes). Every read goes
// through the Env passed in, so tests point "/proc" at a fixture tree under
// tests/fixtures/proc-*/.
//
// Used by: the estimate source (utilisation between reads, TDP lookup, DRAM
// size) and the meter core (cpu_util per window, per-process attribution).
//
// Thread-safety: free functions without state; safe from any thread as long
// as the Env is.
#pragma once

#include <cstdint>
#include <string>

#include "core/env.h"
#include "wattlab/status.h"

namespace wattlab {

// The aggregate "cpu" line of /proc/stat, in clock ticks (USER_HZ, usually
// 100 per second, i.e. 10 ms per tick). guest/guest_nice are already counted
// inside user/nice by the kernel, so they are not kept (summing them would
// double-count).
struct CpuTimes {
  uint64_t user = 0;
  uint64_t nice = 0;
  uint64_t system = 0;
  uint64_t idle = 0;
  uint64_t iowait = 0;
  uint64_t irq = 0;
  uint64_t softirq = 0;
  uint64_t steal = 0;

  // Ticks doing work: user + nice + system + irq + softirq + steal.
  // Steal is counted as busy: the vCPU wanted to run (CodeCarbon and `top`
  // treat it the same way); iowait is idle (the CPU was free to run others).
  uint64_t Busy() const;
  // Busy() + idle + iowait.
  uint64_t Total() const;
};

// Parses the text of /proc/stat (the aggregate "cpu " line). Corruption with
// the path when the line is missing or malformed.
Result<CpuTimes> ParseProcStat(const std::string& text);
// Reads /proc/stat through env.
Result<CpuTimes> ReadProcStat(Env* env);

// What /proc/cpuinfo says about the CPU. Fields the kernel does not print
// (e.g. "physical id" inside some VMs, "cpu family" on ARM) stay at their
// defaults; threads is always >= 1 on success.
struct CpuInfo {
  std::string vendor;       // "GenuineIntel", "AuthenticAMD", "" when unknown
  std::string model_name;   // "Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz", "AMD EPYC"
  int family = -1;          // "cpu family" (decimal in the file: 25 = 0x19)
  int model = -1;           // "model" (decimal in the file: 17 = 0x11)
  int threads = 0;          // logical CPUs ("processor" entries)
  int sockets = 0;          // distinct "physical id" values (1 when none printed)
  int cores = 0;            // physical cores over all sockets ("cpu cores" x sockets; = threads when unknown)
  bool hypervisor = false;  // "hypervisor" in flags: a VM, which may see only a slice of a socket
};

Result<CpuInfo> ParseCpuInfo(const std::string& text);
Result<CpuInfo> ReadCpuInfo(Env* env);

// MemTotal from /proc/meminfo, in bytes.
Result<uint64_t> ParseMemTotalBytes(const std::string& text);
Result<uint64_t> ReadMemTotalBytes(Env* env);
// MemAvailable (memory a new process can use without swapping), in bytes.
Result<uint64_t> ParseMemAvailableBytes(const std::string& text);
Result<uint64_t> ReadMemAvailableBytes(Env* env);

// One /proc/<pid>/stat line. The command name (field 2) may contain spaces
// and parentheses, so parsing starts after the LAST ')'.
struct ProcStat {
  int pid = 0;
  int ppid = 0;
  uint64_t utime = 0;   // ticks
  uint64_t stime = 0;   // ticks
  uint64_t cutime = 0;  // ticks of waited-for children
  uint64_t cstime = 0;
};
Result<ProcStat> ParsePidStat(const std::string& text);

// CPU ticks of a process tree: utime+stime+cutime+cstime of `pid` and of
// every live descendant (found by scanning /proc/*/stat for ppid links).
// cutime/cstime add children that already exited and were waited for, so a
// tree whose workers come and go is still counted. Processes that vanish
// during the scan are skipped. NotFound when `pid` itself does not exist.
Result<uint64_t> ReadProcessTreeCpuTicks(Env* env, int pid);

// Byte counters of /proc/net/dev (the whole network namespace): every
// interface but "lo" summed, and "lo" apart.
struct NetBytes {
  uint64_t rx = 0, tx = 0;        // all interfaces but lo
  uint64_t lo_rx = 0, lo_tx = 0;  // loopback
};
// Corruption when no interface line parses.
Result<NetBytes> ParseNetDev(const std::string& text);
Result<NetBytes> ReadNetDev(Env* env);

// read_bytes / write_bytes of /proc/<pid>/io: bytes the process caused to be
// fetched from or sent to storage (page-cache hits are not reads).
struct IoBytes {
  uint64_t read = 0, write = 0;
};
Result<IoBytes> ParsePidIo(const std::string& text);
// Summed over `pid` and its live descendants (ppid links of /proc/*/stat);
// vanished or unreadable descendants are skipped. NotFound / PermissionDenied
// when `pid`'s own file cannot be read.
Result<IoBytes> ReadProcessTreeIoBytes(Env* env, int pid);

}  // namespace wattlab
