// Caps in studies (issue 13, items 4 and 5): the sweep keys, the plan's
// identity of a capped run, the runner setting caps through the fake NVML and
// a writable copy of tests/fixtures/caps, recording them per run, failing the
// runs of a cap that cannot be set, putting every knob back (at the end and
// when interrupted), and the analysis finding the capped device's known
// energy optimum.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "analysis/analysis.h"
#include "analysis/power_caps.h"
#include "capped_device.h"
#include "fakes.h"
#include "platform/real_env.h"
#include "store/export.h"
#include "store/store.h"
#include "study/plan.h"
#include "study/runner.h"
#include "study/spec.h"

namespace wattlab {
namespace {

namespace fs = std::filesystem;
using testing::CappedDevice;
using testing::FakeClockEnv;
using testing::FakeEngine;
using testing::FakeMeter;

const char* kFakeVars[] = {"FAKE_NVML_GPUS",         "FAKE_NVML_LIMITS_FILE", "FAKE_NVML_SET_RC",
                           "FAKE_NVML_SET_FAIL_GPU", "FAKE_NVML_MIN_MW",      "FAKE_NVML_MAX_MW",
                           "FAKE_NVML_DEFAULT_MW"};

std::string Slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string Trimmed(const fs::path& p) {
  std::string s = Slurp(p);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

StudySpec Spec(const std::string& sweep_extra, const std::string& name = "caps") {
  std::string text = "name = \"" + name +
                     "\"\nseed = 5\ncooldown_s = 0\nidle_s = 1\nidle_every_s = 0\n\n[[sweep]]\n"
                     "models = [\"lenet\"]\nbatch_sizes = [8]\nthreads = [1]\nphases = [\"train\"]\n"
                     "profile_steps = 5\n" +
                     sweep_extra;
  auto s = ParseStudySpec(text, "caps.toml");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : StudySpec{};
}

// ---------------------------------------------------------------- spec and plan

TEST(CapsSpecTest, ParsesTheFourKeys) {
  StudySpec s = Spec(
      "gpu_power_limits_pct = [100, 50]\ncpu_power_limits_w = [95.5]\ncpu_max_freqs_mhz = [2400, 3000]\n");
  ASSERT_EQ(s.sweeps.size(), 1u);
  EXPECT_EQ(s.sweeps[0].gpu_power_limits_pct, (std::vector<double>{100, 50}));
  EXPECT_EQ(s.sweeps[0].cpu_power_limits_w, (std::vector<double>{95.5}));
  EXPECT_EQ(s.sweeps[0].cpu_max_freqs_mhz, (std::vector<double>{2400, 3000}));
  EXPECT_TRUE(Spec("gpu_power_limits_w = 250\n").sweeps[0].gpu_power_limits_w == std::vector<double>{250});
}

TEST(CapsSpecTest, RefusesBothGpuFormsAndNonPositiveValues) {
  const std::string head = "name = \"x\"\n[[sweep]]\nmodels = [\"lenet\"]\nbatch_sizes = [8]\n";
  auto both = ParseStudySpec(head + "gpu_power_limits_w = [200]\ngpu_power_limits_pct = [50]\n", "x.toml");
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("not both"), std::string::npos) << both.status().message();
  auto zero = ParseStudySpec(head + "gpu_power_limits_pct = [100, 0]\n", "x.toml");
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("sweep[1].gpu_power_limits_pct"), std::string::npos);
  auto empty = ParseStudySpec(head + "cpu_max_freqs_mhz = []\n", "x.toml");
  EXPECT_FALSE(empty.ok());
  auto text = ParseStudySpec(head + "cpu_power_limits_w = [\"95\"]\n", "x.toml");
  EXPECT_FALSE(text.ok());
}

TEST(CapsPlanTest, CapsMultiplyConfigurationsAndAreTheirIdentity) {
  StudySpec s = Spec("gpu_power_limits_pct = [100, 70, 40]\ncpu_max_freqs_mhz = [2000, 3000]\n");
  auto plan = ExpandPlan(s);
  ASSERT_EQ(plan.size(), 6u);
  std::set<std::string> ids;
  std::set<std::pair<double, double>> caps;
  for (const auto& r : plan) {
    ids.insert(r.config_id);
    ASSERT_TRUE(r.gpu_power_limit_pct && r.cpu_max_freq_mhz);
    EXPECT_FALSE(r.gpu_power_limit_w || r.cpu_power_limit_w);
    caps.insert({*r.gpu_power_limit_pct, *r.cpu_max_freq_mhz});
  }
  EXPECT_EQ(ids.size(), 6u);
  EXPECT_EQ(caps.size(), 6u);
  // The same spec gives the same order and ids (resume), and a run without
  // caps keeps the id it had before caps existed: its key has no caps part.
  auto again = ExpandPlan(s);
  for (size_t i = 0; i < plan.size(); ++i) {
    EXPECT_EQ(again[i].config_id, plan[i].config_id);
    EXPECT_EQ(again[i].gpu_power_limit_pct, plan[i].gpu_power_limit_pct);
  }
  auto plain = ExpandPlan(Spec(""));
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_FALSE(plain[0].capped());
  EXPECT_EQ(ids.count(plain[0].config_id), 0u);
  EXPECT_NE(FormatPlan(plan, s).find("@ gpu 40%, 2000 MHz"), std::string::npos) << FormatPlan(plan, s);
}

// ---------------------------------------------------------------- runner

class CapsStudyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kFakeVars) unsetenv(v);
    dir_ = fs::temp_directory_path() / ("wattlab-capstudy-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::copy(CAPS_FIXTURES, dir_ / "tree", fs::copy_options::recursive);
    Roots roots;
    roots.sysfs = (dir_ / "tree/sys").string();
    roots.proc = (dir_ / "tree/proc").string();
    caps_env_ = NewRealEnv(roots);
    limits_ = dir_ / "gpu_limits_mw";
    journal_ = dir_ / "run/caps.json";
    {
      std::ofstream(limits_) << "320000\n320000\n";  // the driver's limits before the study
    }
    setenv("FAKE_NVML_GPUS", "2", 1);
    setenv("FAKE_NVML_LIMITS_FILE", limits_.c_str(), 1);
    device_.limits_file = limits_.string();
    db_ = (dir_ / "s.db").string();
  }
  void TearDown() override {
    for (const char* v : kFakeVars) unsetenv(v);
    fs::remove_all(dir_);
  }
  std::unique_ptr<Store> OpenStore() {
    auto s = Store::Open(caps_env_.get(), db_, OpenMode::kCreate);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(*s);
  }
  RunnerOptions Options(std::ostream* log) {
    RunnerOptions o;
    o.log = log;
    o.caps_env = caps_env_.get();
    o.caps.nvml_library = FAKE_NVML_PATH;
    o.caps.journal_path = journal_.string();
    return o;
  }
  // The fixture's CPU knobs hold the values found (a rewrite drops the
  // fixture's trailing newline, as sysfs would not keep one).
  void ExpectCpuKnobsAsFound() {
    auto same = [&](const std::string& rel) {
      EXPECT_EQ(Trimmed(dir_ / "tree" / rel), Trimmed(fs::path(CAPS_FIXTURES) / rel)) << rel;
    };
    same("sys/class/powercap/intel-rapl:0/constraint_0_power_limit_uw");
    same("sys/class/powercap/intel-rapl:1/constraint_0_power_limit_uw");
    same("sys/class/powercap/intel-rapl:1/enabled");
    for (int cpu = 0; cpu < 4; ++cpu)
      same("sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/cpufreq/scaling_max_freq");
  }

  fs::path dir_, limits_, journal_;
  std::string db_;
  std::unique_ptr<Env> caps_env_;
  CappedDevice device_;
};

