// What the sampler thread costs: the share of one core it uses, and the rate
// it achieves per domain, running the real Sampler over the real
// rapl-powercap source on tests/fixtures/intel-2s (2 sockets: package, core,
// uncore and dram of each, and psys: 9 counter files, each kept open and
// pread per reading).
//
// CPU time is the sampler thread's own CPU clock (the clock
// pthread_getcpuclockid gives for that thread, built here from its kernel
// thread id, found by its name "wattlab-sampler" under /proc/self/task),
// read while the sampler runs, from one second after Start (the first
// reading and the thread's start-up are left out) to just before Stop. Other
// load on the machine changes how long the thread waits, not the CPU time it
// uses, so the figure is mostly insensitive to a busy machine; wake-up and
// scheduling costs still grow somewhat on a contended VM.
//
// The achieved rate per domain counts the readings each domain actually got
// over the same span (a counting wrapper around the source), divided by the
// wall time.
//
// --floor also runs, after each sampler run and for as long, the floor a
// sampler cannot go below on this machine: a bare thread that sleeps to the
// same absolute grid (clock_nanosleep, TIMER_ABSTIME), reads the clock once
// and preads the in-total domains' energy_uj files, nothing else, skipping
// missed slots by the same rule. Its CPU share and rate are what the kernel's
// wake-ups and the machine's scheduling latency cost by themselves.
//
// Usage: bench_sampler [--seconds S] [--hz 1000,10] [--fixture DIR] [--floor] [--json]
// Defaults: 60 s per rate, 1 kHz then 10 Hz, the intel-2s fixture. Issue 11's
// targets: < 2 % of one core at 1 kHz, < 0.05 % at 10 Hz, and an achieved
// rate >= 95 % of the requested one for the in-total domains.
#include <dirent.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "meter/sampler.h"
#include "meter/sources.h"
#include "platform/real_env.h"

namespace {

using namespace wattlab;

// The kernel's encoding of a thread's CPU clock (MAKE_THREAD_CPUCLOCK(tid,
// CPUCLOCK_SCHED) in include/linux/posix-timers.h): exactly what glibc's
// pthread_getcpuclockid returns for that thread.
clockid_t ThreadCpuClock(pid_t tid) { return static_cast<clockid_t>((~static_cast<unsigned>(tid) << 3) | 6); }

// Kernel thread id of this process's thread called `name`; 0 when none.
pid_t FindThread(const std::string& name) {
  DIR* d = opendir("/proc/self/task");
  if (!d) return 0;
  pid_t found = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream comm(std::string("/proc/self/task/") + e->d_name + "/comm");
    std::string line;
    if (std::getline(comm, line) && line == name) {
      found = static_cast<pid_t>(std::atoi(e->d_name));
      break;
    }
  }
  closedir(d);
  return found;
}

