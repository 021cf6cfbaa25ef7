// Command sweeps (docs/own-workloads.md): the spec keys and their errors, the
// plan, the pure helpers, and the runner over a real /bin/sh child with the
// fake meter and clock.
#include "study/command_sweep.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "fakes.h"
#include "platform/real_env.h"
#include "store/store.h"
#include "study/plan.h"
#include "study/runner.h"
#include "study/spec.h"

namespace wattlab {
namespace {

namespace fs = std::filesystem;
using testing::FakeClockEnv;
using testing::FakeMeter;

const char* kCommandSpec = R"(name = "mine"
seed = 7
cooldown_s = 0
idle_s = 0

[[sweep]]
name = "my model"
command = ["/bin/sh", "-c", "echo {batch_size} {threads} {epochs} {{x}}", "{run_id}"]
batch_sizes = [32, 64, 128]
threads = [2]
epochs = 3
params = 1234567
macs = 89000000
windows = { train = ["epoch*", "warm?"], infer = "predict" }
phases = ["train", "infer"]
timeout_s = 30
)";

StudySpec Parse(const std::string& text) {
  auto s = ParseStudySpec(text, "my.toml");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : StudySpec{};
}

void ExpectError(const std::string& text, const std::vector<std::string>& parts) {
  auto s = ParseStudySpec(text, "my.toml");
  ASSERT_FALSE(s.ok()) << text;
  EXPECT_EQ(s.status().kind(), Status::Kind::kInvalidArgument);
  for (const auto& p : parts)
    EXPECT_NE(s.status().message().find(p), std::string::npos)
        << "message: " << s.status().message() << "\nmissing: " << p;
}

TEST(CommandSpecTest, ParsesEveryKey) {
  StudySpec s = Parse(kCommandSpec);
  ASSERT_EQ(s.sweeps.size(), 1u);
  const SweepSpec& sw = s.sweeps[0];
  EXPECT_TRUE(sw.is_command());
  EXPECT_EQ(sw.label, "my model");
  EXPECT_EQ(sw.command.size(), 4u);
  EXPECT_EQ(sw.batch_sizes, (std::vector<int64_t>{32, 64, 128}));
  EXPECT_EQ(sw.epochs, 3);
  EXPECT_EQ(sw.params, 1234567);
  EXPECT_EQ(sw.macs, 89000000);
  std::map<std::string, std::vector<std::string>> windows(sw.windows.begin(), sw.windows.end());
  ASSERT_EQ(windows.size(), 2u);
  EXPECT_EQ(windows["train"], (std::vector<std::string>{"epoch*", "warm?"}));
  EXPECT_EQ(windows["infer"], (std::vector<std::string>{"predict"}));
  EXPECT_TRUE(sw.phases_given);
  EXPECT_DOUBLE_EQ(sw.timeout_s, 30);
}

TEST(CommandSpecTest, DefaultsKeepEveryPhaseAndAnHour) {
  StudySpec s = Parse("name = \"x\"\n[[sweep]]\nname = \"p\"\ncommand = [\"prog\"]\nbatch_sizes = [1]\n");
  const SweepSpec& sw = s.sweeps[0];
  EXPECT_EQ(sw.phases, (std::vector<std::string>{"train", "eval", "infer"}));
  EXPECT_FALSE(sw.phases_given);
  EXPECT_DOUBLE_EQ(sw.timeout_s, 3600);
  EXPECT_FALSE(sw.params.has_value());
  EXPECT_TRUE(sw.windows.empty());
}

TEST(CommandSpecTest, ErrorsNameTheSweepAndTheKey) {
  const std::string head = "name = \"x\"\n[[sweep]]\nname = \"my model\"\n";
  ExpectError(head + "command = [\"p\"]\nmodels = [\"lenet\"]\nbatch_sizes = [1]\n",
              {"my.toml:4:", "key 'sweep[1].command'", "sweep 'my model'", "not both"});
  ExpectError(head + "command = []\nbatch_sizes = [1]\n",
              {"my.toml:4:", "key 'sweep[1].command'", "sweep 'my model'", "non-empty array"});
  ExpectError(head + "command = [\"p\", \"--bs\", \"{batch}\"]\nbatch_sizes = [1]\n",
              {"my.toml:4:", "key 'sweep[1].command'", "sweep 'my model'", "unknown placeholder {batch}",
               "{batch_size}"});
  ExpectError(head + "command = [\"p\", \"{batch_size\"]\nbatch_sizes = [1]\n",
              {"key 'sweep[1].command'", "without its '}'"});
  ExpectError("name = \"x\"\n[[sweep]]\ncommand = [\"p\"]\nbatch_sizes = [1]\n",
              {"my.toml:3:", "key 'sweep[1].name'", "needs a name"});
  ExpectError(head + "command = [\"p\"]\nbatch_sizes = [1]\nlr = 0.1\n",
              {"my.toml:6:", "key 'sweep[1].lr'", "not used by a command sweep", "timeout_s"});
  ExpectError(head + "models = [\"lenet\"]\nbatch_sizes = [1]\ntimeout_s = 5\n",
              {"my.toml:6:", "key 'sweep[1].timeout_s'", "only for a command sweep"});
  ExpectError(
      head + "command = [\"p\"]\nbatch_sizes = [1]\nphases = [\"infer\"]\nwindows = { train = \"e*\" }\n",
      {"key 'sweep[1].windows.train'", "not in phases"});
  ExpectError(head + "command = [\"p\"]\nbatch_sizes = [1]\nwindows = { warmup = \"w\" }\n",
              {"key 'sweep[1].windows.warmup'", "not a phase"});
  ExpectError(head + "command = [\"p\"]\nbatch_sizes = [1, 2]\n",
              {"key 'sweep[1].batch_sizes'", "no {batch_size}", "identical"});
  ExpectError(head + "command = [\"p\"]\nbatch_sizes = [1]\ntimeout_s = 0\n",
              {"key 'sweep[1].timeout_s'", "> 0"});
  ExpectError(head + "command = [\"p\"]\nbatch_sizes = [1]\nparams = 0\n", {"key 'sweep[1].params'", ">= 1"});
}

TEST(CommandSpecTest, PlaceholdersAndGlobs) {
  std::vector<std::pair<std::string, std::string>> v = {{"batch_size", "64"}, {"threads", "2"}};
  EXPECT_EQ(*FillPlaceholders("--bs={batch_size}/{threads}", v), "--bs=64/2");
  EXPECT_EQ(*FillPlaceholders("{{'a': {batch_size}}}", v), "{'a': 64}");
  EXPECT_FALSE(FillPlaceholders("{nope}", v).ok());
  EXPECT_FALSE(FillPlaceholders("a}b", v).ok());
  EXPECT_TRUE(GlobMatch("epoch*", "epoch 12"));
  EXPECT_TRUE(GlobMatch("epoch*", "epoch"));
  EXPECT_FALSE(GlobMatch("epoch*", "an epoch"));
  EXPECT_TRUE(GlobMatch("*ep?ch*", "my epoch 1"));
  EXPECT_TRUE(GlobMatch("predict", "predict"));
  EXPECT_FALSE(GlobMatch("predict", "predict2"));
  EXPECT_TRUE(GlobMatch("*", ""));
}

TEST(CommandSpecTest, PhaseOfWindowUsesTheMappingOrTheName) {
  StudySpec s = Parse(kCommandSpec);
  const SweepSpec& sw = s.sweeps[0];
  EXPECT_EQ(PhaseOfWindow(sw, "epoch 1"), "train");
  EXPECT_EQ(PhaseOfWindow(sw, "warm1"), "train");
  EXPECT_EQ(PhaseOfWindow(sw, "train"), "");  // train is mapped: its own name no longer counts
  EXPECT_EQ(PhaseOfWindow(sw, "predict"), "infer");
  EXPECT_EQ(PhaseOfWindow(sw, "eval"), "");  // not kept
  StudySpec d = Parse("name = \"x\"\n[[sweep]]\nname = \"p\"\ncommand = [\"prog\"]\nbatch_sizes = [1]\n");
  EXPECT_EQ(PhaseOfWindow(d.sweeps[0], "eval"), "eval");
  EXPECT_EQ(PhaseOfWindow(d.sweeps[0], "epoch 1"), "");
}

TEST(CommandSpecTest, SumWindowsAddsEnergiesAndDomains) {
  WindowResult a, b;
  a.name = "epoch 1", b.name = "epoch 2";
  a.start_s = 5, b.start_s = 7;
  a.duration_s = 1, b.duration_s = 3;
  a.energy_j = 10, b.energy_j = 30;
  a.energy_above_idle_j = 4, b.energy_above_idle_j = 6;
  a.cpu_util = 1.0, b.cpu_util = 0.5;
  a.samples = 10, b.samples = 30;
  a.sources = {"estimate"}, b.sources = {"estimate", "nvml"};
  a.domains = {{"cpu", "estimate", Component::kCpu, true, true, 10, 10}};
  b.domains = {{"cpu", "estimate", Component::kCpu, true, true, 20, 6.67},
               {"gpu-0", "nvml", Component::kGpu, true, false, 10, 3.3}};
  b.estimated = true;
  WindowResult s = SumWindows({a, b});
  EXPECT_DOUBLE_EQ(s.start_s, 5);
  EXPECT_DOUBLE_EQ(s.duration_s, 4);
  EXPECT_DOUBLE_EQ(s.energy_j, 40);
  EXPECT_DOUBLE_EQ(*s.energy_above_idle_j, 10);
  EXPECT_DOUBLE_EQ(s.mean_power_w, 10);
  EXPECT_DOUBLE_EQ(s.cpu_util, (1.0 * 1 + 0.5 * 3) / 4);
  EXPECT_EQ(s.samples, 40);
  EXPECT_TRUE(s.estimated);
  EXPECT_EQ(s.sources, (std::vector<std::string>{"estimate", "nvml"}));
  ASSERT_EQ(s.domains.size(), 2u);
  EXPECT_DOUBLE_EQ(s.domains[0].energy_j, 30);
  EXPECT_DOUBLE_EQ(s.domains[0].mean_power_w, 7.5);
  b.energy_above_idle_j.reset();
  EXPECT_FALSE(SumWindows({a, b}).energy_above_idle_j.has_value());
}

TEST(CommandPlanTest, OneRunPerBatchSeededAndStable) {
  StudySpec s = Parse(kCommandSpec);
  auto runs = ExpandPlan(s);
  ASSERT_EQ(runs.size(), 3u);
  std::set<int64_t> batches;
  std::set<std::string> ids;
  for (const auto& r : runs) {
    EXPECT_TRUE(r.is_command());
    EXPECT_EQ(r.model, "my model");
    EXPECT_EQ(r.epochs, 3);
    EXPECT_EQ(r.command, s.sweeps[0].command);
    batches.insert(r.batch_size);
    ids.insert(r.config_id);
  }
  EXPECT_EQ(batches, (std::set<int64_t>{32, 64, 128}));
  EXPECT_EQ(ids.size(), 3u);
  // The same spec, the same order and ids (resume relies on it); another seed, another order.
  auto again = ExpandPlan(Parse(kCommandSpec));
  for (size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(runs[i].batch_size, again[i].batch_size);
    EXPECT_EQ(runs[i].config_id, again[i].config_id);
  }
  // Another command: other configuration ids.
  std::string other = kCommandSpec;
  other.replace(other.find("echo"), 4, "printf");
  auto o = ExpandPlan(Parse(other));
  for (const auto& r : o) EXPECT_EQ(ids.count(r.config_id), 0u);
  // The plan table and the memory check take command runs.
  std::string table = FormatPlan(runs, s);
  EXPECT_NE(table.find("my model"), std::string::npos) << table;
  EXPECT_NE(table.find("command(train+infer)"), std::string::npos) << table;
  EXPECT_TRUE(CheckPlanFitsMemory(runs, 1).ok());
}

TEST(CommandPlanTest, PlaceholderValuesFillAllCoresForThreadsZero) {
  StudySpec s =
      Parse("name = \"x\"\nseed = 9\n[[sweep]]\nname = \"p\"\ncommand = [\"prog\"]\nbatch_sizes = [4]\n");
  auto runs = ExpandPlan(s);
  auto v = PlaceholderValues(runs[0], s, 6);
  std::map<std::string, std::string> m(v.begin(), v.end());
  EXPECT_EQ(m["batch_size"], "4");
  EXPECT_EQ(m["threads"], "6");
  EXPECT_EQ(m["seed"], "9");
  EXPECT_EQ(m["run_id"], "1");
  EXPECT_EQ(m.size(), CommandPlaceholders().size());
}

// ---------------------------------------------------------------- runner

class CommandRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wattlab_cmd_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    real_ = NewRealEnv();
    auto s = Store::Open(real_.get(), (dir_ / "s.db").string(), OpenMode::kCreate);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  StudySpec Spec(const std::string& script, const std::string& extra = "") {
    return Parse(
        "name = \"c\"\ncooldown_s = 0\nidle_s = 0\n[[sweep]]\nname = \"sh\"\ncommand = [\"/bin/sh\", "
        "\"-c\", \"" +
        script + "\", \"sh\", \"{batch_size}\"]\nbatch_sizes = [8, 16]\n" + extra);
  }
  fs::path dir_;
  std::unique_ptr<Env> real_;
  std::unique_ptr<Store> store_;
};