TEST_F(CapsStudyTest, GpuPercentSweepStoresOneRunPerCapRestoresAndFindsTheOptimum) {
  FakeClockEnv env;
  FakeMeter meter(&env, 30, device_.idle_w);
  meter.busy_power = [this] { return device_.PowerW(); };
  FakeEngine engine(&env);
  engine.slowdown = [this] { return device_.Slowdown(); };
  // The engine sees the cap in force: check it while the runs go.
  std::vector<double> seen;
  auto store = OpenStore();
  std::ostringstream log;
  RunnerOptions opt = Options(&log);
  opt.interrupted = [&] {
    if (seen.size() < engine.train_calls.size()) seen.push_back(device_.LimitW());
    return false;
  };
  StudyRunner runner(Spec("gpu_power_limits_pct = [100, 90, 80, 70, 60, 50, 40, 30]\n"), &engine, &meter,
                     store.get(), &env, opt);
  auto out = runner.Run(StudyInfo{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->planned, 8);
  EXPECT_EQ(out->done_now, 8) << log.str();
  EXPECT_EQ(out->failed, 0);
  EXPECT_TRUE(out->caps_restore_error.empty()) << out->caps_restore_error;

  // Back where they were: both GPUs at 320 W, the journal gone, the CPU knobs untouched.
  EXPECT_EQ(Slurp(limits_), "320000\n320000\n");
  EXPECT_FALSE(fs::exists(journal_));
  ExpectCpuKnobsAsFound();
  // While the runs went, the limit in force was a cap of the sweep.
  for (double w : seen) EXPECT_NE(w, 320) << log.str();

  auto rows = *store->ReadRows("caps");
  ASSERT_EQ(rows.size(), 8u);  // one train/profile window per run
  std::set<double> caps;
  for (const auto& r : rows) {
    ASSERT_TRUE(r.gpu_power_limit_w.has_value());
    caps.insert(*r.gpu_power_limit_w);
    // Read back from the fixtures: the two packages' long_term limits (125 W)
    // and the highest scaling_max_freq (4900 MHz), unchanged by the study.
    EXPECT_EQ(r.cpu_power_limit_w, 125);
    EXPECT_EQ(r.cpu_max_freq_mhz, 4900);
  }
  EXPECT_EQ(caps, (std::set<double>{105, 140, 175, 210, 245, 280, 315, 350}));
  // The export carries them after idle_busy (schema v4; omp_wait_policy, v5, follows).
  const std::string csv = RunRowsToCsv(rows);
  EXPECT_NE(csv.find("idle_busy,gpu_power_limit_w,cpu_power_limit_w,cpu_max_freq_mhz,omp_wait_policy\n"),
            std::string::npos);

  // The analysis finds the device's known optimum: 175 W = 50% of 350 W.
  ASSERT_EQ(device_.OptimalCapW(), 175);
  auto pc = analysis::AnalyzePowerCaps(rows, EnergyBasis::kAboveIdle, 1.1);
  ASSERT_EQ(pc.curves.size(), 1u) << pc.note;
  const auto& c = pc.curves[0];
  EXPECT_EQ(c.knob, "gpu_power_limit_w");
  EXPECT_EQ(c.model, "lenet");
  EXPECT_EQ(c.phase, "train");
  EXPECT_EQ(c.points.size(), 8u);
  EXPECT_EQ(c.reference_cap, 350);
  EXPECT_EQ(c.energy_optimal_cap, 175);
  // Slowdown at 245 W is sqrt(300/245) = 1.107 > 1.1: the cheapest within is 280 W.
  EXPECT_EQ(c.within_slowdown_cap, 280);
  // Above the demand nothing is saved and nothing lost: EDP and ED²P pick the top.
  EXPECT_EQ(c.edp_optimal_cap, 350);
  EXPECT_EQ(c.ed2p_optimal_cap, 350);
  // E(175)/E(350) = 350 x sqrt(300/175) / 475 and T(175)/T(350) = sqrt(300/175).
  EXPECT_NEAR(c.energy_saved_pct, (1 - 350 * std::sqrt(300.0 / 175) / 475) * 100, 1e-3);
  EXPECT_NEAR(c.time_added_pct, (std::sqrt(300.0 / 175) - 1) * 100, 1e-3);
  EXPECT_NE(c.text.find("energy-optimal GPU power limit 175 W, energy saved 3.5% for 30.9% more time than at "
                        "350 W"),
            std::string::npos)
      << c.text;
  ASSERT_TRUE(c.energy_fit.has_value());
  ASSERT_TRUE(c.fit_energy_optimal_cap.has_value());
  EXPECT_GT(*c.fit_energy_optimal_cap, 105);
  EXPECT_LT(*c.fit_energy_optimal_cap, 280);

  // Through Analyze and its JSON as `wattlab analyze` shows it.
  analysis::AnalysisOptions ao;
  ao.max_slowdown = 1.5;
  auto res = analysis::Analyze(rows, ao);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  auto j = analysis::ToJson(*res);
  ASSERT_EQ(j["power_caps"]["curves"].size(), 1u);
  EXPECT_EQ(j["power_caps"]["max_slowdown"], 1.5);
  EXPECT_EQ(j["power_caps"]["curves"][0]["energy_optimal_cap"], 175);
  EXPECT_EQ(j["power_caps"]["curves"][0]["within_slowdown_cap"], 175);  // 1.31x is within 1.5x
}

TEST_F(CapsStudyTest, ACapThatCannotBeSetFailsItsRunsAndTheStudyGoesOn) {
  FakeClockEnv env;
  FakeMeter meter(&env);
  FakeEngine engine(&env);
  auto store = OpenStore();
  std::ostringstream log;
  // 400 W is above the fake's 350 W maximum; 200 W is fine.
  StudyRunner runner(Spec("gpu_power_limits_w = [200, 400]\ncpu_max_freqs_mhz = [2000]\n"), &engine, &meter,
                     store.get(), &env, Options(&log));
  auto out = runner.Run(StudyInfo{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->done_now, 1);
  EXPECT_EQ(out->failed, 1);
  ASSERT_EQ(out->failures.size(), 1u);
  EXPECT_NE(out->failures[0].find("gpu 400 W"), std::string::npos) << out->failures[0];
  EXPECT_NE(out->failures[0].find("350"), std::string::npos) << out->failures[0];  // the allowed range
  auto rows = *store->ReadRows("caps");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].gpu_power_limit_w, 200);
  EXPECT_EQ(rows[0].cpu_max_freq_mhz, 2000);
  EXPECT_EQ(Slurp(limits_), "320000\n320000\n");
  EXPECT_FALSE(fs::exists(journal_));
  ExpectCpuKnobsAsFound();
}

