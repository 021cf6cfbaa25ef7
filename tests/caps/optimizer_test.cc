// The online power-limit optimiser: the pure state machine against a fake
// device whose step time grows as the limit falls below its demand (so the
// energy optimum is interior and known), the ±2% stopping rule with seeded
// noise, and the driver (meter windows in, CapSession out) over the fake
// NVML, restoring the original limit on a normal end and on an exception.
#include "caps/optimizer.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>

#include "caps/online_optimizer.h"
#include "platform/real_env.h"

namespace wattlab::caps {
namespace {

namespace fs = std::filesystem;

// A GPU (plus the rest of the machine) running one training step.
//   demand D = 200 W: the step's work wants that much GPU power.
//   L >= D: the GPU draws D + 0.5·(L − D) (boost clocks a memory-bound step
//           barely uses) and the step gets slightly faster, T0·(1 − 0.05·(L − D)/D);
//   L <  D: the GPU draws L and the step stretches, T0·sqrt(D / L).
//   The rest of the machine draws S = 150 W all the while.
// Energy per step E(L) = (P_gpu(L) + S)·T(L). Over the candidates 350, 325,
// ..., 100 W: energy is lowest at 150 W (below the demand, above the
// minimum: interior), time at 350 W, EDP and cost:0.5 (P_max 350 W) at
// 200 W, and slowdown:1.1 (T ≤ 1.1·T(350)) allows 200 W and up, lowest
// energy among them at 200 W.
struct FakeDevice {
  double demand_w = 200, rest_w = 150, t0_s = 1.0;
  double StepS(double limit_w) const {
    if (limit_w >= demand_w) return t0_s * (1 - 0.05 * (limit_w - demand_w) / demand_w);
    return t0_s * std::sqrt(demand_w / limit_w);
  }
  double GpuW(double limit_w) const {
    return limit_w >= demand_w ? demand_w + 0.5 * (limit_w - demand_w) : limit_w;
  }
  double StepJ(double limit_w) const { return (GpuW(limit_w) + rest_w) * StepS(limit_w); }
};

OptimizerOptions QuickOptions() {
  OptimizerOptions o;
  o.warmup_steps = 3;
  o.settle_steps = 1;
  o.min_steps = 4;
  o.max_steps = 200;
  o.step_w = 25;
  return o;
}

// Runs the optimiser to the end on the device; `noise` is the relative
// standard deviation of each measurement (0: exact).
PowerLimitOptimizer RunToEnd(const std::string& objective, const OptimizerOptions& options, double noise = 0,
                             uint64_t seed = 1, std::vector<double>* limits_seen = nullptr) {
  FakeDevice dev;
  auto obj = ParseObjective(objective);
  EXPECT_TRUE(obj.ok()) << obj.status().message();
  auto cands = CandidateLimits(100, 350, options.step_w);
  EXPECT_TRUE(cands.ok());
  auto opt = PowerLimitOptimizer::Create(*obj, *cands, 350, options);
  EXPECT_TRUE(opt.ok()) << opt.status().message();
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n(0, noise);
  for (int i = 0; i < 100000 && opt->phase() != PowerLimitOptimizer::Phase::kDone; ++i) {
    const double l = opt->limit_w();
    if (limits_seen) limits_seen->push_back(l);
    double t = dev.StepS(l), e = dev.StepJ(l);
    if (noise > 0) t *= 1 + n(rng), e *= 1 + n(rng);
    opt->Observe({t, e});
  }
  EXPECT_EQ(opt->phase(), PowerLimitOptimizer::Phase::kDone);
  return std::move(*opt);
}

TEST(OptimizerObjective, ParsesEveryFormAndRefusesTheRest) {
  EXPECT_EQ(ParseObjective("energy")->kind, OptimizerObjective::Kind::kEnergy);
  EXPECT_EQ(ParseObjective("time")->kind, OptimizerObjective::Kind::kTime);
  EXPECT_EQ(ParseObjective("edp")->kind, OptimizerObjective::Kind::kEdp);
  auto cost = ParseObjective("cost:0.25");
  ASSERT_TRUE(cost.ok());
  EXPECT_EQ(cost->kind, OptimizerObjective::Kind::kCost);
  EXPECT_DOUBLE_EQ(cost->eta, 0.25);
  EXPECT_EQ(cost->ToString(), "cost:0.25");
  auto slow = ParseObjective("slowdown:1.1");
  ASSERT_TRUE(slow.ok());
  EXPECT_DOUBLE_EQ(slow->max_slowdown, 1.1);
  EXPECT_EQ(slow->ToString(), "slowdown:1.1");
  EXPECT_TRUE(ParseObjective("cost:0").ok());
  EXPECT_TRUE(ParseObjective("cost:1").ok());
  EXPECT_TRUE(ParseObjective("slowdown:1").ok());

  for (const char* bad : {"", "Energy", "power", "cost", "cost:", "cost:x", "cost:1.5", "cost:-0.1",
                          "slowdown:0.9", "slowdown:", "slowdown:abc", "edp:1", "cost:0.5x"}) {
    auto r = ParseObjective(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().kind(), Status::Kind::kInvalidArgument) << bad;
  }
  EXPECT_NE(ParseObjective("cost:1.5").status().message().find("between 0 and 1"), std::string::npos);
  EXPECT_NE(ParseObjective("slowdown:0.9").status().message().find("1 or more"), std::string::npos);
  EXPECT_NE(ParseObjective("watts").status().message().find("cost:ETA"), std::string::npos);
}

TEST(OptimizerCandidates, FromTheMaximumDownWithTheMinimumLast) {
  EXPECT_EQ(*CandidateLimits(100, 350, 25),
            (std::vector<double>{350, 325, 300, 275, 250, 225, 200, 175, 150, 125, 100}));
  EXPECT_EQ(*CandidateLimits(100, 200, 30), (std::vector<double>{200, 170, 140, 110, 100}));
  EXPECT_EQ(*CandidateLimits(150, 150, 25), (std::vector<double>{150}));
  EXPECT_FALSE(CandidateLimits(200, 100, 25).ok());
  EXPECT_FALSE(CandidateLimits(0, 100, 25).ok());
  EXPECT_FALSE(CandidateLimits(100, 200, 0).ok());
}

TEST(OptimizerOptionsCheck, RefusesNonsense) {
  OptimizerOptions o = QuickOptions();
  EXPECT_TRUE(ValidateOptimizerOptions(o).ok());
  o.min_steps = 1;
  EXPECT_FALSE(ValidateOptimizerOptions(o).ok());
  o = QuickOptions();
  o.max_steps = 3;
  EXPECT_FALSE(ValidateOptimizerOptions(o).ok());
  o = QuickOptions();
  o.warmup_steps = -1;
  EXPECT_FALSE(ValidateOptimizerOptions(o).ok());
  o = QuickOptions();
  o.step_w = 0;
  EXPECT_FALSE(ValidateOptimizerOptions(o).ok());
}

TEST(StudentT, TableAndSeries) {
  EXPECT_NEAR(StudentT95(1), 12.706, 1e-3);
  EXPECT_NEAR(StudentT95(10), 2.228, 1e-3);
  EXPECT_NEAR(StudentT95(30), 2.042, 1e-3);
  EXPECT_NEAR(StudentT95(40), 2.021, 2e-3);
  EXPECT_NEAR(StudentT95(120), 1.980, 2e-3);
  EXPECT_TRUE(std::isnan(StudentT95(0)));
}

TEST(FakeDeviceModel, HasTheOptimaTheTestsClaim) {
  // The claims in FakeDevice's comment, by brute force over the candidates.
  FakeDevice d;
  auto c = *CandidateLimits(100, 350, 25);
  auto argmin = [&](auto f) {
    double best = c[0];
    for (double l : c)
      if (f(l) < f(best)) best = l;
    return best;
  };
  EXPECT_EQ(argmin([&](double l) { return d.StepJ(l); }), 150);
  EXPECT_EQ(argmin([&](double l) { return d.StepS(l); }), 350);
  EXPECT_EQ(argmin([&](double l) { return d.StepJ(l) * d.StepS(l); }), 200);
  EXPECT_EQ(argmin([&](double l) { return 0.5 * d.StepJ(l) + 0.5 * 350 * d.StepS(l); }), 200);
  // A lower cap does not always win: the minimum limit costs more than the optimum.
  EXPECT_GT(d.StepJ(100), d.StepJ(150) * 1.002);
  EXPECT_GT(d.StepJ(350), d.StepJ(150) * 1.05);
}

struct Case {
  const char* objective;
  double expected_w;
};

class OptimizerObjectives : public ::testing::TestWithParam<Case> {};

TEST_P(OptimizerObjectives, FindsTheFakeDevicesKnownOptimum) {
  std::vector<double> seen;
  PowerLimitOptimizer opt = RunToEnd(GetParam().objective, QuickOptions(), 0, 1, &seen);
  ASSERT_TRUE(opt.chosen_limit_w());
  EXPECT_EQ(*opt.chosen_limit_w(), GetParam().expected_w);
  EXPECT_EQ(opt.limit_w(), GetParam().expected_w);
  // Exact measurements: each candidate stops at the minimum, exactly measured.
  FakeDevice d;
  ASSERT_EQ(opt.candidates().size(), 11u);
  for (const CandidateResult& c : opt.candidates()) {
    EXPECT_TRUE(c.finished);
    EXPECT_TRUE(c.converged);
    EXPECT_EQ(c.steps, 4);
    EXPECT_NEAR(c.mean_step_s, d.StepS(c.limit_w), 1e-12);
    EXPECT_NEAR(c.mean_step_energy_j, d.StepJ(c.limit_w), 1e-9);
  }
  // Warm-up at the maximum, then each candidate for 1 settle + 4 counted steps, in order.
  ASSERT_EQ(seen.size(), 3u + 11u * 5u - 1u);  // the first candidate needs no settling
  EXPECT_EQ(seen[0], 350);
  EXPECT_EQ(seen[3 + 3], 350);
  EXPECT_EQ(seen[3 + 4], 325);  // the settle step at the second candidate
  EXPECT_EQ(seen.back(), 100);
  // After the choice the limit stays put.
  EXPECT_FALSE(opt.Observe({1, 1}));
  EXPECT_EQ(opt.limit_w(), GetParam().expected_w);
}

INSTANTIATE_TEST_SUITE_P(Each, OptimizerObjectives,
                         ::testing::Values(Case{"energy", 150}, Case{"time", 350}, Case{"edp", 200},
                                           Case{"cost:0.5", 200}, Case{"slowdown:1.1", 200},
                                           // the ends of cost: all energy, all time
                                           Case{"cost:1", 150}, Case{"cost:0", 350}));

TEST(OptimizerSlowdown, MarksTooSlowCandidatesIneligible) {
  PowerLimitOptimizer opt = RunToEnd("slowdown:1.1", QuickOptions());
  FakeDevice d;
  const double t_ref = d.StepS(350);
  for (const CandidateResult& c : opt.candidates()) {
    const bool ok = d.StepS(c.limit_w) <= 1.1 * t_ref;
    EXPECT_EQ(c.eligible, ok) << c.limit_w;
    EXPECT_EQ(c.objective.has_value(), ok) << c.limit_w;
  }
  EXPECT_TRUE(opt.candidates()[6].eligible);   // 200 W
  EXPECT_FALSE(opt.candidates()[7].eligible);  // 175 W: sqrt(200/175)/0.9625 = 1.11
}

TEST(OptimizerStopping, NoisyMeasurementsStopAtTwoPercent) {
  // 5% noise on each measurement: about (1.96·5/2)² ≈ 24 steps per candidate.
  OptimizerOptions o = QuickOptions();
  o.min_steps = 5;
  PowerLimitOptimizer opt = RunToEnd("energy", o, 0.05, 42);
  FakeDevice d;
  double best_true = 1e300;
  for (const CandidateResult& c : opt.candidates()) best_true = std::min(best_true, d.StepJ(c.limit_w));
  for (const CandidateResult& c : opt.candidates()) {
    EXPECT_TRUE(c.converged) << c.limit_w;
    EXPECT_GE(c.steps, 5);
    EXPECT_LT(c.steps, 200);
    EXPECT_LE(c.step_s_half_width, 0.02 * c.mean_step_s) << c.limit_w;
    EXPECT_LE(c.step_energy_half_width_j, 0.02 * c.mean_step_energy_j) << c.limit_w;
    // One step fewer would not have been enough for at least one of the two
    // (the rule stops at the first step it is met): the half-widths sit near 2%.
    EXPECT_GT(
        std::max(c.step_s_half_width / c.mean_step_s, c.step_energy_half_width_j / c.mean_step_energy_j),
        0.012)
        << c.limit_w;
  }
  // The candidates differ by less than the noise can resolve near the optimum;
  // the choice must still be within the ±2% of it.
  ASSERT_TRUE(opt.chosen_limit_w());
  EXPECT_LE(d.StepJ(*opt.chosen_limit_w()), best_true * 1.04);
  // The same seed, the same run.
  PowerLimitOptimizer again = RunToEnd("energy", o, 0.05, 42);
  EXPECT_EQ(again.chosen_limit_w(), opt.chosen_limit_w());
  for (size_t i = 0; i < opt.candidates().size(); ++i)
    EXPECT_EQ(again.candidates()[i].steps, opt.candidates()[i].steps);
}

TEST(OptimizerStopping, TooNoisyStopsAtTheMaximumUnconverged) {
  OptimizerOptions o = QuickOptions();
  o.max_steps = 30;
  PowerLimitOptimizer opt = RunToEnd("energy", o, 0.15, 7);
  for (const CandidateResult& c : opt.candidates()) {
    EXPECT_FALSE(c.converged) << c.limit_w;
    EXPECT_EQ(c.steps, 30);
    EXPECT_GT(c.step_energy_half_width_j, 0.02 * c.mean_step_energy_j);
  }
  EXPECT_TRUE(opt.chosen_limit_w());
}

TEST(OptimizerStopping, UnusableMeasurementsAreDroppedAndCounted) {
  auto opt = PowerLimitOptimizer::Create(*ParseObjective("energy"), {300, 200}, 300, QuickOptions());
  ASSERT_TRUE(opt.ok());
  for (int i = 0; i < 3; ++i) opt->Observe({1, 100});  // warm-up
  opt->Observe({0, 100});                              // zero duration
  opt->Observe({1, std::nan("")});
  opt->Observe({1, -5});
  for (int i = 0; i < 4; ++i) opt->Observe({1, 100});
  EXPECT_EQ(opt->candidates()[0].dropped_steps, 3);
  EXPECT_EQ(opt->candidates()[0].steps, 4);
  EXPECT_TRUE(opt->candidates()[0].finished);
  EXPECT_EQ(opt->limit_w(), 200);
}

TEST(OptimizerWarmup, NoWarmupProfilesFromTheFirstStep) {
  OptimizerOptions o = QuickOptions();
  o.warmup_steps = 0;
  auto opt = PowerLimitOptimizer::Create(*ParseObjective("time"), {300, 200}, 300, o);
  ASSERT_TRUE(opt.ok());
  EXPECT_EQ(opt->phase(), PowerLimitOptimizer::Phase::kProfiling);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(opt->Observe({1, 100}));
  EXPECT_TRUE(opt->Observe({1, 100}));  // 4th counted step: on to 200 W
  EXPECT_EQ(opt->candidates()[0].steps, 4);
}

// ------------------------------------------------------------- the driver

// A meter whose windows measure the fake device at the limit the fake NVML
// holds for GPU 0 (read from its limits file), a fixed number of steps per
// window. Time is the device's, not the clock's.
class DeviceMeter : public Meter {
 public:
  DeviceMeter(fs::path limits_file) : limits_file_(std::move(limits_file)) {}
  const std::vector<SourceAttempt>& attempts() const override { return attempts_; }
  std::vector<DomainInfo> domains() const override { return {}; }
  std::vector<std::string> sources() const override { return {"nvml"}; }
  bool estimated() const override { return false; }
  std::chrono::nanoseconds interval() const override { return std::chrono::milliseconds(100); }
  Status Start() override { return Status::Ok(); }
  Status Stop() override { return Status::Ok(); }
  WindowId BeginWindow(const std::string& name) override {
    open_[next_] = name;
    return next_++;
  }
  Result<WindowResult> EndWindow(WindowId id) override {
    if (!open_.count(id)) return Status::Internal("no such window");
    open_.erase(id);
    if (fail_next) {
      fail_next = false;
      return Status::IOError("the meter could not read nvml");
    }
    const double l = LimitW();
    limits.push_back(l);
    WindowResult r;
    r.duration_s = device.StepS(l);
    r.energy_j = device.StepJ(l);
    return r;
  }
  void SetIdlePower(double) override {}
  void SetIdleBusy(bool) override {}
  std::optional<double> idle_power_w() const override { return std::nullopt; }
  void SetIdleDomainPowers(const std::vector<std::pair<std::string, double>>&) override {}
  std::vector<std::pair<std::string, double>> idle_domain_powers_w() const override { return {}; }
  Result<IdleMeasurement> MeasureIdle(std::chrono::nanoseconds) override { return IdleMeasurement{}; }
  void SetAttributionPid(int) override {}
  std::vector<TimelineSample> Timeline() const override { return {}; }

