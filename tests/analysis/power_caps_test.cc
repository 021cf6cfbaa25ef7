// AnalyzePowerCaps against hand-computed values: the optimal caps, the
// within-slowdown choice, savings, the quadratic fit, repetitions, ties, the
// other knobs held apart, and the caps columns read back from CSV.
#include "analysis/power_caps.h"

#include <gtest/gtest.h>

#include <cmath>

#include "analysis/analysis.h"
#include "store/export.h"

namespace wattlab::analysis {
namespace {

RunRow Row(double cap_w, double energy_j, double duration_s, int64_t run_id, int64_t samples = 100) {
  RunRow r;
  r.study = "s";
  r.run_id = run_id;
  r.config_id = "c" + std::to_string(run_id);
  r.model = "resnet18";
  r.phase = "train";
  r.window = "profile";
  r.batch_size = 128;
  r.threads = 0;
  r.precision = "fp32";
  r.params = 1000;
  r.macs = 5000;
  r.macs_per_param = 5;
  r.samples = samples;
  r.duration_s = duration_s;
  r.energy_j = energy_j;
  r.energy_above_idle_j = energy_j / 2;
  r.source = "nvml";
  r.gpu_power_limit_w = cap_w;
  r.cpu_power_limit_w = 95;
  return r;
}

// Energy per sample (total) and time per sample at 5 caps:
//   cap    E (J)   T (s)  EDP     ED²P
//   100    9.0     2.0    18.0    36.0
//   150    7.0     1.5    10.5    15.75
//   200    8.0     1.2     9.6    11.52
//   250    9.5     1.05    9.975  10.474
//   300   10.0     1.0    10.0    10.0
std::vector<RunRow> FiveCaps() {
  const double caps[] = {100, 150, 200, 250, 300}, e[] = {9, 7, 8, 9.5, 10}, t[] = {2, 1.5, 1.2, 1.05, 1};
  std::vector<RunRow> rows;
  for (int i = 0; i < 5; ++i) rows.push_back(Row(caps[i], e[i] * 100, t[i] * 100, i + 1));
  return rows;
}

TEST(PowerCapsTest, OptimalCapsSavingsAndText) {
  auto pc = AnalyzePowerCaps(FiveCaps(), EnergyBasis::kTotal, 1.1);
  ASSERT_EQ(pc.curves.size(), 1u) << pc.note;
  const CapCurve& c = pc.curves[0];
  EXPECT_EQ(c.knob, "gpu_power_limit_w");
  EXPECT_EQ(c.held, "cpu_power_limit_w=95");
  ASSERT_EQ(c.points.size(), 5u);
  EXPECT_EQ(c.reference_cap, 300);
  EXPECT_EQ(c.energy_optimal_cap, 150);
  EXPECT_EQ(c.edp_optimal_cap, 200);
  EXPECT_EQ(c.ed2p_optimal_cap, 300);
  EXPECT_EQ(c.within_slowdown_cap, 250);  // 1.05x; 200 W is 1.2x
  EXPECT_NEAR(c.energy_saved_pct, 30, 1e-9);
  EXPECT_NEAR(c.time_added_pct, 50, 1e-9);
  EXPECT_NEAR(c.within_energy_saved_pct, 5, 1e-9);
  EXPECT_NEAR(c.within_time_added_pct, 5, 1e-9);
  EXPECT_NEAR(c.points[1].edp, 10.5, 1e-12);
  EXPECT_NEAR(c.points[0].slowdown, 2, 1e-12);
  EXPECT_NE(
      c.text.find("energy-optimal GPU power limit 150 W, energy saved 30.0% for 50.0% more time than at "
                  "300 W; within 1.1x time: 250 W, energy saved 5.0% for 5.0% more time; EDP-optimal "
                  "200 W, ED²P-optimal 300 W."),
      std::string::npos)
      << c.text;
  // A looser slowdown reaches further down.
  EXPECT_EQ(AnalyzePowerCaps(FiveCaps(), EnergyBasis::kTotal, 1.5).curves[0].within_slowdown_cap, 150);
  // The above-idle basis halves every energy here: the same choices.
  EXPECT_EQ(AnalyzePowerCaps(FiveCaps(), EnergyBasis::kAboveIdle, 1.1).curves[0].energy_optimal_cap, 150);
}

TEST(PowerCapsTest, QuadraticFitIsExactOnAParabola) {
  // E(c) = 2 + (c - 180)^2 / 1000 per sample: the fit recovers it and its minimum.
  std::vector<RunRow> rows;
  int id = 1;
  for (double c : {100.0, 140.0, 180.0, 260.0, 300.0}) {
    const double e = 2 + (c - 180) * (c - 180) / 1000;
    rows.push_back(Row(c, e * 100, 100, id++));
  }
  auto pc = AnalyzePowerCaps(rows, EnergyBasis::kTotal);
  ASSERT_EQ(pc.curves.size(), 1u);
  const CapCurve& c = pc.curves[0];
  ASSERT_TRUE(c.energy_fit.has_value());
  EXPECT_NEAR((*c.energy_fit)[2], 1.0 / 1000, 1e-9);
  EXPECT_NEAR((*c.energy_fit)[1], -360.0 / 1000, 1e-7);
  EXPECT_NEAR((*c.energy_fit)[0], 2 + 32.4, 1e-5);
  ASSERT_TRUE(c.fit_energy_optimal_cap.has_value());
  EXPECT_NEAR(*c.fit_energy_optimal_cap, 180, 1e-6);
  for (const auto& p : c.points) EXPECT_NEAR(*p.fitted_energy_per_sample_j, p.energy_per_sample_j, 1e-9);
  // Constant time: the fit is flat, the slowdowns all 1.
  for (const auto& p : c.points) EXPECT_NEAR(p.slowdown, 1, 1e-12);
}

TEST(PowerCapsTest, RepetitionsAveragedTiesGoToTheHigherCap) {
  std::vector<RunRow> rows = {Row(200, 800, 100, 1), Row(200, 1000, 100, 2), Row(300, 900, 100, 3)};
  auto pc = AnalyzePowerCaps(rows, EnergyBasis::kTotal);
  ASSERT_EQ(pc.curves.size(), 1u);
  const CapCurve& c = pc.curves[0];
  ASSERT_EQ(c.points.size(), 2u);
  EXPECT_EQ(c.points[0].repetitions, 2);
  EXPECT_NEAR(c.points[0].energy_per_sample_j, 9, 1e-12);
  EXPECT_NEAR(c.points[0].energy_per_sample_sd_j, std::sqrt(2.0), 1e-12);
  EXPECT_EQ(c.energy_optimal_cap, 300);    // 9 J at both: the higher cap
  EXPECT_FALSE(c.energy_fit.has_value());  // two caps: no quadratic
}

TEST(PowerCapsTest, OtherKnobsAndConfigurationsAreHeldApart) {
  std::vector<RunRow> rows = FiveCaps();
  // The same caps at another CPU limit: a second curve, not a mix.
  for (RunRow r : FiveCaps()) {
    r.cpu_power_limit_w = 65;
    r.run_id += 10;
    rows.push_back(r);
  }
  // A single cap of another model: no curve.
  RunRow other = Row(300, 500, 50, 30);
  other.model = "lenet";
  rows.push_back(other);
  auto pc = AnalyzePowerCaps(rows, EnergyBasis::kTotal);
  // Two GPU curves (one per CPU limit), then the CPU limit as an axis: two
  // values (65, 95) at each of the five GPU caps.
  ASSERT_EQ(pc.curves.size(), 2u + 5u);
  EXPECT_EQ(pc.curves[0].knob, "gpu_power_limit_w");
  EXPECT_EQ(pc.curves[0].held, "cpu_power_limit_w=65");
  EXPECT_EQ(pc.curves[1].held, "cpu_power_limit_w=95");
  for (size_t i = 2; i < pc.curves.size(); ++i) {
    EXPECT_EQ(pc.curves[i].knob, "cpu_power_limit_w");
    EXPECT_EQ(pc.curves[i].model, "resnet18");
    EXPECT_EQ(pc.curves[i].points.size(), 2u);
  }
}

TEST(PowerCapsTest, NothingSweptSaysSo) {
  std::vector<RunRow> rows = {Row(300, 900, 100, 1), Row(300, 950, 100, 2)};
  rows[1].gpu_power_limit_w.reset();
  auto pc = AnalyzePowerCaps(rows, EnergyBasis::kTotal);
  EXPECT_TRUE(pc.curves.empty());
  EXPECT_NE(pc.note.find("no power cap or clock was swept"), std::string::npos);
}

TEST(PowerCapsTest, CsvRoundTripKeepsTheCaps) {
  auto rows = FiveCaps();
  rows[0].cpu_max_freq_mhz = 2400;
  auto back = ReadRunsCsv(RunRowsToCsv(rows));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 5u);
  EXPECT_EQ((*back)[0].gpu_power_limit_w, 100);
  EXPECT_EQ((*back)[0].cpu_power_limit_w, 95);
  EXPECT_EQ((*back)[0].cpu_max_freq_mhz, 2400);
  EXPECT_FALSE((*back)[1].cpu_max_freq_mhz.has_value());
  AnalysisOptions o;
  o.energy = EnergyBasis::kTotal;
  o.max_slowdown = 0.9;
  EXPECT_FALSE(Analyze(*back, o).ok());  // a slowdown below 1 is refused
}

}  // namespace
}  // namespace wattlab::analysis
