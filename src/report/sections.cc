// The report's sections on the data itself: context, correlations,
// training vs inference, accuracy vs energy, batch size and power timelines.
#include "report/sections.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "core/strings.h"

namespace wattlab::report {

using analysis::FeatureName;
using analysis::PhaseName;

std::string NoAnalysisReason(const Context& c) {
  return c.in.analysis_error.empty() ? "the analysis did not run" : c.in.analysis_error;
}

std::string EstimatedNote(bool estimated) {
  return estimated ? "ESTIMATED energy: a model of CPU time, not a measurement" : "";
}

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

std::string CsvNum(double v) { return std::isfinite(v) ? FormatDouble(v) : ""; }
std::string CsvNum(const std::optional<double>& v) { return v ? CsvNum(*v) : ""; }

void ContextSection(const Context& c, Table* context_table, std::string* banner, std::string* spec_text) {
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
    add(p + "date",
        FormatUtc(st->started_at_unix_s) +
            (st->finished_at_unix_s ? " to " + FormatUtc(*st->finished_at_unix_s) : " (not finished)"));
    {
      // Every machine the study's runs were measured on (a study merged from
      // shards may hold several: energy is per machine; issue 16).
      std::map<std::string, std::set<int64_t>> hosts;
      for (const auto& r : c.in.rows)
        if (r.study == st->name && !r.host.empty()) hosts[r.host].insert(r.run_id);
      if (hosts.size() > 1) {
        std::vector<std::string> xs;
        for (const auto& [h, runs] : hosts) xs.push_back(h + " (" + std::to_string(runs.size()) + " runs)");
        add(p + "machines", Join(xs, ", ") +
                                "; energy is per machine (the analysis notes name any configuration whose "
                                "repetitions come from more than one)");
      } else {
        add(p + "machine", hosts.empty() ? st->host : hosts.begin()->first);
      }
    }
    add(p + "CPU", st->cpu);
    add(p + "GPUs", st->gpus.empty() ? "none" : Join(st->gpus, "; "));
    add(p + "kernel", st->kernel);
    add(p + "libtorch", st->libtorch);
    add(p + "BLAS", st->blas);
    add(p + "meter sources", st->sources.empty() ? "none recorded" : Join(st->sources, ", "));
    add(p + "sampling interval",
        std::isfinite(st->interval_s) && st->interval_s > 0 ? Sig(st->interval_s * 1000, 3) + " ms" : "");
    if (st->idle_baselines.empty()) {
      add(p + "idle baseline", "not measured: energies above idle are absent");
    } else {
      double sum = 0, lo = st->idle_baselines.front().power_w, hi = lo;
      size_t busy = 0;
      for (const auto& b : st->idle_baselines) {
        const double w = b.power_w;
        sum += w;
        lo = std::min(lo, w);
        hi = std::max(hi, w);
        if (b.busy) ++busy;
      }
      const double mean = sum / st->idle_baselines.size();
      std::string v = Sig(mean, 3) + " W (mean of " + std::to_string(st->idle_baselines.size()) +
                      " measurement" +
                      (st->idle_baselines.size() == 1 ? ")" : "s, " + Sig(lo, 3) + "–" + Sig(hi, 3) + " W)");
      if (busy > 0)
        v += "; " + std::to_string(busy) +
             " measured while the machine was busy (more than 10% CPU, or the "
             "estimate near its maximum)";
      add(p + "idle baseline", v);
    }
    for (const auto& [k, v] : st->meter_facts) add(p + k, v);
    add(p + "recorded by wattlab", st->wattlab_version);
    if (!st->spec_toml.empty()) {
      if (!spec_text->empty()) *spec_text += "\n";
      *spec_text += (studies.size() > 1 ? "# study " + st->name + "\n" : "") + st->spec_toml;
    }
  }
  add("runs", std::to_string(c.n_runs) + " runs, " + std::to_string(c.in.rows.size()) +
                  " measured windows, " + std::to_string(c.models.size()) + " models");
  {
    // What the figures ran under (issue 11): the OpenMP wait policy and precision of the windows.
    std::map<std::string, size_t> omp, precision;
    for (const auto& r : c.in.rows) {
      ++omp[r.omp_wait_policy.empty() ? "not recorded" : r.omp_wait_policy];
      ++precision[r.precision];
    }
    auto list = [](const std::map<std::string, size_t>& m) {
      std::vector<std::string> xs;
      for (const auto& [k, n] : m)
        xs.push_back(k + (m.size() > 1 ? " (" + std::to_string(n) + " windows)" : ""));
      return Join(xs, ", ");
    };
    if (!c.in.rows.empty()) {
      add("OpenMP wait policy in force", list(omp));
      add("precision in force", list(precision));
    }
    // How inference ran its convolutions (issue 11): packed once for oneDNN, or libtorch's choice per call.
    if (!c.in.conv_weights.empty()) {
      std::vector<std::string> xs;
      for (const auto& [k, n] : c.in.conv_weights) {
        const std::string what = k == "packed" ? "packed once for oneDNN" : k;
        xs.push_back(what + ": " + std::to_string(n) + (n == 1 ? " run" : " runs"));
      }
      add("inference convolution weights", Join(xs, ", "));
    }
  }
  const bool above = c.in.energy_basis.basis == EnergyBasis::kAboveIdle;
  add("energy per sample", std::string(above ? "above idle (energy_above_idle_j)" : "total (energy_j)") +
                               (c.in.energy_basis.reason.empty() ? "" : "; " + c.in.energy_basis.reason) +
                               "; carbon always converts total energy");
  add("report written by wattlab", c.in.wattlab_version);
  add("report generated", c.in.generated_at);

