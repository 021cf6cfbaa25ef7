// Headline findings: the few sentences a reader acts on, chosen and ranked
// from an AnalysisResult. `wattlab analyze --json` prints them under
// "findings" and the report opens with them, so both say the same thing.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "analysis/analysis.h"
#include "analysis/text.h"
#include "core/strings.h"

namespace wattlab::analysis {

std::vector<Finding> HeadlineFindings(const AnalysisResult& result, const AnalysisOptions& opts) {
  std::vector<Finding> f;
  const AnalysisResult* a = &result;
  // Most decision-relevant first: what predicts energy, how strongly, which
  // batch size to run, what accuracy costs, then the lifecycle and carbon.
  // Predictor error (leave-one-model-out), per phase.
  for (const auto& p : a->predictor) {
    const FeatureSetScore* sel = nullptr;
    for (const auto& set : p.sets)
      if (set.set.name == p.selected) sel = &set;
    if (!sel || !sel->mape_pct) continue;
    std::string text = FeatureSetName(p.selected) + " predicts " + PhaseName(p.phase) +
                       " energy per sample with " + Fixed(*sel->mape_pct, 0) +
                       "% mean error (leave-one-model-out, " + std::to_string(sel->n_models) + " models)";
    if (p.nested_mape_pct)
      text += "; " + Fixed(*p.nested_mape_pct, 0) + "% when the feature set is also chosen blind";
    // Compare with the other single features.
    for (const auto& set : p.sets) {
      if (&set == sel || !set.mape_pct || set.set.features.size() != 1) continue;
      if (set.set.name == "params" || set.set.name == "macs") {
        text += "; " + FeatureSetName(set.set.name) + " alone: " + Fixed(*set.mape_pct, 0) + "%";
      }
    }
    f.push_back({"predictor", p.phase, text + ".", p.estimated});
  }
  // Correlation of MACs/param (and MACs, params) with energy.
  for (const std::string phase : {"infer", "train"}) {
    const Correlation* mpp = nullptr;
    std::vector<std::string> others;
    for (const auto& corr : a->correlations) {
      if (corr.phase != phase || !corr.spearman) continue;
      if (corr.x == "macs_per_param")
        mpp = &corr;
      else if (corr.x == "macs" || corr.x == "params")
        others.push_back(FeatureName(corr.x) + " " + Fixed(*corr.spearman, 2));
    }
    if (!mpp) continue;
    std::string text = "Spearman ρ between MACs/param and " + PhaseName(phase) + " energy per sample is " +
                       Fixed(*mpp->spearman, 2) + " (n = " + std::to_string(mpp->n) + ")";
    if (!others.empty()) text += "; " + Join(others, ", ");
    f.push_back({"correlation", phase, text + ".", mpp->estimated});
  }
  // Energy-optimal batch sizes, one finding per phase.
  for (const std::string phase : {"infer", "train"}) {
    std::vector<std::string> parts;
    for (const auto& ob : a->pareto.optimal_batch) {
      if (ob.phase != phase || ob.series.size() < 2) continue;
      double worst = 0;
      int64_t worst_b = 0;
      for (const auto& bp : ob.series)
        if (bp.energy_per_sample_j > worst) worst = bp.energy_per_sample_j, worst_b = bp.batch_size;
      std::string t = "batch " + std::to_string(ob.best_batch_size) + " is energy-optimal for " + ob.model;
      if (worst > 0 && std::isfinite(ob.best_energy_per_sample_j) && worst_b != ob.best_batch_size)
        t += " (" + Fixed((1 - ob.best_energy_per_sample_j / worst) * 100, 0) +
             "% less energy per sample than batch " + std::to_string(worst_b) + ")";
      parts.push_back(t);
    }
    if (parts.empty()) continue;
    const size_t shown = std::min<size_t>(parts.size(), 3);
    std::string text =
        PhaseName(phase) + ": " + Join(std::vector<std::string>(parts.begin(), parts.begin() + shown), "; ");
    if (parts.size() > shown)
      text += "; " + std::to_string(parts.size() - shown) + " more in the batch-size section";
    text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
    f.push_back({"optimal_batch", phase, text + ".", a->pareto.estimated});
  }
  // Power caps (issue 13): the first two curves; the rest are in the section.
  for (size_t i = 0; i < a->power_caps.curves.size() && i < 2; ++i) {
    const CapCurve& k = a->power_caps.curves[i];
    std::string text = k.text;
    text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
    f.push_back({"power_cap", k.phase, text, a->power_caps.estimated});
  }
  // Accuracy for a fraction of the energy (Pareto).
  for (const std::string phase : {"infer", "train"}) {
    const ParetoPoint* best = nullptr;
    for (const auto& p : a->pareto.points) {
      if (p.phase != phase) continue;
      if (!best || p.accuracy > best->accuracy ||
          (p.accuracy == best->accuracy && p.energy_per_sample_j < best->energy_per_sample_j))
        best = &p;
    }
    if (!best || !(best->accuracy > 0) || !(best->energy_per_sample_j > 0)) continue;
    const ParetoPoint* cheap = nullptr;
    for (const auto& p : a->pareto.points) {
      if (p.phase != phase || p.accuracy < 0.9 * best->accuracy || p.model == best->model) continue;
      if (!cheap || p.energy_per_sample_j < cheap->energy_per_sample_j) cheap = &p;
    }
    if (!cheap || !(cheap->energy_per_sample_j < best->energy_per_sample_j)) continue;
    f.push_back({"accuracy_for_energy", phase,
                 cheap->model + " reaches " + Fixed(cheap->accuracy / best->accuracy * 100, 0) +
                     "% of the best accuracy (" + best->model + ", " + Percent(best->accuracy, 1) + ") for " +
                     Fixed(cheap->energy_per_sample_j / best->energy_per_sample_j * 100, 0) + "% of its " +
                     PhaseName(phase) + " energy per sample.",
                 a->pareto.estimated});
  }
  // Training vs inference.
  if (a->train_vs_infer.median_energy_ratio && a->train_vs_infer.n_models > 0) {
    std::string t = "Training costs a median " + Sig(*a->train_vs_infer.median_energy_ratio, 2) +
                    "x the energy per sample of inference";
    if (a->train_vs_infer.median_time_ratio)
      t += " and " + Sig(*a->train_vs_infer.median_time_ratio, 2) + "x the time";
    t += " (" + std::to_string(a->train_vs_infer.n_models) + " models).";
    f.push_back({"train_vs_infer", "", t, a->train_vs_infer.estimated});
  }
  // Extrapolation from short profiles.
  if (a->extrapolation.n > 0 && a->extrapolation.mean_abs_error_pct) {
    std::string t = "Short profiles predicted the full runs' energy with " +
                    Fixed(*a->extrapolation.mean_abs_error_pct, 1) + "% mean absolute error";
    if (a->extrapolation.max_abs_error_pct)
      t += " (worst " + Fixed(*a->extrapolation.max_abs_error_pct, 1) + "%";
    t += std::string(a->extrapolation.max_abs_error_pct ? ", " : " (") + std::to_string(a->extrapolation.n) +
         " runs).";
    f.push_back({"extrapolation", "", t, a->extrapolation.estimated});
  }
  // Lifecycle break-even.
  {
    const LifecycleModel* first = nullptr;
    for (const auto& m : a->lifecycle.models) {
      if (!m.break_even_n) continue;
      if (!first || *m.break_even_n < *first->break_even_n) first = &m;
    }
    if (first) {
      std::string t = "Inference energy overtakes training energy after " + CountText(*first->break_even_n) +
                      " inferences for " + first->model;
      if (opts.requests_per_day && *opts.requests_per_day > 0)
        t += " (" + Sig(*first->break_even_n / *opts.requests_per_day, 2) + " days at " +
             CountText(*opts.requests_per_day) + " inferences a day)";
      f.push_back({"break_even", "", t + ".", a->lifecycle.estimated});
    }
  }
  // Recommendations.
  for (const auto& r : a->recommendations.items) {
    // One candidate is its own baseline: nothing was traded, so no finding.
    if (r.config_id == r.baseline_config_id && r.model == r.baseline_model) continue;
    if (!r.text.empty())
      f.push_back({"recommendation", r.phase, EndsWith(r.text, ".") ? r.text : r.text + ".",
                   a->recommendations.estimated});
  }
  // Carbon.
  if (a->carbon.energy_j > 0) {
    f.push_back({"carbon", "",
                 "The study's energy, " + EnergyText(a->carbon.energy_j) + ", is " + Sig(a->carbon.gco2e, 3) +
                     " gCO2e at " + Sig(a->carbon.intensity_g_per_kwh, 3) + " g/kWh and PUE " +
                     Sig(a->carbon.pue, 3) + ".",
                 a->carbon.estimated});
  }
  if (f.empty()) {
    std::string why = a->runs_read <= 1
                          ? "a study with one run cannot compare models or settings"
                          : "the runs do not vary model, batch size or accuracy enough to compare";
    f.push_back({"none", "", "No comparative findings: " + why + ".", a->estimated});
  }
  return f;
}

}  // namespace wattlab::analysis
