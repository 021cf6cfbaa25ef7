// Recording a power-versus-load profile: the ladder driven by a fake step
// measurer whose power follows a known curve, the refusals, the spin plan,
// and the real step measurer over a meter with fake sources.
#include "meter/profile_recorder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "meter/meter_impl.h"
#include "meter_fakes.h"
#include "platform/real_env.h"

namespace wattlab {
namespace {

namespace fs = std::filesystem;
using testing::Dom;
using testing::FakeSource;
using testing::VirtualClockEnv;

// The fake's package: 15 W idle, rising as a square root (steep at low load,
// flat near the top, as measured packages do).
double FakePowerW(double u) { return 15 + 45 * std::sqrt(u); }

// Achieves what `achieved` says for a target (default: 0.01 + 0.98 x target,
// a machine that idles at 1% and never quite reaches 100%), with power
// FakePowerW of the achieved load.
class FakeMeasurer : public LoadStepMeasurer {
 public:
  std::map<double, std::optional<double>> achieved;  // by target, overrides
  std::optional<double> fail_at;
  std::vector<double> targets;
  Result<LoadStepMeasurement> MeasureStep(double target) override {
    targets.push_back(target);
    if (fail_at && *fail_at == target) return Status::IOError("counter read failed");
    LoadStepMeasurement m;
    auto it = achieved.find(target);
    m.achieved_load = it != achieved.end() ? it->second : std::optional<double>(0.01 + 0.98 * target);
    m.cpu_power_w = m.achieved_load ? FakePowerW(*m.achieved_load) : 0;
    return m;
  }
};

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const char* kModel = "AMD EPYC 8024P 8-Core Processor";

TEST(ProfileRecorderTest, LadderTargets) {
  auto t = LadderTargets(0.1);
  ASSERT_EQ(t.size(), 11u);
  for (int i = 0; i <= 10; ++i) EXPECT_EQ(t[i], i / 10.0) << i;  // 3 x 0.1 is the 0.3 a user reads
  // 0.9 would sit 0.1 below 1, under half a step: left out.
  EXPECT_EQ(LadderTargets(0.3), (std::vector<double>{0, 0.3, 0.6, 1}));
  EXPECT_EQ(LadderTargets(0.4), (std::vector<double>{0, 0.4, 0.8, 1}));
  EXPECT_EQ(LadderTargets(0.33), (std::vector<double>{0, 0.33, 0.66, 1}));
  EXPECT_EQ(LadderTargets(0.25), (std::vector<double>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(LadderTargets(1), (std::vector<double>{0, 1}));
  EXPECT_EQ(LadderTargets(0.01).size(), 101u);
}

TEST(ProfileRecorderTest, FakeCurveBecomesTheProfile) {
  FakeMeasurer m;
  std::vector<LoadLadderStep> seen;
  auto r = RunLoadLadder(&m, 0.1, kModel, 16, [&](const LoadLadderStep& s) { seen.push_back(s); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(m.targets, LadderTargets(0.1));
  ASSERT_EQ(seen.size(), 11u);
  ASSERT_TRUE(r->profile) << r->refusal;
  EXPECT_EQ(r->refusal, "");
  const CpuLoadProfile& p = *r->profile;
  EXPECT_EQ(p.cpu_model, kModel);
  EXPECT_EQ(p.threads, 16);
  ASSERT_EQ(p.points.size(), 11u);
  for (size_t i = 0; i < p.points.size(); ++i) {
    const double a = 0.01 + 0.98 * (i / 10.0);
    EXPECT_DOUBLE_EQ(seen[i].target_load, i / 10.0);
    EXPECT_DOUBLE_EQ(seen[i].achieved_load, a);
    EXPECT_FALSE(seen[i].off_target) << seen[i].flag;
    // Points sit at the loads reached, not the targets.
    EXPECT_DOUBLE_EQ(p.points[i].load, a);
    EXPECT_DOUBLE_EQ(p.points[i].cpu_power_w, FakePowerW(a));
  }
  // Between points the reading side interpolates the recorded curve.
  EXPECT_NEAR(ProfilePowerW(p, 0.5), FakePowerW(0.5), 0.2);
  EXPECT_DOUBLE_EQ(ProfilePowerW(p, 0), FakePowerW(0.01));  // held flat below the first point

  // The golden file the e2e test hands to `wattlab meters --estimate-profile`:
  // what this ladder writes, byte for byte.
  EXPECT_EQ(CpuLoadProfileToJson(p),
            Slurp(std::string(WATTLAB_FIXTURES_DIR) + "/estimate-profile/recorded-fake.json"));
}

TEST(ProfileRecorderTest, OffTargetStepsAreFlaggedAndKept) {
  FakeMeasurer m;
  m.achieved[0] = 0.105;   // a busy idle step: meter/busy.h's verdict (over 10%)
  m.achieved[0.5] = 0.62;  // 0.12 above its target
  m.achieved[0.6] = 0.64;  // 0.04 above
  m.achieved[0.8] = 0.75;  // 0.05 below
  m.achieved[0.9] = 0.77;  // 0.13 below
  auto r = RunLoadLadder(&m, 0.1, kModel, 8);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->profile) << r->refusal;  // still rising: written, flags and all
  ASSERT_EQ(r->steps.size(), 11u);
  EXPECT_TRUE(r->steps[0].off_target);
  EXPECT_EQ(r->steps[0].flag, "busy: " + JudgeIdle(0.105, FakePowerW(0.105), std::nullopt).reason);
  EXPECT_TRUE(r->steps[5].off_target);
  EXPECT_NE(r->steps[5].flag.find("achieved 0.62 for 0.50 (something else kept the CPUs busy)"),
            std::string::npos)
      << r->steps[5].flag;
  EXPECT_FALSE(r->steps[6].off_target);
  EXPECT_FALSE(r->steps[8].off_target);
  EXPECT_TRUE(r->steps[9].off_target);
  EXPECT_NE(r->steps[9].flag.find("did not get the CPUs"), std::string::npos) << r->steps[9].flag;
  int flagged = 0;
  for (const auto& s : r->steps) flagged += s.off_target;
  EXPECT_EQ(flagged, 3);
  EXPECT_DOUBLE_EQ(r->profile->points[5].load, 0.62);
  EXPECT_DOUBLE_EQ(r->profile->points[5].cpu_power_w, FakePowerW(0.62));
}

TEST(ProfileRecorderTest, JustInsideTheToleranceIsNotFlagged) {
  FakeMeasurer m;
  m.achieved[0] = 0.1;    // JudgeIdle: busy only above 10%
  m.achieved[0.5] = 0.6;  // exactly 0.1 away
  auto r = RunLoadLadder(&m, 0.1, kModel, 8);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->steps[0].off_target) << r->steps[0].flag;
  EXPECT_FALSE(r->steps[5].off_target) << r->steps[5].flag;
}

TEST(ProfileRecorderTest, LoadsThatDoNotRiseAreRefused) {
  FakeMeasurer m;
  m.achieved[0.2] = 0.5;
  m.achieved[0.3] = 0.45;
  auto r = RunLoadLadder(&m, 0.1, kModel, 8);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->profile);
  EXPECT_EQ(r->steps.size(), 11u);  // every step still measured and shown
  EXPECT_NE(
      r->refusal.find("the achieved loads do not rise: 0.4500 at target 0.30 after 0.5000 at target 0.20"),
      std::string::npos)
      << r->refusal;
  // Equal is not rising either.
  FakeMeasurer eq;
  eq.achieved[1] = 0.01 + 0.98 * 0.9;
  auto r2 = RunLoadLadder(&eq, 0.1, kModel, 8);
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(r2->profile);
  EXPECT_NE(r2->refusal.find("do not rise"), std::string::npos);
}

TEST(ProfileRecorderTest, UnknownUtilisationStopsTheLadder) {
  FakeMeasurer m;
  m.achieved[0.2] = std::nullopt;
  auto r = RunLoadLadder(&m, 0.1, kModel, 8);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->profile);
  EXPECT_EQ(m.targets.size(), 3u);
  EXPECT_EQ(r->steps.size(), 2u);
  EXPECT_NE(r->refusal.find("no /proc/stat tick passed during the step at load 0.20"), std::string::npos)
      << r->refusal;
}

TEST(ProfileRecorderTest, MeasurerErrorsAndBadArguments) {
  FakeMeasurer m;
  m.fail_at = 0.4;
  auto r = RunLoadLadder(&m, 0.1, kModel, 8);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), Status::Kind::kIOError);
  EXPECT_NE(r.status().message().find("load step 0.40"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("counter read failed"), std::string::npos);

  FakeMeasurer ok;
  for (double step : {0.0, 0.005, 1.5, std::nan("")})
    EXPECT_EQ(RunLoadLadder(&ok, step, kModel, 8).status().kind(), Status::Kind::kInvalidArgument) << step;
  EXPECT_EQ(RunLoadLadder(&ok, 0.1, "  ", 8).status().kind(), Status::Kind::kInvalidArgument);
  EXPECT_EQ(RunLoadLadder(&ok, 0.1, kModel, 0).status().kind(), Status::Kind::kInvalidArgument);
  EXPECT_TRUE(ok.targets.empty());  // refused before measuring anything
}

TEST(ProfileRecorderTest, NeedsAMeasuredCpu) {
  using testing::Dom;
  std::vector<DomainInfo> rapl = {Dom("package-0", Component::kCpu),
                                  Dom("core-0", Component::kCpu, true, 0, /*in_total=*/false),
                                  Dom("dram-0", Component::kDram)};
  EXPECT_TRUE(CheckCpuEnergyCounter(rapl).ok());
  std::vector<DomainInfo> estimate = {Dom("cpu", Component::kCpu, false, 0, true, /*estimated=*/true),
                                      Dom("dram", Component::kDram, false, 0, true, true)};
  Status st = CheckCpuEnergyCounter(estimate);
  EXPECT_EQ(st.kind(), Status::Kind::kNotSupported);
  EXPECT_EQ(
      st.message(),
      "recording a profile needs a CPU energy counter: this machine has none, a recorded profile would only "
      "repeat the estimate; record on a machine with RAPL of the same CPU model, then pass "
      "--estimate-profile FILE here");
  // A GPU counter alone does not measure the CPU.
  EXPECT_FALSE(CheckCpuEnergyCounter({Dom("gpu-0", Component::kGpu), estimate[0]}).ok());
  EXPECT_FALSE(CheckCpuEnergyCounter({Dom("gpu-0", Component::kGpu)}).ok());
  EXPECT_FALSE(CheckCpuEnergyCounter({}).ok());
}

TEST(ProfileRecorderTest, SpinPlan) {
  auto eq = [](SpinPlan p, int full, double frac) {
    EXPECT_EQ(p.full_threads, full);
    EXPECT_NEAR(p.partial_fraction, frac, 1e-9);
  };
  eq(PlanSpin(2, 0), 0, 0);
  eq(PlanSpin(2, 0.1), 0, 0.2);  // one thread busy 20% of the time
  eq(PlanSpin(2, 0.5), 1, 0);
  eq(PlanSpin(2, 1), 2, 0);
  eq(PlanSpin(16, 0.3), 4, 0.8);
  eq(PlanSpin(10, 0.7), 7, 0);  // 0.7 x 10 is 7, not 6.999...
  eq(PlanSpin(4, 1.5), 4, 0);   // clamped
  eq(PlanSpin(4, -1), 0, 0);
}

TEST(ProfileRecorderTest, SaveWritesWhatTheReaderAccepts) {
  const fs::path dir = fs::temp_directory_path() / ("wattlab-profile-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto env = NewRealEnv(Roots{});
  FakeMeasurer m;
  auto r = RunLoadLadder(&m, 0.25, kModel, 4);
  ASSERT_TRUE(r.ok() && r->profile);
  const std::string path = (dir / "epyc.json").string();
  std::ofstream(path) << "old";
  ASSERT_TRUE(SaveCpuLoadProfile(env.get(), path, *r->profile).ok());
  auto back = LoadCpuLoadProfile(env.get(), path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->cpu_model, kModel);
  EXPECT_EQ(back->threads, 4);
  ASSERT_EQ(back->points.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_DOUBLE_EQ(back->points[i].load, r->profile->points[i].load);
    EXPECT_DOUBLE_EQ(back->points[i].cpu_power_w, r->profile->points[i].cpu_power_w);
  }
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);  // no temporary left behind
  Status bad = SaveCpuLoadProfile(env.get(), (dir / "missing/x.json").string(), *r->profile);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("cannot write the profile"), std::string::npos) << bad.message();
  fs::remove_all(dir);
}

