// The training profile's rules (study/profile.h): the standard-error stopping
// rule on synthetic step times, and the extrapolation arithmetic on
// hand-made numbers; the spec key max_profile_steps.
#include "study/profile.h"

#include <gtest/gtest.h>

#include <cmath>

#include "study/plan.h"
#include "study/spec.h"

namespace wattlab {
namespace {

// The first step count at which the rule says stop, feeding times one by one.
int64_t StopsAt(const std::vector<double>& times, int64_t min_steps, int64_t max_steps) {
  std::vector<double> seen;
  for (double t : times) {
    seen.push_back(t);
    if (ProfileDone(seen, min_steps, max_steps)) return static_cast<int64_t>(seen.size());
  }
  return -1;
}

// Step times alternating mean*(1 ± spread): sd ≈ spread*mean, so the SE
// reaches 1% of the mean near n = (spread / 0.01)^2.
std::vector<double> Alternating(double mean_s, double spread, int n) {
  std::vector<double> v;
  for (int i = 0; i < n; ++i) v.push_back(mean_s * (1 + (i % 2 == 0 ? spread : -spread)));
  return v;
}

TEST(ProfileRuleTest, SummarizeSteps) {
  StepStats s = SummarizeSteps({0.1, 0.2, 0.3});
  EXPECT_EQ(s.n, 3);
  EXPECT_NEAR(s.mean_s, 0.2, 1e-12);
  EXPECT_NEAR(s.sd_s, 0.1, 1e-12);
  EXPECT_NEAR(s.se_s, 0.1 / std::sqrt(3.0), 1e-12);
  EXPECT_NEAR(s.relative_se, 0.5 / std::sqrt(3.0), 1e-12);
  // Not-a-time values are skipped; one step cannot give an SE.
  s = SummarizeSteps({0.1, NAN, -1});
  EXPECT_EQ(s.n, 1);
  EXPECT_TRUE(std::isinf(s.relative_se));
}

TEST(ProfileRuleTest, NeverBeforeProfileSteps) {
  // Identical steps: SE is 0 from the second step, but the minimum holds.
  std::vector<double> same(50, 0.02);
  EXPECT_EQ(StopsAt(same, 5, 200), 5);
  EXPECT_EQ(StopsAt(same, 3, 200), 3);
  EXPECT_FALSE(ProfileDone({0.02, 0.02, 0.02, 0.02}, 5, 200));
}

TEST(ProfileRuleTest, StopsWhenStandardErrorReachesOnePercent) {
  // ±10% spread: SE <= 1% needs about 100 steps; the rule stops at the first
  // step count where it holds, computed here independently.
  // The first step (after warm-up, still slow) is left out of the mean.
  std::vector<double> t = Alternating(0.05, 0.10, 300);
  t[0] = 0.5;
  int64_t expect = -1;
  for (size_t n = 5; n <= t.size(); ++n) {
    double mean = 0, ss = 0;
    for (size_t i = 1; i < n; ++i) mean += t[i];
    mean /= (double)(n - 1);
    for (size_t i = 1; i < n; ++i) ss += (t[i] - mean) * (t[i] - mean);
    const double se = std::sqrt(ss / (double)(n - 2)) / std::sqrt((double)(n - 1));
    if (se <= 0.01 * mean) {
      expect = (int64_t)n;
      break;
    }
  }
  ASSERT_GT(expect, 90);
  ASSERT_LT(expect, 110);
  EXPECT_EQ(StopsAt(t, 5, 200), expect);
  // Just before it, the rule goes on.
  EXPECT_FALSE(ProfileDone(std::vector<double>(t.begin(), t.begin() + expect - 1), 5, 200));
  // ±2%: stops as soon as the SE allows, a few steps past the minimum at most.
  EXPECT_LE(StopsAt(Alternating(0.05, 0.02, 300), 5, 200), 8);
}

TEST(ProfileRuleTest, NeverAfterMaxProfileSteps) {
  // ±40% spread never settles within 60 steps: the cap ends it exactly there.
  EXPECT_EQ(StopsAt(Alternating(0.05, 0.40, 300), 5, 60), 60);
  // The cap wins even before the minimum would (min == max: a fixed profile).
  EXPECT_EQ(StopsAt(Alternating(0.05, 0.40, 300), 5, 5), 5);
  EXPECT_TRUE(ProfileDone(Alternating(0.05, 0.40, 61), 5, 60));
}

TEST(ProfileExtrapolationTest, StepsFirstStepBoundariesAndEdges) {
  // A profile of 10 steps of 64 samples: the first 0.3 s (after warm-up,
  // still slow), then 9 of 0.1 s (1.2 s in steps); one epoch boundary of
  // 0.02 s, window 1.25 s (so 0.03 s of edges), 25 J: 20 W. The full run:
  // 3 epochs of 3200 samples = 150 steps.
  ProfileMeasurement p;
  p.steps = 10;
  p.samples = 640;
  p.batch_size = 64;
  p.step_s = std::vector<double>(10, 0.1);
  p.step_s[0] = 0.3;
  p.boundary_s = 0.02;
  p.duration_s = 1.25;
  p.energy_j = 25;
  FullLength full{3, 9600};
  auto x = ExtrapolateTraining(p, full);
  ASSERT_TRUE(x.has_value());
  EXPECT_NEAR(x->power_w, 20, 1e-12);
  EXPECT_NEAR(x->step_s, 0.1, 1e-12);  // the steady mean: the first step left out
  EXPECT_NEAR(x->first_step_excess_s, 0.2, 1e-12);
  EXPECT_NEAR(x->steps_s, 15.2, 1e-9);        // 150 steps x 0.1 s, + 0.2 s once
  EXPECT_NEAR(x->boundaries_s, 0.06, 1e-12);  // 3 x 0.02 s
  EXPECT_NEAR(x->edges_s, 0.03, 1e-12);
  EXPECT_NEAR(x->duration_s, 15.29, 1e-9);
  EXPECT_NEAR(x->energy_j, 20 * 15.29, 1e-9);
  // The old rule (energy x sample ratio) scales the first step's excess,
  // the edges and the boundary by the ratio too: 25 x 15 = 375 J, not 305.8 J.
  EXPECT_NEAR(p.energy_j * 9600.0 / 640.0, 375, 1e-9);
}

TEST(ProfileExtrapolationTest, PartialBatchesScaleBySamples) {
  // 3 steps of 16 samples: 0.3 s, then 0.2 and 0.4 (steady mean 0.3, no
  // excess); the full run has 100 samples (6.25 steps' worth).
  ProfileMeasurement p;
  p.steps = 3;
  p.samples = 48;
  p.batch_size = 16;
  p.step_s = {0.3, 0.2, 0.4};
  p.duration_s = 0.9;
  p.energy_j = 9;
  auto x = ExtrapolateTraining(p, FullLength{1, 100});
  ASSERT_TRUE(x.has_value());
  EXPECT_NEAR(x->first_step_excess_s, 0, 1e-12);
  EXPECT_NEAR(x->steps_s, 0.3 * 100.0 / 16.0, 1e-12);
  EXPECT_NEAR(x->edges_s, 0, 1e-12);
  EXPECT_NEAR(x->energy_j, 10 * 0.3 * 100.0 / 16.0, 1e-9);
}

TEST(ProfileExtrapolationTest, NothingMeasuredGivesNothing) {
  ProfileMeasurement p;
  EXPECT_FALSE(ExtrapolateTraining(p, FullLength{1, 100}).has_value());
  p.steps = 3;
  p.samples = 48;
  p.duration_s = 1;
  p.energy_j = 1;
  EXPECT_FALSE(ExtrapolateTraining(p, FullLength{1, 100}).has_value());  // no step times
  EvalMeasurement e;
  e.energy_j = 5;
  e.duration_s = 1;
  e.batch_size = 64;
  EXPECT_FALSE(ExtrapolateEval(e, 1000).has_value());  // no samples
  e.samples = 512;
  // Without batch times: the sample-ratio rule.
  auto x = ExtrapolateEval(e, 2000);
  ASSERT_TRUE(x.has_value());
  EXPECT_FALSE(x->by_batches);
  EXPECT_NEAR(x->energy_j, 5 * 2000.0 / 512.0, 1e-12);
}

// A short eval pass: a slow first batch and the window's own edges are paid
// once, not in proportion to the samples, so the ratio rule over-predicts.
TEST(ProfileExtrapolationTest, EvalPaysFirstBatchAndEdgesOnce) {
  EvalMeasurement e;
  e.batch_size = 100;
  e.samples = 800;  // 8 batches
  e.batch_s = {0.05, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01};
  e.duration_s = 0.12 + 0.02;      // batches + 20 ms of window edges
  e.energy_j = 10 * e.duration_s;  // 10 W
  auto x = ExtrapolateEval(e, 10000);
  ASSERT_TRUE(x.has_value());
  EXPECT_TRUE(x->by_batches);
  EXPECT_NEAR(x->power_w, 10, 1e-9);
  EXPECT_NEAR(x->batch_mean_s, 0.01, 1e-12);
  EXPECT_NEAR(x->first_batch_excess_s, 0.04, 1e-12);
  EXPECT_NEAR(x->edges_s, 0.02, 1e-12);
  // 10000 samples at 0.1 ms each, + 40 ms + 20 ms, at 10 W.
  EXPECT_NEAR(x->duration_s, 1.0 + 0.06, 1e-9);
  EXPECT_NEAR(x->energy_j, 10.6, 1e-9);
  // The ratio rule would have said 1.4 J x 12.5 = 17.5 J.
  EXPECT_LT(x->energy_j, e.energy_j * 10000.0 / 800.0);
  // A short last batch: its samples, not batch_size, are what it stands for.
  e.samples = 750;  // last batch of 50
  e.batch_s.back() = 0.005;
  e.duration_s = 0.115 + 0.02;
  e.energy_j = 10 * e.duration_s;
  x = ExtrapolateEval(e, 10000);
  ASSERT_TRUE(x.has_value());
  EXPECT_NEAR(x->duration_s, (0.065 / 650.0) * 10000 + (0.05 - 0.065 / 650.0 * 100) + 0.02, 1e-9);
}

TEST(ProfileSpecTest, MaxProfileStepsParsesDefaultsAndIsChecked) {
  auto s = ParseStudySpec(
      "name = \"x\"\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[8]\nprofile_steps=5\nmax_profile_steps=40\n",
      "my.toml");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->sweeps[0].profile_steps, 5);
  EXPECT_EQ(s->sweeps[0].max_profile_steps, 40);
  s = ParseStudySpec("name = \"x\"\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[8]\n", "my.toml");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->sweeps[0].max_profile_steps, kDefaultMaxProfileSteps);
  // profile_steps above the default without max_profile_steps: that many.
  s = ParseStudySpec("name = \"x\"\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[8]\nprofile_steps=300\n",
                     "my.toml");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->sweeps[0].max_profile_steps, 300);

  s = ParseStudySpec(
      "name = \"x\"\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[8]\nprofile_steps=10\nmax_profile_steps=5\n",
      "my.toml");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().kind(), Status::Kind::kInvalidArgument);
  for (const char* part : {"my.toml:6:", "max_profile_steps", "5 is less than profile_steps = 10",
                           "max_profile_steps >= profile_steps"})
    EXPECT_NE(s.status().message().find(part), std::string::npos) << s.status().message();
  s = ParseStudySpec("name = \"x\"\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[8]\nmax_profile_steps=2\n",
                     "my.toml");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("must be >= 3"), std::string::npos) << s.status().message();
}

TEST(ProfileSpecTest, PlanCapsTheProfileAtTheFullLength) {
  auto s = ParseStudySpec(
      "name = \"x\"\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[64]\nphases=[\"train\"]\nprofile_steps=5\n"
      "epochs=2\ntrain_samples=640\nfull_length=true\n",
      "my.toml");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto plan = ExpandPlan(*s);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].max_profile_steps, kDefaultMaxProfileSteps);
  EXPECT_EQ(plan[0].profile_step_cap(), 20);  // 2 epochs x 10 steps: never longer than what it predicts
  // The default cap leaves the config id as it was; another cap changes it.
  auto s2 = ParseStudySpec(
      "name = \"x\"\n[[sweep]]\nmodels=[\"lenet\"]\nbatch_sizes=[64]\nphases=[\"train\"]\nprofile_steps=5\n"
      "epochs=2\ntrain_samples=640\nfull_length=true\nmax_profile_steps=8\n",
      "my.toml");
  ASSERT_TRUE(s2.ok());
  auto plan2 = ExpandPlan(*s2);
  EXPECT_EQ(plan2[0].profile_step_cap(), 8);
  EXPECT_NE(plan2[0].config_id, plan[0].config_id);
}

}  // namespace
}  // namespace wattlab
