// End-to-end: `wattlab train --power-limit-optimizer` on the real binary,
// with the fake engine plugin (tests/study, no libtorch) or, where the build
// has libtorch (OPTIMIZER_TORCH_PLUGIN), the real one training LeNet; the
// fake NVML keeps its limits in a file, the caps fixture's /proc says root,
// the journal lives in a temp folder. Refused flags, a normal run that
// restores the limit found, SIGTERM mid-run, SIGKILL then `cap --restore`.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "platform/real_env.h"
#include "store/store.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct Ran {
  int rc = -1;
  std::string out, err;
};

class OptimizerCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wattlab-capopt-cli-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::copy(CAPS_FIXTURES, dir_ / "tree", fs::copy_options::recursive);
    journal_ = dir_ / "run/caps.json";
    limits_ = dir_ / "gpu_limits_mw";
    plugin_ = FAKE_PLUGIN;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<std::string> Env() const {
    std::vector<std::string> e = {"WATTLAB_CAPS_JOURNAL=" + journal_.string(),
                                  "WATTLAB_SYSFS_ROOT=" + (dir_ / "tree/sys").string(),
                                  "WATTLAB_PROC_ROOT=" + (dir_ / "tree" / proc_).string(),
                                  "WATTLAB_NVML_LIBRARY=" + std::string(FAKE_NVML_PATH),
                                  "WATTLAB_TORCH_PLUGIN=" + plugin_,
                                  "FAKE_NVML_GPUS=" + gpus_,
                                  "FAKE_NVML_LIMITS_FILE=" + limits_.string(),
                                  "XDG_STATE_HOME=" + (dir_ / "state").string(),
                                  "OMP_WAIT_POLICY=PASSIVE",
                                  "PATH=/usr/bin:/bin"};
    e.insert(e.end(), extra_env_.begin(), extra_env_.end());
    return e;
  }

  pid_t Spawn(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {WATTLAB_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    std::vector<std::string> env = Env();
    std::vector<char*> e;
    for (auto& s : env) e.push_back(s.data());
    e.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string out = (dir_ / "out").string(), err = (dir_ / "err").string();
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = -1;
    EXPECT_EQ(posix_spawn(&pid, WATTLAB_BINARY, &fa, nullptr, a.data(), e.data()), 0);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
  }

  static int Wait(pid_t pid, int* signal = nullptr) {
    int st = 0;
    waitpid(pid, &st, 0);
    if (signal) *signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

  Ran Wattlab(const std::vector<std::string>& args) {
    Ran r;
    r.rc = Wait(Spawn(args));
    r.out = Slurp(dir_ / "out");
    r.err = Slurp(dir_ / "err");
    return r;
  }

  // Starts a training run and returns once the fake driver holds a limit
  // other than the one found (the optimiser is profiling).
  pid_t StartCapped(const std::vector<std::string>& args) {
    pid_t pid = Spawn(args);
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (GpuLimits() == "320000\n") {
      int st = 0;
      if (waitpid(pid, &st, WNOHANG) == pid) {
        ADD_FAILURE() << "train ended before capping: " << Slurp(dir_ / "err");
        return -1;
      }
      if (std::chrono::steady_clock::now() > give_up) {
        ADD_FAILURE() << "train never capped";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // waiting on another process
    }
    return pid;
  }

  std::string GpuLimits() const { return fs::exists(limits_) ? Slurp(limits_) : "320000\n"; }

  static std::vector<std::string> Train(std::vector<std::string> extra) {
    std::vector<std::string> a = {"train",
                                  "--model",
                                  "lenet",
                                  "--dataset",
                                  "synthetic:3x32x32:64",
                                  "--batch-size",
                                  "4",
                                  "--threads",
                                  "1",
                                  "--idle-seconds",
                                  "0",
                                  "--interval",
                                  "10ms",
                                  "--no-eval"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }

  fs::path dir_, journal_, limits_;
  std::string plugin_, gpus_ = "1", proc_ = "proc";
  std::vector<std::string> extra_env_;
};

// Small enough to finish quickly: 350, 225, 100 W; 1 warm-up step, 2 to 3
// counted steps per candidate (1 settle step after each change).
const std::vector<std::string> kQuick = {"--power-limit-warmup-steps", "1", "--power-limit-min-steps", "2",
                                         "--power-limit-max-steps",    "3", "--power-limit-step-w",    "125"};

std::vector<std::string> Plus(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

#ifndef OPTIMIZER_TORCH_PLUGIN
TEST_F(OptimizerCli, RefusedFlagsExitTwoWithAClearMessage) {
  struct Bad {
    std::vector<std::string> args;
    const char* says;
  };
  for (const Bad& b : {Bad{{"--power-limit-optimizer", "watts"}, "use energy, time, edp, cost:ETA"},
                       Bad{{"--power-limit-optimizer", "cost:1.5"}, "between 0 and 1"},
                       Bad{{"--power-limit-optimizer", "cost:-0.5"}, "between 0 and 1"},
                       Bad{{"--power-limit-optimizer", "cost:"}, "lacks its number"},
                       Bad{{"--power-limit-optimizer", "slowdown:0.9"}, "1 or more"},
                       Bad{{"--power-limit-optimizer", "slowdown:x"}, "is not a number"},
                       Bad{{"--power-limit-step-w", "25"}, "needs --power-limit-optimizer"},
                       Bad{{"--power-limit-optimizer", "energy", "--power-limit-step-w", "0"}, "step-w"},
                       Bad{{"--power-limit-optimizer", "energy", "--power-limit-min-steps", "5",
                            "--power-limit-max-steps", "4"},
                           "at least the minimum"}}) {
    Ran r = Wattlab(Train(Plus({"--steps", "3"}, b.args)));
    EXPECT_EQ(r.rc, 2) << r.err;
    EXPECT_NE(r.err.find(b.says), std::string::npos) << b.says << "\n" << r.err;
    EXPECT_FALSE(fs::exists(limits_));  // nothing was set
  }
}

TEST_F(OptimizerCli, NoSettableGpuRefusesWithExitTwo) {
  gpus_ = "0";
  Ran none = Wattlab(Train({"--steps", "3", "--power-limit-optimizer", "energy"}));
  EXPECT_EQ(none.rc, 2) << none.err;
  EXPECT_NE(none.err.find("needs a GPU whose power limit this process may set"), std::string::npos)
      << none.err;
  EXPECT_NE(none.err.find("not CPU package limits"), std::string::npos) << none.err;

  gpus_ = "1";
  proc_ = "proc-user";  // no CAP_SYS_ADMIN
  Ran user = Wattlab(Train({"--steps", "3", "--power-limit-optimizer", "energy"}));
  EXPECT_EQ(user.rc, 2) << user.err;
  EXPECT_NE(user.err.find("root or CAP_SYS_ADMIN"), std::string::npos) << user.err;
  EXPECT_FALSE(fs::exists(limits_));
  EXPECT_FALSE(fs::exists(journal_));
}

#endif  // !OPTIMIZER_TORCH_PLUGIN

// The run itself; with OPTIMIZER_TORCH_PLUGIN, LeNet through libtorch.
void ExpectOptimisedRun(const Ran& r, const fs::path& journal, const std::string& limits, int64_t steps) {
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["steps"], steps);
  ASSERT_TRUE(j.contains("power_limit_optimizer")) << r.out;
  const json& o = j["power_limit_optimizer"];
  EXPECT_EQ(o["objective"], "energy");
  EXPECT_EQ(o["gpus"], json::array({0}));
  EXPECT_EQ(o["original_limits_w"], json::array({320}));
  EXPECT_EQ(o["min_w"], 100);
  EXPECT_EQ(o["max_w"], 350);
  EXPECT_EQ(o["step_w"], 125);
  EXPECT_EQ(o["phase"], "done");
  ASSERT_EQ(o["candidates"].size(), 3u) << o.dump(2);
  std::set<double> limits_seen;
  for (const json& c : o["candidates"]) {
    limits_seen.insert(c["limit_w"].get<double>());
    EXPECT_GE(c["steps"].get<int64_t>(), 2) << c;
    EXPECT_LE(c["steps"].get<int64_t>() + c["dropped_steps"].get<int64_t>(), 3) << c;
    EXPECT_GT(c["mean_step_s"].get<double>(), 0) << c;
    EXPECT_GE(c["step_energy_j"].get<double>(), 0) << c;
    EXPECT_TRUE(c["finished"].get<bool>()) << c;
    for (const char* k :
         {"step_s_half_width", "step_energy_half_width_j", "converged", "eligible", "objective_value"})
      EXPECT_TRUE(c.contains(k)) << k;
  }
  EXPECT_EQ(limits_seen, (std::set<double>{350, 225, 100}));
  ASSERT_TRUE(o["chosen_limit_w"].is_number()) << o.dump(2);
  EXPECT_TRUE(limits_seen.count(o["chosen_limit_w"].get<double>()));
  // 1 warm-up + 3 candidates of at most 1 settle + 3 counted, the rest at the choice.
  EXPECT_GE(o["steps_at_chosen"].get<int64_t>(), steps - 1 - 3 - 4 - 4);
  EXPECT_EQ(o["restored"], true);
  EXPECT_TRUE(o["restore_error"].is_null());
  // The driver's state afterwards: the limit found, and no journal.
  EXPECT_EQ(limits, "320000\n");
  EXPECT_FALSE(fs::exists(journal));
}

#ifndef OPTIMIZER_TORCH_PLUGIN
TEST_F(OptimizerCli, ProfilesEveryCandidateChoosesAndRestores) {
  Ran r = Wattlab(Train(Plus({"--steps", "30", "--json", "--power-limit-optimizer", "energy"}, kQuick)));
  ExpectOptimisedRun(r, journal_, GpuLimits(), 30);
  // The text form too.
  Ran text = Wattlab(Train(Plus({"--steps", "30", "--power-limit-optimizer", "energy"}, kQuick)));
  ASSERT_EQ(text.rc, 0) << text.err;
  EXPECT_NE(text.out.find("power-limit optimiser (energy) on GPU 0, candidates 350 to 100 W in 125 W steps"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("original limits restored (320 W)"), std::string::npos) << text.out;
  EXPECT_EQ(GpuLimits(), "320000\n");
}

TEST_F(OptimizerCli, ARunTooShortToFinishProfilingChoosesNothingAndRestores) {
  Ran r = Wattlab(Train(Plus({"--steps", "4", "--json", "--power-limit-optimizer", "time"}, kQuick)));
  ASSERT_EQ(r.rc, 0) << r.err;
  json o = json::parse(r.out)["power_limit_optimizer"];
  EXPECT_EQ(o["phase"], "profiling");
  EXPECT_TRUE(o["chosen_limit_w"].is_null());
  EXPECT_EQ(o["restored"], true);
  EXPECT_EQ(GpuLimits(), "320000\n");
  EXPECT_FALSE(fs::exists(journal_));
}

TEST_F(OptimizerCli, SigtermMidRunRestoresAndExits143) {
  extra_env_ = {"WATTLAB_FAKE_S_PER_SAMPLE=0.01"};  // 40 ms a step
  pid_t pid = StartCapped(Train(Plus({"--steps", "100000", "--power-limit-optimizer", "energy"}, kQuick)));
  ASSERT_GT(pid, 0);
  EXPECT_NE(GpuLimits(), "320000\n");
  EXPECT_TRUE(fs::exists(journal_));
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(Wait(pid), 143) << Slurp(dir_ / "err");
  EXPECT_EQ(GpuLimits(), "320000\n");
  EXPECT_FALSE(fs::exists(journal_));
  EXPECT_NE(Slurp(dir_ / "err").find("original GPU power limits are restored"), std::string::npos);
}

TEST_F(OptimizerCli, SigkillMidRunThenCapRestore) {
  extra_env_ = {"WATTLAB_FAKE_S_PER_SAMPLE=0.01"};
  pid_t pid = StartCapped(Train(Plus({"--steps", "100000", "--power-limit-optimizer", "energy"}, kQuick)));
  ASSERT_GT(pid, 0);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int sig = 0;
  Wait(pid, &sig);
  EXPECT_EQ(sig, SIGKILL);
  EXPECT_NE(GpuLimits(), "320000\n");  // nothing ran to restore
  ASSERT_TRUE(fs::exists(journal_));
  Ran back = Wattlab({"cap", "--restore"});
  ASSERT_EQ(back.rc, 0) << back.err;
  EXPECT_EQ(GpuLimits(), "320000\n");
  EXPECT_FALSE(fs::exists(journal_));
}

TEST_F(OptimizerCli, DbStoresTheRunAndEveryCandidate) {
  const std::string db = (dir_ / "w.db").string();
  Ran r = Wattlab(Train(Plus(
      {"--steps", "30", "--json", "--db", db, "--study", "opt", "--power-limit-optimizer", "edp"}, kQuick)));
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["stored"]["run_id"], 1);
  const json& o = j["power_limit_optimizer"];
  // A second run goes in as run 2 of the same study.
  Ran again = Wattlab(Train({"--steps", "5", "--db", db, "--study", "opt"}));
  ASSERT_EQ(again.rc, 0) << again.err;
  EXPECT_NE(again.out.find("stored as run 2 of study opt"), std::string::npos) << again.out;

  auto env = wattlab::NewRealEnv(wattlab::Roots{});
  auto store = wattlab::Store::Open(env.get(), db, wattlab::OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto rows = (*store)->ReadRows("opt");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);  // train/full of each run (--no-eval)
  EXPECT_EQ((*rows)[0].phase, "train");
  EXPECT_EQ((*rows)[0].window, "full");
  EXPECT_EQ((*rows)[0].steps, 30);
  EXPECT_EQ((*rows)[0].samples, 120);
  auto cands = (*store)->ReadPowerLimitCandidates("opt", 1);
  ASSERT_TRUE(cands.ok());
  ASSERT_EQ(cands->size(), o["candidates"].size());
  int chosen = 0;
  for (size_t i = 0; i < cands->size(); ++i) {
    const auto& c = (*cands)[i];
    const json& jc = o["candidates"][i];
    EXPECT_EQ(c.objective, "edp");
    EXPECT_EQ(c.limit_w, jc["limit_w"].get<double>());
    EXPECT_EQ(c.steps, jc["steps"].get<int64_t>());
    EXPECT_DOUBLE_EQ(c.mean_step_s, jc["mean_step_s"].get<double>());
    EXPECT_DOUBLE_EQ(c.step_energy_j, jc["step_energy_j"].get<double>());
    EXPECT_EQ(c.converged, jc["converged"].get<bool>());
    chosen += c.chosen;
    if (c.chosen) EXPECT_EQ(c.limit_w, o["chosen_limit_w"].get<double>());
  }
  EXPECT_EQ(chosen, 1);
  EXPECT_TRUE((*store)->ReadPowerLimitCandidates("opt", 2)->empty());
}

#endif  // !OPTIMIZER_TORCH_PLUGIN

#ifdef OPTIMIZER_TORCH_PLUGIN
// LeNet through libtorch (label torch): the real training loop calls the
// hook after each optimisation step.
TEST_F(OptimizerCli, TorchLenetOptimisesAndRestores) {
  plugin_ = OPTIMIZER_TORCH_PLUGIN;
  Ran r = Wattlab(Train(Plus({"--steps", "24", "--json", "--power-limit-optimizer", "energy"}, kQuick)));
  ExpectOptimisedRun(r, journal_, GpuLimits(), 24);
  json j = json::parse(r.out);
  EXPECT_TRUE(j["versions"].contains("libtorch")) << j["versions"];  // the real engine, not the fake
}
#endif

}  // namespace
