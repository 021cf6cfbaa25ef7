// Study: spec parsing and validation, plan expansion and seeded order, the
// runner against a fake engine and meter (resume semantics, interruption,
// failures), presets, and the kill-and-resume test with a real child process.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "catalog/catalog.h"
#include "fakes.h"
#include "platform/real_env.h"
#include "store/store.h"
#include "store_env.h"
#include "study/plan.h"
#include "study/runner.h"
#include "study/spec.h"
#include "study/wait_policy_groups.h"

extern char** environ;

namespace wattlab {
namespace {

using testing::StoreEnv;

namespace fs = std::filesystem;
using testing::FakeClockEnv;
using testing::FakeEngine;
using testing::FakeMeter;

const char* kTiny = R"(name = "tiny"
seed = 3
repetitions = 2
cooldown_s = 0.5
idle_s = 2
idle_every_s = 3

[[sweep]]
models = ["lenet", "mlp:depth=2,width=64"]
batch_sizes = [8, 32]
threads = [1]
phases = ["train", "infer"]
profile_steps = 3
epochs = 2
train_samples = 640
infer_samples = 64

[[sweep]]
models = ["lenet"]
batch_sizes = [32]
threads = [1]
phases = ["train"]
epochs = 2
train_samples = 320
full_length = true
evaluate = true
eval_samples = 100
)";

StudySpec Tiny() {
  auto s = ParseStudySpec(kTiny, "tiny.toml");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

// ---------------------------------------------------------------- spec

TEST(SpecTest, ParsesAllKeys) {
  StudySpec s = Tiny();
  EXPECT_EQ(s.name, "tiny");
  EXPECT_EQ(s.seed, 3u);
  EXPECT_EQ(s.repetitions, 2);
  EXPECT_DOUBLE_EQ(s.cooldown_s, 0.5);
  EXPECT_EQ(s.dataset, "fashion-mnist");
  ASSERT_EQ(s.sweeps.size(), 2u);
  EXPECT_EQ(s.sweeps[0].models.size(), 2u);
  EXPECT_EQ(s.sweeps[0].batch_sizes, (std::vector<int64_t>{8, 32}));
  EXPECT_EQ(s.sweeps[0].line, 8);
  EXPECT_TRUE(s.sweeps[1].full_length);
  EXPECT_TRUE(s.sweeps[1].evaluate);
  EXPECT_EQ(s.toml, kTiny);
}

struct BadCase {
  std::string text, must_contain;
};

void ExpectError(const std::string& text, const std::vector<std::string>& parts) {
  auto s = ParseStudySpec(text, "my.toml");
  ASSERT_FALSE(s.ok()) << text;
  EXPECT_EQ(s.status().kind(), Status::Kind::kInvalidArgument);
  for (const auto& p : parts)
    EXPECT_NE(s.status().message().find(p), std::string::npos)
        << "message: " << s.status().message() << "\nmissing: " << p;
}

TEST(SpecTest, UnknownTopLevelKeyNamesFileLineKeyAndAllowed) {
  ExpectError("name = \"x\"\nsed = 4\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[1]\n",
              {"my.toml:2:", "key 'sed'", "unknown key", "seed"});
}

// Issue 12: `calibrate` runs the operator micro-benchmarks before a study.
TEST(SpecTest, CalibrateKey) {
  const std::string sweep = "[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[1]\n";
  EXPECT_EQ(Tiny().calibrate, "");
  for (const auto& [value, want] : std::vector<std::pair<std::string, std::string>>{
           {"true", "default"}, {"false", ""}, {"\"quick\"", "quick"}, {"\"default\"", "default"}}) {
    auto s = ParseStudySpec("name = \"x\"\ncalibrate = " + value + "\n" + sweep, "my.toml");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    EXPECT_EQ(s->calibrate, want) << value;
  }
  ExpectError("name = \"x\"\ncalibrate = \"fast\"\n" + sweep, {"my.toml:2:", "calibrate", "\"quick\""});
  auto preset = LoadPreset("default");
  ASSERT_TRUE(preset.ok());
  EXPECT_EQ(preset->calibrate, "quick");
}

TEST(SpecTest, UnknownSweepKey) {
  ExpectError("name = \"x\"\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[1]\nbatch=4\n",
              {"my.toml:5:", "key 'sweep[1].batch'", "allowed keys here", "batch_sizes"});
}

TEST(SpecTest, WrongType) {
  ExpectError("name = \"x\"\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=\"big\"\n",
              {"my.toml:4:", "sweep[1].batch_sizes", "expected an array of integers, got a string"});
  ExpectError("name = \"x\"\nrepetitions = 1.5\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[1]\n",
              {"my.toml:2:", "'repetitions'", "expected an integer"});
  ExpectError("name = \"x\"\n[[sweep]]\nmodels=[\"lenet\", 3]\nbatch_sizes=[1]\n",
              {"my.toml:3:", "sweep[1].models", "array of strings"});
}

TEST(SpecTest, EmptySweeps) {
  ExpectError("name = \"x\"\n[[sweep]]\nmodels=[]\nbatch_sizes=[1]\n", {"my.toml:3:", "empty sweep"});
  ExpectError("name = \"x\"\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[]\n", {"my.toml:4:", "empty sweep"});
  ExpectError("name = \"x\"\n", {"key 'sweep'", "at least one [[sweep]]"});
  ExpectError("name = \"x\"\n[[sweep]]\nbatch_sizes=[1]\n", {"my.toml:2:", "sweep[1].models", "missing"});
}

TEST(SpecTest, UnknownModelListsAllowed) {
  ExpectError(
      "name = \"x\"\n[[sweep]]\nmodels=[\"lenet\", \"resnet19\"]\nbatch_sizes=[1]\n",
      {"my.toml:3:", "sweep[1].models", "unknown model 'resnet19'", "resnet18", "mlp:depth=D,width=W"});
  ExpectError("name = \"x\"\n[[sweep]]\nmodels=[\"mlp:depth=2,height=3\"]\nbatch_sizes=[1]\n",
              {"my.toml:3:", "unknown key 'height'; the form is mlp:depth=D,width=W"});
}

TEST(SpecTest, RangesAndEnums) {
  ExpectError("name = \"x\"\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[0]\n",
              {"my.toml:4:", "must be >= 1"});
  ExpectError("name = \"x\"\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[1]\nprofile_steps=2\n",
              {"my.toml:5:", "profile_steps", "must be >= 3"});
  ExpectError("name = \"x\"\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[1]\nprecision=[\"fp16\"]\n",
              {"my.toml:5:", "'fp16' is not allowed; allowed: fp32, bf16"});
  ExpectError("name = \"x\"\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[1]\nphases=[\"eval\"]\n",
              {"my.toml:5:", "allowed: train, infer"});
  ExpectError("name = \"x\"\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[1]\nevaluate=true\n",
              {"my.toml:5:", "needs full_length = true"});
  ExpectError("name = \"x\"\ndataset=\"mnist\"\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[1]\n",
              {"my.toml:2:", "unknown dataset 'mnist'", "cifar10:DIR"});
  ExpectError("[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[1]\n", {"key 'name'", "missing"});
}

// Found with tests/fuzz/spec_fuzz (corpus/spec/crash-inf-values.toml): TOML's
// inf passed ">= 0", so `cooldown_s = inf` or `lr = inf` was a valid spec.
TEST(SpecTest, InfiniteNumbersAreRefused) {
  ExpectError("name = \"x\"\ncooldown_s = inf\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[1]\n",
              {"my.toml:2:", "cooldown_s", "must be a finite number, got inf"});
  ExpectError("name = \"x\"\nidle_every_s = +inf\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[1]\n",
              {"my.toml:2:", "idle_every_s", "finite"});
  ExpectError("name = \"x\"\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[1]\nlr = inf\n",
              {"my.toml:5:", "lr", "finite"});
  ExpectError("name = \"x\"\nidle_s = nan\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[1]\n",
              {"my.toml:2:", "idle_s", "must be >= 0"});
}

TEST(SpecTest, InvalidTomlNamesLine) {
  ExpectError("name = \"x\"\n\nseed = = 3\n", {"my.toml:3:", "not valid TOML"});
}

TEST(SpecTest, PresetsParseAndFitTheirBudgets) {
  for (const auto& name : PresetNames()) {
    auto s = LoadPreset(name);
    ASSERT_TRUE(s.ok()) << name << ": " << s.status().ToString();
    EXPECT_EQ(s->name, name);
    EXPECT_EQ(s->file, "preset:" + name);
  }
  EXPECT_FALSE(LoadPreset("huge").ok());

  auto def = *LoadPreset("default");
  auto plan = ExpandPlan(def);
  std::set<std::string> models;
  for (const auto& r : plan) models.insert(r.model);
  for (const auto& m : catalog::ReferenceModels()) EXPECT_TRUE(models.count(m)) << m;
  // Estimated within the 10-minute budget, with room for the estimate's error.
  EXPECT_LT(EstimateStudySeconds(plan, def), 8 * 60.0);
  // Full-length runs with accuracy for lenet, an MLP and a small resnet.
  std::set<std::string> full;
  for (const auto& r : plan)
    if (r.full_length && r.evaluate) full.insert(r.model.substr(0, r.model.find(':')));
  EXPECT_EQ(full, (std::set<std::string>{"lenet", "mlp", "resnet"}));
  // A batch sweep for at least three models.
  std::map<std::string, std::set<int64_t>> batches;
  for (const auto& r : plan) batches[r.model].insert(r.batch_size);
  int swept = 0;
  for (const auto& [m, b] : batches) swept += b.size() >= 3;
  EXPECT_GE(swept, 3);

  auto quick = *LoadPreset("quick");
  EXPECT_LT(EstimateStudySeconds(ExpandPlan(quick), quick), 90.0);
  auto paper = *LoadPreset("paper");
  EXPECT_EQ(ExpandPlan(paper).size(), 16u + 16u * 11u);
}

// Issue 11: a study's defaults never pick the slower precision. bf16 training
// can be several times slower than fp32 with more than one thread
// (docs/benchmarks.md), so every preset, and a sweep that names no
// precision, runs fp32; the OpenMP wait policy is left to the process.
TEST(SpecTest, PresetsAndUnnamedPrecisionRunFp32) {
  for (const auto& name : PresetNames()) {
    auto s = LoadPreset(name);
    ASSERT_TRUE(s.ok()) << name;
    for (const auto& r : ExpandPlan(*s)) {
      EXPECT_EQ(r.precision, "fp32") << name << " run " << r.run_id;
      EXPECT_EQ(r.omp_wait_policy, "") << name << " run " << r.run_id;
    }
  }
  for (const auto& r : ExpandPlan(Tiny())) EXPECT_EQ(r.precision, "fp32");
}

// ---------------------------------------------------------------- plan

TEST(PlanTest, ExpandsEveryCombinationTimesRepetitions) {
  StudySpec s = Tiny();
  auto plan = ExpandPlan(s);
  // sweep 1: 2 models x 2 batches; sweep 2: 1 -> 5 configs x 2 repetitions.
  ASSERT_EQ(plan.size(), 10u);
  std::set<std::string> configs;
  std::map<std::string, std::set<int64_t>> reps;
  for (size_t i = 0; i < plan.size(); ++i) {
    EXPECT_EQ(plan[i].run_id, (int64_t)i + 1);
    configs.insert(plan[i].config_id);
    reps[plan[i].config_id].insert(plan[i].repetition);
  }
  EXPECT_EQ(configs.size(), 5u);
  for (const auto& [c, r] : reps) EXPECT_EQ(r, (std::set<int64_t>{0, 1})) << c;
  for (const auto& r : plan) {
    if (r.full_length) {
      EXPECT_EQ(r.steps_per_epoch, 10);  // 320 / 32
      EXPECT_EQ(r.full_steps(), 20);
      EXPECT_TRUE(r.evaluate);
      EXPECT_FALSE(r.infer);
    } else {
      EXPECT_EQ(r.steps_per_epoch, (640 + r.batch_size - 1) / r.batch_size);
      EXPECT_TRUE(r.infer);
    }
  }
}

TEST(PlanTest, SeededOrderIsStableAndSeedDependent) {
  StudySpec s = Tiny();
  auto a = ExpandPlan(s), b = ExpandPlan(s);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].config_id, b[i].config_id);
    EXPECT_EQ(a[i].repetition, b[i].repetition);
  }
  // Golden order for seed 3 (mt19937_64 Fisher-Yates): changing it breaks --resume of old studies.
  std::string order;
  for (const auto& r : a)
    order += r.model.substr(0, 1) + std::to_string(r.batch_size) + (r.full_length ? "F" : "") + "/" +
             std::to_string(r.repetition) + " ";
  EXPECT_EQ(order, "l32/0 l32/1 l8/0 l32F/0 m32/1 l8/1 m8/0 m32/0 l32F/1 m8/1 ");
  s.seed = 4;
  auto c = ExpandPlan(s);
  bool differs = false;
  for (size_t i = 0; i < a.size(); ++i)
    differs = differs || a[i].config_id != c[i].config_id || a[i].repetition != c[i].repetition;
  EXPECT_TRUE(differs);
}