TEST_F(CommandRunnerTest, WindowsBecomeRowsSummedPerPhase) {
  FakeClockEnv env;
  FakeMeter meter(&env);
  std::ostringstream log;
  RunnerOptions opt;
  opt.log = &log;
  // Two epochs (train, summed), an eval window and one not mapped anywhere.
  StudySpec spec = Spec(
      "for e in 1 2; do echo \\\"begin epoch $e\\\" >&3; echo \\\"samples $1\\\" >&3; echo \\\"end epoch "
      "$e\\\" >&3; "
      "done; printf 'begin eval\\\\nsamples 5\\\\nend eval\\\\nbegin other\\\\nend other\\\\n' >&3",
      "windows = { train = \"epoch*\" }\n");
  StudyRunner runner(spec, nullptr, &meter, store_.get(), &env, opt);
  auto out = runner.Run(StudyInfo{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->done_now, 2) << log.str();
  EXPECT_EQ(out->failed, 0) << log.str();
  EXPECT_TRUE(out->finished);
  auto rows = store_->ReadRows("c");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 4u) << log.str();
  for (const auto& r : *rows) {
    EXPECT_EQ(r.model, "sh");
    EXPECT_EQ(r.window, "full");
    EXPECT_EQ(r.params, 0);
    if (r.phase == "train") EXPECT_EQ(r.samples, 2 * r.batch_size);
    if (r.phase == "eval") EXPECT_EQ(r.samples, 5);
    EXPECT_NE(r.phase, "infer");
  }
  auto tl = store_->ReadTimelines("c");
  ASSERT_TRUE(tl.ok());
  ASSERT_EQ(tl->size(), 2u);
  std::set<std::string> spans;
  for (const auto& s : (*tl)[0].windows) spans.insert(s.name);
  EXPECT_EQ(spans, (std::set<std::string>{"epoch 1", "epoch 2", "eval", "other"}));
}

