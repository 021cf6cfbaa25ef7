#include "study/metered_run.h"

#include <chrono>

#include "core/strings.h"
#include "meter/busy.h"
#include "meter/idle_store.h"
#include "meter/procfs.h"

namespace wattlab {

MeterContext CollectMeterContext(const Meter& meter, const WorkloadEngine& engine) {
  MeterContext c;
  c.sources = meter.sources();
  c.estimated = meter.estimated();
  c.interval_s = std::chrono::duration<double>(meter.interval()).count();
  c.idle_power_w = meter.idle_power_w();
  c.versions = engine.Versions();
  return c;
}

namespace {
std::string FirstLine(Env* env, const std::string& path) {
  auto t = env->ReadFile(path);
  return t.ok() ? TrimCopy(*t) : "";
}
}  // namespace

std::string ContextHost(Env* env) { return FirstLine(env, "/proc/sys/kernel/hostname"); }

std::string ContextCpu(Env* env) {
  auto cpu = ReadCpuInfo(env);
  if (!cpu.ok()) return "";
  std::string s = cpu->model_name;
  if (cpu->threads > 0) s += " (" + std::to_string(cpu->threads) + " threads)";
  return s;
}

StudyInfo CollectStudyContext(Env* env, const Meter& meter, const WorkloadEngine& engine,
                              const std::string& wattlab_version) {
  return CollectStudyContext(env, meter, &engine, wattlab_version);
}

StudyInfo CollectStudyContext(Env* env, const Meter& meter, const WorkloadEngine* engine,
                              const std::string& wattlab_version) {
  StudyInfo info;
  info.host = ContextHost(env);
  info.kernel = FirstLine(env, "/proc/sys/kernel/osrelease");
  info.cpu = ContextCpu(env);
  for (const auto& [k, v] :
       engine ? engine->Versions() : std::vector<std::pair<std::string, std::string>>{}) {
    if (k == "libtorch")
      info.libtorch = v;
    else if (k == "blas")
      info.blas = v;
    else
      info.meter_facts.emplace_back("engine " + k, v);
  }
  info.wattlab_version = wattlab_version;
  info.sources = meter.sources();
  info.interval_s = std::chrono::duration<double>(meter.interval()).count();
  info.estimated = meter.estimated();
  for (const auto& a : meter.attempts()) {
    if (!a.chosen) continue;
    std::string driver;
    for (const auto& [k, v] : a.facts)
      if (k == "nvml.driver_version") driver = v;
    for (const auto& [k, v] : a.facts) {
      info.meter_facts.emplace_back(a.source + " " + k, v);
      // "gpu-0.name" style keys: "NVIDIA H100 80GB HBM3 (driver 550.54)"
      if (a.source == kSourceNvml && EndsWith(k, ".name"))
        info.gpus.push_back(v + (driver.empty() ? "" : " (driver " + driver + ")"));
    }
  }
  return info;
}

Status MeasureIdleBaseline(Meter* meter, double idle_s, MeterContext* context) {
  if (idle_s <= 0) return Status::Ok();
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(idle_s));
  auto idle = meter->MeasureIdle(ns);
  if (!idle.ok()) return idle.status().WithContext("measuring the idle baseline");
  context->idle_power_w = idle->power_w;
  context->idle_measured_s = idle_s;
  context->idle_cpu_util = idle->cpu_util;
  context->idle_busy = idle->busy;
  context->idle_busy_warning.clear();
  if (idle->busy) context->idle_busy_warning = BusyIdleWarning({true, idle->busy_reason}, idle->power_w);
  return Status::Ok();
}

Status EstablishIdleBaseline(Env* env, Meter* meter, const IdleBaselinePolicy& policy,
                             MeterContext* context) {
  if (policy.measure_s <= 0) return Status::Ok();
  auto path = IdleStatePath(env);
  const std::string host = HostName(env);
  if (path.ok() && policy.max_age_s > 0) {
    auto entry = FindIdleEntry(env, *path, host, meter->sources());
    if (entry.ok() && *entry) {
      const IdleEntry& e = **entry;
      const double age_s = env->NowWallSeconds() - e.measured_at_s;
      if (!e.busy && age_s >= 0 && age_s < policy.max_age_s) {
        meter->SetIdlePower(e.idle_power_w);
        meter->SetIdleBusy(false);
        meter->SetIdleDomainPowers(e.domains_w);
        context->idle_power_w = e.idle_power_w;
        context->idle_measured_s = 0;
        context->idle_cpu_util = e.cpu_util;
        context->idle_busy = false;
        context->idle_busy_warning.clear();
        context->idle_stored_at_s = e.measured_at_s;
        return Status::Ok();
      }
    }
  }
  WATTLAB_RETURN_IF_ERROR(MeasureIdleBaseline(meter, policy.measure_s, context));
  context->idle_stored_at_s.reset();
  if (!path.ok()) {
    context->idle_store_warning = path.status().message();
    return Status::Ok();
  }
  IdleEntry e;
  e.host = host;
  e.sources = meter->sources();
  e.idle_power_w = *context->idle_power_w;
  e.domains_w = meter->idle_domain_powers_w();
  e.measured_at_s = env->NowWallSeconds();  // as `wattlab idle` stores it
  e.duration_s = policy.measure_s;
  e.estimated = meter->estimated();
  e.busy = context->idle_busy;
  e.cpu_util = context->idle_cpu_util;
  if (Status st = SaveIdleEntry(env, *path, e); !st.ok()) context->idle_store_warning = st.message();
  return Status::Ok();
}

