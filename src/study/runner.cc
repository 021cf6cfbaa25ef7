#include "study/runner.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "catalog/catalog.h"
#include "core/energy_basis.h"
#include "core/strings.h"
#include "meter/busy.h"
#include "meter/command_run.h"
#include "study/command_sweep.h"
#include "study/metered_run.h"
#include "study/profile.h"

namespace wattlab {
namespace {

using json = nlohmann::json;

// The span over an engine call's setup and warm-up, outside every phase window.
constexpr const char* kSetupSpan = "setup+warmup";
// A study's short windows last at least this long: inference (`infer_samples`
// is the least; a small model runs on in whole batches) and the profile's
// test pass. A window's own edges (meter readings, the first batch's
// checksum) cost about 2 ms, measured: LeNet at batch 128 ran 30.8 us a
// sample over 256 samples and 23.1 us over 25,600 (`wattlab infer --model
// lenet --batch-size 128 --samples N`); at 0.25 s they are under 1% of the
// window (docs/study.md).
constexpr double kMinWindowS = 0.25;
// The profile's test pass (a configuration that evaluates): at least this
// many batches and kMinWindowS, at most the full pass.
constexpr int64_t kProfileEvalBatches = 8;

double MonoS(Env* env) { return std::chrono::duration<double>(env->NowMonotonic()).count(); }

std::string Clock(double s) {
  if (!(s >= 0)) s = 0;
  int64_t t = (int64_t)std::llround(s);
  char buf[32];
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(t / 3600), (long long)(t % 3600 / 60),
                  (long long)(t % 60));
  else
    std::snprintf(buf, sizeof buf, "%02lld:%02lld", (long long)(t / 60), (long long)(t % 60));
  return buf;
}

json ConfigJson(const PlannedRun& r, const StudySpec& spec, const std::string& omp_wait_policy) {
  json j;
  j["model"] = r.model;
  j["dataset"] = spec.dataset;
  j["batch_size"] = r.batch_size;
  j["threads"] = r.threads;
  j["precision"] = r.precision;
  j["train"] = r.train;
  j["infer"] = r.infer;
  j["full_length"] = r.full_length;
  j["evaluate"] = r.evaluate;
  j["warmup_steps"] = spec.warmup_steps;
  j["profile_steps"] = r.profile_steps;
  j["max_profile_steps"] = r.profile_step_cap();
  j["epochs"] = r.epochs;
  j["steps_per_epoch"] = r.steps_per_epoch;
  j["train_samples"] = r.train_samples;
  j["eval_samples"] = r.eval_samples;
  j["infer_samples"] = r.infer_samples;
  j["optimizer"] = r.optimizer;
  j["lr"] = r.lr;
  j["seed"] = spec.seed;
  j["repetition"] = r.repetition;
  j["sweep"] = spec.sweeps[r.sweep].label;
  if (r.gpu_power_limit_w) j["gpu_power_limit_w"] = *r.gpu_power_limit_w;
  if (r.gpu_power_limit_pct) j["gpu_power_limit_pct"] = *r.gpu_power_limit_pct;
  if (r.cpu_power_limit_w) j["cpu_power_limit_w"] = *r.cpu_power_limit_w;
  if (r.cpu_max_freq_mhz) j["cpu_max_freq_mhz"] = *r.cpu_max_freq_mhz;
  j["omp_wait_policy"] = omp_wait_policy;  // in force, swept or not
  if (r.is_command()) {
    const SweepSpec& sw = spec.sweeps[r.sweep];
    j["command"] = r.command;
    j["phases"] = sw.phases;
    json windows = json::object();
    for (const auto& [phase, pats] : sw.windows) windows[phase] = pats;
    j["windows"] = windows;
    j["timeout_s"] = sw.timeout_s;
  }
  return j;
}

std::optional<double> MeanOf(const std::vector<double>& v, size_t from) {
  if (from >= v.size()) return std::nullopt;
  double s = 0;
  size_t n = 0;
  for (size_t i = from; i < v.size(); ++i)
    if (std::isfinite(v[i])) s += v[i], ++n;
  if (n == 0) return std::nullopt;
  return s / (double)n;
}

RunRecord NewRecord(const PlannedRun& r, const ModelFacts& facts, const StudySpec& spec,
                    const std::string& omp_wait_policy, double now_unix_s) {
  RunRecord rec;
  rec.study = spec.name;
  rec.run_id = r.run_id;
  rec.config_id = r.config_id;
  rec.repetition = r.repetition;
  rec.model = r.model;
  rec.config_json = ConfigJson(r, spec, omp_wait_policy).dump();
  if (r.is_command()) {
    // No input shape or MAC breakdown: what the spec said (or nothing).
    rec.facts_json = json{
        {"name", facts.name},
        {"params", facts.params},
        {"macs", facts.macs},
        {"macs_per_param", facts.macs_per_param},
        {"counter",
         facts.counter}}.dump();
  } else {
    rec.facts_json = ModelFactsToJson(facts).dump();
  }
  rec.started_at_unix_s = now_unix_s;
  return rec;
}

// Profile: warm-up outside the window, then profile_steps measured steps.
// A TorchScript run names the file and its input instead of a zoo model.
std::optional<Shape> ScriptInput(const PlannedRun& r) {
  if (r.torchscript.empty()) return std::nullopt;
  auto s = ParseShape(r.input);
  return s.ok() ? std::optional<Shape>(*s) : std::nullopt;
}

// The test samples of the full run's eval pass, and the profile's share of them.
int64_t FullEvalSamples(const PlannedRun& r, const StudySpec& spec) {
  if (r.eval_samples > 0) return r.eval_samples;
  auto d = catalog::LookupDataset(spec.dataset);
  return d.ok() ? d->test_samples : 0;
}
// The test samples the profile loads: the full pass's (it stops early, at
// kProfileEvalBatches and kMinWindowS).
int64_t ProfileEvalSamples(const PlannedRun& r, const StudySpec& spec) {
  const int64_t full = FullEvalSamples(r, spec);
  return full > 0 ? full : kProfileEvalBatches * r.batch_size;
}

TrainConfig ProfileConfig(const PlannedRun& r, const StudySpec& spec) {
  TrainConfig tc;
  tc.model = r.torchscript.empty() ? r.model : "";
  tc.torchscript = r.torchscript;
  tc.input = ScriptInput(r);
  tc.dataset = spec.dataset;
  tc.steps = r.profile_steps;
  tc.warmup_steps = spec.warmup_steps;
  tc.batch_size = r.batch_size;
  tc.optimizer = r.optimizer;
  tc.lr = r.lr;
  tc.threads = (int)r.threads;
  tc.precision = r.precision;
  tc.seed = spec.seed;
  // profile_steps at least, then on until the mean step time is known to
  // ±1% (the observer ends it: study/profile.h), at most the cap.
  tc.steps = r.profile_step_cap();
  // Load only what the profile consumes: data loading is outside the window but not free.
  tc.train_samples = std::min(r.train_samples, (spec.warmup_steps + tc.steps) * r.batch_size);
  // A configuration that evaluates after its full training gets a short
  // test pass too, so the eval window is extrapolated from a measurement.
  tc.evaluate = r.evaluate;
  if (r.evaluate) {
    tc.eval_samples = ProfileEvalSamples(r, spec);
    tc.eval_min_batches = kProfileEvalBatches;
    tc.eval_min_duration_s = kMinWindowS;
  }
  return tc;
}

TrainConfig FullTrainingConfig(const PlannedRun& r, const StudySpec& spec) {
  TrainConfig full = ProfileConfig(r, spec);
  full.steps = 0;
  full.epochs = r.epochs;
  full.train_samples = std::min(r.train_samples, r.steps_per_epoch * r.batch_size);
  full.evaluate = r.evaluate;
  full.eval_samples = r.eval_samples;
  full.eval_min_batches = 0;  // the whole pass
  full.eval_min_duration_s = 0;
  return full;
}

InferConfig InferenceConfig(const PlannedRun& r, const StudySpec& spec) {
  InferConfig ic;
  ic.model = r.torchscript.empty() ? r.model : "";
  ic.torchscript = r.torchscript;
  ic.input = ScriptInput(r);
  ic.batch_size = r.batch_size;
  ic.samples = r.infer_samples;
  ic.min_duration_s = kMinWindowS;
  ic.warmup_batches = spec.warmup_steps;
  ic.threads = (int)r.threads;
  ic.precision = r.precision;
  ic.seed = spec.seed;
  return ic;
}

// Appends one measured window to the record (its row, extra and domain
// energies) and returns the row for the caller's phase-specific fields.
// `samples` is the engine's count, or the window's when the engine gave none.
RunRow& AddWindow(RunRecord& rec, const PlannedRun& r, const ModelFacts& f, const std::string& window,
                  const MeteredWindow& mw, int64_t samples, std::optional<double> loss) {
  return AppendWindowRow(rec, r.batch_size, r.threads, r.precision, f, window, mw, samples, loss);
}

// Copies one engine call's spans for the timeline; the setup span and the
// profile's train window get names that tell the calls apart.
void TakeSpans(const MeteredRun& call, const std::string& setup_name, const std::string& train_name,
               std::vector<RunTimeline::Span>* spans) {
  for (const auto& s : call.spans()) {
    std::string name = s.name == kSetupSpan ? setup_name : s.name == "train" ? train_name : s.name;
    if (s.name == "eval" && train_name != "train") name = "eval profile";  // the profile's short test pass
    spans->push_back({name, s.start_s, s.end_s});
  }
}

// Whole-machine power (in_total domains) over the run window, downsampled by
// averaging into at most `points` buckets, times relative to the run.
RunTimeline BuildTimeline(const PlannedRun& r, const WindowResult& run,
                          const std::vector<DomainInfo>& domains, const std::vector<TimelineSample>& samples,
                          const std::vector<RunTimeline::Span>& spans, size_t points) {
  double t0 = run.start_s, t1 = run.start_s + run.duration_s;
  std::vector<std::pair<double, double>> pts;
  for (const auto& s : samples) {
    if (s.t_s < t0 || s.t_s > t1) continue;
    double p = 0;
    for (size_t d = 0; d < s.power_w.size() && d < domains.size(); ++d)
      if (domains[d].in_total && std::isfinite(s.power_w[d])) p += s.power_w[d];
    pts.emplace_back(s.t_s - t0, p);
  }
  RunTimeline tl;
  tl.run_id = r.run_id;
  tl.model = r.model;
  size_t n = std::max<size_t>(points, 1);
  size_t per = (pts.size() + n - 1) / n;
  if (per == 0) per = 1;
  for (size_t i = 0; i < pts.size(); i += per) {
    double ts = 0, ps = 0;
    size_t k = 0;
    for (size_t j = i; j < std::min(pts.size(), i + per); ++j, ++k) ts += pts[j].first, ps += pts[j].second;
    tl.t_s.push_back(ts / (double)k);
    tl.power_w.push_back(ps / (double)k);
  }
  for (auto& s : spans) tl.windows.push_back({s.name, s.start_s - t0, s.end_s - t0});
  std::sort(tl.windows.begin(), tl.windows.end(),
            [](const RunTimeline::Span& a, const RunTimeline::Span& b) { return a.start_s < b.start_s; });
  return tl;
}

// The mean of the values read (absent when none could be read).
std::optional<double> MeanRead(const std::vector<std::optional<double>>& vs) {
  double sum = 0;
  int n = 0;
  for (const auto& v : vs)
    if (v) sum += *v, ++n;
  if (n == 0) return std::nullopt;
  return sum / n;
}

bool SameCaps(const PlannedRun& a, const PlannedRun& b) {
  return a.gpu_power_limit_w == b.gpu_power_limit_w && a.gpu_power_limit_pct == b.gpu_power_limit_pct &&
         a.cpu_power_limit_w == b.cpu_power_limit_w && a.cpu_max_freq_mhz == b.cpu_max_freq_mhz;
}

// The "run" window around a whole run, closed on every path out.
class RunWindow {
 public:
  explicit RunWindow(Meter* m) : m_(m), id_(m->BeginWindow("run")) {}
  ~RunWindow() {
    if (open_) (void)m_->EndWindow(id_);
  }
  Result<WindowResult> End() {
    open_ = false;
    return m_->EndWindow(id_);
  }

