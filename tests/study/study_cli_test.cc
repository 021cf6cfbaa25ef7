// End to end through the real `wattlab` binary with the fake engine plugin
// (WATTLAB_TORCH_PLUGIN) and the real meter of this machine: `study`
// (dry-run, run, SIGKILL mid-study, --resume, SIGINT), and `runs` exports.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/strings.h"
#include "platform/real_env.h"
#include "store/store.h"
#include "store_env.h"
#include "wattlab/record.h"

extern char** environ;

namespace wattlab {
namespace {

using testing::StoreEnv;

namespace fs = std::filesystem;

const char* kSpec = R"(name = "e2e"
seed = 5
cooldown_s = 0.05
idle_s = 0.3
idle_every_s = 0

[[sweep]]
models = ["lenet", "mlp:depth=2,width=64"]
batch_sizes = [16, 32]
threads = [1]
phases = ["train", "infer"]
profile_steps = 3
epochs = 1
train_samples = 320
infer_samples = 64

[[sweep]]
models = ["lenet"]
batch_sizes = [32]
threads = [1]
phases = ["train"]
train_samples = 320
full_length = true
evaluate = true
eval_samples = 64
)";
constexpr size_t kRuns = 5, kRows = 4 * 2 + 4;  // the full run: train and eval, profile and full

class StudyCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wattlab_study_cli_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "e2e.db").string();
    spec_ = (dir_ / "e2e.toml").string();
    std::ofstream(spec_) << kSpec;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Starts wattlab with args; stdout/stderr to files in dir_.
  // extra_env ("NAME=VALUE") comes first, so it wins over the rest.
  pid_t Spawn(const std::vector<std::string>& args, const std::string& tag,
              const std::vector<std::string>& extra_env = {}) {
    std::vector<std::string> all = {WATTLAB_BIN};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> envs = extra_env;
    envs.push_back("WATTLAB_TORCH_PLUGIN=" FAKE_PLUGIN);
    envs.push_back("WATTLAB_FAKE_S_PER_SAMPLE=0.002");
    for (char** e = environ; *e; ++e)
      if (!StartsWith(*e, "WATTLAB_TORCH_PLUGIN=")) envs.push_back(*e);
    std::vector<char*> envp;
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    std::string out = (dir_ / (tag + ".out")).string(), err = (dir_ / (tag + ".err")).string();
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addchdir_np(&fa, dir_.c_str());
    pid_t pid = 0;
    EXPECT_EQ(posix_spawn(&pid, WATTLAB_BIN, &fa, nullptr, argv.data(), envp.data()), 0);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
  }
  int Wait(pid_t pid) {
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  int Run(const std::vector<std::string>& args, const std::string& tag,
          const std::vector<std::string>& extra_env = {}) {
    return Wait(Spawn(args, tag, extra_env));
  }
  std::string Read(const std::string& tag, const char* ext) {
    std::ifstream in(dir_ / (tag + ext));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  size_t CompletedRuns() {
    auto st = Store::Open(StoreEnv(), db_, OpenMode::kReadOnly);
    if (!st.ok()) return 0;
    auto ids = (*st)->CompletedRunIds("e2e");
    return ids.ok() ? ids->size() : 0;
  }
  // Waits until at least n runs are stored (or the process is gone).
  bool WaitForRuns(pid_t pid, size_t n) {
    for (int i = 0; i < 3000; ++i) {
      if (CompletedRuns() >= n) return true;
      if (waitpid(pid, nullptr, WNOHANG) == pid) return false;
      usleep(5000);
    }
    return false;
  }

  fs::path dir_;
  std::string db_, spec_;
};

TEST_F(StudyCliTest, DryRunPrintsPlanAndCreatesNothing) {
  ASSERT_EQ(Run({"study", "--spec", spec_, "--db", db_, "--dry-run"}, "dry"), 0) << Read("dry", ".err");
  std::string out = Read("dry", ".out");
  EXPECT_NE(out.find("5 runs"), std::string::npos) << out;
  EXPECT_NE(out.find("estimated time"), std::string::npos);
  EXPECT_FALSE(fs::exists(db_));
}

TEST_F(StudyCliTest, BadInputExitsNonZeroWithoutDatabase) {
  std::ofstream(dir_ / "bad.toml") << "name = \"x\"\n[[sweep]]\nmodels = [\"lenet\"]\nbatch_sizes = [0]\n";
  EXPECT_EQ(Run({"study", "--spec", (dir_ / "bad.toml").string(), "--db", db_}, "bad"), 2);
  EXPECT_NE(Read("bad", ".err").find("bad.toml:4: key 'sweep[1].batch_sizes': must be >= 1"),
            std::string::npos)
      << Read("bad", ".err");
  // Known form, unknown to the engine: refused before a database exists.
  std::ofstream(dir_ / "unk.toml") << "name = \"x\"\n[[sweep]]\nmodels = [\"vgg16\"]\nbatch_sizes = [1]\n";
  EXPECT_EQ(Run({"study", "--spec", (dir_ / "unk.toml").string(), "--db", db_}, "unk"), 2);
  EXPECT_NE(Read("unk", ".err").find("model 'vgg16'"), std::string::npos) << Read("unk", ".err");
  EXPECT_FALSE(fs::exists(db_));
  EXPECT_EQ(Run({"runs", "--db", db_}, "nodb"), 1);
  EXPECT_NE(Read("nodb", ".err").find("no database at"), std::string::npos);
  std::ofstream(dir_ / "junk.db") << "this is not a database, only text, long enough to have a header\n";
  EXPECT_EQ(Run({"runs", "--db", (dir_ / "junk.db").string()}, "junk"), 1);
  EXPECT_NE(Read("junk", ".err").find("not a wattlab database"), std::string::npos) << Read("junk", ".err");
}

TEST_F(StudyCliTest, KillResumeThenExport) {
  pid_t pid = Spawn({"study", "--spec", spec_, "--db", db_, "--no-report"}, "first");
  ASSERT_TRUE(WaitForRuns(pid, 2)) << Read("first", ".err");
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_EQ(Wait(pid), 128 + SIGKILL);
  size_t at_kill = CompletedRuns();
  ASSERT_GE(at_kill, 2u);
  ASSERT_LT(at_kill, kRuns) << "finished before the kill: the test proves nothing";

  // Without --resume the existing study is refused.
  EXPECT_EQ(Run({"study", "--spec", spec_, "--db", db_, "--no-report"}, "again"), 1);
  EXPECT_NE(Read("again", ".err").find("--resume"), std::string::npos) << Read("again", ".err");

  ASSERT_EQ(Run({"study", "--spec", spec_, "--db", db_, "--no-report", "--resume"}, "resume"), 0)
      << Read("resume", ".err") << Read("resume", ".out");
  EXPECT_NE(Read("resume", ".err").find("resuming study 'e2e'"), std::string::npos) << Read("resume", ".err");
  std::string summary = Read("resume", ".out");
  EXPECT_NE(summary.find("5 of 5 runs stored"), std::string::npos) << summary;
  EXPECT_NE(summary.find("cheapest per sample"), std::string::npos) << summary;

  ASSERT_EQ(Run({"runs", "--db", db_, "--csv"}, "csv"), 0) << Read("csv", ".err");
  std::string err;
  auto csv = ParseCsv(Read("csv", ".out"), &err);
  ASSERT_TRUE(csv.has_value()) << err;
  ASSERT_EQ(csv->size(), 1 + kRows);
  EXPECT_EQ((*csv)[0], RunRowColumns());
  std::set<std::string> keys;
  std::set<std::string> run_ids;
  for (size_t i = 1; i < csv->size(); ++i) {
    const auto& f = (*csv)[i];
    ASSERT_EQ(f.size(), RunRowColumns().size());
    EXPECT_TRUE(keys.insert(f[1] + "/" + f[5] + "/" + f[6]).second) << "duplicate window " << f[1];
    run_ids.insert(f[1]);
    EXPECT_TRUE(f[21] == "true" || f[21] == "false");
    EXPECT_FALSE(f[20].empty());  // source
  }
  EXPECT_EQ(run_ids.size(), kRuns);

  ASSERT_EQ(Run({"runs", "--db", db_, "--json", "--study", "e2e"}, "json"), 0) << Read("json", ".err");
  auto j = nlohmann::json::parse(Read("json", ".out"));
  ASSERT_EQ(j.size(), kRows);
  EXPECT_EQ(Run({"runs", "--db", db_, "--study", "nope"}, "nostudy"), 2);
  EXPECT_NE(Read("nostudy", ".err").find("studies: e2e"), std::string::npos) << Read("nostudy", ".err");
}

TEST_F(StudyCliTest, SigintDiscardsCurrentRunExits130WithHint) {
  pid_t pid = Spawn({"study", "--spec", spec_, "--db", db_, "--no-report"}, "int");
  ASSERT_TRUE(WaitForRuns(pid, 1)) << Read("int", ".err");
  ASSERT_EQ(::kill(pid, SIGINT), 0);
  int code = Wait(pid);
  size_t stored = CompletedRuns();
  ASSERT_LT(stored, kRuns) << "the study finished before SIGINT landed: make the fake steps slower";
  EXPECT_EQ(code, 130) << Read("int", ".err");
  EXPECT_NE(Read("int", ".err").find("--resume"), std::string::npos) << Read("int", ".err");
  ASSERT_EQ(Run({"study", "--spec", spec_, "--db", db_, "--no-report", "--resume"}, "int2"), 0)
      << Read("int2", ".err");
  EXPECT_EQ(CompletedRuns(), kRuns);
}

// ---- sharded studies (issue 16; docs/scale.md)

// A Slurm job array task's environment (--array=1-N).
std::vector<std::string> ArrayTask(int id, int count, const std::string& min = "1") {
  return {"SLURM_ARRAY_JOB_ID=4242",     "SLURM_ARRAY_TASK_ID=" + std::to_string(id),
          "SLURM_ARRAY_TASK_MIN=" + min, "SLURM_ARRAY_TASK_MAX=" + std::to_string(std::stoi(min) + count - 1),
          "SLURM_ARRAY_TASK_STEP=1",     "SLURM_ARRAY_TASK_COUNT=" + std::to_string(count)};
}

// As scripts/test-slurm.sh runs it: each array task `study --db shard-%a.db`
// (its shard from the array), then `merge merged.db shard-*.db`.
TEST_F(StudyCliTest, SlurmArrayShardsMergeIntoOneStudy) {
  ASSERT_EQ(Run({"study", "--spec", spec_, "--db", "shard-%a.db", "--dry-run"}, "sdry", ArrayTask(2, 2)), 0)
      << Read("sdry", ".err");
  EXPECT_NE(Read("sdry", ".out").find("Shard 2/2: 2 of the plan's 5 runs"), std::string::npos)
      << Read("sdry", ".out");
  EXPECT_NE(Read("sdry", ".out").find("study 'e2e' (" + spec_ + "): 2 runs"), std::string::npos)
      << Read("sdry", ".out");
  for (int id = 1; id <= 2; ++id) {
    const std::string tag = "task" + std::to_string(id);
    ASSERT_EQ(Run({"study", "--spec", spec_, "--db", "shard-%a.db", "--no-report"}, tag, ArrayTask(id, 2)), 0)
        << Read(tag, ".err");
    EXPECT_NE(Read(tag, ".err").find("shard " + std::to_string(id) + "/2"), std::string::npos)
        << Read(tag, ".err");
    EXPECT_TRUE(fs::exists(dir_ / ("shard-" + std::to_string(id) + ".db")));
  }
  EXPECT_NE(Read("task1", ".out").find("3 of 3 runs of shard 1/2 stored in shard-1.db"), std::string::npos)
      << Read("task1", ".out");
  ASSERT_EQ(Run({"merge", "merged.db", "shard-1.db", "shard-2.db"}, "merge"), 0) << Read("merge", ".err");
  const std::string out = Read("merge", ".out");
  EXPECT_NE(out.find("merged.db: study 'e2e'"), std::string::npos) << out;
  EXPECT_NE(out.find("5 of 5 planned runs, complete"), std::string::npos) << out;
  EXPECT_NE(out.find("hosts: "), std::string::npos) << out;
  db_ = (dir_ / "merged.db").string();
  EXPECT_EQ(CompletedRuns(), kRuns);
  ASSERT_EQ(Run({"merge", "merged.db", "shard-2.db"}, "again"), 0) << Read("again", ".err");
  EXPECT_NE(Read("again", ".out").find("0 added, 2 already merged"), std::string::npos)
      << Read("again", ".out");
  EXPECT_EQ(CompletedRuns(), kRuns);
  // Total energy: these windows are milliseconds of the estimate, and on a
  // loaded machine (ctest -j2) their energy above idle can be round-off,
  // which analyze rightly refuses; the hosts line is what is checked here.
  ASSERT_EQ(Run({"analyze", "--db", "merged.db", "--energy", "total"}, "an"), 0) << Read("an", ".err");
  EXPECT_NE(Read("an", ".out").find("  hosts: "), std::string::npos) << Read("an", ".out");

  // --resume per shard: nothing left to do in a finished shard.
  ASSERT_EQ(Run({"study", "--spec", spec_, "--db", "shard-%a.db", "--no-report", "--resume"}, "res",
                ArrayTask(1, 2)),
            0)
      << Read("res", ".err");
  EXPECT_NE(Read("res", ".out").find("3 of 3 runs of shard 1/2 stored"), std::string::npos)
      << Read("res", ".out");
}

TEST_F(StudyCliTest, BadShardsAndArrayPatternsAreRefusedWithExit2) {
  for (const char* bad : {"0/4", "5/4", "x", "1/0"}) {
    EXPECT_EQ(Run({"study", "--spec", spec_, "--db", db_, "--shard", bad}, "bad"), 2) << bad;
    EXPECT_NE(Read("bad", ".err").find(std::string("--shard ") + bad + ": "), std::string::npos)
        << Read("bad", ".err");
  }
  EXPECT_EQ(Run({"study", "--spec", spec_, "--db", "shard-%a.db", "--dry-run"}, "pat"), 2);
  EXPECT_NE(Read("pat", ".err").find("not a task of a Slurm job array"), std::string::npos)
      << Read("pat", ".err");
  // --array=1,3,7: not evenly stepped; wattlab asks for --shard ...
  const std::vector<std::string> uneven = {"SLURM_ARRAY_JOB_ID=9",    "SLURM_ARRAY_TASK_ID=3",
                                           "SLURM_ARRAY_TASK_MIN=1",  "SLURM_ARRAY_TASK_MAX=7",
                                           "SLURM_ARRAY_TASK_STEP=1", "SLURM_ARRAY_TASK_COUNT=3"};
  EXPECT_EQ(Run({"study", "--spec", spec_, "--db", "s-%a.db", "--dry-run"}, "uneven", uneven), 2);
  EXPECT_NE(Read("uneven", ".err").find("pass --shard K/N"), std::string::npos) << Read("uneven", ".err");
  // ... and --shard then wins.
  EXPECT_EQ(
      Run({"study", "--spec", spec_, "--db", "s-%a.db", "--dry-run", "--shard", "2/3"}, "given", uneven), 0)
      << Read("given", ".err");
  EXPECT_NE(Read("given", ".out").find("Shard 2/3: 2 of the plan's 5 runs"), std::string::npos)
      << Read("given", ".out");
  // merge needs OUT and at least one input.
  EXPECT_EQ(Run({"merge", "out.db"}, "m1"), 2) << Read("m1", ".err");
  EXPECT_FALSE(fs::exists(dir_ / "out.db"));
}

// ---- hardening (docs/reliability.md)

// Four models (predict needs four), short windows, one idle baseline.
const char* kBusySpec = R"(name = "busy"
seed = 5
cooldown_s = 0
idle_s = 1.0
idle_every_s = 0

[[sweep]]
models = ["lenet", "mlp:depth=2,width=64", "mlp:depth=3,width=128", "mlp:depth=4,width=256"]
batch_sizes = [16, 32]
threads = [1]
phases = ["train", "infer"]
profile_steps = 3
epochs = 1
train_samples = 320
infer_samples = 64

[[sweep]]
models = ["lenet"]
batch_sizes = [32]
threads = [1]
phases = ["train"]
train_samples = 320
full_length = true
evaluate = true
eval_samples = 64
)";