nlohmann::json ModelFactsToJson(const ModelFacts& f) {
  return nlohmann::json{{"name", f.name},
                        {"input", f.input.ToString()},
                        {"classes", f.classes},
                        {"params", f.params},
                        {"macs", f.macs},
                        {"macs_by_kind", f.macs_by_kind},
                        {"macs_per_param", f.macs_per_param},
                        {"counter", f.counter}};
}

nlohmann::json ConvWeightsJson(const InferResult& r) {
  nlohmann::json j{{"in_force", r.conv_weights}, {"convs", r.convs}, {"packed", r.packed_convs}};
  if (r.conv_weights != "packed") j["why"] = r.conv_weights_why;
  return j;
}

std::string ConvWeightsLine(const InferResult& r) {
  if (r.conv_weights == "packed")
    return "convolution weights: packed once for oneDNN (" + std::to_string(r.packed_convs) + " of " +
           std::to_string(r.convs) + " convolutions; --conv-weights plain runs libtorch's choice per call)";
  const std::string why = r.conv_weights_why == "asked" ? "as asked" : r.conv_weights_why;
  return "convolution weights: plain, libtorch's choice per call (" + why + ")";
}

MeteredRun::MeteredRun(Meter* meter, MeteredRunOptions options)
    : meter_(meter), options_(std::move(options)) {}

MeteredRun::~MeteredRun() { CloseAll(); }

Result<TrainResult> MeteredRun::Train(WorkloadEngine* engine, const TrainConfig& config) {
  BeginSetup();
  return Finish(engine->Train(config, this));
}

Result<InferResult> MeteredRun::Infer(WorkloadEngine* engine, const InferConfig& config) {
  BeginSetup();
  return Finish(engine->Infer(config, this));
}

template <typename R>
Result<R> MeteredRun::Finish(Result<R> engine_result) {
  CloseAll();
  // The meter's error first: the engine's own status is then only "stopped
  // by the observer", which a caller would take for an interruption.
  if (!error_.ok()) return error_;
  return engine_result;
}

void MeteredRun::OnPhaseBegin(const std::string& phase) {
  CloseSetup();
  open_[phase] = meter_->BeginWindow(phase);
  if (options_.progress) options_.progress(phase);
  // The train phase's clock starts once its window is open.
  if (phase == "train" && options_.clock_s) step_mark_s_ = options_.clock_s();
  if (phase == "eval" && options_.clock_s) eval_mark_s_ = options_.clock_s();
}

void MeteredRun::OnPhaseEnd(const std::string& phase, int64_t samples) {
  if (phase == "train" && step_mark_s_) {
    // The last epoch's end (its window closed) up to here: boundary time.
    boundary_s_ += options_.clock_s() - *step_mark_s_;
    step_mark_s_.reset();
  }
  if (phase == "eval") eval_mark_s_.reset();
  if (auto w = Close(phase, samples, std::nullopt)) phases_.push_back(std::move(*w));
}

void MeteredRun::OnEpochBegin(int64_t epoch) {
  const std::string name = "epoch " + std::to_string(epoch);
  open_[name] = meter_->BeginWindow(name);
  ++epochs_begun_;
  if (step_mark_s_) {
    // From the last step's end (or the phase's opening) to here, with the
    // previous epoch's window closed and this one's opened: boundary time.
    const double now = options_.clock_s();
    boundary_s_ += now - *step_mark_s_;
    step_mark_s_ = now;
  }
}

void MeteredRun::OnEpochEnd(int64_t epoch, int64_t samples, double mean_loss) {
  if (auto w = Close("epoch " + std::to_string(epoch), samples, mean_loss)) epochs_.push_back(std::move(*w));
}

