// ControlSession: what protocol lines do to a meter's windows (overlapping
// names, samples to the latest open window, warnings that never stop the
// run, windows closed at exit) against a fake meter on a fake clock; and
// RunCommandWithControl with real programs (sh) speaking on fd 3.
#include "meter/control_session.h"

#include <gtest/gtest.h>

#include <map>

#include "meter/command_run.h"
#include "platform/real_env.h"

namespace wattlab {
namespace {

// Windows last from BeginWindow to EndWindow on a clock the test moves; 10 W.
class ClockMeter : public Meter {
 public:
  double now_s = 0;
  const std::vector<SourceAttempt>& attempts() const override { return attempts_; }
  std::vector<DomainInfo> domains() const override { return {}; }
  std::vector<std::string> sources() const override { return {"fake"}; }
  bool estimated() const override { return false; }
  std::chrono::nanoseconds interval() const override { return std::chrono::milliseconds(100); }
  Status Start() override { return Status::Ok(); }
  Status Stop() override { return Status::Ok(); }
  WindowId BeginWindow(const std::string& name) override {
    open_[next_] = {name, now_s};
    return next_++;
  }
  Result<WindowResult> EndWindow(WindowId id) override {
    auto it = open_.find(id);
    if (it == open_.end()) return Status::NotFound("no window");
    WindowResult r;
    r.name = it->second.first;
    r.start_s = it->second.second;
    r.duration_s = now_s - r.start_s;
    r.energy_j = 10 * r.duration_s;
    open_.erase(it);
    return r;
  }
  void SetIdlePower(double) override {}
  std::optional<double> idle_power_w() const override { return std::nullopt; }
  void SetIdleBusy(bool) override {}
  void SetIdleDomainPowers(const std::vector<std::pair<std::string, double>>&) override {}
  std::vector<std::pair<std::string, double>> idle_domain_powers_w() const override { return {}; }
  Result<IdleMeasurement> MeasureIdle(std::chrono::nanoseconds) override { return IdleMeasurement{}; }
  void SetAttributionPid(int) override {}
  std::vector<TimelineSample> Timeline() const override { return {}; }
  size_t open_count() const { return open_.size(); }

 private:
  std::vector<SourceAttempt> attempts_;
  std::map<WindowId, std::pair<std::string, double>> open_;
  WindowId next_ = 1;
};

TEST(ControlSession, OverlappingNamedWindowsWithTheirSamples) {
  ClockMeter m;
  ControlSession s(&m);
  EXPECT_EQ(s.HandleLine("begin train"), "");
  m.now_s = 1;
  EXPECT_EQ(s.HandleLine("begin epoch 1"), "");
  EXPECT_EQ(s.HandleLine("samples 100"), "");
  EXPECT_EQ(s.HandleLine("samples 28"), "");
  m.now_s = 3;
  EXPECT_EQ(s.HandleLine("end epoch 1"), "");
  EXPECT_EQ(s.HandleLine("samples 5"), "");  // goes to train, the latest still open
  EXPECT_EQ(s.HandleLine("meta model my-net"), "");
  m.now_s = 4;
  EXPECT_EQ(s.HandleLine("end train"), "");
  EXPECT_TRUE(s.Finish().empty());
  auto w = s.windows();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].result.name, "train");  // begin order
  EXPECT_DOUBLE_EQ(w[0].result.duration_s, 4);
  EXPECT_EQ(w[0].samples, 5);
  EXPECT_EQ(w[1].result.name, "epoch 1");
  EXPECT_DOUBLE_EQ(w[1].result.start_s, 1);
  EXPECT_DOUBLE_EQ(w[1].result.energy_j, 20);
  EXPECT_EQ(w[1].samples, 128);
  EXPECT_TRUE(w[1].samples_reported);
  EXPECT_FALSE(w[1].closed_at_exit);
  EXPECT_EQ(s.meta(), (std::vector<std::pair<std::string, std::string>>{{"model", "my-net"}}));
  EXPECT_TRUE(s.warnings().empty());
  EXPECT_EQ(m.open_count(), 0u);
}

