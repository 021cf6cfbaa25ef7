// End-to-end: `wattlab cap` as a user runs it, on a writable copy of
// tests/fixtures/caps and the fake NVML (limits in a file, so one process sees
// what another set), with the journal in a temp folder. SIGKILL and SIGTERM
// between set and restore included.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

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

struct Ran {
  int rc = -1;
  std::string out, err;
};

class CapCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wattlab-cap-cli-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::copy(CAPS_FIXTURES, dir_ / "tree", fs::copy_options::recursive);
    sys_ = (dir_ / "tree/sys").string();
    journal_ = dir_ / "run/caps.json";
    limits_ = dir_ / "gpu_limits_mw";
    pkg0_ = dir_ / "tree/sys/class/powercap/intel-rapl:0/constraint_0_power_limit_uw";
    pkg1_enabled_ = dir_ / "tree/sys/class/powercap/intel-rapl:1/enabled";
    cpu0_ = dir_ / "tree/sys/devices/system/cpu/cpu0/cpufreq/scaling_max_freq";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The environment every run gets: the journal, the fake driver's state,
  // and the roots (so nothing here can reach a real device).
  std::vector<std::string> Env() const {
    return {"WATTLAB_CAPS_JOURNAL=" + journal_.string(),
            "WATTLAB_SYSFS_ROOT=" + sys_,
            "WATTLAB_PROC_ROOT=" + (dir_ / "tree/proc").string(),
            "WATTLAB_NVML_LIBRARY=" + std::string(FAKE_NVML_PATH),
            "FAKE_NVML_GPUS=2",
            "FAKE_NVML_LIMITS_FILE=" + limits_.string(),
            "XDG_STATE_HOME=" + (dir_ / "state").string(),
            "PATH=/usr/bin:/bin"};
  }

  pid_t Spawn(const std::vector<std::string>& args, const fs::path& out, const fs::path& err) {
    std::vector<std::string> argv = {WATTLAB_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(s.data());
    a.push_back(nullptr);
    std::vector<std::string> env = Env();
    env.insert(env.end(), extra_env_.begin(), extra_env_.end());
    std::vector<char*> e;
    for (auto& s : env) e.push_back(s.data());
    e.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, WATTLAB_BINARY, &fa, nullptr, a.data(), e.data());
    posix_spawn_file_actions_destroy(&fa);
    EXPECT_EQ(rc, 0);
    return pid;
  }

  static int Wait(pid_t pid, int* signal = nullptr) {
    int st = 0;
    waitpid(pid, &st, 0);
    if (signal) *signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

  Ran Wattlab(const std::vector<std::string>& args) {
    pid_t pid = Spawn(args, dir_ / "out", dir_ / "err");
    Ran r;
    r.rc = Wait(pid);
    r.out = Slurp(dir_ / "out");
    r.err = Slurp(dir_ / "err");
    return r;
  }

  // Starts a `cap ... --hold` in the background and returns once it holds.
  pid_t StartHolding(const std::vector<std::string>& args) {
    pid_t pid = Spawn(args, dir_ / "hold.out", dir_ / "hold.err");
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (Slurp(dir_ / "hold.out").find("holding") == std::string::npos) {
      int st = 0;
      if (waitpid(pid, &st, WNOHANG) == pid) {
        ADD_FAILURE() << "cap --hold ended early: " << Slurp(dir_ / "hold.err");
        return -1;
      }
      if (std::chrono::steady_clock::now() > give_up) {
        ADD_FAILURE() << "cap --hold never reported holding";
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // waiting on another process
    }
    return pid;
  }

  std::string GpuLimits() const { return fs::exists(limits_) ? Slurp(limits_) : "320000\n320000\n"; }

  fs::path dir_, journal_, limits_, pkg0_, pkg1_enabled_, cpu0_;
  std::string sys_;
  std::vector<std::string> extra_env_;
};

TEST_F(CapCli, JsonHasExactlyTheDocumentedShape) {
  Ran r = Wattlab({"cap", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  nlohmann::ordered_json ordered = nlohmann::ordered_json::parse(r.out);
  std::vector<std::string> keys;
  for (auto& [k, v] : ordered.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"gpus", "packages", "cpufreq", "journal"}));
  keys.clear();
  for (auto& [k, v] : ordered["gpus"][0].items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"index", "name", "limit_w", "default_w", "min_w", "max_w",
                                            "enforced_w", "settable"}));
  json j = json::parse(r.out);
  ASSERT_EQ(j["gpus"].size(), 2u);
  EXPECT_EQ(j["gpus"][0],
            json::parse(R"({"index": 0, "name": "Fake GPU 0", "limit_w": 320.0, "default_w": 350.0,
                                          "min_w": 100.0, "max_w": 350.0, "enforced_w": 300.0, "settable": true})"));
  ASSERT_EQ(j["packages"].size(), 2u);
  EXPECT_EQ(j["packages"][0], json::parse(R"({"zone": "intel-rapl:0", "name": "package-0", "constraints": [
      {"name": "long_term", "power_limit_w": 125.0, "time_window_s": 0.999424, "min_w": null, "max_w": 250.0},
      {"name": "short_term", "power_limit_w": 150.0, "time_window_s": 0.00244, "min_w": null, "max_w": null}],
      "settable": true})"));
  EXPECT_EQ(j["cpufreq"],
            json::parse(R"({"cpus": 4, "max_freq_mhz": 4900.0, "min_mhz": 800.0, "max_mhz": 4900.0,
                                          "settable": true})"));
  EXPECT_TRUE(j["journal"].is_null());
  EXPECT_EQ(r.err, "");
}

