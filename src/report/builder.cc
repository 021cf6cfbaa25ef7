#include "report/builder.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <set>
#include <sstream>

#include "core/strings.h"
#include "report/doc.h"
#include "report/svg.h"

namespace wattlab::report {
namespace {

using analysis::AnalysisResult;

constexpr const char* kEstimatedCaveat =
    "rests on estimated energy (a model of CPU time, not a measurement)";

// ---- small helpers ----------------------------------------------------------

bool Finite(double v) { return std::isfinite(v); }

std::string PhaseName(const std::string& phase) {
  if (phase == "train") return "training";
  if (phase == "infer") return "inference";
  if (phase == "eval") return "evaluation";
  return phase;
}

std::string FeatureName(const std::string& x) {
  if (x == "macs_per_param") return "MACs/param";
  if (x == "macs") return "MACs";
  if (x == "params") return "parameters";
  if (x == "batch_size") return "batch size";
  if (x == "threads") return "threads";
  if (x == "duration_s") return "duration";
  if (x == "cpu_util") return "CPU utilisation";
  return x;
}

std::string FeatureSetName(const std::string& set) {
  std::vector<std::string> parts = Split(set, '+');
  for (auto& p : parts) p = FeatureName(p);
  return Join(parts, " + ");
}

// Accuracy is stored as a fraction (0..1); older files may hold percent.
double AccuracyPct(double a) { return a <= 1.0 ? a * 100.0 : a; }

// Least-squares line through (log x, log y); returns the endpoints across
// [xmin, xmax] and the exponent, or nothing with fewer than 2 distinct x.
struct LogFit {
  double slope = 0, intercept = 0;
};
std::optional<LogFit> FitLogLine(const std::vector<std::pair<double, double>>& pts) {
  std::vector<double> lx, ly;
  for (const auto& [x, y] : pts) {
    if (x > 0 && y > 0 && Finite(x) && Finite(y)) {
      lx.push_back(std::log10(x));
      ly.push_back(std::log10(y));
    }
  }
  if (lx.size() < 2) return std::nullopt;
  double mx = 0, my = 0;
  for (size_t i = 0; i < lx.size(); ++i) mx += lx[i], my += ly[i];
  mx /= lx.size();
  my /= ly.size();
  double sxx = 0, sxy = 0;
  for (size_t i = 0; i < lx.size(); ++i) {
    sxx += (lx[i] - mx) * (lx[i] - mx);
    sxy += (lx[i] - mx) * (ly[i] - my);
  }
  if (sxx <= 1e-12) return std::nullopt;
  LogFit f;
  f.slope = sxy / sxx;
  f.intercept = my - f.slope * mx;
  if (!Finite(f.slope) || !Finite(f.intercept)) return std::nullopt;
  return f;
}

// Labels one point per distinct label (the highest), so a model measured at
// many batch sizes is named once, not once per point.
void LabelOncePerName(std::vector<PlotPoint>* points) {
  std::map<std::string, size_t> best;
  for (size_t i = 0; i < points->size(); ++i) {
    auto it = best.find((*points)[i].label);
    if (it == best.end() || (*points)[i].y > (*points)[it->second].y) best[(*points)[i].label] = i;
  }
  for (size_t i = 0; i < points->size(); ++i) {
    auto it = best.find((*points)[i].label);
    if (it->second != i) (*points)[i].label.clear();
  }
}

std::string CsvText(const Table& t) {
  std::string out;
  std::vector<std::string> cells;
  for (const auto& h : t.header) cells.push_back(CsvEscape(h));
  out += Join(cells, ",") + "\n";
  for (const auto& row : t.rows) {
    cells.clear();
    for (const auto& c : row) cells.push_back(CsvEscape(c));
    out += Join(cells, ",") + "\n";
  }
  return out;
}

// CSV numbers: full precision, empty for absent/non-finite (never "nan").
std::string CsvNum(double v) { return Finite(v) ? FormatDouble(v) : ""; }
std::string CsvNum(const std::optional<double>& v) { return v ? CsvNum(*v) : ""; }

// ---- the document model ------------------------------------------------------

struct PlotBlock {
  PlotSpec spec;
  std::string csv_name;
  Table csv;
  bool has_data = false;
  std::string empty_reason;  // shown instead of the plot when !has_data
};

struct Section {
  std::string id, title;
  std::vector<std::string> paragraphs;
  std::vector<PlotBlock> plots;
  std::vector<std::pair<std::string, Table>> tables;  // caption, table
  std::string empty_reason;  // the whole section has no data: why
  bool estimated = false;
  bool collapsed = false;  // long tables: <details>
};

struct Context {
  const ReportInput& in;
  const ReportOptions& opt;
  const AnalysisResult* a;   // null when the analysis did not run
  bool estimated_any = false, measured_any = false;
  int64_t n_runs = 0;
  std::set<std::string> models;
};

std::string NoAnalysisReason(const Context& c) {
  return c.in.analysis_error.empty() ? "the analysis did not run" : c.in.analysis_error;
}

std::string EstimatedNote(bool estimated) {
  return estimated ? "ESTIMATED energy: a model of CPU time, not a measurement" : "";
}

// ---- sections ------------------------------------------------------------------

Section ContextSection(const Context& c, Table* context_table, std::string* banner, std::string* spec_text) {
  Section s;
  s.id = "context";
  s.title = "Context";
  Table& t = *context_table;
  t.header = {"item", "value"};
  auto add = [&](const std::string& k, const std::string& v) { t.rows.push_back({k, v.empty() ? "—" : v}); };
  std::vector<const StudyInfo*> studies;
  for (const auto& st : c.in.studies) studies.push_back(&st);
  if (studies.empty()) {
    add("study", "no study context stored (rows only)");
  }
  for (const StudyInfo* st : studies) {
    const std::string p = studies.size() > 1 ? st->name + ": " : "";
    add(p + "study", st->name);
    add(p + "date", FormatUtc(st->started_at_unix_s) +
                        (st->finished_at_unix_s ? " to " + FormatUtc(*st->finished_at_unix_s) : " (not finished)"));
    add(p + "machine", st->host);
    add(p + "CPU", st->cpu);
    add(p + "GPUs", st->gpus.empty() ? "none" : Join(st->gpus, "; "));
    add(p + "kernel", st->kernel);
    add(p + "libtorch", st->libtorch);
    add(p + "BLAS", st->blas);
    add(p + "meter sources", st->sources.empty() ? "none recorded" : Join(st->sources, ", "));
    add(p + "sampling interval", Finite(st->interval_s) && st->interval_s > 0 ? Sig(st->interval_s * 1000, 3) + " ms" : "");
    if (st->idle_baselines.empty()) {
      add(p + "idle baseline", "not measured: energies above idle are absent");
    } else {
      double sum = 0, lo = st->idle_baselines.front().second, hi = lo;
      for (const auto& [when, w] : st->idle_baselines) {
        sum += w;
        lo = std::min(lo, w);
        hi = std::max(hi, w);
      }
      const double mean = sum / st->idle_baselines.size();
      std::string v = Sig(mean, 3) + " W (mean of " + std::to_string(st->idle_baselines.size()) + " measurement" +
                      (st->idle_baselines.size() == 1 ? ")" : "s, " + Sig(lo, 3) + "–" + Sig(hi, 3) + " W)");
      add(p + "idle baseline", v);
    }
    for (const auto& [k, v] : st->meter_facts) add(p + k, v);
    add(p + "recorded by wattlab", st->wattlab_version);
    if (!st->spec_toml.empty()) {
      if (!spec_text->empty()) *spec_text += "\n";
      *spec_text += (studies.size() > 1 ? "# study " + st->name + "\n" : "") + st->spec_toml;
    }
  }
  add("runs", std::to_string(c.n_runs) + " runs, " + std::to_string(c.in.rows.size()) + " measured windows, " +
                  std::to_string(c.models.size()) + " models");
  add("report written by wattlab", c.in.wattlab_version);
  add("report generated", c.in.generated_at);

  if (c.in.rows.empty()) {
    *banner = "NO ENERGY DATA: the database holds no measured windows";
  } else if (c.estimated_any && c.measured_any) {
    *banner = "PARTLY ESTIMATED: some energy figures come from the estimate (a model of CPU time), the rest were measured";
  } else if (c.estimated_any) {
    *banner = "ESTIMATED: no energy counter was readable, every energy figure is a model of CPU time, not a measurement";
  } else {
    std::set<std::string> sources;
    for (const auto& r : c.in.rows)
      for (const auto& src : Split(r.source, '+'))
        if (!src.empty()) sources.insert(src);
    *banner = "MEASURED: energy read from hardware counters (" +
              Join(std::vector<std::string>(sources.begin(), sources.end()), ", ") + ")";
  }
  return s;
}

std::vector<Finding> ComputeFindings(const Context& c) {
  std::vector<Finding> f;
  const AnalysisResult* a = c.a;
  if (!a) {
    f.push_back({"No findings: " + NoAnalysisReason(c) + ".", c.estimated_any});
    return f;
  }
  // Predictor error (leave-one-model-out), per phase.
  for (const auto& p : a->predictor) {
    const analysis::FeatureSetScore* sel = nullptr;
    for (const auto& set : p.sets)
      if (set.set.name == p.selected) sel = &set;
    if (!sel || !sel->mape_pct) continue;
    std::string text = FeatureSetName(p.selected) + " predicts " + PhaseName(p.phase) + " energy per sample with " +
                       Fixed(*sel->mape_pct, 0) + "% mean error (leave-one-model-out, " +
                       std::to_string(sel->n_models) + " models)";
    if (p.nested_mape_pct) text += "; " + Fixed(*p.nested_mape_pct, 0) + "% when the feature set is also chosen blind";
    // Compare with the other single features.
    for (const auto& set : p.sets) {
      if (&set == sel || !set.mape_pct || set.set.features.size() != 1) continue;
      if (set.set.name == "params" || set.set.name == "macs") {
        text += "; " + FeatureSetName(set.set.name) + " alone: " + Fixed(*set.mape_pct, 0) + "%";
      }
    }
    f.push_back({text + ".", p.estimated});
  }
  // Correlation of MACs/param (and MACs, params) with energy.
  for (const std::string phase : {"infer", "train"}) {
    const analysis::Correlation* mpp = nullptr;
    std::vector<std::string> others;
    for (const auto& corr : a->correlations) {
      if (corr.phase != phase || !corr.spearman) continue;
      if (corr.x == "macs_per_param") mpp = &corr;
      else if (corr.x == "macs" || corr.x == "params")
        others.push_back(FeatureName(corr.x) + " " + Fixed(*corr.spearman, 2));
    }
    if (!mpp) continue;
    std::string text = "Spearman ρ between MACs/param and " + PhaseName(phase) + " energy per sample is " +
                       Fixed(*mpp->spearman, 2) + " (n = " + std::to_string(mpp->n) + ")";
    if (!others.empty()) text += "; " + Join(others, ", ");
    f.push_back({text + ".", mpp->estimated});
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
      if (worst > 0 && Finite(ob.best_energy_per_sample_j) && worst_b != ob.best_batch_size)
        t += " (" + Fixed((1 - ob.best_energy_per_sample_j / worst) * 100, 0) + "% less energy per sample than batch " +
             std::to_string(worst_b) + ")";
      parts.push_back(t);
    }
    if (parts.empty()) continue;
    const size_t shown = std::min<size_t>(parts.size(), 3);
    std::string text = PhaseName(phase) + ": " + Join(std::vector<std::string>(parts.begin(), parts.begin() + shown), "; ");
    if (parts.size() > shown) text += "; " + std::to_string(parts.size() - shown) + " more in the batch-size section";
    text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
    f.push_back({text + ".", a->pareto.estimated});
  }
  // Accuracy for a fraction of the energy (Pareto).
  for (const std::string phase : {"infer", "train"}) {
    const analysis::ParetoPoint* best = nullptr;
    for (const auto& p : a->pareto.points) {
      if (p.phase != phase) continue;
      if (!best || p.accuracy > best->accuracy ||
          (p.accuracy == best->accuracy && p.energy_per_sample_j < best->energy_per_sample_j))
        best = &p;
    }
    if (!best || !(best->accuracy > 0) || !(best->energy_per_sample_j > 0)) continue;
    const analysis::ParetoPoint* cheap = nullptr;
    for (const auto& p : a->pareto.points) {
      if (p.phase != phase || p.accuracy < 0.9 * best->accuracy || p.model == best->model) continue;
      if (!cheap || p.energy_per_sample_j < cheap->energy_per_sample_j) cheap = &p;
    }
    if (!cheap || !(cheap->energy_per_sample_j < best->energy_per_sample_j)) continue;
    f.push_back({cheap->model + " reaches " + Fixed(cheap->accuracy / best->accuracy * 100, 0) +
                     "% of the best accuracy (" + best->model + ", " + Fixed(AccuracyPct(best->accuracy), 1) +
                     "%) for " + Fixed(cheap->energy_per_sample_j / best->energy_per_sample_j * 100, 0) +
                     "% of its " + PhaseName(phase) + " energy per sample.",
                 a->pareto.estimated});
  }
  // Training vs inference.
  if (a->train_vs_infer.median_energy_ratio && a->train_vs_infer.n_models > 0) {
    std::string t = "Training costs a median " + Sig(*a->train_vs_infer.median_energy_ratio, 2) +
                    "x the energy per sample of inference";
    if (a->train_vs_infer.median_time_ratio)
      t += " and " + Sig(*a->train_vs_infer.median_time_ratio, 2) + "x the time";
    t += " (" + std::to_string(a->train_vs_infer.n_models) + " models).";
    f.push_back({t, a->train_vs_infer.estimated});
  }
  // Extrapolation from short profiles.
  if (a->extrapolation.n > 0 && a->extrapolation.mean_abs_error_pct) {
    std::string t = "Short profiles predicted the full runs' energy with " +
                    Fixed(*a->extrapolation.mean_abs_error_pct, 1) + "% mean absolute error";
    if (a->extrapolation.max_abs_error_pct) t += " (worst " + Fixed(*a->extrapolation.max_abs_error_pct, 1) + "%";
    t += std::string(a->extrapolation.max_abs_error_pct ? ", " : " (") + std::to_string(a->extrapolation.n) + " runs).";
    f.push_back({t, a->extrapolation.estimated});
  }
  // Lifecycle break-even.
  {
    const analysis::LifecycleModel* first = nullptr;
    for (const auto& m : a->lifecycle.models) {
      if (!m.break_even_n) continue;
      if (!first || *m.break_even_n < *first->break_even_n) first = &m;
    }
    if (first) {
      std::string t = "Inference energy overtakes training energy after " + CountText(*first->break_even_n) +
                      " inferences for " + first->model;
      if (c.opt.inferences_per_day > 0)
        t += " (" + Sig(*first->break_even_n / c.opt.inferences_per_day, 2) + " days at " +
             CountText(c.opt.inferences_per_day) + " inferences a day)";
      f.push_back({t + ".", a->lifecycle.estimated});
    }
  }
  // Recommendations.
  for (const auto& r : a->recommendations.items) {
    // One candidate is its own baseline: nothing was traded, so no finding.
    if (r.config_id == r.baseline_config_id && r.model == r.baseline_model) continue;
    if (!r.text.empty()) f.push_back({EndsWith(r.text, ".") ? r.text : r.text + ".", a->recommendations.estimated});
  }
  // Carbon.
  if (a->carbon.energy_j > 0) {
    f.push_back({"The study's energy, " + EnergyText(a->carbon.energy_j) + ", is " + Sig(a->carbon.gco2e, 3) +
                     " gCO2e at " + Sig(a->carbon.intensity_g_per_kwh, 3) + " g/kWh and PUE " + Sig(a->carbon.pue, 3) +
                     ".",
                 a->carbon.estimated});
  }
  if (f.empty()) {
    std::string why = c.n_runs <= 1 ? "a study with one run cannot compare models or settings"
                                    : "the runs do not vary model, batch size or accuracy enough to compare";
    f.push_back({"No comparative findings: " + why + ".", c.estimated_any});
  }
  return f;
}

Section CorrelationSection(const Context& c) {
  Section s;
  s.id = "correlation";
  s.title = "Energy per sample vs model size and work";
  s.paragraphs.push_back(
      "Each point is one configuration (repetitions averaged). MACs/param = forward MACs per sample ÷ trainable "
      "parameters. Both axes are logarithmic; the dashed line is a least-squares power law fitted in log space.");
  const std::vector<std::string> phases = {"infer", "train"};
  const std::vector<std::string> xs = {"macs_per_param", "macs"};
  for (const auto& phase : phases) {
    for (const auto& x : xs) {
      PlotBlock b;
      b.csv_name = "energy_vs_" + x + "_" + phase + ".csv";
      b.csv.header = {"model", "config_id", x, "energy_per_sample_j"};
      b.spec.id = "corr-" + x + "-" + phase;
      b.spec.id.erase(std::remove(b.spec.id.begin(), b.spec.id.end(), '_'), b.spec.id.end());
      b.spec.title = PhaseName(phase) + ": energy per sample vs " + FeatureName(x);
      b.spec.title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(b.spec.title[0])));
      b.spec.x = {x == "macs" ? "forward MACs per sample (MACs)" : "MACs per parameter (MACs/param)", AxisScale::kLog};
      b.spec.y = {"energy per sample above idle (J)", AxisScale::kLog};
      const analysis::Correlation* corr = nullptr;
      if (c.a)
        for (const auto& k : c.a->correlations)
          if (k.phase == phase && k.x == x) corr = &k;
      if (!corr || corr->points.size() < 3 || !corr->spearman) {
        b.empty_reason = !c.a ? NoAnalysisReason(c)
                         : !corr || corr->points.empty()
                             ? "no " + PhaseName(phase) + " windows with positive energy per sample"
                             : "a correlation needs at least 3 configurations that differ in " + FeatureName(x) +
                                   "; this study has " + std::to_string(corr->points.size());
        if (c.a && corr && !corr->note.empty()) b.empty_reason += " (" + corr->note + ")";
        s.plots.push_back(std::move(b));
        continue;
      }
      Series pts{"configurations", SeriesKind::kScatter, {}, true, 3, 0};
      std::vector<std::pair<double, double>> xy;
      for (const auto& p : corr->points) {
        pts.points.push_back({p.x, p.energy_per_sample_j, p.model});
        xy.emplace_back(p.x, p.energy_per_sample_j);
        b.csv.rows.push_back({p.model, p.config_id, CsvNum(p.x), CsvNum(p.energy_per_sample_j)});
      }
      LabelOncePerName(&pts.points);
      b.spec.series.push_back(std::move(pts));
      std::string rho = "Spearman ρ = " + Fixed(corr->spearman, 2);
      if (corr->spearman_p) rho += " (p = " + Sig(*corr->spearman_p, 2) + ")";
      rho += ", n = " + std::to_string(corr->n);
      b.spec.notes.push_back(rho);
      if (corr->pearson) b.spec.notes.push_back("Pearson r = " + Fixed(corr->pearson, 2));
      if (auto fit = FitLogLine(xy)) {
        double lo = 1e300, hi = 0;
        for (const auto& [px, py] : xy)
          if (px > 0) lo = std::min(lo, px), hi = std::max(hi, px);
        Series line{"least-squares fit (log-log)", SeriesKind::kDashed, {}, false, 4, 0};
        for (double px : {lo, hi}) line.points.push_back({px, std::pow(10.0, fit->intercept + fit->slope * std::log10(px)), ""});
        b.spec.series.push_back(std::move(line));
        b.spec.notes.push_back("fit: energy ∝ " + FeatureName(x) + "^" + Fixed(fit->slope, 2));
      }
      if (corr->estimated) b.spec.notes.push_back(EstimatedNote(true));
      s.estimated = s.estimated || corr->estimated;
      b.has_data = true;
      s.plots.push_back(std::move(b));
    }
  }
  // Correlation table.
  Table t;
  t.header = {"phase", "feature", "n", "Spearman ρ", "ρ p-value", "Pearson r", "r 95% CI", "note"};
  t.numeric = {false, false, true, true, true, true, false, false};
  if (c.a) {
    for (const auto& k : c.a->correlations) {
      std::string ci = k.pearson_ci_low && k.pearson_ci_high
                           ? Fixed(*k.pearson_ci_low, 2) + " to " + Fixed(*k.pearson_ci_high, 2)
                           : "—";
      t.rows.push_back({k.phase, FeatureName(k.x), std::to_string(k.n), Fixed(k.spearman, 2), Sig(k.spearman_p, 2),
                        Fixed(k.pearson, 2), ci, k.note});
    }
  }
  if (t.rows.empty()) {
    s.paragraphs.push_back("Correlation table: no correlation could be computed: " +
                           (c.a ? std::string("fewer than 3 configurations per phase") : NoAnalysisReason(c)) + ".");
  } else {
    s.tables.push_back({"Correlations with energy per sample", t});
  }
  return s;
}

