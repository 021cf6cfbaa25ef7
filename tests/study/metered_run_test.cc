// MeteredRun: windows bound to the phases and epochs a (fake) engine
// announces, the setup/warm-up span, stop polling, progress, and the meter's
// first error stopping the run. Fake clock: every figure is exact.
#include "study/metered_run.h"

#include <gtest/gtest.h>

#include "fakes.h"
#include "meter/idle_store.h"

namespace wattlab {
namespace {

using testing::FakeClockEnv;
using testing::FakeEngine;
using testing::FakeMeter;

// Fails EndWindow of the window named `fail` (after closing it).
class FailingMeter : public FakeMeter {
 public:
  FailingMeter(Env* env, std::string fail) : FakeMeter(env), fail_(std::move(fail)) {}
  Result<WindowResult> EndWindow(WindowId id) override {
    auto r = FakeMeter::EndWindow(id);
    if (r.ok() && r->name == fail_) return Status::IOError("energy_uj: read failed (injected)");
    return r;
  }

 private:
  std::string fail_;
};

TrainConfig TwoEpochs() {
  TrainConfig c;
  c.model = "lenet";
  c.epochs = 2;
  c.batch_size = 16;
  c.train_samples = 64;  // 4 steps of 16 per epoch
  c.warmup_steps = 1;
  c.evaluate = true;
  c.eval_samples = 30;
  return c;
}

class MeteredRunTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(meter_.Start().ok()); }
  FakeClockEnv env_;
  FakeMeter meter_{&env_, /*busy_power_w=*/30, /*idle_power_w=*/10};
  FakeEngine engine_{&env_, /*s_per_sample=*/0.001};
};

// Opening or closing an epoch window takes 2 ms (the meter's reads).
class SlowEpochMeter : public FakeMeter {
 public:
  SlowEpochMeter(Env* env) : FakeMeter(env, 30, 10), env_(env) {}
  WindowId BeginWindow(const std::string& name) override {
    if (name.rfind("epoch", 0) == 0) env_->SleepFor(std::chrono::milliseconds(2));
    return FakeMeter::BeginWindow(name);
  }
  Result<WindowResult> EndWindow(WindowId id) override {
    auto r = FakeMeter::EndWindow(id);
    if (r.ok() && r->name.rfind("epoch", 0) == 0) env_->SleepFor(std::chrono::milliseconds(2));
    return r;
  }

 private:
  Env* env_;
};

// With a clock: each step's time, and the epoch boundaries apart from them.
TEST_F(MeteredRunTest, TimesStepsAndEpochBoundaries) {
  SlowEpochMeter meter(&env_);
  ASSERT_TRUE(meter.Start().ok());
  MeteredRunOptions o;
  o.clock_s = [this] { return std::chrono::duration<double>(env_.NowMonotonic()).count(); };
  MeteredRun run(&meter, o);
  auto r = run.Train(&engine_, TwoEpochs());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(run.step_times().size(), 8u);
  for (double t : run.step_times()) EXPECT_NEAR(t, 0.016, 1e-9);  // 16 samples x 1 ms
  EXPECT_NEAR(run.boundary_s(), 2 * (0.002 + 0.002), 1e-9);       // two epochs, opened and closed
  EXPECT_EQ(run.epochs_begun(), 2);
  // The train window holds exactly the steps and the boundaries.
  ASSERT_TRUE(run.Phase("train").ok());
  EXPECT_NEAR((*run.Phase("train"))->result.duration_s, 8 * 0.016 + 0.008, 1e-9);
}