// A child that keeps one CPU busy while the idle baseline is measured: the
// baseline is then busy (more than 10% CPU on any machine with <= 8 CPUs),
// and every command chooses total energy, says so, and still finds things.
TEST_F(StudyCliTest, BusyIdleBaselineStillGivesFindingsOnOneStatedBasis) {
  const std::string spec = (dir_ / "busy.toml").string();
  std::ofstream(spec) << kBusySpec;
  pid_t spinner = fork();
  ASSERT_GE(spinner, 0);
  if (spinner == 0) {
    volatile uint64_t i = 0;
    for (;;) i = i + 1;
  }
  const int rc = Run({"study", "--spec", spec, "--db", db_}, "busy");
  ::kill(spinner, SIGKILL);
  Wait(spinner);
  ASSERT_EQ(rc, 0) << Read("busy", ".err");
  const std::string err = Read("busy", ".err"), out = Read("busy", ".out");
  EXPECT_NE(err.find("was measured while the machine was busy"), std::string::npos) << err;
  EXPECT_NE(out.find("energy basis: total (auto: total energy, because"), std::string::npos) << out;
  EXPECT_NE(out.find("cheapest per sample"), std::string::npos) << out;

  ASSERT_EQ(Run({"analyze", "--db", db_, "--json"}, "analyze"), 0) << Read("analyze", ".err");
  auto a = nlohmann::json::parse(Read("analyze", ".out"));
  EXPECT_EQ(a.at("energy_basis"), "total");
  EXPECT_NE(a.at("energy_basis_reason").get<std::string>().find("busy"), std::string::npos);
  bool comparative = false;
  for (const auto& f : a.at("findings")) comparative = comparative || f.at("kind") != "none";
  EXPECT_TRUE(comparative) << a.at("findings").dump();

  ASSERT_EQ(Run({"predict", "--db", db_, "--model", "mlp:depth=3,width=96", "--json"}, "predict"), 0)
      << Read("predict", ".err");
  auto p = nlohmann::json::parse(Read("predict", ".out"));
  EXPECT_EQ(p.at("energy_basis"), "total");
  EXPECT_GT(p.at("energy_per_sample_j").get<double>(), 0.0);

  const std::string report = (dir_ / "e2e-report").string();
  ASSERT_EQ(Run({"report", "--db", db_, "--out", report}, "report"), 0) << Read("report", ".err");
  std::ifstream md(report + "/summary.md");
  std::stringstream s;
  s << md.rdbuf();
  EXPECT_NE(s.str().find("Per-sample energy: total for every figure"), std::string::npos) << s.str();
  EXPECT_EQ(s.str().find("no usable runs"), std::string::npos) << s.str();
  EXPECT_NE(s.str().find("measured while the machine was busy"), std::string::npos);

  // The same input on the other basis, asked for: stated as asked.
  ASSERT_EQ(Run({"analyze", "--db", db_, "--json", "--energy", "total"}, "analyze2"), 0);
  EXPECT_EQ(nlohmann::json::parse(Read("analyze2", ".out")).at("energy_basis_reason"), "--energy total");
}