 private:
  Meter* m_;
  Meter::WindowId id_;
  bool open_ = true;
};

}  // namespace

StudyRunner::StudyRunner(StudySpec spec, WorkloadEngine* engine, Meter* meter, Store* store, Env* env,
                         RunnerOptions options)
    : spec_(std::move(spec)),
      engine_(engine),
      meter_(meter),
      store_(store),
      env_(env),
      options_(std::move(options)),
      plan_(ExpandPlan(spec_)),
      runs_(ShardRuns(plan_, options_.shard)) {}

bool StudyRunner::RunsHere(const PlannedRun& r) const {
  return r.omp_wait_policy.empty() || r.omp_wait_policy == options_.omp_wait_policy;
}

void StudyRunner::Log(const std::string& line) {
  if (!options_.log) return;
  if (options_.tty) *options_.log << "\r\033[K";
  *options_.log << line << "\n";
  options_.log->flush();
}

void StudyRunner::Progress(const std::string& what) {
  if (!options_.log || !options_.tty) return;
  double elapsed = MonoS(env_) - start_mono_s_;
  double ratio = est_done_s_ > 0 ? actual_done_s_ / est_done_s_ : 1.0;
  double eta = std::max(0.0, (est_total_s_ - est_done_s_) * ratio);
  *options_.log << "\r\033[K[" << progress_index_ << "/" << progress_total_ << "] " << progress_label_ << " "
                << what << "  elapsed " << Clock(elapsed) << "  ETA " << Clock(eta);
  options_.log->flush();
}

