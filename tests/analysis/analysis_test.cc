// Tests for src/analysis: every statistic against independent values
// (hand-worked cases and scipy references in tests/fixtures/analysis/,
// produced by make_reference.py there), plus the analyses on synthetic data
// whose true law is known.
#include "analysis/analysis.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "analysis/stats.h"
#include "core/strings.h"

namespace wattlab::analysis {
namespace {

using nlohmann::json;

json LoadReference() {
  std::ifstream in(std::string(WATTLAB_FIXTURES) + "/analysis/reference.json");
  EXPECT_TRUE(in.good()) << "missing tests/fixtures/analysis/reference.json";
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

std::vector<double> Vec(const json& j) {
  std::vector<double> v;
  for (const auto& x : j) v.push_back(x.get<double>());
  return v;
}

// ---- statistics -------------------------------------------------------------

TEST(Stats, AverageRanksHandWorked) {
  EXPECT_EQ(AverageRanks({10, 20, 20, 30}), (std::vector<double>{1, 2.5, 2.5, 4}));
  EXPECT_EQ(AverageRanks({5, 5, 5}), (std::vector<double>{2, 2, 2}));
  EXPECT_EQ(AverageRanks({3, 1, 2}), (std::vector<double>{3, 1, 2}));
}

TEST(Stats, PearsonHandWorked) {
  // dx = -2..2, dy = (-2,0,1,0,1): sxy = 6, sxx = 10, syy = 6 -> r = 6/sqrt(60).
  auto r = Pearson({1, 2, 3, 4, 5}, {2, 4, 5, 4, 5});
  ASSERT_TRUE(r);
  EXPECT_NEAR(*r, 6 / std::sqrt(60.0), 1e-14);
}

TEST(Stats, SpearmanWithTiesHandWorked) {
  // Ranks x: 1, 2.5, 2.5, 4; y: 1, 2, 3, 4 -> Pearson of ranks.
  // mean 2.5; dx = -1.5,0,0,1.5; dy = -1.5,-.5,.5,1.5: sxy = 4.5, sxx = 4.5, syy = 5.
  auto r = Spearman({1, 2, 2, 3}, {10, 20, 30, 40});
  ASSERT_TRUE(r);
  EXPECT_NEAR(*r, 4.5 / std::sqrt(4.5 * 5), 1e-14);
}

TEST(Stats, CorrelationsMatchScipy) {
  const json ref = LoadReference();
  ASSERT_GE(ref["correlations"].size(), 5u);
  for (const auto& c : ref["correlations"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    auto x = Vec(c["x"]), y = Vec(c["y"]);
    EXPECT_EQ(AverageRanks(x), Vec(c["rank_x"]));
    auto p = Pearson(x, y);
    auto s = Spearman(x, y);
    ASSERT_TRUE(p && s);
    EXPECT_NEAR(*p, c["pearson"].get<double>(), 1e-12);
    EXPECT_NEAR(*s, c["spearman"].get<double>(), 1e-12);
    auto pp = CorrelationPValue(*p, static_cast<int64_t>(x.size()));
    auto sp = CorrelationPValue(*s, static_cast<int64_t>(x.size()));
    ASSERT_TRUE(pp && sp);
    const double want_pp = c["pearson_p"].get<double>(), want_sp = c["spearman_p"].get<double>();
    EXPECT_NEAR(*pp, want_pp, 1e-9 + 1e-7 * want_pp);
    EXPECT_NEAR(*sp, want_sp, 1e-9 + 1e-7 * want_sp);
  }
}

TEST(Stats, StudentTMatchesScipy) {
  const json ref = LoadReference();
  for (const auto& t : ref["t_sf2"])
    EXPECT_NEAR(StudentTTwoSidedP(t["t"], t["dof"]), t["p"].get<double>(), 1e-12) << t.dump();
  for (const auto& t : ref["t_ppf"])
    EXPECT_NEAR(StudentTQuantile(t["p"], t["dof"]), t["q"].get<double>(), 1e-8) << t.dump();
  // Hand-worked: with 1 dof, t is Cauchy: P(|T| > 1) = 0.5.
  EXPECT_NEAR(StudentTTwoSidedP(1.0, 1.0), 0.5, 1e-14);
  EXPECT_EQ(StudentTTwoSidedP(INFINITY, 4), 0);
  EXPECT_TRUE(std::isnan(StudentTTwoSidedP(1.0, 0)));  // no dof: undefined, not an exception
  EXPECT_TRUE(std::isnan(StudentTQuantile(0.975, -1)));
}

TEST(Stats, FDistributionMatchesScipyAndClosedForms) {
  // F(1, d) is t(d) squared: P(F > t^2) is scipy's two-sided t p-value.
  const json ref = LoadReference();
  for (const auto& t : ref["t_sf2"]) {
    const double tv = t["t"].get<double>();
    if (tv == 0) continue;
    EXPECT_NEAR(FUpperTailP(tv * tv, 1, t["dof"]), t["p"].get<double>(), 1e-12) << t.dump();
  }
  // F(2, d): P(F > f) = (1 + 2 f / d)^(-d/2) exactly.
  for (double d : {3.0, 7.0, 20.0})
    for (double f : {0.5, 1.0, 4.0, 12.0})
      EXPECT_NEAR(FUpperTailP(f, 2, d), std::pow(1 + 2 * f / d, -d / 2), 1e-14) << f << " " << d;
  EXPECT_EQ(FUpperTailP(0, 3, 5), 1);
  EXPECT_EQ(FUpperTailP(INFINITY, 3, 5), 0);
  EXPECT_TRUE(std::isnan(FUpperTailP(1, 0, 5)));
}

TEST(Stats, NormalQuantileAndFisherMatchScipy) {
  const json ref = LoadReference();
  for (const auto& n : ref["norm_ppf"])
    EXPECT_NEAR(NormalQuantile(n["p"]), n["q"].get<double>(), 1e-12) << n.dump();
  for (const auto& f : ref["fisher"]) {
    auto ci = FisherZInterval(f["r"], f["n"]);
    ASSERT_TRUE(ci);
    EXPECT_NEAR(ci->first, f["low"].get<double>(), 1e-12);
    EXPECT_NEAR(ci->second, f["high"].get<double>(), 1e-12);
  }
  EXPECT_FALSE(FisherZInterval(0.5, 3));
  EXPECT_FALSE(FisherZInterval(1.0, 10));
}

TEST(Stats, LeastSquaresMatchesNumpy) {
  const json o = LoadReference()["ols"][0];
  std::vector<std::vector<double>> x;
  for (const auto& row : o["x"]) x.push_back(Vec(row));
  auto fit = LeastSquares(x, Vec(o["y"]));
  ASSERT_TRUE(fit);
  auto beta = Vec(o["beta"]);
  for (size_t i = 0; i < beta.size(); ++i) EXPECT_NEAR(fit->beta[i], beta[i], 1e-10);
  EXPECT_NEAR(fit->sse, o["sse"].get<double>(), 1e-10);
  EXPECT_NEAR(fit->r2, o["r2"].get<double>(), 1e-12);
  for (size_t a = 0; a < 3; ++a)
    for (size_t b = 0; b < 3; ++b)
      EXPECT_NEAR(fit->xtx_inverse[a][b], o["xtx_inv"][a][b].get<double>(), 1e-10);
  EXPECT_EQ(fit->dof, 12 - 3);
  // Overall F test from numpy's R²: F = R²/(1-R²) x dof/k, and with k = 2
  // P(F > f) = (1 + 2f/dof)^(-dof/2).
  const double r2 = o["r2"].get<double>(), dof = 9, f = r2 / (1 - r2) * dof / 2;
  ASSERT_TRUE(fit->f_statistic && fit->f_p);
  EXPECT_NEAR(*fit->f_statistic, f, 1e-8 * f);
  EXPECT_NEAR(*fit->f_p, std::pow(1 + 2 * f / dof, -dof / 2), 1e-12);
}

// Hand-worked: unconstrained least squares of y = 2 x0 - 1 x1 would give a
// negative x1; NNLS drops it and fits x0 alone (x0 = sum(a0 b) / sum(a0^2)).
TEST(Stats, NonNegativeLeastSquaresHandWorked) {
  const std::vector<std::vector<double>> a = {{1, 1}, {2, 1}, {3, 1}, {4, 1}};
  const std::vector<double> b = {1, 3, 5, 7};  // 2 x0 - 1 x1 exactly
  auto x = NonNegativeLeastSquares(a, b);
  ASSERT_TRUE(x.has_value());
  EXPECT_NEAR((*x)[1], 0, 1e-12);
  EXPECT_NEAR((*x)[0], (1 + 6 + 15 + 28) / 30.0, 1e-12);
  // Both positive: the ordinary solution.
  auto y = NonNegativeLeastSquares(a, {3, 5, 7, 9});  // 2 x0 + 1 x1
  ASSERT_TRUE(y.has_value());
  EXPECT_NEAR((*y)[0], 2, 1e-12);
  EXPECT_NEAR((*y)[1], 1, 1e-12);
  // Every column pointing the wrong way: all zero.
  auto z = NonNegativeLeastSquares(a, {-1, -2, -3, -4});
  ASSERT_TRUE(z.has_value());
  EXPECT_EQ(*z, (std::vector<double>{0, 0}));
  EXPECT_FALSE(NonNegativeLeastSquares({{1, 2}}, {1, 2}).has_value());  // shapes disagree
  EXPECT_FALSE(NonNegativeLeastSquares({{1, std::nan("")}}, {1}).has_value());
}

TEST(Stats, DegenerateInputsGiveNoValue) {
  EXPECT_FALSE(Pearson({1, 2}, {3, 4}));               // n < 3
  EXPECT_FALSE(Pearson({1, 1, 1, 1}, {1, 2, 3, 4}));   // constant x
  EXPECT_FALSE(Spearman({1, 2, 3, 4}, {7, 7, 7, 7}));  // constant y
  EXPECT_FALSE(Pearson({1, NAN, 3}, {1, 2, 3}));       // NaN
  EXPECT_FALSE(Pearson({1, 2, INFINITY}, {1, 2, 3}));
  EXPECT_FALSE(CorrelationPValue(0.5, 2));
  EXPECT_FALSE(LeastSquares({{1}, {1}, {1}}, {1, 2, 3}));  // singular (constant feature)
  EXPECT_FALSE(LeastSquares({{1}}, {1}));                  // n <= k
  auto exact = LeastSquares({{1}, {2}}, {1, 3});           // saturated: exact, no dof
  ASSERT_TRUE(exact);
  EXPECT_EQ(exact->dof, 0);
  EXPECT_NEAR(exact->beta[1], 2.0, 1e-12);
  EXPECT_EQ(*CorrelationPValue(1.0, 5), 0.0);
  // Tiny but varying values are not constant; a constant with round-off is.
  auto tiny = Pearson({1e-15, 2e-15, 3e-15, 4e-15}, {1, 2, 3, 5});
  ASSERT_TRUE(tiny);
  EXPECT_GT(*tiny, 0.9);
  EXPECT_FALSE(Pearson({0.1 + 0.2, 0.3, 0.3000000000000001, 0.3}, {1, 2, 3, 4}));
}

// ---- synthetic studies --------------------------------------------------------

struct Model {
  std::string name;
  int64_t params, macs;
};
const std::vector<Model> kModels = {{"lenet", 62006, 658000},
                                    {"resnet18", 11173962, 556000000},
                                    {"mobilenetv2", 2296922, 98000000},
                                    {"vgg16", 14728266, 313000000},
                                    {"simpledla", 15142970, 914000000},
                                    {"shufflenetv2", 1263854, 45000000},
                                    {"densenet121", 6956298, 898000000},
                                    {"googlenet", 6166250, 1530000000}};

// True law: energy per sample = 3e-9 x macs^0.8 x macs_per_param^0.3 (J).
double TrueEps(const Model& m) {
  const double mpp = static_cast<double>(m.macs) / m.params;
  return 3e-9 * std::pow(static_cast<double>(m.macs), 0.8) * std::pow(mpp, 0.3);
}

RunRow MakeRow(const Model& m, const std::string& phase, double eps, int64_t samples, int64_t rep = 0,
               int64_t batch = 128, double acc = 0.8) {
  static int64_t id = 0;
  RunRow r;
  r.run_id = ++id;
  r.config_id = m.name + "-" + phase + "-b" + std::to_string(batch);
  r.repetition = rep;
  r.model = m.name;
  r.phase = phase;
  r.window = "full";
  r.batch_size = batch;
  r.threads = 2;
  r.precision = "fp32";
  r.params = m.params;
  r.macs = m.macs;
  r.macs_per_param = static_cast<double>(m.macs) / m.params;
  r.samples = samples;
  r.duration_s = eps * samples / 50.0;  // 50 W above idle
  r.energy_above_idle_j = eps * samples;
  r.energy_j = eps * samples * 1.5;
  r.source = "rapl-powercap";
  r.accuracy = acc;
  return r;
}

std::vector<RunRow> SyntheticStudy(size_t n_models = kModels.size()) {
  std::vector<RunRow> rows;
  for (size_t i = 0; i < n_models; ++i) {
    const Model& m = kModels[i];
    const double acc = 0.70 + 0.02 * static_cast<double>(i);
    rows.push_back(MakeRow(m, "infer", TrueEps(m), 1000, 0, 128, acc));
    rows.push_back(MakeRow(m, "train", 3 * TrueEps(m), 60000, 0, 128, acc));
  }
  return rows;
}

TEST(Aggregate, RepetitionsAveragedWithSpread) {
  const Model& m = kModels[0];
  std::vector<RunRow> rows = {MakeRow(m, "infer", 1.0, 100, 0), MakeRow(m, "infer", 3.0, 100, 1)};
  auto cfg = AggregateConfigs(rows, EnergyBasis::kAboveIdle);
  ASSERT_EQ(cfg.size(), 1u);
  EXPECT_DOUBLE_EQ(cfg[0].energy_per_sample_j, 2.0);
  EXPECT_NEAR(cfg[0].energy_per_sample_sd_j, std::sqrt(2.0), 1e-12);
  EXPECT_EQ(cfg[0].repetitions, 2);
  // --energy total uses energy_j (1.5x in this fixture).
  auto tot = AggregateConfigs(rows, EnergyBasis::kTotal);
  EXPECT_DOUBLE_EQ(tot[0].energy_per_sample_j, 3.0);
}

TEST(Aggregate, ZeroEnergyAndMissingIdleAreDroppedWithReasons) {
  const Model& m = kModels[0];
  std::vector<RunRow> rows = {MakeRow(m, "infer", 1.0, 100), MakeRow(m, "infer", 0.0, 100, 1),
                              MakeRow(m, "infer", 1.0, 100, 2)};
  rows[2].energy_above_idle_j.reset();
  std::vector<std::string> why;
  auto cfg = AggregateConfigs(rows, EnergyBasis::kAboveIdle, &why);
  ASSERT_EQ(cfg.size(), 1u);
  EXPECT_EQ(cfg[0].repetitions, 1);
  ASSERT_EQ(why.size(), 2u);
  EXPECT_NE((why[0] + why[1]).find("zero, negative"), std::string::npos);
  EXPECT_NE((why[0] + why[1]).find("--energy total"), std::string::npos);
}

TEST(Correlations, ReportsPerPhaseWithPointsAndNotes) {
  auto cfg = AggregateConfigs(SyntheticStudy(), EnergyBasis::kAboveIdle);
  auto corr = Correlations(cfg, "");
  ASSERT_EQ(corr.size(), 14u);  // 2 phases x 7 columns
  int found = 0;
  for (const auto& c : corr) {
    if (c.x == "macs" && c.phase == "infer") {
      ++found;
      EXPECT_EQ(c.n, 8);
      ASSERT_TRUE(c.spearman && c.pearson_ci_low && c.spearman_p);
      EXPECT_EQ(c.points.size(), 8u);
    }
    if (c.x == "batch_size") {  // constant here
      EXPECT_FALSE(c.pearson);
      EXPECT_NE(c.note.find("constant"), std::string::npos);
    }
    if (c.x == "cpu_util") {
      EXPECT_EQ(c.n, 0);
      EXPECT_NE(c.note.find("at least 3"), std::string::npos);
    }
  }
  EXPECT_EQ(found, 1);
}

TEST(TrainVsInfer, RatioAndCorrelation) {
  auto t = CompareTrainInfer(AggregateConfigs(SyntheticStudy(), EnergyBasis::kAboveIdle));
  EXPECT_EQ(t.n_models, 8);
  ASSERT_TRUE(t.median_energy_ratio && t.energy_spearman);
  EXPECT_NEAR(*t.median_energy_ratio, 3.0, 1e-12);
  EXPECT_NEAR(*t.median_time_ratio, 3.0, 1e-12);
  EXPECT_NEAR(*t.energy_spearman, 1.0, 1e-12);
}

TEST(Predictor, LomoRecoversKnownLawAndSelectsItsFeatures) {
  auto cfg = AggregateConfigs(SyntheticStudy(), EnergyBasis::kAboveIdle);
  auto preds = ComparePredictors(cfg, "infer");
  ASSERT_EQ(preds.size(), 1u);
  const auto& p = preds[0];
  EXPECT_EQ(p.selected, "macs+macs_per_param");
  for (const auto& s : p.sets) {
    if (s.set.name == "macs+macs_per_param") {
      ASSERT_TRUE(s.mape_pct && s.r2);
      EXPECT_LT(*s.mape_pct, 1e-6);
      EXPECT_NEAR(*s.r2, 1.0, 1e-12);
      ASSERT_EQ(s.coefficients.size(), 3u);
      EXPECT_NEAR(s.coefficients[0], std::log(3e-9), 1e-7);
      EXPECT_NEAR(s.coefficients[1], 0.8, 1e-9);
      EXPECT_NEAR(s.coefficients[2], 0.3, 1e-9);
      EXPECT_EQ(s.points.size(), 8u);
    }
    if (s.set.name == "params") {
      ASSERT_TRUE(s.mape_pct);
      EXPECT_GT(*s.mape_pct, 1.0);  // params alone cannot express the law
    }
    if (s.set.name == "macs+macs_per_param+batch_size+threads") {
      EXPECT_FALSE(s.mape_pct);  // batch and threads constant: singular
      EXPECT_FALSE(s.note.empty());
    }
  }
  ASSERT_TRUE(p.nested_mape_pct);
  EXPECT_LT(*p.nested_mape_pct, 1e-6);
  ASSERT_EQ(p.nested_points.size(), 8u);
  for (const auto& np : p.nested_points) EXPECT_EQ(np.chosen_set, "macs+macs_per_param");
}

TEST(Predictor, NestedErrorIsHonestWhenSelectionIsLucky) {
  // Energy is noise around a constant: whichever set wins on all data wins by
  // chance; nested CV must report an error at least as large as the winner's
  // in-sample LOMO error in general, and never NaN.
  auto rows = SyntheticStudy();
  const double noise[] = {1.3, 0.7, 1.1, 0.9, 1.4, 0.6, 1.2, 0.8};
  for (size_t i = 0; i < rows.size(); ++i)
    *rows[i].energy_above_idle_j = 1.0 * noise[(i / 2) % 8] * rows[i].samples;
  auto p = ComparePredictors(AggregateConfigs(rows, EnergyBasis::kAboveIdle), "infer")[0];
  ASSERT_TRUE(p.nested_mape_pct);
  double best = 1e300;
  for (const auto& s : p.sets)
    if (s.mape_pct) best = std::min(best, *s.mape_pct);
  EXPECT_GE(*p.nested_mape_pct, best - 1e-9);
  std::set<std::string> chosen;
  for (const auto& np : p.nested_points) chosen.insert(np.chosen_set);
  EXPECT_FALSE(chosen.empty());
}

TEST(Predictor, TooFewModelsSaysHowMany) {
  auto p = ComparePredictors(AggregateConfigs(SyntheticStudy(2), EnergyBasis::kAboveIdle), "infer")[0];
  EXPECT_TRUE(p.selected.empty());
  EXPECT_FALSE(p.nested_mape_pct);
  EXPECT_NE(p.note.find("at least 3"), std::string::npos);
}

// Issue 15: a command sweep's program without params/macs (0 = unknown)
// is left out of the predictor and of the count correlations, with a note;
// the fit over the other models is the one it would be without it.
TEST(Predictor, RowsWithoutCountsAreLeftOutWithANote) {
  auto rows = SyntheticStudy();
  const auto clean = ComparePredictors(AggregateConfigs(rows, EnergyBasis::kAboveIdle), "infer")[0];
  for (int64_t b : {32, 64, 128}) {
    RunRow r = MakeRow({"my script", 0, 0}, "infer", 0.5, 1000, 0, b);
    r.macs_per_param = 0;
    r.config_id = "script-b" + std::to_string(b);
    rows.push_back(r);
  }
  auto cfg = AggregateConfigs(rows, EnergyBasis::kAboveIdle);
  const auto p = ComparePredictors(cfg, "infer")[0];
  EXPECT_EQ(p.selected, clean.selected);
  ASSERT_TRUE(p.nested_mape_pct && clean.nested_mape_pct);
  EXPECT_DOUBLE_EQ(*p.nested_mape_pct, *clean.nested_mape_pct);
  EXPECT_NE(p.note.find("left out for want of params and MACs: my script"), std::string::npos) << p.note;
  for (const auto& c : Correlations(cfg, "infer")) {
    if (c.x != "macs" && c.x != "params" && c.x != "macs_per_param") continue;
    EXPECT_EQ(c.n, 8) << c.x;
    EXPECT_NE(c.note.find("3 configuration(s) have no " + c.x), std::string::npos) << c.note;
  }
  PredictRequest req;
  req.facts.name = "resnet34-ish";
  req.facts.params = 21282122;
  req.facts.macs = 1160000000;
  req.facts.macs_per_param = 1160000000.0 / 21282122;
  req.phase = "infer";
  auto pred = PredictEnergy(rows, req);
  ASSERT_TRUE(pred.ok()) << pred.status().ToString();
  EXPECT_NE(pred->note.find("left out for want of params and MACs"), std::string::npos) << pred->note;
}

TEST(Predict, PureFunctionWithIntervalAndRefusals) {
  auto rows = SyntheticStudy();
  // Make the log-space residuals non-zero so the interval has width.
  const double wobble[] = {1.05, 0.95, 1.02, 0.98, 1.04, 0.97, 1.01, 0.99};
  for (size_t i = 0; i < rows.size(); ++i) *rows[i].energy_above_idle_j *= wobble[(i / 2) % 8];
  PredictRequest req;
  req.facts.name = "resnet34-ish";
  req.facts.params = 21282122;
  req.facts.macs = 1160000000;
  req.facts.macs_per_param = 1160000000.0 / 21282122;
  req.phase = "infer";
  req.samples = 10000;
  auto p = PredictEnergy(rows, req);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  Model truth{"x", req.facts.params, req.facts.macs};
  EXPECT_NEAR(p->energy_per_sample_j, TrueEps(truth), 0.15 * TrueEps(truth));
  EXPECT_LT(p->energy_per_sample_low_j, p->energy_per_sample_j);
  EXPECT_GT(p->energy_per_sample_high_j, p->energy_per_sample_j);
  ASSERT_TRUE(p->energy_j && p->cv_mape_pct && p->duration_s);
  EXPECT_NEAR(*p->energy_j, p->energy_per_sample_j * 10000, 1e-9 * *p->energy_j);
  EXPECT_EQ(p->batch_size, 128);
  EXPECT_EQ(ToJson(*p)["energy_per_sample_pi95_j"].size(), 2u);

  // Far outside the measured MACs.
  PredictRequest far = req;
  far.facts.macs = 400000000000;
  far.facts.macs_per_param = far.facts.macs / static_cast<double>(far.facts.params);
  auto f = PredictEnergy(rows, far);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().kind(), Status::Kind::kFailedPrecondition);
  EXPECT_NE(f.status().message().find("outside the measured range"), std::string::npos);

  // Too few models.
  auto few = PredictEnergy(SyntheticStudy(3), req);
  ASSERT_FALSE(few.ok());
  EXPECT_NE(few.status().message().find("at least 4"), std::string::npos);
  EXPECT_NE(few.status().message().find("input has 3"), std::string::npos);
}

TEST(Predict, DatasetSizes) {
  EXPECT_EQ(*DatasetTrainSamples("fashion-mnist"), 60000);
  EXPECT_EQ(*DatasetTrainSamples("cifar10"), 50000);
  EXPECT_FALSE(DatasetTrainSamples("imagenet-22k").ok());
}

TEST(Extrapolation, PairsProfileWithFullRun) {
  const Model& m = kModels[1];
  RunRow full = MakeRow(m, "train", 2.0, 60000);
  full.config_id = "c1";
  RunRow prof = full;
  prof.window = "profile";
  prof.samples = 600;
  prof.energy_j = full.energy_j / 100;
  prof.energy_above_idle_j = *full.energy_above_idle_j / 100;
  prof.extrapolated_energy_j = full.energy_j * 1.1;  // scaled energy_j: +10% error
  auto ex = CheckExtrapolation({full, prof});
  ASSERT_EQ(ex.n, 1);
  EXPECT_NEAR(ex.points[0].error_pct, 10.0, 1e-9);
  EXPECT_NEAR(*ex.median_abs_error_pct, 10.0, 1e-9);
  // The same profile scaled from above-idle energy is compared with above-idle.
  prof.extrapolated_energy_j = *full.energy_above_idle_j * 0.95;
  ex = CheckExtrapolation({full, prof});
  ASSERT_EQ(ex.n, 1);
  EXPECT_NEAR(ex.points[0].error_pct, -5.0, 1e-9);
  // No matching full run.
  prof.config_id = "other";
  ex = CheckExtrapolation({full, prof});
  EXPECT_EQ(ex.n, 0);
  EXPECT_FALSE(ex.mean_abs_error_pct);
  EXPECT_NE(ex.note.find("no window=full"), std::string::npos);
}

TEST(Tradeoffs, ParetoFrontAndRecommendation) {
  // (accuracy, energy): a (0.90, 10) b (0.88, 4) c (0.85, 5) d (0.80, 1) e (0.90, 12)
  std::vector<RunRow> rows;
  const double acc[] = {0.90, 0.88, 0.85, 0.80, 0.90};
  const double eps[] = {10, 4, 5, 1, 12};
  for (int i = 0; i < 5; ++i) rows.push_back(MakeRow(kModels[i], "infer", eps[i], 100, 0, 128, acc[i]));
  auto par = ParetoAndBatches(AggregateConfigs(rows, EnergyBasis::kAboveIdle), "");
  ASSERT_EQ(par.points.size(), 5u);
  const bool want[] = {true, true, false, true, false};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(par.points[i].on_front, want[i]) << i;
  auto rec = Recommend(par, 0.86, std::nullopt);
  ASSERT_EQ(rec.items.size(), 1u);
  EXPECT_EQ(rec.items[0].model, kModels[1].name);
  EXPECT_EQ(rec.items[0].baseline_model, kModels[0].name);  // most accurate, cheaper of the tie
  EXPECT_NEAR(rec.items[0].energy_saved_pct, 60.0, 1e-9);
  EXPECT_NEAR(rec.items[0].accuracy_lost, 0.02, 1e-12);
  auto none = Recommend(par, 0.95, std::nullopt);
  EXPECT_TRUE(none.items.empty());
  EXPECT_NE(none.note.find("no configuration meets"), std::string::npos);
  auto capped = Recommend(par, std::nullopt, 0.5);
  EXPECT_TRUE(capped.items.empty());
}

TEST(Tradeoffs, EnergyOptimalBatch) {
  const Model& m = kModels[0];
  std::vector<RunRow> rows;
  const int64_t batches[] = {4, 16, 64, 256};
  const double eps[] = {5.0, 2.0, 1.5, 1.8};
  for (int i = 0; i < 4; ++i) rows.push_back(MakeRow(m, "infer", eps[i], 100, 0, batches[i]));
  auto par = ParetoAndBatches(AggregateConfigs(rows, EnergyBasis::kAboveIdle), "infer");
  ASSERT_EQ(par.optimal_batch.size(), 1u);
  EXPECT_EQ(par.optimal_batch[0].best_batch_size, 64);
  EXPECT_DOUBLE_EQ(par.optimal_batch[0].best_energy_per_sample_j, 1.5);
  ASSERT_EQ(par.optimal_batch[0].series.size(), 4u);
  EXPECT_EQ(par.optimal_batch[0].series[0].batch_size, 4);
}

TEST(Lifecycle, BreakEvenArithmetic) {
  EXPECT_NEAR(*BreakEvenInferences(1000, 0.01), 100000, 1e-6);
  EXPECT_FALSE(BreakEvenInferences(1000, 0));
  EXPECT_FALSE(BreakEvenInferences(NAN, 1));
  // Training 60000 samples x 3 J = 180000 J; inference 1 J/sample.
  const Model& m = kModels[0];
  std::vector<RunRow> rows = {MakeRow(m, "train", 3.0, 60000), MakeRow(m, "infer", 1.0, 1000)};
  auto cfg = AggregateConfigs(rows, EnergyBasis::kAboveIdle);
  auto lc = ComputeLifecycle(rows, cfg, 540000.0, EnergyBasis::kAboveIdle);
  ASSERT_EQ(lc.models.size(), 1u);
  const auto& x = lc.models[0];
  EXPECT_DOUBLE_EQ(x.training_energy_j, 180000);
  EXPECT_DOUBLE_EQ(*x.break_even_n, 180000);
  EXPECT_DOUBLE_EQ(*x.total_j, 720000);
  EXPECT_DOUBLE_EQ(*x.training_share, 0.25);
  EXPECT_DOUBLE_EQ(*x.inference_share, 0.75);
  ASSERT_EQ(x.series.size(), 21u);
  EXPECT_DOUBLE_EQ(x.series.back().inferences, 540000);
}

TEST(Lifecycle, ProfileOnlyTrainingStandsForItsFullLength) {
  // The study's default: training measured by a profile only, extrapolated.
  const Model& m = kModels[0];
  RunRow prof = MakeRow(m, "train", 0.1, 600);  // 60 J above idle, 90 J total
  prof.window = "profile";
  prof.extrapolated_energy_j = prof.energy_j * 100;  // full length = 60000 samples
  std::vector<RunRow> rows = {prof, MakeRow(m, "infer", 0.01, 1000)};
  auto cfg = AggregateConfigs(rows, EnergyBasis::kAboveIdle);
  ASSERT_EQ(cfg.size(), 2u);
  EXPECT_EQ(cfg[0].window, "profile");
  EXPECT_NEAR(*cfg[0].full_length_samples, 60000, 1e-6);
  auto lc = ComputeLifecycle(rows, cfg, std::nullopt, EnergyBasis::kAboveIdle);
  ASSERT_EQ(lc.models.size(), 1u);
  EXPECT_NEAR(lc.models[0].training_energy_j, 6000, 1e-6);
  EXPECT_NEAR(*lc.models[0].break_even_n, 600000, 1e-3);
  // With a full window present the profile is not counted as a configuration.
  RunRow full = MakeRow(m, "train", 0.2, 60000);
  full.config_id = prof.config_id;
  rows.push_back(full);
  cfg = AggregateConfigs(rows, EnergyBasis::kAboveIdle);
  ASSERT_EQ(cfg.size(), 2u);
  EXPECT_EQ(cfg[0].window, "full");
  EXPECT_DOUBLE_EQ(cfg[0].energy_per_sample_j, 0.2);
}

TEST(Carbon, Arithmetic) {
  AnalysisOptions o;
  auto c = ComputeCarbon(3.6e6, o, "x");  // 1 kWh
  ASSERT_TRUE(c.ok());
  EXPECT_DOUBLE_EQ(c->energy_kwh, 1.0);
  EXPECT_DOUBLE_EQ(c->gco2e, 475.0);
  o.pue = 1.58;
  o.intensity_g_per_kwh = 100;
  EXPECT_NEAR(ComputeCarbon(7.2e6, o, "x")->gco2e, 2 * 100 * 1.58, 1e-9);
  o.intensity_g_per_kwh.reset();
  o.region = "fr";
  auto fr = ComputeCarbon(3.6e6, o, "x");
  ASSERT_TRUE(fr.ok());
  EXPECT_EQ(fr->region, "FR");
  EXPECT_NEAR(fr->gco2e, 56 * 1.58, 1e-9);
  EXPECT_NE(fr->intensity_source.find("2023"), std::string::npos);
  o.region = "XX";
  auto bad = ComputeCarbon(1, o, "x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("known: WORLD"), std::string::npos);
  o.region.clear();
  o.pue = 0.9;
  EXPECT_EQ(ComputeCarbon(1, o, "x").status().kind(), Status::Kind::kInvalidArgument);
  for (const auto& r : CarbonRegions()) {
    EXPECT_GT(r.intensity_g_per_kwh, 0);
    EXPECT_GE(r.year, 2020);
    EXPECT_NE(std::string(r.source), "");
  }
}

// ---- CSV ----------------------------------------------------------------------

// The export's header before idle_busy (schema v3) and before the caps
// columns (v4) and omp_wait_policy (v5): files written then must still read.
std::string Header(bool with_idle_busy = false) {
  std::string h;
  for (const auto& c : RunRowColumns()) {
    if (c == "idle_busy" && !with_idle_busy) break;
    h += (h.empty() ? "" : ",") + c;
    if (c == "idle_busy") break;
  }
  return h + "\n";
}

TEST(Csv, ReadsIdleBusySoAutoChoosesTheSameBasisAsFromTheDatabase) {
  std::string h = Header(true);
  h.pop_back();
  const std::string text =
      h + "\n" +
      "s,1,c1,0,lenet,infer,full,128,2,fp32,62006,658000,10.61,,1000,2.5,100,40,,0.93,estimate,true,0.81,"
      "true\n"
      "s,2,c2,0,lenet,infer,full,64,2,fp32,62006,658000,10.61,,1000,2.5,100,40,,0.93,estimate,true,0.81,\n";
  auto rows = ReadRunsCsv(text);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ((*rows)[0].idle_busy, std::optional<bool>(true));
  EXPECT_FALSE((*rows)[1].idle_busy.has_value());
  EXPECT_EQ(ChooseEnergyBasis(EnergyBasisRequest::kAuto, *rows).basis, EnergyBasis::kTotal);
  auto bad = ReadRunsCsv(h +
                         "\ns,1,c1,0,lenet,infer,full,128,2,fp32,62006,658000,10.61,,1000,2.5,100,40,,0.93,"
                         "estimate,true,0.81,maybe\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("column idle_busy"), std::string::npos) << bad.status().message();
}

TEST(Csv, ReadsOmpWaitPolicy) {
  std::string h;
  for (const auto& c : RunRowColumns()) h += (h.empty() ? "" : ",") + c;
  const std::string text =
      h + "\n" +
      "s,1,c1,0,lenet,infer,full,128,2,fp32,62006,658000,10.61,,1000,2.5,100,40,,0.93,estimate,true,0.81,,,,,"
      "Passive\n"
      "s,2,c2,0,lenet,infer,full,64,2,fp32,62006,658000,10.61,,1000,2.5,100,40,,0.93,estimate,true,0.81,,,,,"
      "\n";
  auto rows = ReadRunsCsv(text);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ((*rows)[0].omp_wait_policy, "passive");
  EXPECT_EQ((*rows)[1].omp_wait_policy, "");
}

TEST(Csv, ReadsExportColumns) {
  const std::string text =
      Header() +
      "s,1,c1,0,lenet,infer,full,128,2,fp32,62006,658000,10.61,,1000,2.5,100,40,,0.93,estimate,true,0.81\n"
      "s,2,c2,0,lenet,train,full,128,2,fp32,62006,658000,10.61,50,6400,9.5,300,120,,,estimate,false,\n";
  auto rows = ReadRunsCsv(text);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  const auto& r = (*rows)[0];
  EXPECT_EQ(r.run_id, 1);
  EXPECT_EQ(r.config_id, "c1");
  EXPECT_EQ(r.batch_size, 128);
  EXPECT_FALSE(r.steps);
  EXPECT_DOUBLE_EQ(*r.energy_above_idle_j, 40);
  EXPECT_FALSE(r.extrapolated_energy_j);
  EXPECT_DOUBLE_EQ(*r.cpu_util, 0.93);
  EXPECT_TRUE(r.estimated);
  EXPECT_DOUBLE_EQ(*r.accuracy, 0.81);
  EXPECT_EQ(*(*rows)[1].steps, 50);
  EXPECT_FALSE((*rows)[1].accuracy);
  EXPECT_FALSE((*rows)[1].estimated);
}

TEST(Csv, MinimalColumnsSuffice) {
  auto rows = ReadRunsCsv(
      "run_id,model,phase,batch_size,threads,precision,params,macs,macs_per_param,samples,duration_s,energy_"
      "j,"
      "energy_above_idle_j,source,estimated,accuracy\n1,a,infer,1,1,fp32,10,100,10,5,1,2,1,nvml,false,\n");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ((*rows)[0].window, "");
}

TEST(Csv, ErrorsNameLineAndColumn) {
  auto missing = ReadRunsCsv("run_id,model\n1,a\n");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("line 1"), std::string::npos);
  EXPECT_NE(missing.status().message().find("energy_above_idle_j"), std::string::npos);

  std::string bad = Header() +
                    "s,1,c1,0,lenet,infer,full,128,2,fp32,62006,658000,10.61,,1000,2.5,100,40,,,x,false,\n"
                    "s,2,c1,0,lenet,infer,full,12x8,2,fp32,62006,658000,10.61,,1000,2.5,100,40,,,x,false,\n";
  auto r = ReadRunsCsv(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(r.status().message().find("line 3"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("batch_size"), std::string::npos);

  auto nan = ReadRunsCsv(
      Header() + "s,1,c1,0,lenet,infer,full,128,2,fp32,62006,658000,10.61,,1000,2.5,nan,40,,,x,false,\n");
  ASSERT_FALSE(nan.ok());
  EXPECT_NE(nan.status().message().find("energy_j"), std::string::npos);

  auto est = ReadRunsCsv(Header() +
                         "s,1,c1,0,lenet,infer,full,128,2,fp32,62006,658000,10.61,,1000,2.5,1,,,,x,maybe,\n");
  ASSERT_FALSE(est.ok());
  EXPECT_NE(est.status().message().find("estimated"), std::string::npos);

  auto fields = ReadRunsCsv(Header() + "s,1,c1\n");
  ASSERT_FALSE(fields.ok());
  EXPECT_NE(fields.status().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(ReadRunsCsv("").ok());
}

// ---- everything -----------------------------------------------------------------

bool HasNonFinite(const json& j) {
  if (j.is_number_float()) return !std::isfinite(j.get<double>());
  if (j.is_structured())
    for (const auto& x : j)
      if (HasNonFinite(x)) return true;
  return false;
}

TEST(Analyze, JsonTopLevelKeysExactly) {
  AnalysisOptions o;
  o.inferences = 1e6;
  auto r = Analyze(SyntheticStudy(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  json j = ToJson(*r);
  std::set<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.insert(it.key());
  EXPECT_EQ(keys, (std::set<std::string>{"energy_basis", "energy_basis_reason", "correlations",
                                         "train_vs_infer", "predictor", "extrapolation", "pareto",
                                         "recommendations", "lifecycle", "carbon", "power_caps", "findings",
                                         "hosts", "op_model", "time_predictor"}));
  // No cap was swept: no curves, and a note that says so.
  EXPECT_TRUE(j["power_caps"]["curves"].empty());
  EXPECT_TRUE(j["power_caps"]["note"].is_string());
  for (const auto& c : j["correlations"])
    for (const char* k : {"phase", "x", "pearson", "spearman", "n"}) EXPECT_TRUE(c.contains(k)) << k;
  EXPECT_FALSE(HasNonFinite(j));
  EXPECT_EQ(j["carbon"]["lifecycle"].size(), 8u);
  EXPECT_FALSE(j["recommendations"]["items"].empty());
  EXPECT_FALSE(r->estimated);
}

// A train profile is its own short training before the full-length one, so
// the study's footprint counts every window, profiles included.
TEST(Analyze, CarbonCountsEveryWindowIncludingProfiles) {
  auto rows = SyntheticStudy();
  // A profile of the first training configuration, as the study runner writes it.
  for (const auto& r : SyntheticStudy()) {
    if (r.phase != "train") continue;
    RunRow prof = r;
    prof.window = "profile";
    prof.samples = r.samples / 10;
    prof.energy_j = r.energy_j / 9;
    prof.extrapolated_energy_j = prof.energy_j * 10;
    rows.push_back(prof);
    break;
  }
  double all_j = 0;
  bool has_profile = false;
  for (const auto& r : rows) {
    all_j += r.energy_j;
    has_profile = has_profile || r.window == "profile";
  }
  ASSERT_TRUE(has_profile) << "the synthetic study must hold profile windows for this test to mean anything";
  auto r = Analyze(rows, AnalysisOptions{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR(r->carbon.energy_j, all_j, 1e-9 * all_j);
}

TEST(Analyze, EstimatedFindingsSaySo) {
  auto rows = SyntheticStudy();
  for (auto& r : rows) r.estimated = true, r.source = "estimate";
  auto r = Analyze(rows, {});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->estimated);
  json j = ToJson(*r);
  EXPECT_TRUE(j["correlations"][0]["estimated"].get<bool>());
  EXPECT_NE(j["correlations"][0]["note"].get<std::string>().find("estimated"), std::string::npos);
  EXPECT_NE(j["predictor"][0]["note"].get<std::string>().find("CPU time"), std::string::npos);
  EXPECT_TRUE(j["carbon"]["estimated"].get<bool>());
}

TEST(Stats, PowerLawRecoversAnExactLaw) {
  // y = 2 x^0.7, plus points a log axis cannot hold (left out).
  std::vector<double> x = {1, 10, 100, 1000, 0, -5}, y;
  for (double v : x) y.push_back(v > 0 ? 2 * std::pow(v, 0.7) : 1);
  auto law = FitPowerLaw(x, y);
  ASSERT_TRUE(law);
  EXPECT_NEAR(law->exponent, 0.7, 1e-12);
  EXPECT_NEAR(law->log10_coefficient, std::log10(2.0), 1e-12);
  EXPECT_EQ(law->n, 4);
  EXPECT_NEAR(law->At(50), 2 * std::pow(50.0, 0.7), 1e-9);
  EXPECT_FALSE(FitPowerLaw({5, 5, 5}, {1, 2, 3}));  // constant x: no slope
  EXPECT_FALSE(FitPowerLaw({5, 0}, {1, 2}));        // one usable point
}

TEST(Correlations, CarryThePowerLawFit) {
  auto corr = Correlations(AggregateConfigs(SyntheticStudy(), EnergyBasis::kAboveIdle), "infer");
  const Correlation* macs = nullptr;
  for (const auto& c : corr)
    if (c.x == "macs") macs = &c;
  ASSERT_NE(macs, nullptr);
  ASSERT_TRUE(macs->power_law);
  // The true law is macs^0.8 x mpp^0.3: on macs alone the exponent is near 0.8.
  EXPECT_GT(macs->power_law->exponent, 0.5);
  EXPECT_LT(macs->power_law->exponent, 1.2);
  EXPECT_EQ(macs->power_law->n, 8);
}

TEST(Aggregate, AccuracyOutsideAFractionIsIgnoredNotGuessed) {
  const Model& m = kModels[0];
  std::vector<RunRow> rows = {MakeRow(m, "infer", 1.0, 100, 0, 128, 0.9),
                              MakeRow(m, "infer", 1.0, 100, 1, 128, 93.5)};
  std::vector<std::string> why;
  auto cfg = AggregateConfigs(rows, EnergyBasis::kAboveIdle, &why);
  ASSERT_EQ(cfg.size(), 1u);
  ASSERT_TRUE(cfg[0].accuracy);
  EXPECT_DOUBLE_EQ(*cfg[0].accuracy, 0.9);  // the percent-looking value is not averaged in
  ASSERT_EQ(why.size(), 1u);
  EXPECT_NE(why[0].find("outside 0..1"), std::string::npos) << why[0];
}

TEST(Findings, StatedOnceAndPrintedInJson) {
  AnalysisOptions o;
  o.requests_per_day = 1e6;
  o.days = 365;
  auto r = Analyze(SyntheticStudy(), o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE(r->findings.empty());
  std::set<std::string> kinds;
  for (const auto& f : r->findings) {
    kinds.insert(f.kind);
    EXPECT_FALSE(f.estimated) << f.text;
    EXPECT_TRUE(EndsWith(f.text, ".")) << f.text;
  }
  for (const char* k : {"predictor", "correlation", "train_vs_infer", "break_even", "carbon"})
    EXPECT_TRUE(kinds.count(k)) << k;
  // The same findings, computed again from the result, and in the JSON.
  const auto again = HeadlineFindings(*r, o);
  ASSERT_EQ(again.size(), r->findings.size());
  const json j = ToJson(*r)["findings"];
  ASSERT_EQ(j.size(), r->findings.size());
  for (size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].text, r->findings[i].text);
    EXPECT_EQ(j[i]["text"].get<std::string>(), r->findings[i].text);
    EXPECT_EQ(j[i]["kind"].get<std::string>(), r->findings[i].kind);
  }
  // Requests per day turn the break-even point into days.
  bool days = false;
  for (const auto& f : r->findings)
    days = days || (f.kind == "break_even" && f.text.find("days at 1M") != std::string::npos);
  EXPECT_TRUE(days);
}

TEST(Findings, EstimatedOrSingleRunSaySo) {
  auto rows = SyntheticStudy();
  for (auto& r : rows) r.estimated = true, r.source = "estimate";
  auto est = Analyze(rows, {});
  ASSERT_TRUE(est.ok());
  for (const auto& f : est->findings) EXPECT_TRUE(f.estimated) << f.text;

  // Nothing to compare: one finding that says why.
  AnalysisResult empty;
  empty.runs_read = 1;
  auto f1 = HeadlineFindings(empty, {});
  ASSERT_EQ(f1.size(), 1u);
  EXPECT_EQ(f1[0].kind, "none");
  EXPECT_NE(f1[0].text.find("one run"), std::string::npos) << f1[0].text;
  empty.runs_read = 5;
  empty.estimated = true;
  auto f5 = HeadlineFindings(empty, {});
  ASSERT_EQ(f5.size(), 1u);
  EXPECT_NE(f5[0].text.find("do not vary"), std::string::npos) << f5[0].text;
  EXPECT_TRUE(f5[0].estimated);
}

TEST(Analyze, DegenerateInputs) {
  EXPECT_EQ(Analyze({}, {}).status().kind(), Status::Kind::kFailedPrecondition);
  auto rows = SyntheticStudy(2);
  for (auto& r : rows) *r.energy_above_idle_j = 0;
  auto zero = Analyze(rows, {});
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("zero, negative"), std::string::npos);

  // Two models, NaN-free output with nulls and reasons.
  auto small = Analyze(SyntheticStudy(2), {});
  ASSERT_TRUE(small.ok());
  json j = ToJson(*small);
  EXPECT_FALSE(HasNonFinite(j));
  EXPECT_TRUE(j["correlations"][0]["pearson"].is_null());
  EXPECT_FALSE(j["correlations"][0]["note"].is_null());
  EXPECT_TRUE(j["predictor"][0]["selected"].is_null());

  AnalysisOptions bad;
  bad.phase = "eval";
  EXPECT_EQ(Analyze(SyntheticStudy(), bad).status().kind(), Status::Kind::kInvalidArgument);
  AnalysisOptions both;
  both.inferences = 5;
  both.requests_per_day = 1;
  both.days = 1;
  EXPECT_EQ(Analyze(SyntheticStudy(), both).status().kind(), Status::Kind::kInvalidArgument);
  AnalysisOptions half;
  half.requests_per_day = 10;
  EXPECT_EQ(Analyze(SyntheticStudy(), half).status().kind(), Status::Kind::kInvalidArgument);
  AnalysisOptions rpd;
  rpd.requests_per_day = 1000;
  rpd.days = 365;
  auto lc = Analyze(SyntheticStudy(), rpd);
  ASSERT_TRUE(lc.ok());
  EXPECT_DOUBLE_EQ(*lc->lifecycle.inferences, 365000);
}

TEST(Analyze, FixtureStudyFromCsv) {
  std::ifstream in(std::string(WATTLAB_FIXTURES) + "/analysis/runs.csv");
  std::stringstream ss;
  ss << in.rdbuf();
  auto rows = ReadRunsCsv(ss.str());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->size(), 42u);
  AnalysisOptions o;
  o.min_accuracy = 0.92;
  auto r = Analyze(*rows, o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // make_runs_csv.py: profiles are off by -3% (even model index) or +2% (odd).
  EXPECT_EQ(r->extrapolation.n, 12);
  EXPECT_NEAR(*r->extrapolation.median_abs_error_pct, 2.5, 1e-3);
  EXPECT_NEAR(*r->extrapolation.max_abs_error_pct, 3.0, 1e-3);
  // vgg16 (0.92) is the cheapest model with accuracy >= 0.92.
  ASSERT_EQ(r->recommendations.items.size(), 2u);
  EXPECT_EQ(r->recommendations.items[0].model, "vgg16");
  EXPECT_EQ(r->recommendations.items[0].baseline_model, "densenet121");
  // resnet18 was swept over batch sizes: 128 is the cheapest (factors 1.6, 1.1, 1.0, 1.05).
  bool seen = false;
  for (const auto& ob : r->pareto.optimal_batch)
    if (ob.model == "resnet18" && ob.phase == "infer") {
      seen = true;
      EXPECT_EQ(ob.best_batch_size, 128);
    }
  EXPECT_TRUE(seen);
  EXPECT_NEAR(*r->train_vs_infer.median_energy_ratio, 3.0, 1e-3);
}

TEST(Analyze, AboveIdleRoundOffIsZeroAndBusyBaselineIsFlagged) {
  auto rows = SyntheticStudy();
  for (auto& r : rows) r.energy_j = *r.energy_above_idle_j * 200;  // above idle = 0.5% of total
  auto r = Analyze(rows, {});
  ASSERT_TRUE(r.ok());
  EXPECT_NE(Join(r->notes, "|").find("idle baseline was about as busy"), std::string::npos);
  for (auto& x : rows) x.energy_above_idle_j = x.energy_j * 1e-13;  // round-off of a subtraction
  auto z = Analyze(rows, {});
  ASSERT_FALSE(z.ok());
  EXPECT_NE(z.status().message().find("round-off"), std::string::npos);
  AnalysisOptions total;
  total.energy = EnergyBasis::kTotal;
  EXPECT_TRUE(Analyze(rows, total).ok());
}

TEST(Analyze, PhaseFilter) {
  AnalysisOptions o;
  o.phase = "infer";
  auto r = Analyze(SyntheticStudy(), o);
  ASSERT_TRUE(r.ok());
  for (const auto& c : r->correlations) EXPECT_EQ(c.phase, "infer");
  EXPECT_EQ(r->predictor.size(), 1u);
  EXPECT_EQ(r->lifecycle.models.size(), 8u);  // lifecycle still weighs both phases
}

}  // namespace
}  // namespace wattlab::analysis