// omp_wait_policy swept: each policy other than the study process's own runs
// in a child `wattlab study` started with OMP_WAIT_POLICY set (or removed, for
// default); the fake plugin fails every run of a child that loaded with the
// wrong value. Every window records the policy it ran under.
TEST_F(StudyCliTest, OmpWaitPolicySweepRunsEachPolicyInItsOwnProcess) {
  const std::string spec = (dir_ / "omp.toml").string();
  std::ofstream(spec) << R"(name = "e2e"
seed = 5
cooldown_s = 0
idle_s = 0.1
idle_every_s = 0

[[sweep]]
models = ["lenet"]
batch_sizes = [16]
threads = [1]
phases = ["infer"]
infer_samples = 32
omp_wait_policy = ["default", "passive", "active"]
)";
  // The user's policy is the study process's own, so "default" must run in a
  // child whose environment lacks the variable (the fake plugin checks).
  ::setenv("OMP_WAIT_POLICY", "active", 1);
  const int rc = Run({"study", "--spec", spec, "--db", db_, "--no-report"}, "omp");
  ::unsetenv("OMP_WAIT_POLICY");
  ASSERT_EQ(rc, 0) << Read("omp", ".err");
  const std::string out = Read("omp", ".out"), err = Read("omp", ".err");
  EXPECT_NE(err.find("runs to go under OpenMP wait policy active"), std::string::npos) << err;
  EXPECT_NE(err.find("go to a child process"), std::string::npos) << err;
  EXPECT_NE(out.find("3 of 3 runs stored"), std::string::npos) << out;
  EXPECT_NE(
      out.find("in force: OpenMP wait policy active (1 windows), default (1 windows), passive (1 windows)"),
      std::string::npos)
      << out;
  auto st = Store::Open(StoreEnv(), db_, OpenMode::kReadOnly);
  ASSERT_TRUE(st.ok());
  auto rows = (*st)->ReadRows("e2e");
  ASSERT_TRUE(rows.ok());
  std::multiset<std::string> policies;
  for (const auto& r : *rows) policies.insert(r.omp_wait_policy);
  EXPECT_EQ(policies, (std::multiset<std::string>{"active", "default", "passive"}));
  auto info = (*st)->ReadStudy("e2e");
  ASSERT_TRUE(info.ok() && *info);
  EXPECT_TRUE((*info)->finished_at_unix_s);
  // The export's last column.
  ASSERT_EQ(Run({"runs", "--db", db_, "--csv"}, "csv"), 0) << Read("csv", ".err");
  const std::string csv = Read("csv", ".out");
  EXPECT_NE(csv.substr(0, csv.find('\n')).rfind(",omp_wait_policy"), std::string::npos) << csv;
}