TEST(PlanTest, ConfigIdIgnoresOrderAndDeduplicates) {
  StudySpec s = Tiny();
  auto a = ExpandPlan(s);
  s.seed = 99;
  s.sweeps.push_back(s.sweeps[0]);  // duplicate sweep: no new configurations
  auto b = ExpandPlan(s);
  EXPECT_EQ(a.size(), b.size());
  std::set<std::string> ca, cb;
  for (const auto& r : a) ca.insert(r.config_id);
  for (const auto& r : b) cb.insert(r.config_id);
  EXPECT_EQ(ca, cb);
}

const char* kOmpSweep = R"(name = "omp"
seed = 5
cooldown_s = 0
idle_s = 0

[[sweep]]
models = ["lenet"]
batch_sizes = [8]
threads = [1]
phases = ["infer"]
infer_samples = 16
omp_wait_policy = ["default", "passive"]
)";

TEST(SpecTest, OmpWaitPolicyIsASweepDimension) {
  auto s = ParseStudySpec(kOmpSweep, "omp.toml");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->sweeps[0].omp_wait_policy, (std::vector<std::string>{"default", "passive"}));
  auto plan = ExpandPlan(*s);
  ASSERT_EQ(plan.size(), 2u);
  std::set<std::string> policies, ids;
  for (const auto& r : plan) policies.insert(r.omp_wait_policy), ids.insert(r.config_id);
  EXPECT_EQ(policies, (std::set<std::string>{"default", "passive"}));
  EXPECT_EQ(ids.size(), 2u);  // two configurations, not one

  // Not swept: the policy is the process's (empty), and the config ids are
  // what they were before the key existed.
  for (const auto& r : ExpandPlan(Tiny())) EXPECT_EQ(r.omp_wait_policy, "");
  std::string bad = std::string(kOmpSweep);
  bad.replace(bad.find("\"passive\""), 9, "\"spin\"");
  auto b = ParseStudySpec(bad, "omp.toml");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("omp.toml:12: key 'sweep[1].omp_wait_policy': 'spin' is not allowed"),
            std::string::npos)
      << b.status().message();
  std::string twice = std::string(kOmpSweep);
  twice.replace(twice.find("\"passive\""), 9, "\"default\"");
  EXPECT_FALSE(ParseStudySpec(twice, "omp.toml").ok());
}

