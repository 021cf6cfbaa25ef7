// The OpenMP wait policy choice (meter/wait_policy.h): the user's variable
// wins, otherwise default unless the start-up sample is busy by the one
// definition (meter/busy.h), then passive; /proc/stat is scripted, no sleeps.
#include "meter/wait_policy.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>

namespace wattlab {
namespace {

// /proc/stat answers from a script, one text per read; environment in a map.
class ScriptedEnv : public ForwardingEnv {
 public:
  ScriptedEnv() : ForwardingEnv(nullptr) {}
  Result<std::string> ReadFile(const std::string& p) override {
    if (p != "/proc/stat" || stat_.empty()) return Status::NotFound(p);
    std::string t = stat_.front();
    stat_.pop_front();
    ++stat_reads;
    return t;
  }
  void SleepFor(std::chrono::nanoseconds d) override { slept += d; }
  std::optional<std::string> GetEnvVar(const std::string& n) override {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  }
  Status SetEnvVar(const std::string& n, const std::string& v, bool overwrite) override {
    if (overwrite || !vars.count(n)) vars[n] = v;
    return Status::Ok();
  }
  // Two /proc/stat readings `busy` busy ticks of 100 apart.
  void Sample(uint64_t busy) {
    stat_.push_back("cpu  1000 0 0 9000 0 0 0 0 0 0\n");
    stat_.push_back("cpu  " + std::to_string(1000 + busy) + " 0 0 " + std::to_string(9000 + 100 - busy) +
                    " 0 0 0 0 0 0\n");
  }
  std::map<std::string, std::string> vars;
  std::chrono::nanoseconds slept{0};
  int stat_reads = 0;

 private:
  std::deque<std::string> stat_;
};

TEST(OmpWaitPolicyTest, NamesAndParsing) {
  EXPECT_STREQ(OmpWaitPolicyName(OmpWaitPolicy::kDefault), "default");
  EXPECT_STREQ(OmpWaitPolicyName(OmpWaitPolicy::kActive), "active");
  EXPECT_STREQ(OmpWaitPolicyName(OmpWaitPolicy::kPassive), "passive");
  EXPECT_EQ(*ParseOmpWaitPolicy("Passive"), OmpWaitPolicy::kPassive);
  EXPECT_EQ(*ParseOmpWaitPolicy(" default "), OmpWaitPolicy::kDefault);
  auto bad = ParseOmpWaitPolicy("spin");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("allowed: default, active, passive"), std::string::npos);
  // libgomp knows only active and passive; "default" set as a value is invalid to it.
  EXPECT_EQ(LibgompReading("ACTIVE"), OmpWaitPolicy::kActive);
  EXPECT_EQ(LibgompReading(" passive\n"), OmpWaitPolicy::kPassive);
  EXPECT_EQ(LibgompReading("default"), std::nullopt);
  EXPECT_EQ(OmpWaitPolicyEnvValue(OmpWaitPolicy::kDefault), std::nullopt);  // unset, not ""
  EXPECT_EQ(OmpWaitPolicyEnvValue(OmpWaitPolicy::kPassive), "PASSIVE");
  EXPECT_EQ(OmpWaitPolicyEnvValue(OmpWaitPolicy::kActive), "ACTIVE");
}

TEST(OmpWaitPolicyTest, DecisionTable) {
  const IdleVerdict quiet{false, ""};
  const IdleVerdict busy{true, "CPU 52% busy during it (more than 10%)"};
  // The user's choice wins over a busy machine.
  OmpWaitChoice c = DecideOmpWaitPolicy(std::string("active"), busy);
  EXPECT_EQ(c.policy, OmpWaitPolicy::kActive);
  EXPECT_TRUE(c.from_environment);
  EXPECT_FALSE(c.busy_at_start);
  EXPECT_EQ(c.why, "set in the environment (OMP_WAIT_POLICY=active)");
  // A value libgomp rejects runs its default, and the choice says so.
  c = DecideOmpWaitPolicy(std::string("spin"), quiet);
  EXPECT_EQ(c.policy, OmpWaitPolicy::kDefault);
  EXPECT_NE(c.why.find("not active or passive"), std::string::npos);
  // Unset: default when quiet or unknown, passive when busy.
  EXPECT_EQ(DecideOmpWaitPolicy(std::nullopt, quiet).policy, OmpWaitPolicy::kDefault);
  EXPECT_EQ(DecideOmpWaitPolicy(std::nullopt, std::nullopt).policy, OmpWaitPolicy::kDefault);
  c = DecideOmpWaitPolicy(std::nullopt, busy);
  EXPECT_EQ(c.policy, OmpWaitPolicy::kPassive);
  EXPECT_TRUE(c.busy_at_start);
  EXPECT_NE(c.why.find("CPU 52% busy"), std::string::npos);
  EXPECT_NE(OmpBusyNote(c).find("OMP_WAIT_POLICY=passive"), std::string::npos);
}

TEST(OmpWaitPolicyTest, QuietMachineLeavesTheVariableUnset) {
  ScriptedEnv env;
  env.Sample(5);  // 5% busy: quiet (threshold 10%)
  OmpWaitChoice c = ChooseOmpWaitPolicy(&env, std::chrono::milliseconds(250));
  EXPECT_EQ(c.policy, OmpWaitPolicy::kDefault);
  EXPECT_FALSE(env.vars.count("OMP_WAIT_POLICY"));
  EXPECT_EQ(env.stat_reads, 2);
  EXPECT_EQ(env.slept, std::chrono::milliseconds(250));
}

TEST(OmpWaitPolicyTest, BusyMachineSetsPassiveAndSaysWhy) {
  ScriptedEnv env;
  env.Sample(60);
  OmpWaitChoice c = ChooseOmpWaitPolicy(&env);
  EXPECT_EQ(c.policy, OmpWaitPolicy::kPassive);
  EXPECT_TRUE(c.busy_at_start);
  EXPECT_EQ(env.vars["OMP_WAIT_POLICY"], "PASSIVE");
  EXPECT_NE(c.why.find("the CPU was 60% busy during a 0.25 s sample (more than 10%)"), std::string::npos)
      << c.why;
}

TEST(OmpWaitPolicyTest, UserPolicyIsKeptWithoutSampling) {
  ScriptedEnv env;
  env.vars["OMP_WAIT_POLICY"] = "active";
  env.Sample(90);
  OmpWaitChoice c = ChooseOmpWaitPolicy(&env);
  EXPECT_EQ(c.policy, OmpWaitPolicy::kActive);
  EXPECT_EQ(env.vars["OMP_WAIT_POLICY"], "active");
  EXPECT_EQ(env.stat_reads, 0);
  EXPECT_EQ(env.slept, std::chrono::nanoseconds(0));
}

TEST(OmpWaitPolicyTest, UnreadableProcStatCountsAsQuiet) {
  ScriptedEnv env;  // no /proc/stat
  OmpWaitChoice c = ChooseOmpWaitPolicy(&env);
  EXPECT_EQ(c.policy, OmpWaitPolicy::kDefault);
  EXPECT_NE(c.why.find("could not be read"), std::string::npos);
  EXPECT_FALSE(env.vars.count("OMP_WAIT_POLICY"));
}

}  // namespace
}  // namespace wattlab
