// rapl-powercap against fixture trees: a 2-socket Intel machine with every
// zone kind and an intel-rapl-mmio duplicate, an AMD machine, a counter just
// below its range, and a root-only energy_uj injected through a ForwardingEnv
// (tests run as root, so chmod would not stop them).
#include "meter/powercap.h"

#include <gtest/gtest.h>

#include "meter/sources.h"
#include "rapl_testing.h"

namespace wattlab {
namespace {

using namespace rapl_testing;

TEST(PowercapTest, Intel2SocketDomainsRangesAndJoules) {
  auto env = EnvAt(FixturesDir() / "intel-2s");
  ProbeResult r = ProbePowercap(env.get(), MeterOptions{});
  ASSERT_TRUE(r.attempt.available) << r.attempt.reason;
  ASSERT_NE(r.source, nullptr);
  EXPECT_EQ(r.attempt.source, "rapl-powercap");
  EXPECT_EQ(r.source->name(), "rapl-powercap");
  const auto& ds = r.source->domains();
  EXPECT_EQ(DomainNames(ds), (Names{"package-0", "core-0", "uncore-0", "dram-0", "package-1", "core-1",
                                    "uncore-1", "dram-1", "psys"}));
  EXPECT_EQ(DomainNames(r.attempt.domains), DomainNames(ds));

  EXPECT_EQ(ReadOnce(*r.source), (Joules{123.456789, 50.0, 1.0, 20.0, 223.456789, 60.0, 2.0, 30.0, 500.0}));

  const DomainInfo* pkg = FindDomain(ds, "package-0");
  EXPECT_EQ(pkg->component, Component::kCpu);
  EXPECT_TRUE(pkg->in_total);
  EXPECT_TRUE(pkg->is_counter);
  EXPECT_FALSE(pkg->estimated);
  EXPECT_EQ(pkg->source, "rapl-powercap");
  EXPECT_DOUBLE_EQ(pkg->max_energy_range_j, 262143.32885);
  for (const char* nested : {"core-0", "uncore-0", "core-1", "uncore-1"}) {
    const DomainInfo* d = FindDomain(ds, nested);
    EXPECT_FALSE(d->in_total) << nested;
    EXPECT_EQ(d->component, Component::kCpu) << nested;
  }
  EXPECT_TRUE(Contains(FindDomain(ds, "core-1")->note, "nested in package-1"));
  const DomainInfo* dram = FindDomain(ds, "dram-1");
  EXPECT_EQ(dram->component, Component::kDram);
  EXPECT_TRUE(dram->in_total);
  EXPECT_DOUBLE_EQ(dram->max_energy_range_j, 65712.999613);
  const DomainInfo* psys = FindDomain(ds, "psys");
  EXPECT_EQ(psys->component, Component::kPlatform);
  EXPECT_FALSE(psys->in_total);
  EXPECT_TRUE(Contains(psys->note, "not summed"));

  // Counters are good at 1 ms (powercap updates about every millisecond).
  EXPECT_LE(r.source->min_interval(), std::chrono::milliseconds(1));

  // intel-rapl-mmio:0 is package-0 again: reported, never a second domain.
  EXPECT_TRUE(Contains(FindFact(r.source->Facts(), "intel-rapl-mmio:0.skipped"), "duplicates package-0"));
}

TEST(PowercapTest, PowerLimitsAreFacts) {
  auto env = EnvAt(FixturesDir() / "intel-2s");
  ProbeResult r = ProbePowercap(env.get(), MeterOptions{});
  ASSERT_TRUE(r.attempt.available);
  const auto facts = r.source->Facts();
  EXPECT_EQ(FindFact(facts, "package-0.constraint_0_name"), "long_term");
  EXPECT_EQ(FindFact(facts, "package-0.constraint_0_power_limit_w"), "350");
  EXPECT_EQ(FindFact(facts, "package-0.constraint_0_time_window_s"), "0.999424");
  EXPECT_EQ(FindFact(facts, "package-0.constraint_0_max_power_w"), "350");
  EXPECT_EQ(FindFact(facts, "package-0.constraint_1_name"), "short_term");
  EXPECT_EQ(FindFact(facts, "package-0.constraint_1_power_limit_w"), "420");
  EXPECT_EQ(FindFact(facts, "package-0.constraint_1_time_window_s"), "0.00244");
  EXPECT_EQ(FindFact(facts, "package-1.constraint_0_power_limit_w"), "350");
  EXPECT_EQ(FindFact(facts, "package-0.zone"), "intel-rapl:0");
  EXPECT_EQ(FindFact(facts, "dram-1.zone"), "intel-rapl:1:2");
  EXPECT_EQ(r.attempt.facts, facts);
}

TEST(PowercapTest, IncludePsysSumsPsysInsteadOfPackagesAndDram) {
  auto env = EnvAt(FixturesDir() / "intel-2s");
  MeterOptions o;
  o.include_psys = true;
  ProbeResult r = ProbePowercap(env.get(), o);
  ASSERT_TRUE(r.attempt.available);
  std::vector<std::string> summed;
  for (const DomainInfo& d : r.source->domains())
    if (d.in_total) summed.push_back(d.name);
  EXPECT_EQ(summed, (Names{"psys"}));
  EXPECT_TRUE(Contains(FindDomain(r.source->domains(), "package-0")->note, "covered by psys"));
}

TEST(PowercapTest, CountersAreReadAgainFromOpenFiles) {
  TempDir tmp;
  CopyFixture("intel-2s", tmp.path());
  auto env = EnvAt(tmp.path());
  ProbeResult r = ProbePowercap(env.get(), MeterOptions{});
  ASSERT_TRUE(r.attempt.available);
  auto zones = tmp.path() / "sys/class/powercap";
  WriteText(zones / "intel-rapl:0/energy_uj", "128456789\n");   // +5 J
  WriteText(zones / "intel-rapl:0:2/energy_uj", "22000000\n");  // +2 J
  auto v = ReadOnce(*r.source);
  EXPECT_DOUBLE_EQ(v[0], 128.456789);
  EXPECT_DOUBLE_EQ(v[3], 22.0);
  EXPECT_NEAR(v[0] - 123.456789, 5.0, 1e-12);
}

TEST(PowercapTest, CounterJustBelowItsRangeWraps) {
  TempDir tmp;
  CopyFixture("rapl-wrap", tmp.path());
  auto env = EnvAt(tmp.path());
  ProbeResult r = ProbePowercap(env.get(), MeterOptions{});
  ASSERT_TRUE(r.attempt.available) << r.attempt.reason;
  ASSERT_EQ(DomainNames(r.source->domains()), (Names{"package-0"}));
  const double max_j = r.source->domains()[0].max_energy_range_j;
  EXPECT_DOUBLE_EQ(max_j, 262143.32885);
  const double before = ReadOnce(*r.source)[0];
  EXPECT_DOUBLE_EQ(before, 262143.328);
  WriteText(tmp.path() / "sys/class/powercap/intel-rapl:0/energy_uj", "1000000\n");
  const double after = ReadOnce(*r.source)[0];
  EXPECT_DOUBLE_EQ(after, 1.0);
  // The raw counter went down: the sampler's (max - prev) + cur gives 1.00085 J.
  EXPECT_LT(after, before);
  EXPECT_NEAR((max_j - before) + after, 1.00085, 1e-9);
}

TEST(PowercapTest, RootOnlyEnergyUjNamesTheCveAndTheWayOut) {
  auto real = EnvAt(FixturesDir() / "intel-2s");
  HookEnv env(real.get());
  env.deny_path = [](const std::string& p) {
    return p.find("energy_uj") != std::string::npos ? Denied(p) : Status::Ok();
  };
  ProbeResult r = ProbePowercap(&env, MeterOptions{});
  EXPECT_FALSE(r.attempt.available);
  EXPECT_EQ(r.source, nullptr);
  EXPECT_TRUE(Contains(r.attempt.reason, "CVE-2020-8694"));
  EXPECT_TRUE(Contains(r.attempt.reason, "intel-rapl:0/energy_uj"));
  EXPECT_TRUE(Contains(r.attempt.hint, "root"));
  EXPECT_TRUE(Contains(r.attempt.hint, "chmod"));
  EXPECT_TRUE(Contains(r.attempt.hint, "udev"));
  EXPECT_TRUE(Contains(r.attempt.hint, "perf_event_paranoid"));
  EXPECT_TRUE(Contains(r.attempt.hint, "cap_perfmon"));
}

TEST(PowercapTest, AmdPackagesAndCoreSubzone) {
  auto env = EnvAt(FixturesDir() / "amd");
  ProbeResult r = ProbePowercap(env.get(), MeterOptions{});
  ASSERT_TRUE(r.attempt.available) << r.attempt.reason;
  EXPECT_EQ(DomainNames(r.source->domains()), (Names{"package-0", "core-0", "package-1"}));
  EXPECT_EQ(ReadOnce(*r.source), (Joules{4000.0, 1500.0, 5000.0}));
  EXPECT_FALSE(FindDomain(r.source->domains(), "core-0")->in_total);
  EXPECT_DOUBLE_EQ(FindDomain(r.source->domains(), "package-1")->max_energy_range_j, 65535.999984);
}

TEST(PowercapTest, MmioPackageIsUsedWhenItIsTheOnlyOne) {
  TempDir tmp;
  CopyFixture("intel-2s", tmp.path());
  auto zones = tmp.path() / "sys/class/powercap";
  for (const auto& e : fs::directory_iterator(zones))
    if (e.path().filename().string().rfind("intel-rapl:", 0) == 0) fs::remove_all(e.path());
  auto env = EnvAt(tmp.path());
  ProbeResult r = ProbePowercap(env.get(), MeterOptions{});
  ASSERT_TRUE(r.attempt.available) << r.attempt.reason;
  ASSERT_EQ(DomainNames(r.source->domains()), (Names{"package-0"}));
  EXPECT_TRUE(Contains(r.source->domains()[0].note, "intel-rapl-mmio"));
  EXPECT_EQ(ReadOnce(*r.source), (Joules{123.456789}));
}

TEST(PowercapTest, NoPowercapClassSaysWhatToDo) {
  TempDir tmp;
  auto env = EnvAt(tmp.path());
  ProbeResult r = ProbePowercap(env.get(), MeterOptions{});
  EXPECT_FALSE(r.attempt.available);
  EXPECT_EQ(r.source, nullptr);
  EXPECT_TRUE(Contains(r.attempt.reason, "no powercap"));
  EXPECT_TRUE(Contains(r.attempt.hint, "modprobe intel_rapl_msr"));
}

TEST(PowercapTest, EmptyPowercapClassHasNoZones) {
  TempDir tmp;
  WriteText(tmp.path() / "sys/class/powercap/intel-rapl/enabled", "1\n");
  auto env = EnvAt(tmp.path());
  ProbeResult r = ProbePowercap(env.get(), MeterOptions{});
  EXPECT_FALSE(r.attempt.available);
  EXPECT_TRUE(Contains(r.attempt.reason, "no readable RAPL zones"));
}

TEST(PowercapTest, GarbageCounterIsReportedNotZero) {
  TempDir tmp;
  CopyFixture("rapl-wrap", tmp.path());
  auto energy = tmp.path() / "sys/class/powercap/intel-rapl:0/energy_uj";
  WriteText(energy, "12x4\n");
  auto env = EnvAt(tmp.path());
  ProbeResult r = ProbePowercap(env.get(), MeterOptions{});
  EXPECT_FALSE(r.attempt.available);
  EXPECT_TRUE(Contains(r.attempt.reason, "energy_uj"));
  EXPECT_TRUE(Contains(r.attempt.reason, "Corruption"));

  // Garbage appearing after the probe fails the read instead of a silent zero.
  WriteText(energy, "5\n");
  r = ProbePowercap(env.get(), MeterOptions{});
  ASSERT_TRUE(r.attempt.available);
  WriteText(energy, "oops\n");
  std::vector<Reading> out(1);
  Status st = r.source->Read(out);
  EXPECT_EQ(st.kind(), Status::Kind::kCorruption);
  EXPECT_TRUE(Contains(st.message(), "rapl-powercap"));
}

TEST(PowercapTest, ZoneWithoutEnergyFileIsSkippedAndNoted) {
  TempDir tmp;
  CopyFixture("intel-2s", tmp.path());
  fs::remove(tmp.path() / "sys/class/powercap/intel-rapl:1:1/energy_uj");
  auto env = EnvAt(tmp.path());
  ProbeResult r = ProbePowercap(env.get(), MeterOptions{});
  ASSERT_TRUE(r.attempt.available);
  EXPECT_EQ(FindDomain(r.source->domains(), "uncore-1"), nullptr);
  EXPECT_EQ(FindFact(r.source->Facts(), "intel-rapl:1:1.skipped"), "no energy_uj");
}

TEST(PowercapTest, ZonesListedInNumericOrder) {
  TempDir tmp;
  for (int i : {0, 2, 10}) {
    auto dir = tmp.path() / ("sys/class/powercap/intel-rapl:" + std::to_string(i));
    WriteText(dir / "name", "package-" + std::to_string(i) + "\n");
    WriteText(dir / "energy_uj", "1\n");
  }
  auto env = EnvAt(tmp.path());
  auto zones = ListPowercapZones(env.get());
  ASSERT_TRUE(zones.ok());
  std::vector<std::string> ids;
  for (auto& z : *zones) ids.push_back(z.id);
  EXPECT_EQ(ids, (Names{"intel-rapl:0", "intel-rapl:2", "intel-rapl:10"}));
}

}  // namespace
}  // namespace wattlab