// end_training sees the step times and ends the phase normally; eval follows.
TEST_F(MeteredRunTest, EndTrainingEndsThePhaseNormally) {
  MeteredRunOptions o;
  o.clock_s = [this] { return std::chrono::duration<double>(env_.NowMonotonic()).count(); };
  std::vector<size_t> seen;
  o.end_training = [&](const std::vector<double>& step_s) {
    seen.push_back(step_s.size());
    return step_s.size() >= 3;
  };
  MeteredRun run(&meter_, o);
  auto r = run.Train(&engine_, TwoEpochs());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->steps, 3);
  EXPECT_EQ(seen, (std::vector<size_t>{1, 2, 3}));
  ASSERT_EQ(run.phases().size(), 2u);
  EXPECT_EQ(run.phases()[0].samples, 48);
  EXPECT_EQ(run.phases()[1].name, "eval");
  EXPECT_EQ(meter_.open_windows(), 0u);
}

TEST_F(MeteredRunTest, BindsWindowsToPhasesAndEpochsNestedInTrain) {
  MeteredRun run(&meter_);
  auto r = run.Train(&engine_, TwoEpochs());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(run.phases().size(), 2u);
  EXPECT_EQ(run.phases()[0].name, "train");
  EXPECT_EQ(run.phases()[1].name, "eval");
  ASSERT_EQ(run.epochs().size(), 2u);
  EXPECT_EQ(run.epochs()[0].name, "epoch 1");
  EXPECT_EQ(run.epochs()[1].name, "epoch 2");

  auto train = run.Phase("train");
  ASSERT_TRUE(train.ok());
  const WindowResult& t = (*train)->result;
  EXPECT_EQ((*train)->samples, 128);
  EXPECT_FALSE((*train)->mean_loss);
  EXPECT_NEAR(t.duration_s, 0.128, 1e-9);  // 8 steps x 16 samples x 1 ms
  EXPECT_NEAR(t.energy_j, 30 * 0.128, 1e-9);
  for (const auto& e : run.epochs()) {
    EXPECT_NEAR(e.result.duration_s, 0.064, 1e-9);
    EXPECT_GE(e.result.start_s, t.start_s - 1e-12);
    EXPECT_LE(e.result.start_s + e.result.duration_s, t.start_s + t.duration_s + 1e-12);
    ASSERT_TRUE(e.mean_loss);
    EXPECT_GT(*e.mean_loss, 0);
  }
  EXPECT_EQ(run.epochs()[0].samples, 64);
  EXPECT_DOUBLE_EQ(*run.epochs()[0].mean_loss, r->epoch_loss[0]);
  auto eval = run.Phase("eval");
  ASSERT_TRUE(eval.ok());
  EXPECT_EQ((*eval)->samples, 30);
  EXPECT_GE((*eval)->result.start_s, t.start_s + t.duration_s - 1e-12);
  EXPECT_EQ(run.step_losses(), r->step_loss);
  EXPECT_EQ(run.step_losses().size(), 8u);
  EXPECT_TRUE(run.error().ok());
  EXPECT_EQ(meter_.open_windows(), 0u);
  // No setup label: no setup span; one span per closed window.
  EXPECT_EQ(run.spans().size(), 4u);
}

TEST_F(MeteredRunTest, SetupSpanCoversSetupAndWarmupBeforeTheFirstPhase) {
  MeteredRunOptions o;
  o.setup_label = "setup+warmup";
  MeteredRun run(&meter_, o);
  ASSERT_TRUE(run.Train(&engine_, TwoEpochs()).ok());
  ASSERT_FALSE(run.spans().empty());
  const auto& setup = run.spans().front();
  EXPECT_EQ(setup.name, "setup+warmup");
  EXPECT_NEAR(setup.end_s - setup.start_s, 0.050 + 0.016, 1e-9);  // fake setup + one warm-up step of 16
  const WindowResult& train = (*run.Phase("train"))->result;
  EXPECT_NEAR(setup.end_s, train.start_s, 1e-9);
  // The span is for the timeline, not a phase.
  for (const auto& w : run.phases()) EXPECT_NE(w.name, "setup+warmup");
  EXPECT_EQ(meter_.open_windows(), 0u);
}

