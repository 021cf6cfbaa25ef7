// Detection choice rules with fake probe results: counter over model,
// powercap > perf > msr, hwmon and the estimate only for what nothing else
// covers, never two sources for one component, every attempt kept.
#include "meter/detect.h"

#include <gtest/gtest.h>

#include <cmath>

#include "meter_fakes.h"
#include "platform/real_env.h"

namespace wattlab {
namespace {

using testing::Dom;
using testing::FakeSource;

class DetectTest : public ::testing::Test {
 protected:
  DetectTest() : env_(NewRealEnv()) {}
  ProbeResult Available(const std::string& name, std::vector<FakeSource::Domain> domains) {
    ProbeResult r;
    r.attempt.source = name;
    r.attempt.available = true;
    r.source = std::make_unique<FakeSource>(env_.get(), name, std::move(domains));
    r.attempt.domains = r.source->domains();
    return r;
  }
  ProbeResult Missing(const std::string& name, const std::string& reason) {
    ProbeResult r;
    r.attempt.source = name;
    r.attempt.reason = reason;
    return r;
  }
  static const SourceAttempt& Find(const DetectionReport& rep, const std::string& name) {
    for (const auto& a : rep.attempts)
      if (a.source == name) return a;
    static SourceAttempt none;
    ADD_FAILURE() << "no attempt " << name;
    return none;
  }
  static std::vector<std::string> ChosenNames(const DetectionReport& rep) {
    std::vector<std::string> v;
    for (const auto& s : rep.chosen) v.push_back(s->name());
    return v;
  }
  std::unique_ptr<Env> env_;
};

TEST_F(DetectTest, PowercapWinsAndOthersFillTheGaps) {
  std::vector<ProbeResult> p;
  p.push_back(Available("rapl-powercap", {{Dom("package-0", Component::kCpu)},
                                          {Dom("core-0", Component::kCpu, true, 0, false)},
                                          {Dom("dram-0", Component::kDram)}}));
  p.push_back(
      Available("rapl-perf", {{Dom("package-0", Component::kCpu)}, {Dom("dram-0", Component::kDram)}}));
  p.push_back(Available("rapl-msr", {{Dom("package-0", Component::kCpu)}}));
  p.push_back(
      Available("hwmon", {{Dom("Esocket0", Component::kCpu)}, {Dom("board", Component::kOther, false)}}));
  p.push_back(Available("nvml", {{Dom("gpu-0", Component::kGpu)}}));
  p.push_back(Available("estimate", {{Dom("cpu", Component::kCpu, false, 0, true, true)},
                                     {Dom("dram", Component::kDram, false, 0, true, true)}}));
  DetectionReport rep = ChooseSources(std::move(p), MeterOptions{});
  ASSERT_EQ(rep.attempts.size(), 6u);
  EXPECT_EQ(rep.attempts[0].source, "rapl-powercap");
  EXPECT_EQ(rep.attempts[5].source, "estimate");
  EXPECT_EQ(ChosenNames(rep), (std::vector<std::string>{"rapl-powercap", "hwmon", "nvml"}));
  EXPECT_TRUE(Find(rep, "rapl-powercap").chosen);
  EXPECT_FALSE(Find(rep, "rapl-perf").chosen);
  EXPECT_EQ(Find(rep, "rapl-perf").reason, "cpu, dram already measured by rapl-powercap");
  EXPECT_EQ(Find(rep, "rapl-msr").reason, "cpu already measured by rapl-powercap");
  EXPECT_TRUE(Find(rep, "hwmon").chosen);
  EXPECT_EQ(Find(rep, "hwmon").reason, "chosen for other only (cpu already measured by rapl-powercap)");
  EXPECT_FALSE(Find(rep, "estimate").chosen);
  EXPECT_TRUE(Find(rep, "estimate").available);
  // hwmon keeps only its board sensor.
  ASSERT_EQ(rep.chosen[1]->domains().size(), 1u);
  EXPECT_EQ(rep.chosen[1]->domains()[0].name, "board");
  EXPECT_EQ(rep.chosen[0]->domains().size(), 3u);
}

TEST_F(DetectTest, PerfWhenPowercapIsRootOnly) {
  std::vector<ProbeResult> p;
  p.push_back(Missing("rapl-powercap", "energy_uj is root-only since CVE-2020-8694"));
  p.push_back(
      Available("rapl-perf", {{Dom("package-0", Component::kCpu)}, {Dom("dram-0", Component::kDram)}}));
  p.push_back(Available("rapl-msr", {{Dom("package-0", Component::kCpu)}}));
  p.push_back(Missing("hwmon", "no energy sensors"));
  p.push_back(Missing("nvml", "no NVIDIA driver"));
  p.push_back(Available("estimate", {{Dom("cpu", Component::kCpu, false, 0, true, true)}}));
  DetectionReport rep = ChooseSources(std::move(p), MeterOptions{});
  EXPECT_EQ(ChosenNames(rep), std::vector<std::string>{"rapl-perf"});
  EXPECT_FALSE(Find(rep, "rapl-powercap").available);
  EXPECT_EQ(Find(rep, "rapl-powercap").reason, "energy_uj is root-only since CVE-2020-8694");
  EXPECT_EQ(Find(rep, "rapl-msr").reason, "cpu already measured by rapl-perf");
}

TEST_F(DetectTest, GpuMachineWithoutRaplGetsNvmlPlusEstimate) {
  std::vector<ProbeResult> p;
  p.push_back(Missing("rapl-powercap", "no powercap zones"));
  p.push_back(Missing("rapl-perf", "no power PMU"));
  p.push_back(Missing("rapl-msr", "no msr device"));
  p.push_back(Missing("hwmon", "no energy sensors"));
  p.push_back(Available("nvml", {{Dom("gpu-0", Component::kGpu)}, {Dom("gpu-1", Component::kGpu)}}));
  p.push_back(Available("estimate", {{Dom("cpu", Component::kCpu, false, 0, true, true)},
                                     {Dom("dram", Component::kDram, false, 0, true, true)}}));
  DetectionReport rep = ChooseSources(std::move(p), MeterOptions{});
  EXPECT_EQ(ChosenNames(rep), (std::vector<std::string>{"nvml", "estimate"}));
  EXPECT_EQ(rep.chosen[1]->domains().size(), 2u);
  EXPECT_TRUE(Find(rep, "estimate").reason.empty());
}

TEST_F(DetectTest, EstimateOnlyForTheMissingComponent) {
  std::vector<ProbeResult> p;
  p.push_back(Available("rapl-powercap", {{Dom("package-0", Component::kCpu)}}));
  p.push_back(Available("estimate", {{Dom("cpu", Component::kCpu, false, 0, true, true), 30.0},
                                     {Dom("dram", Component::kDram, false, 0, true, true), 6.0}}));
  DetectionReport rep = ChooseSources(std::move(p), MeterOptions{});
  ASSERT_EQ(rep.chosen.size(), 2u);
  EXPECT_EQ(Find(rep, "estimate").reason, "chosen for dram only (cpu already measured by rapl-powercap)");
  // The subset source reads the whole estimate and hands on only dram.
  ASSERT_EQ(rep.chosen[1]->domains().size(), 1u);
  EXPECT_EQ(rep.chosen[1]->domains()[0].name, "dram");
  EXPECT_EQ(rep.chosen[1]->name(), "estimate");
  std::vector<Reading> out(1);
  ASSERT_TRUE(rep.chosen[1]->Read(out).ok());
  EXPECT_DOUBLE_EQ(out[0].power_w.value_or(NAN), 6.0);
  EXPECT_EQ(rep.chosen[1]->Facts().size(), 1u);
}

TEST_F(DetectTest, NothingAvailableMeansNothingChosen) {
  std::vector<ProbeResult> p;
  p.push_back(Missing("rapl-powercap", "no powercap zones"));
  p.push_back(Missing("estimate", ""));
  DetectionReport rep = ChooseSources(std::move(p), MeterOptions{});
  EXPECT_TRUE(rep.chosen.empty());
  EXPECT_EQ(rep.attempts.size(), 2u);
  EXPECT_EQ(rep.attempts[1].reason, "not available");
}

TEST_F(DetectTest, AvailableWithoutASourceIsNotAvailable) {
  std::vector<ProbeResult> p;
  ProbeResult r;
  r.attempt.source = "hwmon";
  r.attempt.available = true;  // a probe bug: claims available, returns no source
  p.push_back(std::move(r));
  DetectionReport rep = ChooseSources(std::move(p), MeterOptions{});
  EXPECT_FALSE(rep.attempts[0].available);
  EXPECT_TRUE(rep.chosen.empty());
}

TEST_F(DetectTest, RejectsInvalidOptions) {
  MeterOptions o;
  o.interval = std::chrono::nanoseconds(0);
  EXPECT_EQ(DetectSources(env_.get(), o).status().kind(), Status::Kind::kInvalidArgument);
  EXPECT_EQ(ComponentName(Component::kDram), std::string("dram"));
  EXPECT_EQ(ComponentName(Component::kPlatform), std::string("platform"));
}

}  // namespace
}  // namespace wattlab