TEST_F(StudyCliTest, SecondWriterOfAStudyIsRefusedAtOnce) {
  pid_t first = Spawn({"study", "--spec", spec_, "--db", db_, "--no-report"}, "w1");
  ASSERT_TRUE(WaitForRuns(first, 1)) << Read("w1", ".err");
  const auto t0 = std::chrono::steady_clock::now();
  const int second = Run({"study", "--spec", spec_, "--db", db_, "--no-report", "--resume"}, "w2");
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(second, 1) << Read("w2", ".err");
  EXPECT_NE(Read("w2", ".err").find("another wattlab (host "), std::string::npos) << Read("w2", ".err");
  EXPECT_NE(Read("w2", ".err").find(", pid " + std::to_string(first) + ") is running study e2e"),
            std::string::npos)
      << Read("w2", ".err");
  EXPECT_LT(took, 5.0);  // refused at once, nothing measured
  // --dry-run checks the database it would write, too.
  EXPECT_EQ(Run({"study", "--spec", spec_, "--db", db_, "--dry-run"}, "w3"), 1);
  EXPECT_NE(Read("w3", ".err").find("another wattlab"), std::string::npos) << Read("w3", ".err");
  EXPECT_EQ(Wait(first), 0) << Read("w1", ".err");
  // Every run exactly once and no stray idle baseline from the refused writer.
  EXPECT_EQ(CompletedRuns(), kRuns);
  auto st = Store::Open(StoreEnv(), db_, OpenMode::kReadOnly);
  ASSERT_TRUE(st.ok());
  auto info = (*st)->ReadStudy("e2e");
  ASSERT_TRUE(info.ok() && info->has_value());
  EXPECT_EQ((*info)->idle_baselines.size(), 1u);
  EXPECT_FALSE(fs::exists(StudyLockPath(db_, "e2e")));
}

