// The energy predictor: log-log least squares over model features, scored by
// leave-one-model-out (LOMO) cross-validation, with the feature set chosen
// inside each outer fold (nested CV) so the selected predictor's error is not
// flattered by the choice. Also `predict` for an unseen model.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "analysis/analysis.h"
#include "analysis/internal.h"
#include "catalog/catalog.h"
#include "core/strings.h"

namespace wattlab::analysis {

const std::vector<FeatureSet>& StandardFeatureSets() {
  static const std::vector<FeatureSet> kSets = {
      {"params", {"params"}},
      {"macs", {"macs"}},
      {"macs_per_param", {"macs_per_param"}},
      {"macs+macs_per_param", {"macs", "macs_per_param"}},
      {"macs+macs_per_param+batch_size+threads", {"macs", "macs_per_param", "batch_size", "threads"}},
  };
  return kSets;
}

namespace {

// log of each feature; InvalidArgument naming the first non-positive one.
Result<std::vector<double>> LogFeatures(const std::vector<double>& raw, const FeatureSet& set) {
  std::vector<double> out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (!(raw[i] > 0) || !std::isfinite(raw[i]))
      return Status::InvalidArgument(set.features[i] + " = " + FormatDouble(raw[i]) +
                                     " is not positive: a log-log fit cannot use it");
    out.push_back(std::log(raw[i]));
  }
  return out;
}

Result<std::vector<double>> RawFeatures(const ConfigPoint& c, const FeatureSet& set) {
  std::vector<double> raw;
  for (const auto& f : set.features) {
    auto v = ColumnValue(c, f);
    if (!v) return Status::InvalidArgument(c.config_id + " has no " + f);
    raw.push_back(*v);
  }
  return raw;
}

// The predictor's features are counts of the model: a configuration without
// them (a command sweep's program whose spec gave no params/macs) is left out.
bool HasModelCounts(const ConfigPoint& c) { return c.params > 0 && c.macs > 0; }

std::string UncountedNote(const std::set<std::string>& models) {
  return "left out for want of params and MACs: " +
         Join(std::vector<std::string>(models.begin(), models.end()), ", ") +
         " (give params and macs, or torchscript, in its command sweep)";
}

std::set<std::string> ModelsOf(const std::vector<ConfigPoint>& pts) {
  std::set<std::string> m;
  for (const auto& p : pts) m.insert(p.model);
  return m;
}

struct LomoOutcome {
  std::vector<LomoPoint> points;
  double mape = 0, median_ape = 0;
};

// One LOMO pass of one set. FailedPrecondition when a fold cannot be fitted.
Result<LomoOutcome> Lomo(const std::vector<ConfigPoint>& pts, const FeatureSet& set,
                         double target(const ConfigPoint&)) {
  const auto models = ModelsOf(pts);
  if (models.size() < 3)
    return Status::FailedPrecondition("leave-one-model-out needs at least 3 models (have " +
                                      std::to_string(models.size()) + ")");
  LomoOutcome out;
  std::vector<double> apes;
  for (const std::string& held : models) {
    std::vector<ConfigPoint> train;
    for (const auto& p : pts)
      if (p.model != held) train.push_back(p);
    std::vector<std::vector<double>> x;
    std::vector<double> y;
    for (const auto& p : train) {
      WATTLAB_ASSIGN_OR_RETURN(auto raw, RawFeatures(p, set));
      WATTLAB_ASSIGN_OR_RETURN(auto lx, LogFeatures(raw, set));
      x.push_back(lx);
      y.push_back(std::log(target(p)));
    }
    auto fit = LeastSquares(x, y);
    if (!fit)
      return Status::FailedPrecondition("without " + held + " the fit is singular or has too few points (" +
                                        std::to_string(y.size()) + " for " +
                                        std::to_string(set.features.size() + 1) + " coefficients)");
    for (const auto& p : pts) {
      if (p.model != held) continue;
      WATTLAB_ASSIGN_OR_RETURN(auto raw, RawFeatures(p, set));
      WATTLAB_ASSIGN_OR_RETURN(auto lx, LogFeatures(raw, set));
      double ly = fit->beta[0];
      for (size_t j = 0; j < lx.size(); ++j) ly += fit->beta[j + 1] * lx[j];
      LomoPoint lp;
      lp.model = p.model;
      lp.config_id = p.config_id;
      lp.measured_j = target(p);
      lp.predicted_j = std::exp(ly);
      lp.ape_pct = std::fabs(lp.predicted_j - lp.measured_j) / lp.measured_j * 100;
      if (!std::isfinite(lp.predicted_j) || !std::isfinite(lp.ape_pct))
        return Status::FailedPrecondition("prediction for " + held + " overflowed");
      apes.push_back(lp.ape_pct);
      out.points.push_back(std::move(lp));
    }
  }
  out.mape = Mean(apes);
  out.median_ape = Median(apes);
  return out;
}

double EnergyTarget(const ConfigPoint& c) { return c.energy_per_sample_j; }
double TimeTarget(const ConfigPoint& c) { return c.time_per_sample_s; }

Result<FittedModel> Fit(const std::vector<ConfigPoint>& points, const FeatureSet& set,
                        double target(const ConfigPoint&)) {
  FittedModel m;
  m.set = set;
  std::vector<std::vector<double>> x;
  std::vector<double> y;
  m.feature_min.assign(set.features.size(), INFINITY);
  m.feature_max.assign(set.features.size(), -INFINITY);
  for (const auto& p : points) {
    WATTLAB_ASSIGN_OR_RETURN(auto raw, RawFeatures(p, set));
    WATTLAB_ASSIGN_OR_RETURN(auto lx, LogFeatures(raw, set));
    const double t = target(p);
    if (!(t > 0) || !std::isfinite(t))
      return Status::InvalidArgument(p.config_id + ": the value to fit is not positive");
    for (size_t j = 0; j < raw.size(); ++j) {
      m.feature_min[j] = std::min(m.feature_min[j], raw[j]);
      m.feature_max[j] = std::max(m.feature_max[j], raw[j]);
    }
    x.push_back(lx);
    y.push_back(std::log(t));
  }
  auto fit = LeastSquares(x, y);
  if (!fit)
    return Status::FailedPrecondition("cannot fit " + set.name + ": " + std::to_string(y.size()) +
                                      " configuration(s) for " + std::to_string(set.features.size() + 1) +
                                      " coefficients, or a feature does not vary");
  m.coefficients = fit->beta;
  m.xtx_inverse = fit->xtx_inverse;
  m.n = fit->n;
  m.dof = fit->dof;
  m.residual_sd_log = fit->dof > 0 ? std::sqrt(fit->sse / static_cast<double>(fit->dof)) : 0;
  return m;
}

struct SetChoice {
  const FeatureSet* set = nullptr;
  double mape = 0;
};

// The set with the lowest LOMO MAPE on pts; nullptr when none can be scored.
SetChoice ChooseSet(const std::vector<ConfigPoint>& pts) {
  SetChoice best;
  for (const auto& s : StandardFeatureSets()) {
    auto r = Lomo(pts, s, EnergyTarget);
    if (!r.ok()) continue;
    if (!best.set || r->mape < best.mape) best = {&s, r->mape};
  }
  return best;
}

}  // namespace