TEST(PlanTest, FormatPlanShowsRunsAndEstimate) {
  StudySpec s = Tiny();
  auto plan = ExpandPlan(s);
  std::string text = FormatPlan(plan, s);
  EXPECT_NE(text.find("10 runs"), std::string::npos) << text;
  EXPECT_NE(text.find("estimated time"), std::string::npos);
  EXPECT_NE(text.find("full(20)+eval"), std::string::npos) << text;
}

// ---------------------------------------------------------------- runner

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wattlab_study_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "s.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<Store> OpenStore() {
    auto s = Store::Open(StoreEnv(), db_, OpenMode::kCreate);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(*s);
  }
  fs::path dir_;
  std::string db_;
};

TEST_F(RunnerTest, RunsEveryPlannedRunOnceWithRowsAndTimelines) {
  FakeClockEnv env;
  FakeMeter meter(&env);
  FakeEngine engine(&env);
  auto store = OpenStore();
  std::ostringstream log;
  RunnerOptions opt;
  opt.log = &log;
  StudyRunner runner(Tiny(), &engine, &meter, store.get(), &env, opt);
  StudyInfo ctx;
  ctx.host = "h";
  auto out = runner.Run(ctx);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->planned, 10);
  EXPECT_EQ(out->done_now, 10);
  EXPECT_TRUE(out->finished);
  EXPECT_FALSE(out->interrupted);
  EXPECT_EQ(meter.open_windows(), 0u);
  EXPECT_GE(meter.idle_measurements, 2);  // at start and again after idle_every_s

  auto rows = *store->ReadRows("tiny");
  // 8 profile+infer runs x 2 rows + 2 full runs x 4 rows (train and eval
  // profiles, train and eval full).
  ASSERT_EQ(rows.size(), 8u * 2 + 2u * 4);
  for (const auto& r : rows) {
    EXPECT_EQ(r.source, "rapl-powercap");
    EXPECT_FALSE(r.estimated);
    EXPECT_GT(r.duration_s, 0);
    EXPECT_NEAR(r.energy_j, 30 * r.duration_s, 1e-6);
    ASSERT_TRUE(r.energy_above_idle_j.has_value());
    EXPECT_NEAR(*r.energy_above_idle_j, 20 * r.duration_s, 1e-6);
    if (r.phase == "train" && r.window == "profile") {
      EXPECT_EQ(r.steps, 3);
      EXPECT_EQ(r.samples, 3 * r.batch_size);
      ASSERT_TRUE(r.extrapolated_energy_j.has_value());
    }
    if (r.phase == "eval" && r.window == "full") {
      EXPECT_EQ(r.accuracy, 0.8);
    }
    if (r.model == "lenet") {
      EXPECT_EQ(r.params, 62006);
      EXPECT_EQ(r.macs, 652000);
    }
  }
  // The fake's steps cost the same per sample, so extrapolation is exact.
  int compared = 0;
  for (const auto& p : rows) {
    if (p.window != "profile" || !p.extrapolated_energy_j) continue;
    for (const auto& f : rows) {
      if (f.window == "full" && f.phase == p.phase && f.config_id == p.config_id &&
          f.repetition == p.repetition) {
        EXPECT_NEAR(*p.extrapolated_energy_j, f.energy_j, 1e-6 * f.energy_j) << p.phase;
        ++compared;
      }
    }
  }
  EXPECT_EQ(compared, 4);  // train and eval, two repetitions

  auto tl = *store->ReadTimelines("tiny");
  ASSERT_EQ(tl.size(), 10u);
  for (const auto& t : tl) {
    EXPECT_FALSE(t.t_s.empty());
    EXPECT_LE(t.t_s.size(), 400u);
    EXPECT_DOUBLE_EQ(t.power_w.front(), 30);  // in_total domains only (core-0 excluded)
    std::set<std::string> names;
    for (const auto& w : t.windows) names.insert(w.name);
    EXPECT_TRUE(names.count("setup+warmup"));
    EXPECT_TRUE(names.count("train profile"));
  }
  auto study = *store->ReadStudy("tiny");
  ASSERT_TRUE(study.has_value());
  EXPECT_TRUE(study->finished_at_unix_s.has_value());
  EXPECT_EQ(study->host, "h");
  EXPECT_EQ(study->spec_toml, kTiny);
  EXPECT_GE(study->idle_baselines.size(), 2u);
  // Warm-up is outside the window: train calls ask for 1 warm-up step, 3 measured steps.
  EXPECT_EQ(engine.train_calls[0].warmup_steps, 1);
  // Inference windows last at least 0.25 s (infer_samples the least), so a small model's is not mostly edges.
  ASSERT_FALSE(engine.infer_calls.empty());
  for (const auto& c : engine.infer_calls) EXPECT_DOUBLE_EQ(c.min_duration_s, 0.25);
  // ... with convolution weights packed (the engine's default, zoo/packing.h).
  for (const auto& c : engine.infer_calls) EXPECT_EQ(c.conv_weights, "packed");
  EXPECT_NE(log.str().find("run 1/10"), std::string::npos) << log.str();

  std::string summary = SummarizeStudy(rows);
  EXPECT_NE(summary.find("inference: cheapest per sample"), std::string::npos) << summary;
  EXPECT_NE(summary.find("energy-optimal batch"), std::string::npos) << summary;
  EXPECT_NE(summary.find("extrapolation error: lenet +0.0%"), std::string::npos) << summary;
}