TEST_F(MeteredRunTest, InferGivesOneWindowAndAnUnannouncedPhaseIsInternal) {
  MeteredRun run(&meter_);
  InferConfig c;
  c.model = "lenet";
  c.batch_size = 8;
  c.samples = 60;
  auto r = run.Infer(&engine_, c);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(run.phases().size(), 1u);
  EXPECT_EQ(run.phases()[0].name, "infer");
  EXPECT_EQ(run.phases()[0].samples, 60);
  EXPECT_TRUE(run.epochs().empty());
  auto eval = run.Phase("eval");
  ASSERT_FALSE(eval.ok());
  EXPECT_EQ(eval.status().kind(), Status::Kind::kInternal);
  EXPECT_NE(eval.status().message().find("never announced the eval phase"), std::string::npos);
}

TEST_F(MeteredRunTest, MeterErrorStopsTheRunAndIsReturnedInsteadOfTheEnginesStop) {
  FailingMeter meter(&env_, "epoch 1");
  ASSERT_TRUE(meter.Start().ok());
  MeteredRun run(&meter);
  auto r = run.Train(&engine_, TwoEpochs());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), Status::Kind::kIOError) << r.status().ToString();  // not kInterrupted
  EXPECT_NE(r.status().message().find("meter window 'epoch 1'"), std::string::npos) << r.status().ToString();
  EXPECT_TRUE(run.ShouldStop());
  // The engine stopped at the next poll: epoch 2 never ran a step.
  EXPECT_EQ(run.step_losses().size(), 4u);
  EXPECT_TRUE(run.phases().empty());
  // The train window the engine left open was closed anyway.
  EXPECT_EQ(meter.open_windows(), 0u);
  auto train = run.Phase("train");
  ASSERT_FALSE(train.ok());
  EXPECT_EQ(train.status().kind(), Status::Kind::kIOError);
}

TEST_F(MeteredRunTest, StopIsPolledBetweenStepsAndProgressNamesPhasesAndSteps) {
  std::vector<std::string> progress;
  int polls = 0;
  MeteredRunOptions o;
  o.stop = [&] { return ++polls > 3; };
  o.progress = [&](const std::string& what) { progress.push_back(what); };
  MeteredRun run(&meter_, o);
  auto r = run.Train(&engine_, TwoEpochs());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), Status::Kind::kInterrupted);
  EXPECT_EQ(progress, (std::vector<std::string>{"train", "step 1", "step 2", "step 3"}));
  EXPECT_TRUE(run.error().ok());
  EXPECT_EQ(meter_.open_windows(), 0u);
}

TEST_F(MeteredRunTest, DestructorClosesWindowsTheEngineLeftOpen) {
  {
    MeteredRunOptions o;
    o.setup_label = "setup+warmup";
    MeteredRun run(&meter_, o);
    run.OnPhaseBegin("train");
    run.OnEpochBegin(1);
    EXPECT_EQ(meter_.open_windows(), 2u);
  }
  EXPECT_EQ(meter_.open_windows(), 0u);
}

TEST_F(MeteredRunTest, IdleBaselineAndContext) {
  MeterContext c = CollectMeterContext(meter_, engine_);
  EXPECT_EQ(c.sources, std::vector<std::string>{kSourceRaplPowercap});
  EXPECT_FALSE(c.estimated);
  EXPECT_DOUBLE_EQ(c.interval_s, 0.1);
  EXPECT_FALSE(c.idle_power_w);
  EXPECT_EQ(c.versions, (std::vector<std::pair<std::string, std::string>>{{"libtorch", "fake"}}));
  ASSERT_TRUE(MeasureIdleBaseline(&meter_, 0, &c).ok());  // 0: none
  EXPECT_EQ(meter_.idle_measurements, 0);
  ASSERT_TRUE(MeasureIdleBaseline(&meter_, 2, &c).ok());
  EXPECT_EQ(meter_.idle_measurements, 1);
  EXPECT_DOUBLE_EQ(*c.idle_power_w, 10);
  EXPECT_DOUBLE_EQ(c.idle_measured_s, 2);
  // Windows after the baseline have energy above idle.
  MeteredRun run(&meter_);
  ASSERT_TRUE(run.Train(&engine_, TwoEpochs()).ok());
  const WindowResult& t = (*run.Phase("train"))->result;
  ASSERT_TRUE(t.energy_above_idle_j);
  EXPECT_NEAR(*t.energy_above_idle_j, (30 - 10) * 0.128, 1e-9);
}