// ---- The real step measurer over a meter with fake sources

// /proc/stat as a function of (virtual) time: 1000 ticks a second, `busy`
// of them busy, so any two reads give that utilisation.
class LoadedStatEnv : public ForwardingEnv {
 public:
  using ForwardingEnv::ForwardingEnv;
  std::function<std::chrono::nanoseconds()> now;
  double busy = 0;
  Result<std::string> ReadFile(const std::string& p) override {
    if (p != "/proc/stat") return ForwardingEnv::ReadFile(p);
    const int64_t total = now().count() / 1000000 + 1000;
    const auto b = static_cast<int64_t>(std::llround(busy * static_cast<double>(total)));
    return "cpu  " + std::to_string(b) + " 0 0 " + std::to_string(total - b) + " 0 0 0 0 0 0\n";
  }
};

class RecordingGenerator : public LoadGenerator {
 public:
  std::vector<double> started;
  int stops = 0;
  Status Start(double t) override {
    started.push_back(t);
    return Status::Ok();
  }
  void Stop() override { ++stops; }
};

TEST(ProfileRecorderTest, MeterStepMeasurerReadsTheCpuCounterAndProcStat) {
  auto real = NewRealEnv(Roots{});
  LoadedStatEnv stat(real.get());
  VirtualClockEnv env(&stat);
  stat.now = [&] { return env.NowMonotonic(); };
  stat.busy = 0.37;
  DetectionReport rep;
  rep.chosen.push_back(std::make_unique<FakeSource>(
      &env, "rapl-powercap",
      std::vector<FakeSource::Domain>{{Dom("package-0", Component::kCpu), 42.0, 0},
                                      {Dom("core-0", Component::kCpu, true, 0, /*in_total=*/false), 30.0, 0},
                                      {Dom("dram-0", Component::kDram), 5.0, 0}}));
  SourceAttempt a;
  a.source = "rapl-powercap";
  a.available = a.chosen = true;
  rep.attempts.push_back(a);
  auto meter = NewMeterFromDetection(&env, MeterOptions{}, std::move(rep));
  ASSERT_TRUE(CheckCpuEnergyCounter(meter->domains()).ok());
  env.FreeRun();
  ASSERT_TRUE(meter->Start().ok());
  RecordingGenerator gen;
  MeterStepOptions o;
  o.step_duration = std::chrono::seconds(5);
  o.settle = std::chrono::milliseconds(500);
  MeterLoadStepMeasurer measurer(&env, meter.get(), &gen, o);
  auto m = measurer.MeasureStep(0.4);
  ASSERT_TRUE(meter->Stop().ok());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(gen.started, std::vector<double>{0.4});
  EXPECT_EQ(gen.stops, 1);  // the load ends with the step
  // Package only: the nested core and the DRAM are not the CPU package.
  EXPECT_NEAR(m->cpu_power_w, 42.0, 1e-9);
  ASSERT_TRUE(m->achieved_load);
  EXPECT_NEAR(*m->achieved_load, 0.37, 1e-3);
}

}  // namespace
}  // namespace wattlab
