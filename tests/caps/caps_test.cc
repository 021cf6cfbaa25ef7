// The caps room on a writable copy of tests/fixtures/caps (powercap and
// cpufreq trees, /proc/self/status) and the fake NVML, whose limits live in a
// file so each test starts from the driver's 320 W.
#include "caps/caps.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "platform/real_env.h"

namespace wattlab::caps {
namespace {

namespace fs = std::filesystem;

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

// Fails in-place writes to paths ending in `fail_suffix` (EACCES, as sysfs
// does for a non-root user), and can run a check before each in-place write.
class FailingEnv : public ForwardingEnv {
 public:
  using ForwardingEnv::ForwardingEnv;
  std::string fail_suffix;
  std::function<void(const std::string&)> before_write;
  bool fail_journal = false;
  Status WriteFileInPlace(const std::string& p, const std::string& d) override {
    if (before_write) before_write(p);
    if (!fail_suffix.empty() && p.size() >= fail_suffix.size() &&
        p.compare(p.size() - fail_suffix.size(), fail_suffix.size(), fail_suffix) == 0)
      return Status::PermissionDenied("cannot open for writing " + Resolve(p) + ": Permission denied");
    return ForwardingEnv::WriteFileInPlace(p, d);
  }
  Status WriteFileAtomically(const std::string& p, const std::string& d) override {
    if (fail_journal) return Status::IOError("cannot create " + p + ": No space left on device");
    return ForwardingEnv::WriteFileAtomically(p, d);
  }
};

class CapsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kFakeVars) unsetenv(v);
    dir_ = fs::temp_directory_path() / ("wattlab-caps-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::copy(CAPS_FIXTURES, dir_ / "tree", fs::copy_options::recursive);
    Roots roots;
    roots.sysfs = (dir_ / "tree/sys").string();
    roots.proc = (dir_ / "tree/proc").string();
    env_ = NewRealEnv(roots);
    journal_ = dir_ / "run/wattlab/caps.json";
    limits_ = dir_ / "gpu_limits_mw";
    setenv("FAKE_NVML_GPUS", "2", 1);
    setenv("FAKE_NVML_LIMITS_FILE", limits_.c_str(), 1);
    options_.nvml_library = FAKE_NVML_PATH;
    options_.journal_path = journal_.string();
  }
  void TearDown() override {
    for (const char* v : kFakeVars) unsetenv(v);
    fs::remove_all(dir_);
  }

  fs::path Sys(const std::string& rel) const { return dir_ / "tree/sys" / rel; }
  std::string Pkg(int zone, const std::string& file) const {
    return Trimmed(Sys("class/powercap/intel-rapl:" + std::to_string(zone) + "/" + file));
  }
  std::string Freq(int cpu) const {
    return Trimmed(Sys("devices/system/cpu/cpu" + std::to_string(cpu) + "/cpufreq/scaling_max_freq"));
  }
  std::string GpuLimits() const { return fs::exists(limits_) ? Slurp(limits_) : "320000\n320000\n"; }
  std::unique_ptr<CapSession> Session(bool restore_at_end, Env* env = nullptr) {
    auto s = CapSession::Open(env ? env : env_.get(), options_, restore_at_end);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(*s) : nullptr;
  }
  std::string JournalText() const { return fs::exists(journal_) ? Slurp(journal_) : ""; }

  fs::path dir_, journal_, limits_;
  std::unique_ptr<Env> env_;
  CapsOptions options_;
};

