// The operator-level cost model's arithmetic on hand-made operator lists
// and calibrations (analysis/opmodel.h), its leave-one-model-out judgement
// on made-up runs, and the calibration context refusal.
#include "analysis/opmodel.h"

#include <gtest/gtest.h>

#include <cmath>

#include "analysis/analysis.h"

namespace wattlab {
namespace {

OpRecord Op(const std::string& kind, int64_t work, int64_t bytes, int64_t kernel = 9, int64_t reduce = 576) {
  OpRecord o;
  o.kind = kind;
  o.op = kind;
  o.work = work;
  o.bytes = bytes;
  o.kernel = kernel;
  o.reduce = reduce;
  return o;
}

CalibrationPoint Point(OpRecord op, int64_t batch, double fwd, double train) {
  return CalibrationPoint{std::move(op), batch, fwd, train};
}

// A calibration with every kind: conv kxk at two sizes (1 ms per 1e6 MACs
// at batch 1 x 1e6, 4 ms at 8e6: throughput rising), the rest one point each.
std::vector<CalibrationPoint> HandCalibration() {
  std::vector<CalibrationPoint> p;
  p.push_back(Point(Op("conv", 1'000'000, 1000), 1, 1e-3, 3e-3));
  p.push_back(Point(Op("conv", 1'000'000, 1000), 8, 4e-3, 12e-3));
  p.push_back(Point(Op("conv", 1'000'000, 1000, 1, 64), 1, 0.5e-3, 1.5e-3));
  p.push_back(Point(Op("conv_depthwise", 10'000, 1000, 9, 9), 1, 0.2e-3, 0.6e-3));
  p.push_back(Point(Op("linear", 100'000, 1000, 0, 100), 1, 0.1e-3, 0.3e-3));
  p.push_back(Point(Op("pool", 1000, 4000, 4, 0), 1, 20e-6, 40e-6));
  p.push_back(Point(Op("norm", 1000, 8000), 1, 10e-6, 30e-6));
  p.push_back(Point(Op("act", 1000, 8000), 1, 5e-6, 10e-6));
  p.push_back(Point(Op("elementwise", 1000, 12000), 1, 6e-6, 12e-6));
  p.push_back(Point(Op("other", 1000, 8000), 1, 8e-6, 16e-6));
  CalibrationPoint opt;
  opt.op.kind = "optimizer";
  opt.op.work = 1'000'000;
  opt.op.reduce = 1;
  opt.train_s = 2e-3;
  p.push_back(opt);
  opt.op.work = 6400;
  opt.op.reduce = 64;
  opt.train_s = 2e-3 * 6400 / 1e6 + 63 * 5e-6;  // 5 us per extra tensor
  p.push_back(opt);
  return p;
}

// A made-up inference window of 100 samples at `per_sample_s`, 2 threads,
// fp32, 10 W (the estimate).
RunRow InferRun(const std::string& model, const std::string& config_id, int64_t run_id, int64_t batch,
                double per_sample_s) {
  RunRow r;
  r.study = "s";
  r.run_id = run_id;
  r.config_id = config_id;
  r.model = model;
  r.phase = "infer";
  r.window = "full";
  r.batch_size = batch;
  r.threads = 2;
  r.precision = "fp32";
  r.params = 1000;
  r.macs = 1000;
  r.samples = 100;
  r.duration_s = per_sample_s * 100;
  r.energy_j = r.duration_s * 10;  // 10 W
  r.energy_above_idle_j = r.energy_j;
  r.source = "estimate";
  r.estimated = true;
  return r;
}

TEST(OpCostModel, InterpolatesBetweenMeasuredShapesInLogLog) {
  auto m = OpCostModel::Build(HandCalibration());
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  // Exactly on a point.
  EXPECT_NEAR(m->CallSeconds(Op("conv", 1'000'000, 1000), 1, false), 1e-3, 1e-12);
  EXPECT_NEAR(m->CallSeconds(Op("conv", 1'000'000, 1000), 8, true), 12e-3, 1e-12);
  // x = 2e6 between 1e6 (1 ms) and 8e6 (4 ms): log-log, t = 1 ms x 2^(log 4 / log 8) = 2^(2/3) ms.
  EXPECT_NEAR(m->CallSeconds(Op("conv", 1'000'000, 1000), 2, false), 1e-3 * std::pow(2.0, 2.0 / 3), 1e-9);
  // Above the largest: linear at the largest's throughput (4 ms per 8e6).
  EXPECT_NEAR(m->CallSeconds(Op("conv", 1'000'000, 1000), 16, false), 8e-3, 1e-12);
  // Below the smallest: overhead + x / throughput, the overhead the fastest call measured (5 us, act).
  const double o = 5e-6;
  EXPECT_NEAR(m->CallSeconds(Op("conv", 500'000, 1000), 1, false), o + (1e-3 - o) * 0.5, 1e-12);
}

TEST(OpCostModel, ClassesAndKindsAreSeparate) {
  auto m = OpCostModel::Build(HandCalibration());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(OpClassKey(Op("conv", 1, 1, 1, 64)), "conv/1x1");
  EXPECT_EQ(OpClassKey(Op("conv", 1, 1, 9, 27)), "conv/kxk-small");
  EXPECT_EQ(OpClassKey(Op("conv", 1, 1, 9, 576)), "conv/kxk");
  EXPECT_EQ(OpClassKey(Op("pool", 1, 1, 0)), "pool/global");
  EXPECT_EQ(OpClassKey(Op("unknown", 1, 1)), "other");
  // Narrow: 16 output channels or fewer (weight elements / reduction).
  OpRecord narrow = Op("conv", 1, 1, 25, 75);
  narrow.weight_elements = 6 * 75;  // LeNet's first layer: 3 -> 6, 5x5
  EXPECT_EQ(OpClassKey(narrow), "conv/narrow");
  narrow.weight_elements = 64 * 75;
  EXPECT_EQ(OpClassKey(narrow), "conv/kxk");
  // Pooling: overlapping windows (3x3 stride 1: as many outputs as inputs,
  // each reading 9) against 2x2 stride 2 (a quarter, each reading 4).
  EXPECT_EQ(OpClassKey(Op("pool", 1000 * 9, 4 * (1000 + 1000), 9)), "pool/overlap");
  EXPECT_EQ(OpClassKey(Op("pool", 250 * 4, 4 * (1000 + 250), 4)), "pool/window");
  // 1x1 has its own curve (0.5 ms at 1e6), kxk-small falls back to kxk.
  EXPECT_NEAR(m->CallSeconds(Op("conv", 1'000'000, 1000, 1, 64), 1, false), 0.5e-3, 1e-12);
  EXPECT_NEAR(m->CallSeconds(Op("conv", 1'000'000, 1000, 9, 27), 1, false), 1e-3, 1e-12);
  // Pointwise kinds go by bytes: act at 16000 bytes = twice its point's 8000 -> linear above.
  EXPECT_NEAR(m->CallSeconds(Op("act", 1, 16000), 1, false), 10e-6, 1e-12);
  EXPECT_NEAR(m->CallSeconds(Op("act", 1, 8000), 2, false), 10e-6, 1e-12);  // batch x bytes
  // Unknown operators cost as "other".
  EXPECT_NEAR(m->CallSeconds(Op("unknown", 1, 8000), 1, true), 16e-6, 1e-12);
}

TEST(OpCostModel, TimePerSampleSumsOperatorsAndAddsTheOptimizerInTraining) {
  auto m = OpCostModel::Build(HandCalibration());
  ASSERT_TRUE(m.ok());
  OpProfile p;
  p.facts.params = 1'000'000;
  p.param_tensors = 11;
  p.ops = {Op("conv", 1'000'000, 1000), Op("norm", 1000, 8000), Op("act", 1000, 8000),
           Op("unknown", 1000, 8000)};
  // Inference at batch 8: conv 4 ms, norm/act/unknown at 8x their bytes: 80, 40, 64 us; per sample / 8.
  OpTime infer = m->TimePerSample(p, 8, "infer");
  const double infer_call = 4e-3 + 80e-6 + 40e-6 + 64e-6;
  EXPECT_NEAR(infer.time_per_sample_s, infer_call / 8, 1e-12);
  EXPECT_NEAR(infer.by_kind_s.at("conv"), 4e-3 / 8, 1e-12);
  EXPECT_NEAR(infer.unknown_share, (64e-6 / 8) / infer.time_per_sample_s, 1e-12);
  EXPECT_EQ(infer.by_kind_s.count("optimizer"), 0u);
  // Training: forward+backward times, plus one SGD step (2 ms for 1e6 params + 10 extra tensors x 5 us).
  OpTime train = m->TimePerSample(p, 8, "train");
  const double train_call = 12e-3 + 240e-6 + 80e-6 + 128e-6;
  const double opt = 2e-3 + 10 * 5e-6;
  EXPECT_NEAR(m->OptimizerSeconds(1'000'000, 11), opt, 1e-9);
  EXPECT_NEAR(train.time_per_sample_s, (train_call + opt) / 8, 1e-9);
  EXPECT_NEAR(train.by_kind_s.at("optimizer"), opt / 8, 1e-9);
}

// Inference of a model whose convolutions run packed (zoo models) takes the
// calibration's packed times; a TorchScript file's (plain) the plain ones,
// where a point has them; training is the same either way.
TEST(OpCostModel, PackedAndPlainConvolutionsTakeTheirOwnInferenceTimes) {
  auto pts = HandCalibration();
  pts[0].forward_packed = true;
  pts[0].forward_plain_s = 3e-3;  // conv kxk at batch 1: packed 1 ms, plain 3 ms
  auto m = OpCostModel::Build(pts);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  const OpRecord conv = Op("conv", 1'000'000, 1000);
  EXPECT_NEAR(m->CallSeconds(conv, 1, false, false, /*packed=*/true), 1e-3, 1e-12);
  EXPECT_NEAR(m->CallSeconds(conv, 1, false, false, /*packed=*/false), 3e-3, 1e-12);
  // The batch-8 point has no plain time: its forward time serves both.
  EXPECT_NEAR(m->CallSeconds(conv, 8, false, false, false), 4e-3, 1e-12);
  EXPECT_NEAR(m->CallSeconds(conv, 1, true, false, false), m->CallSeconds(conv, 1, true, false, true), 1e-15);
  OpProfile p;
  p.facts.params = 1000;
  p.ops = {conv, Op("act", 1000, 8000)};
  p.convs_packed = true;
  const double packed = m->TimePerSample(p, 1, "infer").time_per_sample_s;
  p.convs_packed = false;
  const double plain = m->TimePerSample(p, 1, "infer").time_per_sample_s;
  EXPECT_NEAR(plain - packed, 2e-3, 1e-12);
  const double train_plain = m->TimePerSample(p, 1, "train").time_per_sample_s;
  p.convs_packed = true;
  EXPECT_NEAR(m->TimePerSample(p, 1, "train").time_per_sample_s, train_plain, 1e-15);
}

TEST(OpCostModel, RefusesACalibrationMissingAKind) {
  auto pts = HandCalibration();
  std::erase_if(pts, [](const CalibrationPoint& p) { return p.op.kind == "conv_depthwise"; });
  auto m = OpCostModel::Build(pts);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("conv_depthwise"), std::string::npos);
}

TEST(CalibrationContext, MismatchIsRefusedNamingTheDifference) {
  CalibrationContext have{"h1", "Intel Xeon", "1.13.1", "openblas-openmp", "default", "fp32", 2};
  StoredCalibration s;
  s.context = have;
  s.created_unix_s = 10;
  CalibrationContext want = have;
  EXPECT_TRUE(ChooseCalibration({s}, want).ok());
  want.threads = 4;
  want.blas = "reference";
  auto r = ChooseCalibration({s}, want);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("threads: calibrated 2, wanted 4"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("blas: calibrated 'openblas-openmp', wanted 'reference'"),
            std::string::npos);
  EXPECT_NE(r.status().message().find("wattlab calibrate --threads 4"), std::string::npos);
  // Nothing stored at all.
  EXPECT_NE(ChooseCalibration({}, want).status().message().find("no operator calibration"),
            std::string::npos);
  // The newest of two matching ones.
  StoredCalibration newer = s;
  newer.created_unix_s = 20;
  newer.id = 7;
  auto best = ChooseCalibration({s, newer}, have);
  ASSERT_TRUE(best.ok());
  EXPECT_EQ(best->id, 7);
}

// Four models whose measured time is exactly 2 x calibrated + 1 ms per
// batch at batch 4 or 8, except "odd" at 3x: LOMO refits the correction and
// the per-batch cost without the held-out model, so "odd" held out is
// predicted from the three exact models (c = 2, 1 ms per batch) exactly.
TEST(EvaluateOpModel, LeaveOneModelOutRefitsCorrectionAndPower) {
  auto cal = HandCalibration();
  OpModelInput in;
  in.calibrations[CalibrationKey(2, "fp32")] = cal;
  auto cost = OpCostModel::Build(cal);
  ASSERT_TRUE(cost.ok());
  std::vector<RunRow> rows;
  const std::vector<std::pair<std::string, double>> models = {{"a", 1}, {"b", 2}, {"c", 4}, {"odd", 3}};
  int64_t run = 0;
  for (const auto& [name, scale] : models) {
    OpProfile p;
    p.facts.params = 1000;
    p.ops = {Op("conv", static_cast<int64_t>(1'000'000 * scale), 1000)};
    in.profiles[name] = p;
    for (int64_t batch : {4, 8}) {
      const double raw = cost->TimePerSample(p, batch, "infer").time_per_sample_s;
      const double factor = name == "odd" ? 3 : 2;
      for (int rep = 0; rep < 2; ++rep) {
        RunRow r = InferRun(name, name + std::to_string(batch), ++run, batch,
                            (raw * factor + 1e-3 / batch) * (rep == 0 ? 0.99 : 1.01));
        r.repetition = rep;
        rows.push_back(r);
      }
    }
  }
  auto configs = analysis::AggregateConfigs(rows, EnergyBasis::kAboveIdle);
  OpModelResult res = EvaluateOpModel(rows, configs, in, "");
  ASSERT_EQ(res.phases.size(), 1u);
  const auto& ph = res.phases[0];
  EXPECT_EQ(ph.n_models, 4);
  EXPECT_EQ(ph.n_points, 8);
  EXPECT_NEAR(ph.power_w, 10, 1e-9);
  for (const auto& p : ph.points) {
    if (p.model == "odd")
      EXPECT_NEAR(p.predicted_time_s, 2 * p.raw_time_s + 1e-3 / p.batch_size, 1e-12) << p.config_id;
    else
      EXPECT_GT(p.time_ape_pct, 0.1) << p.config_id;  // "odd" was in the fit
    EXPECT_NEAR(p.predicted_energy_j, p.predicted_time_s * 10, 1e-12);
    ASSERT_TRUE(p.time_cv_pct.has_value());
    EXPECT_NEAR(*p.time_cv_pct, 100 * 0.01 * std::sqrt(2.0), 1e-6);
  }
  ASSERT_TRUE(ph.time_mape_pct.has_value());
  EXPECT_GT(*ph.time_mape_pct, 5);
  // A prediction for an unseen model: corrected, with an interval around it.
  OpProfile unseen;
  unseen.facts.params = 1000;
  unseen.ops = {Op("conv", 3'000'000, 1000), Op("unknown", 100, 800)};
  unseen.unknown_ops = {"weird_op"};
  auto pred = PredictWithOpModel(*cost, unseen, 4, "infer", ph, 1000.0);
  ASSERT_TRUE(pred.ok()) << pred.status().ToString();
  EXPECT_NEAR(pred->time_per_sample_s, pred->raw_time_per_sample_s * ph.correction + ph.per_batch_s / 4,
              1e-15);
  EXPECT_LT(pred->time_low_s, pred->time_per_sample_s);
  EXPECT_GT(pred->time_high_s, pred->time_per_sample_s);
  EXPECT_GT(pred->unknown_share, 0);
  EXPECT_NE(pred->note.find("weird_op"), std::string::npos);
  EXPECT_NEAR(*pred->energy_j, 1000 * pred->energy_per_sample_j, 1e-12);
  // No calibration for these threads: left out with a note.
  OpModelInput other = in;
  other.calibrations = {{CalibrationKey(4, "fp32"), cal}};
  OpModelResult none = EvaluateOpModel(rows, configs, other, "");
  EXPECT_TRUE(none.phases.empty());
  ASSERT_FALSE(none.notes.empty());
  EXPECT_NE(none.notes.back().find("2/fp32"), std::string::npos);
}

// Two kinds the calibration gets wrong by different factors (conv 2x, norm
// 4x): one common correction cannot fit both, the per-group corrections can,
// and a held-out model's mix of the two is predicted from the others'.
TEST(EvaluateOpModel, PerKindCorrectionsFitKindsTheCalibrationGetsWrongDifferently) {
  auto cal = HandCalibration();
  OpModelInput in;
  in.calibrations[CalibrationKey(2, "fp32")] = cal;
  auto cost = OpCostModel::Build(cal);
  ASSERT_TRUE(cost.ok());
  std::vector<RunRow> rows;
  int64_t run = 0;
  for (int i = 0; i < 6; ++i) {
    const std::string name = "m" + std::to_string(i);
    OpProfile p;
    p.facts.params = 1000;
    p.ops = {Op("conv", 200'000 * (i + 1), 1000)};
    for (int n = 0; n < 5 - i; ++n) p.ops.push_back(Op("norm", 1000, 400'000));
    in.profiles[name] = p;
    const OpTime t = cost->TimePerSample(p, 4, "infer");
    const double truth =
        2 * t.by_kind_s.at("conv") + (t.by_kind_s.count("norm") ? 4 * t.by_kind_s.at("norm") : 0);
    rows.push_back(InferRun(name, name, ++run, 4, truth));
  }
  auto configs = analysis::AggregateConfigs(rows, EnergyBasis::kAboveIdle);
  OpModelResult res = EvaluateOpModel(rows, configs, in, "");
  ASSERT_EQ(res.phases.size(), 1u);
  const auto& ph = res.phases[0];
  EXPECT_NEAR(ph.corrections.at("conv"), 2, 0.1);
  EXPECT_NEAR(ph.corrections.at("pointwise"), 4, 0.2);  // norm, with act and elementwise
  EXPECT_EQ(ph.corrections.count("pool"), 0u);          // no model has one
  ASSERT_TRUE(ph.time_mape_pct.has_value());
  EXPECT_LT(*ph.time_mape_pct, 5);
  // A common correction alone would miss by the mix: m0 (mostly norm) against m5 (conv only).
  double lo = 1e9, hi = 0;
  for (const auto& p : ph.points) {
    lo = std::min(lo, p.measured_time_s / p.raw_time_s);
    hi = std::max(hi, p.measured_time_s / p.raw_time_s);
  }
  EXPECT_GT(hi / lo, 1.3);
  // The correction for a group no model had: the common scale.
  OpModelFit f;
  f.scale = 3;
  f.correction = {{"conv", 2}};
  EXPECT_NEAR(CorrectedTime(f, {{"conv", 1.0}, {"pool", 1.0}}, 4), 2 + 3, 1e-12);
  EXPECT_EQ(OpCorrectionGroup("matmul"), "linear");
  EXPECT_EQ(OpCorrectionGroup("elementwise"), "pointwise");
  EXPECT_EQ(OpCorrectionGroup("norm"), "pointwise");
  EXPECT_EQ(OpCorrectionGroup("unknown"), "other");
}

}  // namespace
}  // namespace wattlab