Result<FittedModel> FitLogLog(const std::vector<ConfigPoint>& points, const FeatureSet& set) {
  return Fit(points, set, EnergyTarget);
}

Result<double> PredictLogLog(const FittedModel& model, const std::vector<double>& raw_features, double* low,
                             double* high) {
  if (raw_features.size() != model.set.features.size())
    return Status::InvalidArgument("expected " + std::to_string(model.set.features.size()) + " features");
  WATTLAB_ASSIGN_OR_RETURN(auto lx, LogFeatures(raw_features, model.set));
  std::vector<double> x0 = {1.0};
  x0.insert(x0.end(), lx.begin(), lx.end());
  double ly = 0;
  for (size_t j = 0; j < x0.size(); ++j) ly += model.coefficients[j] * x0[j];
  // Prediction interval of a new observation: s sqrt(1 + x0' (X'X)^-1 x0).
  double q = 0;
  for (size_t a = 0; a < x0.size(); ++a)
    for (size_t b = 0; b < x0.size(); ++b) q += x0[a] * model.xtx_inverse[a][b] * x0[b];
  double half = 0;
  if (model.dof > 0)
    half = StudentTQuantile(0.975, static_cast<double>(model.dof)) * model.residual_sd_log * std::sqrt(1 + q);
  const double pred = std::exp(ly);
  if (!std::isfinite(pred)) return Status::FailedPrecondition("the prediction overflowed");
  if (low) *low = std::exp(ly - half);
  if (high) *high = std::exp(ly + half);
  return pred;
}