TEST_F(CapsTest, ReadsEveryKnobFromTheFixtureAndTheFakeDriver) {
  Knobs k = ReadKnobs(env_.get(), options_);
  ASSERT_EQ(k.gpus.size(), 2u) << k.gpu_note;
  EXPECT_EQ(k.gpus[1].index, 1u);
  EXPECT_EQ(k.gpus[1].name, "Fake GPU 1");
  EXPECT_EQ(k.gpus[0].limit_w, 320);
  EXPECT_EQ(k.gpus[0].default_w, 350);
  EXPECT_EQ(k.gpus[0].min_w, 100);
  EXPECT_EQ(k.gpus[0].max_w, 350);
  EXPECT_EQ(k.gpus[0].enforced_w, 300);
  EXPECT_TRUE(k.gpus[0].settable);  // proc/self/status has CAP_SYS_ADMIN

  // package-0 and package-1 only: not psys, not the dram subzone, not the mmio duplicate.
  ASSERT_EQ(k.packages.size(), 2u);
  EXPECT_EQ(k.packages[0].zone, "intel-rapl:0");
  EXPECT_EQ(k.packages[0].name, "package-0");
  EXPECT_EQ(k.packages[1].name, "package-1");
  EXPECT_EQ(k.packages[1].package, 1);
  EXPECT_EQ(k.packages[0].enabled, true);
  EXPECT_EQ(k.packages[1].enabled, false);
  EXPECT_TRUE(k.packages[0].settable);
  ASSERT_EQ(k.packages[0].constraints.size(), 2u);
  const ConstraintKnob& lt = k.packages[0].constraints[0];
  EXPECT_EQ(lt.name, "long_term");
  EXPECT_EQ(lt.power_limit_w, 125);
  EXPECT_DOUBLE_EQ(*lt.time_window_s, 0.999424);
  EXPECT_EQ(lt.max_w, 250);
  EXPECT_FALSE(lt.min_w.has_value());
  EXPECT_EQ(k.packages[0].constraints[1].name, "short_term");
  EXPECT_FALSE(k.packages[1].constraints[0].max_w.has_value());

  ASSERT_TRUE(k.cpufreq.has_value()) << k.cpufreq_note;
  EXPECT_EQ(k.cpufreq->cpus, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(k.cpufreq->max_freq_mhz, 4900);
  EXPECT_EQ(k.cpufreq->lowest_max_freq_mhz, 3600);
  EXPECT_EQ(k.cpufreq->min_mhz, 800);
  EXPECT_EQ(k.cpufreq->max_mhz, 4900);
  EXPECT_TRUE(k.cpufreq->settable);
  EXPECT_FALSE(k.journal.has_value());
  // Reading wrote nothing.
  EXPECT_FALSE(fs::exists(limits_));
  EXPECT_FALSE(fs::exists(journal_));
}

TEST_F(CapsTest, SettableFollowsCapSysAdminAndWritability) {
  Roots roots;
  roots.sysfs = (dir_ / "tree/sys").string();
  roots.proc = (dir_ / "tree/proc-user").string();
  auto user = NewRealEnv(roots);
  class NotWritable : public ForwardingEnv {
   public:
    using ForwardingEnv::ForwardingEnv;
    Status CheckWritable(const std::string& p) override {
      return Status::PermissionDenied(p + " is read-only");
    }
  } ro(user.get());
  Knobs k = ReadKnobs(&ro, options_);
  ASSERT_EQ(k.gpus.size(), 2u);
  EXPECT_FALSE(k.gpus[0].settable);
  EXPECT_FALSE(k.packages[0].settable);
  EXPECT_FALSE(k.cpufreq->settable);
}

TEST_F(CapsTest, NoHardwareIsNotesNotErrors) {
  Roots roots;
  roots.sysfs = (dir_ / "nothing").string();
  auto bare = NewRealEnv(roots);
  CapsOptions o = options_;
  o.nvml_library = (dir_ / "no-such-libnvidia-ml.so").string();
  Knobs k = ReadKnobs(bare.get(), o);
  EXPECT_TRUE(k.gpus.empty());
  EXPECT_NE(k.gpu_note.find("no NVIDIA driver"), std::string::npos) << k.gpu_note;
  EXPECT_TRUE(k.packages.empty());
  EXPECT_NE(k.package_note.find("powercap"), std::string::npos);
  EXPECT_FALSE(k.cpufreq.has_value());
  EXPECT_NE(k.cpufreq_note.find("cpufreq"), std::string::npos);
}

TEST_F(CapsTest, GpuLimitSetThenRestoredToTheValueFoundNotTheMaximum) {
  std::ofstream(limits_) << "250000\n280000\n";
  auto s = Session(/*restore_at_end=*/false);
  ASSERT_TRUE(s->SetGpuPowerLimit(150).ok());
  EXPECT_EQ(GpuLimits(), "150000\n150000\n");
  EXPECT_EQ(s->GpuPowerLimitW(0), 150);
  // The journal holds what was found, before the change.
  auto j = ReadJournal(env_.get(), journal_.string());
  ASSERT_TRUE(j.ok() && j->has_value());
  ASSERT_EQ((*j)->saved.size(), 2u);
  EXPECT_EQ((*j)->saved[0].Key(), "gpu:0");
  EXPECT_EQ((*j)->saved[0].value, 250000u);
  EXPECT_EQ((*j)->saved[1].value, 280000u);
  EXPECT_EQ((*j)->saved[0].pid, ::getpid());
  EXPECT_EQ((*j)->nvml_library, FAKE_NVML_PATH);
  ASSERT_TRUE(s->Restore().ok());
  EXPECT_EQ(GpuLimits(), "250000\n280000\n");  // not 350000, the maximum
  EXPECT_FALSE(fs::exists(journal_));
}

TEST_F(CapsTest, GpuListSelectsDevices) {
  auto s = Session(false);
  ASSERT_TRUE(s->SetGpuPowerLimit(200, {1}).ok());
  EXPECT_EQ(GpuLimits(), "320000\n200000\n");
  Status bad = s->SetGpuPowerLimit(200, {2});
  EXPECT_EQ(bad.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(bad.message().find("there is no GPU 2 (GPUs here: 0, 1)"), std::string::npos) << bad.message();
}

TEST_F(CapsTest, RestoreAtEndPutsBackWhenTheSessionEnds) {
  {
    auto s = Session(/*restore_at_end=*/true);
    ASSERT_TRUE(s->SetGpuPowerLimit(200).ok());
    ASSERT_TRUE(s->SetPackagePowerLimit(100).ok());
    ASSERT_TRUE(s->SetCpuMaxFreq(2000).ok());
    EXPECT_TRUE(fs::exists(journal_));
  }
  EXPECT_EQ(GpuLimits(), "320000\n320000\n");
  EXPECT_EQ(Pkg(0, "constraint_0_power_limit_uw"), "125000000");
  EXPECT_EQ(Pkg(1, "enabled"), "0");
  EXPECT_EQ(Freq(0), "4900000");
  EXPECT_EQ(Freq(3), "3600000");
  EXPECT_FALSE(fs::exists(journal_));
}

TEST_F(CapsTest, PackageLimitSavesTimeWindowAndEnabledAndPutsThemBackAsFound) {
  auto s = Session(false);
  ASSERT_TRUE(s->SetPackagePowerLimit(100).ok());
  EXPECT_EQ(Pkg(0, "constraint_0_power_limit_uw"), "100000000");
  EXPECT_EQ(Pkg(1, "constraint_0_power_limit_uw"), "100000000");
  EXPECT_EQ(Pkg(0, "constraint_1_power_limit_uw"), "150000000");  // short_term untouched
  EXPECT_EQ(Pkg(1, "enabled"), "1");  // a limit on a disabled zone would do nothing
  EXPECT_EQ(s->PackagePowerLimitW(1), 100);
  EXPECT_EQ(Trimmed(Sys("class/powercap/intel-rapl:2/constraint_0_power_limit_uw")), "0");  // psys untouched
  EXPECT_EQ(Trimmed(Sys("class/powercap/intel-rapl-mmio:0/constraint_0_power_limit_uw")), "200000000");
  // Firmware may move the time window when a limit changes: restore puts it back too.
  std::ofstream(Sys("class/powercap/intel-rapl:1/constraint_0_time_window_us")) << "999424\n";
  auto r = RestoreFromJournal(env_.get(), options_);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->restored.size(), 2u);
  EXPECT_TRUE(r->failed.empty());
  EXPECT_EQ(Pkg(0, "constraint_0_power_limit_uw"), "125000000");
  EXPECT_EQ(Pkg(1, "constraint_0_power_limit_uw"), "125000000");
  EXPECT_EQ(Pkg(1, "constraint_0_time_window_us"), "27983872");
  EXPECT_EQ(Pkg(1, "enabled"), "0");
  EXPECT_EQ(Pkg(0, "enabled"), "1");
  EXPECT_FALSE(fs::exists(journal_));
}

TEST_F(CapsTest, PackageShortTermConstraintAndPackageList) {
  auto s = Session(false);
  ASSERT_TRUE(s->SetPackagePowerLimit(140, {0}, "short_term").ok());
  EXPECT_EQ(Pkg(0, "constraint_1_power_limit_uw"), "140000000");
  EXPECT_EQ(Pkg(0, "constraint_0_power_limit_uw"), "125000000");
  EXPECT_EQ(Pkg(1, "constraint_1_power_limit_uw"), "150000000");
  Status bad = s->SetPackagePowerLimit(140, {0}, "peak_power");
  EXPECT_EQ(bad.kind(), Status::Kind::kNotFound);
  EXPECT_NE(bad.message().find("it has: long_term, short_term"), std::string::npos) << bad.message();
  bad = s->SetPackagePowerLimit(140, {7});
  EXPECT_NE(bad.message().find("there is no package 7 (packages here: 0, 1)"), std::string::npos)
      << bad.message();
}

TEST_F(CapsTest, CpuMaxFreqClampsEachCoreToItsOwnMaximum) {
  auto s = Session(false);
  ASSERT_TRUE(s->SetCpuMaxFreq(4000).ok());
  EXPECT_EQ(Freq(0), "4000000");
  EXPECT_EQ(Freq(1), "4000000");
  EXPECT_EQ(Freq(2), "3600000");  // an efficiency core cannot reach 4000 MHz
  EXPECT_EQ(s->CpuMaxFreqMhz(), 4000);
  ASSERT_TRUE(s->SetCpuMaxFreq(2000).ok());
  EXPECT_EQ(Freq(3), "2000000");
  // The journal still holds the values found before the first change.
  ASSERT_TRUE(s->Restore().ok());
  EXPECT_EQ(Freq(0), "4900000");
  EXPECT_EQ(Freq(3), "3600000");
  EXPECT_FALSE(fs::exists(journal_));
}

TEST_F(CapsTest, OutOfRangeIsRefusedWithTheRangeAndChangesNothing) {
  auto s = Session(false);
  Status st = s->SetGpuPowerLimit(400);
  EXPECT_EQ(st.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(st.message().find("outside GPU 0's allowed range, 100 to 350 W"), std::string::npos)
      << st.message();
  st = s->SetGpuPowerLimit(50);
  EXPECT_EQ(st.kind(), Status::Kind::kInvalidArgument);
  st = s->SetPackagePowerLimit(300);
  EXPECT_EQ(st.kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(st.message().find("package-0's allowed range for long_term, above 0 W to 250 W"),
            std::string::npos)
      << st.message();
  st = s->SetCpuMaxFreq(5000);
  EXPECT_NE(st.message().find("allowed range, 800 to 4900 MHz"), std::string::npos) << st.message();
  st = s->SetCpuMaxFreq(500);
  EXPECT_EQ(st.kind(), Status::Kind::kInvalidArgument);
  EXPECT_EQ(GpuLimits(), "320000\n320000\n");
  EXPECT_EQ(Pkg(0, "constraint_0_power_limit_uw"), "125000000");
  EXPECT_EQ(Freq(0), "4900000");
  EXPECT_FALSE(fs::exists(journal_));
  // package-1 states no maximum: any positive value is taken.
  EXPECT_TRUE(s->SetPackagePowerLimit(400, {1}).ok());
}

TEST_F(CapsTest, JournalIsWrittenBeforeAnyKnobChanges) {
  FailingEnv env(env_.get());
  int writes = 0;
  env.before_write = [&](const std::string& path) {
    ++writes;
    std::string j = JournalText();
    EXPECT_NE(j.find("\"power_limit_uw\": 125000000"), std::string::npos)
        << "writing " << path << " before journaling";
  };
  auto s = Session(false, &env);
  ASSERT_TRUE(s->SetPackagePowerLimit(100, {0}).ok());
  EXPECT_EQ(writes, 1);
}

TEST_F(CapsTest, AJournalThatCannotBeWrittenMeansNothingChanges) {
  FailingEnv env(env_.get());
  env.fail_journal = true;
  auto s = Session(false, &env);
  Status st = s->SetGpuPowerLimit(200);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("nothing was changed"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("WATTLAB_CAPS_JOURNAL"), std::string::npos);
  EXPECT_EQ(GpuLimits(), "320000\n320000\n");
}

TEST_F(CapsTest, PackageFailingPartWayRollsBackThoseAlreadySet) {
  FailingEnv env(env_.get());
  env.fail_suffix = "intel-rapl:1/constraint_0_power_limit_uw";
  auto s = Session(false, &env);
  Status st = s->SetPackagePowerLimit(100);
  ASSERT_EQ(st.kind(), Status::Kind::kPermissionDenied) << st.message();
  EXPECT_NE(st.message().find("needs root"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("put back what was already set: intel-rapl:0 constraint 0 power limit 125 W"),
            std::string::npos)
      << st.message();
  EXPECT_EQ(Pkg(0, "constraint_0_power_limit_uw"), "125000000");
  EXPECT_EQ(Pkg(1, "constraint_0_power_limit_uw"), "125000000");
  EXPECT_EQ(Pkg(1, "enabled"), "0");
  EXPECT_FALSE(fs::exists(journal_)) << JournalText();
}

TEST_F(CapsTest, AFailedDeviceThatChangedHalfWayIsPutBackToo) {
  // package-1's limit is written, then switching its limiting on fails.
  FailingEnv env(env_.get());
  env.fail_suffix = "intel-rapl:1/enabled";
  auto s = Session(false, &env);
  Status st = s->SetPackagePowerLimit(100);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(Pkg(1, "constraint_0_power_limit_uw"), "125000000");
  EXPECT_EQ(Pkg(0, "constraint_0_power_limit_uw"), "125000000");
  EXPECT_FALSE(fs::exists(journal_));
}

TEST_F(CapsTest, CpufreqFailingPartWayRollsBack) {
  FailingEnv env(env_.get());
  env.fail_suffix = "cpu2/cpufreq/scaling_max_freq";
  auto s = Session(false, &env);
  ASSERT_FALSE(s->SetCpuMaxFreq(2000).ok());
  for (int cpu : {0, 1}) EXPECT_EQ(Freq(cpu), "4900000");
  for (int cpu : {2, 3}) EXPECT_EQ(Freq(cpu), "3600000");
  EXPECT_FALSE(fs::exists(journal_));
}

TEST_F(CapsTest, GpuFailingPartWayRollsBack) {
  setenv("FAKE_NVML_SET_FAIL_GPU", "1", 1);
  auto s = Session(false);
  Status st = s->SetGpuPowerLimit(200);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("put back what was already set: GPU 0 power limit 320 W"), std::string::npos)
      << st.message();
  EXPECT_EQ(GpuLimits(), "320000\n320000\n");
  EXPECT_FALSE(fs::exists(journal_));
}

TEST_F(CapsTest, AFailedRollbackStaysInTheJournal) {
  // package-1 fails; putting package-0 back fails too (its file turns read-only
  // after the first write): the journal keeps package-0 for --restore.
  FailingEnv env(env_.get());
  int pkg0_writes = 0;
  env.before_write = [&](const std::string& path) {
    if (path.find("intel-rapl:0/constraint_0_power_limit_uw") != std::string::npos && ++pkg0_writes == 2)
      env.fail_suffix = "power_limit_uw";
  };
  env.fail_suffix = "intel-rapl:1/constraint_0_power_limit_uw";
  auto s = Session(false, &env);
  Status st = s->SetPackagePowerLimit(100);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("could NOT put back"), std::string::npos) << st.message();
  EXPECT_EQ(Pkg(0, "constraint_0_power_limit_uw"), "100000000");
  auto j = ReadJournal(env_.get(), journal_.string());
  ASSERT_TRUE(j.ok() && j->has_value());
  ASSERT_EQ((*j)->saved.size(), 1u);
  EXPECT_EQ((*j)->saved[0].value, 125000000u);
  // The crash path puts it back.
  auto r = RestoreFromJournal(env_.get(), options_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Pkg(0, "constraint_0_power_limit_uw"), "125000000");
  EXPECT_FALSE(fs::exists(journal_));
}

TEST_F(CapsTest, GpuPermissionErrorSaysWhatIsNeeded) {
  setenv("FAKE_NVML_SET_RC", "4", 1);
  auto s = Session(false);
  Status st = s->SetGpuPowerLimit(200);
  ASSERT_EQ(st.kind(), Status::Kind::kPermissionDenied);
  EXPECT_NE(st.message().find("root (or CAP_SYS_ADMIN)"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("nvidia-smi -pm 1"), std::string::npos) << st.message();
  EXPECT_FALSE(fs::exists(journal_));
}

TEST_F(CapsTest, TheJournalKeepsTheFirstOriginalAcrossSessions) {
  {
    auto s = Session(false);
    ASSERT_TRUE(s->SetGpuPowerLimit(200).ok());
  }
  EXPECT_EQ(GpuLimits(), "200000\n200000\n");  // a persistent cap stays
  {
    auto s = Session(false);
    ASSERT_TRUE(s->SetGpuPowerLimit(150).ok());
  }
  auto r = RestoreFromJournal(env_.get(), options_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->restored.size(), 2u);
  EXPECT_EQ(GpuLimits(), "320000\n320000\n");
  EXPECT_FALSE(fs::exists(journal_));
}

TEST_F(CapsTest, AScopedSessionOverAPersistentCapPutsBackWhatItFound) {
  {
    auto s = Session(false);
    ASSERT_TRUE(s->SetGpuPowerLimit(200).ok());
  }
  {
    auto s = Session(true);
    ASSERT_TRUE(s->SetGpuPowerLimit(150).ok());
    ASSERT_TRUE(s->SetCpuMaxFreq(2000).ok());
  }
  EXPECT_EQ(GpuLimits(), "200000\n200000\n");
  EXPECT_EQ(Freq(0), "4900000");
  // The journal still holds the machine's own GPU limit, and nothing of cpufreq.
  auto j = ReadJournal(env_.get(), journal_.string());
  ASSERT_TRUE(j.ok() && j->has_value());
  ASSERT_EQ((*j)->saved.size(), 2u);
  EXPECT_EQ((*j)->saved[0].value, 320000u);
}

TEST_F(CapsTest, ACorruptJournalIsRefusedAndLeftInPlace) {
  fs::create_directories(journal_.parent_path());
  for (const std::string& text :
       {std::string("{\"format\": \"wattlab-caps-journal\", \"version\": 1, \"saved\": [tru"),
        std::string("{\"format\": \"wattlab-caps-journal\", \"version\": 1, \"sysfs_root\": \"/sys\", "
                    "\"nvml_library\": \"x\", \"saved\": [{\"knob\": \"fan_speed\", \"value\": 3}]}"),
        std::string("{\"format\": \"wattlab-caps-journal\", \"version\": 1, \"sysfs_root\": \"/sys\", "
                    "\"nvml_library\": \"x\", \"saved\": [{\"knob\": \"cpu_max_freq\", \"cpu\": 0, "
                    "\"scaling_max_freq_khz\": -5}]}")}) {
    std::ofstream(journal_) << text;
    auto open = CapSession::Open(env_.get(), options_, false);
    ASSERT_FALSE(open.ok());
    EXPECT_EQ(open.status().kind(), Status::Kind::kCorruption);
    EXPECT_NE(open.status().message().find("left in place"), std::string::npos) << open.status().message();
    auto r = RestoreFromJournal(env_.get(), options_);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().kind(), Status::Kind::kCorruption);
    EXPECT_EQ(Slurp(journal_), text);
    auto w = PendingJournalWarning(env_.get(), journal_.string());
    ASSERT_TRUE(w.has_value());
    EXPECT_NE(w->find("corrupt"), std::string::npos);
    Knobs k = ReadKnobs(env_.get(), options_);
    EXPECT_EQ(k.journal, journal_.string());
    EXPECT_TRUE(k.journal_corrupt);
  }
}

TEST_F(CapsTest, AJournalForAnotherSysfsRootIsNotRestoredHere) {
  {
    auto s = Session(false);
    ASSERT_TRUE(s->SetCpuMaxFreq(2000).ok());
  }
  Roots elsewhere;
  elsewhere.sysfs = (dir_ / "other").string();
  auto other = NewRealEnv(elsewhere);
  auto r = RestoreFromJournal(other.get(), options_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), Status::Kind::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("--sysfs-root " + (dir_ / "tree/sys").string()), std::string::npos)
      << r.status().message();
  auto s = CapSession::Open(other.get(), options_, false);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->SetCpuMaxFreq(2000).kind(), Status::Kind::kNotFound);  // no cpufreq there at all
  EXPECT_TRUE(fs::exists(journal_));
}