// The profile stops on the standard-error rule (study/profile.h): steady
// steps stop at profile_steps; steps too noisy to settle run to the cap.
// A study that calibrates reuses a stored calibration of the same machine
// context, except one that timed convolutions unpacked (made before
// inference packed their weights): that one is calibrated again.
TEST_F(RunnerTest, CalibratesAgainWhenTheStoredCalibrationTimedConvolutionsUnpacked) {
  // Runs a study that asks to calibrate; returns the engine's calibrations and the log.
  auto run = [&](const std::string& name, std::string* log_text) -> size_t {
    FakeClockEnv env;
    FakeMeter meter(&env);
    FakeEngine engine(&env);
    auto store = OpenStore();
    StudySpec spec = Tiny();
    spec.name = name;
    spec.calibrate = "quick";
    std::ostringstream log;
    RunnerOptions opt;
    opt.log = &log;
    StudyRunner runner(spec, &engine, &meter, store.get(), &env, opt);
    StudyInfo ctx;
    ctx.host = "h";
    auto out = runner.Run(ctx);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    *log_text = log.str();
    return engine.calibrate_calls.size();
  };
  {
    auto store = OpenStore();
    CalibrationRow old;
    old.host = "h";
    old.wait_policy = "default";
    old.threads = 1;
    old.precision = "fp32";
    old.shapes = "quick";
    CalibrationPoint p;
    p.op.kind = "conv";
    p.forward_s = 2e-3;
    p.train_s = 3e-3;  // forward_packed false: as calibrations before packing were
    old.points = {p};
    ASSERT_TRUE(store->SaveCalibration(old).ok());
  }
  std::string log;
  EXPECT_EQ(run("first", &log), 1u) << log;
  EXPECT_NE(log.find("timed convolutions unpacked"), std::string::npos) << log;
  // The new one (packed) is reused by the next study.
  EXPECT_EQ(run("second", &log), 0u) << log;
  EXPECT_NE(log.find("reusing the stored one"), std::string::npos) << log;
}