TEST_F(StudyCliTest, DryRunOfAModelTooBigForMemoryIsRefusedWithItsSize) {
  const std::string spec = (dir_ / "huge.toml").string();
  std::ofstream(spec)
      << "name = \"huge\"\n[[sweep]]\nmodels = [\"mlp:depth=64,width=65536\"]\nbatch_sizes = [64]\n";
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = Run({"study", "--spec", spec, "--db", db_, "--dry-run"}, "huge");
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(rc, 1) << Read("huge", ".err");
  EXPECT_NE(Read("huge", ".err").find("model 'mlp:depth=64,width=65536' at batch 64 needs about"),
            std::string::npos)
      << Read("huge", ".err");
  EXPECT_NE(Read("huge", ".err").find("available (MemAvailable)"), std::string::npos);
  EXPECT_LT(took, 10.0);  // counted, never built
  EXPECT_FALSE(fs::exists(db_));
}

TEST_F(StudyCliTest, DevNullAsDatabaseIsRefusedBeforeAnything) {
  EXPECT_EQ(Run({"study", "--spec", spec_, "--db", "/dev/null", "--no-report"}, "null"), 2);
  EXPECT_NE(Read("null", ".err").find("not a regular file"), std::string::npos) << Read("null", ".err");
  EXPECT_FALSE(fs::exists("/dev/null-journal"));
  EXPECT_FALSE(fs::exists("/dev/null-wal"));
  EXPECT_EQ(Run({"analyze", "--db", "/proc/version"}, "proc"), 2);
  EXPECT_EQ(Read("proc", ".err").find("empty SQLite file"), std::string::npos) << Read("proc", ".err");
}

