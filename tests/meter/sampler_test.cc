// Sampler tests with a virtual clock: exact joules, wrap correction (at 1 kHz
// too), 1 ms sampling, nested domains read less often, min_interval, edge
// samples, first error, bounded timeline.
#include "meter/sampler.h"

#include <gtest/gtest.h>

#include "meter_fakes.h"
#include "platform/real_env.h"

namespace wattlab {
namespace {

using testing::Dom;
using testing::FakeSource;
using testing::Ms;
using testing::VirtualClockEnv;

class SamplerTest : public ::testing::Test {
 protected:
  SamplerTest() : real_(NewRealEnv()), env_(real_.get()) {}
  std::unique_ptr<Env> real_;
  VirtualClockEnv env_;
};

TEST_F(SamplerTest, IntegratesCountersExactly) {
  FakeSource src(
      &env_, "rapl-powercap",
      {{Dom("package-0", Component::kCpu), 10.0, 1000.0}, {Dom("dram-0", Component::kDram), 3.0, 5.0}});
  Sampler s(&env_, {&src}, Ms(100), 1000);
  ASSERT_TRUE(s.Start().ok());
  env_.RunUntil(Ms(1000));
  EnergySnapshot a = s.SampleNow();
  env_.RunUntil(Ms(3000));
  EnergySnapshot b = s.SampleNow();
  env_.FreeRun();
  ASSERT_TRUE(s.Stop().ok());
  EXPECT_EQ(a.t, Ms(1000));
  EXPECT_NEAR(a.energy_j[0], 10.0, 1e-9);
  EXPECT_NEAR(a.energy_j[1], 3.0, 1e-9);
  EXPECT_NEAR(b.energy_j[0] - a.energy_j[0], 20.0, 1e-9);
  EXPECT_NEAR(b.energy_j[1] - a.energy_j[1], 6.0, 1e-9);
  EXPECT_EQ(b.ticks - a.ticks, 20);
  EXPECT_EQ(s.domains()[0].source, "rapl-powercap");
}

TEST_F(SamplerTest, CorrectsWrapAcrossASample) {
  // Range 100 J, starts at 95 J, 20 W: wraps between the reads at 0.2 s and 0.3 s.
  FakeSource src(&env_, "rapl-powercap", {{Dom("package-0", Component::kCpu, true, 100.0), 20.0, 95.0}});
  Sampler s(&env_, {&src}, Ms(100), 1000);
  ASSERT_TRUE(s.Start().ok());
  env_.RunUntil(Ms(1000));
  EnergySnapshot e = s.SampleNow();
  env_.FreeRun();
  ASSERT_TRUE(s.Stop().ok());
  EXPECT_NEAR(e.energy_j[0], 20.0, 1e-9);
  for (const auto& t : s.Timeline()) EXPECT_NEAR(t.power_w[0], 20.0, 1e-6) << "at " << t.t_s;
}

TEST_F(SamplerTest, CorrectsWrapsAtOneKilohertz) {
  // 1 ms sampling, 30 W: the in-total counter (range 0.1 J) wraps every
  // 3.33 ms, the nested one (range 1 J, read every 10 ms) every 33 ms; over
  // 1 s both must still add up to exactly 30 J, with no negative step.
  FakeSource src(&env_, "rapl-powercap",
                 {{Dom("package-0", Component::kCpu, true, 0.1), 30.0, 0.07},
                  {Dom("core-0", Component::kCpu, true, 1.0, /*in_total=*/false), 30.0, 0.9}});
  Sampler s(&env_, {&src}, Ms(1), 100000);
  ASSERT_TRUE(s.Start().ok());
  env_.RunUntil(Ms(1000));
  EXPECT_EQ(s.ticks(), 1000);
  EnergySnapshot e = s.SampleNow();
  env_.FreeRun();
  ASSERT_TRUE(s.Stop().ok());
  EXPECT_NEAR(e.energy_j[0], 30.0, 1e-6);
  EXPECT_NEAR(e.energy_j[1], 30.0, 1e-6);
  for (const auto& t : s.Timeline()) {
    ASSERT_NEAR(t.power_w[0], 30.0, 1e-3) << "at " << t.t_s;
    if (t.t_s >= 0.01) {
      ASSERT_NEAR(t.power_w[1], 30.0, 1e-3) << "at " << t.t_s;
    }
  }
}

TEST_F(SamplerTest, ReadsNestedCountersEveryTenthPeriod) {
  // At 1 kHz: in-total package and dram every 1 ms, nested core and psys
  // every 10 ms; every domain at the window edges, so energies stay exact.
  FakeSource src(&env_, "rapl-powercap",
                 {{Dom("package-0", Component::kCpu, true, 1e6), 20.0, 0},
                  {Dom("core-0", Component::kCpu, true, 1e6, false), 12.0, 0},
                  {Dom("dram-0", Component::kDram, true, 1e6), 3.0, 0},
                  {Dom("psys", Component::kPlatform, true, 1e6, false), 30.0, 0}});
  Sampler s(&env_, {&src}, Ms(1), 100000);
  ASSERT_TRUE(s.Start().ok());
  env_.RunUntil(Ms(1000));
  EXPECT_EQ(src.domain_reads(0), 1001);  // Start, then every tick
  EXPECT_EQ(src.domain_reads(1), 101);   // Start, then every 10th tick
  EXPECT_EQ(src.domain_reads(2), 1001);
  EXPECT_EQ(src.domain_reads(3), 101);
  env_.RunUntil(Ms(1005));
  EnergySnapshot e = s.SampleNow();  // an edge between two nested reads
  EXPECT_EQ(src.domain_reads(1), 102);
  env_.FreeRun();
  ASSERT_TRUE(s.Stop().ok());
  EXPECT_NEAR(e.energy_j[0], 20.0 * 1.005, 1e-9);
  EXPECT_NEAR(e.energy_j[1], 12.0 * 1.005, 1e-9);
  EXPECT_NEAR(e.energy_j[2], 3.0 * 1.005, 1e-9);
  EXPECT_NEAR(e.energy_j[3], 30.0 * 1.005, 1e-9);
}

TEST_F(SamplerTest, NestedCountersAtLeastOnceASecond) {
  // At 10 Hz the nested domain is read every second; at 1 Hz every tick.
  FakeSource fast(&env_, "rapl-powercap",
                  {{Dom("package-0", Component::kCpu), 20.0, 0},
                   {Dom("core-0", Component::kCpu, true, 0, false), 12.0, 0}});
  Sampler s(&env_, {&fast}, Ms(100), 1000);
  ASSERT_TRUE(s.Start().ok());
  env_.RunUntil(Ms(3000));
  EXPECT_EQ(fast.domain_reads(0), 31);
  EXPECT_EQ(fast.domain_reads(1), 4);
  env_.FreeRun();
  ASSERT_TRUE(s.Stop().ok());
}

TEST_F(SamplerTest, NestedCountersEveryTickAtOneHertz) {
  FakeSource slow(&env_, "rapl-powercap",
                  {{Dom("package-0", Component::kCpu), 20.0, 0},
                   {Dom("core-0", Component::kCpu, true, 0, false), 12.0, 0}});
  Sampler s(&env_, {&slow}, Ms(1000), 1000);
  ASSERT_TRUE(s.Start().ok());
  env_.RunUntil(Ms(3000));
  EXPECT_EQ(slow.domain_reads(0), 4);
  EXPECT_EQ(slow.domain_reads(1), 4);
  env_.FreeRun();
  ASSERT_TRUE(s.Stop().ok());
}

TEST_F(SamplerTest, ALateWakeUpSkipsSlotsAndKeepsTheGrid) {
  // A source that stalls once for 2.5 ms (the thread is late): the slots it
  // missed are skipped, the next ones stay on the 1 ms grid, nothing is lost.
  FakeSource src(&env_, "rapl-powercap", {{Dom("package-0", Component::kCpu, true, 1e6), 10.0, 0}});
  class StallingEnv : public ForwardingEnv {
   public:
    explicit StallingEnv(VirtualClockEnv* clock) : ForwardingEnv(clock), clock_(clock) {}
    std::chrono::nanoseconds NowMonotonic() override {
      auto t = clock_->NowMonotonic();
      return t == Ms(5) ? t + std::chrono::microseconds(2500) : t;  // woke 2.5 ms late once
    }
    void SleepFor(std::chrono::nanoseconds d) override { clock_->SleepFor(d); }

   private:
    VirtualClockEnv* clock_;
  } env(&env_);
  Sampler s(&env, {&src}, Ms(1), 1000);
  ASSERT_TRUE(s.Start().ok());
  env_.RunUntil(Ms(20));
  auto tl = s.Timeline();
  std::vector<double> t;
  for (const auto& r : tl) t.push_back(r.t_s);
  // 1..4 ms, the late tick stamped 7.5 ms, then 8, 9, ... 20 ms on the grid.
  ASSERT_GE(t.size(), 6u);
  EXPECT_NEAR(t[3], 0.004, 1e-12);
  EXPECT_NEAR(t[4], 0.0075, 1e-12);
  EXPECT_NEAR(t[5], 0.008, 1e-12);
  EXPECT_NEAR(t.back(), 0.020, 1e-12);
  EXPECT_EQ(s.ticks(), 4 + 1 + 13);
  env_.FreeRun();
  ASSERT_TRUE(s.Stop().ok());
}

TEST_F(SamplerTest, ScriptedWrapUsesMaxRange) {
  FakeSource src(&env_, "rapl-msr", {{Dom("package-0", Component::kCpu, true, 262144.0), 0, 0}});
  // 262143 -> 1: (262144 - 262143) + 1 = 2 J.
  src.Script({{262140.0}, {262143.0}, {1.0}});
  Sampler s(&env_, {&src}, Ms(100), 1000);
  ASSERT_TRUE(s.Start().ok());
  EnergySnapshot a = s.SampleNow();
  EnergySnapshot b = s.SampleNow();
  EXPECT_NEAR(a.energy_j[0], 3.0, 1e-9);
  EXPECT_NEAR(b.energy_j[0], 5.0, 1e-9);
  env_.FreeRun();
  EXPECT_TRUE(s.Stop().ok());
}

TEST_F(SamplerTest, DropWithUnknownRangeIsAResetAndReported) {
  FakeSource src(&env_, "hwmon", {{Dom("Esocket0", Component::kCpu), 0, 0}});
  src.Script({{50.0}, {60.0}, {5.0}});
  Sampler s(&env_, {&src}, Ms(100), 1000);
  ASSERT_TRUE(s.Start().ok());
  s.SampleNow();
  EnergySnapshot b = s.SampleNow();
  EXPECT_NEAR(b.energy_j[0], 15.0, 1e-9);  // 10 J, then 5 J since the reset
  EXPECT_EQ(s.first_error().kind(), Status::Kind::kCorruption);
  EXPECT_NE(s.first_error().message().find("Esocket0"), std::string::npos);
  env_.FreeRun();
  EXPECT_EQ(s.Stop().kind(), Status::Kind::kCorruption);
}

TEST_F(SamplerTest, SustainsOneMillisecond) {
  FakeSource src(&env_, "rapl-powercap", {{Dom("package-0", Component::kCpu, true, 1e6), 42.0, 0}});
  Sampler s(&env_, {&src}, Ms(1), 100000);
  ASSERT_TRUE(s.Start().ok());
  env_.RunUntil(Ms(1000));
  EXPECT_EQ(s.ticks(), 1000);
  EXPECT_EQ(src.reads(), 1001);  // the first reading at Start, then one per millisecond
  auto tl = s.Timeline();
  ASSERT_EQ(tl.size(), 1000u);
  EXPECT_NEAR(tl.front().t_s, 0.001, 1e-12);
  EXPECT_NEAR(tl.back().t_s, 1.0, 1e-12);
  for (const auto& t : tl) ASSERT_NEAR(t.power_w[0], 42.0, 1e-6);
  env_.FreeRun();
  ASSERT_TRUE(s.Stop().ok());
}

TEST_F(SamplerTest, ReadsEachSourceNoFasterThanItsMinInterval) {
  FakeSource counter(&env_, "rapl-powercap", {{Dom("package-0", Component::kCpu), 10.0, 0}}, Ms(1));
  FakeSource power(&env_, "estimate", {{Dom("dram", Component::kDram, false, 0, true, true), 4.0, 0}},
                   Ms(10));
  Sampler s(&env_, {&counter, &power}, Ms(1), 100000);
  EXPECT_EQ(s.tick_period(), Ms(1));
  ASSERT_TRUE(s.Start().ok());
  env_.RunUntil(Ms(1000));
  EXPECT_EQ(counter.reads(), 1001);
  EXPECT_EQ(power.reads(), 101);
  EnergySnapshot e = s.SampleNow();
  EXPECT_NEAR(e.energy_j[0], 10.0, 1e-9);
  EXPECT_NEAR(e.energy_j[1], 4.0, 1e-9);
  env_.FreeRun();
  ASSERT_TRUE(s.Stop().ok());
}

TEST_F(SamplerTest, EdgeSamplesMakeShortWindowsExact) {
  // 100 ms interval, a 30 ms window between two ticks: counters read at the
  // edges give the exact energy; a power source is extrapolated.
  FakeSource counter(&env_, "rapl-powercap", {{Dom("package-0", Component::kCpu), 10.0, 0}});
  FakeSource power(&env_, "nvml", {{Dom("gpu-0", Component::kGpu, false), 200.0, 0}}, Ms(20));
  Sampler s(&env_, {&counter, &power}, Ms(100), 1000);
  ASSERT_TRUE(s.Start().ok());
  env_.RunUntil(Ms(1010));
  EnergySnapshot a = s.SampleNow();
  env_.RunUntil(Ms(1040));
  EnergySnapshot b = s.SampleNow();
  EXPECT_EQ(b.t - a.t, Ms(30));
  EXPECT_EQ(b.ticks, a.ticks);  // no background tick inside
  EXPECT_NEAR(b.energy_j[0] - a.energy_j[0], 0.3, 1e-9);
  EXPECT_NEAR(b.energy_j[1] - a.energy_j[1], 6.0, 1e-9);
  env_.FreeRun();
  ASSERT_TRUE(s.Stop().ok());
}

// A power source extrapolated at one edge, then read lower before the next:
// the window between does not get negative joules (it gets none), the
// windows after it pay the overshoot back until the reads catch up, and
// from then on snapshots are the integral of the reads again.
TEST_F(SamplerTest, ExtrapolationThatOvershootsNeverGivesAWindowNegativeEnergy) {
  FakeSource power(&env_, "estimate", {{Dom("cpu", Component::kCpu, false, 0, true, true), 1.0, 0}}, Ms(100));
  power.Script({{30}, {30}});  // reads at start and at 100 ms; 1 W from the 200 ms read on
  Sampler s(&env_, {&power}, Ms(100), 1000);
  ASSERT_TRUE(s.Start().ok());
  env_.RunUntil(Ms(190));
  EnergySnapshot a = s.SampleNow();  // 3 J read + 30 W x 90 ms extrapolated
  EXPECT_NEAR(a.energy_j[0], 5.7, 1e-9);
  env_.RunUntil(Ms(205));
  EnergySnapshot b = s.SampleNow();  // the 200 ms read said 1 W: the integral is 3.1 + 0.005 J
  EXPECT_EQ(power.reads(), 3);
  EXPECT_NEAR(b.energy_j[0] - a.energy_j[0], 0.0, 1e-12);
  env_.RunUntil(Ms(1000));
  EnergySnapshot c = s.SampleNow();  // 3.9 J read: still under what a reported
  EXPECT_NEAR(c.energy_j[0], a.energy_j[0], 1e-12);
  env_.RunUntil(Ms(3000));
  EnergySnapshot d = s.SampleNow();  // 30 W x 0.1 s + 1 W x 2.9 s: caught up
  EXPECT_NEAR(d.energy_j[0], 5.9, 1e-9);
  env_.FreeRun();
  ASSERT_TRUE(s.Stop().ok());
}

TEST_F(SamplerTest, KeepsTheFirstError) {
  FakeSource src(&env_, "rapl-powercap", {{Dom("package-0", Component::kCpu), 10.0, 0}});
  src.FailOnRead(3, "first failure");
  src.FailOnRead(5, "second failure");
  Sampler s(&env_, {&src}, Ms(100), 1000);
  ASSERT_TRUE(s.Start().ok());
  env_.RunUntil(Ms(1000));
  EXPECT_NE(s.first_error().message().find("first failure"), std::string::npos);
  // The counter lost nothing: the next good read covers the failed ones.
  EXPECT_NEAR(s.SampleNow().energy_j[0], 10.0, 1e-9);
  env_.FreeRun();
  Status st = s.Stop();
  EXPECT_EQ(st.kind(), Status::Kind::kIOError);
  EXPECT_NE(st.message().find("first failure"), std::string::npos);
  EXPECT_EQ(st.message().find("second failure"), std::string::npos);
}

TEST_F(SamplerTest, FirstReadingErrorFailsStart) {
  FakeSource src(&env_, "rapl-powercap", {{Dom("package-0", Component::kCpu), 10.0, 0}});
  src.FailOnRead(1, "EACCES");
  Sampler s(&env_, {&src}, Ms(100), 1000);
  Status st = s.Start();
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(s.running());
  EXPECT_TRUE(s.Stop().ok());
}

// A counter source that answers in watts from read `bad_from` on: a
// source's bug the sampler must report, never integrate as joules.
class WrongFieldSource : public EnergySource {
 public:
  explicit WrongFieldSource(int bad_from)
      : bad_from_(bad_from), domains_{Dom("package-0", Component::kCpu)} {}
  const std::string& name() const override { return name_; }
  const std::vector<DomainInfo>& domains() const override { return domains_; }
  std::chrono::nanoseconds min_interval() const override { return Ms(1); }
  Status Read(std::vector<Reading>& out) override {
    ++reads_;
    out[0] = reads_ >= bad_from_ ? Reading::Power(5.0) : Reading::Energy(static_cast<double>(reads_));
    return Status::Ok();
  }

