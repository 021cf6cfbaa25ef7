// Aggregation of rows into configurations, correlations, training vs
// inference.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "analysis/analysis.h"
#include "analysis/internal.h"
#include "core/strings.h"

namespace wattlab::analysis {

namespace {

int PhaseOrder(const std::string& p) {
  if (p == "train") return 0;
  if (p == "eval") return 1;
  if (p == "infer") return 2;
  return 3;
}

std::string ConfigKey(const RunRow& r) {
  if (!r.config_id.empty()) return r.phase + "|" + r.config_id;
  return r.phase + "|" + r.model + "|b" + std::to_string(r.batch_size) + "|t" + std::to_string(r.threads) +
         "|" + r.precision;
}

}  // namespace

std::vector<ConfigPoint> AggregateConfigs(const std::vector<RunRow>& rows, EnergyBasis basis,
                                          std::vector<std::string>* dropped_reasons) {
  std::map<std::string, std::vector<const RunRow*>> groups;
  std::vector<std::string> order;
  std::map<std::string, int64_t> dropped;  // reason -> count
  int64_t bad_accuracy = 0;                // rows whose accuracy is not a fraction
  // Keys that have full windows: their profile rows only feed the
  // extrapolation check.
  std::set<std::string> has_full;
  for (const RunRow& r : rows)
    if (r.window != "profile") has_full.insert(ConfigKey(r));
  for (const RunRow& r : rows) {
    if (r.window == "profile" && has_full.count(ConfigKey(r))) continue;
    if (r.samples <= 0) {
      ++dropped["samples is 0 (no per-sample energy)"];
      continue;
    }
    double e;
    if (basis == EnergyBasis::kAboveIdle) {
      if (!r.energy_above_idle_j) {
        ++dropped["energy_above_idle_j is empty (no idle baseline; --energy total uses energy_j)"];
        continue;
      }
      e = *r.energy_above_idle_j;
    } else {
      e = r.energy_j;
    }
    if (!std::isfinite(e) || !std::isfinite(r.duration_s)) {
      ++dropped["energy or duration is not a finite number"];
      continue;
    }
    // Above idle, a value within round-off of zero (the baseline equalled
    // the window's power, e.g. a saturated shared machine under the estimate)
    // is zero, not a tiny positive energy.
    const bool zero =
        basis == EnergyBasis::kAboveIdle ? e <= kAboveIdleZeroFraction * std::fabs(r.energy_j) : e <= 0;
    if (zero) {
      ++dropped[basis == EnergyBasis::kAboveIdle
                    ? "energy_above_idle_j is zero, negative or round-off (the window was within idle noise; "
                      "--energy total uses energy_j)"
                    : "energy_j is zero or negative"];
      continue;
    }
    if (r.accuracy && !(*r.accuracy >= 0 && *r.accuracy <= 1)) ++bad_accuracy;
    const std::string key = ConfigKey(r);
    if (!groups.count(key)) order.push_back(key);
    groups[key].push_back(&r);
  }
  if (dropped_reasons) {
    for (const auto& [why, n] : dropped)
      dropped_reasons->push_back(std::to_string(n) + " row(s) left out: " + why);
    if (bad_accuracy > 0)
      dropped_reasons->push_back(
          std::to_string(bad_accuracy) +
          " row(s) have an accuracy outside 0..1 (accuracy is a fraction, not a percent): "
          "their accuracy is ignored");
  }
  std::vector<ConfigPoint> out;
  for (const std::string& key : order) {
    const auto& g = groups[key];
    const RunRow& f = *g.front();
    ConfigPoint c;
    c.phase = f.phase;
    c.config_id = f.config_id.empty() ? key.substr(key.find('|') + 1) : f.config_id;
    c.model = f.model;
    c.precision = f.precision;
    c.batch_size = f.batch_size;
    c.threads = f.threads;
    c.params = f.params;
    c.macs = f.macs;
    c.macs_per_param = f.macs_per_param;
    c.window = f.window;
    std::vector<double> eps, tps, samples, dur, util, acc, full_len;
    std::set<std::string> sources;
    for (const RunRow* r : g) {
      const double e = basis == EnergyBasis::kAboveIdle ? *r->energy_above_idle_j : r->energy_j;
      const double n = static_cast<double>(r->samples);
      eps.push_back(e / n);
      tps.push_back(r->duration_s / n);
      samples.push_back(n);
      dur.push_back(r->duration_s);
      if (r->cpu_util && std::isfinite(*r->cpu_util)) util.push_back(*r->cpu_util);
      if (r->accuracy && *r->accuracy >= 0 && *r->accuracy <= 1) acc.push_back(*r->accuracy);
      c.estimated = c.estimated || r->estimated;
      if (!r->source.empty()) sources.insert(r->source);
      c.run_ids.push_back(r->run_id);
      if (r->window == "profile" && r->extrapolated_energy_j && r->energy_j > 0 &&
          std::isfinite(*r->extrapolated_energy_j))
        full_len.push_back(n * *r->extrapolated_energy_j / r->energy_j);
    }
    if (!full_len.empty()) c.full_length_samples = Mean(full_len);
    c.energy_per_sample_j = Mean(eps);
    c.energy_per_sample_sd_j = SampleStdDev(eps);
    c.time_per_sample_s = Mean(tps);
    c.samples = Mean(samples);
    c.duration_s = Mean(dur);
    if (!util.empty()) c.cpu_util = Mean(util);
    if (!acc.empty()) c.accuracy = Mean(acc);
    c.repetitions = static_cast<int64_t>(g.size());
    c.source = Join(std::vector<std::string>(sources.begin(), sources.end()), ",");
    out.push_back(std::move(c));
  }
  std::stable_sort(out.begin(), out.end(), [](const ConfigPoint& a, const ConfigPoint& b) {
    return PhaseOrder(a.phase) < PhaseOrder(b.phase);
  });
  return out;
}

std::vector<std::string> PhasesOf(const std::vector<ConfigPoint>& configs, const std::string& phase_filter) {
  std::vector<std::string> phases;
  for (const auto& c : configs) {
    if (!phase_filter.empty() && c.phase != phase_filter) continue;
    if (std::find(phases.begin(), phases.end(), c.phase) == phases.end()) phases.push_back(c.phase);
  }
  return phases;
}

std::optional<double> ColumnValue(const ConfigPoint& c, const std::string& column) {
  // 0 is "unknown" (a command sweep's program without params/macs in its
  // spec), never a real model's count: such a configuration has no value.
  if (column == "params")
    return c.params > 0 ? std::optional<double>(static_cast<double>(c.params)) : std::nullopt;
  if (column == "macs") return c.macs > 0 ? std::optional<double>(static_cast<double>(c.macs)) : std::nullopt;
  if (column == "macs_per_param")
    return c.macs_per_param > 0 ? std::optional<double>(c.macs_per_param) : std::nullopt;
  if (column == "batch_size") return static_cast<double>(c.batch_size);
  if (column == "threads") return static_cast<double>(c.threads);
  if (column == "duration_s") return c.duration_s;
  if (column == "cpu_util") return c.cpu_util;
  return std::nullopt;
}

std::vector<Correlation> Correlations(const std::vector<ConfigPoint>& configs,
                                      const std::string& phase_filter) {
  static const std::vector<std::string> kColumns = {"params",  "macs",       "macs_per_param", "batch_size",
                                                    "threads", "duration_s", "cpu_util"};
  std::vector<Correlation> out;
  for (const std::string& phase : PhasesOf(configs, phase_filter)) {
    for (const std::string& col : kColumns) {
      Correlation c;
      c.phase = phase;
      c.x = col;
      std::vector<double> xs, ys;
      int64_t missing = 0;
      for (const auto& p : configs) {
        if (p.phase != phase) continue;
        auto v = ColumnValue(p, col);
        if (!v || !std::isfinite(*v)) {
          ++missing;
          continue;
        }
        xs.push_back(*v);
        ys.push_back(p.energy_per_sample_j);
        c.points.push_back({p.model, p.config_id, *v, p.energy_per_sample_j});
        c.estimated = c.estimated || p.estimated;
      }
      c.n = static_cast<int64_t>(xs.size());
      std::vector<std::string> notes;
      if (missing > 0) notes.push_back(std::to_string(missing) + " configuration(s) have no " + col);
      if (c.n < 3) {
        notes.push_back("n = " + std::to_string(c.n) + ": a correlation needs at least 3 configurations");
      } else {
        c.pearson = Pearson(xs, ys);
        c.spearman = Spearman(xs, ys);
        if (!c.pearson) {
          notes.push_back(col + " (or energy per sample) is constant across the " + std::to_string(c.n) +
                          " configurations: no correlation");
        } else {
          c.pearson_p = CorrelationPValue(*c.pearson, c.n);
          if (auto ci = FisherZInterval(*c.pearson, c.n)) {
            c.pearson_ci_low = ci->first;
            c.pearson_ci_high = ci->second;
          } else if (c.n < 4) {
            notes.push_back("95% CI needs n >= 4");
          }
        }
        if (c.spearman) c.spearman_p = CorrelationPValue(*c.spearman, c.n);
      }
      c.power_law = FitPowerLaw(xs, ys);
      if (c.estimated) notes.push_back(kEstimatedNote);
      c.note = Join(notes, "; ");
      out.push_back(std::move(c));
    }
  }
  return out;
}

TrainVsInfer CompareTrainInfer(const std::vector<ConfigPoint>& configs) {
  TrainVsInfer t;
  // Per model: the mean over its configurations of each phase.
  std::map<std::string, std::vector<const ConfigPoint*>> train, infer;
  std::vector<std::string> order;
  for (const auto& c : configs) {
    if (c.phase == "train")
      train[c.model].push_back(&c);
    else if (c.phase == "infer")
      infer[c.model].push_back(&c);
    else
      continue;
    if (std::find(order.begin(), order.end(), c.model) == order.end()) order.push_back(c.model);
    t.estimated = t.estimated || c.estimated;
  }
  std::vector<double> te, ie, tt, it, er, tr;
  for (const std::string& m : order) {
    if (!train.count(m) || !infer.count(m)) continue;
    TrainInferModel x;
    x.model = m;
    std::vector<double> a, b, cc, d;
    for (auto* p : train[m]) a.push_back(p->energy_per_sample_j), cc.push_back(p->time_per_sample_s);
    for (auto* p : infer[m]) b.push_back(p->energy_per_sample_j), d.push_back(p->time_per_sample_s);
    x.train_energy_per_sample_j = Mean(a);
    x.infer_energy_per_sample_j = Mean(b);
    x.train_time_per_sample_s = Mean(cc);
    x.infer_time_per_sample_s = Mean(d);
    if (x.infer_energy_per_sample_j > 0)
      x.energy_ratio = x.train_energy_per_sample_j / x.infer_energy_per_sample_j;
    if (x.infer_time_per_sample_s > 0) x.time_ratio = x.train_time_per_sample_s / x.infer_time_per_sample_s;
    te.push_back(x.train_energy_per_sample_j);
    ie.push_back(x.infer_energy_per_sample_j);
    tt.push_back(x.train_time_per_sample_s);
    it.push_back(x.infer_time_per_sample_s);
    if (x.energy_ratio) er.push_back(*x.energy_ratio);
    if (x.time_ratio) tr.push_back(*x.time_ratio);
    t.models.push_back(std::move(x));
  }
  t.n_models = static_cast<int64_t>(t.models.size());
  std::vector<std::string> notes;
  if (t.n_models == 0) {
    notes.push_back("no model has both a train and an infer run: nothing to compare");
  } else {
    t.median_energy_ratio = Median(er);
    t.median_time_ratio = Median(tr);
    t.mean_energy_ratio = Mean(er);
    t.mean_time_ratio = Mean(tr);
    if (er.empty()) t.median_energy_ratio.reset(), t.mean_energy_ratio.reset();
    if (tr.empty()) t.median_time_ratio.reset(), t.mean_time_ratio.reset();
    if (t.n_models < 3) {
      notes.push_back("correlation across models needs at least 3 models with both phases (have " +
                      std::to_string(t.n_models) + ")");
    } else {
      t.energy_pearson = Pearson(te, ie);
      t.energy_spearman = Spearman(te, ie);
      if (t.energy_spearman) t.energy_spearman_p = CorrelationPValue(*t.energy_spearman, t.n_models);
      t.time_pearson = Pearson(tt, it);
      if (!t.energy_pearson) notes.push_back("energy per sample is constant across models: no correlation");
    }
  }
  if (t.estimated) notes.push_back(kEstimatedNote);
  t.note = Join(notes, "; ");
  return t;
}

}  // namespace wattlab::analysis