TEST_F(CapsTest, PendingWarningNamesTheRestoreCommandAndTheValues) {
  EXPECT_FALSE(PendingJournalWarning(env_.get(), journal_.string()).has_value());
  auto s = Session(false);
  ASSERT_TRUE(s->SetGpuPowerLimit(200, {0}).ok());
  auto w = PendingJournalWarning(env_.get(), journal_.string());
  ASSERT_TRUE(w.has_value());
  EXPECT_NE(w->find("wattlab cap --restore"), std::string::npos) << *w;
  EXPECT_NE(w->find("GPU 0 power limit 320 W"), std::string::npos) << *w;
  EXPECT_NE(w->find(journal_.string()), std::string::npos) << *w;
}

TEST_F(CapsTest, JournalRoundTripsThroughJson) {
  Journal j;
  j.sysfs_root = "/sys";
  j.nvml_library = "libnvidia-ml.so.1";
  SavedKnob g;
  g.kind = SavedKnob::Kind::kGpuPowerLimit;
  g.index = 1;
  g.value = 250000;
  g.pid = 42;
  SavedKnob p;
  p.kind = SavedKnob::Kind::kPackagePowerLimit;
  p.zone_dir = "/sys/class/powercap/intel-rapl:0";
  p.constraint = 1;
  p.value = 95000000;
  p.time_window_us = 2440;
  p.enabled = "0";
  SavedKnob f;
  f.kind = SavedKnob::Kind::kCpuMaxFreq;
  f.index = 3;
  f.value = 3600000;
  j.saved = {g, p, f};
  auto back = JournalFromJson(JournalToJson(j), "j");
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->saved.size(), 3u);
  EXPECT_EQ(back->saved[0].Key(), "gpu:1");
  EXPECT_EQ(back->saved[0].pid, 42);
  EXPECT_EQ(back->saved[1].Key(), "powercap:/sys/class/powercap/intel-rapl:0:1");
  EXPECT_EQ(back->saved[1].time_window_us, 2440u);
  EXPECT_EQ(back->saved[1].enabled, "0");
  EXPECT_EQ(back->saved[2].Describe(), "cpu3 max frequency 3600 MHz");
  EXPECT_EQ(JournalToJson(*back), JournalToJson(j));
}

TEST_F(CapsTest, JournalPathComesFromTheEnvironment) {
  class VarEnv : public ForwardingEnv {
   public:
    using ForwardingEnv::ForwardingEnv;
    std::optional<std::string> value;
    std::optional<std::string> GetEnvVar(const std::string& n) override {
      return n == "WATTLAB_CAPS_JOURNAL" ? value : std::nullopt;
    }
  } env(env_.get());
  EXPECT_EQ(JournalPath(&env), "/run/wattlab/caps.json");
  env.value = "";
  EXPECT_EQ(JournalPath(&env), "/run/wattlab/caps.json");
  env.value = "/tmp/x.json";
  EXPECT_EQ(JournalPath(&env), "/tmp/x.json");
}

}  // namespace
}  // namespace wattlab::caps