std::vector<PhasePredictor> ComparePredictors(const std::vector<ConfigPoint>& configs,
                                              const std::string& phase_filter) {
  std::vector<PhasePredictor> out;
  for (const std::string& phase : PhasesOf(configs, phase_filter)) {
    if (phase == "eval") continue;  // eval is the accuracy pass, not a cost anyone predicts
    PhasePredictor pp;
    pp.phase = phase;
    std::vector<ConfigPoint> pts;
    std::set<std::string> uncounted;
    for (const auto& c : configs) {
      if (c.phase != phase) continue;
      if (!HasModelCounts(c)) {
        uncounted.insert(c.model);
        continue;
      }
      pts.push_back(c), pp.estimated = pp.estimated || c.estimated;
    }
    const auto models = ModelsOf(pts);
    std::vector<std::string> notes;
    if (!uncounted.empty()) notes.push_back(UncountedNote(uncounted));
    double best_mape = INFINITY;
    for (const auto& s : StandardFeatureSets()) {
      FeatureSetScore sc;
      sc.set = s;
      sc.n_points = static_cast<int64_t>(pts.size());
      sc.n_models = static_cast<int64_t>(models.size());
      auto full = Fit(pts, s, EnergyTarget);
      if (full.ok()) {
        sc.coefficients = full->coefficients;
        // R² in log space from the full fit.
        std::vector<std::vector<double>> x;
        std::vector<double> y;
        for (const auto& p : pts) {
          auto raw = RawFeatures(p, s);
          auto lx = LogFeatures(*raw, s);
          x.push_back(*lx);
          y.push_back(std::log(p.energy_per_sample_j));
        }
        if (auto f = LeastSquares(x, y)) {
          sc.r2 = f->r2;
          sc.f_p = f->f_p;
        }
      }
      auto lomo = Lomo(pts, s, EnergyTarget);
      if (lomo.ok()) {
        sc.mape_pct = lomo->mape;
        sc.median_ape_pct = lomo->median_ape;
        sc.points = std::move(lomo->points);
        if (lomo->mape < best_mape) best_mape = lomo->mape, pp.selected = s.name;
      } else {
        sc.note = lomo.status().message();
      }
      if (!full.ok() && sc.note.empty()) sc.note = full.status().message();
      pp.sets.push_back(std::move(sc));
    }
    if (pp.selected.empty())
      notes.push_back("no feature set could be scored (" + std::to_string(models.size()) +
                      " model(s); leave-one-model-out needs at least 3)");
    // Nested: choose inside each outer fold with an inner LOMO.
    if (models.size() >= static_cast<size_t>(kMinModelsForPredict)) {
      std::vector<double> apes;
      bool ok = true;
      for (const std::string& held : models) {
        std::vector<ConfigPoint> inner;
        for (const auto& p : pts)
          if (p.model != held) inner.push_back(p);
        SetChoice ch = ChooseSet(inner);
        if (!ch.set) {
          ok = false;
          notes.push_back("nested CV: no set could be scored without " + held);
          break;
        }
        auto fit = Fit(inner, *ch.set, EnergyTarget);
        if (!fit.ok()) {
          ok = false;
          notes.push_back("nested CV: " + fit.status().message());
          break;
        }
        for (const auto& p : pts) {
          if (p.model != held) continue;
          auto raw = RawFeatures(p, *ch.set);
          auto pred = PredictLogLog(*fit, *raw, nullptr, nullptr);
          if (!pred.ok()) {
            ok = false;
            notes.push_back("nested CV: " + pred.status().message());
            break;
          }
          LomoPoint lp{p.model,
                       p.config_id,
                       p.energy_per_sample_j,
                       *pred,
                       std::fabs(*pred - p.energy_per_sample_j) / p.energy_per_sample_j * 100,
                       ch.set->name};
          apes.push_back(lp.ape_pct);
          pp.nested_points.push_back(std::move(lp));
        }
        if (!ok) break;
      }
      if (ok && !apes.empty()) {
        pp.nested_mape_pct = Mean(apes);
        pp.nested_median_ape_pct = Median(apes);
      } else {
        pp.nested_points.clear();
      }
    } else {
      notes.push_back("nested cross-validation needs at least " + std::to_string(kMinModelsForPredict) +
                      " models (have " + std::to_string(models.size()) + ")");
    }
    if (pp.estimated) notes.push_back(kEstimatedNote);
    pp.note = Join(notes, "; ");
    out.push_back(std::move(pp));
  }
  return out;
}