TEST_F(CommandRunnerTest, ExitCodeOrNoWindowFailsWithStderrStored) {
  FakeClockEnv env;
  FakeMeter meter(&env);
  std::ostringstream log;
  RunnerOptions opt;
  opt.log = &log;
  // Batch 8 fails with a message on stderr; batch 16 exits 0 with no window.
  StudySpec spec = Spec("echo starting >&2; if [ $1 = 8 ]; then echo 'CUDA out of memory' >&2; exit 3; fi");
  StudyRunner runner(spec, nullptr, &meter, store_.get(), &env, opt);
  auto out = runner.Run(StudyInfo{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->done_now, 0);
  EXPECT_EQ(out->failed, 2);
  EXPECT_FALSE(out->finished);
  EXPECT_NE(log.str().find("stderr: CUDA out of memory"), std::string::npos) << log.str();
  auto failed = store_->ReadFailedRuns("c");
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  ASSERT_EQ(failed->size(), 2u);
  bool saw_exit = false, saw_none = false;
  for (const auto& f : *failed) {
    EXPECT_EQ(f.model, "sh");
    if (f.message.find("exited with code 3") != std::string::npos) {
      saw_exit = true;
      EXPECT_EQ(f.stderr_tail, (std::vector<std::string>{"starting", "CUDA out of memory"}));
    }
    if (f.message.find("opened no window") != std::string::npos) {
      saw_none = true;
      EXPECT_NE(f.message.find("windows seen: none"), std::string::npos) << f.message;
    }
  }
  EXPECT_TRUE(saw_exit && saw_none);
  EXPECT_TRUE(store_->CompletedRunIds("c")->empty());
}

TEST_F(CommandRunnerTest, ListedPhaseNeverMeasuredFails) {
  FakeClockEnv env;
  FakeMeter meter(&env);
  RunnerOptions opt;
  StudySpec spec = Spec("printf 'begin train\\\\nend train\\\\n' >&3", "phases = [\"train\", \"infer\"]\n");
  StudyRunner runner(spec, nullptr, &meter, store_.get(), &env, opt);
  auto out = runner.Run(StudyInfo{});
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->failed, 2);
  ASSERT_FALSE(out->failures.empty());
  EXPECT_NE(out->failures[0].find("no window for phase 'infer'"), std::string::npos) << out->failures[0];
}