Section TrainInferSection(const Context& c) {
  Section s;
  s.id = "train-vs-infer";
  s.title = "Training vs inference energy per model";
  PlotBlock b;
  b.csv_name = "train_vs_infer.csv";
  b.csv.header = {"model", "train_energy_per_sample_j", "infer_energy_per_sample_j", "train_time_per_sample_s",
                  "infer_time_per_sample_s", "energy_ratio", "time_ratio"};
  b.spec.id = "train-vs-infer";
  b.spec.title = "Training vs inference energy per sample, per model";
  b.spec.x = {"inference energy per sample (J)", AxisScale::kLog};
  b.spec.y = {"training energy per sample (J)", AxisScale::kLog};
  if (!c.a || c.a->train_vs_infer.models.empty()) {
    b.empty_reason = !c.a ? NoAnalysisReason(c)
                          : "no model was measured in both training and inference" +
                                (c.a->train_vs_infer.note.empty() ? "" : " (" + c.a->train_vs_infer.note + ")");
  } else {
    const auto& tv = c.a->train_vs_infer;
    Series pts{"models", SeriesKind::kScatter, {}, true, 3, 0};
    double lo = 1e300, hi = 0;
    for (const auto& m : tv.models) {
      pts.points.push_back({m.infer_energy_per_sample_j, m.train_energy_per_sample_j, m.model});
      if (m.infer_energy_per_sample_j > 0)
        lo = std::min(lo, m.infer_energy_per_sample_j), hi = std::max(hi, m.infer_energy_per_sample_j);
      b.csv.rows.push_back({m.model, CsvNum(m.train_energy_per_sample_j), CsvNum(m.infer_energy_per_sample_j),
                            CsvNum(m.train_time_per_sample_s), CsvNum(m.infer_time_per_sample_s),
                            CsvNum(m.energy_ratio), CsvNum(m.time_ratio)});
    }
    b.spec.series.push_back(std::move(pts));
    if (hi > 0) {
      Series one{"training = inference", SeriesKind::kDashed, {}, false, 7, 0};
      Series three{"training = 3 x inference (forward + backward)", SeriesKind::kDashed, {}, false, 2, 0};
      for (double x : {lo, hi}) {
        one.points.push_back({x, x, ""});
        three.points.push_back({x, 3 * x, ""});
      }
      b.spec.series.push_back(std::move(one));
      b.spec.series.push_back(std::move(three));
    }
    if (tv.median_energy_ratio) b.spec.notes.push_back("median energy ratio train/infer = " + Sig(*tv.median_energy_ratio, 3));
    if (tv.median_time_ratio) b.spec.notes.push_back("median time ratio train/infer = " + Sig(*tv.median_time_ratio, 3));
    if (tv.energy_spearman) b.spec.notes.push_back("Spearman ρ (train vs infer energy) = " + Fixed(*tv.energy_spearman, 2));
    if (tv.estimated) b.spec.notes.push_back(EstimatedNote(true));
    s.estimated = tv.estimated;
    b.has_data = true;
    Table t;
    t.header = {"model", "train J/sample", "infer J/sample", "energy ratio", "train s/sample", "infer s/sample", "time ratio"};
    t.numeric = {false, true, true, true, true, true, true};
    for (const auto& m : tv.models)
      t.rows.push_back({m.model, Sig(m.train_energy_per_sample_j), Sig(m.infer_energy_per_sample_j), Sig(m.energy_ratio),
                        Sig(m.train_time_per_sample_s), Sig(m.infer_time_per_sample_s), Sig(m.time_ratio)});
    s.tables.push_back({"Training vs inference, per model", t});
  }
  s.plots.push_back(std::move(b));
  return s;
}