Result<std::map<std::string, ModelFacts>> StudyRunner::DescribeModels() {
  std::map<std::string, ModelFacts> facts;
  for (const auto& r : runs_) {
    if (facts.count(r.model)) continue;
    if (!r.torchscript.empty() && !engine_)
      return Status::Internal("a torchscript sweep without a workload engine");
    auto counted = [&]() -> Result<ModelFacts> {
      auto shape = ParseShape(r.input);
      if (!shape.ok()) return shape.status();
      auto f = engine_->DescribeTorchScript(r.torchscript, *shape);
      if (f.ok()) f->name = r.model;
      return f;
    };
    if (r.is_command()) {
      const SweepSpec& sw = spec_.sweeps[r.sweep];
      ModelFacts f;
      if (!r.torchscript.empty()) {
        auto c = counted();
        if (!c.ok())
          return Status::InvalidArgument(spec_.file + ": sweep '" + r.model + "': torchscript '" +
                                         r.torchscript + "': " + c.status().message());
        f = *c;
      }
      f.name = r.model;
      if (sw.params) f.params = *sw.params;  // what the spec says wins over the count
      if (sw.macs) f.macs = *sw.macs;
      f.macs_per_param = f.params > 0 && f.macs > 0 ? (double)f.macs / (double)f.params : 0;
      if (r.torchscript.empty()) f.counter = sw.params || sw.macs ? "spec" : "unknown";
      facts[r.model] = f;
      continue;
    }
    if (!engine_) return Status::Internal("a models sweep without a workload engine");
    auto f = r.torchscript.empty() ? engine_->Describe(r.model, std::nullopt, std::nullopt) : counted();
    if (!f.ok())
      return Status::InvalidArgument(spec_.file + ": model '" + r.model + "': " + f.status().message());
    facts[r.model] = *f;
  }
  facts_ = facts;
  return facts;
}

Status StudyRunner::MeasureIdle() {
  if (spec_.idle_s <= 0) return Status::Ok();
  Progress("idle baseline");
  if (!options_.tty) Log("measuring idle power for " + FormatDouble(spec_.idle_s) + " s");
  auto w = meter_->MeasureIdle(std::chrono::nanoseconds((int64_t)(spec_.idle_s * 1e9)));
  if (!w.ok()) return w.status().WithContext("idle baseline");
  last_idle_mono_s_ = MonoS(env_);
  Log("idle baseline: " + FormatFixed(w->power_w, 2) + " W (CPU " + FormatFixed(w->cpu_util * 100, 0) +
      "% busy)");
  if (w->busy) Log("warning: " + BusyIdleWarning({true, w->busy_reason}, w->power_w));
  IdleBaselineRecord rec;
  rec.unix_s = env_->NowWallSeconds();
  rec.power_w = w->power_w;
  rec.cpu_util = w->cpu_util;
  rec.busy = w->busy;
  rec.host = host_;
  return store_->AddIdleBaseline(spec_.name, rec);
}

namespace {
// An fp32 calibration none of whose convolutions was timed packed: made
// before inference packed convolution weights (issue 11), or by a libtorch
// without oneDNN (then every study calibrates afresh: seconds).
bool ConvolutionsTimedUnpacked(const std::vector<CalibrationPoint>& points, const std::string& precision) {
  if (precision != "fp32") return false;
  bool convs = false;
  for (const auto& p : points) {
    if (p.op.kind.rfind("conv", 0) != 0) continue;
    if (p.forward_packed) return false;
    convs = true;
  }
  return convs;
}
}  // namespace

Status StudyRunner::CalibrateIfAsked(const std::vector<PlannedRun>& todo, const StudyInfo& info) {
  if (spec_.calibrate.empty()) return Status::Ok();
  std::set<std::pair<int64_t, std::string>> wanted;
  for (const auto& r : todo)
    if (r.command.empty() && (r.train || r.infer)) wanted.insert({r.threads, r.precision});
  if (wanted.empty()) return Status::Ok();
  WATTLAB_ASSIGN_OR_RETURN(auto stored, store_->ReadCalibrations());
  for (const auto& want : wanted) {
    // Named copies, not a structured binding: clang before 16 cannot capture one in a lambda.
    const int64_t threads = want.first;
    const std::string& precision = want.second;
    bool unpacked = false;
    const bool have = std::any_of(stored.begin(), stored.end(), [&](const CalibrationRow& c) {
      const bool same = c.host == info.host && c.cpu == info.cpu && c.libtorch == info.libtorch &&
                        c.blas == info.blas && c.wait_policy == options_.omp_wait_policy &&
                        c.threads == threads && c.precision == precision;
      // Inference now packs convolution weights: a calibration that timed them unpacked would cost it high.
      if (same && ConvolutionsTimedUnpacked(c.points, c.precision)) {
        unpacked = true;
        return false;
      }
      return same;
    });
    if (!have && unpacked)
      Log("operator calibration for " + std::to_string(threads) + " threads, " + precision +
          ": the stored one timed convolutions unpacked (before inference packed their weights): "
          "calibrating again");
    if (have) {
      Log("operator calibration for " + std::to_string(threads) + " threads, " + precision +
          ": reusing the stored one (same machine context)");
      continue;
    }
    CalibrationConfig cfg;
    cfg.threads = static_cast<int>(threads);
    cfg.precision = precision;
    cfg.shapes = spec_.calibrate;
    Log("operator calibration (" + cfg.shapes + ") for " + std::to_string(threads) + " threads, " +
        precision + " ...");
    const double t0 = MonoS(env_);
    WATTLAB_ASSIGN_OR_RETURN(CalibrationResult r, engine_->Calibrate(cfg));
    CalibrationRow row;
    row.created_unix_s = env_->NowWallSeconds();
    row.host = info.host;
    row.cpu = info.cpu;
    row.libtorch = info.libtorch;
    row.blas = info.blas;
    row.wait_policy = options_.omp_wait_policy;
    row.threads = threads > 0 ? threads : r.threads;
    row.precision = r.precision;
    row.shapes = r.shapes;
    row.duration_s = r.duration_s;
    row.points = std::move(r.points);
    WATTLAB_RETURN_IF_ERROR(store_->SaveCalibration(row).status());
    Log("operator calibration done in " + FormatFixed(MonoS(env_) - t0, 1) + " s (" +
        std::to_string(row.points.size()) + " points)");
  }
  return Status::Ok();
}