TEST_F(CapCli, TextShowsEveryKnob) {
  Ran r = Wattlab({"cap"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("gpu 1  Fake GPU 1: limit 320 W, default 350 W, range 100 W to 350 W, enforced 300 W"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("package-1 (intel-rapl:1): limiting disabled"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4 CPUs, scaling_max_freq 3600 to 4900 MHz, range 800 to 4900 MHz"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("journal: none"), std::string::npos) << r.out;
}

TEST_F(CapCli, SetWarnsOtherCommandsThenRestorePutsTheOriginalBack) {
  Ran r = Wattlab({"cap", "--cpu-power-limit-w", "100"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(Trimmed(pkg0_), "100000000");
  EXPECT_EQ(Trimmed(pkg1_enabled_), "1");
  EXPECT_NE(r.out.find("package-0 long_term power limit: 100 W"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("wattlab cap --restore"), std::string::npos) << r.out;
  ASSERT_TRUE(fs::exists(journal_));

  // Any other command warns while the journal is pending.
  Ran other =
      Wattlab({"estimate", "--cpu-model", "Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz", "--load", "0.5"});
  ASSERT_EQ(other.rc, 0) << other.err;
  EXPECT_NE(other.err.find("power caps set by wattlab are still in force"), std::string::npos) << other.err;
  EXPECT_NE(other.err.find("`wattlab cap --restore`"), std::string::npos) << other.err;
  EXPECT_NE(other.err.find("intel-rapl:0 constraint 0 power limit 125 W"), std::string::npos) << other.err;
  Ran shown = Wattlab({"cap", "--json"});
  EXPECT_EQ(json::parse(shown.out)["journal"], journal_.string());

  Ran back = Wattlab({"cap", "--restore"});
  ASSERT_EQ(back.rc, 0) << back.err;
  EXPECT_NE(back.out.find("restored intel-rapl:0 constraint 0 power limit 125 W"), std::string::npos)
      << back.out;
  EXPECT_EQ(Trimmed(pkg0_), "125000000");
  EXPECT_EQ(Trimmed(pkg1_enabled_), "0");
  EXPECT_FALSE(fs::exists(journal_));
  other = Wattlab({"estimate", "--cpu-model", "Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz", "--load", "0.5"});
  EXPECT_EQ(other.err.find("power caps"), std::string::npos) << other.err;
  back = Wattlab({"cap", "--restore"});
  EXPECT_EQ(back.rc, 0);
  EXPECT_NE(back.out.find("nothing to restore"), std::string::npos) << back.out;
}

TEST_F(CapCli, SigkillBetweenSetAndRestoreThenRestoreFromTheJournal) {
  pid_t pid = StartHolding({"cap", "--cpu-power-limit-w", "90", "--gpu-power-limit-w", "200",
                            "--cpu-max-freq-mhz", "2000", "--hold", "120s"});
  ASSERT_GT(pid, 0);
  EXPECT_EQ(Trimmed(pkg0_), "90000000");
  EXPECT_EQ(GpuLimits(), "200000\n200000\n");
  EXPECT_EQ(Trimmed(cpu0_), "2000000");
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int sig = 0;
  Wait(pid, &sig);
  EXPECT_EQ(sig, SIGKILL);
  // Nothing ran to restore: the caps and the journal stay.
  EXPECT_EQ(Trimmed(pkg0_), "90000000");
  ASSERT_TRUE(fs::exists(journal_));

  Ran back = Wattlab({"cap", "--restore"});
  ASSERT_EQ(back.rc, 0) << back.err;
  EXPECT_EQ(Trimmed(pkg0_), "125000000");
  EXPECT_EQ(Trimmed(pkg1_enabled_), "0");
  EXPECT_EQ(GpuLimits(), "320000\n320000\n");
  EXPECT_EQ(Trimmed(cpu0_), "4900000");
  EXPECT_EQ(Trimmed(dir_ / "tree/sys/devices/system/cpu/cpu3/cpufreq/scaling_max_freq"), "3600000");
  EXPECT_FALSE(fs::exists(journal_));
}

TEST_F(CapCli, SigtermAndSigintWhileHoldingRestore) {
  for (int signo : {SIGTERM, SIGINT}) {
    pid_t pid = StartHolding({"cap", "--gpu-power-limit-w", "150", "--gpu", "1", "--hold", "120s"});
    ASSERT_GT(pid, 0);
    EXPECT_EQ(GpuLimits(), "320000\n150000\n");
    ASSERT_EQ(kill(pid, signo), 0);
    EXPECT_EQ(Wait(pid), 128 + signo) << Slurp(dir_ / "hold.err");
    EXPECT_EQ(GpuLimits(), "320000\n320000\n");
    EXPECT_FALSE(fs::exists(journal_));
    EXPECT_NE(Slurp(dir_ / "hold.out").find("restored the values found before (on a signal)"),
              std::string::npos);
  }
}

TEST_F(CapCli, HoldEndsByRestoring) {
  Ran r = Wattlab({"cap", "--cpu-max-freq-mhz", "1500", "--hold", "100ms"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("CPU maximum frequency: 1500 MHz"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("restored the values found before"), std::string::npos) << r.out;
  EXPECT_EQ(Trimmed(cpu0_), "4900000");
  EXPECT_FALSE(fs::exists(journal_));
}

TEST_F(CapCli, OutOfRangeNamesTheRangeAndALaterFailureUndoesAnEarlierKind) {
  Ran r = Wattlab({"cap", "--gpu-power-limit-w", "500"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("wattlab cap: GPU power limit 500 W is outside GPU 0's allowed range, 100 to 350 W"),
            std::string::npos)
      << r.err;
  // The GPU limit is set first, then the frequency is refused: the GPU goes back.
  r = Wattlab({"cap", "--gpu-power-limit-w", "200", "--cpu-max-freq-mhz", "9000"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("800 to 4900 MHz"), std::string::npos) << r.err;
  EXPECT_EQ(GpuLimits(), "320000\n320000\n");
  EXPECT_FALSE(fs::exists(journal_));
}

TEST_F(CapCli, SetWithJsonPrintsOnlyJsonOnStdout) {
  Ran r = Wattlab({"cap", "--cpu-max-freq-mhz", "2000", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);  // nothing but the JSON
  EXPECT_EQ(j["cpufreq"]["max_freq_mhz"], 2000.0);
  EXPECT_EQ(j["journal"], journal_.string());
  EXPECT_NE(r.err.find("CPU maximum frequency: 2000 MHz"), std::string::npos) << r.err;
  EXPECT_EQ(Wattlab({"cap", "--restore"}).rc, 0);
  EXPECT_EQ(Trimmed(cpu0_), "4900000");
}

TEST_F(CapCli, UsageErrors) {
  Ran r = Wattlab({"cap", "--restore", "--gpu-power-limit-w", "200"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--restore cannot be combined"), std::string::npos) << r.err;
  r = Wattlab({"cap", "--hold", "1s"});
  EXPECT_EQ(r.rc, 2);
  r = Wattlab({"cap", "--gpu", "0"});
  EXPECT_EQ(r.rc, 2);
  r = Wattlab({"cap", "--gpu-power-limit-w", "200", "--gpu", "zero"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("--gpu takes comma-separated indices"), std::string::npos) << r.err;
  r = Wattlab({"cap", "--gpu-power-limit-w", "-3"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(GpuLimits(), "320000\n320000\n");
}

TEST_F(CapCli, ACorruptJournalIsRefusedAndLeftInPlace) {
  fs::create_directories(journal_.parent_path());
  std::ofstream(journal_) << "{\"format\": \"wattlab-caps-journal\", \"vers";
  Ran r = Wattlab({"cap", "--restore"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("is corrupt"), std::string::npos) << r.err;
  r = Wattlab({"cap", "--cpu-power-limit-w", "100"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_EQ(Trimmed(pkg0_), "125000000");
  EXPECT_EQ(Slurp(journal_), "{\"format\": \"wattlab-caps-journal\", \"vers");
  r = Wattlab({"cap"});
  EXPECT_NE(r.out.find("is CORRUPT"), std::string::npos) << r.out;
  r = Wattlab({"estimate", "--cpu-model", "x", "--threads", "4"});
  EXPECT_NE(r.err.find("corrupt power-cap journal"), std::string::npos) << r.err;
}

TEST_F(CapCli, PermissionErrorsSayWhatIsNeeded) {
  extra_env_ = {"FAKE_NVML_SET_RC=4"};  // the fake driver refuses as a real one does for a non-root user
  Ran r = Wattlab({"cap", "--gpu-power-limit-w", "200"});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("needs root (or CAP_SYS_ADMIN)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nvidia-smi -pm 1"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(journal_));
}

}  // namespace