  double LimitW() const {
    std::ifstream f(limits_file_);
    unsigned long mw = 320000;
    f >> mw;
    return static_cast<double>(mw) / 1000.0;
  }
  size_t open_windows() const { return open_.size(); }

  FakeDevice device;
  std::vector<double> limits;  // the limit in force at each window's end
  bool fail_next = false;

 private:
  fs::path limits_file_;
  std::vector<SourceAttempt> attempts_;
  std::map<WindowId, std::string> open_;
  WindowId next_ = 1;
};

// A training loop without libtorch: `steps` steps, announcing them; throws
// at step `throw_at` when set (an exception escaping an engine).
class LoopEngine : public WorkloadEngine {
 public:
  int64_t steps = 80;
  int64_t throw_at = 0;
  std::vector<std::string> ModelNames() const override { return {"loop"}; }
  Result<ModelFacts> Describe(const std::string&, std::optional<Shape>, std::optional<int64_t>) override {
    return ModelFacts{};
  }
  Result<ModelFacts> DescribeTorchScript(const std::string&, const Shape&) override { return ModelFacts{}; }
  Result<TrainResult> Train(const TrainConfig&, WorkloadObserver* obs) override {
    obs->OnPhaseBegin("train");
    int64_t s = 0;
    for (; s < steps; ++s) {
      if (obs->ShouldStop())
        return Status::Interrupted("stopped on request after " + std::to_string(s) + " steps");
      if (throw_at && s + 1 == throw_at) throw std::runtime_error("boom");
      obs->OnStepEnd(s + 1, 1, 0.5);
    }
    obs->OnPhaseEnd("train", s);
    TrainResult r;
    r.steps = s;
    return r;
  }
  Result<InferResult> Infer(const InferConfig&, WorkloadObserver*) override { return InferResult{}; }
  std::vector<std::pair<std::string, std::string>> Versions() const override { return {}; }
};

// Counts what reaches the caller's observer through the tee.
struct CountingObserver : WorkloadObserver {
  int phases = 0, steps = 0;
  void OnPhaseBegin(const std::string&) override { ++phases; }
  void OnStepEnd(int64_t, int64_t, double) override { ++steps; }
};

class OnlineOptimizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wattlab-capopt-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::copy(CAPS_FIXTURES, dir_ / "tree", fs::copy_options::recursive);
    Roots roots;
    roots.sysfs = (dir_ / "tree/sys").string();
    roots.proc = (dir_ / "tree/proc").string();
    env_ = NewRealEnv(roots);
    limits_ = dir_ / "gpu_limits_mw";
    setenv("FAKE_NVML_GPUS", "2", 1);
    setenv("FAKE_NVML_LIMITS_FILE", limits_.c_str(), 1);
    unsetenv("FAKE_NVML_SET_FAIL_GPU");
    unsetenv("FAKE_NVML_SET_RC");
    config_.caps.nvml_library = FAKE_NVML_PATH;
    config_.caps.journal_path = (dir_ / "run/caps.json").string();
    config_.objective = *ParseObjective("energy");
    config_.options = QuickOptions();
    meter_ = std::make_unique<DeviceMeter>(limits_);
  }
  void TearDown() override {
    for (const char* v :
         {"FAKE_NVML_GPUS", "FAKE_NVML_LIMITS_FILE", "FAKE_NVML_SET_FAIL_GPU", "FAKE_NVML_SET_RC"})
      unsetenv(v);
    fs::remove_all(dir_);
  }
  std::string Limits() const {
    if (!fs::exists(limits_)) return "320000\n320000\n";
    std::ifstream f(limits_);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
  std::unique_ptr<OnlinePowerLimitOptimizer> Open() {
    auto d = OnlinePowerLimitOptimizer::Open(env_.get(), meter_.get(), config_);
    EXPECT_TRUE(d.ok()) << d.status().message();
    return d.ok() ? std::move(*d) : nullptr;
  }

  fs::path dir_, limits_;
  std::unique_ptr<Env> env_;
  OnlineOptimizerConfig config_;
  std::unique_ptr<DeviceMeter> meter_;
  LoopEngine engine_;
};

TEST_F(OnlineOptimizerTest, ProfilesChoosesHoldsAndRestoresTheLimitFound) {
  auto d = Open();
  ASSERT_TRUE(d);
  CountingObserver counting;
  auto r = d->Wrap(&engine_)->Train(TrainConfig{}, &counting);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(counting.steps, 80);  // the caller's observer saw every step
  EXPECT_EQ(counting.phases, 1);
  // During the run both GPUs were set; the measured steps ran at each candidate.
  ASSERT_GE(meter_->limits.size(), 3u + 11u * 5u - 1u);
  EXPECT_EQ(meter_->limits.front(), 350);
  EXPECT_EQ(Limits(), "150000\n150000\n");  // the energy optimum, held
  OnlineOptimizerReport rep = d->Finish();
  EXPECT_EQ(Limits(), "320000\n320000\n");  // the limit found, not the maximum
  EXPECT_FALSE(fs::exists(config_.caps.journal_path));
  EXPECT_TRUE(rep.restored);
  EXPECT_EQ(rep.phase, "done");
  EXPECT_EQ(rep.objective, "energy");
  EXPECT_EQ(rep.gpus, (std::vector<int>{0, 1}));
  EXPECT_EQ(rep.original_w, (std::vector<double>{320, 320}));
  EXPECT_EQ(rep.min_w, 100);
  EXPECT_EQ(rep.max_w, 350);
  EXPECT_EQ(rep.p_max_w, 700);
  ASSERT_TRUE(rep.chosen_limit_w);
  EXPECT_EQ(*rep.chosen_limit_w, 150);
  EXPECT_EQ(rep.steps_at_chosen, 80 - (3 + 11 * 5 - 1));
  EXPECT_EQ(rep.candidates.size(), 11u);
  EXPECT_EQ(meter_->open_windows(), 0u);
}

TEST_F(OnlineOptimizerTest, ARunEndingWhileProfilingStillRestores) {
  engine_.steps = 12;
  auto d = Open();
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->Wrap(&engine_)->Train(TrainConfig{}, nullptr).ok());
  EXPECT_NE(Limits(), "320000\n320000\n");
  OnlineOptimizerReport rep = d->Finish();
  EXPECT_EQ(rep.phase, "profiling");
  EXPECT_FALSE(rep.chosen_limit_w);
  EXPECT_TRUE(rep.restored);
  EXPECT_EQ(Limits(), "320000\n320000\n");
  EXPECT_EQ(meter_->open_windows(), 0u);
}