Result<StudyOutcome> StudyRunner::Run(const StudyInfo& context) {
  if (!store_) return Status::Internal("StudyRunner::Run without a store");
  StudyOutcome out;
  out.planned = (int64_t)runs_.size();
  start_mono_s_ = MonoS(env_);
  host_ = context.host;
  const bool sharded = options_.shard.n > 1;

  WATTLAB_ASSIGN_OR_RETURN(auto existing, store_->ReadStudy(spec_.name));
  std::set<int64_t> done;
  if (existing) {
    WATTLAB_ASSIGN_OR_RETURN(done, store_->CompletedRunIds(spec_.name));
    if (!options_.resume)
      return Status::FailedPrecondition("study '" + spec_.name + "' is already in " + store_->path() + " (" +
                                        std::to_string(done.size()) + " of " + std::to_string(runs_.size()) +
                                        " runs done): pass --resume to continue it, or use another --db");
    if (existing->spec_toml != spec_.toml)
      return Status::FailedPrecondition("study '" + spec_.name + "' in " + store_->path() +
                                        " was started with a different spec; --resume needs the same spec "
                                        "(or give the new study another name or --db)");
  }
  if (facts_.empty()) WATTLAB_RETURN_IF_ERROR(DescribeModels().status());

  StudyInfo info = context;
  info.name = spec_.name;
  info.spec_toml = spec_.toml;
  info.started_at_unix_s = existing ? existing->started_at_unix_s : env_->NowWallSeconds();
  info.finished_at_unix_s.reset();
  WATTLAB_RETURN_IF_ERROR(store_->UpsertStudy(info));
  ShardRecord shard;
  shard.study = spec_.name;
  shard.k = options_.shard.k;
  shard.n = options_.shard.n;
  shard.spec_hash = SpecHash(spec_.toml);
  shard.host = host_;
  shard.started_at_unix_s = info.started_at_unix_s;
  WATTLAB_RETURN_IF_ERROR(store_->RecordShard(shard));

  for (const auto& r : runs_) {
    if (done.count(r.run_id)) ++out.done_before;
  }
  std::map<std::string, int64_t> macs;
  for (const auto& [m, f] : facts_) macs[m] = f.macs;
  std::vector<PlannedRun> todo;
  int64_t elsewhere = 0;  // runs left to a child process with another OpenMP wait policy
  for (const auto& r : runs_) {
    if (done.count(r.run_id)) continue;
    if (RunsHere(r))
      todo.push_back(r);
    else
      ++elsewhere;
  }
  est_total_s_ = EstimateStudySeconds(todo, spec_, macs);
  if (existing && options_.resume)
    Log("resuming study '" + spec_.name + "': " + std::to_string(out.done_before) + " of " +
        std::to_string(out.planned) + " runs already done");
  if (sharded)
    Log("study '" + spec_.name + "' shard " + options_.shard.Label() + ": " + std::to_string(runs_.size()) +
        " of the plan's " + std::to_string(plan_.size()) + " runs (plan positions " +
        std::to_string(options_.shard.k) + ", " + std::to_string(options_.shard.k + options_.shard.n) +
        ", ...), host " + host_);
  if (sharded && runs_.empty())
    Log("shard " + options_.shard.Label() + " has no runs: the plan has only " +
        std::to_string(plan_.size()) + " (fewer than " + std::to_string(options_.shard.n) + " shards)");
  Log("study '" + spec_.name + "': " + std::to_string(todo.size()) + " runs to go under OpenMP wait policy " +
      options_.omp_wait_policy + ", estimated " + Clock(est_total_s_) + "; database " + store_->path() +
      (elsewhere > 0 ? " (" + std::to_string(elsewhere) + " more under other policies, in child processes)"
                     : ""));

  // One cap session for the study: its destructor puts back every knob the
  // study changed on every way out of Run, the journal after a crash.
  bool any_capped = std::any_of(todo.begin(), todo.end(), [](const PlannedRun& r) { return r.capped(); });
  Env* caps_env = options_.caps_env ? options_.caps_env : env_;
  applied_ = PlannedRun{};
  applied_valid_ = true;
  if (!todo.empty()) {
    auto session = caps::CapSession::Open(caps_env, options_.caps, /*restore_at_end=*/true);
    if (session.ok()) {
      caps_ = std::move(*session);
      knobs_ = caps::ReadKnobs(caps_env, options_.caps);
    } else if (any_capped) {
      return session.status().WithContext("the study sets power caps");
    } else {
      Log("power caps and clocks will not be recorded: " + session.status().message());
    }
  }
  struct CloseCaps {
    StudyRunner* r;
    ~CloseCaps() { r->caps_.reset(); }
  } close_caps{this};

  WATTLAB_RETURN_IF_ERROR(CalibrateIfAsked(todo, info));
  WATTLAB_RETURN_IF_ERROR(meter_->Start().WithContext("starting the meter"));
  Status st = todo.empty() ? Status::Ok() : MeasureIdle();
  progress_total_ = out.planned;
  for (size_t i = 0; st.ok() && i < todo.size(); ++i) {
    if (Interrupted()) {
      out.interrupted = true;
      break;
    }
    const PlannedRun& r = todo[i];
    if (spec_.idle_every_s > 0 && MonoS(env_) - last_idle_mono_s_ >= spec_.idle_every_s) {
      st = MeasureIdle();
      if (!st.ok()) break;
    }
    progress_index_ = out.done_before + (int64_t)i + 1;
    progress_label_ = r.model + " b" + std::to_string(r.batch_size);
    double est = EstimateRunSeconds(r, spec_, macs[r.model]);
    double t0 = MonoS(env_);
    if (!options_.tty)
      Log("run " + std::to_string(progress_index_) + "/" + std::to_string(out.planned) + " (id " +
          std::to_string(r.run_id) + "): " + r.model + " batch " + std::to_string(r.batch_size) +
          " threads " + std::to_string(r.threads) + " " + r.precision + " rep " +
          std::to_string(r.repetition) + (r.capped() ? " caps " + r.CapsLabel() : ""));
    Status capped = ApplyCaps(r);
    Result<RunRecord> rec = capped.ok() ? ExecuteRun(r, facts_[r.model], progress_index_, out.planned)
                                        : Result<RunRecord>(capped.WithContext("setting " + r.CapsLabel()));
    est_done_s_ += est + spec_.cooldown_s;
    if (!rec.ok()) {
      if (rec.status().kind() == Status::Kind::kInterrupted || Interrupted()) {
        out.interrupted = true;
        Log("interrupted during run " + std::to_string(r.run_id) + " (" + r.model +
            "): that run is discarded and will be redone by --resume");
        break;
      }
      ++out.failed;
      std::string msg = "run " + std::to_string(r.run_id) + " (" + r.model + " batch " +
                        std::to_string(r.batch_size) + "): " + rec.status().ToString();
      out.failures.push_back(msg);
      Log("FAILED " + msg);
      for (const auto& line : failed_stderr_) Log("  stderr: " + line);
      FailedRun fr;
      fr.study = spec_.name;
      fr.run_id = r.run_id;
      fr.model = r.model;
      fr.failed_at_unix_s = env_->NowWallSeconds();
      fr.message = rec.status().ToString();
      fr.stderr_tail = std::move(failed_stderr_);
      failed_stderr_.clear();
      st = store_->RecordFailedRun(fr);
      if (!st.ok()) break;
    } else {
      st = store_->WriteRun(*rec);
      if (!st.ok()) break;
      ++out.done_now;
      if (!options_.tty) {
        std::string line = "  done in " + FormatFixed(MonoS(env_) - t0, 1) + " s:";
        for (const auto& row : rec->rows)
          line += " " + row.phase + "/" + row.window + " " + FormatFixed(row.energy_j, 2) + " J";
        Log(line);
      }
    }
    actual_done_s_ += MonoS(env_) - t0;
    if (i + 1 < todo.size() && spec_.cooldown_s > 0 && !Interrupted()) {
      Progress("cool-down");
      env_->SleepFor(std::chrono::nanoseconds((int64_t)(spec_.cooldown_s * 1e9)));
      actual_done_s_ += spec_.cooldown_s;
    }
  }
  Status stop = meter_->Stop();
  if (options_.log && options_.tty) *options_.log << "\r\033[K";
  if (caps_) {
    Status back = caps_->Restore();
    if (!back.ok()) {
      out.caps_restore_error = back.message();
      Log("WARNING: power caps not put back: " + back.message());
    }
  }
  out.elapsed_s = MonoS(env_) - start_mono_s_;
  if (!st.ok()) return st;
  if (!stop.ok() && !out.interrupted) return stop.WithContext("stopping the meter");
  WATTLAB_ASSIGN_OR_RETURN(auto ids, store_->CompletedRunIds(spec_.name));
  out.finished = true;
  for (const auto& r : runs_)
    if (!ids.count(r.run_id)) out.finished = false;
  if (out.finished) {
    const double now = env_->NowWallSeconds();
    WATTLAB_RETURN_IF_ERROR(store_->FinishStudy(spec_.name, now));
    shard.finished_at_unix_s = now;
    WATTLAB_RETURN_IF_ERROR(store_->RecordShard(shard));
  }
  return out;
}