// ---------------------------------------------------------------- torchscript

TEST(TorchScriptSpecTest, SweepOfAFileAndErrors) {
  StudySpec s = Parse(
      "name = \"x\"\n[[sweep]]\nname = \"mine\"\ntorchscript = \"m.pt\"\ninput = \"1x28x28\"\n"
      "batch_sizes = [8, 16]\n");
  const SweepSpec& sw = s.sweeps[0];
  EXPECT_TRUE(sw.is_torchscript());
  EXPECT_EQ(sw.models, (std::vector<std::string>{"mine"}));
  auto runs = ExpandPlan(s);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].torchscript, "m.pt");
  EXPECT_EQ(runs[0].input, "1x28x28");
  EXPECT_TRUE(CheckPlanFitsMemory(runs, 1).ok());  // not in the catalog: not checked
  // Without input: the dataset's shape; without a name: the path.
  StudySpec d = Parse("name = \"x\"\n[[sweep]]\ntorchscript = \"m.pt\"\nbatch_sizes = [8]\n");
  EXPECT_EQ(ExpandPlan(d)[0].input, "1x28x28");
  EXPECT_EQ(ExpandPlan(d)[0].model, "m.pt");
  ExpectError("name = \"x\"\n[[sweep]]\ntorchscript = \"m.pt\"\nmodels = [\"lenet\"]\nbatch_sizes = [8]\n",
              {"key 'sweep[1].torchscript'", "not both"});
  ExpectError("name = \"x\"\n[[sweep]]\nmodels = [\"lenet\"]\ninput = \"1x2x3\"\nbatch_sizes = [8]\n",
              {"key 'sweep[1].input'", "give torchscript too"});
  ExpectError("name = \"x\"\n[[sweep]]\ntorchscript = \"m.pt\"\ninput = \"big\"\nbatch_sizes = [8]\n",
              {"key 'sweep[1].input'"});
}