TEST(ControlSession, BadLinesAreReportedWithTheLineAndIgnored) {
  ClockMeter m;
  ControlSession s(&m);
  EXPECT_EQ(s.HandleLine("samples 3"), "control line 1 \"samples 3\": no window is open; ignored");
  EXPECT_EQ(s.HandleLine("end nothing"),
            "control line 2 \"end nothing\": no open window named 'nothing'; ignored");
  EXPECT_EQ(
      s.HandleLine("hello"),
      "control line 3 \"hello\": unknown command 'hello' (expected begin, end, samples or meta); ignored");
  EXPECT_EQ(s.HandleLine("begin a"), "");
  EXPECT_EQ(s.HandleLine("begin a"), "control line 5 \"begin a\": window 'a' is already open; ignored");
  EXPECT_EQ(s.HandleLine("samples x\x01"),
            "control line 6 \"samples x?\": samples needs a whole number >= 0; ignored");
  m.now_s = 2;
  EXPECT_EQ(s.HandleLine("end a"), "");
  EXPECT_EQ(s.HandleLine("end a"), "control line 8 \"end a\": no open window named 'a'; ignored");
  EXPECT_EQ(s.HandleLine("begin a"), "");  // the name may be used again once closed
  EXPECT_EQ(s.warnings().size(), 6u);
  EXPECT_EQ(s.lines(), 9);
  auto left = s.Finish();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0], "window 'a' was still open when the program ended; closed then");
  auto w = s.windows();
  ASSERT_EQ(w.size(), 2u);
  EXPECT_FALSE(w[0].closed_at_exit);
  EXPECT_TRUE(w[1].closed_at_exit);
  EXPECT_FALSE(w[1].samples_reported);
}

TEST(LastLines, KeepsTheTail) {
  EXPECT_EQ(LastLines("a\nb\nc\n", 2), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(LastLines("a\nb\nc", 5), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(LastLines("", 3).empty());
}

class CommandRunTest : public ::testing::Test {
 protected:
  std::unique_ptr<Env> env_ = NewRealEnv(Roots{});
  ClockMeter meter_;
  Result<CommandRunResult> Run(const std::string& shell, CommandRunOptions o = {}) {
    return RunCommandWithControl(env_.get(), &meter_, {"sh", "-c", shell}, o);
  }
};

TEST_F(CommandRunTest, ProgramSpeaksOnFd3) {
  CommandRunOptions o;
  std::vector<std::string> told;
  o.on_warning = [&](const std::string& w) { told.push_back(w); };
  auto r =
      Run("test \"$WATTLAB_CONTROL\" = fd:3 || exit 9; "
          "printf 'begin epoch 1\\nsamples 64\\nend epoch 1\\nbegin epoch 2\\nsamples 32\\nend nope\\n' >&3; "
          "printf 'meta k v\\nbegin left open' >&3; exit 4",
          o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->spawn_error.ok());
  EXPECT_EQ(r->exit_code, 4);
  ASSERT_EQ(r->windows.size(), 3u);
  EXPECT_EQ(r->windows[0].result.name, "epoch 1");
  EXPECT_EQ(r->windows[0].samples, 64);
  EXPECT_EQ(r->windows[1].result.name, "epoch 2");
  EXPECT_EQ(r->windows[1].samples, 32);
  EXPECT_TRUE(r->windows[1].closed_at_exit);
  // The last line had no '\n': it still counts.
  EXPECT_EQ(r->windows[2].result.name, "left open");
  EXPECT_TRUE(r->windows[2].closed_at_exit);
  EXPECT_EQ(r->meta, (std::vector<std::pair<std::string, std::string>>{{"k", "v"}}));
  ASSERT_EQ(told.size(), 3u);
  EXPECT_EQ(told[0], "control line 6 \"end nope\": no open window named 'nope'; ignored");
  EXPECT_EQ(r->warnings, told);
}

TEST_F(CommandRunTest, StderrTailAndTimeout) {
  CommandRunOptions o;
  o.capture_stderr = true;
  o.stderr_tail_lines = 2;
  o.timeout = std::chrono::milliseconds(200);
  o.kill_grace = std::chrono::milliseconds(200);
  // Ignores SIGTERM, so only the SIGKILL after the grace ends it.
  auto r =
      Run("trap '' TERM; echo one >&2; echo two >&2; echo three >&2; echo 'begin w' >&3; "
          "while :; do sleep 0.05; done",
          o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, 128 + 9);
  EXPECT_EQ(r->stderr_tail, (std::vector<std::string>{"two", "three"}));
  ASSERT_EQ(r->windows.size(), 1u);
  EXPECT_TRUE(r->windows[0].closed_at_exit);
}

TEST_F(CommandRunTest, OverlongLineIsCutAndReported) {
  std::vector<std::string> told;
  CommandRunOptions o;
  o.on_warning = [&](const std::string& w) { told.push_back(w); };
  auto r = Run("head -c 10000 /dev/zero | tr '\\0' x >&3; printf '\\nbegin ok\\nend ok\\n' >&3", o);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->windows.size(), 1u);
  EXPECT_EQ(r->windows[0].result.name, "ok");
  ASSERT_EQ(told.size(), 1u);
  EXPECT_NE(told[0].find("line longer than 4096 bytes; ignored"), std::string::npos) << told[0];
}

TEST_F(CommandRunTest, MissingProgramIsASpawnError) {
  auto r = RunCommandWithControl(env_.get(), &meter_, {"wattlab-no-such-program-xyz"}, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->spawn_error.kind(), Status::Kind::kNotFound);
  EXPECT_EQ(r->exit_code, 127);
}

}  // namespace
}  // namespace wattlab