// One run: profile, full-length training, inference (each when planned),
// inside a "run" window whose power timeline goes with the record.
Result<RunRecord> StudyRunner::ExecuteRun(const PlannedRun& r, const ModelFacts& facts, int64_t, int64_t) {
  RunRecord rec = NewRecord(r, facts, spec_, options_.omp_wait_policy, env_->NowWallSeconds());
  rec.host = host_;
  RunWindow run_window(meter_);
  std::vector<RunTimeline::Span> spans;
  failed_stderr_.clear();
  if (r.is_command()) {
    WATTLAB_RETURN_IF_ERROR(CommandRun(r, facts, &rec, &spans));
  } else if (r.train) {
    WATTLAB_RETURN_IF_ERROR(ProfileTraining(r, facts, &rec, &spans));
    if (r.full_length) {
      if (Interrupted()) return Status::Interrupted("interrupted");
      WATTLAB_RETURN_IF_ERROR(FullTraining(r, facts, &rec, &spans));
    }
  }
  if (r.infer && !r.is_command()) {
    if (Interrupted()) return Status::Interrupted("interrupted");
    WATTLAB_RETURN_IF_ERROR(Inference(r, facts, &rec, &spans));
  }
  if (Interrupted()) return Status::Interrupted("interrupted");
  WATTLAB_ASSIGN_OR_RETURN(WindowResult whole, run_window.End());
  for (auto& row : rec.rows) row.omp_wait_policy = options_.omp_wait_policy;
  rec.finished_at_unix_s = env_->NowWallSeconds();
  RecordCaps(&rec);
  rec.timeline =
      BuildTimeline(r, whole, meter_->domains(), meter_->Timeline(), spans, options_.timeline_points);
  return rec;
}

Status StudyRunner::ApplyCaps(const PlannedRun& r) {
  if (applied_valid_ && SameCaps(r, applied_)) return Status::Ok();
  if (r.capped() && !caps_) return Status::FailedPrecondition("no cap session (see the log above)");
  // A knob the last run changed and this one leaves alone goes back as found.
  bool drop = !applied_valid_ ||
              ((applied_.gpu_power_limit_w || applied_.gpu_power_limit_pct) && !r.gpu_power_limit_w &&
               !r.gpu_power_limit_pct) ||
              (applied_.cpu_power_limit_w && !r.cpu_power_limit_w) ||
              (applied_.cpu_max_freq_mhz && !r.cpu_max_freq_mhz);
  if (drop && caps_) {
    WATTLAB_RETURN_IF_ERROR(caps_->Restore().WithContext("putting back the caps of the previous run"));
    applied_ = PlannedRun{};
  }
  applied_valid_ = false;  // until every set below has succeeded
  if (r.gpu_power_limit_w && r.gpu_power_limit_w != applied_.gpu_power_limit_w) {
    WATTLAB_RETURN_IF_ERROR(caps_->SetGpuPowerLimit(*r.gpu_power_limit_w));
  } else if (r.gpu_power_limit_pct && r.gpu_power_limit_pct != applied_.gpu_power_limit_pct) {
    // Percent of each GPU's own default limit (the reference study's axis).
    if (knobs_.gpus.empty())
      return Status::NotFound("no GPU power limit to set" +
                              (knobs_.gpu_note.empty() ? std::string() : ": " + knobs_.gpu_note));
    std::map<double, std::vector<int>> by_watts;
    for (const auto& g : knobs_.gpus) {
      if (!g.default_w)
        return Status::NotSupported("GPU " + std::to_string(g.index) +
                                    " does not report a default power limit to take " +
                                    FormatDouble(*r.gpu_power_limit_pct) + "% of; use gpu_power_limits_w");
      by_watts[*g.default_w * *r.gpu_power_limit_pct / 100.0].push_back((int)g.index);
    }
    for (const auto& [watts, gpus] : by_watts) WATTLAB_RETURN_IF_ERROR(caps_->SetGpuPowerLimit(watts, gpus));
  }
  if (r.cpu_power_limit_w && r.cpu_power_limit_w != applied_.cpu_power_limit_w)
    WATTLAB_RETURN_IF_ERROR(caps_->SetPackagePowerLimit(*r.cpu_power_limit_w));
  if (r.cpu_max_freq_mhz && r.cpu_max_freq_mhz != applied_.cpu_max_freq_mhz)
    WATTLAB_RETURN_IF_ERROR(caps_->SetCpuMaxFreq(*r.cpu_max_freq_mhz));
  applied_ = r;
  applied_valid_ = true;
  return Status::Ok();
}