void MeteredRun::OnStepEnd(int64_t step, int64_t, double loss) {
  if (step_mark_s_) {
    // Timed first, before this observer's own bookkeeping (which the next
    // step's time then carries, as every step does).
    const double now = options_.clock_s();
    step_s_.push_back(now - *step_mark_s_);
    step_mark_s_ = now;
  }
  losses_.push_back(loss);
  if (options_.progress) options_.progress("step " + std::to_string(step));
}

void MeteredRun::OnEvalBatchEnd(int64_t, int64_t) {
  if (!eval_mark_s_) return;
  const double now = options_.clock_s();
  eval_batch_s_.push_back(now - *eval_mark_s_);
  eval_mark_s_ = now;
}

bool MeteredRun::ShouldStop() { return !error_.ok() || (options_.stop && options_.stop()); }

bool MeteredRun::ShouldEndTraining() { return options_.end_training && options_.end_training(step_s_); }

Result<const MeteredWindow*> MeteredRun::Phase(const std::string& name) const {
  for (const auto& w : phases_)
    if (w.name == name) return &w;
  if (!error_.ok()) return error_;
  return Status::Internal("the engine never announced the " + name +
                          " phase (OnPhaseBegin/OnPhaseEnd), so it could not be measured");
}

void MeteredRun::BeginSetup() {
  if (!options_.setup_label.empty()) setup_ = meter_->BeginWindow(options_.setup_label);
}

void MeteredRun::CloseSetup() {
  if (!setup_) return;
  // A span for the timeline, not a measurement: a read error here is left to
  // the phase windows, which fail on their own if it touched them.
  auto r = meter_->EndWindow(*setup_);
  setup_.reset();
  if (r.ok()) spans_.push_back({options_.setup_label, r->start_s, r->start_s + r->duration_s});
}

void MeteredRun::CloseAll() {
  CloseSetup();
  // Windows the engine left open (it failed or stopped half-way): closed so
  // the meter does not keep them, their figures dropped.
  for (auto& [name, id] : open_) (void)meter_->EndWindow(id);
  open_.clear();
}

std::optional<MeteredWindow> MeteredRun::Close(const std::string& name, int64_t samples,
                                               std::optional<double> loss) {
  auto it = open_.find(name);
  if (it == open_.end()) return std::nullopt;
  auto r = meter_->EndWindow(it->second);
  open_.erase(it);
  if (!r.ok()) {
    if (error_.ok()) error_ = r.status().WithContext("meter window '" + name + "'");
    return std::nullopt;
  }
  spans_.push_back({name, r->start_s, r->start_s + r->duration_s});
  return MeteredWindow{name, samples, loss, std::move(*r)};
}

namespace {

void AddDomains(RunRecord& rec, const std::string& phase, const std::string& window, const WindowResult& w) {
  for (const auto& d : w.domains) {
    DomainEnergyRow row;
    row.phase = phase;
    row.window = window;
    row.domain = d.name;
    row.source = d.source;
    row.component = ComponentName(d.component);
    row.in_total = d.in_total;
    row.estimated = d.estimated;
    row.energy_j = d.energy_j;
    row.mean_power_w = d.mean_power_w;
    rec.domains.push_back(std::move(row));
  }
}

}  // namespace

RunRow& AppendWindowRow(RunRecord& rec, int64_t batch_size, int64_t threads, const std::string& precision,
                        const ModelFacts& f, const std::string& window, const MeteredWindow& mw,
                        int64_t samples, std::optional<double> loss) {
  const WindowResult& w = mw.result;
  RunRow row;
  row.phase = mw.name;
  row.window = window;
  row.batch_size = batch_size;
  row.threads = threads;
  row.precision = precision;
  row.params = f.params;
  row.macs = f.macs;
  row.macs_per_param = f.macs_per_param;
  row.samples = samples > 0 ? samples : mw.samples;
  row.duration_s = w.duration_s;
  row.energy_j = w.energy_j;
  row.energy_above_idle_j = w.energy_above_idle_j;
  if (w.energy_above_idle_j) row.idle_busy = w.idle_busy;
  if (w.cpu_util > 0) row.cpu_util = w.cpu_util;
  row.source = Join(w.sources, "+");
  row.estimated = w.estimated;
  WindowExtra x;
  x.loss = loss;
  x.idle_power_w = w.idle_power_w;
  x.mean_power_w = w.mean_power_w;
  x.meter_samples = w.samples;
  rec.extras.push_back(x);
  AddDomains(rec, mw.name, window, w);
  rec.rows.push_back(std::move(row));
  return rec.rows.back();
}

}  // namespace wattlab
