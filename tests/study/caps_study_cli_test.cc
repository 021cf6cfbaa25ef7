// `wattlab study` with gpu_power_limits_pct end to end on the real binary:
// the fake engine plugin, the fake NVML (limits in a file: the driver's
// state), a writable copy of tests/fixtures/caps as /sys, and a /proc made of
// the fixture's self/status (root) plus snapshots of this machine's files.
// One run per cap is stored with the limit read back, the export carries the
// caps, `analyze` shows the curve, and every limit is back afterwards.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

extern char** environ;

namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class CapsStudyCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wattlab-capstudy-cli-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::copy(CAPS_FIXTURES, dir_ / "tree", fs::copy_options::recursive);
    for (const char* f : {"stat", "meminfo", "cpuinfo", "loadavg", "uptime"}) {
      std::ofstream(dir_ / "tree/proc" / f) << Slurp(fs::path("/proc") / f);
    }
    limits_ = dir_ / "gpu_limits_mw";
    std::ofstream(limits_) << "320000\n320000\n";
    std::ofstream(dir_ / "caps.toml") << R"(name = "caps"
seed = 7
cooldown_s = 0
idle_s = 0.2
idle_every_s = 0

[[sweep]]
models = ["lenet"]
batch_sizes = [16]
threads = [1]
phases = ["train"]
profile_steps = 3
gpu_power_limits_pct = [100, 70, 40]
)";
  }
  void TearDown() override { fs::remove_all(dir_); }

  int Run(const std::vector<std::string>& args, const std::string& tag) { return Wait(Spawn(args, tag)); }
  int Wait(pid_t pid) {
    int status = 0;
    EXPECT_EQ(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  pid_t Spawn(const std::vector<std::string>& args, const std::string& tag,
              const std::string& s_per_sample = "0.001") {
    std::vector<std::string> env = {"WATTLAB_TORCH_PLUGIN=" FAKE_PLUGIN,
                                    "WATTLAB_FAKE_S_PER_SAMPLE=" + s_per_sample,
                                    "WATTLAB_CAPS_JOURNAL=" + (dir_ / "run/caps.json").string(),
                                    "WATTLAB_SYSFS_ROOT=" + (dir_ / "tree/sys").string(),
                                    "WATTLAB_PROC_ROOT=" + (dir_ / "tree/proc").string(),
                                    "WATTLAB_NVML_LIBRARY=" FAKE_NVML_PATH, "FAKE_NVML_GPUS=2",
                                    // Power, not the (constant) energy counter: windows get energy.
                                    "FAKE_NVML_NO_ENERGY=1", "FAKE_NVML_LIMITS_FILE=" + limits_.string()};
    for (char** e = environ; *e; ++e) {
      const std::string v = *e;
      if (v.rfind("WATTLAB_", 0) != 0 && v.rfind("FAKE_NVML_", 0) != 0) env.push_back(v);
    }
    std::vector<std::string> all = {WATTLAB_BIN};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv, envp;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string out = (dir_ / (tag + ".out")).string(), err = (dir_ / (tag + ".err")).string();
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = 0;
    EXPECT_EQ(posix_spawn(&pid, WATTLAB_BIN, &fa, nullptr, argv.data(), envp.data()), 0);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
  }
  std::string Read(const std::string& tag, const char* ext) { return Slurp(dir_ / (tag + ext)); }

  fs::path dir_, limits_;
};

TEST_F(CapsStudyCliTest, GpuPercentStudyStoresOneRunPerCapAndRestoresTheLimits) {
  const std::string db = (dir_ / "caps.db").string();
  ASSERT_EQ(Run({"study", "--spec", (dir_ / "caps.toml").string(), "--db", db, "--dry-run"}, "dry"), 0)
      << Read("dry", ".err");
  EXPECT_NE(Read("dry", ".out").find("@ gpu 40%"), std::string::npos) << Read("dry", ".out");

  ASSERT_EQ(Run({"study", "--spec", (dir_ / "caps.toml").string(), "--db", db, "--no-report"}, "study"), 0)
      << Read("study", ".err") << Read("study", ".out");
  // Back where they were, the journal gone.
  EXPECT_EQ(Slurp(limits_), "320000\n320000\n");
  EXPECT_FALSE(fs::exists(dir_ / "run/caps.json"));

  ASSERT_EQ(Run({"runs", "--db", db, "--json"}, "json"), 0) << Read("json", ".err");
  auto rows = nlohmann::json::parse(Read("json", ".out"));
  ASSERT_EQ(rows.size(), 3u);
  std::set<double> caps;
  for (const auto& r : rows) {
    ASSERT_TRUE(r["gpu_power_limit_w"].is_number()) << r.dump();
    caps.insert(r["gpu_power_limit_w"].get<double>());
    EXPECT_EQ(r["cpu_power_limit_w"], 125) << r.dump();
    EXPECT_EQ(r["cpu_max_freq_mhz"], 4900) << r.dump();
  }
  EXPECT_EQ(caps, (std::set<double>{140, 245, 350}));

  ASSERT_EQ(Run({"analyze", "--db", db, "--json", "--energy", "total"}, "analyze"), 0)
      << Read("analyze", ".err");
  auto a = nlohmann::json::parse(Read("analyze", ".out"));
  ASSERT_EQ(a["power_caps"]["curves"].size(), 1u) << a["power_caps"].dump();
  EXPECT_EQ(a["power_caps"]["curves"][0]["knob"], "gpu_power_limit_w");
  EXPECT_EQ(a["power_caps"]["curves"][0]["reference_cap"], 350);
  EXPECT_EQ(a["power_caps"]["curves"][0]["points"].size(), 3u);

  // The report's section with its plots and their data.
  const std::string out = (dir_ / "report").string();
  ASSERT_EQ(Run({"report", "--db", db, "--out", out, "--energy", "total"}, "report"), 0)
      << Read("report", ".err");
  const std::string html = Slurp(fs::path(out) / "index.html");
  EXPECT_NE(html.find("<section id=\"power-caps\">"), std::string::npos);
  EXPECT_NE(html.find("Energy per sample vs GPU power limit (W)"), std::string::npos);
  EXPECT_EQ(html.find("nan"), std::string::npos);
  EXPECT_TRUE(fs::exists(fs::path(out) / "energy_vs_gpu_power_limit_w_1.csv"));
  EXPECT_NE(Slurp(fs::path(out) / "summary.md").find("## Energy and time vs power cap"), std::string::npos);
  EXPECT_NE(html.find("within 1.1x"), std::string::npos);
  // The report takes analyze's --max-slowdown, with the same range.
  const std::string out2 = (dir_ / "report2").string();
  ASSERT_EQ(
      Run({"report", "--db", db, "--out", out2, "--energy", "total", "--max-slowdown", "1.5"}, "report2"), 0)
      << Read("report2", ".err");
  EXPECT_NE(Slurp(fs::path(out2) / "index.html").find("within 1.5x"), std::string::npos);
  EXPECT_EQ(Run({"report", "--db", db, "--out", out2, "--max-slowdown", "0.5"}, "report3"), 2);
  EXPECT_NE(Read("report3", ".err").find("--max-slowdown must be"), std::string::npos)
      << Read("report3", ".err");
}

}  // namespace