// FakeClockEnv with files in memory and HOME set: the idle state file lives here.
class FileEnv : public FakeClockEnv {
 public:
  FileEnv() { files["/proc/sys/kernel/hostname"] = "testhost\n"; }
  Result<std::string> ReadFile(const std::string& p) override {
    auto it = files.find(p);
    if (it == files.end()) return Status::NotFound(p);
    return it->second;
  }
  Status WriteFileAtomically(const std::string& p, const std::string& text) override {
    if (read_only) return Status::PermissionDenied(p + ": read-only (injected)");
    files[p] = text;
    return Status::Ok();
  }
  Status CreateDirs(const std::string&) override { return Status::Ok(); }
  std::optional<std::string> GetEnvVar(const std::string& n) override {
    if (n == "HOME") return std::string("/home/u");
    return std::nullopt;
  }
  std::map<std::string, std::string> files;
  bool read_only = false;
};

constexpr const char* kStatePath = "/home/u/.local/state/wattlab/idle.json";

class IdleReuseTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(meter_.Start().ok()); }
  // Stores an entry for this host and the meter's sources, `age_s` old.
  void Store(double power_w, double age_s, bool busy = false, std::string host = "testhost") {
    IdleEntry e;
    e.host = host;
    e.sources = meter_.sources();
    e.idle_power_w = power_w;
    e.domains_w = {{"package-0", power_w}};
    e.measured_at_s = env_.NowWallSeconds() - age_s;
    e.duration_s = 10;
    e.busy = busy;
    ASSERT_TRUE(SaveIdleEntry(&env_, kStatePath, e).ok());
  }
  FileEnv env_;
  FakeMeter meter_{&env_, /*busy_power_w=*/30, /*idle_power_w=*/10};
  MeterContext c_;
};

TEST_F(IdleReuseTest, ReusesAFreshQuietStoredBaselineWithoutWaiting) {
  Store(7.5, /*age_s=*/600);
  const auto t0 = env_.NowMonotonic();
  ASSERT_TRUE(EstablishIdleBaseline(&env_, &meter_, {2, 3600}, &c_).ok());
  EXPECT_EQ(env_.NowMonotonic(), t0);  // no idle wait at all
  EXPECT_EQ(meter_.idle_measurements, 0);
  EXPECT_DOUBLE_EQ(*meter_.idle_power_w(), 7.5);
  EXPECT_EQ(meter_.idle_domain_powers_w().size(), 1u);
  EXPECT_DOUBLE_EQ(*c_.idle_power_w, 7.5);
  ASSERT_TRUE(c_.idle_stored_at_s);
  EXPECT_DOUBLE_EQ(*c_.idle_stored_at_s, env_.NowWallSeconds() - 600);
  EXPECT_DOUBLE_EQ(c_.idle_measured_s, 0);
  EXPECT_FALSE(c_.idle_busy);
}

TEST_F(IdleReuseTest, MeasuresAndStoresWhenTheStoredOneIsTooOld) {
  Store(7.5, /*age_s=*/3601);
  ASSERT_TRUE(EstablishIdleBaseline(&env_, &meter_, {2, 3600}, &c_).ok());
  EXPECT_EQ(meter_.idle_measurements, 1);
  EXPECT_DOUBLE_EQ(*c_.idle_power_w, 10);
  EXPECT_FALSE(c_.idle_stored_at_s);
  EXPECT_DOUBLE_EQ(c_.idle_measured_s, 2);
  // The new one replaced the old entry and is reused next time.
  auto e = FindIdleEntry(&env_, kStatePath, "testhost", meter_.sources());
  ASSERT_TRUE(e.ok() && *e);
  EXPECT_DOUBLE_EQ((*e)->idle_power_w, 10);
  EXPECT_DOUBLE_EQ((*e)->measured_at_s, env_.NowWallSeconds());
  MeterContext again;
  ASSERT_TRUE(EstablishIdleBaseline(&env_, &meter_, {2, 3600}, &again).ok());
  EXPECT_EQ(meter_.idle_measurements, 1);
  EXPECT_TRUE(again.idle_stored_at_s);
}