TEST_F(CapsStudyTest, InterruptedStudyPutsTheCapsBack) {
  FakeClockEnv env;
  FakeMeter meter(&env);
  FakeEngine engine(&env);
  auto store = OpenStore();
  std::ostringstream log;
  RunnerOptions opt = Options(&log);
  double limit_seen = 0;
  // SIGINT/SIGTERM reach the runner as this flag (cmd_study.cc): raise it
  // during the second run, while a cap is in force.
  opt.interrupted = [&] {
    if (engine.train_calls.size() >= 2) {
      if (limit_seen == 0) limit_seen = device_.LimitW();
      return true;
    }
    return false;
  };
  device_.limits_file = limits_.string();
  StudyRunner runner(Spec("gpu_power_limits_w = [150, 250]\ncpu_power_limits_w = [60, 80]\n"), &engine,
                     &meter, store.get(), &env, opt);
  auto out = runner.Run(StudyInfo{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out->interrupted);
  EXPECT_TRUE(limit_seen == 150 || limit_seen == 250) << limit_seen;
  EXPECT_EQ(Slurp(limits_), "320000\n320000\n");
  EXPECT_FALSE(fs::exists(journal_));
  ExpectCpuKnobsAsFound();
}

TEST_F(CapsStudyTest, UncappedStudyRecordsTheKnobsAndChangesNothing) {
  FakeClockEnv env;
  FakeMeter meter(&env);
  FakeEngine engine(&env);
  auto store = OpenStore();
  std::ostringstream log;
  StudyRunner runner(Spec(""), &engine, &meter, store.get(), &env, Options(&log));
  auto out = runner.Run(StudyInfo{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  auto rows = *store->ReadRows("caps");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].gpu_power_limit_w, 320);
  EXPECT_EQ(rows[0].cpu_power_limit_w, 125);
  EXPECT_EQ(rows[0].cpu_max_freq_mhz, 4900);
  EXPECT_EQ(Slurp(limits_), "320000\n320000\n");
  EXPECT_FALSE(fs::exists(journal_));
}

TEST_F(CapsStudyTest, NoKnobsReadableLeavesTheColumnsEmpty) {
  FakeClockEnv env;  // no files, no NVML: nothing can be read
  FakeMeter meter(&env);
  FakeEngine engine(&env);
  auto store = OpenStore();
  RunnerOptions opt;
  StudyRunner runner(Spec(""), &engine, &meter, store.get(), &env, opt);
  auto out = runner.Run(StudyInfo{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  auto rows = *store->ReadRows("caps");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_FALSE(rows[0].gpu_power_limit_w.has_value());
  EXPECT_FALSE(rows[0].cpu_power_limit_w.has_value());
  EXPECT_FALSE(rows[0].cpu_max_freq_mhz.has_value());
}

}  // namespace
}  // namespace wattlab