// A study of the user's own program (docs/own-workloads.md): a Python script
// that marks its windows with the package's API, swept over three batch
// sizes, with no workload plugin at all; then --resume adds nothing, and
// analyze and report show it. Each window lasts several of the estimate's
// 10 ms reads (a 5 ms one is below what it resolves).
TEST_F(StudyCliTest, CommandSweepStudyResumesAndIsAnalysedAndReported) {
  std::ofstream(dir_ / "train.py") << "import sys\n"
                                      "sys.path.insert(0, '" WATTLAB_PYTHON_DIR
                                      "')\n"
                                      "import wattlab\n"
                                      "assert wattlab.mode() == 'control', wattlab.mode()\n"
                                      "bs = int(sys.argv[1])\n"
                                      "print('training at batch', bs)\n"
                                      "for e in (1, 2):\n"
                                      "    with wattlab.window(f'epoch {e}', samples=256):\n"
                                      "        x = 0\n"
                                      "        for i in range(400000 * 32 // bs): x += i\n"
                                      "with wattlab.window('predict', samples=128):\n"
                                      "    sum(range(10000000))\n";
  const std::string spec = (dir_ / "own.toml").string();
  std::ofstream(spec) << R"(name = "own"
seed = 11
cooldown_s = 0
idle_s = 0.3
idle_every_s = 0

[[sweep]]
name = "my script"
command = ["/usr/bin/python3", "train.py", "{batch_size}"]
batch_sizes = [32, 64, 128]
threads = [1]
params = 1234567
macs = 89000000
windows = { train = "epoch*", infer = "predict" }
phases = ["train", "infer"]
timeout_s = 120
)";
  // No workload plugin: a command study must not need libtorch.
  const std::vector<std::string> no_plugin = {"WATTLAB_TORCH_PLUGIN=/nonexistent/libwattlab_torch.so"};
  ASSERT_EQ(Run({"study", "--spec", spec, "--db", db_, "--dry-run"}, "cdry", no_plugin), 0)
      << Read("cdry", ".err");
  EXPECT_NE(Read("cdry", ".out").find("command(train+infer)"), std::string::npos) << Read("cdry", ".out");
  ASSERT_EQ(Run({"study", "--spec", spec, "--db", db_}, "cmd", no_plugin), 0)
      << Read("cmd", ".err") << Read("cmd", ".out");
  std::string out = Read("cmd", ".out");
  EXPECT_NE(out.find("3 of 3 runs stored"), std::string::npos) << out;
  EXPECT_NE(out.find("report: "), std::string::npos) << out;
  // The program's stdout is its own; it does not break wattlab's summary.
  EXPECT_NE(Read("cmd", ".err").find("$ /usr/bin/python3 train.py 64"), std::string::npos)
      << Read("cmd", ".err");

  auto rows = [&] {
    auto st = Store::Open(StoreEnv(), db_, OpenMode::kReadOnly);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    auto r = (*st)->ReadRows("own");
    EXPECT_TRUE(r.ok());
    return *r;
  };
  auto first = rows();
  ASSERT_EQ(first.size(), 6u);
  std::set<int64_t> batches;
  for (const auto& r : first) {
    EXPECT_EQ(r.model, "my script");
    EXPECT_EQ(r.window, "full");
    EXPECT_EQ(r.params, 1234567);
    EXPECT_EQ(r.macs, 89000000);
    EXPECT_EQ(r.samples, r.phase == "train" ? 512 : 128) << r.phase;
    EXPECT_GT(r.energy_j, 0);
    EXPECT_GT(r.duration_s, 0);
    batches.insert(r.batch_size);
  }
  EXPECT_EQ(batches, (std::set<int64_t>{32, 64, 128}));

  // --resume: nothing to do, nothing added, the same rows.
  ASSERT_EQ(Run({"study", "--spec", spec, "--db", db_, "--resume", "--no-report"}, "cres", no_plugin), 0)
      << Read("cres", ".err");
  EXPECT_NE(Read("cres", ".out").find("3 of 3 runs stored"), std::string::npos) << Read("cres", ".out");
  EXPECT_NE(Read("cres", ".out").find("(0 this time"), std::string::npos) << Read("cres", ".out");
  auto second = rows();
  ASSERT_EQ(second.size(), first.size());
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(second[i].run_id, first[i].run_id);
    EXPECT_DOUBLE_EQ(second[i].energy_j, first[i].energy_j);
  }

  ASSERT_EQ(Run({"analyze", "--db", db_, "--json"}, "can"), 0) << Read("can", ".err");
  auto j = nlohmann::json::parse(Read("can", ".out"));
  EXPECT_NE(j.dump().find("my script"), std::string::npos);
  ASSERT_EQ(Run({"analyze", "--db", db_}, "cant"), 0) << Read("cant", ".err");
  EXPECT_NE(Read("cant", ".out").find("my script"), std::string::npos) << Read("cant", ".out");
  ASSERT_EQ(Run({"report", "--db", db_, "--out", (dir_ / "rep").string()}, "crep"), 0)
      << Read("crep", ".err");
  std::ifstream md(dir_ / "rep" / "summary.md");
  std::stringstream mds;
  mds << md.rdbuf();
  EXPECT_NE(mds.str().find("my script"), std::string::npos) << mds.str();
  EXPECT_TRUE(fs::exists(dir_ / "rep" / "index.html"));
}