TEST_F(CommandRunnerTest, TorchScriptSweepTrainsAndInfersTheFile) {
  FakeClockEnv env;
  FakeMeter meter(&env);
  testing::FakeEngine engine(&env);
  RunnerOptions opt;
  StudySpec spec = Parse(
      "name = \"c\"\ncooldown_s = 0\nidle_s = 0\n[[sweep]]\nname = \"mine\"\n"
      "torchscript = \"m.pt\"\ninput = \"1x28x28\"\nbatch_sizes = [8]\ntrain_samples = 64\n"
      "infer_samples = 16\n");
  StudyRunner runner(spec, &engine, &meter, store_.get(), &env, opt);
  auto out = runner.Run(StudyInfo{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->done_now, 1);
  ASSERT_EQ(engine.train_calls.size(), 1u);
  EXPECT_EQ(engine.train_calls[0].torchscript, "m.pt");
  EXPECT_TRUE(engine.train_calls[0].model.empty());
  ASSERT_TRUE(engine.train_calls[0].input.has_value());
  EXPECT_EQ(engine.train_calls[0].input->ToString(), "1x28x28");
  ASSERT_EQ(engine.infer_calls.size(), 1u);
  EXPECT_EQ(engine.infer_calls[0].torchscript, "m.pt");
  auto rows = store_->ReadRows("c");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  for (const auto& r : *rows) {
    EXPECT_EQ(r.model, "mine");
    EXPECT_EQ(r.params, 5000);
    EXPECT_EQ(r.macs, 400000);
  }
}

TEST_F(CommandRunnerTest, CommandSweepCountsItsModelFromTorchScript) {
  FakeClockEnv env;
  FakeMeter meter(&env);
  testing::FakeEngine engine(&env);
  RunnerOptions opt;
  StudySpec spec = Spec("printf 'begin train\\\\nsamples 4\\\\nend train\\\\n' >&3",
                        "torchscript = \"m.pt\"\nmacs = 123\n");
  StudyRunner runner(spec, &engine, &meter, store_.get(), &env, opt);
  auto out = runner.Run(StudyInfo{});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->done_now, 2);
  EXPECT_TRUE(engine.train_calls.empty());  // counted, never trained by the engine
  auto rows = store_->ReadRows("c");
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].params, 5000);  // from the file
  EXPECT_EQ((*rows)[0].macs, 123);     // the spec wins
  // A missing file is refused before anything runs.
  StudySpec bad = Spec("true", "torchscript = \"missing.txt\"\n");
  StudyRunner r2(bad, &engine, &meter, store_.get(), &env, opt);
  auto d = r2.DescribeModels();
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("torchscript 'missing.txt'"), std::string::npos)
      << d.status().message();
}

}  // namespace
}  // namespace wattlab