  if (c.in.rows.empty()) {
    *banner = "NO ENERGY DATA: the database holds no measured windows";
  } else if (c.estimated_any && c.measured_any) {
    *banner =
        "PARTLY ESTIMATED: some energy figures come from the estimate (a model of CPU time), the rest were "
        "measured";
  } else if (c.estimated_any) {
    *banner =
        "ESTIMATED: no energy counter was readable, every energy figure is a model of CPU time, not a "
        "measurement";
  } else {
    std::set<std::string> sources;
    for (const auto& r : c.in.rows)
      for (const auto& src : Split(r.source, '+'))
        if (!src.empty()) sources.insert(src);
    *banner = "MEASURED: energy read from hardware counters (" +
              Join(std::vector<std::string>(sources.begin(), sources.end()), ", ") + ")";
  }
  // The estimate's error band beside every "estimated" banner (issue: an
  // estimate whose error is known).
  if (c.estimated_any && !c.opt.estimate_error_band.empty())
    *banner += " (" + c.opt.estimate_error_band + ")";
  if (!c.in.rows.empty())
    *banner += std::string(". Per-sample energy: ") + (above ? "above idle" : "total") + " for every figure";
}

Section CorrelationSection(const Context& c) {
  Section s;
  s.id = "correlation";
  s.title = "Energy per sample vs model size and work";
  s.paragraphs.push_back(
      "Each point is one configuration (repetitions averaged). MACs/param = forward MACs per sample ÷ "
      "trainable "
      "parameters. Both axes are logarithmic; the dashed line is a least-squares power law fitted in log "
      "space.");
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
      b.spec.x = {x == "macs" ? "forward MACs per sample (MACs)" : "MACs per parameter (MACs/param)",
                  AxisScale::kLog};
      b.spec.y = {c.in.energy_basis.basis == EnergyBasis::kAboveIdle ? "energy per sample above idle (J)"
                                                                     : "energy per sample, total (J)",
                  AxisScale::kLog};
      const analysis::Correlation* corr = nullptr;
      if (c.a)
        for (const auto& k : c.a->correlations)
          if (k.phase == phase && k.x == x) corr = &k;
      if (!corr || corr->points.size() < 3 || !corr->spearman) {
        b.empty_reason = !c.a ? NoAnalysisReason(c)
                         : !corr || corr->points.empty()
                             ? "no " + PhaseName(phase) + " windows with positive energy per sample"
                             : "a correlation needs at least 3 configurations that differ in " +
                                   FeatureName(x) + "; this study has " + std::to_string(corr->points.size());
        if (c.a && corr && !corr->note.empty()) b.empty_reason += " (" + corr->note + ")";
        s.plots.push_back(std::move(b));
        continue;
      }
      Series pts{"configurations", SeriesKind::kScatter, {}, true, 3, 0};
      double lo = 0, hi = 0;  // the x range the fitted line spans
      for (const auto& p : corr->points) {
        pts.points.push_back({p.x, p.energy_per_sample_j, p.model});
        b.csv.rows.push_back({p.model, p.config_id, CsvNum(p.x), CsvNum(p.energy_per_sample_j)});
        if (p.x > 0 && std::isfinite(p.x)) lo = lo > 0 ? std::min(lo, p.x) : p.x, hi = std::max(hi, p.x);
      }
      LabelOncePerName(&pts.points);
      b.spec.series.push_back(std::move(pts));
      std::string rho = "Spearman ρ = " + Fixed(corr->spearman, 2);
      if (corr->spearman_p) rho += " (p = " + Sig(*corr->spearman_p, 2) + ")";
      rho += ", n = " + std::to_string(corr->n);
      b.spec.notes.push_back(rho);
      if (corr->pearson) b.spec.notes.push_back("Pearson r = " + Fixed(corr->pearson, 2));
      if (const auto& law = corr->power_law; law && hi > 0) {
        Series line{"least-squares fit (log-log)", SeriesKind::kDashed, {}, false, 4, 0};
        for (double px : {lo, hi}) line.points.push_back({px, law->At(px), ""});
        b.spec.series.push_back(std::move(line));
        b.spec.notes.push_back("fit: energy ∝ " + FeatureName(x) + "^" + Fixed(law->exponent, 2));
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
      t.rows.push_back({k.phase, FeatureName(k.x), std::to_string(k.n), Fixed(k.spearman, 2),
                        Sig(k.spearman_p, 2), Fixed(k.pearson, 2), ci, k.note});
    }
  }
  if (t.rows.empty()) {
    s.paragraphs.push_back(
        "Correlation table: no correlation could be computed: " +
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
  b.csv.header = {"model",
                  "train_energy_per_sample_j",
                  "infer_energy_per_sample_j",
                  "train_time_per_sample_s",
                  "infer_time_per_sample_s",
                  "energy_ratio",
                  "time_ratio"};
  b.spec.id = "train-vs-infer";
  b.spec.title = "Training vs inference energy per sample, per model";
  b.spec.x = {"inference energy per sample (J)", AxisScale::kLog};
  b.spec.y = {"training energy per sample (J)", AxisScale::kLog};
  if (!c.a || c.a->train_vs_infer.models.empty()) {
    b.empty_reason =
        !c.a ? NoAnalysisReason(c)
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
    if (tv.median_energy_ratio)
      b.spec.notes.push_back("median energy ratio train/infer = " + Sig(*tv.median_energy_ratio, 3));
    if (tv.median_time_ratio)
      b.spec.notes.push_back("median time ratio train/infer = " + Sig(*tv.median_time_ratio, 3));
    if (tv.energy_spearman)
      b.spec.notes.push_back("Spearman ρ (train vs infer energy) = " + Fixed(*tv.energy_spearman, 2));
    if (tv.estimated) b.spec.notes.push_back(EstimatedNote(true));
    s.estimated = tv.estimated;
    b.has_data = true;
    Table t;
    t.header = {"model",          "train J/sample", "infer J/sample", "energy ratio",
                "train s/sample", "infer s/sample", "time ratio"};
    t.numeric = {false, true, true, true, true, true, true};
    for (const auto& m : tv.models)
      t.rows.push_back({m.model, Sig(m.train_energy_per_sample_j), Sig(m.infer_energy_per_sample_j),
                        Sig(m.energy_ratio), Sig(m.train_time_per_sample_s), Sig(m.infer_time_per_sample_s),
                        Sig(m.time_ratio)});
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
      "A configuration is on the Pareto front when no other one is both more accurate and cheaper. "
      "Black-ringed "
      "markers joined by a line are the front.");
  for (const std::string phase : {"infer", "train"}) {
    PlotBlock b;
    b.csv_name = "accuracy_vs_energy_" + phase + ".csv";
    b.csv.header = {"model",     "config_id",           "batch_size", "threads",
                    "precision", "energy_per_sample_j", "accuracy",   "on_front"};
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
      b.empty_reason =
          !c.a         ? NoAnalysisReason(c)
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
      const PlotPoint pp{p->energy_per_sample_j, 100 * p->accuracy, p->model};
      if (p->on_front)
        fp.push_back(p);
      else
        all.points.push_back(pp);
      b.csv.rows.push_back({p->model, p->config_id, std::to_string(p->batch_size), std::to_string(p->threads),
                            p->precision, CsvNum(p->energy_per_sample_j), CsvNum(p->accuracy),
                            p->on_front ? "true" : "false"});
    }
    std::sort(fp.begin(), fp.end(),
              [](auto* x, auto* y) { return x->energy_per_sample_j < y->energy_per_sample_j; });
    for (const auto* p : fp) front.points.push_back({p->energy_per_sample_j, 100 * p->accuracy, p->model});
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
      "Per model, the best thread count and precision at each batch size. The ringed marker is the "
      "energy-optimal "
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
      b.spec.title = (what == "energy" ? "Energy" : "Time") + std::string(" per sample vs batch size: ") +
                     PhaseName(phase);
      b.spec.x = {"batch size (samples)", AxisScale::kLog};
      b.spec.y = {what == "energy" ? "energy per sample (J)" : "time per sample (s)", AxisScale::kLog};
      if (obs.empty()) {
        b.empty_reason =
            !c.a
                ? NoAnalysisReason(c)
                : "no model was measured at two or more batch sizes in " + PhaseName(phase) +
                      " (a batch sweep, e.g. batch_sizes = [16, 64, 256] in the study spec, draws this plot)";
        s.plots.push_back(std::move(b));
        continue;
      }
      Series best{"energy-optimal batch", SeriesKind::kScatter, {}, false, 7, 0, true};
      for (size_t i = 0; i < obs.size(); ++i) {
        Series line{obs[i]->model, SeriesKind::kLineMarkers, {},
                    false,         static_cast<int>(i % 7),  static_cast<int>((i / 7) % 4)};
        for (const auto& bp : obs[i]->series) {
          const double y = what == "energy" ? bp.energy_per_sample_j : bp.time_per_sample_s;
          line.points.push_back({static_cast<double>(bp.batch_size), y, ""});
          if (what == "energy" && bp.batch_size == obs[i]->best_batch_size)
            best.points.push_back({static_cast<double>(bp.batch_size), y, ""});
          b.csv.rows.push_back(
              {obs[i]->model, std::to_string(bp.batch_size), CsvNum(y),
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
      t.rows.push_back({ob.model, ob.phase, std::to_string(ob.best_batch_size),
                        Sig(ob.best_energy_per_sample_j), Join(sizes, ", ")});
    }
  if (!t.rows.empty()) s.tables.push_back({"Energy-optimal batch size per model", t});
  return s;
}

Section TimelineSection(const Context& c) {
  Section s;
  s.id = "timeline";
  s.title = "Power timeline";
  s.paragraphs.push_back(
      "Whole-machine power as the meter sampled it (downsampled for storage), with the run's windows "
      "shaded.");
  std::vector<const RunTimeline*> tls;
  for (const auto& t : c.in.timelines)
    if (t.t_s.size() >= 2 && t.t_s.size() == t.power_w.size()) tls.push_back(&t);
  if (tls.empty()) {
    PlotBlock b;
    b.csv_name = "timeline.csv";
    b.csv.header = {"run_id", "t_s", "power_w"};
    b.empty_reason = c.in.timelines.empty()
                         ? "no run stored a power timeline (timelines are recorded by `wattlab study`)"
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
    s.paragraphs.push_back(std::to_string(tls.size() - n) + " more runs have timelines (runs " +
                           Join(rest, ", ") + "); `wattlab report` draws the first " + std::to_string(n) +
                           ".");
  }
  return s;
}

}  // namespace wattlab::report