 private:
  const std::string name_ = "rapl-powercap";
  int bad_from_;
  std::vector<DomainInfo> domains_;
  int reads_ = 0;
};

TEST_F(SamplerTest, ReadingInTheWrongUnitFailsStart) {
  WrongFieldSource src(1);
  Sampler s(&env_, {&src}, Ms(100), 1000);
  Status st = s.Start();
  EXPECT_EQ(st.kind(), Status::Kind::kInternal);
  EXPECT_NE(st.message().find("without energy_j"), std::string::npos) << st.message();
  EXPECT_FALSE(s.running());
}

TEST_F(SamplerTest, ReadingInTheWrongUnitIsAnErrorNotEnergy) {
  WrongFieldSource src(3);  // reads 1 (Start) and 2 (0.1 s) are joules: 1 J, 2 J
  Sampler s(&env_, {&src}, Ms(100), 1000);
  ASSERT_TRUE(s.Start().ok());
  env_.RunUntil(Ms(1000));
  EXPECT_EQ(s.first_error().kind(), Status::Kind::kInternal);
  EXPECT_NEAR(s.SampleNow().energy_j[0], 1.0, 1e-12);  // the watts were not added
  env_.FreeRun();
  EXPECT_EQ(s.Stop().kind(), Status::Kind::kInternal);
}

TEST_F(SamplerTest, TimelineIsBounded) {
  FakeSource src(&env_, "rapl-powercap", {{Dom("package-0", Component::kCpu), 10.0, 0}});
  Sampler s(&env_, {&src}, Ms(10), 10);
  ASSERT_TRUE(s.Start().ok());
  env_.RunUntil(Ms(1000));
  auto tl = s.Timeline();
  ASSERT_EQ(tl.size(), 10u);
  EXPECT_EQ(s.timeline_dropped(), 90);
  EXPECT_NEAR(tl.back().t_s, 1.0, 1e-12);  // the newest are kept
  env_.FreeRun();
  ASSERT_TRUE(s.Stop().ok());
}

}  // namespace
}  // namespace wattlab
