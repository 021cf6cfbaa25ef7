// Extrapolation check, Pareto front, energy-optimal batch, recommendations,
// lifecycle and carbon.
#include <algorithm>
#include <cmath>
#include <map>

#include "analysis/analysis.h"
#include "analysis/internal.h"
#include "core/strings.h"

namespace wattlab::analysis {

Extrapolation CheckExtrapolation(const std::vector<RunRow>& rows) {
  Extrapolation ex;
  // Full windows by (config_id, phase).
  std::map<std::pair<std::string, std::string>, std::vector<const RunRow*>> full;
  for (const auto& r : rows)
    if (r.window == "full" && !r.config_id.empty()) full[{r.config_id, r.phase}].push_back(&r);
  std::vector<double> abs_err, err;
  std::vector<std::string> notes;
  int64_t unmatched = 0, profiles = 0;
  bool used_above_idle = false;
  for (const auto& r : rows) {
    if (r.window != "profile" || !r.extrapolated_energy_j || !std::isfinite(*r.extrapolated_energy_j))
      continue;
    ++profiles;
    auto it = full.find({r.config_id, r.phase});
    if (r.config_id.empty() || it == full.end()) {
      ++unmatched;
      continue;
    }
    // Same repetition when recorded; otherwise the mean of the full runs.
    std::vector<const RunRow*> match;
    for (auto* f : it->second)
      if (f->repetition == r.repetition) match.push_back(f);
    if (match.empty()) match = it->second;
    // The extrapolation may have scaled energy_j or energy_above_idle_j; the
    // basis whose implied scale factor is closer to the sample ratio is the
    // one it used, and the measured side must match it.
    const double pred = *r.extrapolated_energy_j;
    bool above = false;
    if (r.energy_above_idle_j && *r.energy_above_idle_j > 0 && r.energy_j > 0 && r.samples > 0 &&
        match.front()->samples > 0) {
      const double want =
          std::log(static_cast<double>(match.front()->samples) / static_cast<double>(r.samples));
      const double via_total = std::log(pred / r.energy_j),
                   via_above = std::log(pred / *r.energy_above_idle_j);
      above = std::fabs(via_above - want) < std::fabs(via_total - want);
    }
    double meas = 0;
    int64_t n = 0;
    for (auto* f : match) {
      if (above && !f->energy_above_idle_j) continue;
      meas += above ? *f->energy_above_idle_j : f->energy_j;
      ++n;
    }
    if (n == 0 || meas <= 0) {
      ++unmatched;
      continue;
    }
    meas /= static_cast<double>(n);
    used_above_idle = used_above_idle || above;
    ExtrapolationPoint p{r.config_id, r.model, r.phase, r.repetition, pred, meas, (pred - meas) / meas * 100};
    err.push_back(p.error_pct);
    abs_err.push_back(std::fabs(p.error_pct));
    ex.estimated = ex.estimated || r.estimated || match.front()->estimated;
    ex.points.push_back(std::move(p));
  }
  ex.n = static_cast<int64_t>(ex.points.size());
  if (ex.n > 0) {
    ex.mean_abs_error_pct = Mean(abs_err);
    ex.median_abs_error_pct = Median(abs_err);
    ex.max_abs_error_pct = *std::max_element(abs_err.begin(), abs_err.end());
    ex.mean_error_pct = Mean(err);
    notes.push_back(std::string("measured side: ") + (used_above_idle ? "energy_above_idle_j" : "energy_j") +
                    " of the window=full run of the same config_id and phase");
  } else if (profiles == 0) {
    notes.push_back("no window=profile rows with extrapolated_energy_j: nothing to check");
  }
  if (unmatched > 0)
    notes.push_back(std::to_string(unmatched) +
                    " profile row(s) have no window=full row of the same config_id and phase");
  if (ex.estimated) notes.push_back(kEstimatedNote);
  ex.note = Join(notes, "; ");
  return ex;
}

Pareto ParetoAndBatches(const std::vector<ConfigPoint>& configs, const std::string& phase_filter) {
  Pareto out;
  std::map<std::string, std::vector<double>> model_acc;
  for (const auto& c : configs)
    if (c.accuracy) model_acc[c.model].push_back(*c.accuracy);
  std::vector<std::string> notes;
  int64_t without = 0;
  for (const std::string& phase : PhasesOf(configs, phase_filter)) {
    if (phase == "eval") continue;
    std::vector<ParetoPoint> pts;
    for (const auto& c : configs) {
      if (c.phase != phase) continue;
      out.estimated = out.estimated || c.estimated;
      std::optional<double> acc = c.accuracy;
      if (!acc && model_acc.count(c.model)) acc = Mean(model_acc[c.model]);
      if (!acc) {
        ++without;
        continue;
      }
      pts.push_back({c.model, c.config_id, c.phase, c.precision, c.batch_size, c.threads, *acc,
                     c.energy_per_sample_j, false});
    }
    // On the front: no other point is at least as accurate and at most as
    // costly, and strictly better in one.
    for (auto& p : pts) {
      p.on_front = std::none_of(pts.begin(), pts.end(), [&](const ParetoPoint& q) {
        return q.accuracy >= p.accuracy && q.energy_per_sample_j <= p.energy_per_sample_j &&
               (q.accuracy > p.accuracy || q.energy_per_sample_j < p.energy_per_sample_j);
      });
    }
    out.points.insert(out.points.end(), pts.begin(), pts.end());

    // Energy-optimal batch size per model.
    std::map<std::string, std::map<int64_t, const ConfigPoint*>> by_model;
    std::vector<std::string> order;
    for (const auto& c : configs) {
      if (c.phase != phase) continue;
      if (!by_model.count(c.model)) order.push_back(c.model);
      auto& slot = by_model[c.model][c.batch_size];
      if (!slot || c.energy_per_sample_j < slot->energy_per_sample_j) slot = &c;
    }
    for (const auto& m : order) {
      OptimalBatch ob;
      ob.model = m;
      ob.phase = phase;
      for (const auto& [b, c] : by_model[m]) {
        ob.series.push_back(
            {b, c->energy_per_sample_j, c->energy_per_sample_sd_j, c->time_per_sample_s, c->repetitions});
        if (ob.best_batch_size == 0 || c->energy_per_sample_j < ob.best_energy_per_sample_j) {
          ob.best_batch_size = b;
          ob.best_energy_per_sample_j = c->energy_per_sample_j;
        }
      }
      out.optimal_batch.push_back(std::move(ob));
    }
  }
  if (out.points.empty())
    notes.push_back("no configuration has an accuracy: no Pareto front");
  else if (without > 0)
    notes.push_back(std::to_string(without) + " configuration(s) without accuracy left out of the front");
  if (out.estimated) notes.push_back(kEstimatedNote);
  out.note = Join(notes, "; ");
  return out;
}

Recommendations Recommend(const Pareto& pareto, std::optional<double> min_accuracy,
                          std::optional<double> max_energy_j) {
  Recommendations out;
  out.estimated = pareto.estimated;
  std::vector<std::string> phases, notes;
  for (const auto& p : pareto.points)
    if (std::find(phases.begin(), phases.end(), p.phase) == phases.end()) phases.push_back(p.phase);
  for (const auto& phase : phases) {
    const ParetoPoint* base = nullptr;
    const ParetoPoint* pick = nullptr;
    for (const auto& p : pareto.points) {
      if (p.phase != phase) continue;
      if (!base || p.accuracy > base->accuracy ||
          (p.accuracy == base->accuracy && p.energy_per_sample_j < base->energy_per_sample_j))
        base = &p;
      if (min_accuracy && p.accuracy < *min_accuracy) continue;
      if (max_energy_j && p.energy_per_sample_j > *max_energy_j) continue;
      if (!pick || p.energy_per_sample_j < pick->energy_per_sample_j ||
          (p.energy_per_sample_j == pick->energy_per_sample_j && p.accuracy > pick->accuracy))
        pick = &p;
    }
    if (!pick) {
      std::string why = phase + ": no configuration meets";
      if (min_accuracy) why += " accuracy >= " + FormatDouble(*min_accuracy);
      if (min_accuracy && max_energy_j) why += " and";
      if (max_energy_j) why += " energy per sample <= " + FormatDouble(*max_energy_j) + " J";
      why += "; the most accurate is " + base->model + " (" + base->config_id + ", accuracy " +
             FormatFixed(base->accuracy, 4) + ", " + FormatDouble(base->energy_per_sample_j) + " J/sample)";
      notes.push_back(why);
      continue;
    }
    Recommendation r;
    r.phase = phase;
    r.model = pick->model;
    r.config_id = pick->config_id;
    r.precision = pick->precision;
    r.batch_size = pick->batch_size;
    r.threads = pick->threads;
    r.accuracy = pick->accuracy;
    r.energy_per_sample_j = pick->energy_per_sample_j;
    r.baseline_model = base->model;
    r.baseline_config_id = base->config_id;
    r.baseline_accuracy = base->accuracy;
    r.baseline_energy_per_sample_j = base->energy_per_sample_j;
    r.energy_saved_j = base->energy_per_sample_j - pick->energy_per_sample_j;
    r.energy_saved_pct =
        base->energy_per_sample_j > 0 ? r.energy_saved_j / base->energy_per_sample_j * 100 : 0;
    r.accuracy_lost = base->accuracy - pick->accuracy;
    r.text = phase + ": " + pick->model + " (batch " + std::to_string(pick->batch_size) + ", " +
             std::to_string(pick->threads) + " threads, " + pick->precision + ") uses " +
             FormatFixed(r.energy_saved_pct, 1) + "% less energy per sample than the most accurate choice " +
             base->model + " for " + FormatFixed(r.accuracy_lost * 100, 2) + " points less accuracy";
    if (out.estimated) r.text += " (estimated energy)";
    out.items.push_back(std::move(r));
  }
  if (phases.empty())
    notes.push_back("no configuration has an accuracy: nothing to recommend");
  else if (!min_accuracy && !max_energy_j)
    notes.push_back(
        "no constraint given: each item is the cheapest configuration overall; give --min-accuracy A "
        "and/or --max-energy-j E");
  if (out.estimated) notes.push_back(kEstimatedNote);
  out.note = Join(notes, "; ");
  return out;
}

std::optional<double> BreakEvenInferences(double training_j, double inference_per_sample_j) {
  if (!(training_j >= 0) || !(inference_per_sample_j > 0) || !std::isfinite(training_j) ||
      !std::isfinite(inference_per_sample_j))
    return std::nullopt;
  return training_j / inference_per_sample_j;
}

Lifecycle ComputeLifecycle(const std::vector<RunRow>& rows, const std::vector<ConfigPoint>& configs,
                           std::optional<double> inferences, EnergyBasis basis) {
  (void)rows;  // whole-run training energy comes from the aggregated full windows
  (void)basis;
  Lifecycle out;
  out.inferences = inferences;
  std::vector<std::string> order, notes;
  std::map<std::string, const ConfigPoint*> train, infer;
  for (const auto& c : configs) {
    if (c.phase != "train" && c.phase != "infer") continue;
    if (std::find(order.begin(), order.end(), c.model) == order.end()) order.push_back(c.model);
    auto& slot = c.phase == "train" ? train[c.model] : infer[c.model];
    if (c.phase == "train") {
      // The model's main training run: the most samples; then the cheapest.
      const double len = c.full_length_samples.value_or(c.samples);
      const double slot_len = slot ? slot->full_length_samples.value_or(slot->samples) : 0;
      if (!slot || len > slot_len || (len == slot_len && c.energy_per_sample_j < slot->energy_per_sample_j))
        slot = &c;
    } else if (!slot || c.energy_per_sample_j < slot->energy_per_sample_j) {
      slot = &c;
    }
  }
  for (const auto& m : order) {
    if (!train.count(m) || !infer.count(m)) continue;
    const ConfigPoint& t = *train[m];
    const ConfigPoint& i = *infer[m];
    out.estimated = out.estimated || t.estimated || i.estimated;
    LifecycleModel lm;
    lm.model = m;
    // A profile stands for its extrapolated full length (same energy basis).
    lm.training_energy_j = t.energy_per_sample_j * t.full_length_samples.value_or(t.samples);
    lm.inference_energy_per_sample_j = i.energy_per_sample_j;
    lm.break_even_n = BreakEvenInferences(lm.training_energy_j, lm.inference_energy_per_sample_j);
    if (inferences) {
      lm.inferences = *inferences;
      const double inf_j = *inferences * lm.inference_energy_per_sample_j;
      lm.total_j = lm.training_energy_j + inf_j;
      if (*lm.total_j > 0) {
        lm.training_share = lm.training_energy_j / *lm.total_j;
        lm.inference_share = inf_j / *lm.total_j;
      }
    }
    const double n_max = std::max(lm.break_even_n ? 2 * *lm.break_even_n : 0.0, inferences.value_or(0.0));
    if (n_max > 0) {
      constexpr int kSteps = 20;
      for (int s = 0; s <= kSteps; ++s) {
        const double n = n_max * s / kSteps;
        const double inf_j = n * lm.inference_energy_per_sample_j;
        lm.series.push_back({n, lm.training_energy_j, inf_j, lm.training_energy_j + inf_j});
      }
    }
    out.models.push_back(std::move(lm));
  }
  if (out.models.empty()) notes.push_back("no model has both a train and an infer run: no lifecycle");
  if (!inferences)
    notes.push_back("give --inferences N or --requests-per-day R --days D for totals and shares");
  if (!out.models.empty())
    notes.push_back(
        "training energy = the model's longest measured training window (a profile-only training "
        "counts as its extrapolated full length); inference = its cheapest inference configuration per "
        "sample");
  if (out.estimated) notes.push_back(kEstimatedNote);
  out.note = Join(notes, "; ");
  return out;
}

Result<Carbon> ComputeCarbon(double energy_j, const AnalysisOptions& opts, std::string basis) {
  Carbon c;
  if (!(opts.pue >= 1.0) || !std::isfinite(opts.pue))
    return Status::InvalidArgument("--pue must be a number >= 1.0 (got " + FormatDouble(opts.pue) +
                                   "); 1.0 is a local machine, about 1.58 a typical data centre");
  c.pue = opts.pue;
  if (opts.intensity_g_per_kwh) {
    if (!(*opts.intensity_g_per_kwh >= 0) || !std::isfinite(*opts.intensity_g_per_kwh))
      return Status::InvalidArgument("--intensity must be a non-negative number of gCO2e per kWh (got " +
                                     FormatDouble(*opts.intensity_g_per_kwh) + ")");
    c.intensity_g_per_kwh = *opts.intensity_g_per_kwh;
    c.intensity_source = "--intensity";
  } else if (!opts.region.empty()) {
    const std::string want = ToLower(opts.region);
    const CarbonRegion* found = nullptr;
    std::vector<std::string> codes;
    for (const auto& r : CarbonRegions()) {
      codes.push_back(r.code);
      if (ToLower(r.code) == want) found = &r;
    }
    if (!found)
      return Status::InvalidArgument("unknown --region '" + opts.region + "'; known: " + Join(codes, ", ") +
                                     " (or give --intensity G_PER_KWH)");
    c.intensity_g_per_kwh = found->intensity_g_per_kwh;
    c.region = found->code;
    c.intensity_source =
        std::string(found->source) + ", " + std::to_string(found->year) + " (" + found->name + ")";
  } else {
    c.intensity_g_per_kwh = kDefaultIntensityGPerKwh;
    c.intensity_source = "default: world average 475 g/kWh";
  }
  if (!std::isfinite(energy_j) || energy_j < 0) energy_j = 0;
  c.energy_j = energy_j;
  c.energy_kwh = energy_j / 3.6e6;
  c.gco2e = c.energy_kwh * c.intensity_g_per_kwh * c.pue;
  c.basis = std::move(basis);
  return c;
}

}  // namespace wattlab::analysis