TEST_F(OnlineOptimizerTest, AnExceptionOutOfTheLoopStillRestores) {
  engine_.throw_at = 20;
  {
    auto d = Open();
    ASSERT_TRUE(d);
    WorkloadEngine* e = d->Wrap(&engine_);
    EXPECT_THROW((void)e->Train(TrainConfig{}, nullptr), std::runtime_error);
    EXPECT_NE(Limits(), "320000\n320000\n");  // capped when it threw
    EXPECT_TRUE(fs::exists(config_.caps.journal_path));
    // No Finish(): the destructor (unwinding) restores.
  }
  EXPECT_EQ(Limits(), "320000\n320000\n");
  EXPECT_FALSE(fs::exists(config_.caps.journal_path));
  EXPECT_EQ(meter_->open_windows(), 0u);
}

TEST_F(OnlineOptimizerTest, AFailedSetStopsTheRunAndRestores) {
  auto d = Open();
  ASSERT_TRUE(d);
  setenv("FAKE_NVML_SET_RC", "4", 1);  // every set refused from now on (after Open)
  auto r = d->Wrap(&engine_)->Train(TrainConfig{}, nullptr);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(d->error().ok());
  EXPECT_NE(d->error().message().find("power-limit optimiser"), std::string::npos) << d->error().message();
  unsetenv("FAKE_NVML_SET_RC");
  d->Finish();
  EXPECT_EQ(Limits(), "320000\n320000\n");
}