namespace {

// SIGTERM (and SIGINT: the same path in cmd_study.cc) while a cap is in
// force: the run in progress is discarded, every limit goes back, exit 130.
TEST_F(CapsStudyCliTest, SigtermDuringACappedRunPutsTheLimitsBack) {
  std::ofstream(dir_ / "slow.toml") << R"(name = "slow"
seed = 7
cooldown_s = 0
idle_s = 0.1
idle_every_s = 0

[[sweep]]
models = ["lenet"]
batch_sizes = [16]
threads = [1]
phases = ["train"]
profile_steps = 200
gpu_power_limits_w = [150, 200]
)";
  const std::string db = (dir_ / "slow.db").string();
  // 200 steps of 16 samples at 5 ms a sample: 16 s a run, far longer than the wait below.
  pid_t pid =
      Spawn({"study", "--spec", (dir_ / "slow.toml").string(), "--db", db, "--no-report"}, "slow", "0.005");
  bool capped = false;
  for (int i = 0; i < 2000 && !capped; ++i) {
    const std::string now = Slurp(limits_);
    capped = now == "150000\n150000\n" || now == "200000\n200000\n";
    if (!capped) usleep(5000);
  }
  ASSERT_TRUE(capped) << Slurp(limits_) << Read("slow", ".err");
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  EXPECT_EQ(Wait(pid), 130) << Read("slow", ".err");
  EXPECT_EQ(Slurp(limits_), "320000\n320000\n") << Read("slow", ".err");
  EXPECT_FALSE(fs::exists(dir_ / "run/caps.json"));
  EXPECT_NE(Read("slow", ".err").find("interrupted"), std::string::npos) << Read("slow", ".err");
}

}  // namespace