Section ParetoSection(const Context& c) {
  Section s;
  s.id = "accuracy-vs-energy";
  s.title = "Accuracy vs energy";
  s.paragraphs.push_back(
      "A configuration is on the Pareto front when no other one is both more accurate and cheaper. Black-ringed "
      "markers joined by a line are the front.");
  for (const std::string phase : {"infer", "train"}) {
    PlotBlock b;
    b.csv_name = "accuracy_vs_energy_" + phase + ".csv";
    b.csv.header = {"model", "config_id", "batch_size", "threads", "precision", "energy_per_sample_j", "accuracy",
                    "on_front"};
    b.spec.id = "pareto-" + phase;
    b.spec.title = "Test accuracy vs " + PhaseName(phase) + " energy per sample";
    b.spec.x = {PhaseName(phase) + " energy per sample (J)", AxisScale::kLog};
    b.spec.y = {"test accuracy (%)", AxisScale::kLinear};
    std::vector<const analysis::ParetoPoint*> pts;
    if (c.a)
      for (const auto& p : c.a->pareto.points)
        if (p.phase == phase) pts.push_back(&p);
    if (pts.empty()) {
      bool any_phase = false;
      for (const auto& r : c.in.rows) any_phase = any_phase || r.phase == phase;
      bool any_acc = false;
      for (const auto& r : c.in.rows) any_acc = any_acc || r.accuracy.has_value();
      b.empty_reason = !c.a       ? NoAnalysisReason(c)
                       : !any_phase ? "no " + PhaseName(phase) + " windows were measured"
                       : !any_acc   ? "no accuracy was recorded (the study did not run an eval pass, or the workload "
                                      "has no labelled test set)"
                                    : "no " + PhaseName(phase) + " configuration has both an accuracy and a positive energy";
      if (c.a && !c.a->pareto.note.empty()) b.empty_reason += " (" + c.a->pareto.note + ")";
      s.plots.push_back(std::move(b));
      continue;
    }
    Series all{"configurations", SeriesKind::kScatter, {}, pts.size() <= 24, 1, 0};
    Series front{"Pareto front", SeriesKind::kLineMarkers, {}, true, 4, 0, true};
    std::vector<const analysis::ParetoPoint*> fp;
    for (const auto* p : pts) {
      const PlotPoint pp{p->energy_per_sample_j, AccuracyPct(p->accuracy), p->model};
      if (p->on_front) fp.push_back(p);
      else all.points.push_back(pp);
      b.csv.rows.push_back({p->model, p->config_id, std::to_string(p->batch_size), std::to_string(p->threads),
                            p->precision, CsvNum(p->energy_per_sample_j), CsvNum(p->accuracy),
                            p->on_front ? "true" : "false"});
    }
    std::sort(fp.begin(), fp.end(), [](auto* x, auto* y) { return x->energy_per_sample_j < y->energy_per_sample_j; });
    for (const auto* p : fp) front.points.push_back({p->energy_per_sample_j, AccuracyPct(p->accuracy), p->model});
    if (all.label_points) LabelOncePerName(&all.points);
    b.spec.series.push_back(std::move(all));
    b.spec.series.push_back(std::move(front));
    if (c.a->pareto.estimated) b.spec.notes.push_back(EstimatedNote(true));
    s.estimated = c.a->pareto.estimated;
    b.has_data = true;
    s.plots.push_back(std::move(b));
  }
  return s;
}

