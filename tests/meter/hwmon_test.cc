// hwmon against fixture trees: amd_energy sockets and cores on the AMD
// machine, and GPU, ACPI power meter and board-rail sensors.
#include "meter/hwmon.h"

#include <gtest/gtest.h>

#include "meter/sources.h"
#include "rapl_testing.h"

namespace wattlab {
namespace {

using namespace rapl_testing;

TEST(HwmonTest, AmdEnergySocketsAreCpuCountersCoresSkipped) {
  auto env = EnvAt(FixturesDir() / "amd");
  ProbeResult r = ProbeHwmon(env.get(), MeterOptions{});
  ASSERT_TRUE(r.attempt.available) << r.attempt.reason;
  EXPECT_EQ(r.source->name(), "hwmon");
  const auto& ds = r.source->domains();
  EXPECT_EQ(DomainNames(ds), (Names{"package-0", "package-1"}));
  EXPECT_EQ(ReadOnce(*r.source), (Joules{4000.0, 5000.0}));
  for (const DomainInfo& d : ds) {
    EXPECT_EQ(d.component, Component::kCpu);
    EXPECT_TRUE(d.in_total);
    EXPECT_TRUE(d.is_counter);
    EXPECT_EQ(d.source, "hwmon");
    EXPECT_EQ(d.max_energy_range_j, 0.0);
  }
  EXPECT_EQ(ds[1].note, "amd_energy Esocket1");
  EXPECT_TRUE(Contains(FindFact(r.source->Facts(), "amd_energy.cores_skipped"), "4 per-core counters"));
  EXPECT_LE(r.source->min_interval(), std::chrono::milliseconds(1));
}

TEST(HwmonTest, CountersAreReadAgain) {
  TempDir tmp;
  CopyFixture("amd", tmp.path());
  auto env = EnvAt(tmp.path());
  ProbeResult r = ProbeHwmon(env.get(), MeterOptions{});
  ASSERT_TRUE(r.attempt.available);
  WriteText(tmp.path() / "sys/class/hwmon/hwmon1/energy6_input", "5000250000\n");
  EXPECT_EQ(ReadOnce(*r.source), (Joules{4000.0, 5000.25}));
}

TEST(HwmonTest, GpuPlatformAndBoardSensors) {
  auto env = EnvAt(FixturesDir() / "hwmon");
  ProbeResult r = ProbeHwmon(env.get(), MeterOptions{});
  ASSERT_TRUE(r.attempt.available) << r.attempt.reason;
  const auto& ds = r.source->domains();
  EXPECT_EQ(DomainNames(ds), (Names{"amdgpu-ppt", "power_meter-power1", "ina3221-vdd_in"}));
  // power1_average is preferred over power1_input (47 W) where both exist.
  EXPECT_EQ(ReadOnce(*r.source), (Joules{45.0, 180.5, 5.12}));
  for (const DomainInfo& d : ds) EXPECT_FALSE(d.is_counter) << d.name;

  const DomainInfo* gpu = FindDomain(ds, "amdgpu-ppt");
  EXPECT_EQ(gpu->component, Component::kGpu);
  EXPECT_TRUE(gpu->in_total);
  const DomainInfo* meter = FindDomain(ds, "power_meter-power1");
  EXPECT_EQ(meter->component, Component::kPlatform);
  EXPECT_FALSE(meter->in_total);
  EXPECT_TRUE(Contains(meter->note, "not summed"));
  const DomainInfo* rail = FindDomain(ds, "ina3221-vdd_in");
  EXPECT_EQ(rail->component, Component::kOther);
  EXPECT_FALSE(rail->in_total);
  EXPECT_TRUE(Contains(rail->note, "VDD_IN"));

  // The ACPI meter averages over 1000 ms: reading faster only repeats it.
  EXPECT_EQ(r.source->min_interval(), std::chrono::milliseconds(1000));
  EXPECT_TRUE(
      Contains(FindFact(r.source->Facts(), "power_meter-power1.file"), "hwmon2/device/power1_average"));
}

TEST(HwmonTest, PowerSensorsAloneSampleAtLeastEvery10ms) {
  TempDir tmp;
  WriteText(tmp.path() / "sys/class/hwmon/hwmon0/name", "amdgpu\n");
  WriteText(tmp.path() / "sys/class/hwmon/hwmon0/power1_input", "30000000\n");
  auto env = EnvAt(tmp.path());
  ProbeResult r = ProbeHwmon(env.get(), MeterOptions{});
  ASSERT_TRUE(r.attempt.available);
  EXPECT_EQ(DomainNames(r.source->domains()), (Names{"amdgpu-power1"}));
  EXPECT_EQ(r.source->min_interval(), std::chrono::milliseconds(10));
}

TEST(HwmonTest, SameChipTwiceGetsNumbered) {
  TempDir tmp;
  for (int i : {0, 1}) {
    auto dir = tmp.path() / ("sys/class/hwmon/hwmon" + std::to_string(i));
    WriteText(dir / "name", "amdgpu\n");
    WriteText(dir / "power1_average", std::to_string((i + 1) * 10000000) + "\n");
    WriteText(dir / "power1_label", "PPT\n");
  }
  auto env = EnvAt(tmp.path());
  ProbeResult r = ProbeHwmon(env.get(), MeterOptions{});
  ASSERT_TRUE(r.attempt.available);
  EXPECT_EQ(DomainNames(r.source->domains()), (Names{"amdgpu0-ppt", "amdgpu1-ppt"}));
  EXPECT_EQ(ReadOnce(*r.source), (Joules{10.0, 20.0}));
}

TEST(HwmonTest, RootOnlyAmdEnergyNamesTheCve) {
  auto real = EnvAt(FixturesDir() / "amd");
  HookEnv env(real.get());
  env.deny_path = [](const std::string& p) {
    return p.find("energy") != std::string::npos && p.find("_input") != std::string::npos ? Denied(p)
                                                                                          : Status::Ok();
  };
  ProbeResult r = ProbeHwmon(&env, MeterOptions{});
  EXPECT_FALSE(r.attempt.available);
  EXPECT_EQ(r.source, nullptr);
  EXPECT_TRUE(Contains(r.attempt.reason, "CVE-2020-12912"));
  EXPECT_TRUE(Contains(r.attempt.hint, "root"));
  EXPECT_TRUE(Contains(r.attempt.hint, "chmod"));
}

TEST(HwmonTest, TemperatureOnlyIsNotASource) {
  TempDir tmp;
  WriteText(tmp.path() / "sys/class/hwmon/hwmon0/name", "k10temp\n");
  WriteText(tmp.path() / "sys/class/hwmon/hwmon0/temp1_input", "40000\n");
  auto env = EnvAt(tmp.path());
  ProbeResult r = ProbeHwmon(env.get(), MeterOptions{});
  EXPECT_FALSE(r.attempt.available);
  EXPECT_TRUE(Contains(r.attempt.reason, "no readable hwmon energy or power sensors"));
}

TEST(HwmonTest, NoHwmonClass) {
  TempDir tmp;
  auto env = EnvAt(tmp.path());
  ProbeResult r = ProbeHwmon(env.get(), MeterOptions{});
  EXPECT_FALSE(r.attempt.available);
  EXPECT_TRUE(Contains(r.attempt.reason, "no hwmon class"));
}

TEST(HwmonTest, ListsSensorsInNumericOrder) {
  TempDir tmp;
  auto dir = tmp.path() / "sys/class/hwmon/hwmon0";
  WriteText(dir / "name", "amd_energy\n");
  for (int i : {1, 2, 10}) WriteText(dir / ("energy" + std::to_string(i) + "_input"), "1\n");
  auto env = EnvAt(tmp.path());
  auto sensors = ListHwmonSensors(env.get());
  ASSERT_TRUE(sensors.ok());
  std::vector<std::string> files;
  for (auto& s : *sensors) files.push_back(s.file);
  EXPECT_EQ(files, (Names{"energy1_input", "energy2_input", "energy10_input"}));
  EXPECT_EQ((*sensors)[2].label, "energy10");
}

}  // namespace
}  // namespace wattlab
