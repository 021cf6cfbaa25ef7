// The online power-limit optimiser wired to a training run (see
// online_optimizer.h): per-step meter windows in, GPU limits out.
#include "caps/online_optimizer.h"

#include <algorithm>

#include "core/strings.h"

namespace wattlab::caps {

namespace {

// Forwards every call to the caller's observer, then tells the driver.
class TeeObserver : public WorkloadObserver {
 public:
  TeeObserver(WorkloadObserver* inner, OnlinePowerLimitOptimizer* driver) : inner_(inner), driver_(driver) {}
  void OnPhaseBegin(const std::string& phase) override {
    if (inner_) inner_->OnPhaseBegin(phase);
    if (phase == "train") driver_->OnTrainBegin();
  }
  void OnPhaseEnd(const std::string& phase, int64_t samples) override {
    if (phase == "train") driver_->OnTrainEnd();
    if (inner_) inner_->OnPhaseEnd(phase, samples);
  }
  void OnEpochBegin(int64_t epoch) override {
    if (inner_) inner_->OnEpochBegin(epoch);
  }
  void OnEpochEnd(int64_t epoch, int64_t samples, double mean_loss) override {
    if (inner_) inner_->OnEpochEnd(epoch, samples, mean_loss);
  }
  void OnStepEnd(int64_t step, int64_t samples, double loss) override {
    // The driver first: its window should close as near the step's end as
    // it can, before the caller's own bookkeeping.
    driver_->OnStep();
    if (inner_) inner_->OnStepEnd(step, samples, loss);
  }
  void OnEvalBatchEnd(int64_t batch, int64_t samples) override {
    if (inner_) inner_->OnEvalBatchEnd(batch, samples);
  }
  bool ShouldStop() override { return driver_->ShouldStop() || (inner_ && inner_->ShouldStop()); }
  bool ShouldEndTraining() override { return inner_ && inner_->ShouldEndTraining(); }

 private:
  WorkloadObserver* inner_;
  OnlinePowerLimitOptimizer* driver_;
};

}  // namespace

// An engine that trains through another one with the driver listening.
class OnlinePowerLimitOptimizer::Engine : public WorkloadEngine {
 public:
  Engine(WorkloadEngine* inner, OnlinePowerLimitOptimizer* driver) : inner_(inner), driver_(driver) {}
  std::vector<std::string> ModelNames() const override { return inner_->ModelNames(); }
  Result<ModelFacts> Describe(const std::string& model, std::optional<Shape> input,
                              std::optional<int64_t> classes) override {
    return inner_->Describe(model, input, classes);
  }
  Result<ModelFacts> DescribeTorchScript(const std::string& path, const Shape& input) override {
    return inner_->DescribeTorchScript(path, input);
  }
  Result<TrainResult> Train(const TrainConfig& config, WorkloadObserver* observer) override {
    TeeObserver tee(observer, driver_);
    return inner_->Train(config, &tee);
  }
  Result<InferResult> Infer(const InferConfig& config, WorkloadObserver* observer) override {
    return inner_->Infer(config, observer);
  }
  Result<std::vector<SplitPoint>> SplitPoints(const std::string& model, std::optional<Shape> input,
                                              std::optional<int64_t> classes) override {
    return inner_->SplitPoints(model, input, classes);
  }
  std::vector<std::pair<std::string, std::string>> Versions() const override { return inner_->Versions(); }
  WorkloadEngine* inner() const { return inner_; }