TEST_F(RunnerTest, ProfileRunsUntilTheMeanStepIsKnownOrTheCap) {
  const std::string spec_text = R"(name = "se"
seed = 1
repetitions = 1
cooldown_s = 0
idle_s = 1
[[sweep]]
models = ["lenet"]
batch_sizes = [8]
threads = [1]
phases = ["train"]
profile_steps = 4
max_profile_steps = 12
)";
  for (double spread : {0.0, 0.005, 0.3}) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    FakeClockEnv env;
    FakeMeter meter(&env);
    FakeEngine engine(&env);
    int step = 0;
    engine.slowdown = [&] { return 1.0 + (step++ % 2 == 0 ? spread : -spread); };
    auto store = OpenStore();
    auto spec = ParseStudySpec(spec_text, "se.toml");
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    StudyRunner runner(*spec, &engine, &meter, store.get(), &env, RunnerOptions{});
    auto out = runner.Run(StudyInfo{});
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    ASSERT_EQ(engine.train_calls.size(), 1u);
    EXPECT_EQ(engine.train_calls[0].steps, 12);  // the cap is the most the engine is asked for
    auto rows = *store->ReadRows("se");
    ASSERT_EQ(rows.size(), 1u);
    // 0 and ±0.5%: SE <= 1% as soon as allowed; ±30% never within 12 steps.
    EXPECT_EQ(rows[0].steps, spread < 0.1 ? 4 : 12) << "spread " << spread;
    EXPECT_EQ(rows[0].samples, *rows[0].steps * 8);
    ASSERT_TRUE(rows[0].extrapolated_energy_j.has_value());
  }
}

TEST_F(RunnerTest, TtyProgressShowsRunModelPhaseElapsedEta) {
  FakeClockEnv env;
  FakeMeter meter(&env);
  FakeEngine engine(&env);
  auto store = OpenStore();
  std::ostringstream log;
  RunnerOptions opt;
  opt.log = &log;
  opt.tty = true;
  ASSERT_TRUE(StudyRunner(Tiny(), &engine, &meter, store.get(), &env, opt).Run({}).ok());
  std::string s = log.str();
  EXPECT_NE(s.find("\r\033[K[1/10] "), std::string::npos);
  EXPECT_NE(s.find("[10/10] "), std::string::npos);
  EXPECT_NE(s.find("train profile: step 2  elapsed "), std::string::npos) << s.substr(0, 400);
  EXPECT_NE(s.find("infer: infer  elapsed"), std::string::npos);
  EXPECT_NE(s.find("  ETA "), std::string::npos);
  EXPECT_EQ(s.find("run 1/10 (id"), std::string::npos);  // no plain log lines on a terminal
}