Result<int64_t> DatasetTrainSamples(const std::string& name) {
  auto n = catalog::TrainSamplesByName(name);
  if (!n.ok()) return Status::NotFound(n.status().message() + "; or give --samples N instead of --epochs");
  return n;
}

namespace {
int64_t MostCommon(const std::vector<ConfigPoint>& pts, int64_t ConfigPoint::*field) {
  std::map<int64_t, int64_t> count;
  for (const auto& p : pts) ++count[p.*field];
  int64_t best = 0, n = -1;
  for (const auto& [v, c] : count)
    if (c > n) best = v, n = c;
  return best;
}
}  // namespace

Result<Prediction> PredictEnergy(const std::vector<RunRow>& rows, const PredictRequest& request,
                                 EnergyBasis basis) {
  if (request.phase != "train" && request.phase != "infer")
    return Status::InvalidArgument("--phase must be train or infer (got '" + request.phase + "')");
  const ModelFacts& f = request.facts;
  if (f.params <= 0 || f.macs <= 0)
    return Status::InvalidArgument("model " + f.name + " has params = " + std::to_string(f.params) +
                                   " and macs = " + std::to_string(f.macs) +
                                   ": both must be positive to predict");
  std::vector<std::string> dropped;
  std::vector<ConfigPoint> pts;
  std::set<std::string> uncounted;
  for (auto& c : AggregateConfigs(rows, basis, &dropped)) {
    if (c.phase != request.phase) continue;
    if (!HasModelCounts(c)) {
      uncounted.insert(c.model);
      continue;
    }
    pts.push_back(std::move(c));
  }
  if (!uncounted.empty()) dropped.push_back(UncountedNote(uncounted));
  const auto models = ModelsOf(pts);
  if (models.size() < static_cast<size_t>(kMinModelsForPredict)) {
    std::string msg =
        "predict needs " + request.phase + " runs of at least " + std::to_string(kMinModelsForPredict) +
        " different models to fit and cross-validate (the input has " + std::to_string(models.size()) + ")";
    if (!models.empty()) msg += ": " + Join(std::vector<std::string>(models.begin(), models.end()), ", ");
    msg += "; run a study with more models first";
    if (!dropped.empty()) msg += " (" + Join(dropped, "; ") + ")";
    return Status::FailedPrecondition(msg);
  }
  auto compared = ComparePredictors(pts, request.phase);
  if (compared.empty() || compared[0].selected.empty())
    return Status::FailedPrecondition(
        "no predictor could be fitted: " +
        (compared.empty() ? std::string("no configurations") : compared[0].note));
  const PhasePredictor& pp = compared[0];
  const FeatureSet* set = nullptr;
  for (const auto& s : StandardFeatureSets())
    if (s.name == pp.selected) set = &s;
  WATTLAB_ASSIGN_OR_RETURN(FittedModel fit, Fit(pts, *set, EnergyTarget));

  Prediction out;
  out.energy_basis = basis;
  out.model = f.name;
  out.phase = request.phase;
  out.feature_set = set->name;
  out.batch_size = request.batch_size > 0 ? request.batch_size : MostCommon(pts, &ConfigPoint::batch_size);
  out.threads = request.threads > 0 ? request.threads : MostCommon(pts, &ConfigPoint::threads);
  out.samples = request.samples;
  out.n_configs = static_cast<int64_t>(pts.size());
  out.n_models = static_cast<int64_t>(models.size());
  for (const auto& p : pts) out.estimated = out.estimated || p.estimated;

  const double mpp = f.macs_per_param > 0 ? f.macs_per_param : static_cast<double>(f.macs) / f.params;
  std::vector<double> raw;
  for (const auto& name : set->features) {
    double v = 0;
    if (name == "params")
      v = static_cast<double>(f.params);
    else if (name == "macs")
      v = static_cast<double>(f.macs);
    else if (name == "macs_per_param")
      v = mpp;
    else if (name == "batch_size")
      v = static_cast<double>(out.batch_size);
    else if (name == "threads")
      v = static_cast<double>(out.threads);
    raw.push_back(v);
  }
  for (size_t j = 0; j < raw.size(); ++j) {
    const double lo = fit.feature_min[j] / kMaxExtrapolationFactor,
                 hi = fit.feature_max[j] * kMaxExtrapolationFactor;
    if (raw[j] < lo || raw[j] > hi)
      return Status::FailedPrecondition(
          set->features[j] + " of " + f.name + " is " + FormatDouble(raw[j]) +
          ", far outside the measured range [" + FormatDouble(fit.feature_min[j]) + ", " +
          FormatDouble(fit.feature_max[j]) + "] (more than " + FormatDouble(kMaxExtrapolationFactor) +
          "x beyond it): the predictor would be guessing; measure a model "
          "closer to it first");
  }
  WATTLAB_ASSIGN_OR_RETURN(out.energy_per_sample_j, PredictLogLog(fit, raw, &out.energy_per_sample_low_j,
                                                                  &out.energy_per_sample_high_j));
  out.cv_mape_pct = pp.nested_mape_pct;
  out.cv_median_ape_pct = pp.nested_median_ape_pct;
  std::vector<std::string> notes;
  if (fit.dof == 0) notes.push_back("no residual degrees of freedom: the interval is empty");
  if (auto tfit = Fit(pts, *set, TimeTarget); tfit.ok()) {
    if (auto t = PredictLogLog(*tfit, raw, nullptr, nullptr); t.ok()) out.time_per_sample_s = *t;
  }
  if (request.samples > 0) {
    const double n = static_cast<double>(request.samples);
    out.energy_j = out.energy_per_sample_j * n;
    out.energy_low_j = out.energy_per_sample_low_j * n;
    out.energy_high_j = out.energy_per_sample_high_j * n;
    if (out.time_per_sample_s) out.duration_s = *out.time_per_sample_s * n;
  }
  const bool uses_batch =
      std::find(set->features.begin(), set->features.end(), "batch_size") != set->features.end();
  if (!uses_batch && request.batch_size > 0)
    notes.push_back(
        "the selected feature set ignores batch size and threads: the figure is for the batch sizes "
        "measured");
  if (basis == EnergyBasis::kAboveIdle) notes.push_back("energy above idle");
  if (!uncounted.empty()) notes.push_back(UncountedNote(uncounted));
  if (out.estimated) notes.push_back(kEstimatedNote);
  out.note = Join(notes, "; ");
  return out;
}

}  // namespace wattlab::analysis