 private:
  WorkloadEngine* inner_;
  OnlinePowerLimitOptimizer* driver_;
};

Result<std::unique_ptr<OnlinePowerLimitOptimizer>> OnlinePowerLimitOptimizer::Open(
    Env* env, Meter* meter, OnlineOptimizerConfig config) {
  WATTLAB_RETURN_IF_ERROR(ValidateOptimizerOptions(config.options));
  Knobs knobs = ReadKnobs(env, config.caps);
  const std::string refusal = "--power-limit-optimizer needs a GPU whose power limit this process may set";
  if (knobs.gpus.empty())
    return Status::NotSupported(refusal + ", and there is none here (" +
                                (knobs.gpu_note.empty() ? std::string("NVML lists no GPU") : knobs.gpu_note) +
                                "); only GPU power limits are optimised, not CPU package limits");
  std::vector<std::string> why;
  double lo = 0, hi = 0;
  bool first = true;
  OnlineOptimizerReport report;
  for (const GpuKnob& g : knobs.gpus) {
    if (!g.settable) {
      why.push_back("GPU " + std::to_string(g.index) + " (" + g.name + "): " +
                    (!g.min_w || !g.max_w || !g.limit_w
                         ? std::string("the driver does not state its limit and range")
                         : std::string("changing it needs root or CAP_SYS_ADMIN (and persistence mode, "
                                       "`nvidia-smi -pm 1`)")));
      continue;
    }
    report.gpus.push_back(static_cast<int>(g.index));
    report.original_w.push_back(*g.limit_w);
    lo = first ? *g.min_w : std::max(lo, *g.min_w);
    hi = first ? *g.max_w : std::min(hi, *g.max_w);
    first = false;
  }
  if (!why.empty())
    return Status::NotSupported(
        refusal + "; every GPU gets the same limit, and not every one may be set: " + Join(why, "; "));
  if (hi < lo)
    return Status::NotSupported("the GPUs' power-limit ranges do not overlap (highest minimum " +
                                FormatDouble(lo) + " W, lowest maximum " + FormatDouble(hi) +
                                " W): one limit cannot suit them all");
  WATTLAB_ASSIGN_OR_RETURN(std::vector<double> candidates, CandidateLimits(lo, hi, config.options.step_w));
  const double p_max = hi * static_cast<double>(report.gpus.size());
  WATTLAB_ASSIGN_OR_RETURN(PowerLimitOptimizer opt,
                           PowerLimitOptimizer::Create(config.objective, candidates, p_max, config.options));
  std::unique_ptr<OnlinePowerLimitOptimizer> d(new OnlinePowerLimitOptimizer(std::move(opt)));
  d->meter_ = meter;
  WATTLAB_ASSIGN_OR_RETURN(d->session_, CapSession::Open(env, config.caps, /*restore_at_end=*/true));
  report.objective = config.objective.ToString();
  report.min_w = lo;
  report.max_w = hi;
  report.p_max_w = p_max;
  report.options = config.options;
  d->report_ = std::move(report);
  return d;
}

OnlinePowerLimitOptimizer::OnlinePowerLimitOptimizer(PowerLimitOptimizer opt) : optimizer_(std::move(opt)) {}

OnlinePowerLimitOptimizer::~OnlinePowerLimitOptimizer() {
  if (step_window_) (void)meter_->EndWindow(*step_window_);
  // session_'s destructor restores (restore_at_end) when Finish never ran.
}

WorkloadEngine* OnlinePowerLimitOptimizer::Wrap(WorkloadEngine* inner) {
  engine_ = std::make_unique<Engine>(inner, this);
  return engine_.get();
}

void OnlinePowerLimitOptimizer::Fail(const Status& st) {
  if (error_.ok()) error_ = st;
}

Status OnlinePowerLimitOptimizer::Apply(double watts) {
  if (applied_w_ && *applied_w_ == watts) return Status::Ok();
  Status st = session_->SetGpuPowerLimit(watts, report_.gpus);
  if (!st.ok())
    return st.WithContext("power-limit optimiser: setting the GPU limit to " + FormatDouble(watts) + " W");
  applied_w_ = watts;
  return Status::Ok();
}

void OnlinePowerLimitOptimizer::OnTrainBegin() {
  if (!error_.ok()) return;
  // The first candidate (the maximum) holds through the warm-up.
  if (Status st = Apply(optimizer_.limit_w()); !st.ok()) return Fail(st);
  if (optimizer_.phase() != PowerLimitOptimizer::Phase::kDone)
    step_window_ = meter_->BeginWindow("power-limit step");
}

void OnlinePowerLimitOptimizer::OnStep() {
  if (!error_.ok()) return;
  if (optimizer_.phase() == PowerLimitOptimizer::Phase::kDone) {
    ++report_.steps_at_chosen;
    return;
  }
  if (!step_window_) return;
  auto w = meter_->EndWindow(*step_window_);
  step_window_.reset();
  if (!w.ok()) return Fail(w.status().WithContext("power-limit optimiser: a step's meter window"));
  const bool changed = optimizer_.Observe({w->duration_s, w->energy_j});
  if (changed) {
    if (Status st = Apply(optimizer_.limit_w()); !st.ok()) return Fail(st);
  }
  if (optimizer_.phase() != PowerLimitOptimizer::Phase::kDone)
    step_window_ = meter_->BeginWindow("power-limit step");
}

void OnlinePowerLimitOptimizer::OnTrainEnd() {
  if (step_window_) (void)meter_->EndWindow(*step_window_);
  step_window_.reset();
}

OnlineOptimizerReport OnlinePowerLimitOptimizer::Finish() {
  OnTrainEnd();
  if (!finished_) {
    finished_ = true;
    Status st = session_->Restore();
    report_.restored = st.ok();
    report_.restore_error = st.ok() ? "" : st.message();
  }
  report_.phase = optimizer_.phase_name();
  report_.candidates = optimizer_.candidates();
  report_.chosen_limit_w = optimizer_.chosen_limit_w();
  return report_;
}

}  // namespace wattlab::caps