TEST_F(RunnerTest, RunsOnlyItsOwnOmpWaitPolicyAndRecordsIt) {
  FakeClockEnv env;
  FakeMeter meter(&env);
  FakeEngine engine(&env);
  auto store = OpenStore();
  auto spec = ParseStudySpec(kOmpSweep, "omp.toml");
  ASSERT_TRUE(spec.ok());
  RunnerOptions opt;
  opt.omp_wait_policy = "passive";  // as a child started for "passive" runs
  StudyRunner runner(*spec, &engine, &meter, store.get(), &env, opt);
  auto out = runner.Run(StudyInfo{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->done_now, 1);
  EXPECT_FALSE(out->finished);  // the "default" run is left to another process
  auto rows = store->ReadRows("omp");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].omp_wait_policy, "passive");
  EXPECT_NE(SummarizeStudy(*rows).find("in force: OpenMP wait policy passive; precision fp32"),
            std::string::npos)
      << SummarizeStudy(*rows);

  // The other policy's process completes the study.
  RunnerOptions opt2;
  opt2.resume = true;
  opt2.omp_wait_policy = "default";
  StudyRunner second(*spec, &engine, &meter, store.get(), &env, opt2);
  auto out2 = second.Run(StudyInfo{});
  ASSERT_TRUE(out2.ok()) << out2.status().ToString();
  EXPECT_EQ(out2->done_now, 1);
  EXPECT_TRUE(out2->finished);
  rows = store->ReadRows("omp");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_NE(SummarizeStudy(*rows).find("OpenMP wait policy default (1 windows), passive (1 windows)"),
            std::string::npos)
      << SummarizeStudy(*rows);
}

// The parent's side of a policy sweep: one child per policy this process does
// not run, with that policy's environment ("default": the variable removed);
// the outcome comes from the store, whatever the children say.
TEST_F(RunnerTest, OtherWaitPoliciesGoToOneChildEachWithTheirEnvironment) {
  FakeClockEnv env;
  FakeMeter meter(&env);
  FakeEngine engine(&env);
  auto store = OpenStore();
  auto spec = ParseStudySpec(kOmpSweep, "omp.toml");
  ASSERT_TRUE(spec.ok());
  RunnerOptions opt;
  opt.omp_wait_policy = "passive";  // the parent runs passive; "default" goes to a child
  StudyRunner runner(*spec, &engine, &meter, store.get(), &env, opt);
  auto out = runner.Run(StudyInfo{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_FALSE(out->finished);

  std::vector<PolicyChild> children;
  auto spawn = [&](const PolicyChild& c) -> Result<int> {
    children.push_back(c);
    // The child: the same study, resumed, under its policy.
    RunnerOptions o;
    o.resume = true;
    o.omp_wait_policy = c.policy;
    StudyRunner child(*spec, &engine, &meter, store.get(), &env, o);
    auto r = child.Run(StudyInfo{});
    return r.ok() ? 0 : 1;
  };
  std::ostringstream log;
  ASSERT_TRUE(RunOtherWaitPolicies(runner, *store, "omp", spawn, nullptr, &log, &*out).ok());
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].policy, "default");
  EXPECT_EQ(children[0].set_env,
            (std::vector<std::pair<std::string, std::string>>{{kStudyOmpGroupEnvVar, "default"}}));
  EXPECT_EQ(children[0].unset_env, (std::vector<std::string>{"OMP_WAIT_POLICY"}));
  EXPECT_TRUE(out->finished);
  EXPECT_EQ(out->done_now, 2);
  EXPECT_EQ(out->failed, 0);
  EXPECT_NE(log.str().find("the runs under OpenMP wait policy default go to a child process"),
            std::string::npos);

  // Nothing left: no child.
  children.clear();
  ASSERT_TRUE(RunOtherWaitPolicies(runner, *store, "omp", spawn, nullptr, nullptr, &*out).ok());
  EXPECT_TRUE(children.empty());
}