void StudyRunner::RecordCaps(RunRecord* rec) {
  if (!caps_) return;
  std::vector<std::optional<double>> gpu, pkg;
  for (const auto& g : knobs_.gpus) gpu.push_back(caps_->GpuPowerLimitW((int)g.index));
  for (const auto& p : knobs_.packages) pkg.push_back(caps_->PackagePowerLimitW(p.package));
  const std::optional<double> gpu_w = MeanRead(gpu), pkg_w = MeanRead(pkg), mhz = caps_->CpuMaxFreqMhz();
  for (RunRow& row : rec->rows) {
    row.gpu_power_limit_w = gpu_w;
    row.cpu_power_limit_w = pkg_w;
    row.cpu_max_freq_mhz = mhz;
  }
}

MeteredRunOptions StudyRunner::CallOptions(const std::string& label) {
  MeteredRunOptions o;
  o.setup_label = kSetupSpan;
  o.stop = [this] { return Interrupted(); };
  o.progress = [this, label](const std::string& what) { Progress(label + ": " + what); };
  return o;
}

// train/profile: a short, measured stretch of training whose energy is
// extrapolated to the full length (study/profile.h); eval/profile, for a
// configuration that evaluates, a short test pass extrapolated to the full one.
Status StudyRunner::ProfileTraining(const PlannedRun& r, const ModelFacts& facts, RunRecord* rec,
                                    std::vector<RunTimeline::Span>* spans) {
  MeteredRunOptions o = CallOptions("train profile");
  o.clock_s = [this] { return MonoS(env_); };
  const int64_t min_steps = r.profile_steps, max_steps = r.profile_step_cap();
  o.end_training = [min_steps, max_steps](const std::vector<double>& step_s) {
    return ProfileDone(step_s, min_steps, max_steps);
  };
  MeteredRun call(meter_, o);
  WATTLAB_ASSIGN_OR_RETURN(TrainResult res, call.Train(engine_, ProfileConfig(r, spec_)));
  WATTLAB_ASSIGN_OR_RETURN(const MeteredWindow* w, call.Phase("train"));
  RunRow& row = AddWindow(*rec, r, facts, "profile", *w, res.samples, MeanOf(res.step_loss, 0));
  row.steps = res.steps > 0 ? res.steps : r.profile_steps;
  ProfileMeasurement pm;
  pm.steps = *row.steps;
  pm.samples = row.samples;
  pm.batch_size = r.batch_size;
  pm.energy_j = w->result.energy_j;
  pm.duration_s = w->result.duration_s;
  pm.step_s = call.step_times();
  pm.boundary_s = call.boundary_s();
  FullLength full;
  full.epochs = r.epochs;
  full.samples = r.epochs * std::min(r.train_samples, r.steps_per_epoch * r.batch_size);
  const StepStats st = SummarizeSteps(SteadySteps(pm.step_s));  // after warm-up: the rule's figures
  json prof = {{"min_steps", min_steps},
               {"max_steps", max_steps},
               {"steps", pm.steps},
               {"step_mean_s", st.mean_s},
               {"step_sd_s", st.sd_s},
               {"relative_se", std::isfinite(st.relative_se) ? json(st.relative_se) : json(nullptr)},
               {"se_target", kProfileRelativeSe},
               {"stopped_on", pm.steps >= max_steps ? "max_profile_steps" : "standard error"},
               {"full_epochs", full.epochs},
               {"full_samples", full.samples},
               // The old rule (energy x sample ratio), kept for comparison.
               {"sample_ratio_energy_j",
                row.samples > 0 ? w->result.energy_j * (double)full.samples / (double)row.samples : 0.0}};
  if (auto x = ExtrapolateTraining(pm, full)) {
    row.extrapolated_energy_j = x->energy_j;
    prof["train"] = {{"power_w", x->power_w},       {"predicted_s", x->duration_s},
                     {"steps_s", x->steps_s},       {"first_step_excess_s", x->first_step_excess_s},
                     {"boundary_s", pm.boundary_s}, {"boundaries_s", x->boundaries_s},
                     {"edges_s", x->edges_s}};
  }
  if (r.evaluate) {
    WATTLAB_ASSIGN_OR_RETURN(const MeteredWindow* ew, call.Phase("eval"));
    RunRow& erow = AddWindow(*rec, r, facts, "profile", *ew, res.eval_samples, std::nullopt);
    const int64_t full_eval = FullEvalSamples(r, spec_);
    EvalMeasurement em;
    em.energy_j = ew->result.energy_j;
    em.duration_s = ew->result.duration_s;
    em.samples = erow.samples;
    em.batch_size = r.batch_size;
    em.batch_s = call.eval_batch_times();
    const auto ex = ExtrapolateEval(em, full_eval);
    if (ex) erow.extrapolated_energy_j = ex->energy_j;
    prof["eval"] = {{"samples", erow.samples},         {"duration_s", ew->result.duration_s},
                    {"energy_j", ew->result.energy_j}, {"full_samples", full_eval},
                    {"batches", em.batch_s.size()},    {"by_batches", ex && ex->by_batches}};
    if (ex && ex->by_batches) {
      prof["eval"]["power_w"] = ex->power_w;
      prof["eval"]["predicted_s"] = ex->duration_s;
      prof["eval"]["batch_mean_s"] = ex->batch_mean_s;
      prof["eval"]["first_batch_excess_s"] = ex->first_batch_excess_s;
      prof["eval"]["edges_s"] = ex->edges_s;
    }
  }
  json config = json::parse(rec->config_json);
  config["profile"] = prof;
  rec->config_json = config.dump();
  rec->step_loss.insert(rec->step_loss.end(), res.step_loss.begin(), res.step_loss.end());
  TakeSpans(call, kSetupSpan, "train profile", spans);
  return Status::Ok();
}

