// The operator-level cost model: see opmodel.h and docs/analysis.md.
#include "analysis/opmodel.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <set>

#include "analysis/analysis.h"
#include "analysis/stats.h"

namespace wattlab {

std::string CalibrationContextDifference(const CalibrationContext& have, const CalibrationContext& want) {
  std::vector<std::string> diffs;
  auto check = [&](const char* name, const std::string& h, const std::string& w) {
    if (!w.empty() && h != w)
      diffs.push_back(std::string(name) + ": calibrated '" + h + "', wanted '" + w + "'");
  };
  check("host", have.host, want.host);
  check("cpu", have.cpu, want.cpu);
  check("libtorch", have.libtorch, want.libtorch);
  check("blas", have.blas, want.blas);
  check("wait policy", have.wait_policy, want.wait_policy);
  check("precision", have.precision, want.precision);
  if (want.threads > 0 && have.threads != want.threads)
    diffs.push_back("threads: calibrated " + std::to_string(have.threads) + ", wanted " +
                    std::to_string(want.threads));
  std::string out;
  for (const auto& d : diffs) out += (out.empty() ? "" : "; ") + d;
  return out;
}

Result<StoredCalibration> ChooseCalibration(const std::vector<StoredCalibration>& stored,
                                            const CalibrationContext& want) {
  const std::string fix = "run `wattlab calibrate --threads " + std::to_string(want.threads) +
                          " --precision " + (want.precision.empty() ? "fp32" : want.precision) +
                          "` on this machine first";
  const StoredCalibration* best = nullptr;
  const StoredCalibration* nearest = nullptr;
  for (const auto& c : stored) {
    if (CalibrationContextDifference(c.context, want).empty()) {
      if (best == nullptr || c.created_unix_s > best->created_unix_s) best = &c;
    } else if (nearest == nullptr || c.created_unix_s > nearest->created_unix_s) {
      nearest = &c;
    }
  }
  if (best != nullptr) return *best;
  if (nearest == nullptr) return Status::NotFound("no operator calibration in the database: " + fix);
  return Status::NotFound("no operator calibration matches (newest differs in " +
                          CalibrationContextDifference(nearest->context, want) + "): " + fix);
}

std::string CalibrationKey(int64_t threads, const std::string& precision) {
  return std::to_string(threads) + "/" + precision;
}

// ---- the cost of one call -------------------------------------------------------

std::string OpClassKey(const OpRecord& op) {
  if (op.kind == "conv") {
    // Few output channels (LeNet, thin ResNets) run far below the
    // throughput of wide layers of the same work.
    if (op.reduce > 0 && op.weight_elements > 0 && op.weight_elements / op.reduce <= kNarrowConvChannels)
      return "conv/narrow";
    if (op.kernel <= 1) return "conv/1x1";
    return op.reduce < 64 ? "conv/kxk-small" : "conv/kxk";
  }
  if (op.kind == "pool") {
    if (op.kernel == 0) return "pool/global";
    // Overlapping windows (3x3 stride 1) read each input kernel times over:
    // measured 5x the time per element of 2x2 stride 2.
    const int64_t out = op.work / std::max<int64_t>(1, op.kernel), in = op.bytes / 4 - out;
    return out > 0 && in > 0 && op.work * 2 > in * 3 ? "pool/overlap" : "pool/window";
  }
  if (op.kind == "unknown") return "other";
  return op.kind;
}

double OpCallWork(const OpRecord& op, int64_t batch) {
  const bool by_macs = op.kind == "conv" || op.kind == "conv_grouped" || op.kind == "conv_depthwise" ||
                       op.kind == "linear" || op.kind == "matmul";
  const double per_sample = static_cast<double>(by_macs ? op.work : op.bytes);
  return std::max(1.0, per_sample * static_cast<double>(std::max<int64_t>(1, batch)));
}

namespace {
std::string KindOf(const std::string& key) { return key.substr(0, key.find('/')); }
// Fallbacks when a class has no point: the other class of the same kind.
std::vector<std::string> Fallbacks(const std::string& key) {
  if (key == "conv/kxk-small") return {"conv/kxk", "conv/1x1", "conv/narrow"};
  if (key == "conv/kxk") return {"conv/kxk-small", "conv/1x1", "conv/narrow"};
  if (key == "conv/1x1") return {"conv/kxk", "conv/narrow"};
  if (key == "conv/narrow") return {"conv/kxk-small", "conv/kxk", "conv/1x1"};
  if (key == "pool/global") return {"pool/window"};
  if (key == "pool/window") return {"pool/overlap", "pool/global"};
  if (key == "pool/overlap") return {"pool/window"};
  if (key == "conv_grouped") return {"conv/kxk"};
  return {};
}
}  // namespace

OpCostModel::Surface OpCostModel::MakeSurface(const std::vector<const CalibrationPoint*>& sorted,
                                              const std::function<double(const CalibrationPoint&)>& train_s) {
  Surface s;
  for (const auto* p : sorted) {
    const double b = static_cast<double>(std::max<int64_t>(1, p->batch));
    if (s.levels.empty() || s.levels.back().batch != b) s.levels.push_back(Level{b, {}});
    Curve& c = s.levels.back().curve;
    const double x = OpCallWork(p->op, 1);
    const double t = train_s(*p);
    // Points at (nearly) the same work are averaged in log space.
    const double plain =
        p->forward_plain_s > 0 && std::isfinite(p->forward_plain_s) ? p->forward_plain_s : p->forward_s;
    if (!c.x.empty() && x <= c.x.back() * 1.02) {
      c.t_infer.back() = std::sqrt(c.t_infer.back() * p->forward_s);
      c.t_train.back() = std::sqrt(c.t_train.back() * t);
      c.t_infer_plain.back() = std::sqrt(c.t_infer_plain.back() * plain);
      continue;
    }
    c.x.push_back(x);
    c.t_infer.push_back(p->forward_s);
    c.t_train.push_back(t);
    c.t_infer_plain.push_back(plain);
  }
  return s;
}

Result<OpCostModel> OpCostModel::Build(const std::vector<CalibrationPoint>& points) {
  OpCostModel m;
  std::map<std::string, std::vector<const CalibrationPoint*>> by_key;
  double fastest_infer = std::numeric_limits<double>::infinity(), fastest_train = fastest_infer;
  std::vector<const CalibrationPoint*> opt;
  for (const auto& p : points) {
    if (!(p.train_s > 0) || !std::isfinite(p.train_s)) continue;
    if (p.op.kind == "optimizer") {
      opt.push_back(&p);
      continue;
    }
    if (!(p.forward_s > 0) || !std::isfinite(p.forward_s)) continue;
    by_key[OpClassKey(p.op)].push_back(&p);
    fastest_infer = std::min(fastest_infer, p.forward_s);
    fastest_train = std::min(fastest_train, p.train_s);
  }
  for (const char* kind :
       {"conv", "conv_depthwise", "linear", "pool", "norm", "act", "elementwise", "other"}) {
    bool found = false;
    for (const auto& [key, v] : by_key) found = found || KindOf(key) == kind;
    if (!found)
      return Status::FailedPrecondition(std::string("the calibration has no point for operator kind '") +
                                        kind + "': run `wattlab calibrate` again");
  }
  std::vector<const CalibrationPoint*> single;
  for (const auto* p : opt)
    if (p->op.reduce <= 1) single.push_back(p);
  if (single.empty())
    return Status::FailedPrecondition(
        "the calibration has no optimizer point: run `wattlab calibrate` again");
  for (auto& [key, v] : by_key) {
    // One curve per calibrated batch size, over the work per sample: shapes
    // are compared at the same batch, so a large weight at a small batch
    // (bandwidth-bound) is never the neighbour of a small one at a large batch.
    std::sort(v.begin(), v.end(), [](const CalibrationPoint* a, const CalibrationPoint* b) {
      if (a->batch != b->batch) return a->batch < b->batch;
      return OpCallWork(a->op, 1) < OpCallWork(b->op, 1);
    });
    // A convolution timed as a first layer (3 input channels or fewer) is
    // only ever a first layer in a model: its training time is that one.
    Surface s = MakeSurface(v, [](const CalibrationPoint& p) {
      return p.op.kind != "linear" && p.train_first_s > 0 ? p.train_first_s : p.train_s;
    });
    double oi = fastest_infer, ot = fastest_train;
    for (const auto& l : s.levels) {
      for (double t : l.curve.t_infer) oi = std::min(oi, t);
      for (double t : l.curve.t_train) ot = std::min(ot, t);
    }
    const std::string kind = KindOf(key);
    m.overhead_infer_[kind] = m.overhead_infer_.count(kind) ? std::min(m.overhead_infer_[kind], oi) : oi;
    m.overhead_train_[kind] = m.overhead_train_.count(kind) ? std::min(m.overhead_train_[kind], ot) : ot;
    m.surfaces_[key] = std::move(s);
  }
  // A model's first layer (its input is the data: no input gradient), from
  // the points that timed it (conv with 3 input channels or fewer, linear).
  for (const auto& [key, v] : by_key) {
    std::vector<const CalibrationPoint*> timed;  // still sorted by batch, then work
    for (const auto* p : v)
      if (p->train_first_s > 0 && std::isfinite(p->train_first_s)) timed.push_back(p);
    if (!timed.empty())
      m.first_surfaces_[key] = MakeSurface(timed, [](const CalibrationPoint& p) { return p.train_first_s; });
  }
  std::sort(single.begin(), single.end(),
            [](const CalibrationPoint* a, const CalibrationPoint* b) { return a->op.work < b->op.work; });
  for (const auto* p : single) {
    m.optimizer_.x.push_back(static_cast<double>(std::max<int64_t>(1, p->op.work)));
    m.optimizer_.t_train.push_back(p->train_s);
    m.optimizer_.t_infer.push_back(p->train_s);
  }
  for (const auto* p : opt) {
    if (p->op.reduce <= 1) continue;
    // The optimizer's time is linear in parameters below its smallest point (no overhead floor).
    const double base = Interpolate(m.optimizer_, m.optimizer_.t_train, static_cast<double>(p->op.work), 0);
    m.per_tensor_s_ = std::max(m.per_tensor_s_, (p->train_s - base) / static_cast<double>(p->op.reduce - 1));
  }
  return m;
}

double OpCostModel::Interpolate(const Curve& c, const std::vector<double>& t, double x, double overhead) {
  const size_t n = c.x.size();
  if (n == 0) return 0;
  if (x <= c.x[0]) {
    const double o = std::min(overhead, t[0]);
    return o + (t[0] - o) * x / c.x[0];
  }
  if (x >= c.x[n - 1]) return t[n - 1] * x / c.x[n - 1];
  size_t i = 1;
  while (c.x[i] < x) ++i;
  const double f = std::log(x / c.x[i - 1]) / std::log(c.x[i] / c.x[i - 1]);
  return std::exp(std::log(t[i - 1]) + f * std::log(t[i] / t[i - 1]));
}

const OpCostModel::Surface* OpCostModel::Find(const std::string& key) const {
  auto it = surfaces_.find(key);
  if (it != surfaces_.end()) return &it->second;
  for (const auto& alt : Fallbacks(key)) {
    it = surfaces_.find(alt);
    if (it != surfaces_.end()) return &it->second;
  }
  return nullptr;
}

double OpCostModel::CallSeconds(const OpRecord& op, int64_t batch, bool train, bool first_layer,
                                bool packed) const {
  const std::string key = OpClassKey(op);
  const Surface* s = nullptr;
  if (train && first_layer) {
    auto it = first_surfaces_.find(key);
    if (it != first_surfaces_.end()) s = &it->second;
  }
  if (s == nullptr) s = Find(key);
  if (s == nullptr) s = Find("other");
  if (s == nullptr || s->levels.empty()) return 0;
  const std::string kind = KindOf(key);
  const auto& over = train ? overhead_train_ : overhead_infer_;
  auto it = over.find(kind);
  const double o = it != over.end() ? it->second : 0;
  const double w = OpCallWork(op, 1);
  // The call's time at one calibrated batch size: its curve over the work per
  // sample, scaled as a call of work batch x w (below the smallest point:
  // overhead + work / throughput; above the largest: linear).
  auto at_level = [&](const Level& l) {
    const Curve& c = l.curve;
    return Interpolate(c, train ? c.t_train : packed ? c.t_infer : c.t_infer_plain, w, o);
  };
  const double b = static_cast<double>(std::max<int64_t>(1, batch));
  const auto& lv = s->levels;
  // Below the smallest calibrated batch: overhead + time in proportion to the
  // batch; above the largest: in proportion to the batch; between two: log-log.
  if (b <= lv.front().batch) {
    const double t0 = at_level(lv.front());
    const double floor = std::min(o, t0);
    return floor + (t0 - floor) * b / lv.front().batch;
  }
  if (b >= lv.back().batch) return at_level(lv.back()) * b / lv.back().batch;
  size_t i = 1;
  while (lv[i].batch < b) ++i;
  const double t0 = at_level(lv[i - 1]), t1 = at_level(lv[i]);
  const double f = std::log(b / lv[i - 1].batch) / std::log(lv[i].batch / lv[i - 1].batch);
  return std::exp(std::log(t0) + f * std::log(t1 / t0));
}

double OpCostModel::OptimizerSeconds(int64_t params, int64_t tensors) const {
  if (optimizer_.x.empty()) return 0;
  const double base =
      Interpolate(optimizer_, optimizer_.t_train, static_cast<double>(std::max<int64_t>(1, params)), 0);
  return base + per_tensor_s_ * static_cast<double>(std::max<int64_t>(0, tensors - 1));
}

OpTime OpCostModel::TimePerSample(const OpProfile& profile, int64_t batch, const std::string& phase) const {
  OpTime r;
  const bool train = phase == "train";
  const double b = static_cast<double>(std::max<int64_t>(1, batch));
  double unknown = 0;
  // The first conv or linear layer takes the data: in training it computes
  // no input gradient (ops before it, a cast or a pad, have none to pass on).
  bool seen_layer = false;
  for (const auto& op : profile.ops) {
    const bool layer =
        op.kind == "conv" || op.kind == "conv_grouped" || op.kind == "conv_depthwise" || op.kind == "linear";
    const double s = CallSeconds(op, batch, train, layer && !seen_layer, profile.convs_packed) / b;
    seen_layer = seen_layer || layer;
    r.by_kind_s[op.kind] += s;
    r.time_per_sample_s += s;
    if (op.kind == "unknown") unknown += s;
  }
  r.calls = static_cast<int64_t>(profile.ops.size()) + (train ? 1 : 0);
  if (train) {
    const double s = OptimizerSeconds(profile.facts.params, std::max<int64_t>(1, profile.param_tensors)) / b;
    r.by_kind_s["optimizer"] += s;
    r.time_per_sample_s += s;
  }
  r.unknown_share = r.time_per_sample_s > 0 ? unknown / r.time_per_sample_s : 0;
  return r;
}

// ---- judged against a study ----------------------------------------------------

namespace {

struct Judged {
  const analysis::ConfigPoint* config;
  double raw_s = 0, unknown_share = 0;
  std::map<std::string, double> by_kind;
  std::optional<double> time_cv_pct, energy_cv_pct;
  int64_t calls = 0;
};

double GeoMean(const std::vector<double>& v) {
  if (v.empty()) return 1;
  double s = 0;
  for (double x : v) s += std::log(x);
  return std::exp(s / static_cast<double>(v.size()));
}

std::optional<double> Cv(const std::vector<double>& v) {
  if (v.size() < 2) return std::nullopt;
  const double m = analysis::Mean(v);
  if (!(m > 0)) return std::nullopt;
  return 100.0 * analysis::SampleStdDev(v) / m;
}

std::optional<double> MedianOf(const std::vector<std::optional<double>>& v) {
  std::vector<double> x;
  for (const auto& o : v)
    if (o) x.push_back(*o);
  if (x.empty()) return std::nullopt;
  return analysis::Median(x);
}

// Ridge weights tried for the per-group corrections (ChooseAndFit picks one
// by leave-one-model-out); the largest all but forces the common scale.
constexpr double kOpRidgeLambdas[] = {0.1, 0.3, 1, 3, 10, 100};
// A group's own correction needs this many models with this share of their calibrated time in it.
constexpr size_t kOpGroupSupport = 3;
constexpr double kOpGroupShare = 0.05;

// time = sum over groups of correction x calibrated time + per_batch_s /
// batch (OpModelFit), least squares on relative errors with every correction
// >= 0, each pulled toward the common scale (one correction for all kinds,
// fitted the same way) by a ridge row of weight sqrt(lambda x n x share / groups), the
// share being the group's mean share of the calibrated time: a group that
// makes up little of any model is held near the scale, so one model cannot
// set its correction. The per-batch term is fitted only when some model was
// measured at two batch sizes or more (else it is an intercept fitted to noise).
OpModelFit FitOpCorrections(const std::vector<const Judged*>& rows, double lambda) {
  OpModelFit f;
  f.lambda = lambda;
  if (rows.empty()) return f;
  std::vector<double> ratio, watts;
  std::map<std::string, double> share;
  std::map<std::string, std::set<int64_t>> batches;
  for (const Judged* j : rows) {
    const double y = j->config->time_per_sample_s;
    ratio.push_back(y / j->raw_s);
    watts.push_back(j->config->energy_per_sample_j / y);
    for (const auto& [k, v] : j->by_kind) share[OpCorrectionGroup(k)] += v / j->raw_s;
    batches[j->config->model].insert(j->config->batch_size);
  }
  f.power_w = GeoMean(watts);
  bool varied = false;
  for (const auto& [m, b] : batches) varied = varied || b.size() >= 2;
  // The common scale: one correction for every kind (with the per-batch
  // term when it can be told apart), or the geometric mean of measured /
  // calibrated when that fit has no positive solution.
  f.scale = GeoMean(ratio);
  if (varied) {
    std::vector<std::vector<double>> a1;
    std::vector<double> b1;
    for (const Judged* j : rows) {
      const double y = j->config->time_per_sample_s;
      a1.push_back(
          {j->raw_s / y, 1.0 / static_cast<double>(std::max<int64_t>(1, j->config->batch_size)) / y});
      b1.push_back(1.0);
    }
    if (auto x1 = analysis::NonNegativeLeastSquares(a1, b1); x1 && (*x1)[0] > 0) f.scale = (*x1)[0];
  }
  // A group gets its own correction only where it is told apart: at least
  // kOpGroupSupport models spend kOpGroupShare of their calibrated time in
  // it. Otherwise one model's small share would set it (a held-out check saw
  // grouped convolutions corrected x4.9 from one model's 4%); it takes the
  // common scale instead.
  std::map<std::string, std::set<std::string>> support;
  for (const Judged* j : rows) {
    std::map<std::string, double> g;
    for (const auto& [kind, v] : j->by_kind) g[OpCorrectionGroup(kind)] += v / j->raw_s;
    for (const auto& [name, v] : g)
      if (v >= kOpGroupShare) support[name].insert(j->config->model);
  }
  std::vector<std::string> groups;
  for (auto& [g, v] : share) {
    v /= static_cast<double>(rows.size());
    if (v > 0 && support[g].size() >= kOpGroupSupport) groups.push_back(g);
  }
  const size_t k = groups.size() + (varied ? 1 : 0);
  if (k == 0) return f;
  std::vector<std::vector<double>> a;
  std::vector<double> b;
  for (const Judged* j : rows) {
    const double y = j->config->time_per_sample_s;
    std::vector<double> row(k, 0.0);
    double fixed = 0;  // the groups held at the common scale
    for (const auto& [kind, v] : j->by_kind) {
      const auto it = std::find(groups.begin(), groups.end(), OpCorrectionGroup(kind));
      if (it != groups.end())
        row[static_cast<size_t>(it - groups.begin())] += v / y;
      else
        fixed += f.scale * v / y;
    }
    if (varied) row.back() = 1.0 / static_cast<double>(std::max<int64_t>(1, j->config->batch_size)) / y;
    a.push_back(std::move(row));
    b.push_back(1.0 - fixed);
  }
  for (size_t g = 0; g < groups.size(); ++g) {
    const double w = std::sqrt(lambda * static_cast<double>(rows.size()) * std::max(share[groups[g]], 1e-3) /
                               static_cast<double>(groups.size()));
    std::vector<double> row(k, 0.0);
    row[g] = w / f.scale;
    a.push_back(std::move(row));
    b.push_back(w);
  }
  auto x = analysis::NonNegativeLeastSquares(a, b);
  if (!x) return f;  // the common scale alone
  for (size_t g = 0; g < groups.size(); ++g) f.correction[groups[g]] = (*x)[g];
  if (varied) f.per_batch_s = x->back();
  return f;
}

}  // namespace

std::string OpCorrectionGroup(const std::string& kind) {
  if (kind == "matmul") return "linear";
  if (kind == "act" || kind == "elementwise" || kind == "norm") return "pointwise";
  if (kind == "unknown") return "other";
  return kind;
}

double CorrectedTime(const OpModelFit& f, const std::map<std::string, double>& raw_by_kind, int64_t batch) {
  double t = 0;
  for (const auto& [kind, v] : raw_by_kind) {
    const auto it = f.correction.find(OpCorrectionGroup(kind));
    t += v * (it != f.correction.end() ? it->second : f.scale);
  }
  return t + f.per_batch_s / static_cast<double>(std::max<int64_t>(1, batch));
}

OpModelResult EvaluateOpModel(const std::vector<RunRow>& rows,
                              const std::vector<analysis::ConfigPoint>& configs, const OpModelInput& input,
                              const std::string& phase_filter) {
  OpModelResult out;
  out.notes = input.notes;
  std::map<std::string, OpCostModel> models;
  for (const auto& [key, pts] : input.calibrations) {
    auto m = OpCostModel::Build(pts);
    if (m.ok())
      models.emplace(key, std::move(*m));
    else
      out.notes.push_back("calibration " + key + ": " + m.status().message());
  }
  std::set<std::string> missing_profile, missing_calibration;
  for (const char* phase : {"train", "infer"}) {
    if (!phase_filter.empty() && phase_filter != phase) continue;
    std::vector<Judged> judged;
    bool estimated = false;
    for (const auto& c : configs) {
      if (c.phase != phase || c.samples <= 0 || c.time_per_sample_s <= 0 || c.energy_per_sample_j <= 0)
        continue;
      auto cm = models.find(CalibrationKey(c.threads, c.precision));
      if (cm == models.end()) {
        missing_calibration.insert(CalibrationKey(c.threads, c.precision));
        continue;
      }
      auto prof = input.profiles.find(c.model);
      if (prof == input.profiles.end()) {
        missing_profile.insert(c.model);
        continue;
      }
      OpTime t = cm->second.TimePerSample(prof->second, c.batch_size, phase);
      if (!(t.time_per_sample_s > 0)) continue;
      Judged j{&c, t.time_per_sample_s, t.unknown_share, t.by_kind_s, {}, {}, t.calls};
      // The repetitions' spread, from the rows behind the configuration.
      std::vector<double> times, energies;
      const std::set<int64_t> ids(c.run_ids.begin(), c.run_ids.end());
      const std::string window = c.window == "profile" ? "profile" : "full";
      for (const auto& r : rows) {
        if (r.phase != phase || !ids.count(r.run_id) || r.samples <= 0) continue;
        if ((r.window.empty() ? "full" : r.window) != window) continue;
        times.push_back(r.duration_s / static_cast<double>(r.samples));
      }
      j.time_cv_pct = Cv(times);
      if (c.repetitions >= 2 && c.energy_per_sample_j > 0)
        j.energy_cv_pct = 100.0 * c.energy_per_sample_sd_j / c.energy_per_sample_j;
      estimated = estimated || c.estimated;
      judged.push_back(j);
    }
    if (judged.empty()) continue;
    OpModelPhase ph;
    ph.phase = phase;
    ph.estimated = estimated;
    std::set<std::string> names;
    for (const auto& j : judged) names.insert(j.config->model);
    ph.n_points = static_cast<int64_t>(judged.size());
    ph.n_models = static_cast<int64_t>(names.size());
    // Fitted without `without` (a model; "" for none) at ridge weight
    // lambda, or with lambda chosen by leave-one-model-out among the fitted
    // models (ChooseAndFit): see OpModelFit.
    auto fit_at = [&](const std::string& without, double lambda) {
      std::vector<const Judged*> rows;
      for (const auto& j : judged)
        if (j.config->model != without) rows.push_back(&j);
      return FitOpCorrections(rows, lambda);
    };
    auto choose_and_fit = [&](const std::string& without) {
      std::set<std::string> models;
      for (const auto& j : judged)
        if (j.config->model != without) models.insert(j.config->model);
      double best_lambda = kOpRidgeLambdas[0], best_err = std::numeric_limits<double>::infinity();
      if (models.size() >= 3) {
        for (double lambda : kOpRidgeLambdas) {
          double sum = 0;
          int64_t n = 0;
          for (const auto& m : models) {
            std::vector<const Judged*> rows;
            for (const auto& j : judged)
              if (j.config->model != without && j.config->model != m) rows.push_back(&j);
            const OpModelFit f = FitOpCorrections(rows, lambda);
            for (const auto& j : judged) {
              if (j.config->model != m) continue;
              const double pred = CorrectedTime(f, j.by_kind, j.config->batch_size);
              sum += std::abs(pred - j.config->time_per_sample_s) / j.config->time_per_sample_s;
              ++n;
            }
          }
          const double err = n > 0 ? sum / static_cast<double>(n) : std::numeric_limits<double>::infinity();
          if (err < best_err) best_err = err, best_lambda = lambda;
        }
      }
      return fit_at(without, best_lambda);
    };
    {
      const OpModelFit all = choose_and_fit("");
      ph.correction = all.scale;
      ph.corrections = all.correction;
      ph.ridge_lambda = all.lambda;
      ph.per_batch_s = all.per_batch_s;
      ph.power_w = all.power_w;
    }
    if (ph.n_models < 3) {
      ph.note = "leave-one-model-out needs at least 3 models with a calibration and a profile (have " +
                std::to_string(ph.n_models) + ")";
      out.phases.push_back(std::move(ph));
      continue;
    }
    std::vector<double> time_ape, energy_ape, log_res;
    std::map<std::string, OpModelModelError> per_model;
    std::map<std::string, std::vector<std::optional<double>>> tcv, ecv;
    // One fold per model (not per configuration: a model swept over batch
    // sizes would choose and fit the same fold again for each).
    std::map<std::string, OpModelFit> folds;
    for (const auto& name : names) folds.emplace(name, choose_and_fit(name));
    for (const auto& j : judged) {
      const auto& c = *j.config;
      const OpModelFit& f = folds.at(c.model);
      OpModelPoint p;
      p.model = c.model;
      p.config_id = c.config_id;
      p.batch_size = c.batch_size;
      p.measured_time_s = c.time_per_sample_s;
      p.raw_time_s = j.raw_s;
      p.predicted_time_s = CorrectedTime(f, j.by_kind, c.batch_size);
      p.measured_energy_j = c.energy_per_sample_j;
      p.predicted_energy_j = p.predicted_time_s * f.power_w;
      p.time_ape_pct = 100.0 * std::abs(p.predicted_time_s - p.measured_time_s) / p.measured_time_s;
      p.energy_ape_pct = 100.0 * std::abs(p.predicted_energy_j - p.measured_energy_j) / p.measured_energy_j;
      p.time_cv_pct = j.time_cv_pct;
      p.energy_cv_pct = j.energy_cv_pct;
      p.repetitions = c.repetitions;
      p.unknown_share = j.unknown_share;
      p.raw_by_kind_s = j.by_kind;
      p.calls = j.calls;
      time_ape.push_back(p.time_ape_pct);
      energy_ape.push_back(p.energy_ape_pct);
      log_res.push_back(std::log(p.measured_time_s / p.predicted_time_s));
      auto& me = per_model[c.model];
      me.model = c.model;
      me.configs += 1;
      me.time_ape_pct += p.time_ape_pct;
      me.energy_ape_pct += p.energy_ape_pct;
      tcv[c.model].push_back(p.time_cv_pct);
      ecv[c.model].push_back(p.energy_cv_pct);
      ph.points.push_back(std::move(p));
    }
    ph.time_mape_pct = analysis::Mean(time_ape);
    ph.time_median_ape_pct = analysis::Median(time_ape);
    ph.energy_mape_pct = analysis::Mean(energy_ape);
    ph.energy_median_ape_pct = analysis::Median(energy_ape);
    double ss = 0;
    for (double r : log_res) ss += r * r;
    ph.residual_sd_log = std::sqrt(ss / static_cast<double>(std::max<size_t>(1, log_res.size() - 1)));
    std::vector<std::optional<double>> all_t, all_e;
    for (const auto& p : ph.points) {
      all_t.push_back(p.time_cv_pct);
      all_e.push_back(p.energy_cv_pct);
    }
    ph.median_time_cv_pct = MedianOf(all_t);
    ph.median_energy_cv_pct = MedianOf(all_e);
    for (auto& [name, me] : per_model) {
      me.time_ape_pct /= static_cast<double>(me.configs);
      me.energy_ape_pct /= static_cast<double>(me.configs);
      me.time_cv_pct = MedianOf(tcv[name]);
      me.energy_cv_pct = MedianOf(ecv[name]);
      ph.models.push_back(me);
    }
    if (estimated) ph.note = analysis::kEstimatedNote + std::string(": energy errors track time errors");
    out.phases.push_back(std::move(ph));
  }
  if (!missing_profile.empty()) {
    std::string s;
    for (const auto& m : missing_profile) s += (s.empty() ? "" : ", ") + m;
    out.notes.push_back("no operator profile for " + s + " (not judged)");
  }
  for (const auto& k : missing_calibration)
    if (input.notes.empty())
      out.notes.push_back(
          "no calibration for threads/precision " + k +
          " on this study's machine: its configurations are not judged (run `wattlab calibrate`)");
  return out;
}

namespace {
nlohmann::json Opt(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}
}  // namespace

nlohmann::json ToJson(const OpModelResult& r) {
  nlohmann::json j;
  j["notes"] = r.notes;
  j["phases"] = nlohmann::json::array();
  for (const auto& p : r.phases) {
    nlohmann::json pj{{"phase", p.phase},
                      {"estimated", p.estimated},
                      {"n_points", p.n_points},
                      {"n_models", p.n_models},
                      {"time_mape_pct", Opt(p.time_mape_pct)},
                      {"time_median_ape_pct", Opt(p.time_median_ape_pct)},
                      {"energy_mape_pct", Opt(p.energy_mape_pct)},
                      {"energy_median_ape_pct", Opt(p.energy_median_ape_pct)},
                      {"nested_time_mape_pct", Opt(p.time_mape_pct)},
                      {"nested_energy_mape_pct", Opt(p.energy_mape_pct)},
                      {"median_time_cv_pct", Opt(p.median_time_cv_pct)},
                      {"median_energy_cv_pct", Opt(p.median_energy_cv_pct)},
                      {"correction", p.correction},
                      {"per_batch_s", p.per_batch_s},
                      {"power_w", p.power_w},
                      {"residual_sd_log", p.residual_sd_log},
                      {"note", p.note},
                      {"corrections_by_group", p.corrections},
                      {"ridge_lambda", p.ridge_lambda}};
    pj["points"] = nlohmann::json::array();
    for (const auto& x : p.points)
      pj["points"].push_back({{"model", x.model},
                              {"config_id", x.config_id},
                              {"batch_size", x.batch_size},
                              {"measured_time_s", x.measured_time_s},
                              {"predicted_time_s", x.predicted_time_s},
                              {"calibrated_time_s", x.raw_time_s},
                              {"calibrated_by_kind_s", x.raw_by_kind_s},
                              {"calls_per_batch", x.calls},
                              {"measured_energy_j", x.measured_energy_j},
                              {"predicted_energy_j", x.predicted_energy_j},
                              {"time_ape_pct", x.time_ape_pct},
                              {"energy_ape_pct", x.energy_ape_pct},
                              {"time_cv_pct", Opt(x.time_cv_pct)},
                              {"energy_cv_pct", Opt(x.energy_cv_pct)},
                              {"repetitions", x.repetitions}});
    pj["models"] = nlohmann::json::array();
    for (const auto& m : p.models)
      pj["models"].push_back({{"model", m.model},
                              {"configs", m.configs},
                              {"time_ape_pct", m.time_ape_pct},
                              {"energy_ape_pct", m.energy_ape_pct},
                              {"time_cv_pct", Opt(m.time_cv_pct)},
                              {"energy_cv_pct", Opt(m.energy_cv_pct)}});
    j["phases"].push_back(std::move(pj));
  }
  return j;
}

// ---- predicting an unseen model ---------------------------------------------------

Result<OpPrediction> PredictWithOpModel(const OpCostModel& cost, const OpProfile& profile, int64_t batch,
                                        const std::string& phase, const OpModelPhase& judged,
                                        std::optional<double> samples) {
  if (judged.n_models < 3 || !judged.time_mape_pct)
    return Status::FailedPrecondition("the operator-level model needs at least 3 measured models of phase " +
                                      phase + " on this machine to fit and judge its correction (have " +
                                      std::to_string(judged.n_models) + "): run a study first");
  OpPrediction p;
  p.phase = phase;
  p.batch_size = batch;
  OpTime t = cost.TimePerSample(profile, batch, phase);
  p.raw_time_per_sample_s = t.time_per_sample_s;
  p.by_kind_s = t.by_kind_s;
  p.unknown_share = t.unknown_share;
  p.unknown_ops = profile.unknown_ops;
  p.correction = judged.correction;
  p.per_batch_s = judged.per_batch_s;
  p.power_w = judged.power_w;
  OpModelFit f;
  f.correction = judged.corrections;
  f.scale = judged.correction;
  f.per_batch_s = judged.per_batch_s;
  f.power_w = judged.power_w;
  p.time_per_sample_s = CorrectedTime(f, t.by_kind_s, batch);
  p.corrections = judged.corrections;
  p.energy_per_sample_j = p.time_per_sample_s * judged.power_w;
  const double n = static_cast<double>(judged.n_points);
  const double half = analysis::StudentTQuantile(0.975, std::max(1.0, n - 1)) * judged.residual_sd_log *
                      std::sqrt(1 + 1 / std::max(1.0, n));
  const double widen = 1 + 3 * t.unknown_share;
  const double lo = std::exp(-half) / widen, hi = std::exp(half) * widen;
  p.time_low_s = p.time_per_sample_s * lo;
  p.time_high_s = p.time_per_sample_s * hi;
  p.energy_low_j = p.energy_per_sample_j * lo;
  p.energy_high_j = p.energy_per_sample_j * hi;
  if (samples) {
    p.samples = *samples;
    p.duration_s = *samples * p.time_per_sample_s;
    p.energy_j = *samples * p.energy_per_sample_j;
    p.energy_low_j_total = *samples * p.energy_low_j;
    p.energy_high_j_total = *samples * p.energy_high_j;
  }
  p.lomo_time_mape_pct = judged.time_mape_pct;
  p.lomo_energy_mape_pct = judged.energy_mape_pct;
  p.n_models = judged.n_models;
  p.estimated = judged.estimated;
  if (!profile.unknown_ops.empty()) {
    std::string s;
    for (const auto& u : profile.unknown_ops) s += (s.empty() ? "" : ", ") + u;
    p.note = "operators the model does not know, costed as copies by bytes and widening the interval: " + s;
  }
  if (judged.estimated)
    p.note += std::string(p.note.empty() ? "" : "; ") + analysis::kEstimatedNote +
              ": the energy error tracks the time error";
  return p;
}

nlohmann::json ToJson(const OpPrediction& p) {
  nlohmann::json j{{"phase", p.phase},
                   {"batch_size", p.batch_size},
                   {"calibrated_time_per_sample_s", p.raw_time_per_sample_s},
                   {"time_per_sample_s", p.time_per_sample_s},
                   {"time_per_sample_low_s", p.time_low_s},
                   {"time_per_sample_high_s", p.time_high_s},
                   {"energy_per_sample_j", p.energy_per_sample_j},
                   {"energy_per_sample_low_j", p.energy_low_j},
                   {"energy_per_sample_high_j", p.energy_high_j},
                   {"samples", Opt(p.samples)},
                   {"duration_s", Opt(p.duration_s)},
                   {"energy_j", Opt(p.energy_j)},
                   {"energy_low_j", Opt(p.energy_low_j_total)},
                   {"energy_high_j", Opt(p.energy_high_j_total)},
                   {"correction", p.correction},
                   {"per_batch_s", p.per_batch_s},
                   {"power_w", p.power_w},
                   {"unknown_share", p.unknown_share},
                   {"unknown_ops", p.unknown_ops},
                   {"by_kind_s", p.by_kind_s},
                   {"lomo_time_mape_pct", Opt(p.lomo_time_mape_pct)},
                   {"lomo_energy_mape_pct", Opt(p.lomo_energy_mape_pct)},
                   {"n_models", p.n_models},
                   {"estimated", p.estimated},
                   {"note", p.note},
                   {"corrections_by_group", p.corrections}};
  return j;
}

}  // namespace wattlab