Section BatchSection(const Context& c) {
  Section s;
  s.id = "batch-size";
  s.title = "Energy and time vs batch size";
  s.paragraphs.push_back(
      "Per model, the best thread count and precision at each batch size. The ringed marker is the energy-optimal "
      "batch size.");
  for (const std::string phase : {"infer", "train"}) {
    std::vector<const analysis::OptimalBatch*> obs;
    if (c.a)
      for (const auto& ob : c.a->pareto.optimal_batch)
        if (ob.phase == phase && ob.series.size() >= 2) obs.push_back(&ob);
    for (const std::string what : {"energy", "time"}) {
      PlotBlock b;
      b.csv_name = what + "_vs_batch_size_" + phase + ".csv";
      b.csv.header = {"model", "batch_size", what == "energy" ? "energy_per_sample_j" : "time_per_sample_s",
                      what == "energy" ? "energy_per_sample_sd_j" : "repetitions"};
      b.spec.id = what + "-batch-" + phase;
      b.spec.title = (what == "energy" ? "Energy" : "Time") + std::string(" per sample vs batch size: ") + PhaseName(phase);
      b.spec.x = {"batch size (samples)", AxisScale::kLog};
      b.spec.y = {what == "energy" ? "energy per sample (J)" : "time per sample (s)", AxisScale::kLog};
      if (obs.empty()) {
        b.empty_reason = !c.a ? NoAnalysisReason(c)
                              : "no model was measured at two or more batch sizes in " + PhaseName(phase) +
                                    " (a batch sweep, e.g. batch_sizes = [16, 64, 256] in the study spec, draws this plot)";
        s.plots.push_back(std::move(b));
        continue;
      }
      Series best{"energy-optimal batch", SeriesKind::kScatter, {}, false, 7, 0, true};
      for (size_t i = 0; i < obs.size(); ++i) {
        Series line{obs[i]->model, SeriesKind::kLineMarkers, {}, false, static_cast<int>(i % 7),
                    static_cast<int>((i / 7) % 4)};
        for (const auto& bp : obs[i]->series) {
          const double y = what == "energy" ? bp.energy_per_sample_j : bp.time_per_sample_s;
          line.points.push_back({static_cast<double>(bp.batch_size), y, ""});
          if (what == "energy" && bp.batch_size == obs[i]->best_batch_size)
            best.points.push_back({static_cast<double>(bp.batch_size), y, ""});
          b.csv.rows.push_back({obs[i]->model, std::to_string(bp.batch_size), CsvNum(y),
                                what == "energy" ? CsvNum(bp.energy_per_sample_sd_j) : std::to_string(bp.repetitions)});
        }
        b.spec.series.push_back(std::move(line));
      }
      if (!best.points.empty()) b.spec.series.push_back(std::move(best));
      if (c.a->pareto.estimated) b.spec.notes.push_back(EstimatedNote(true));
      s.estimated = c.a->pareto.estimated;
      b.has_data = true;
      s.plots.push_back(std::move(b));
    }
  }
  Table t;
  t.header = {"model", "phase", "energy-optimal batch", "J/sample at optimum", "batch sizes measured"};
  t.numeric = {false, false, true, true, false};
  if (c.a)
    for (const auto& ob : c.a->pareto.optimal_batch) {
      std::vector<std::string> sizes;
      for (const auto& bp : ob.series) sizes.push_back(std::to_string(bp.batch_size));
      t.rows.push_back({ob.model, ob.phase, std::to_string(ob.best_batch_size), Sig(ob.best_energy_per_sample_j),
                        Join(sizes, ", ")});
    }
  if (!t.rows.empty()) s.tables.push_back({"Energy-optimal batch size per model", t});
  return s;
}