TEST_F(OnlineOptimizerTest, AMeterErrorStopsTheRun) {
  auto d = Open();
  ASSERT_TRUE(d);
  meter_->fail_next = true;
  auto r = d->Wrap(&engine_)->Train(TrainConfig{}, nullptr);
  EXPECT_EQ(r.status().kind(), Status::Kind::kInterrupted);
  EXPECT_NE(d->error().message().find("could not read nvml"), std::string::npos);
  EXPECT_TRUE(d->Finish().restored);
  EXPECT_EQ(Limits(), "320000\n320000\n");
}

TEST_F(OnlineOptimizerTest, RefusesWithoutASettableGpu) {
  setenv("FAKE_NVML_GPUS", "0", 1);
  auto none = OnlinePowerLimitOptimizer::Open(env_.get(), meter_.get(), config_);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().kind(), Status::Kind::kNotSupported);
  EXPECT_NE(none.status().message().find("needs a GPU whose power limit"), std::string::npos)
      << none.status().message();

  // A user without CAP_SYS_ADMIN (the fixture's proc-user).
  setenv("FAKE_NVML_GPUS", "2", 1);
  Roots roots;
  roots.sysfs = (dir_ / "tree/sys").string();
  roots.proc = (dir_ / "tree/proc-user").string();
  auto user_env = NewRealEnv(roots);
  auto user = OnlinePowerLimitOptimizer::Open(user_env.get(), meter_.get(), config_);
  ASSERT_FALSE(user.ok());
  EXPECT_EQ(user.status().kind(), Status::Kind::kNotSupported);
  EXPECT_NE(user.status().message().find("CAP_SYS_ADMIN"), std::string::npos) << user.status().message();
  EXPECT_EQ(Limits(), "320000\n320000\n");  // nothing changed
}

}  // namespace
}  // namespace wattlab::caps