TEST_F(IdleReuseTest, NeverReusesABusyOneOrAnotherHostsOrWhenTheAgeIsZero) {
  Store(7.5, 60, /*busy=*/true);
  ASSERT_TRUE(EstablishIdleBaseline(&env_, &meter_, {2, 3600}, &c_).ok());
  EXPECT_EQ(meter_.idle_measurements, 1);

  FileEnv other;
  FakeMeter m2{&other, 30, 10};
  ASSERT_TRUE(m2.Start().ok());
  IdleEntry e;
  e.host = "elsewhere";
  e.sources = m2.sources();
  e.idle_power_w = 5;
  e.measured_at_s = other.NowWallSeconds();
  ASSERT_TRUE(SaveIdleEntry(&other, kStatePath, e).ok());
  MeterContext c2;
  ASSERT_TRUE(EstablishIdleBaseline(&other, &m2, {2, 3600}, &c2).ok());
  EXPECT_EQ(m2.idle_measurements, 1);
  EXPECT_FALSE(c2.idle_stored_at_s);

  MeterContext c3;  // --idle-max-age 0: always measure, even with a fresh quiet entry
  ASSERT_TRUE(EstablishIdleBaseline(&other, &m2, {2, 0}, &c3).ok());
  EXPECT_EQ(m2.idle_measurements, 2);
}

TEST_F(IdleReuseTest, ABusyMeasurementIsStoredFlaggedAndAStoreFailureIsAWarning) {
  meter_.busy_idle = true;
  ASSERT_TRUE(EstablishIdleBaseline(&env_, &meter_, {2, 3600}, &c_).ok());
  EXPECT_TRUE(c_.idle_busy);
  auto e = FindIdleEntry(&env_, kStatePath, "testhost", meter_.sources());
  ASSERT_TRUE(e.ok() && *e);
  EXPECT_TRUE((*e)->busy);

  env_.read_only = true;
  MeterContext c2;
  ASSERT_TRUE(EstablishIdleBaseline(&env_, &meter_, {2, 3600}, &c2).ok());
  EXPECT_DOUBLE_EQ(*c2.idle_power_w, 10);
  EXPECT_NE(c2.idle_store_warning.find("read-only (injected)"), std::string::npos) << c2.idle_store_warning;
}

TEST_F(IdleReuseTest, ZeroSecondsMeansNoBaselineAtAll) {
  Store(7.5, 60);
  ASSERT_TRUE(EstablishIdleBaseline(&env_, &meter_, {0, 3600}, &c_).ok());
  EXPECT_FALSE(c_.idle_power_w);
  EXPECT_FALSE(meter_.idle_power_w());
}

TEST_F(MeteredRunTest, StudyContextNamesEngineVersionsAndMeter) {
  StudyInfo info = CollectStudyContext(&env_, meter_, engine_, "9.9.9 (git test)");
  EXPECT_EQ(info.libtorch, "fake");
  EXPECT_EQ(info.wattlab_version, "9.9.9 (git test)");
  EXPECT_EQ(info.sources, std::vector<std::string>{kSourceRaplPowercap});
  EXPECT_DOUBLE_EQ(info.interval_s, 0.1);
  EXPECT_FALSE(info.estimated);
  EXPECT_EQ(info.host, "");  // the fake Env has no /proc: empty, not an error
}

}  // namespace
}  // namespace wattlab