double ClockSeconds(clockid_t c) {
  timespec ts{};
  if (clock_gettime(c, &ts) != 0) return -1;
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Forwards to a source and counts the readings each domain got.
class CountingSource : public EnergySource {
 public:
  explicit CountingSource(EnergySource* inner)
      : inner_(inner), reads_(std::make_unique<std::atomic<int64_t>[]>(inner->domains().size())) {}
  const std::string& name() const override { return inner_->name(); }
  const std::vector<DomainInfo>& domains() const override { return inner_->domains(); }
  std::chrono::nanoseconds min_interval() const override { return inner_->min_interval(); }
  Status Read(std::vector<Reading>& out) override {
    for (size_t i = 0; i < out.size(); ++i) reads_[i].fetch_add(1, std::memory_order_relaxed);
    return inner_->Read(out);
  }
  Status ReadDomains(const std::vector<size_t>& which, std::vector<Reading>& out) override {
    for (size_t i : which) reads_[i].fetch_add(1, std::memory_order_relaxed);
    return inner_->ReadDomains(which, out);
  }
  std::vector<int64_t> reads() const {
    std::vector<int64_t> r(inner_->domains().size());
    for (size_t i = 0; i < r.size(); ++i) r[i] = reads_[i].load(std::memory_order_relaxed);
    return r;
  }

 private:
  EnergySource* inner_;
  std::unique_ptr<std::atomic<int64_t>[]> reads_;
};

struct FloorResult {
  double cpu_s = 0, share_pct = 0, us_per_tick = 0, tick_hz = 0;
};

// The bare loop described at the top, over `paths`, for `seconds`.
FloorResult RunFloor(const std::vector<std::string>& paths, int hz, double seconds) {
  FloorResult r;
  std::atomic<bool> stop{false};
  int64_t ticks = 0;
  std::thread t([&] {
    std::vector<int> fds;
    for (const auto& p : paths) fds.push_back(open(p.c_str(), O_RDONLY));
    const int64_t period_ns = 1000000000LL / hz;
    timespec c0{}, c1{}, now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t next = now.tv_sec * 1000000000LL + now.tv_nsec + period_ns;
    char buf[32];
    while (!stop.load(std::memory_order_relaxed)) {
      timespec ts{static_cast<time_t>(next / 1000000000LL), static_cast<long>(next % 1000000000LL)};
      clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
      clock_gettime(CLOCK_MONOTONIC, &now);
      const int64_t n = now.tv_sec * 1000000000LL + now.tv_nsec;
      for (int fd : fds) (void)!pread(fd, buf, sizeof buf, 0);
      ++ticks;
      next += period_ns;
      if (next <= n) next += ((n - next) / period_ns + 1) * period_ns;
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    r.cpu_s =
        static_cast<double>(c1.tv_sec - c0.tv_sec) + 1e-9 * static_cast<double>(c1.tv_nsec - c0.tv_nsec);
    for (int fd : fds) close(fd);
  });
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  t.join();
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.share_pct = 100.0 * r.cpu_s / wall_s;
  r.tick_hz = static_cast<double>(ticks) / wall_s;
  r.us_per_tick = ticks > 0 ? 1e6 * r.cpu_s / static_cast<double>(ticks) : 0;
  return r;
}

struct RateResult {
  int hz = 0;
  double wall_s = 0, cpu_s = 0, share_pct = 0, us_per_tick = 0, tick_hz = 0;
  std::vector<DomainInfo> domains;
  std::vector<double> achieved_hz;
  std::vector<std::string> in_total_files;  // for the floor
};

bool RunRate(Env* env, int hz, double seconds, RateResult& out) {
  MeterOptions options;
  options.interval = std::chrono::nanoseconds(1000000000LL / hz);
  ProbeResult probe = ProbePowercap(env, options);
  if (!probe.source) {
    std::fprintf(stderr, "rapl-powercap fixture not usable: %s\n", probe.attempt.reason.c_str());
    return false;
  }
  for (const DomainInfo& d : probe.source->domains()) {
    if (!d.in_total) continue;
    for (const auto& [key, zone] : probe.source->Facts())
      if (key == d.name + ".zone")
        out.in_total_files.push_back(env->Resolve("/sys/class/powercap/" + zone + "/energy_uj"));
  }
  CountingSource counting(probe.source.get());
  Sampler sampler(env, {&counting}, options.interval, options.timeline_capacity);
  if (Status st = sampler.Start(); !st.ok()) {
    std::fprintf(stderr, "sampler did not start: %s\n", st.ToString().c_str());
    return false;
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));  // past the start-up
  const pid_t tid = FindThread("wattlab-sampler");
  if (tid == 0) {
    std::fprintf(stderr, "no thread named wattlab-sampler\n");
    return false;
  }
  const clockid_t clock = ThreadCpuClock(tid);
  const auto reads0 = counting.reads();
  const int64_t ticks0 = sampler.ticks();
  const double cpu0 = ClockSeconds(clock);
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const double cpu1 = ClockSeconds(clock);
  const auto t1 = std::chrono::steady_clock::now();
  const int64_t ticks1 = sampler.ticks();
  const auto reads1 = counting.reads();
  if (Status st = sampler.Stop(); !st.ok()) {
    std::fprintf(stderr, "sampler error: %s\n", st.ToString().c_str());
    return false;
  }
  if (cpu0 < 0 || cpu1 < 0) {
    std::fprintf(stderr, "cannot read the sampler thread's CPU clock\n");
    return false;
  }
  out.hz = hz;
  out.wall_s = std::chrono::duration<double>(t1 - t0).count();
  out.cpu_s = cpu1 - cpu0;
  out.share_pct = 100.0 * out.cpu_s / out.wall_s;
  out.tick_hz = static_cast<double>(ticks1 - ticks0) / out.wall_s;
  out.us_per_tick = ticks1 > ticks0 ? 1e6 * out.cpu_s / static_cast<double>(ticks1 - ticks0) : 0;
  out.domains = sampler.domains();
  for (size_t i = 0; i < reads0.size(); ++i)
    out.achieved_hz.push_back(static_cast<double>(reads1[i] - reads0[i]) / out.wall_s);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 60;
  std::vector<int> rates = {1000, 10};
  std::string fixture = std::string(WATTLAB_BENCH_FIXTURES) + "/intel-2s";
  bool json = false, floor = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seconds") {
      seconds = std::atof(value().c_str());
    } else if (a == "--hz") {
      rates.clear();
      std::string list = value();
      for (size_t p = 0; p < list.size();) {
        size_t comma = list.find(',', p);
        if (comma == std::string::npos) comma = list.size();
        rates.push_back(std::atoi(list.substr(p, comma - p).c_str()));
        p = comma + 1;
      }
    } else if (a == "--fixture") {
      fixture = value();
    } else if (a == "--floor") {
      floor = true;
    } else if (a == "--json") {
      json = true;
    } else {
      std::fprintf(stderr, "usage: %s [--seconds S] [--hz 1000,10] [--fixture DIR] [--floor] [--json]\n",
                   argv[0]);
      return 2;
    }
  }
  if (seconds <= 0 || rates.empty()) return 2;
  for (int hz : rates)
    if (hz <= 0 || hz > 1000000) return 2;

  Roots roots;
  roots.sysfs = fixture + "/sys";
  roots.proc = fixture + "/proc";
  auto env = NewRealEnv(roots);
  bool ok = true;
  for (int hz : rates) {
    RateResult r;
    if (!RunRate(env.get(), hz, seconds, r)) {
      ok = false;
      continue;
    }
    if (json) {
      std::printf(
          "{\"hz\": %d, \"seconds\": %.3f, \"cpu_s\": %.6f, \"cpu_share_pct\": %.4f, "
          "\"cpu_us_per_tick\": %.2f, \"tick_hz\": %.2f, \"domains\": [",
          r.hz, r.wall_s, r.cpu_s, r.share_pct, r.us_per_tick, r.tick_hz);
      for (size_t i = 0; i < r.domains.size(); ++i)
        std::printf("%s{\"name\": \"%s\", \"in_total\": %s, \"achieved_hz\": %.2f}", i ? ", " : "",
                    r.domains[i].name.c_str(), r.domains[i].in_total ? "true" : "false", r.achieved_hz[i]);
      std::printf("]}\n");
    } else {
      std::printf(
          "%d Hz for %.1f s: sampler thread CPU %.4f s = %.4f %% of one core, %.2f us per tick, "
          "%.2f ticks/s\n",
          r.hz, r.wall_s, r.cpu_s, r.share_pct, r.us_per_tick, r.tick_hz);
      for (size_t i = 0; i < r.domains.size(); ++i)
        std::printf("  %-10s %-9s achieved %9.2f Hz (%.1f %%)\n", r.domains[i].name.c_str(),
                    r.domains[i].in_total ? "in-total" : "nested", r.achieved_hz[i],
                    100.0 * r.achieved_hz[i] / r.hz);
    }
    if (floor) {
      FloorResult f = RunFloor(r.in_total_files, hz, seconds);
      if (json)
        std::printf(
            "{\"hz\": %d, \"floor\": true, \"in_total_files\": %zu, \"cpu_s\": %.6f, "
            "\"cpu_share_pct\": %.4f, \"cpu_us_per_tick\": %.2f, \"tick_hz\": %.2f}\n",
            hz, r.in_total_files.size(), f.cpu_s, f.share_pct, f.us_per_tick, f.tick_hz);
      else
        std::printf(
            "  floor (bare loop, %zu preads/tick): CPU %.4f s = %.4f %% of one core, %.2f us per tick, "
            "%.2f ticks/s (%.1f %%)\n",
            r.in_total_files.size(), f.cpu_s, f.share_pct, f.us_per_tick, f.tick_hz, 100.0 * f.tick_hz / hz);
    }
    std::fflush(stdout);
  }
  return ok ? 0 : 1;
}
