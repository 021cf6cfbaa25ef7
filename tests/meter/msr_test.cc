// rapl-msr against /dev/cpu/N/msr files made at test time as sparse files
// (8 bytes at each register's offset, e.g. 0xC001029B), on the intel-2s and
// amd fixture trees and on a client-laptop tree built here.
#include "meter/msr.h"

#include <gtest/gtest.h>

#include <cmath>

#include "meter/sources.h"
#include "rapl_testing.h"

namespace wattlab {
namespace {

using namespace rapl_testing;

constexpr uint64_t kEsu14 = 0xA0E03;  // bits 12:8 = 14 -> 2^-14 J (61 uJ), as Intel parts report
constexpr uint64_t kEsu16 = 0xA1003;  // bits 12:8 = 16 -> 2^-16 J (15.3 uJ), as AMD Zen reports
constexpr uint64_t kJ14 = 16384;      // one joule in 2^-14 J units

void WriteIntel2sMsrs(const fs::path& root) {
  // Package 0 is read on cpu0, package 1 on cpu2; cpu1 and cpu3 hold values
  // that would show up if the source read every CPU.
  WriteMsrFile(root / "dev/cpu/0/msr", {{msr::kIntelPowerUnit, kEsu14},
                                        {msr::kIntelPkgEnergy, 100 * kJ14},
                                        {msr::kIntelPp0Energy, 40 * kJ14},
                                        {msr::kIntelDramEnergy, 1000000}});
  WriteMsrFile(root / "dev/cpu/1/msr", {{msr::kIntelPowerUnit, kEsu14}, {msr::kIntelPkgEnergy, 7 * kJ14}});
  WriteMsrFile(root / "dev/cpu/2/msr", {{msr::kIntelPowerUnit, kEsu14},
                                        {msr::kIntelPkgEnergy, 200 * kJ14},
                                        {msr::kIntelPp0Energy, 80 * kJ14},
                                        {msr::kIntelDramEnergy, 2000000}});
  WriteMsrFile(root / "dev/cpu/3/msr", {{msr::kIntelPowerUnit, kEsu14}, {msr::kIntelPkgEnergy, 9 * kJ14}});
}

TEST(MsrTest, Intel2SocketOneReadingPerPackage) {
  TempDir tmp;
  CopyFixture("intel-2s", tmp.path());
  WriteIntel2sMsrs(tmp.path());
  auto env = EnvAt(tmp.path());
  ProbeResult r = ProbeMsr(env.get(), MeterOptions{});
  ASSERT_TRUE(r.attempt.available) << r.attempt.reason << " / " << r.attempt.hint;
  EXPECT_EQ(r.source->name(), "rapl-msr");
  const auto& ds = r.source->domains();
  // No PP1 or PSYS on this server: those registers read zero, so no domain.
  EXPECT_EQ(DomainNames(ds), (Names{"package-0", "core-0", "dram-0", "package-1", "core-1", "dram-1"}));
  auto v = ReadOnce(*r.source);
  ASSERT_EQ(v.size(), 6u);
  EXPECT_EQ(v[0], 100.0);
  EXPECT_EQ(v[1], 40.0);
  EXPECT_DOUBLE_EQ(v[2], 15.3);  // Sapphire Rapids DRAM counts in 15.3 uJ whatever 0x606 says
  EXPECT_EQ(v[3], 200.0);
  EXPECT_EQ(v[4], 80.0);
  EXPECT_DOUBLE_EQ(v[5], 30.6);

  // 32-bit counters: 2^32 units before a wrap.
  EXPECT_EQ(FindDomain(ds, "package-0")->max_energy_range_j, 262144.0);
  EXPECT_DOUBLE_EQ(FindDomain(ds, "dram-1")->max_energy_range_j, 4294967296.0 * 15.3e-6);
  EXPECT_TRUE(Contains(FindDomain(ds, "dram-0")->note, "15.3 uJ"));
  EXPECT_FALSE(FindDomain(ds, "core-1")->in_total);
  EXPECT_TRUE(FindDomain(ds, "package-1")->in_total);
  EXPECT_EQ(FindDomain(ds, "dram-0")->component, Component::kDram);
  EXPECT_EQ(FindFact(r.source->Facts(), "package-0.cpu"), "0");
  EXPECT_EQ(FindFact(r.source->Facts(), "package-1.cpu"), "2");
  EXPECT_EQ(FindFact(r.source->Facts(), "energy_unit_j"), "6.103515625e-05");
  EXPECT_EQ(FindFact(r.source->Facts(), "vendor"), "GenuineIntel");
  EXPECT_LE(r.source->min_interval(), std::chrono::milliseconds(1));
}

TEST(MsrTest, ClientLaptopHasPp1AndPsys) {
  TempDir tmp;
  WriteText(tmp.path() / "proc/cpuinfo",
            "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 140\n\n"
            "processor\t: 1\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 140\n\n");
  for (int c : {0, 1})
    WriteText(
        tmp.path() / ("sys/devices/system/cpu/cpu" + std::to_string(c) + "/topology/physical_package_id"),
        "0\n");
  WriteText(tmp.path() / "sys/devices/system/cpu/online", "0-1\n");
  WriteMsrFile(tmp.path() / "dev/cpu/0/msr", {{msr::kIntelPowerUnit, kEsu14},
                                              {msr::kIntelPkgEnergy, 5 * kJ14},
                                              {msr::kIntelPp0Energy, 3 * kJ14},
                                              {msr::kIntelPp1Energy, kJ14 / 2},
                                              {msr::kIntelDramEnergy, kJ14},
                                              {msr::kIntelPsysEnergy, 30 * kJ14}});
  WriteMsrFile(tmp.path() / "dev/cpu/1/msr", {{msr::kIntelPowerUnit, kEsu14}});
  auto env = EnvAt(tmp.path());
  ProbeResult r = ProbeMsr(env.get(), MeterOptions{});
  ASSERT_TRUE(r.attempt.available) << r.attempt.reason;
  const auto& ds = r.source->domains();
  EXPECT_EQ(DomainNames(ds), (Names{"package-0", "core-0", "uncore-0", "dram-0", "psys"}));
  EXPECT_EQ(ReadOnce(*r.source), (Joules{5.0, 3.0, 0.5, 1.0, 30.0}));
  EXPECT_EQ(FindDomain(ds, "dram-0")->note, "");  // client DRAM uses the 0x606 unit
  EXPECT_EQ(FindDomain(ds, "psys")->component, Component::kPlatform);
  EXPECT_FALSE(FindDomain(ds, "psys")->in_total);
  EXPECT_FALSE(FindDomain(ds, "uncore-0")->in_total);
}

TEST(MsrTest, AmdPackageRegisters) {
  TempDir tmp;
  CopyFixture("amd", tmp.path());
  const uint64_t j16 = 65536;
  // AMD's registers are adjacent numbers, and in a file 8 bytes at offset
  // 0xC0010299 overlap 8 bytes at 0xC001029B: written in register order the
  // package value keeps the unit's low two bytes (ESU is bits 12:8) intact.
  // The per-core register 0xC001029A is not read, so it is left out.
  WriteMsrFile(tmp.path() / "dev/cpu/0/msr",
               {{msr::kAmdPowerUnit, kEsu16}, {msr::kAmdPkgEnergy, 4000 * j16}});
  WriteMsrFile(tmp.path() / "dev/cpu/1/msr", {{msr::kAmdPowerUnit, kEsu16}, {msr::kAmdPkgEnergy, 1 * j16}});
  WriteMsrFile(tmp.path() / "dev/cpu/2/msr",
               {{msr::kAmdPowerUnit, kEsu16}, {msr::kAmdPkgEnergy, 5000 * j16}});
  WriteMsrFile(tmp.path() / "dev/cpu/3/msr", {{msr::kAmdPowerUnit, kEsu16}, {msr::kAmdPkgEnergy, 1 * j16}});
  auto env = EnvAt(tmp.path());
  ProbeResult r = ProbeMsr(env.get(), MeterOptions{});
  ASSERT_TRUE(r.attempt.available) << r.attempt.reason;
  EXPECT_EQ(DomainNames(r.source->domains()), (Names{"package-0", "package-1"}));
  EXPECT_EQ(ReadOnce(*r.source), (Joules{4000.0, 5000.0}));
  EXPECT_EQ(r.source->domains()[0].max_energy_range_j, 65536.0);
  EXPECT_EQ(FindFact(r.source->Facts(), "energy_unit_j"), "1.52587890625e-05");
  EXPECT_TRUE(Contains(FindFact(r.source->Facts(), "core_energy"), "0xC001029A"));
}

TEST(MsrTest, ThirtyTwoBitCounterWraps) {
  TempDir tmp;
  CopyFixture("intel-2s", tmp.path());
  WriteIntel2sMsrs(tmp.path());
  // Upper bits are reserved: they must be masked off, not read as energy.
  WriteMsrFile(tmp.path() / "dev/cpu/0/msr",
               {{msr::kIntelPowerUnit, kEsu14}, {msr::kIntelPkgEnergy, 0xABCD0000FFFFC000ull}});
  auto env = EnvAt(tmp.path());
  ProbeResult r = ProbeMsr(env.get(), MeterOptions{});
  ASSERT_TRUE(r.attempt.available) << r.attempt.reason;
  ASSERT_EQ(r.source->domains()[0].name, "package-0");
  const double max_j = r.source->domains()[0].max_energy_range_j;
  const double before = ReadOnce(*r.source)[0];
  EXPECT_EQ(before, 262143.0);  // 2^32 - 2^14 units
  WriteMsrFile(tmp.path() / "dev/cpu/0/msr", {{msr::kIntelPowerUnit, kEsu14}, {msr::kIntelPkgEnergy, kJ14}});
  const double after = ReadOnce(*r.source)[0];
  EXPECT_EQ(after, 1.0);
  EXPECT_EQ((max_j - before) + after, 2.0);
}

TEST(MsrTest, MissingDeviceSaysModprobe) {
  auto env = EnvAt(FixturesDir() / "intel-2s");  // no dev/ in the fixture
  ProbeResult r = ProbeMsr(env.get(), MeterOptions{});
  EXPECT_FALSE(r.attempt.available);
  EXPECT_EQ(r.source, nullptr);
  EXPECT_TRUE(Contains(r.attempt.reason, "no MSR device"));
  EXPECT_TRUE(Contains(r.attempt.hint, "modprobe msr"));
}

TEST(MsrTest, PermissionDeniedSaysRootOrSetcap) {
  TempDir tmp;
  CopyFixture("intel-2s", tmp.path());
  WriteIntel2sMsrs(tmp.path());
  auto real = EnvAt(tmp.path());
  HookEnv env(real.get());
  env.deny_path = [](const std::string& p) {
    return p.find("/msr") != std::string::npos ? Denied(p) : Status::Ok();
  };
  ProbeResult r = ProbeMsr(&env, MeterOptions{});
  EXPECT_FALSE(r.attempt.available);
  EXPECT_TRUE(Contains(r.attempt.reason, "permission denied"));
  EXPECT_TRUE(Contains(r.attempt.hint, "root"));
  EXPECT_TRUE(Contains(r.attempt.hint, "cap_sys_rawio"));
}

TEST(MsrTest, UnknownVendorIsNotGuessed) {
  TempDir tmp;
  WriteText(tmp.path() / "proc/cpuinfo", "processor\t: 0\nCPU implementer\t: 0x41\n\n");
  WriteMsrFile(tmp.path() / "dev/cpu/0/msr", {{msr::kIntelPowerUnit, kEsu14}, {msr::kIntelPkgEnergy, kJ14}});
  auto env = EnvAt(tmp.path());
  ProbeResult r = ProbeMsr(env.get(), MeterOptions{});
  EXPECT_FALSE(r.attempt.available);
  EXPECT_TRUE(Contains(r.attempt.reason, "vendor"));
}

TEST(MsrTest, ZeroPackageCounterMeansNoRapl) {
  TempDir tmp;
  CopyFixture("intel-2s", tmp.path());
  WriteMsrFile(tmp.path() / "dev/cpu/0/msr", {{msr::kIntelPowerUnit, kEsu14}, {msr::kIntelDramEnergy, 5}});
  auto env = EnvAt(tmp.path());
  ProbeResult r = ProbeMsr(env.get(), MeterOptions{});
  EXPECT_FALSE(r.attempt.available);
  EXPECT_TRUE(Contains(r.attempt.reason, "0x611"));
}

TEST(MsrTest, UnitsAndServerModels) {
  EXPECT_EQ(msr::EnergyUnitJ(kEsu14), std::ldexp(1.0, -14));
  EXPECT_EQ(msr::EnergyUnitJ(kEsu16), std::ldexp(1.0, -16));
  EXPECT_EQ(msr::EnergyUnitJ(0), 1.0);
  EXPECT_TRUE(msr::IntelDramHasFixedUnit(6, 0x55));   // Skylake-X
  EXPECT_TRUE(msr::IntelDramHasFixedUnit(6, 0x8F));   // Sapphire Rapids
  EXPECT_FALSE(msr::IntelDramHasFixedUnit(6, 0x8C));  // Tiger Lake (client)
  EXPECT_FALSE(msr::IntelDramHasFixedUnit(25, 0x55));
}

}  // namespace
}  // namespace wattlab
