// rapl-perf against fixture PMU descriptions (a laptop with all five events,
// a 2-socket server with pkg and ram); perf_event_open is faked through a
// ForwardingEnv that hands out counters the test sets.
#include "meter/perf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "meter/sources.h"
#include "platform/real_env.h"
#include "rapl_testing.h"

namespace wattlab {
namespace {

using namespace rapl_testing;

// Counters by config; records every open.
struct FakePmu {
  std::map<std::pair<uint64_t, int>, std::shared_ptr<uint64_t>> per_cpu;
  std::vector<std::tuple<uint32_t, uint64_t, int>> opened;
  std::function<Status(uint64_t config, int cpu)> fail;

  std::shared_ptr<uint64_t>& Counter(uint64_t config, int cpu) {
    auto& c = per_cpu[{config, cpu}];
    if (!c) c = std::make_shared<uint64_t>(0);
    return c;
  }
  void Install(HookEnv& env) {
    env.perf = [this](uint32_t type, uint64_t config, int cpu) -> Result<std::unique_ptr<ReadableFile>> {
      if (fail) WATTLAB_RETURN_IF_ERROR(fail(config, cpu));
      opened.emplace_back(type, config, cpu);
      return std::unique_ptr<ReadableFile>(new FakeCounterFile(
          Counter(config, cpu), "perf " + std::to_string(config) + " cpu " + std::to_string(cpu)));
    };
  }
};

constexpr double kTwoPow32 = 4294967296.0;

TEST(PerfTest, LaptopHasAllFiveEventsOnOneCpu) {
  auto real = EnvAt(FixturesDir() / "perf");
  HookEnv env(real.get());
  FakePmu pmu;
  pmu.Install(env);
  *pmu.Counter(0x02, 0) = static_cast<uint64_t>(10 * kTwoPow32);  // 10 J
  *pmu.Counter(0x01, 0) = static_cast<uint64_t>(kTwoPow32 / 2);   // 0.5 J
  *pmu.Counter(0x04, 0) = static_cast<uint64_t>(kTwoPow32 / 4);   // 0.25 J
  *pmu.Counter(0x03, 0) = static_cast<uint64_t>(3 * kTwoPow32);   // 3 J
  *pmu.Counter(0x05, 0) = static_cast<uint64_t>(20 * kTwoPow32);  // 20 J

  ProbeResult r = ProbePerf(&env, MeterOptions{});
  ASSERT_TRUE(r.attempt.available) << r.attempt.reason << " / " << r.attempt.hint;
  ASSERT_NE(r.source, nullptr);
  EXPECT_EQ(r.source->name(), "rapl-perf");
  const auto& ds = r.source->domains();
  EXPECT_EQ(DomainNames(ds), (Names{"package-0", "core-0", "uncore-0", "dram-0", "psys"}));
  EXPECT_EQ(ReadOnce(*r.source), (Joules{10.0, 0.5, 0.25, 3.0, 20.0}));
  for (auto& [type, config, cpu] : pmu.opened) {
    EXPECT_EQ(type, 24u);
    EXPECT_EQ(cpu, 0);
  }
  EXPECT_EQ(pmu.opened.size(), 5u);

  EXPECT_TRUE(FindDomain(ds, "package-0")->in_total);
  EXPECT_FALSE(FindDomain(ds, "core-0")->in_total);
  EXPECT_FALSE(FindDomain(ds, "uncore-0")->in_total);
  EXPECT_TRUE(Contains(FindDomain(ds, "core-0")->note, "nested in package-0"));
  EXPECT_EQ(FindDomain(ds, "dram-0")->component, Component::kDram);
  EXPECT_EQ(FindDomain(ds, "psys")->component, Component::kPlatform);
  EXPECT_FALSE(FindDomain(ds, "psys")->in_total);
  // 64-bit count times 2^-32 J: 2^32 J before a wrap.
  EXPECT_EQ(FindDomain(ds, "package-0")->max_energy_range_j, kTwoPow32);
  EXPECT_TRUE(FindDomain(ds, "package-0")->is_counter);
  EXPECT_LE(r.source->min_interval(), std::chrono::milliseconds(1));
  EXPECT_EQ(FindFact(r.source->Facts(), "energy-pkg.scale_j"), "2.3283064365386963e-10");

  // The counter moves; the reading follows from the same open event.
  *pmu.Counter(0x02, 0) += static_cast<uint64_t>(kTwoPow32 / 8);
  EXPECT_EQ(ReadOnce(*r.source)[0], 10.125);
}

TEST(PerfTest, IncludePsysSumsPsysOnly) {
  auto real = EnvAt(FixturesDir() / "perf");
  HookEnv env(real.get());
  FakePmu pmu;
  pmu.Install(env);
  MeterOptions o;
  o.include_psys = true;
  ProbeResult r = ProbePerf(&env, o);
  ASSERT_TRUE(r.attempt.available);
  Names summed;
  for (const DomainInfo& d : r.source->domains())
    if (d.in_total) summed.push_back(d.name);
  EXPECT_EQ(summed, (Names{"psys"}));
  EXPECT_EQ(r.attempt.domains[0].in_total, false);  // the attempt shows the same flags
}

TEST(PerfTest, TwoSocketsOneCpuEachFromCpumask) {
  auto real = EnvAt(FixturesDir() / "intel-2s");
  HookEnv env(real.get());
  FakePmu pmu;
  pmu.Install(env);
  *pmu.Counter(0x02, 0) = static_cast<uint64_t>(100 * kTwoPow32);
  *pmu.Counter(0x02, 2) = static_cast<uint64_t>(200 * kTwoPow32);
  *pmu.Counter(0x03, 0) = 16384;  // 16384 * 2^-14 = 1 J
  *pmu.Counter(0x03, 2) = 32768;  // 2 J

  ProbeResult r = ProbePerf(&env, MeterOptions{});
  ASSERT_TRUE(r.attempt.available) << r.attempt.reason;
  EXPECT_EQ(DomainNames(r.source->domains()), (Names{"package-0", "package-1", "dram-0", "dram-1"}));
  EXPECT_EQ(ReadOnce(*r.source), (Joules{100.0, 200.0, 1.0, 2.0}));
  std::set<int> cpus;
  for (auto& [type, config, cpu] : pmu.opened) {
    EXPECT_EQ(type, 23u);
    cpus.insert(cpu);
  }
  EXPECT_EQ(cpus, (std::set<int>{0, 2}));
  EXPECT_EQ(FindFact(r.source->Facts(), "cpus"), "package-0:cpu0,package-1:cpu2");
  EXPECT_EQ(FindDomain(r.source->domains(), "dram-1")->max_energy_range_j, std::ldexp(1.0, 50));
}

TEST(PerfTest, WithoutCpumaskTopologyPicksOneCpuPerPackage) {
  TempDir tmp;
  CopyFixture("intel-2s", tmp.path());
  fs::remove(tmp.path() / "sys/bus/event_source/devices/power/cpumask");
  auto real = EnvAt(tmp.path());
  HookEnv env(real.get());
  FakePmu pmu;
  pmu.Install(env);
  ProbeResult r = ProbePerf(&env, MeterOptions{});
  ASSERT_TRUE(r.attempt.available) << r.attempt.reason;
  EXPECT_EQ(FindFact(r.source->Facts(), "cpus"), "package-0:cpu0,package-1:cpu2");
}

TEST(PerfTest, PermissionDeniedNamesParanoidAndCapPerfmon) {
  auto real = EnvAt(FixturesDir() / "perf");
  HookEnv env(real.get());
  FakePmu pmu;
  pmu.fail = [](uint64_t, int) {
    return Status::PermissionDenied("cannot open perf_event: Permission denied");
  };
  pmu.Install(env);
  ProbeResult r = ProbePerf(&env, MeterOptions{});
  EXPECT_FALSE(r.attempt.available);
  EXPECT_EQ(r.source, nullptr);
  EXPECT_TRUE(Contains(r.attempt.reason, "kernel.perf_event_paranoid = 2"));
  EXPECT_TRUE(Contains(r.attempt.hint, "sysctl kernel.perf_event_paranoid=0"));
  EXPECT_TRUE(Contains(r.attempt.hint, "cap_perfmon"));
}

TEST(PerfTest, NoPowerPmu) {
  TempDir tmp;
  auto real = EnvAt(tmp.path());
  HookEnv env(real.get());
  ProbeResult r = ProbePerf(&env, MeterOptions{});
  EXPECT_FALSE(r.attempt.available);
  EXPECT_TRUE(Contains(r.attempt.reason, "no power PMU"));
  EXPECT_FALSE(r.attempt.hint.empty());
}

TEST(PerfTest, UnsupportedEventIsSkippedOthersKept) {
  auto real = EnvAt(FixturesDir() / "perf");
  HookEnv env(real.get());
  FakePmu pmu;
  pmu.fail = [](uint64_t config, int) {
    return config == 0x04 ? Status::NotSupported("cannot open: Invalid argument") : Status::Ok();
  };
  pmu.Install(env);
  ProbeResult r = ProbePerf(&env, MeterOptions{});
  ASSERT_TRUE(r.attempt.available);
  EXPECT_EQ(DomainNames(r.source->domains()), (Names{"package-0", "core-0", "dram-0", "psys"}));
  EXPECT_TRUE(Contains(FindFact(r.source->Facts(), "energy-gpu.skipped"), "Invalid argument"));
}

TEST(PerfTest, PackageEventFailingIsUnavailable) {
  auto real = EnvAt(FixturesDir() / "perf");
  HookEnv env(real.get());
  FakePmu pmu;
  pmu.fail = [](uint64_t config, int) {
    return config == 0x02 ? Status::IOError("cannot open: No such device") : Status::Ok();
  };
  pmu.Install(env);
  ProbeResult r = ProbePerf(&env, MeterOptions{});
  EXPECT_FALSE(r.attempt.available);
  EXPECT_TRUE(Contains(r.attempt.reason, "energy-pkg"));
}

TEST(PerfTest, PmuDescribedButNotInThisKernel) {
  // A --sysfs-root tree from another machine describes a PMU the running
  // kernel does not have: perf_event_open says ENOENT.
  auto real = EnvAt(FixturesDir() / "intel-2s");
  HookEnv env(real.get());  // no perf hook: every open is NotFound
  ProbeResult r = ProbePerf(&env, MeterOptions{});
  EXPECT_FALSE(r.attempt.available);
  EXPECT_TRUE(Contains(r.attempt.reason, "energy-pkg"));
  EXPECT_TRUE(Contains(r.attempt.hint, "--sysfs-root"));
}

TEST(PerfTest, WrongUnitIsRefused) {
  TempDir tmp;
  CopyFixture("perf", tmp.path());
  WriteText(tmp.path() / "sys/bus/event_source/devices/power/events/energy-ram.unit", "Watts\n");
  auto real = EnvAt(tmp.path());
  HookEnv env(real.get());
  FakePmu pmu;
  pmu.Install(env);
  ProbeResult r = ProbePerf(&env, MeterOptions{});
  ASSERT_TRUE(r.attempt.available);
  EXPECT_EQ(FindDomain(r.source->domains(), "dram-0"), nullptr);
  EXPECT_TRUE(Contains(FindFact(r.source->Facts(), "energy-ram.skipped"), "Watts"));
}

// The real Env's perf files: perf_event fds refuse pread (ESPIPE), so the
// count must come through read(2). A software event stands in for the power
// PMU this machine lacks (type 1 = PERF_TYPE_SOFTWARE, config 0 = cpu-clock).
TEST(PerfTest, RealPerfEventFileReadsItsCount) {
  auto env = NewRealEnv();
  auto file = env->OpenPerfEvent(1, 0, 0);
  if (!file.ok()) {
    // Where perf_event_open is forbidden (container seccomp, paranoid > 0 for
    // non-root) the error must still say what failed.
    EXPECT_TRUE(Contains(file.status().message(), "perf_event")) << file.status().ToString();
    return;
  }
  auto first = (*file)->ReadU64(0);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = (*file)->ReadU64(0);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_GE(*second, *first);
}

TEST(PerfTest, ParsesEventConfig) {
  EXPECT_EQ(*ParsePerfEventConfig("event=0x02\n"), 0x02u);
  EXPECT_EQ(*ParsePerfEventConfig("event=5"), 5u);
  EXPECT_EQ(ParsePerfEventConfig("event=0x02,umask=0x01").status().kind(), Status::Kind::kNotSupported);
  EXPECT_FALSE(ParsePerfEventConfig("event=").ok());
  EXPECT_FALSE(ParsePerfEventConfig("event=zz").ok());
  EXPECT_FALSE(ParsePerfEventConfig("").ok());
}

}  // namespace
}  // namespace wattlab