TEST_F(RunnerTest, AWaitPolicyChildThatFailsOrIsInterruptedIsReported) {
  FakeClockEnv env;
  FakeMeter meter(&env);
  FakeEngine engine(&env);
  auto store = OpenStore();
  auto spec = ParseStudySpec(kOmpSweep, "omp.toml");
  ASSERT_TRUE(spec.ok());
  RunnerOptions opt;
  opt.omp_wait_policy = "default";
  StudyRunner runner(*spec, &engine, &meter, store.get(), &env, opt);
  auto out = runner.Run(StudyInfo{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();

  StudyOutcome failed = *out;
  ASSERT_TRUE(
      RunOtherWaitPolicies(
          runner, *store, "omp",
          [](const PolicyChild& c) -> Result<int> {
            EXPECT_EQ(c.set_env.back(), (std::pair<std::string, std::string>{"OMP_WAIT_POLICY", "PASSIVE"}));
            return 3;
          },
          nullptr, nullptr, &failed)
          .ok());
  EXPECT_EQ(failed.failed, 1);
  ASSERT_EQ(failed.failures.size(), 1u);
  EXPECT_NE(failed.failures[0].find("OpenMP wait policy passive: the child process exited with 3"),
            std::string::npos);
  EXPECT_FALSE(failed.finished);
  EXPECT_FALSE(failed.interrupted);

  StudyOutcome stopped = *out;
  ASSERT_TRUE(RunOtherWaitPolicies(
                  runner, *store, "omp",
                  [](const PolicyChild&) -> Result<int> { return kPolicyChildInterrupted; }, nullptr, nullptr,
                  &stopped)
                  .ok());
  EXPECT_TRUE(stopped.interrupted);
  EXPECT_EQ(stopped.failed, 0);

  // Interrupted before: no child starts.
  StudyOutcome before = *out;
  bool spawned = false;
  ASSERT_TRUE(RunOtherWaitPolicies(
                  runner, *store, "omp", [&](const PolicyChild&) -> Result<int> { return spawned = true, 0; },
                  [] { return true; }, nullptr, &before)
                  .ok());
  EXPECT_FALSE(spawned);
  EXPECT_TRUE(before.interrupted);

  // A child that cannot start is an error naming the policy.
  StudyOutcome broken = *out;
  Status st = RunOtherWaitPolicies(
      runner, *store, "omp",
      [](const PolicyChild&) -> Result<int> { return Status::NotFound("no such file"); }, nullptr, nullptr,
      &broken);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("OpenMP wait policy passive"), std::string::npos) << st.ToString();
}

TEST_F(RunnerTest, RunOrderFollowsThePlan) {
  FakeClockEnv env;
  FakeMeter meter(&env);
  FakeEngine engine(&env);
  auto store = OpenStore();
  StudyRunner runner(Tiny(), &engine, &meter, store.get(), &env, {});
  ASSERT_TRUE(runner.Run({}).ok());
  std::vector<std::string> expected;
  for (const auto& r : runner.plan()) expected.push_back(r.model + "/" + std::to_string(r.batch_size));
  std::vector<std::string> got;
  // Each run's first Train call is its profile (steps > 0).
  for (const auto& c : engine.train_calls)
    if (c.steps > 0) got.push_back(c.model + "/" + std::to_string(c.batch_size));
  EXPECT_EQ(got, expected);
}

TEST_F(RunnerTest, ExistingStudyNeedsResume) {
  FakeClockEnv env;
  FakeMeter meter(&env);
  FakeEngine engine(&env);
  auto store = OpenStore();
  ASSERT_TRUE(StudyRunner(Tiny(), &engine, &meter, store.get(), &env, {}).Run({}).ok());
  auto again = StudyRunner(Tiny(), &engine, &meter, store.get(), &env, {}).Run({});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().kind(), Status::Kind::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("--resume"), std::string::npos);

  // A different spec under the same name is refused even with --resume.
  StudySpec other = *ParseStudySpec(std::string(kTiny) + "# changed\n", "tiny.toml");
  RunnerOptions opt;
  opt.resume = true;
  auto diff = StudyRunner(other, &engine, &meter, store.get(), &env, opt).Run({});
  ASSERT_FALSE(diff.ok());
  EXPECT_NE(diff.status().message().find("different spec"), std::string::npos);

  // Resuming a finished study runs nothing and duplicates nothing.
  size_t calls = engine.train_calls.size();
  auto res = StudyRunner(Tiny(), &engine, &meter, store.get(), &env, opt).Run({});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->done_before, 10);
  EXPECT_EQ(res->done_now, 0);
  EXPECT_EQ(engine.train_calls.size(), calls);
  EXPECT_EQ(store->ReadRows("tiny")->size(), 24u);  // 8 x 2 + 2 x 4
}

TEST_F(RunnerTest, InterruptDiscardsCurrentRunAndResumeRedoesIt) {
  FakeClockEnv env;
  FakeMeter meter(&env);
  FakeEngine engine(&env);
  auto store = OpenStore();
  int polls = 0;
  RunnerOptions opt;
  // Stop in the middle of the 4th run's profile: ShouldStop is polled per step.
  opt.interrupted = [&] { return engine.train_calls.size() >= 4 && ++polls > 2; };
  auto out = StudyRunner(Tiny(), &engine, &meter, store.get(), &env, opt).Run({});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out->interrupted);
  EXPECT_FALSE(out->finished);
  auto ids = *store->CompletedRunIds("tiny");
  EXPECT_EQ(ids.size(), (size_t)out->done_now);
  EXPECT_LT(ids.size(), 10u);
  EXPECT_EQ(meter.open_windows(), 0u);
  EXPECT_FALSE(store->ReadStudy("tiny")->value().finished_at_unix_s.has_value());

  RunnerOptions ropt;
  ropt.resume = true;
  auto res = StudyRunner(Tiny(), &engine, &meter, store.get(), &env, ropt).Run({});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_TRUE(res->finished);
  EXPECT_EQ(res->done_before + res->done_now, 10);
  EXPECT_EQ(store->CompletedRunIds("tiny")->size(), 10u);
  EXPECT_EQ(store->ReadRows("tiny")->size(), 24u);  // 8 x 2 + 2 x 4
}