// train/full and eval/full: the whole training, then its test-set pass.
Status StudyRunner::FullTraining(const PlannedRun& r, const ModelFacts& facts, RunRecord* rec,
                                 std::vector<RunTimeline::Span>* spans) {
  MeteredRunOptions o = CallOptions("full training");
  o.clock_s = [this] { return MonoS(env_); };
  MeteredRun call(meter_, o);
  WATTLAB_ASSIGN_OR_RETURN(TrainResult res, call.Train(engine_, FullTrainingConfig(r, spec_)));
  WATTLAB_ASSIGN_OR_RETURN(const MeteredWindow* w, call.Phase("train"));
  std::optional<double> loss =
      res.epoch_loss.empty() ? MeanOf(res.step_loss, 0) : std::optional<double>(res.epoch_loss.back());
  RunRow& row = AddWindow(*rec, r, facts, "full", *w, res.samples, loss);
  row.steps = res.steps;
  // The full run's steps as the profile saw its own: where an extrapolation
  // errs, this says whether the steps or the rest differed.
  {
    const std::vector<double>& ts = call.step_times();
    const StepStats st = SummarizeSteps(SteadySteps(ts));
    json config = json::parse(rec->config_json);
    config["full"] = {
        {"steps", (int64_t)ts.size()},   {"first_step_s", ts.empty() ? json(nullptr) : json(ts.front())},
        {"step_mean_s", st.mean_s},  // after the first, as the profile's
        {"step_sd_s", st.sd_s},          {"boundary_s", call.boundary_s()},
        {"epochs", call.epochs_begun()}, {"duration_s", w->result.duration_s}};
    rec->config_json = config.dump();
  }
  if (res.accuracy_meaningful) row.accuracy = res.accuracy;
  if (r.evaluate) {
    WATTLAB_ASSIGN_OR_RETURN(const MeteredWindow* ew, call.Phase("eval"));
    RunRow& erow = AddWindow(*rec, r, facts, "full", *ew, res.eval_samples, std::nullopt);
    if (res.accuracy_meaningful) erow.accuracy = res.accuracy;
  }
  rec->step_loss = res.step_loss;
  TakeSpans(call, std::string(kSetupSpan) + " (full)", "train", spans);
  return Status::Ok();
}

// infer/full: inference over infer_samples.
Status StudyRunner::Inference(const PlannedRun& r, const ModelFacts& facts, RunRecord* rec,
                              std::vector<RunTimeline::Span>* spans) {
  MeteredRun call(meter_, CallOptions("infer"));
  WATTLAB_ASSIGN_OR_RETURN(InferResult res, call.Infer(engine_, InferenceConfig(r, spec_)));
  WATTLAB_ASSIGN_OR_RETURN(const MeteredWindow* w, call.Phase("infer"));
  RunRow& row = AddWindow(*rec, r, facts, "full", *w, res.samples, std::nullopt);
  row.steps = res.batches;
  json config = json::parse(rec->config_json);
  config["conv_weights"] = ConvWeightsJson(res);
  rec->config_json = config.dump();
  TakeSpans(call, std::string(kSetupSpan) + " (infer)", "infer", spans);
  return Status::Ok();
}