Section TimelineSection(const Context& c) {
  Section s;
  s.id = "timeline";
  s.title = "Power timeline";
  s.paragraphs.push_back(
      "Whole-machine power as the meter sampled it (downsampled for storage), with the run's windows shaded.");
  std::vector<const RunTimeline*> tls;
  for (const auto& t : c.in.timelines)
    if (t.t_s.size() >= 2 && t.t_s.size() == t.power_w.size()) tls.push_back(&t);
  if (tls.empty()) {
    PlotBlock b;
    b.csv_name = "timeline.csv";
    b.csv.header = {"run_id", "t_s", "power_w"};
    b.empty_reason = c.in.timelines.empty() ? "no run stored a power timeline (timelines are recorded by `wattlab study`)"
                                            : "the stored timelines hold fewer than two samples";
    s.plots.push_back(std::move(b));
    return s;
  }
  const size_t n = std::min<size_t>(tls.size(), static_cast<size_t>(std::max(1, c.opt.max_timelines)));
  for (size_t k = 0; k < n; ++k) {
    const RunTimeline& tl = *tls[k];
    PlotBlock b;
    b.csv_name = "timeline_run" + std::to_string(tl.run_id) + ".csv";
    b.csv.header = {"run_id", "t_s", "power_w"};
    b.spec.id = "timeline-" + std::to_string(tl.run_id);
    b.spec.title = "Power during run " + std::to_string(tl.run_id) + " (" + tl.model + ")";
    b.spec.x = {"time since the run began (s)", AxisScale::kLinear};
    b.spec.y = {"whole-machine power (W)", AxisScale::kLinear, true};
    b.spec.height = 380;
    Series line{"power", SeriesKind::kLine, {}, false, 4, 0};
    // At most ~1500 drawn points: a plot cannot show more, the CSV keeps all.
    const size_t stride = std::max<size_t>(1, tl.t_s.size() / 1500);
    for (size_t i = 0; i < tl.t_s.size(); ++i) {
      b.csv.rows.push_back({std::to_string(tl.run_id), CsvNum(tl.t_s[i]), CsvNum(tl.power_w[i])});
      if (i % stride == 0 || i + 1 == tl.t_s.size()) line.points.push_back({tl.t_s[i], tl.power_w[i], ""});
    }
    b.spec.series.push_back(std::move(line));
    for (const auto& w : tl.windows) b.spec.spans.push_back({w.start_s, w.end_s, w.name});
    bool est = false;
    for (const auto& r : c.in.rows)
      if (r.run_id == tl.run_id && r.estimated) est = true;
    if (est) b.spec.notes.push_back(EstimatedNote(true));
    s.estimated = s.estimated || est;
    b.has_data = true;
    s.plots.push_back(std::move(b));
  }
  if (tls.size() > n) {
    std::vector<std::string> rest;
    for (size_t k = n; k < tls.size(); ++k) rest.push_back(std::to_string(tls[k]->run_id));
    s.paragraphs.push_back(std::to_string(tls.size() - n) + " more runs have timelines (runs " + Join(rest, ", ") +
                           "); `wattlab report` draws the first " + std::to_string(n) + ".");
  }
  return s;
}

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
  t.header = {"model", "training energy", "inference J/sample", "break-even inferences", "days at " +
                                                                                          CountText(c.opt.inferences_per_day) + "/day"};
  t.numeric = {false, true, true, true, true};
  for (const auto* m : ms) {
    t.rows.push_back({m->model, EnergyText(m->training_energy_j), Sig(m->inference_energy_per_sample_j),
                      m->break_even_n ? CountText(*m->break_even_n) : "—",
                      m->break_even_n && c.opt.inferences_per_day > 0 ? Sig(*m->break_even_n / c.opt.inferences_per_day, 3)
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
      "Left out one model at a time, the predictor is fitted on the others and predicts the held-out model's energy "
      "per sample (leave-one-model-out): an honest error for an unseen model. The dotted diagonal is a perfect "
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
    if (pp && !pp->nested_points.empty()) pts = &pp->nested_points;
    else if (sel && !sel->points.empty()) pts = &sel->points;
    if (!pts) {
      b.empty_reason = !c.a ? NoAnalysisReason(c)
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
      b.csv.rows.push_back({p.model, p.config_id, CsvNum(p.measured_j), CsvNum(p.predicted_j), CsvNum(p.ape_pct),
                            p.chosen_set.empty() ? pp->selected : p.chosen_set});
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
      b.empty_reason = !c.a ? NoAnalysisReason(c)
                            : "no run measured both a short profile and the full length (set profile_steps and a full "
                              "training in the study spec)" +
                                  (c.a->extrapolation.note.empty() ? "" : " (" + c.a->extrapolation.note + ")");
    } else {
      const auto& ex = c.a->extrapolation;
      Series ser{"runs", SeriesKind::kScatter, {}, true, 2, 0};
      for (const auto& p : ex.points) {
        ser.points.push_back({p.measured_j, p.predicted_j, p.model});
        b.csv.rows.push_back({p.model, p.config_id, p.phase, std::to_string(p.repetition), CsvNum(p.predicted_j),
                              CsvNum(p.measured_j), CsvNum(p.error_pct)});
      }
      LabelOncePerName(&ser.points);
      b.spec.series.push_back(std::move(ser));
      if (ex.mean_abs_error_pct) b.spec.notes.push_back("mean absolute error " + Fixed(*ex.mean_abs_error_pct, 1) + "%");
      if (ex.max_abs_error_pct) b.spec.notes.push_back("worst " + Fixed(*ex.max_abs_error_pct, 1) + "%");
      if (ex.estimated) b.spec.notes.push_back(EstimatedNote(true));
      s.estimated = s.estimated || ex.estimated;
      b.has_data = true;
    }
    s.plots.push_back(std::move(b));
  }
  // Predictor comparison table.
  Table t;
  t.header = {"phase", "feature set", "LOMO mean error", "LOMO median error", "R² (log, in-sample)", "points", "models",
              "selected"};
  t.numeric = {false, false, true, true, true, true, true, false};
  if (c.a)
    for (const auto& p : c.a->predictor) {
      for (const auto& set : p.sets) {
        t.rows.push_back({p.phase, FeatureSetName(set.set.name), set.mape_pct ? Fixed(*set.mape_pct, 1) + "%" : "—",
                          set.median_ape_pct ? Fixed(*set.median_ape_pct, 1) + "%" : "—", Fixed(set.r2, 3),
                          std::to_string(set.n_points), std::to_string(set.n_models),
                          set.set.name == p.selected ? "yes" : (set.note.empty() ? "" : set.note)});
      }
      if (p.nested_mape_pct)
        t.rows.push_back({p.phase, "nested: set chosen inside each fold", Fixed(*p.nested_mape_pct, 1) + "%",
                          p.nested_median_ape_pct ? Fixed(*p.nested_median_ape_pct, 1) + "%" : "—", "—", "", "", ""});
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
  t.header = {"phase", "choose", "batch", "threads", "precision", "accuracy", "J/sample", "instead of",
              "energy saved", "accuracy lost"};
  t.numeric = {false, false, true, true, false, true, true, false, true, true};
  if (c.a)
    for (const auto& r : c.a->recommendations.items) {
      t.rows.push_back({r.phase, r.model, std::to_string(r.batch_size), std::to_string(r.threads), r.precision,
                        Fixed(AccuracyPct(r.accuracy), 1) + "%", Sig(r.energy_per_sample_j),
                        r.baseline_model + " (" + Fixed(AccuracyPct(r.baseline_accuracy), 1) + "%, " +
                            Sig(r.baseline_energy_per_sample_j) + " J)",
                        Fixed(r.energy_saved_pct, 1) + "%", Fixed(AccuracyPct(r.accuracy_lost), 1) + " points"});
      if (!r.text.empty()) s.paragraphs.push_back(r.text);
    }
  if (t.rows.empty()) {
    s.empty_reason = !c.a ? NoAnalysisReason(c)
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
                    k.intensity_source + (k.region.empty() ? "" : " (" + k.region + ")"), Sig(k.pue, 3), Sig(k.gco2e, 3)});
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
  t.header = {"run", "model", "phase", "window", "batch", "threads", "precision", "samples", "duration (s)",
              "energy (J)", "above idle (J)", "J/sample", "accuracy", "source"};
  t.numeric = {true, false, false, false, true, true, false, true, true, true, true, true, true, false};
  for (const auto& r : c.in.rows) {
    const double e = r.energy_above_idle_j ? *r.energy_above_idle_j : r.energy_j;
    const std::string per = r.samples > 0 ? Sig(e / static_cast<double>(r.samples)) : "—";
    t.rows.push_back({std::to_string(r.run_id), r.model, r.phase, r.window, std::to_string(r.batch_size),
                      std::to_string(r.threads), r.precision, std::to_string(r.samples), Sig(r.duration_s),
                      Sig(r.energy_j), Sig(r.energy_above_idle_j), per,
                      r.accuracy ? Fixed(AccuracyPct(*r.accuracy), 1) + "%" : "—",
                      r.source + (r.estimated ? " (estimated)" : "")});
    s.estimated = s.estimated || r.estimated;
  }
  if (t.rows.empty()) {
    s.empty_reason = "the database holds no measured windows for this study";
  } else {
    s.paragraphs.push_back("J/sample uses the energy above idle where it was measured, else the whole energy.");
    s.tables.push_back({"Every measured window", t});
  }
  return s;
}

// ---- writers --------------------------------------------------------------------

const char* kCss = R"CSS(
body { font-family: "DejaVu Sans", "Helvetica Neue", Arial, sans-serif; color: #1a1a1a; background: #f4f4f2;
       margin: 0; line-height: 1.45; }
main { max-width: 1080px; margin: 0 auto; padding: 16px 28px 48px; background: #fff; }
h1 { font-size: 26px; margin: 12px 0 4px; }
h2 { font-size: 20px; border-bottom: 2px solid #0072B2; padding-bottom: 3px; margin-top: 34px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.banner { font-weight: bold; padding: 10px 14px; border-radius: 4px; margin: 12px 0; font-size: 15px; }
.banner.measured { background: #e3f3ec; border-left: 6px solid #009E73; }
.banner.estimated { background: #fdeee3; border-left: 6px solid #D55E00; }
.badge { display: inline-block; font-size: 11px; font-weight: bold; padding: 1px 6px; border-radius: 3px;
         background: #D55E00; color: #fff; margin-left: 6px; vertical-align: middle; }
ul.findings li { margin: 6px 0; }
.empty { color: #5a5a5a; font-style: italic; background: #f6f6f6; padding: 8px 12px; border-left: 4px solid #bbb; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 14px; }
th, td { border: 1px solid #d5d5d5; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #eef3f8; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafafa; }
figure { margin: 10px 0 22px; }
figcaption { font-size: 12px; color: #555; }
svg.plot { max-width: 100%; height: auto; display: block; }
svg.plot text { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 11px; fill: #222; }
svg.plot .plot-title { font-size: 14px; font-weight: bold; }
svg.plot .axis-label { font-size: 12px; }
svg.plot .tick { font-size: 11px; fill: #333; }
svg.plot .grid { stroke: #e4e4e4; stroke-width: 1; }
svg.plot .leader { stroke: #888; stroke-width: 0.8; }
svg.plot .point-number { font-size: 10px; font-weight: bold; }
svg.plot .note { font-size: 11px; }
pre { background: #f6f6f6; padding: 10px; overflow-x: auto; font-size: 12px; }
details summary { cursor: pointer; font-weight: bold; margin: 6px 0; }
footer { font-size: 12px; color: #666; margin-top: 30px; }
)CSS";

std::string RenderHtml(const std::string& title, const std::string& banner, bool banner_estimated,
                       const Table& context, const std::string& spec_text, const std::vector<Finding>& findings,
                       const std::vector<Section>& sections, const std::string& generated_at) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
    << "<title>" << HtmlEscape(title) << "</title>\n<style>" << kCss << "</style>\n</head>\n<body>\n<main>\n";
  o << "<h1>" << HtmlEscape(title) << "</h1>\n";
  o << "<div class=\"banner " << (banner_estimated ? "estimated" : "measured") << "\" id=\"energy-basis\">"
    << HtmlEscape(banner) << "</div>\n";
  o << "<h2 id=\"findings\">Headline findings</h2>\n<ul class=\"findings\">\n";
  for (const auto& f : findings) {
    o << "<li>" << HtmlEscape(f.text);
    if (f.estimated) o << " <span class=\"badge\" title=\"" << HtmlEscape(kEstimatedCaveat) << "\">ESTIMATED</span>";
    o << "</li>\n";
  }
  o << "</ul>\n";
  o << "<h2 id=\"context\">Context</h2>\n" << TableHtml(context, "context");
  if (!spec_text.empty())
    o << "<details><summary>Study spec as run</summary>\n<pre>" << HtmlEscape(spec_text) << "</pre>\n</details>\n";
  for (const auto& s : sections) {
    o << "<section id=\"" << HtmlEscape(s.id) << "\">\n<h2>" << HtmlEscape(s.title);
    if (s.estimated) o << " <span class=\"badge\">ESTIMATED</span>";
    o << "</h2>\n";
    if (!s.empty_reason.empty()) {
      o << "<p class=\"empty\">No data: " << HtmlEscape(s.empty_reason) << ".</p>\n</section>\n";
      continue;
    }
    for (const auto& p : s.paragraphs) o << "<p>" << HtmlEscape(p) << "</p>\n";
    for (const auto& b : s.plots) {
      if (!b.has_data) {
        o << "<p class=\"empty\">" << HtmlEscape(b.spec.title.empty() ? "Plot" : b.spec.title) << ": no data: "
          << HtmlEscape(b.empty_reason) << ".</p>\n";
        continue;
      }
      o << "<figure>\n" << RenderSvg(b.spec) << "<figcaption>Data: <a href=\"" << HtmlEscape(b.csv_name) << "\">"
        << HtmlEscape(b.csv_name) << "</a></figcaption>\n</figure>\n";
    }
    for (const auto& [caption, table] : s.tables) {
      if (s.collapsed || table.rows.size() > 25) {
        o << "<details><summary>" << HtmlEscape(caption) << " (" << table.rows.size() << " rows)</summary>\n"
          << TableHtml(table) << "</details>\n";
      } else {
        o << "<h3>" << HtmlEscape(caption) << "</h3>\n" << TableHtml(table);
      }
    }
    o << "</section>\n";
  }
  o << "<footer>Generated " << HtmlEscape(generated_at)
    << " by wattlab report. Self-contained: no scripts, nothing fetched. Plot data: the CSV files beside this page."
    << "</footer>\n</main>\n</body>\n</html>\n";
  return o.str();
}

std::string RenderMarkdown(const std::string& title, const std::string& banner, const Table& context,
                           const std::vector<Finding>& findings, const std::vector<Section>& sections) {
  std::ostringstream o;
  o << "# " << MarkdownEscape(title) << "\n\n**" << MarkdownEscape(banner) << "**\n\n## Headline findings\n\n";
  for (const auto& f : findings)
    o << "- " << MarkdownEscape(f.text) << (f.estimated ? std::string(" *(") + kEstimatedCaveat + ")*" : "") << "\n";
  o << "\n## Context\n\n" << TableMarkdown(context) << "\n";
  for (const auto& s : sections) {
    o << "## " << MarkdownEscape(s.title) << (s.estimated ? " (ESTIMATED)" : "") << "\n\n";
    if (!s.empty_reason.empty()) {
      o << "_No data: " << MarkdownEscape(s.empty_reason) << "._\n\n";
      continue;
    }
    for (const auto& p : s.paragraphs) o << MarkdownEscape(p) << "\n\n";
    for (const auto& b : s.plots) {
      if (b.has_data) {
        o << "- Plot: " << MarkdownEscape(b.spec.title) << " (in index.html; data: `" << b.csv_name << "`)";
        if (!b.spec.notes.empty()) o << ": " << MarkdownEscape(Join(b.spec.notes, "; "));
        o << "\n";
      } else {
        o << "- " << MarkdownEscape(b.spec.title.empty() ? "Plot" : b.spec.title) << ": no data: "
          << MarkdownEscape(b.empty_reason) << ".\n";
      }
    }
    if (!s.plots.empty()) o << "\n";
    for (const auto& [caption, table] : s.tables) o << "### " << MarkdownEscape(caption) << "\n\n" << TableMarkdown(table) << "\n";
  }
  return o.str();
}

}  // namespace

std::string FormatUtc(double unix_s) {
  if (!Finite(unix_s) || unix_s <= 0) return "—";
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

static Context MakeContext(const ReportInput& input, const ReportOptions& options) {
  Context c{input, options, input.analysis ? &*input.analysis : nullptr, false, false, 0, {}};
  std::set<int64_t> runs;
  for (const auto& r : input.rows) {
    (r.estimated ? c.estimated_any : c.measured_any) = true;
    runs.insert(r.run_id);
    c.models.insert(r.model);
  }
  for (const auto& st : input.studies) c.estimated_any = c.estimated_any || (st.estimated && input.rows.empty());
  c.n_runs = static_cast<int64_t>(runs.size());
  return c;
}

std::vector<Finding> HeadlineFindings(const ReportInput& input, const ReportOptions& options) {
  return ComputeFindings(MakeContext(input, options));
}

std::vector<ReportFile> BuildReport(const ReportInput& input, const ReportOptions& options) {
  const Context c = MakeContext(input, options);
  Table context;
  std::string banner, spec_text;
  ContextSection(c, &context, &banner, &spec_text);
  std::vector<Finding> findings = ComputeFindings(c);

  std::vector<Section> sections;
  sections.push_back(CorrelationSection(c));
  sections.push_back(TrainInferSection(c));
  sections.push_back(ParetoSection(c));
  sections.push_back(BatchSection(c));
  sections.push_back(TimelineSection(c));
  sections.push_back(LifecycleSection(c));
  sections.push_back(PredictionSection(c));
  sections.push_back(RecommendationSection(c));
  sections.push_back(CarbonSection(c));
  if (c.a && !c.a->notes.empty()) {
    Section n;
    n.id = "analysis-notes";
    n.title = "Analysis notes";
    n.paragraphs = c.a->notes;
    sections.push_back(std::move(n));
  }
  sections.push_back(RunsSection(c));

  std::string title = options.title;
  if (title.empty()) {
    std::vector<std::string> names;
    for (const auto& st : input.studies) names.push_back(st.name);
    if (names.empty() && !options.study.empty()) names.push_back(options.study);
    title = names.empty() ? "wattlab report" : "wattlab report: " + Join(names, ", ");
  }

  std::vector<ReportFile> files;
  files.push_back({"index.html", RenderHtml(title, banner, c.estimated_any || input.rows.empty(), context, spec_text,
                                            findings, sections, input.generated_at)});
  files.push_back({"summary.md", RenderMarkdown(title, banner, context, findings, sections)});
  std::set<std::string> seen;
  for (const auto& s : sections)
    for (const auto& b : s.plots)
      if (seen.insert(b.csv_name).second) files.push_back({b.csv_name, CsvText(b.csv)});
  return files;
}

}  // namespace wattlab::report