// A program that fails, or runs past timeout_s, fails its run cleanly: the
// study goes on, says why, and keeps the program's last stderr lines.
TEST_F(StudyCliTest, CommandSweepFailureAndTimeoutKeepStderr) {
  const std::string spec = (dir_ / "bad.toml").string();
  std::ofstream(spec) << R"(name = "bad"
cooldown_s = 0
idle_s = 0

[[sweep]]
name = "flaky"
command = ["/bin/sh", "-c", "echo oops at $0 >&2; if [ $0 = 1 ]; then exit 4; fi; exec sleep 30", "{batch_size}"]
batch_sizes = [1, 2]
timeout_s = 0.5
)";
  ASSERT_EQ(Run({"study", "--spec", spec, "--db", db_, "--no-report"}, "bad", {}), 1) << Read("bad", ".err");
  const std::string err = Read("bad", ".err");
  EXPECT_NE(err.find("exited with code 4"), std::string::npos) << err;
  EXPECT_NE(err.find("longer than timeout_s = 0.5 s"), std::string::npos) << err;
  EXPECT_NE(err.find("stderr: oops at 1"), std::string::npos) << err;
  auto st = Store::Open(StoreEnv(), db_, OpenMode::kReadOnly);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  auto failed = (*st)->ReadFailedRuns("bad");
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 2u);
  for (const auto& f : *failed) {
    ASSERT_EQ(f.stderr_tail.size(), 1u);
    EXPECT_EQ(f.stderr_tail[0].rfind("oops at ", 0), 0u) << f.stderr_tail[0];
  }
}

}  // namespace
}  // namespace wattlab