// A command sweep's run: the program, its windows as phase rows.
Status StudyRunner::CommandRun(const PlannedRun& r, const ModelFacts& facts, RunRecord* rec,
                               std::vector<RunTimeline::Span>* spans) {
  const SweepSpec& sw = spec_.sweeps[r.sweep];
  const auto values = PlaceholderValues(r, spec_, env_->OnlineCpuCount());
  std::vector<std::string> argv;
  for (const auto& a : r.command) {
    WATTLAB_ASSIGN_OR_RETURN(std::string filled, FillPlaceholders(a, values));
    argv.push_back(std::move(filled));
  }
  Progress("command");
  if (!options_.tty) Log("  $ " + Join(argv, " "));
  CommandRunOptions o;
  o.capture_stderr = true;
  o.stderr_tail_lines = 20;
  o.timeout =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(sw.timeout_s));
  o.stop = [this] { return Interrupted(); };
  o.on_warning = [this, &r](const std::string& w) { Log("  run " + std::to_string(r.run_id) + ": " + w); };
  o.env = {{"WATTLAB_RUN_ID", std::to_string(r.run_id)}};
  WATTLAB_ASSIGN_OR_RETURN(CommandRunResult res, RunCommandWithControl(env_, meter_, argv, o));
  failed_stderr_ = res.stderr_tail;
  if (res.stopped) return Status::Interrupted("interrupted");
  if (!res.spawn_error.ok())
    return Status::FailedPrecondition("cannot start " + argv[0] + ": " + res.spawn_error.message());
  if (res.timed_out)
    return Status::FailedPrecondition(
        "the program ran longer than timeout_s = " + FormatDouble(sw.timeout_s) + " s and was ended");
  if (res.exit_code != 0)
    return Status::FailedPrecondition("the program exited with code " + std::to_string(res.exit_code));
  // Each window its own span; those of a kept phase summed into its row.
  std::map<std::string, std::vector<const ControlWindow*>> by_phase;
  std::vector<std::string> seen;
  for (const auto& w : res.windows) {
    spans->push_back({w.result.name, w.result.start_s, w.result.start_s + w.result.duration_s});
    seen.push_back(w.result.name);
    std::string phase = PhaseOfWindow(sw, w.result.name);
    if (!phase.empty()) by_phase[phase].push_back(&w);
  }
  if (by_phase.empty())
    return Status::FailedPrecondition(
        "the program opened no window of a kept phase (" + Join(sw.phases, ", ") +
        (sw.windows.empty() ? ": windows named so" : ", as named or mapped by windows") +
        "); windows seen: " +
        (seen.empty() ? "none (did it write `begin NAME` lines to $WATTLAB_CONTROL?)" : Join(seen, ", ")));
  if (sw.phases_given)
    for (const auto& phase : sw.phases)
      if (!by_phase.count(phase))
        return Status::FailedPrecondition("the program opened no window for phase '" + phase +
                                          "' (phases lists it); windows seen: " + Join(seen, ", "));
  for (const char* phase : {"train", "eval", "infer"}) {
    auto it = by_phase.find(phase);
    if (it == by_phase.end()) continue;
    std::vector<WindowResult> ws;
    int64_t samples = 0;
    bool reported = false;
    for (const ControlWindow* w : it->second) {
      ws.push_back(w->result);
      samples += w->samples;
      reported = reported || w->samples_reported;
    }
    MeteredWindow mw{phase, samples, std::nullopt, SumWindows(ws)};
    mw.result.name = phase;
    AddWindow(*rec, r, facts, "full", mw, samples, std::nullopt);
    if (!reported)
      Log("  run " + std::to_string(r.run_id) + ": no `samples N` line for phase " + phase +
          ": its energy per sample is unknown, so analysis leaves it out");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- summary

std::string SummarizeStudy(const std::vector<RunRow>& rows, EnergyBasisRequest request) {
  std::string out;
  bool estimated = false;
  double total_j = 0, total_s = 0;
  for (const auto& r : rows) {
    estimated = estimated || r.estimated;
    total_j += r.energy_j;
    total_s += r.duration_s;
  }
  if (rows.empty()) return "no runs stored yet\n";
  out += "measured " + std::to_string(rows.size()) + " windows: " + FormatFixed(total_j, 1) + " J (" +
         FormatFixed(total_j / 3600.0, 3) + " Wh) over " + FormatFixed(total_s, 1) +
         " s of measured windows\n";
  // One basis for every line (core/energy_basis.h), chosen once for all the
  // rows, as analyze, predict and report choose it: two identical studies
  // name the same cheapest model.
  const EnergyBasisChoice choice = ChooseEnergyBasis(request, rows);
  const EnergyBasis energy_basis = choice.basis;
  const std::string basis = energy_basis == EnergyBasis::kAboveIdle ? "above idle" : "total";
  out += "energy basis: " + std::string(EnergyBasisName(energy_basis)) + " (" + choice.reason + ")\n";
  // What the figures ran under (issue 11): a default is a decision, so say it.
  {
    std::map<std::string, int64_t> omp, precision;
    for (const auto& r : rows) {
      ++omp[r.omp_wait_policy.empty() ? "unknown (stored before it was recorded)" : r.omp_wait_policy];
      ++precision[r.precision];
    }
    auto list = [](const std::map<std::string, int64_t>& m) {
      std::vector<std::string> xs;
      for (const auto& [k, n] : m)
        xs.push_back(k + (m.size() > 1 ? " (" + std::to_string(n) + " windows)" : ""));
      return Join(xs, ", ");
    };
    out += "in force: OpenMP wait policy " + list(omp) + "; precision " + list(precision) + "\n";
  }
  // Inference: per model, its best (lowest) energy per sample over batch sizes.
  for (const std::string phase : {"infer", "train"}) {
    auto per_sample = [&](const RunRow& r) -> double {
      return EnergyPerSample(r.energy_j, r.energy_above_idle_j, r.samples, energy_basis)
          .value_or(std::numeric_limits<double>::quiet_NaN());
    };
    std::map<std::string, std::map<int64_t, std::vector<double>>> by_model;
    int64_t nothing_above = 0;
    // Training: the profiles; a configuration without one (a command sweep's
    // program trains for real) stands by its full training.
    std::set<std::pair<std::string, std::string>> profiled;
    for (const auto& r : rows)
      if (r.phase == "train" && r.window == "profile") profiled.insert({r.study, r.config_id});
    for (const auto& r : rows) {
      if (r.phase != phase) continue;
      if (phase == "train" && r.window != "profile" && profiled.count({r.study, r.config_id})) continue;
      double e = per_sample(r);
      if (!std::isfinite(e)) continue;
      if (energy_basis == EnergyBasis::kAboveIdle && ZeroRoundOff(r.energy_j, e * (double)r.samples) <= 0) {
        ++nothing_above;  // nothing above idle: left out, never shown negative
        continue;
      }
      by_model[r.model][r.batch_size].push_back(e);
    }
    if (by_model.empty()) continue;
    std::vector<std::tuple<double, std::string, int64_t>> best;  // (J/sample, model, batch)
    std::vector<std::string> optimal;
    for (const auto& [model, batches] : by_model) {
      double b_e = std::numeric_limits<double>::infinity();
      int64_t b_b = 0;
      for (const auto& [b, es] : batches) {
        double m = 0;
        for (double e : es) m += e;
        m /= (double)es.size();
        if (m < b_e) b_e = m, b_b = b;
      }
      best.emplace_back(b_e, model, b_b);
      if (batches.size() >= 2) optimal.push_back(model + " batch " + std::to_string(b_b));
    }
    std::sort(best.begin(), best.end());
    const std::string label = phase == "infer"   ? "inference"
                              : profiled.empty() ? "training"
                                                 : "training (profile)";
    auto fmt = [](double j) {
      return j >= 0.1 ? FormatFixed(j, 3) + " J" : FormatFixed(j * 1000.0, 3) + " mJ";
    };
    out += label + ": cheapest per sample " + std::get<1>(best.front()) + " (" +
           fmt(std::get<0>(best.front())) + " " + basis + ", batch " +
           std::to_string(std::get<2>(best.front())) + "); most expensive " + std::get<1>(best.back()) +
           " (" + fmt(std::get<0>(best.back())) + ", batch " + std::to_string(std::get<2>(best.back())) + ")";
    if (best.size() > 1 && std::get<0>(best.front()) > 0)
      out += ", " + FormatFixed(std::get<0>(best.back()) / std::get<0>(best.front()), 0) + "x apart";
    out += "\n";
    if (nothing_above > 0)
      out +=
          label + ": " + std::to_string(nothing_above) +
          " window(s) had nothing above the idle baseline and are left out (compare with --energy total)\n";
    if (!optimal.empty()) out += label + ": energy-optimal batch: " + Join(optimal, ", ") + "\n";
  }
  // Extrapolation check: each profile's prediction (train, and eval where the
  // profile had a test pass) vs the measured full-length window; every pair,
  // then the mean and the worst.
  for (const std::string phase : {"train", "eval"}) {
    std::vector<std::string> ex;
    double sum_abs = 0, worst = 0;
    for (const auto& p : rows) {
      if (p.phase != phase || p.window != "profile" || !p.extrapolated_energy_j) continue;
      for (const auto& f : rows)
        if (f.phase == phase && f.window == "full" && f.config_id == p.config_id &&
            f.repetition == p.repetition && f.study == p.study && f.energy_j > 0) {
          double err = (*p.extrapolated_energy_j - f.energy_j) / f.energy_j * 100.0;
          if (std::fabs(err) < 0.05) err = 0;  // printed as +0.0%, never -0.0%
          ex.push_back(p.model + " " + (err >= 0 ? "+" : "") + FormatFixed(err, 1) + "%");
          sum_abs += std::fabs(err);
          worst = std::max(worst, std::fabs(err));
        }
    }
    if (ex.empty()) continue;
    out += "profile -> full-length extrapolation error" + std::string(phase == "eval" ? " (eval)" : "") +
           ": " + Join(ex, ", ") + "\n";
    if (ex.size() > 1)
      out += "  mean |error| " + FormatFixed(sum_abs / (double)ex.size(), 1) + "%, worst " +
             FormatFixed(worst, 1) + "% (" + std::to_string(ex.size()) + " pairs)\n";
  }
  // Test accuracy per configuration, mean over repetitions.
  std::map<std::string, std::pair<std::string, std::vector<double>>> acc;
  std::map<std::string, int64_t> train_samples;
  for (const auto& r : rows) {
    if (r.accuracy && r.phase == "eval") {
      acc[r.config_id].first = r.model + " batch " + std::to_string(r.batch_size);
      acc[r.config_id].second.push_back(*r.accuracy);
    }
    if (r.phase == "train" && r.window == "full") train_samples[r.config_id] = r.samples;
  }
  for (const auto& [cfg, a] : acc) {
    double m = 0;
    for (double v : a.second) m += v;
    m /= (double)a.second.size();
    out += "accuracy: " + a.first + " " + FormatFixed(m * 100.0, 1) + "% after " +
           std::to_string(train_samples[cfg]) + " training samples" +
           (a.second.size() > 1 ? " (mean of " + std::to_string(a.second.size()) + ")" : "") + "\n";
  }
  if (estimated)
    out +=
        "NOTE: energy figures are ESTIMATED (no energy counters readable): a model of CPU time, not a "
        "measurement; see `wattlab meters`\n";
  return out;
}

}  // namespace wattlab