TEST_F(RunnerTest, FailedRunIsSkippedNotWritten) {
  FakeClockEnv env;
  FakeMeter meter(&env);
  FakeEngine engine(&env);
  auto store = OpenStore();
  auto spec = ParseStudySpec(
      "name = \"f\"\nidle_s = 1\n[[sweep]]\nmodels = [\"lenet\", \"broken\"]\nbatch_sizes = [4]\nphases = "
      "[\"train\"]\n",
      "f.toml");
  // "broken" is not a name the static check knows: build the spec by hand.
  ASSERT_FALSE(spec.ok());
  StudySpec s = *ParseStudySpec(
      "name = \"f\"\nidle_s = 1\n[[sweep]]\nmodels = [\"lenet\"]\nbatch_sizes = [4]\nphases = [\"train\"]\n",
      "f.toml");
  s.sweeps[0].models.push_back("broken");
  auto out = StudyRunner(s, &engine, &meter, store.get(), &env, {}).Run({});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->failed, 1);
  EXPECT_EQ(out->done_now, 1);
  EXPECT_FALSE(out->finished);
  ASSERT_EQ(out->failures.size(), 1u);
  EXPECT_NE(out->failures[0].find("broken"), std::string::npos);
  EXPECT_EQ(meter.open_windows(), 0u);
}

TEST_F(RunnerTest, UnknownModelRefusedBeforeAnythingRuns) {
  FakeClockEnv env;
  FakeMeter meter(&env);
  FakeEngine engine(&env);
  auto store = OpenStore();
  StudySpec s = *ParseStudySpec(
      "name = \"u\"\n[[sweep]]\nmodels = [\"lenet\", \"resnet18\"]\nbatch_sizes = [4]\n", "u.toml");
  auto out = StudyRunner(s, &engine, &meter, store.get(), &env, {}).Run({});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(out.status().message().find("u.toml: model 'resnet18'"), std::string::npos)
      << out.status().message();
  EXPECT_TRUE(engine.train_calls.empty());
  EXPECT_TRUE(store->ReadStudies()->empty());
}

// ---------------------------------------------------------------- kill and resume

// Runs the helper (the real runner, a fake engine whose steps take real time,
// the real store) as a child, SIGKILLs it mid-study, resumes, and checks that
// the database holds every run exactly once.
TEST_F(RunnerTest, SigkillMidStudyThenResumeHoldsEveryRunOnce) {
  std::string spec_path = (dir_ / "tiny.toml").string();
  std::ofstream(spec_path) << kTiny;
  auto spawn = [&](bool resume) {
    std::vector<std::string> args = {STUDY_KILL_HELPER, db_, spec_path};
    if (resume) args.push_back("--resume");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    EXPECT_EQ(posix_spawn(&pid, STUDY_KILL_HELPER, nullptr, nullptr, argv.data(), environ), 0);
    return pid;
  };
  pid_t pid = spawn(false);
  // Wait until some runs are committed, then kill without warning.
  size_t done_at_kill = 0;
  for (int i = 0; i < 2000; ++i) {
    usleep(5000);
    auto st = Store::Open(StoreEnv(), db_, OpenMode::kReadOnly);
    if (!st.ok()) continue;
    auto ids = (*st)->CompletedRunIds("tiny");
    if (ids.ok() && ids->size() >= 3) {
      done_at_kill = ids->size();
      break;
    }
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the helper finished before it was killed: make its runs slower";
  ASSERT_GE(done_at_kill, 3u);
  {
    auto st = Store::Open(StoreEnv(), db_, OpenMode::kReadWrite);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    auto ids = *(*st)->CompletedRunIds("tiny");
    ASSERT_LT(ids.size(), 10u) << "killed after the last run: the test proves nothing";
    // Every stored run is whole: profile+infer runs have 2 rows, full runs 3.
    std::map<int64_t, int> per_run;
    auto stored = *(*st)->ReadRows("tiny");
    for (const auto& r : stored) ++per_run[r.run_id];
    for (int64_t id : ids) EXPECT_TRUE(per_run[id] == 2 || per_run[id] == 3) << "run " << id;
    EXPECT_EQ(per_run.size(), ids.size());
  }
  pid = spawn(true);
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);

  auto st = Store::Open(StoreEnv(), db_, OpenMode::kReadOnly);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  auto ids = *(*st)->CompletedRunIds("tiny");
  EXPECT_EQ(ids, (std::set<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  auto rows = *(*st)->ReadRows("tiny");
  EXPECT_EQ(rows.size(), 24u);  // 8 x 2 + 2 x 4
  std::set<std::tuple<int64_t, std::string, std::string>> keys;
  for (const auto& r : rows)
    EXPECT_TRUE(keys.insert({r.run_id, r.phase, r.window}).second) << "duplicate row";
  EXPECT_EQ((*st)->ReadTimelines("tiny")->size(), 10u);
  auto study = *(*st)->ReadStudy("tiny");
  ASSERT_TRUE(study.has_value());
  EXPECT_TRUE(study->finished_at_unix_s.has_value());
}

}  // namespace
}  // namespace wattlab
