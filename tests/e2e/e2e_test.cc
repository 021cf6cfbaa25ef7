// End-to-end: `wattlab meters`, `measure` and `idle` as a user runs them,
// on tests/fixtures/e2e-powercap copied to a temp folder; `train` and `infer`
// with the fake engine plugin (no libtorch) on the same meter.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

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

class E2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wattlab-e2e-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "state");
    fs::copy(fs::path(E2E_FIXTURES) / "e2e-powercap", dir_ / "tree", fs::copy_options::recursive);
    sys_ = (dir_ / "tree/sys").string();
    pkg_ = (dir_ / "tree/sys/class/powercap/intel-rapl:0/energy_uj").string();
    dram_ = (dir_ / "tree/sys/class/powercap/intel-rapl:0:0/energy_uj").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Runs wattlab with args (each quoted), a private state folder, and the
  // meter pointed at the fixture unless `fixture` is false.
  Ran Wattlab(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    std::string cmd = "env XDG_STATE_HOME=" + Quote((dir_ / "state").string());
    for (const auto& e : env) cmd += " " + Quote(e);
    cmd += " " + Quote(WATTLAB_BINARY);
    for (const auto& a : args) cmd += " " + Quote(a);
    cmd += " >" + Quote((dir_ / "out").string()) + " 2>" + Quote((dir_ / "err").string());
    int st = std::system(cmd.c_str());
    Ran r;
    r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = Slurp(dir_ / "out");
    r.err = Slurp(dir_ / "err");
    return r;
  }
  std::vector<std::string> Measure(std::vector<std::string> opts, const std::string& shell) {
    std::vector<std::string> a = {"measure", "--sysfs-root", sys_};
    a.insert(a.end(), opts.begin(), opts.end());
    a.insert(a.end(), {"--", "sh", "-c", shell});
    return a;
  }
  static json Domain(const json& j, const std::string& name) {
    for (const auto& d : j.at("domains"))
      if (d.at("name") == name) return d;
    ADD_FAILURE() << "no domain " << name << " in " << j.dump();
    return json::object();
  }

  fs::path dir_;
  std::string sys_, pkg_, dram_;
};

TEST_F(E2E, MeasureReportsExactJoulesFromTheCounters) {
  // package-0 1000 J -> 1005 J, dram 500 J -> 502 J while the command runs.
  Ran r = Wattlab(Measure(
      {"--json"}, "echo 1005000000 > '" + pkg_ + "'; echo 502000000 > '" + dram_ + "'; echo hello; exit 3"));
  ASSERT_EQ(r.rc, 3) << r.err;
  EXPECT_EQ(r.out, "hello\n");  // the command's stdout is untouched, the summary is on stderr
  json j = json::parse(r.err);
  EXPECT_EQ(j.at("exit_code"), 3);
  EXPECT_NEAR(j.at("total_energy_j").get<double>(), 7.0, 1e-9);
  EXPECT_NEAR(Domain(j, "package-0").at("energy_j").get<double>(), 5.0, 1e-9);
  EXPECT_NEAR(Domain(j, "dram-0").at("energy_j").get<double>(), 2.0, 1e-9);
  EXPECT_EQ(Domain(j, "package-0").at("source"), "rapl-powercap");
  EXPECT_EQ(j.at("sources"), json::array({"rapl-powercap"}));
  EXPECT_EQ(j.at("estimated"), false);
  EXPECT_GT(j.at("duration_s").get<double>(), 0.0);
  const double mean = Domain(j, "package-0").at("mean_power_w").get<double>();
  EXPECT_NEAR(mean * j.at("duration_s").get<double>(), 5.0, 1e-6);
  EXPECT_TRUE(j.contains("energy_above_idle_j"));
  EXPECT_TRUE(j.at("energy_above_idle_j").is_null());
  for (const char* k : {"cpu_util", "attributed_share", "attributed_energy_j", "idle_power_w", "idle_age_s"})
    EXPECT_TRUE(j.contains(k)) << k;
}

// The keys of one window in train/infer JSON (meter/json.h WindowToJson):
// every key these commands printed before the shape was shared, and the
// shape's own.
void ExpectWorkloadWindow(const json& w, const std::string& name, int64_t samples) {
  EXPECT_EQ(w.at("name"), name);
  EXPECT_EQ(w.at("samples"), samples) << w.dump();
  for (const char* k :
       {"duration_s", "samples_per_s", "energy_j", "energy_above_idle_j", "mean_power_w",
        "energy_per_sample_j", "energy_per_sample_basis", "cpu_util", "attributed_energy_j", "sources",
        "estimated", "start_s", "idle_power_w", "attributed_share", "meter_samples", "domains"})
    EXPECT_TRUE(w.contains(k)) << name << " lacks " << k << ": " << w.dump();
  EXPECT_EQ(w.at("sources"), json::array({"rapl-powercap"}));
  EXPECT_NEAR(w.at("samples_per_s").get<double>(), samples / w.at("duration_s").get<double>(),
              1e-6 * samples);
}

