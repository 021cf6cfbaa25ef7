// The report's sections on what the data predicts and recommends: the
// lifecycle, predicted vs measured, recommendations, carbon, and the
// per-run table.
#include <algorithm>
#include <cmath>

#include "core/strings.h"
#include "report/sections.h"

namespace wattlab::report {

using analysis::FeatureSetName;
using analysis::PhaseName;

Section LifecycleSection(const Context& c) {
  Section s;
  s.id = "lifecycle";
  s.title = "Lifecycle: training once vs inference forever";
  s.paragraphs.push_back(
      "Cumulative energy of training a model once and then serving N inferences. Where a curve bends upward, "
      "inference has overtaken training (the ringed break-even point).");
  PlotBlock b;
  b.csv_name = "lifecycle.csv";
  b.csv.header = {"model", "inferences", "training_j", "inference_j", "total_j"};
  b.spec.id = "lifecycle";
  b.spec.title = "Cumulative energy vs number of inferences";
  b.spec.x = {"inferences served (count)", AxisScale::kLog};
  b.spec.y = {"cumulative energy, training + inference (J)", AxisScale::kLog};
  std::vector<const analysis::LifecycleModel*> ms;
  if (c.a)
    for (const auto& m : c.a->lifecycle.models)
      if (!m.series.empty()) ms.push_back(&m);
  if (ms.empty()) {
    b.empty_reason = !c.a ? NoAnalysisReason(c)
                          : "needs a model measured in both training and inference" +
                                (c.a->lifecycle.note.empty() ? "" : " (" + c.a->lifecycle.note + ")");
    s.plots.push_back(std::move(b));
    return s;
  }
  constexpr size_t kMaxDrawn = 8;
  // Curves drawn from each model's two figures, N log-spaced from 1/100 of
  // its break-even to 100x it (or the planned N): the analysis' series is
  // linear in N and would leave a log axis empty where the curves bend.
  Series be{"break-even (inference energy = training energy)", SeriesKind::kScatter, {}, false, 7, 0, true};
  for (size_t i = 0; i < ms.size(); ++i) {
    const auto& m = *ms[i];
    Series line{m.model, SeriesKind::kLine, {}, false, static_cast<int>(i % 7), 0};
    const double per = m.inference_energy_per_sample_j, train = m.training_energy_j;
    const double be_n = m.break_even_n && *m.break_even_n > 0 ? *m.break_even_n : 1e6;
    const double lo = std::max(1.0, be_n / 100), hi = std::max(be_n * 100, m.inferences.value_or(0.0));
    constexpr int kSteps = 40;
    for (int k = 0; k <= kSteps; ++k) {
      const double n = lo * std::pow(hi / lo, static_cast<double>(k) / kSteps);
      const double inf_j = n * per;
      b.csv.rows.push_back({m.model, CsvNum(n), CsvNum(train), CsvNum(inf_j), CsvNum(train + inf_j)});
      line.points.push_back({n, train + inf_j, ""});
    }
    if (i < kMaxDrawn) {
      if (m.break_even_n && *m.break_even_n > 0) be.points.push_back({*m.break_even_n, 2 * train, ""});
      b.spec.series.push_back(std::move(line));
    }
  }
  if (!be.points.empty()) b.spec.series.push_back(std::move(be));
  if (ms.size() > kMaxDrawn)
    b.spec.notes.push_back(std::to_string(kMaxDrawn) + " of " + std::to_string(ms.size()) +
                           " models drawn; all are in the table and lifecycle.csv");
  if (c.a->lifecycle.estimated) b.spec.notes.push_back(EstimatedNote(true));
  s.estimated = c.a->lifecycle.estimated;
  b.has_data = true;
  s.plots.push_back(std::move(b));
  Table t;
  t.header = {"model", "training energy", "inference J/sample", "break-even inferences",
              "days at " + CountText(c.opt.inferences_per_day) + "/day"};
  t.numeric = {false, true, true, true, true};
  for (const auto* m : ms) {
    t.rows.push_back({m->model, EnergyText(m->training_energy_j), Sig(m->inference_energy_per_sample_j),
                      m->break_even_n ? CountText(*m->break_even_n) : "—",
                      m->break_even_n && c.opt.inferences_per_day > 0
                          ? Sig(*m->break_even_n / c.opt.inferences_per_day, 3)
                          : "—"});
  }
  s.tables.push_back({"Break-even per model", t});
  return s;
}

Section PredictionSection(const Context& c) {
  Section s;
  s.id = "prediction";
  s.title = "Predicted vs measured";
  s.paragraphs.push_back(
      "Left out one model at a time, the predictor is fitted on the others and predicts the held-out model's "
      "energy "
      "per sample (leave-one-model-out): an honest error for an unseen model. The dotted diagonal is a "
      "perfect "
      "prediction.");
  for (const std::string phase : {"infer", "train"}) {
    PlotBlock b;
    b.csv_name = "predicted_vs_measured_" + phase + ".csv";
    b.csv.header = {"model", "config_id", "measured_j", "predicted_j", "ape_pct", "feature_set"};
    b.spec.id = "pred-" + phase;
    b.spec.title = "Predictor, " + PhaseName(phase) + ": predicted vs measured energy per sample";
    b.spec.x = {"measured energy per sample (J)", AxisScale::kLog};
    b.spec.y = {"predicted energy per sample (J)", AxisScale::kLog};
    b.spec.diagonal = true;
    const analysis::PhasePredictor* pp = nullptr;
    if (c.a)
      for (const auto& p : c.a->predictor)
        if (p.phase == phase) pp = &p;
    const analysis::FeatureSetScore* sel = nullptr;
    if (pp)
      for (const auto& set : pp->sets)
        if (set.set.name == pp->selected) sel = &set;
    const std::vector<analysis::LomoPoint>* pts = nullptr;
    if (pp && !pp->nested_points.empty())
      pts = &pp->nested_points;
    else if (sel && !sel->points.empty())
      pts = &sel->points;
    if (!pts) {
      b.empty_reason = !c.a  ? NoAnalysisReason(c)
                       : !pp ? "no " + PhaseName(phase) + " windows to predict"
                             : "too few models to leave one out (needs at least " +
                                   std::to_string(analysis::kMinModelsForPredict) + ")" +
                                   (pp->note.empty() ? "" : ": " + pp->note);
      s.plots.push_back(std::move(b));
      continue;
    }
    Series ser{"held-out configurations", SeriesKind::kScatter, {}, true, 3, 0};
    for (const auto& p : *pts) {
      ser.points.push_back({p.measured_j, p.predicted_j, p.model});
      b.csv.rows.push_back({p.model, p.config_id, CsvNum(p.measured_j), CsvNum(p.predicted_j),
                            CsvNum(p.ape_pct), p.chosen_set.empty() ? pp->selected : p.chosen_set});
    }
    LabelOncePerName(&ser.points);
    b.spec.series.push_back(std::move(ser));
    b.spec.notes.push_back("feature set: " + FeatureSetName(pp->selected));
    if (sel && sel->mape_pct) b.spec.notes.push_back("LOMO mean error " + Fixed(*sel->mape_pct, 1) + "%");
    if (pp->nested_mape_pct)
      b.spec.notes.push_back("nested (set chosen blind) mean error " + Fixed(*pp->nested_mape_pct, 1) + "%");
    if (pp->estimated) b.spec.notes.push_back(EstimatedNote(true));
    s.estimated = s.estimated || pp->estimated;
    b.has_data = true;
    s.plots.push_back(std::move(b));
  }
  // The operator-level model (issue 12): predicted vs measured time per
  // sample, held out one model at a time, with the identity line and a band
  // of +-MAPE around it.
  for (const std::string phase : {"infer", "train"}) {
    PlotBlock b;
    b.csv_name = "opmodel_time_" + phase + ".csv";
    b.csv.header = {"model",           "config_id",         "batch_size",
                    "measured_time_s", "predicted_time_s",  "time_ape_pct",
                    "time_cv_pct",     "measured_energy_j", "predicted_energy_j",
                    "energy_ape_pct",  "energy_cv_pct"};
    b.spec.id = "opmodel-" + phase;
    b.spec.title = "Operator-level model, " + PhaseName(phase) + ": predicted vs measured time per sample";
    b.spec.x = {"measured time per sample (s)", AxisScale::kLog};
    b.spec.y = {"predicted time per sample (s)", AxisScale::kLog};
    b.spec.diagonal = true;
    const OpModelPhase* op = nullptr;
    if (c.a)
      for (const auto& p : c.a->op_model.phases)
        if (p.phase == phase) op = &p;
    if (!op || op->points.empty()) {
      std::string why = !c.a                          ? NoAnalysisReason(c)
                        : op                          ? op->note
                        : c.a->op_model.notes.empty() ? "no " + PhaseName(phase) + " configuration was judged"
                                                      : c.a->op_model.notes.front();
      b.empty_reason = why.empty() ? "no " + PhaseName(phase) + " configuration was judged" : why;
      s.plots.push_back(std::move(b));
      continue;
    }
    Series ser{"held-out configurations", SeriesKind::kScatter, {}, true, 2, 1};
    double lo = 0, hi = 0;
    for (const auto& p : op->points) {
      ser.points.push_back({p.measured_time_s, p.predicted_time_s, p.model});
      lo = lo == 0 ? p.measured_time_s : std::min(lo, p.measured_time_s);
      hi = std::max(hi, p.measured_time_s);
      b.csv.rows.push_back({p.model, p.config_id, std::to_string(p.batch_size), CsvNum(p.measured_time_s),
                            CsvNum(p.predicted_time_s), CsvNum(p.time_ape_pct),
                            p.time_cv_pct ? CsvNum(*p.time_cv_pct) : "", CsvNum(p.measured_energy_j),
                            CsvNum(p.predicted_energy_j), CsvNum(p.energy_ape_pct),
                            p.energy_cv_pct ? CsvNum(*p.energy_cv_pct) : ""});
    }
    LabelOncePerName(&ser.points);
    b.spec.series.push_back(std::move(ser));
    if (op->time_mape_pct && lo > 0) {
      const double f = 1 + *op->time_mape_pct / 100;
      b.spec.series.push_back(Series{"+-" + Fixed(*op->time_mape_pct, 1) + "% (the LOMO mean error)",
                                     SeriesKind::kDashed,
                                     {{lo, lo * f, ""}, {hi, hi * f, ""}},
                                     false,
                                     5,
                                     0});
      b.spec.series.push_back(
          Series{"", SeriesKind::kDashed, {{lo, lo / f, ""}, {hi, hi / f, ""}}, false, 5, 0});
    }
    if (op->time_mape_pct)
      b.spec.notes.push_back("LOMO mean error: time " + Fixed(*op->time_mape_pct, 1) + "%, energy " +
                             Fixed(op->energy_mape_pct.value_or(0), 1) + "%");
    if (op->median_time_cv_pct)
      b.spec.notes.push_back("repetitions' median CV: time " + Fixed(*op->median_time_cv_pct, 1) + "%" +
                             (op->median_energy_cv_pct
                                  ? ", energy " + Fixed(*op->median_energy_cv_pct, 1) + "%"
                                  : std::string()));
    if (op->estimated) b.spec.notes.push_back(EstimatedNote(true));
    s.estimated = s.estimated || op->estimated;
    b.has_data = true;
    s.plots.push_back(std::move(b));
  }
  // Extrapolation.
  {
    PlotBlock b;
    b.csv_name = "extrapolation.csv";
    b.csv.header = {"model", "config_id", "phase", "repetition", "predicted_j", "measured_j", "error_pct"};
    b.spec.id = "extrapolation";
    b.spec.title = "Extrapolation: whole-run energy predicted from a short profile vs measured";
    b.spec.x = {"measured energy of the full run (J)", AxisScale::kLog};
    b.spec.y = {"energy extrapolated from the profile (J)", AxisScale::kLog};
    b.spec.diagonal = true;
    if (!c.a || c.a->extrapolation.points.empty()) {
      b.empty_reason =
          !c.a ? NoAnalysisReason(c)
               : "no run measured both a short profile and the full length (set profile_steps and a full "
                 "training in the study spec)" +
                     (c.a->extrapolation.note.empty() ? "" : " (" + c.a->extrapolation.note + ")");
    } else {
      const auto& ex = c.a->extrapolation;
      Series ser{"runs", SeriesKind::kScatter, {}, true, 2, 0};
      for (const auto& p : ex.points) {
        ser.points.push_back({p.measured_j, p.predicted_j, p.model});
        b.csv.rows.push_back({p.model, p.config_id, p.phase, std::to_string(p.repetition),
                              CsvNum(p.predicted_j), CsvNum(p.measured_j), CsvNum(p.error_pct)});
      }
      LabelOncePerName(&ser.points);
      b.spec.series.push_back(std::move(ser));
      if (ex.mean_abs_error_pct)
        b.spec.notes.push_back("mean absolute error " + Fixed(*ex.mean_abs_error_pct, 1) + "%");
      if (ex.max_abs_error_pct) b.spec.notes.push_back("worst " + Fixed(*ex.max_abs_error_pct, 1) + "%");
      if (ex.estimated) b.spec.notes.push_back(EstimatedNote(true));
      s.estimated = s.estimated || ex.estimated;
      b.has_data = true;
    }
    s.plots.push_back(std::move(b));
  }
  // Predictor comparison table.
  Table t;
  t.header = {"phase",  "feature set", "LOMO mean error", "LOMO median error", "R² (log, in-sample)",
              "points", "models",      "selected"};
  t.numeric = {false, false, true, true, true, true, true, false};
  if (c.a)
    for (const auto& p : c.a->predictor) {
      for (const auto& set : p.sets) {
        t.rows.push_back({p.phase, FeatureSetName(set.set.name),
                          set.mape_pct ? Fixed(*set.mape_pct, 1) + "%" : "—",
                          set.median_ape_pct ? Fixed(*set.median_ape_pct, 1) + "%" : "—", Fixed(set.r2, 3),
                          std::to_string(set.n_points), std::to_string(set.n_models),
                          set.set.name == p.selected ? "yes" : (set.note.empty() ? "" : set.note)});
      }
      if (p.nested_mape_pct)
        t.rows.push_back({p.phase, "nested: set chosen inside each fold", Fixed(*p.nested_mape_pct, 1) + "%",
                          p.nested_median_ape_pct ? Fixed(*p.nested_median_ape_pct, 1) + "%" : "—", "—", "",
                          "", ""});
    }
  if (t.rows.empty()) {
    s.paragraphs.push_back("Predictor comparison: no predictor could be fitted: " +
                           (c.a ? "needs at least " + std::to_string(analysis::kMinModelsForPredict) +
                                      " distinct models per phase"
                                : NoAnalysisReason(c)) +
                           ".");
  } else {
    s.tables.push_back({"Predictor comparison (lower error is better)", t});
  }
  if (c.a && !c.a->extrapolation.points.empty()) {
    Table e;
    e.header = {"model", "phase", "repetition", "extrapolated", "measured", "error"};
    e.numeric = {false, false, true, true, true, true};
    for (const auto& p : c.a->extrapolation.points)
      e.rows.push_back({p.model, p.phase, std::to_string(p.repetition), EnergyText(p.predicted_j),
                        EnergyText(p.measured_j), Fixed(p.error_pct, 1) + "%"});
    s.tables.push_back({"Extrapolation check", e});
  }
  return s;
}

Section RecommendationSection(const Context& c) {
  Section s;
  s.id = "recommendations";
  s.title = "Recommendations";
  Table t;
  t.header = {"phase",    "choose",   "batch",      "threads",      "precision",
              "accuracy", "J/sample", "instead of", "energy saved", "accuracy lost"};
  t.numeric = {false, false, true, true, false, true, true, false, true, true};
  if (c.a)
    for (const auto& r : c.a->recommendations.items) {
      t.rows.push_back({r.phase, r.model, std::to_string(r.batch_size), std::to_string(r.threads),
                        r.precision, Percent(r.accuracy, 1), Sig(r.energy_per_sample_j),
                        r.baseline_model + " (" + Percent(r.baseline_accuracy, 1) + ", " +
                            Sig(r.baseline_energy_per_sample_j) + " J)",
                        Fixed(r.energy_saved_pct, 1) + "%", Fixed(r.accuracy_lost * 100, 1) + " points"});
      if (!r.text.empty()) s.paragraphs.push_back(r.text);
    }
  if (t.rows.empty()) {
    s.empty_reason =
        !c.a ? NoAnalysisReason(c)
             : (c.a->recommendations.note.empty()
                    ? "a recommendation needs configurations with an accuracy to trade against energy"
                    : c.a->recommendations.note);
  } else {
    s.tables.push_back({"Lowest-energy configuration per phase, with its trade-off", t});
  }
  if (c.a) s.estimated = c.a->recommendations.estimated;
  return s;
}

Section CarbonSection(const Context& c) {
  Section s;
  s.id = "carbon";
  s.title = "Carbon";
  if (!c.a || !(c.a->carbon.energy_j > 0)) {
    s.empty_reason = !c.a ? NoAnalysisReason(c) : "no positive energy to convert";
    return s;
  }
  const auto& k = c.a->carbon;
  s.paragraphs.push_back("gCO2e = kWh x grid intensity (g/kWh) x PUE.");
  Table t;
  t.header = {"energy converted", "energy", "kWh", "intensity (g/kWh)", "intensity source", "PUE", "gCO2e"};
  t.numeric = {false, true, true, true, false, true, true};
  t.rows.push_back({k.basis, EnergyText(k.energy_j), Sig(k.energy_kwh, 3), Sig(k.intensity_g_per_kwh, 3),
                    k.intensity_source + (k.region.empty() ? "" : " (" + k.region + ")"), Sig(k.pue, 3),
                    Sig(k.gco2e, 3)});
  s.tables.push_back({"Carbon of the study", t});
  if (!k.note.empty()) s.paragraphs.push_back(k.note);
  s.estimated = k.estimated;
  return s;
}

Section RunsSection(const Context& c) {
  Section s;
  s.id = "runs";
  s.title = "Per-run results";
  s.collapsed = c.in.rows.size() > 40;
  Table t;
  t.header = {"run",     "model",        "phase",      "window",         "batch",    "threads",  "precision",
              "samples", "duration (s)", "energy (J)", "above idle (J)", "J/sample", "accuracy", "source"};
  t.numeric = {true, false, false, false, true, true, false, true, true, true, true, true, true, false};
  const bool above = c.in.energy_basis.basis == EnergyBasis::kAboveIdle;
  bool any_below = false;
  for (const auto& r : c.in.rows) {
    // Never negative without the reason; round-off is 0 (core/energy_basis.h).
    std::optional<ShownAboveIdle> shown;
    if (r.energy_above_idle_j) shown = ShowAboveIdle(r.energy_j, *r.energy_above_idle_j);
    const double e = above && shown ? shown->value_j : r.energy_j;
    const std::string per = r.samples > 0 ? Sig(e / static_cast<double>(r.samples)) : "—";
    std::string above_cell = shown ? Sig(shown->value_j) : "—";
    if (shown && shown->below_idle_j > 0) {
      above_cell += " (below idle by " + Sig(shown->below_idle_j) + ")";
      any_below = true;
    }
    t.rows.push_back({std::to_string(r.run_id), r.model, r.phase, r.window, std::to_string(r.batch_size),
                      std::to_string(r.threads), r.precision, std::to_string(r.samples), Sig(r.duration_s),
                      Sig(r.energy_j), above_cell, per, r.accuracy ? Percent(*r.accuracy, 1) : "—",
                      r.source + (r.estimated ? " (estimated)" : "")});
    s.estimated = s.estimated || r.estimated;
  }
  if (t.rows.empty()) {
    s.empty_reason = "the database holds no measured windows for this study";
  } else {
    s.paragraphs.push_back(
        above ? "J/sample uses the energy above idle (the report's basis), shown as 0 where the "
                "window drew less than its idle baseline."
              : "J/sample uses the total energy (the report's basis: " + c.in.energy_basis.reason + ").");
    if (any_below)
      s.paragraphs.push_back(
          "\"below idle\": the window drew less than the idle baseline measured before it, so "
          "the baseline was busier than the run; such a figure is shown as 0.");
    s.tables.push_back({"Every measured window", t});
  }
  return s;
}

}  // namespace wattlab::report
