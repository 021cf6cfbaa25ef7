// CPU cost of the sampler thread: the share of one core it uses at 10 Hz,
// 100 Hz and 1 kHz, reading the rapl-powercap source over a fixture tree
// (tests/fixtures/e2e-powercap: one package + one dram counter).
//
// The sampler's CPU time is the process's CPU clock
// (CLOCK_PROCESS_CPUTIME_ID) from just after Start to just before Stop,
// divided by the wall time it ran: meanwhile the benchmark's own thread only
// sleeps, so the sampler thread is all that runs. (The sampler itself reads
// no OS clock but the Env's.) Targets (issue 2): < 0.1 % of one core at
// 10 Hz, < 2 % at 1 kHz.
//
// Run: build-bench/bench/bench_sampler [--benchmark_filter=...]
// WATTLAB_BENCH_SECONDS sets the wall time per rate (default 5 s).
#include <benchmark/benchmark.h>
#include <time.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "meter/sampler.h"
#include "meter/sources.h"
#include "platform/real_env.h"

namespace {

using namespace wattlab;

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

void BM_SamplerCpuShare(benchmark::State& state) {
  const int hz = static_cast<int>(state.range(0));
  double seconds = 5;
  if (const char* s = std::getenv("WATTLAB_BENCH_SECONDS")) seconds = std::atof(s);
  Roots roots;
  roots.sysfs = std::string(WATTLAB_BENCH_FIXTURES) + "/e2e-powercap/sys";
  auto env = NewRealEnv(roots);
  MeterOptions options;
  options.interval = std::chrono::nanoseconds(1000000000LL / hz);
  ProbeResult probe = ProbePowercap(env.get(), options);
  if (!probe.source) {
    state.SkipWithError(("rapl-powercap fixture not usable: " + probe.attempt.reason).c_str());
    return;
  }
  double share_pct = 0, achieved_hz = 0, per_tick_us = 0;
  for (auto _ : state) {
    Sampler sampler(env.get(), {probe.source.get()}, options.interval, 1 << 20);
    auto t0 = std::chrono::steady_clock::now();
    if (!sampler.Start().ok()) {
      state.SkipWithError("sampler did not start");
      return;
    }
    const double cpu0_s = ProcessCpuSeconds();
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    const double cpu_s = ProcessCpuSeconds() - cpu0_s;
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const int64_t ticks = sampler.ticks();
    (void)sampler.Stop();
    state.SetIterationTime(wall_s);
    share_pct = 100.0 * cpu_s / wall_s;
    achieved_hz = ticks / wall_s;
    per_tick_us = ticks > 0 ? 1e6 * cpu_s / ticks : 0;
  }
  state.counters["target_hz"] = hz;
  state.counters["achieved_hz"] = achieved_hz;
  state.counters["cpu_share_pct"] = share_pct;
  state.counters["cpu_us_per_tick"] = per_tick_us;
}
BENCHMARK(BM_SamplerCpuShare)
    ->Arg(10)
    ->Arg(100)
    ->Arg(1000)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