TEST_F(E2E, TrainJsonKeepsEveryKeyAndUsesTheWindowShape) {
  Ran r = Wattlab(
      {"train", "--model", "lenet", "--epochs", "2", "--train-samples", "64", "--batch-size", "16",
       "--eval-samples", "30", "--idle-seconds", "0.05", "--interval", "5ms", "--sysfs-root", sys_, "--json"},
      {"WATTLAB_TORCH_PLUGIN=" FAKE_PLUGIN, "WATTLAB_FAKE_S_PER_SAMPLE=0.0002"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);
  for (const char* k : {"command",
                        "model",
                        "config",
                        "versions",
                        "meter",
                        "sources",
                        "estimated",
                        "setup_s",
                        "warmup_s",
                        "steps",
                        "samples",
                        "train_duration_s",
                        "samples_per_s",
                        "phases",
                        "epochs",
                        "loss_curve",
                        "epoch_loss",
                        "accuracy",
                        "accuracy_meaningful",
                        "eval_samples"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j.at("command"), "train");
  EXPECT_EQ(j.at("model").at("params"), 62006);
  EXPECT_EQ(j.at("versions").at("libtorch"), "fake");
  EXPECT_TRUE(j.at("versions").contains("wattlab"));
  for (const char* k : {"sources", "estimated", "interval_s", "idle_power_w", "idle_measured_s"})
    EXPECT_TRUE(j.at("meter").contains(k)) << k;
  EXPECT_NEAR(j.at("meter").at("idle_measured_s").get<double>(), 0.05, 1e-12);
  EXPECT_EQ(j.at("steps"), 8);
  EXPECT_EQ(j.at("loss_curve").size(), 8u);
  ExpectWorkloadWindow(j.at("phases").at("train"), "train", 128);
  ExpectWorkloadWindow(j.at("phases").at("eval"), "eval", 30);
  // An idle baseline was measured, but the fixture's counters stand still:
  // nothing above idle, so energy per sample is total energy, never a zero or
  // negative above-idle figure (docs/reliability.md).
  EXPECT_EQ(j.at("phases").at("train").at("energy_per_sample_basis"), "energy_j");
  EXPECT_GE(j.at("phases").at("train").at("energy_above_idle_j").get<double>(), 0.0);
  EXPECT_FALSE(j.at("phases").at("train").contains("mean_loss"));
  ASSERT_EQ(j.at("epochs").size(), 2u);
  for (int e = 0; e < 2; ++e) {
    const json& w = j.at("epochs").at(e);
    ExpectWorkloadWindow(w, "epoch " + std::to_string(e + 1),
                         64 * (e + 1));  // the fake reports samples so far
    EXPECT_NEAR(w.at("mean_loss").get<double>(), j.at("epoch_loss").at(e).get<double>(), 1e-12);
  }
}

TEST_F(E2E, TrainTextLines) {
  Ran r = Wattlab({"train", "--model", "lenet", "--steps", "4", "--batch-size", "8", "--no-eval",
                   "--idle-seconds", "0", "--sysfs-root", sys_},
                  {"WATTLAB_TORCH_PLUGIN=" FAKE_PLUGIN, "WATTLAB_FAKE_S_PER_SAMPLE=0.0002"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("\nmeter: rapl-powercap; idle not measured\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\ntrain: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" 32 samples ("), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" mJ/sample (no idle baseline)\n"), std::string::npos) << r.out;
}

TEST_F(E2E, InferJsonKeepsEveryKeyAndUsesTheWindowShape) {
  Ran r = Wattlab({"infer", "--model", "lenet", "--samples", "40", "--batch-size", "8", "--idle-seconds", "0",
                   "--sysfs-root", sys_, "--json"},
                  {"WATTLAB_TORCH_PLUGIN=" FAKE_PLUGIN});
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);
  for (const char* k :
       {"command", "model", "config", "versions", "meter", "sources", "estimated", "setup_s", "warmup_s",
        "samples", "batches", "duration_s", "samples_per_s", "latency_ms", "checksum", "phases"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j.at("command"), "infer");
  EXPECT_EQ(j.at("samples"), 40);
  EXPECT_EQ(j.at("batches"), 5);
  ASSERT_EQ(j.at("phases").size(), 1u);
  ExpectWorkloadWindow(j.at("phases").at("infer"), "infer", 40);
  EXPECT_EQ(j.at("phases").at("infer").at("energy_per_sample_basis"), "energy_j");  // no idle baseline
  EXPECT_TRUE(j.at("meter").at("idle_power_w").is_null());
}

TEST_F(E2E, MeasureJsonIsTheWindowShapeWithItsAliases) {
  Ran r = Wattlab(Measure({"--json"}, "echo 1002000000 > '" + pkg_ + "'"));
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.err);
  // Every key measure printed before, with the same meaning.
  for (const char* k :
       {"command", "exit_code", "duration_s", "total_energy_j", "mean_power_w", "energy_above_idle_j",
        "idle_power_w", "idle_age_s", "estimated", "sources", "domains", "cpu_util", "attributed_share",
        "attributed_energy_j", "samples", "interval_s"})
    EXPECT_TRUE(j.contains(k)) << k;
  // The shared shape's names: energy_j preferred, total_energy_j its alias;
  // samples (meter ticks, in measure) is meter_samples.
  EXPECT_NEAR(j.at("energy_j").get<double>(), 2.0, 1e-9);
  EXPECT_EQ(j.at("total_energy_j"), j.at("energy_j"));
  EXPECT_EQ(j.at("samples"), j.at("meter_samples"));
  EXPECT_EQ(j.at("name"), "measure");
  EXPECT_FALSE(j.contains("energy_per_sample_j"));  // no workload samples in measure
}

// One meter per node (docs/scale.md): the same command at local rank 1 reads
// no counter and reports its own CPU-time share; at local rank 0 it meters
// the node exactly as a lone process does.
TEST_F(E2E, MeasureAtLocalRank1ReportsItsShareNotTheNodeEnergy) {
  const std::string busy =
      "echo 1002000000 > '" + pkg_ + "'; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done";
  Ran r = Wattlab(Measure({"--json"}, busy), {"LOCAL_RANK=1"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.err);
  EXPECT_EQ(j.at("local_rank"), 1);
  EXPECT_EQ(j.at("node_metered_by"), "local rank 0");
  for (const char* k :
       {"energy_j", "total_energy_j", "mean_power_w", "energy_above_idle_j", "attributed_energy_j"})
    EXPECT_TRUE(j.at(k).is_null()) << k << ": " << j.dump();
  EXPECT_EQ(j.at("domains"), json::array());
  EXPECT_EQ(j.at("sources"), json::array());
  ASSERT_TRUE(j.at("attributed_share").is_number()) << j.dump();
  EXPECT_GT(j.at("attributed_share").get<double>(), 0.0);  // the shell loop is its own
  EXPECT_GT(j.at("duration_s").get<double>(), 0.0);

  // The human summary says who meters the node; options that need node energy say they are ignored.
  Ran h = Wattlab(Measure({"--subtract-idle"}, "true"), {"SLURM_LOCALID=2"});
  ASSERT_EQ(h.rc, 0) << h.err;
  EXPECT_NE(h.err.find("--subtract-idle ignored: this process is local rank 2 (SLURM_LOCALID=2), the node is "
                       "metered by local rank 0"),
            std::string::npos)
      << h.err;
  EXPECT_NE(h.err.find("node energy"), std::string::npos) << h.err;
  EXPECT_EQ(h.err.find(" J ("), std::string::npos) << h.err;  // no joules printed
}

TEST_F(E2E, MeasureAtLocalRank0MetersTheNode) {
  Ran r =
      Wattlab(Measure({"--json"}, "echo 1002000000 > '" + pkg_ + "'"), {"SLURM_LOCALID=0", "LOCAL_RANK=0"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.err);
  EXPECT_EQ(j.at("local_rank"), 0);
  EXPECT_FALSE(j.contains("node_metered_by"));
  EXPECT_NEAR(j.at("energy_j").get<double>(), 2.0, 1e-9);
  EXPECT_EQ(j.at("sources"), json::array({"rapl-powercap"}));
}

TEST_F(E2E, ABadLocalRankAndAStudyAtLocalRank1AreRefused) {
  Ran bad = Wattlab(Measure({"--json"}, "true"), {"LOCAL_RANK=abc"});
  EXPECT_NE(bad.rc, 0);
  EXPECT_NE(bad.err.find("$LOCAL_RANK is 'abc', not a local rank"), std::string::npos) << bad.err;
  const std::string db = (dir_ / "study.db").string();
  Ran st = Wattlab({"study", "--preset", "quick", "--dry-run", "--db", db, "--sysfs-root", sys_},
                   {"SLURM_LOCALID=1"});
  EXPECT_EQ(st.rc, 1) << st.err;
  EXPECT_NE(st.err.find("local rank 1 on this node (SLURM_LOCALID=1): a study records the node's energy"),
            std::string::npos)
      << st.err;
  EXPECT_FALSE(fs::exists(db));
}

TEST_F(E2E, MeasureCorrectsAWrapDuringTheCommand) {
  // 1 J below the 262143.328850 J range, then 1 J past zero: 2 J.
  std::ofstream(pkg_) << "262142328850\n";
  // Overwritten in place by one same-width write (zero-padded): `echo > file`
  // truncates first, and the sampler can read the empty file in between.
  Ran r = Wattlab(
      Measure({"--json"}, "printf '000001000000\\n' | dd of='" + pkg_ + "' conv=notrunc status=none"));
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.err);
  EXPECT_NEAR(Domain(j, "package-0").at("energy_j").get<double>(), 2.0, 1e-6);
  EXPECT_NEAR(j.at("total_energy_j").get<double>(), 2.0, 1e-6);
}

TEST_F(E2E, MeasureWritesSummaryAndTimelineFiles) {
  const std::string out = (dir_ / "summary.json").string(), tl = (dir_ / "timeline.csv").string();
  Ran r = Wattlab(Measure({"--json", "-o", out, "--timeline", tl, "--interval", "1ms"},
                          "sleep 0.05; echo 1003000000 > '" + pkg_ + "'"));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.err, "");
  json j = json::parse(Slurp(out));
  EXPECT_NEAR(j.at("total_energy_j").get<double>(), 3.0, 1e-9);
  EXPECT_NEAR(j.at("interval_s").get<double>(), 0.001, 1e-12);
  EXPECT_GT(j.at("samples").get<int>(), 5);
  std::string csv = Slurp(tl);
  // The columns before the window protocol first, then unix_s and windows.
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "t_s,rapl-powercap:package-0_power_w,rapl-powercap:dram-0_power_w,unix_s,windows");
  EXPECT_GT(std::count(csv.begin(), csv.end(), '\n'), 5);
  for (const auto& e : fs::directory_iterator(dir_))  // atomic writes leave no temp files
    EXPECT_EQ(e.path().string().find(".tmp."), std::string::npos) << e.path();
}

// The window protocol: a shell script opens windows on fd 3 (WATTLAB_CONTROL)
// around counter changes; each window gets exactly its joules, its samples,
// and one left open is closed at exit and flagged. Bad lines are warnings.
// The pauses only order the script's writes after wattlab has read each line.
TEST_F(E2E, MeasureReportsTheProgramsWindows) {
  const std::string tl = (dir_ / "timeline.csv").string();
  // The counter is overwritten in place by one write (dd conv=notrunc, same
  // width): `echo > file` truncates first, and a 10 ms sampler can read the
  // empty file in between.
  auto set_pkg = [&](const std::string& uj) {
    return "printf " + uj + " | dd of='" + pkg_ + "' conv=notrunc status=none; ";
  };
  const std::string script =
      "test \"$WATTLAB_CONTROL\" = fd:3 || exit 9; "
      "echo 'begin load 1' >&3; sleep 0.3; " +
      set_pkg("1005000000") +
      "echo 'samples 50' >&3; "
      "echo 'bogus line' >&3; echo 'meta model tiny' >&3; sleep 0.3; echo 'end load 1' >&3; sleep 0.3; "
      "echo 'begin load 2' >&3; sleep 0.3; " +
      set_pkg("1008000000") + "sleep 0.3";
  Ran r = Wattlab(Measure({"--json", "--timeline", tl, "--interval", "10ms"}, script));
  ASSERT_EQ(r.rc, 0) << r.err;
  const std::string warn = "wattlab measure: control line 3 \"bogus line\": unknown command 'bogus'";
  EXPECT_EQ(r.err.rfind(warn, 0), 0u) << r.err;
  EXPECT_NE(
      r.err.find("wattlab measure: window 'load 2' was still open when the program ended; closed then\n"),
      std::string::npos)
      << r.err;
  json j = json::parse(r.err.substr(r.err.find('{')));
  EXPECT_NEAR(j.at("energy_j").get<double>(), 8.0, 1e-9);
  ASSERT_EQ(j.at("windows").size(), 2u) << j.dump();
  const json& w1 = j.at("windows")[0];
  EXPECT_EQ(w1.at("name"), "load 1");
  EXPECT_NEAR(w1.at("energy_j").get<double>(), 5.0, 1e-9);
  EXPECT_EQ(w1.at("samples"), 50);
  EXPECT_NEAR(w1.at("energy_per_sample_j").get<double>(), 0.1, 1e-9);
  EXPECT_EQ(w1.at("closed_at_exit"), false);
  const json& w2 = j.at("windows")[1];
  EXPECT_EQ(w2.at("name"), "load 2");
  EXPECT_NEAR(w2.at("energy_j").get<double>(), 3.0, 1e-9);
  EXPECT_FALSE(w2.contains("samples"));
  EXPECT_EQ(w2.at("closed_at_exit"), true);
  EXPECT_EQ(j.at("meta"), json({{"model", "tiny"}}));
  ASSERT_EQ(j.at("control_warnings").size(), 2u);
  // Every key of the shared window shape is in each window.
  for (const char* k : {"start_s", "duration_s", "mean_power_w", "idle_power_w", "energy_above_idle_j",
                        "estimated", "sources", "cpu_util", "attributed_share", "attributed_energy_j",
                        "meter_samples", "domains", "start_unix_s"})
    EXPECT_TRUE(w1.contains(k)) << k;
  std::string csv = Slurp(tl);
  EXPECT_NE(csv.find(",load 1\n"), std::string::npos);
  EXPECT_NE(csv.find(",load 2\n"), std::string::npos);
}

TEST_F(E2E, MeasureTextSummaryOnStderr) {
  Ran r = Wattlab(Measure({}, "echo 1004000000 > '" + pkg_ + "'"));
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("4.000 J"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("rapl-powercap (measured)"), std::string::npos) << r.err;
}

TEST_F(E2E, ExitCodesFollowEnv) {
  Ran missing = Wattlab({"measure", "--sysfs-root", sys_, "--", "wattlab-no-such-command-xyz"});
  EXPECT_EQ(missing.rc, 127);
  EXPECT_NE(missing.err.find("'wattlab-no-such-command-xyz': No such file or directory"), std::string::npos)
      << missing.err;
  std::ofstream(dir_ / "not-executable") << "#!/bin/sh\n";
  Ran noexec = Wattlab({"measure", "--sysfs-root", sys_, "--", (dir_ / "not-executable").string()});
  EXPECT_EQ(noexec.rc, 126);
  EXPECT_NE(noexec.err.find("Permission denied"), std::string::npos) << noexec.err;
  Ran sig = Wattlab(Measure({"--json"}, "kill -TERM $$"));
  EXPECT_EQ(sig.rc, 128 + 15) << sig.err;
  EXPECT_EQ(json::parse(sig.err).at("exit_code"), 143);
}

TEST_F(E2E, SignalsSentToWattlabReachTheCommand) {
  // wattlab gets SIGTERM from kill(2) while the command sleeps: it forwards
  // it, the command dies of it, and wattlab still reports (exit 128+15).
  // Sent as soon as the command runs: on a loaded machine that can be
  // before wattlab's own fork() has returned (a signal once lost that way).
  const std::string marker = (dir_ / "started").string();
  std::string script = "exec " + Quote(WATTLAB_BINARY) + " measure --json --sysfs-root " + Quote(sys_) +
                       " -- sh -c " + Quote("touch " + Quote(marker) + "; exec sleep 30") + " 2>" +
                       Quote((dir_ / "err").string());
  const char* argv[] = {"sh", "-c", script.c_str(), nullptr};
  pid_t pid;
  ASSERT_EQ(posix_spawnp(&pid, "sh", nullptr, nullptr, const_cast<char**>(argv), environ), 0);
  for (int i = 0; i < 500 && !fs::exists(marker); ++i) usleep(10000);  // the command is running
  ASSERT_TRUE(fs::exists(marker));
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int st = 0;
  ASSERT_EQ(waitpid(pid, &st, 0), pid);
  ASSERT_TRUE(WIFEXITED(st)) << "wattlab itself was killed";
  EXPECT_EQ(WEXITSTATUS(st), 143);
  json j = json::parse(Slurp(dir_ / "err"));
  EXPECT_EQ(j.at("exit_code"), 143);
  EXPECT_LT(j.at("duration_s").get<double>(), 20.0);
}

TEST_F(E2E, MeterThatCannotStartIs125AndTheCommandDoesNotRun) {
  const std::string marker = (dir_ / "ran").string();
  Ran bad = Wattlab(Measure({"--interval", "10us"}, "touch '" + marker + "'"));
  EXPECT_EQ(bad.rc, 125);
  EXPECT_NE(bad.err.find("interval"), std::string::npos) << bad.err;
  Ran garbage = Wattlab(Measure({"--interval", "fast"}, "touch '" + marker + "'"));
  EXPECT_EQ(garbage.rc, 125);
  Ran unknown = Wattlab(Measure({"--no-such-flag"}, "touch '" + marker + "'"));
  EXPECT_EQ(unknown.rc, 125);
  Ran none = Wattlab({"measure", "--sysfs-root", sys_});
  EXPECT_EQ(none.rc, 125);
  EXPECT_NE(none.err.find("no command given"), std::string::npos);
  EXPECT_FALSE(fs::exists(marker));
}

TEST_F(E2E, SubtractIdleNeedsABaseline) {
  Ran r = Wattlab(Measure({"--subtract-idle"}, "true"));
  EXPECT_EQ(r.rc, 125);
  EXPECT_NE(r.err.find("run `wattlab idle` first"), std::string::npos) << r.err;
}

TEST_F(E2E, IdleThenMeasureSubtractsIt) {
  // The fixture's counters stand still while idle is measured: 0 W.
  Ran idle = Wattlab({"idle", "--sysfs-root", sys_, "--seconds", "0.2", "--json"});
  ASSERT_EQ(idle.rc, 0) << idle.err;
  json ij = json::parse(idle.out);
  EXPECT_NEAR(ij.at("idle_power_w").get<double>(), 0.0, 1e-12);
  EXPECT_EQ(ij.at("sources"), json::array({"rapl-powercap"}));
  const fs::path state = dir_ / "state/wattlab/idle.json";
  ASSERT_TRUE(fs::exists(state));
  // Raise the stored baseline to 10 W (package 8 W, dram 2 W), an hour old.
  json sj = json::parse(Slurp(state));
  auto& e = sj.at("entries").at(0);
  e["idle_power_w"] = 10.0;
  e["domains"] =
      json::array({{{"name", "package-0"}, {"power_w", 8.0}}, {{"name", "dram-0"}, {"power_w", 2.0}}});
  e["measured_at_s"] = e["measured_at_s"].get<double>() - 3600;
  std::ofstream(state) << sj.dump();
  Ran r = Wattlab(Measure({"--json", "--subtract-idle"}, "echo 1005000000 > '" + pkg_ + "'"));
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.err);
  const double d = j.at("duration_s").get<double>();
  EXPECT_NEAR(j.at("idle_power_w").get<double>(), 10.0, 1e-12);
  // Never negative (docs/reliability.md): on a slow machine the command may
  // outlast the 5 J it wrote at 10 W of idle.
  EXPECT_NEAR(j.at("energy_above_idle_j").get<double>(), std::max(0.0, 5.0 - 10.0 * d), 1e-9);
  EXPECT_GT(j.at("idle_age_s").get<double>(), 3599.0);
  EXPECT_LT(j.at("idle_age_s").get<double>(), 3700.0);
}

// ---- hardening (docs/reliability.md)

TEST_F(E2E, MeasureNeverPrintsNegativeAboveIdle) {
  Ran idle = Wattlab({"idle", "--sysfs-root", sys_, "--seconds", "0.2", "--json"});
  ASSERT_EQ(idle.rc, 0) << idle.err;
  const fs::path state = dir_ / "state/wattlab/idle.json";
  json sj = json::parse(Slurp(state));
  auto& e = sj.at("entries").at(0);
  e["idle_power_w"] = 1000.0;  // far above what the command draws: a busy baseline
  e["busy"] = true;
  e["domains"] =
      json::array({{{"name", "package-0"}, {"power_w", 900.0}}, {{"name", "dram-0"}, {"power_w", 100.0}}});
  std::ofstream(state) << sj.dump();
  const std::string cmd = "echo 1005000000 > '" + pkg_ + "'; sleep 0.05";
  Ran r = Wattlab(Measure({"--json", "--subtract-idle"}, cmd));
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.err);
  EXPECT_EQ(j.at("energy_above_idle_j").get<double>(), 0.0);
  EXPECT_GT(j.at("below_idle_j").get<double>(), 0.0);
  EXPECT_NE(j.at("above_idle_note").get<std::string>().find("less than the idle baseline"),
            std::string::npos);
  EXPECT_EQ(j.at("idle_busy"), true);
  Ran t = Wattlab(Measure({"--subtract-idle"}, cmd));
  ASSERT_EQ(t.rc, 0) << t.err;
  const size_t at = t.err.find("above idle");
  ASSERT_NE(at, std::string::npos) << t.err;
  const std::string line = t.err.substr(at, t.err.find('\n', at) - at);
  EXPECT_EQ(line.find('-'), std::string::npos) << line;
  EXPECT_NE(line.find("0.000 J"), std::string::npos) << line;
  EXPECT_NE(line.find("BUSY"), std::string::npos) << line;
  EXPECT_NE(t.err.find("less than the idle baseline"), std::string::npos) << t.err;
}

TEST_F(E2E, UnwritableOutputsAre125AndTheCommandDoesNotRun) {
  const fs::path marker = dir_ / "ran";
  const std::string cmd = "touch '" + marker.string() + "'";
  for (const auto& opts :
       std::vector<std::vector<std::string>>{{"--timeline", (dir_ / "missing-dir/t.csv").string()},
                                             {"-o", (dir_ / "missing-dir/o.json").string()},
                                             {"-o", dir_.string()}}) {
    Ran r = Wattlab(Measure(opts, cmd));
    EXPECT_EQ(r.rc, 125) << opts[0] << " " << opts[1] << ": " << r.err;
    EXPECT_NE(r.err.find("cannot write " + opts[0]), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(marker)) << opts[0] << " " << opts[1];
  }
  Ran r = Wattlab(Measure({"--timeline", (dir_ / "missing-dir/t.csv").string()}, cmd));
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
}

TEST_F(E2E, DashOWritesTheJsonSummaryToStdout) {
  Ran r = Wattlab(Measure({"-o", "-"}, "echo 1005000000 > '" + pkg_ + "'"));
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);  // pipeable to jq
  EXPECT_NEAR(Domain(j, "package-0").at("energy_j").get<double>(), 5.0, 1e-9);
}

TEST_F(E2E, OutputLostAtTheEndGoesToAFallbackAndExits125) {
  fs::create_directories(dir_ / "out-dir");
  fs::create_directories(dir_ / "tmp");
  const std::string out = (dir_ / "out-dir/o.json").string();
  // The directory is there when checked and gone when the summary is written.
  Ran r = Wattlab(Measure({"--json", "-o", out}, "rmdir '" + (dir_ / "out-dir").string() + "'"),
                  {"TMPDIR=" + (dir_ / "tmp").string()});
  EXPECT_EQ(r.rc, 125) << r.err;
  EXPECT_NE(r.err.find("\"energy_j\""), std::string::npos) << r.err;  // the summary on stderr
  const size_t at = r.err.find("saved the summary.json to ");
  ASSERT_NE(at, std::string::npos) << r.err;
  const size_t end = r.err.find(" instead", at);
  ASSERT_NE(end, std::string::npos) << r.err;
  const std::string saved = r.err.substr(at + 26, end - at - 26);
  EXPECT_EQ(fs::path(saved).parent_path(), dir_ / "tmp");
  EXPECT_NO_THROW(json::parse(Slurp(saved)));
  // The command's own failure wins over the lost output.
  fs::create_directories(dir_ / "out-dir");
  Ran f = Wattlab(Measure({"-o", out}, "rmdir '" + (dir_ / "out-dir").string() + "'; exit 3"),
                  {"TMPDIR=" + (dir_ / "tmp").string()});
  EXPECT_EQ(f.rc, 3) << f.err;
}

TEST_F(E2E, MetersJsonListsEveryAttempt) {
  Ran r = Wattlab({"meters", "--json", "--sysfs-root", sys_});
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);
  const auto& a = j.at("attempts");
  ASSERT_EQ(a.size(), 6u);
  const char* order[] = {"rapl-powercap", "rapl-perf", "rapl-msr", "hwmon", "nvml", "estimate"};
  for (size_t i = 0; i < 6; ++i) EXPECT_EQ(a[i].at("source"), order[i]);
  EXPECT_EQ(a[0].at("chosen"), true);
  ASSERT_EQ(a[0].at("domains").size(), 2u);
  EXPECT_EQ(a[0].at("domains")[0].at("name"), "package-0");
  EXPECT_EQ(a[0].at("domains")[0].at("unit"), "J");
  EXPECT_NEAR(a[0].at("domains")[0].at("max_energy_range_j").get<double>(), 262143.32885, 1e-6);
  EXPECT_EQ(a[0].at("domains")[1].at("name"), "dram-0");
  EXPECT_EQ(a[5].at("available"), true);
  EXPECT_EQ(a[5].at("chosen"), false);
  EXPECT_EQ(a[5].at("reason"), "cpu, dram already measured by rapl-powercap");
  EXPECT_EQ(j.at("chosen"), json::array({"rapl-powercap"}));
  EXPECT_EQ(j.at("estimated"), false);
  EXPECT_NEAR(j.at("interval_s").get<double>(), 0.1, 1e-12);
  for (const auto& x : a) {
    for (const char* k : {"available", "chosen", "reason", "hint", "domains", "facts"})
      EXPECT_TRUE(x.contains(k)) << k;
  }
}

TEST_F(E2E, MetersTextAndBadOptions) {
  Ran r = Wattlab({"meters", "--sysfs-root", sys_});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("measuring with: rapl-powercap (measured)"), std::string::npos) << r.out;
  Ran bad = Wattlab({"meters", "--cpu-tdp-w", "-5"});
  EXPECT_EQ(bad.rc, 2);
  Ran idle = Wattlab({"idle", "--seconds", "zero"});
  EXPECT_EQ(idle.rc, 2);
  EXPECT_NE(idle.err.find("--seconds"), std::string::npos);
}

// The option parser (CLI11 subcommands, src/cli/args.h): help, counts
// written 1e6, one message form for ranges, unknown flags.

TEST_F(E2E, SubcommandHelpNamesTheCommandOnce) {
  Ran r = Wattlab({"train", "--help"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("Usage: wattlab train [OPTIONS]"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("wattlab wattlab"), std::string::npos) << r.out;
  Ran m = Wattlab({"measure", "-h"});
  ASSERT_EQ(m.rc, 0) << m.err;
  EXPECT_NE(m.out.find("Usage: wattlab measure [OPTIONS] -- CMD [ARGS...]"), std::string::npos) << m.out;
}

TEST_F(E2E, EveryCommandStillTakesItsFlags) {
  // The flags each command took before CLI11; each must be in its --help.
  const std::vector<std::pair<std::string, std::vector<std::string>>> flags = {
      {"meters", {"--json"}},
      {"measure", {"--json", "-o,--output", "--timeline", "--subtract-idle"}},
      {"idle", {"--seconds", "--json"}},
      {"models", {"--input", "--classes", "--model", "--json"}},
      {"train",
       {"--model", "--dataset", "--epochs", "--steps", "--batch-size", "--optimizer", "--lr", "--momentum",
        "--weight-decay", "--threads", "--precision", "--seed", "--warmup-steps", "--train-samples",
        "--eval-samples", "--no-eval", "--idle-seconds", "--json"}},
      {"infer",
       {"--model", "--torchscript", "--input", "--classes", "--batch-size", "--samples", "--threads",
        "--precision", "--seed", "--warmup-batches", "--idle-seconds", "--json"}},
      {"study", {"--db", "--preset", "--spec", "--dataset", "--resume", "--dry-run", "--no-report"}},
      {"runs", {"--db", "--study", "--csv", "--json"}},
      {"analyze",
       {"--db", "--csv", "--study", "--phase", "--energy", "--min-accuracy", "--max-energy-j", "--inferences",
        "--requests-per-day", "--days", "--intensity", "--region", "--pue", "--json"}},
      {"predict",
       {"--model", "--input", "--batch-size", "--threads", "--phase", "--samples", "--epochs", "--dataset",
        "--db", "--csv", "--study", "--energy", "--params", "--macs", "--json"}},
      {"report",
       {"--db", "--out", "--study", "--title", "--intensity", "--pue", "--requests-per-day",
        "--inferences-per-day", "--energy"}},
  };
  const std::vector<std::string> meter = {"--sysfs-root", "--proc-root",    "--dev-root",
                                          "--cpu-tdp-w",  "--nvml-library", "--interval"};
  for (const auto& [cmd, list] : flags) {
    Ran r = Wattlab({cmd, "--help"});
    ASSERT_EQ(r.rc, 0) << cmd << ": " << r.err;
    std::vector<std::string> want = list;
    if (cmd == "meters" || cmd == "measure" || cmd == "idle" || cmd == "train" || cmd == "infer" ||
        cmd == "study")
      want.insert(want.end(), meter.begin(), meter.end());
    for (const auto& f : want)
      EXPECT_NE(r.out.find("  " + f + " "), std::string::npos) << cmd << " " << f << "\n" << r.out;
  }
}

TEST_F(E2E, CountsAcceptExponentForm) {
  // --params 1e6 was refused while --inferences 1e6 was accepted: one parser now.
  const std::string runs = std::string(E2E_FIXTURES) + "/analysis/runs.csv";
  Ran r = Wattlab({"predict", "--model", "googlenet", "--params", "6.16625e6", "--macs", "1.53e9", "--csv",
                   runs, "--samples", "1e4", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j.at("params"), 6166250);
  EXPECT_EQ(j.at("macs"), 1530000000);
  Ran round = Wattlab({"predict", "--model", "googlenet", "--params", "1e6", "--macs", "1e9", "--csv", runs});
  EXPECT_EQ(round.rc, 0) << round.err;
  Ran fraction =
      Wattlab({"predict", "--model", "googlenet", "--params", "1.5", "--macs", "1e9", "--csv", runs});
  EXPECT_EQ(fraction.rc, 2);
  EXPECT_EQ(fraction.err, "wattlab predict: --params must be a whole number, got 1.5\n");
}

TEST_F(E2E, RangeErrorsHaveOneForm) {
  Ran half = Wattlab({"report", "--pue", "0.5", "--out", (dir_ / "r").string()});
  EXPECT_EQ(half.rc, 2);
  EXPECT_EQ(half.err, "wattlab report: --pue must be ≥ 1.0, got 0.5\n");
  Ran negative = Wattlab({"report", "--pue", "-1", "--out", (dir_ / "r").string()});
  EXPECT_EQ(negative.rc, 2);
  EXPECT_EQ(negative.err, "wattlab report: --pue must be ≥ 1.0, got -1\n");
  Ran analyze = Wattlab({"analyze", "--pue", "0.5"});
  EXPECT_EQ(analyze.rc, 2);
  EXPECT_EQ(analyze.err, "wattlab analyze: --pue must be ≥ 1.0, got 0.5\n");
  EXPECT_FALSE(fs::exists(dir_ / "r"));
  // The message states the rule that refuses the value.
  Ran zero = Wattlab({"idle", "--seconds", "0"});
  EXPECT_EQ(zero.rc, 2);
  EXPECT_EQ(zero.err, "wattlab idle: --seconds must be > 0.0 and ≤ 3600.0, got 0\n");
  Ran batch = Wattlab({"predict", "--model", "x", "--batch-size", "0"});
  EXPECT_EQ(batch.rc, 2);
  EXPECT_EQ(batch.err, "wattlab predict: --batch-size must be ≥ 1, got 0\n");
  Ran word = Wattlab({"analyze", "--days", "many"});
  EXPECT_EQ(word.rc, 2);
  EXPECT_EQ(word.err, "wattlab analyze: --days must be a number, got 'many'\n");
}

TEST_F(E2E, UnknownFlagsAndArgumentsAreNamed) {
  Ran r = Wattlab({"report", "--bogus"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_EQ(r.err, "wattlab report: unknown option --bogus; see 'wattlab report --help'\n");
  Ran extra = Wattlab({"runs", "stray"});
  EXPECT_EQ(extra.rc, 2);
  EXPECT_EQ(extra.err, "wattlab runs: unexpected argument 'stray'; see 'wattlab runs --help'\n");
  Ran missing = Wattlab({"analyze", "--pue"});
  EXPECT_EQ(missing.rc, 2);
  EXPECT_NE(missing.err.find("--pue needs a value"), std::string::npos) << missing.err;
  Ran measure = Wattlab(Measure({"--bogus"}, "true"));
  EXPECT_EQ(measure.rc, 125);  // measure's own code for "wattlab failed before running the command"
  EXPECT_EQ(measure.err, "wattlab measure: unknown option --bogus; see 'wattlab measure --help'\n");
  Ran command = Wattlab({"bogus"});
  EXPECT_EQ(command.rc, 2);
  EXPECT_NE(command.err.find("unknown command 'bogus'"), std::string::npos) << command.err;
}

TEST_F(E2E, EnvironmentVariablesStillApply) {
  Ran r = Wattlab({"meters", "--json"}, {"WATTLAB_SYSFS_ROOT=" + sys_});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(json::parse(r.out).at("chosen"), json::array({"rapl-powercap"}));
  Ran bad = Wattlab({"meters"}, {"WATTLAB_CPU_TDP_W=abc"});
  EXPECT_EQ(bad.rc, 2);
  EXPECT_EQ(bad.err, "wattlab meters: $WATTLAB_CPU_TDP_W must be a number, got 'abc'\n");
  Ran flag_wins = Wattlab({"meters", "--cpu-tdp-w", "65"}, {"WATTLAB_CPU_TDP_W=abc"});
  EXPECT_EQ(flag_wins.rc, 0) << flag_wins.err;
}

// wattlab estimate: what the CPU estimate says for any CPU model.
TEST_F(E2E, EstimateForACpuModel) {
  Ran r = Wattlab({"estimate", "--cpu-model", "AMD EPYC 8024P 8-Core Processor", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.push_back(k);
  // Exactly these keys (nlohmann::json lists them sorted).
  EXPECT_EQ(keys, (std::vector<std::string>{"cpu_model", "curve", "error_band_pct", "points", "tdp_method",
                                            "tdp_w"}));
  EXPECT_EQ(j.at("cpu_model"), "AMD EPYC 8024P 8-Core Processor");
  EXPECT_EQ(j.at("tdp_w"), 90.0);  // Siena, from the table: not Bergamo's 22.5 W
  EXPECT_EQ(j.at("tdp_method"), "table");
  EXPECT_EQ(j.at("error_band_pct"), 45);
  EXPECT_EQ(j.at("curve").get<std::string>().rfind("fitted: P = TDP x (0.21 + 0.355 x min(1, u / 0.75))", 0),
            0u)
      << j.at("curve");
  ASSERT_EQ(j.at("points").size(), 11u);
  EXPECT_EQ(j.at("points")[0].at("load"), 0.0);
  EXPECT_NEAR(j.at("points")[0].at("cpu_power_w").get<double>(), 18.9, 1e-9);  // AMD idle: 0.21 x 90 W
  EXPECT_EQ(j.at("points")[10].at("load"), 1.0);
  EXPECT_NEAR(j.at("points")[10].at("cpu_power_w").get<double>(), 50.85, 1e-9);  // server: 0.565 x 90 W

  Ran one = Wattlab({"estimate", "--cpu-model", "Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz", "--sockets", "2",
                     "--load", "0.75", "--json"});
  ASSERT_EQ(one.rc, 0) << one.err;
  json k = json::parse(one.out);
  EXPECT_EQ(k.at("tdp_w"), 170.0);
  ASSERT_EQ(k.at("points").size(), 1u);
  EXPECT_NEAR(k.at("points")[0].at("cpu_power_w").get<double>(), 170 * 0.565, 1e-9);

  Ran text = Wattlab({"estimate", "--cpu-model", "Frobnicator 9000", "--threads", "8"});
  ASSERT_EQ(text.rc, 0) << text.err;
  EXPECT_NE(text.out.find("the fallback used: default 4 W per thread"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("the estimate has erred by about ±45% against RAPL on 4 measured CPUs"),
            std::string::npos)
      << text.out;
  json u =
      json::parse(Wattlab({"estimate", "--cpu-model", "Frobnicator 9000", "--threads", "8", "--json"}).out);
  EXPECT_EQ(u.at("tdp_method"), "default 4 W per thread");
  EXPECT_EQ(u.at("tdp_w"), 32.0);
}

// wattlab estimate --estimate-profile: the measured curve of that CPU model, said so.
TEST_F(E2E, EstimateWithAMeasuredProfile) {
  const std::string profile = std::string(E2E_FIXTURES) + "/estimate-profile/epyc-8024p.json";
  Ran r = Wattlab({"estimate", "--cpu-model", "AMD EPYC 8024P 8-Core Processor", "--estimate-profile",
                   profile, "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j.at("curve"),
            "profile " + profile + " ('AMD EPYC 8024P 8-Core Processor', 4 points, linear between them)");
  EXPECT_TRUE(j.at("error_band_pct").is_null());  // the band is the fitted curve's
  EXPECT_EQ(j.at("tdp_w"), 90.0);
  ASSERT_EQ(j.at("points").size(), 11u);
  EXPECT_NEAR(j.at("points")[0].at("cpu_power_w").get<double>(), 18, 1e-9);
  EXPECT_NEAR(j.at("points")[5].at("cpu_power_w").get<double>(), 48, 1e-9);
  EXPECT_NEAR(j.at("points")[10].at("cpu_power_w").get<double>(), 46, 1e-9);
  Ran text = Wattlab({"estimate", "--cpu-model", "AMD EPYC 8024P", "--estimate-profile", profile});
  ASSERT_EQ(text.rc, 0) << text.err;
  EXPECT_NE(text.out.find("curve:      profile " + profile), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("the curve is this CPU model's measured profile"), std::string::npos) << text.out;
  // Another CPU model: refused, naming both.
  Ran other = Wattlab({"estimate", "--cpu-model", "Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz",
                       "--estimate-profile", profile});
  EXPECT_EQ(other.rc, 2);
  EXPECT_EQ(other.out, "");
  EXPECT_NE(other.err.find("was measured on 'AMD EPYC 8024P 8-Core Processor', not on 'Intel(R) Xeon(R) CPU "
                           "E5-2620 v3 @ 2.40GHz'"),
            std::string::npos)
      << other.err;
  // A bad file: the file and the reason.
  Ran bad = Wattlab({"estimate", "--cpu-model", "AMD EPYC 8024P", "--estimate-profile",
                     std::string(E2E_FIXTURES) + "/estimate-profile/bad-load.json"});
  EXPECT_EQ(bad.rc, 2);
  EXPECT_NE(bad.err.find("bad-load.json"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("outside 0..1"), std::string::npos) << bad.err;
  Ran missing = Wattlab({"estimate", "--cpu-model", "AMD EPYC 8024P", "--estimate-profile",
                         (dir_ / "no-such-profile.json").string()});
  EXPECT_EQ(missing.rc, 2);
  EXPECT_NE(missing.err.find("cannot read the estimate profile"), std::string::npos) << missing.err;
}

TEST_F(E2E, MetersStatesTheEstimatesErrorBand) {
  // No counters under an empty sysfs root: the estimate is chosen, and says how wrong it has been.
  fs::create_directories(dir_ / "empty-sys");
  Ran r = Wattlab({"meters", "--sysfs-root", (dir_ / "empty-sys").string(), "--dev-root",
                   (dir_ / "empty-sys").string(), "--nvml-library", "/nonexistent/libnvidia-ml.so.1"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("(ESTIMATED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nthe estimate has erred by about ±45% against RAPL on 4 measured CPUs\n"),
            std::string::npos)
      << r.out;
  Ran measured = Wattlab({"meters", "--sysfs-root", sys_});
  // Measured: no band line (the estimate attempt's facts still carry it).
  EXPECT_EQ(measured.out.find("\nthe estimate has erred"), std::string::npos) << measured.out;
}

TEST_F(E2E, EstimateProfileFlag) {
  fs::create_directories(dir_ / "empty-sys");
  const std::string empty = (dir_ / "empty-sys").string();
  const std::string profiles = std::string(E2E_FIXTURES) + "/estimate-profile/";
  Ran good = Wattlab({"meters", "--sysfs-root", empty, "--dev-root", empty, "--nvml-library",
                      "/nonexistent/x.so", "--estimate-profile", profiles + "epyc-8024p.json"});
  ASSERT_EQ(good.rc, 0) << good.err;
  EXPECT_NE(good.out.find("the estimate uses a measured profile " + profiles + "epyc-8024p.json"),
            std::string::npos)
      << good.out;
  EXPECT_EQ(good.out.find("\nthe estimate has erred"), std::string::npos) << good.out;
  Ran bad = Wattlab({"meters", "--estimate-profile", profiles + "bad-load.json"});
  EXPECT_EQ(bad.rc, 2);
  EXPECT_NE(bad.err.find("bad-load.json"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("outside 0..1"), std::string::npos) << bad.err;
  Ran from_env = Wattlab({"meters"}, {"WATTLAB_ESTIMATE_PROFILE=" + profiles + "bad-one-point.json"});
  EXPECT_EQ(from_env.rc, 2);
  EXPECT_NE(from_env.err.find("at least 2 points"), std::string::npos) << from_env.err;
}

// ---- recording a profile (wattlab idle --record-profile; docs/measurement.md)

TEST_F(E2E, RecordProfileRefusesWithoutACpuCounter) {
  fs::create_directories(dir_ / "empty-sys");
  const std::string empty = (dir_ / "empty-sys").string();
  const std::string out = (dir_ / "p.json").string();
  Ran r = Wattlab({"idle", "--sysfs-root", empty, "--dev-root", empty, "--nvml-library", "/nonexistent/x.so",
                   "--record-profile", out, "--profile-seconds", "0.05"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_NE(r.err.find("needs a CPU energy counter: this machine has none, a recorded profile would only "
                       "repeat the estimate; record on a machine with RAPL of the same CPU model, then pass "
                       "--estimate-profile FILE here"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(out));
  // A measured profile in use does not make the estimate a counter.
  Ran with_profile =
      Wattlab({"idle", "--sysfs-root", empty, "--dev-root", empty, "--nvml-library", "/nonexistent/x.so",
               "--estimate-profile", std::string(E2E_FIXTURES) + "/estimate-profile/epyc-8024p.json",
               "--record-profile", out});
  EXPECT_EQ(with_profile.rc, 2);
  EXPECT_NE(with_profile.err.find("needs a CPU energy counter"), std::string::npos) << with_profile.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(E2E, RecordProfileFlagErrors) {
  const std::string out = (dir_ / "p.json").string();
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"--profile-step", "0.2"}, "--profile-step and --profile-seconds need --record-profile FILE"},
      {{"--profile-seconds", "1"}, "need --record-profile FILE"},
      {{"--record-profile", out, "--seconds", "3"}, "with --record-profile give --profile-seconds"},
      {{"--record-profile", out, "--profile-step", "0"}, "--profile-step"},
      {{"--record-profile", out, "--profile-step", "1.5"}, "--profile-step"},
      {{"--record-profile", out, "--profile-seconds", "0"}, "--profile-seconds"},
      {{"--record-profile", (dir_ / "missing/p.json").string()}, "does not exist"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> a = {"idle", "--sysfs-root", sys_};
    a.insert(a.end(), c.args.begin(), c.args.end());
    Ran r = Wattlab(a);
    EXPECT_EQ(r.rc, 2) << c.says << "\n" << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(E2E, RecordProfileNeedsTicksToPass) {
  // A counter and a /proc/stat that both stand still: the first step's
  // utilisation is unknown, the ladder stops and nothing is written.
  const std::string out = (dir_ / "p.json").string();
  Ran r = Wattlab({"idle", "--sysfs-root", sys_, "--proc-root", std::string(E2E_FIXTURES) + "/proc-i7-8700k",
                   "--record-profile", out, "--profile-seconds", "0.05"});
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_NE(r.out.find("recording the power-versus-load profile of 'Intel(R) Core(TM) i7-8700K CPU @ "
                       "3.70GHz'"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("from rapl-powercap: 11 steps of 0.05 s each"), std::string::npos) << r.out;
  EXPECT_NE(
      r.err.find("not writing " + out +
                 ": no /proc/stat tick passed during the step at load 0.00: its utilisation is unknown"),
      std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(E2E, RecordProfileOnThisMachinesProcStat) {
  // The real spinning threads and the real /proc/stat, over the fixture's
  // counter (which stands still, so every step reads 0 W: honest, and all
  // this machine can give). On a busy machine the loads may not rise: then
  // the refusal is checked instead of the file.
  const std::string out = (dir_ / "p.json").string();
  Ran r = Wattlab({"idle", "--sysfs-root", sys_, "--record-profile", out, "--profile-step", "0.5",
                   "--profile-seconds", "0.3", "--json"});
  ASSERT_TRUE(r.rc == 0 || r.rc == 1) << r.rc << r.err;
  json j = json::parse(r.out);
  ASSERT_EQ(j.at("steps").size(), 3u) << r.out;
  for (size_t i = 0; i < 3; ++i) {
    const json& s = j.at("steps").at(i);
    EXPECT_DOUBLE_EQ(s.at("target_load").get<double>(), 0.5 * static_cast<double>(i));
    EXPECT_GE(s.at("achieved_load").get<double>(), 0.0);
    EXPECT_LE(s.at("achieved_load").get<double>(), 1.0);
    EXPECT_DOUBLE_EQ(s.at("cpu_power_w").get<double>(), 0.0);
    EXPECT_EQ(s.at("off_target").get<bool>(), !s.at("flag").is_null());
    // Each step is printed as it is measured.
    EXPECT_NE(r.err.find("  load " +
                         std::string(i == 0   ? "0.00"
                                     : i == 1 ? "0.50"
                                              : "1.00") +
                         ": achieved "),
              std::string::npos)
        << r.err;
  }
  EXPECT_EQ(j.at("sources"), json::array({"rapl-powercap"}));
  EXPECT_EQ(j.at("threads").get<int>(), static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN)));
  if (r.rc == 1) {
    EXPECT_FALSE(j.at("written").get<bool>());
    EXPECT_NE(r.err.find("the achieved loads do not rise"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out));
    return;
  }
  EXPECT_TRUE(j.at("written").get<bool>());
  json p = json::parse(Slurp(out));
  EXPECT_EQ(p.at("cpu_model"), j.at("cpu_model"));
  EXPECT_EQ(p.at("threads"), j.at("threads"));
  ASSERT_EQ(p.at("points").size(), 3u);
  for (size_t i = 0; i < 3; ++i)
    EXPECT_DOUBLE_EQ(p.at("points").at(i).at("load").get<double>(),
                     j.at("steps").at(i).at("achieved_load").get<double>());
  // ... and the reading side takes it.
  fs::create_directories(dir_ / "empty-sys");
  const std::string empty = (dir_ / "empty-sys").string();
  Ran m = Wattlab({"meters", "--sysfs-root", empty, "--dev-root", empty, "--nvml-library",
                   "/nonexistent/x.so", "--estimate-profile", out});
  EXPECT_EQ(m.rc, 0) << m.err;
  EXPECT_NE(m.out.find("the estimate uses a measured profile " + out), std::string::npos) << m.out;
}

TEST_F(E2E, RecordedProfileIsReadBack) {
  // recorded-fake.json is byte for byte what the ladder writes for a fake
  // measurer (tests/meter/profile_recorder_test.cc): the reading side uses it.
  fs::create_directories(dir_ / "empty-sys");
  const std::string empty = (dir_ / "empty-sys").string();
  const std::string profile = std::string(E2E_FIXTURES) + "/estimate-profile/recorded-fake.json";
  Ran r = Wattlab({"meters", "--sysfs-root", empty, "--dev-root", empty, "--nvml-library",
                   "/nonexistent/x.so", "--estimate-profile", profile});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("the estimate uses a measured profile " + profile +
                       " ('AMD EPYC 8024P 8-Core Processor', 11 points"),
            std::string::npos)
      << r.out;
  Ran j = Wattlab(
      {"meters", "--json", "--sysfs-root", empty, "--dev-root", empty, "--nvml-library", "/nonexistent/x.so"},
      {"WATTLAB_ESTIMATE_PROFILE=" + profile});
  ASSERT_EQ(j.rc, 0) << j.err;
  EXPECT_NE(j.out.find("recorded-fake.json"), std::string::npos) << j.out;
}

TEST_F(E2E, EstimateRefusesBadInput) {
  Ran high = Wattlab({"estimate", "--cpu-model", "AMD EPYC 8024P", "--load", "1.5"});
  EXPECT_EQ(high.rc, 2);
  EXPECT_EQ(high.err, "wattlab estimate: --load must be ≥ 0.0 and ≤ 1.0, got 1.5\n");
  Ran low = Wattlab({"estimate", "--cpu-model", "AMD EPYC 8024P", "--load", "-0.1"});
  EXPECT_EQ(low.rc, 2);
  EXPECT_NE(low.err.find("--load must be"), std::string::npos) << low.err;
  Ran none = Wattlab({"estimate"});
  EXPECT_EQ(none.rc, 2);
  EXPECT_NE(none.err.find("--cpu-model NAME is required"), std::string::npos) << none.err;
  Ran unsized = Wattlab({"estimate", "--cpu-model", "Frobnicator 9000"});
  EXPECT_EQ(unsized.rc, 2);
  EXPECT_NE(unsized.err.find("--threads N"), std::string::npos) << unsized.err;
  Ran zero = Wattlab({"estimate", "--cpu-model", "AMD EPYC 8024P", "--sockets", "0"});
  EXPECT_EQ(zero.rc, 2);
}

// ---- wattlab place (given energies: no database, no libtorch) ----------------------

// The cloud formula of docs/placement.md, from the coefficients the command
// says it used (central values).
double CloudJFromAssumptions(const json& j, double up, double down, double server_j,
                             double requests_per_day) {
  std::map<std::string, double> c;
  for (const auto& x : j.at("assumptions").at("coefficients")) c[x.at("name")] = x.at("central");
  const double rps = requests_per_day / 86400;
  return up * 8 * c["radio_up_j_per_bit"] + down * 8 * c["radio_down_j_per_bit"] +
         c["tail_j"] / std::max(1.0, rps * c["tail_s"]) +
         (up + down) * c["network_kwh_per_gb"] * 3.6e6 / 1e9 + c["pue"] * server_j;
}

TEST_F(E2E, PlaceWithGivenEnergies) {
  Ran r =
      Wattlab({"place", "--model", "mobilenetv2", "--link", "lte", "--edge-energy-j", "0.5",
               "--cloud-energy-j", "0.02", "--input", "3x32x32", "--classes", "10", "--no-split", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);
  std::vector<std::string> keys;
  for (auto& [k, v] : j.items()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"assumptions", "best", "carbon", "cloud_j", "edge_j", "marginal",
                                            "sensitivity", "split"}));
  EXPECT_DOUBLE_EQ(j["edge_j"].get<double>(), 0.5);
  // 3x32x32 uint8 pixels up, 10 float logits down.
  EXPECT_NEAR(j["cloud_j"].get<double>(), CloudJFromAssumptions(j, 3072, 40, 0.02, 10000), 1e-9);
  EXPECT_TRUE(j["split"].empty());
  EXPECT_TRUE(j["best"] == "edge" || j["best"] == "cloud");
  EXPECT_EQ(j["assumptions"]["link"], "lte");
  EXPECT_EQ(j["assumptions"]["energy_basis"]["edge"], "given");
  EXPECT_TRUE(j["marginal"].contains("differs"));
  EXPECT_EQ(j["sensitivity"]["tornado"].size(), 7u);
  for (const auto& c : j["assumptions"]["coefficients"]) EXPECT_FALSE(c["source"].get<std::string>().empty());

  // The text table names all three kinds of output.
  Ran t = Wattlab({"place", "--model", "mobilenetv2", "--link", "lte", "--edge-energy-j", "0.5",
                   "--cloud-energy-j", "0.02", "--up-bytes", "3072", "--down-bytes", "40", "--no-split",
                   "--edge-region", "FR"});
  ASSERT_EQ(t.rc, 0) << t.err;
  EXPECT_NE(t.out.find("Energy per request"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("Sensitivity"), std::string::npos);
  EXPECT_NE(t.out.find("break-even up payload"), std::string::npos);
  EXPECT_NE(t.out.find("edge 56 g/kWh"), std::string::npos) << t.out;
}

TEST_F(E2E, PlaceProfileOverridesALink) {
  const fs::path prof = dir_ / "links.toml";
  std::ofstream(prof) << "[link.lte]\ntail_j = 0\nnetwork_kwh_per_gb = [0, 0, 0]\n\n[cloud]\npue = 1\n";
  Ran r = Wattlab({"place", "--model", "m", "--link", "lte", "--edge-energy-j", "0.5", "--cloud-energy-j",
                   "0.02", "--up-bytes", "1000", "--down-bytes", "40", "--no-split", "--profile",
                   prof.string(), "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);
  // No tail, no network, PUE 1: radio 1040 x 8 x 100 nJ/bit and the server's own 0.02 J.
  EXPECT_NEAR(j["cloud_j"].get<double>(), 1040 * 8 * 100e-9 + 0.02, 1e-12);
  EXPECT_EQ(j["best"], "cloud");
  EXPECT_NE(j.dump().find("profile " + prof.string()), std::string::npos);
}

TEST_F(E2E, PlaceRefusesBadInput) {
  const std::vector<std::string> base = {"place", "--model",          "m",    "--edge-energy-j",
                                         "0.5",   "--cloud-energy-j", "0.02", "--up-bytes",
                                         "1000",  "--down-bytes",     "40",   "--no-split"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = base;
    a.insert(a.end(), extra.begin(), extra.end());
    return Wattlab(a);
  };
  Ran unknown = with({"--link", "pigeon"});
  EXPECT_EQ(unknown.rc, 2);
  EXPECT_NE(unknown.err.find("unknown link 'pigeon'; known: ethernet, wifi, lte, 5g"), std::string::npos)
      << unknown.err;
  Ran negative = with({"--link", "lte", "--up-bytes", "-5"});
  EXPECT_EQ(negative.rc, 2);
  EXPECT_NE(negative.err.find("--up-bytes"), std::string::npos) << negative.err;
  const fs::path bad = dir_ / "bad.toml";
  std::ofstream(bad) << "[link.lte]\ntail_j = [15, 10, 5]\n";
  Ran order = with({"--link", "lte", "--profile", bad.string()});
  EXPECT_EQ(order.rc, 2);
  EXPECT_NE(order.err.find(bad.string() + ":2: key 'link.lte.tail_j': [low, central, high] out of order"),
            std::string::npos)
      << order.err;
  std::ofstream(bad) << "[link.lte]\ntail = 1\n";
  Ran key = with({"--link", "lte", "--profile", bad.string()});
  EXPECT_EQ(key.rc, 2);
  EXPECT_NE(key.err.find("key 'link.lte.tail': unknown key"), std::string::npos) << key.err;
  Ran both = Wattlab({"place", "--model", "m", "--link", "lte", "--edge-energy-j", "0.5", "--edge-db", "x.db",
                      "--cloud-energy-j", "0.02", "--up-bytes", "1", "--down-bytes", "1", "--no-split"});
  EXPECT_EQ(both.rc, 2);
  EXPECT_NE(both.err.find("give either --edge-db FILE or --edge-energy-j J"), std::string::npos) << both.err;
  Ran nolink = Wattlab({"place", "--model", "m", "--edge-energy-j", "1", "--cloud-energy-j", "1"});
  EXPECT_EQ(nolink.rc, 2);
}

TEST_F(E2E, MeasureCountsLoopbackBytes) {
  // A listener on 127.0.0.1 in this process drains what the measured
  // command sends; measure's window must record at least that many bytes on
  // lo (the whole namespace's loopback, so possibly more).
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int port = ntohs(addr.sin_port);
  int64_t received = 0;
  std::thread drain([&] {
    int c = ::accept(listener, nullptr, nullptr);
    if (c < 0) return;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(c, buf, sizeof buf)) > 0) received += n;
    ::close(c);
  });
  constexpr int64_t kBytes = 1000000;
  Ran r = Wattlab(Measure({"--json"}, "head -c " + std::to_string(kBytes) +
                                          " /dev/zero | bash -c 'cat > /dev/tcp/127.0.0.1/" +
                                          std::to_string(port) + "'"));
  drain.join();
  ::close(listener);
  ASSERT_EQ(r.rc, 0) << r.err;
  ASSERT_EQ(received, kBytes);
  json j = json::parse(r.err);
  for (const char* k :
       {"net_rx_bytes", "net_tx_bytes", "lo_rx_bytes", "lo_tx_bytes", "io_read_bytes", "io_write_bytes"})
    EXPECT_TRUE(j.contains(k)) << k;
  ASSERT_TRUE(j.at("lo_tx_bytes").is_number()) << j.dump();
  EXPECT_GE(j.at("lo_tx_bytes").get<int64_t>(), kBytes);
  EXPECT_GE(j.at("lo_rx_bytes").get<int64_t>(), kBytes);
  EXPECT_TRUE(j.at("io_write_bytes").is_number());  // measure attributes to its own process tree
}

TEST_F(E2E, BinaryDoesNotLinkLibtorch) {
  // Start-up under 50 ms depends on never loading libtorch's ~290 libraries.
  std::string cmd = "ldd " + Quote(WATTLAB_BINARY) + " > " + Quote((dir_ / "ldd").string());
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::string libs = Slurp(dir_ / "ldd");
  EXPECT_EQ(libs.find("torch"), std::string::npos) << libs;
  EXPECT_EQ(libs.find("libc10"), std::string::npos) << libs;
}

}  // namespace
