// One metered engine call: the only WorkloadObserver outside tests. It binds
// meter windows to what the engine announces and hands back the run's
// measured results; `wattlab train`, `wattlab infer` and the study runner all
// measure through it.
//
// Windows: one per phase ("train", "eval", "infer") and one per epoch
// ("epoch N", nested in train). With `setup_label` set, a span of that name
// covers the engine's setup and warm-up (from the call to the first phase);
// it goes into spans() for the timeline and is not a phase. Every window
// opened is closed, on every path out (a failing engine, an early stop, the
// destructor), so the meter never accumulates open windows.
//
// Errors: the meter's first error (an EndWindow that fails) is kept; from then
// on ShouldStop() is true, so the workload stops instead of running
// unmeasured, and Train/Infer return that error in preference to the engine's
// (which is then only "stopped by the observer"). Otherwise Train/Infer
// return the engine's status; a phase the engine never announced is
// Internal (see Phase()).
//
// Ownership: borrows the meter (started by the caller) and the engine; both
// must outlive it. Thread-safety: one engine call at a time, on the calling
// thread (the engine calls the observer on that thread).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/env.h"
#include "store/store.h"
#include "wattlab/meter.h"
#include "wattlab/record.h"
#include "wattlab/workload.h"

namespace wattlab {

// A closed window with what the workload did in it.
struct MeteredWindow {
  std::string name;                 // "train", "eval", "infer", "epoch 3"
  int64_t samples = 0;              // workload samples the engine reported for it
  std::optional<double> mean_loss;  // epochs only
  WindowResult result;
};

struct MeteredRunOptions {
  std::string setup_label;                           // empty: no setup/warm-up span
  std::function<bool()> stop;                        // polled between steps; true stops the run
  std::function<void(const std::string&)> progress;  // "train", "eval", "infer", "step 7"
  // Monotonic seconds (the caller's clock). With it, the train phase's step
  // times and epoch boundary costs are recorded (step_times(), boundary_s()).
  std::function<double()> clock_s;
  // Asked after each training step with the step times so far (empty without
  // clock_s); true ends the train phase there (ShouldEndTraining).
  std::function<bool(const std::vector<double>& step_s)> end_training;
};

// The context block of a metered command: what the meter and engine were.
struct MeterContext {
  std::vector<std::string> sources;
  bool estimated = false;
  double interval_s = 0;
  std::optional<double> idle_power_w;   // the baseline in force, when one was measured
  double idle_measured_s = 0;           // how long it was measured (0: not by this command)
  std::optional<double> idle_cpu_util;  // machine CPU utilisation while it was measured
  bool idle_busy = false;               // measured while the machine was busy (meter/busy.h)
  std::string idle_busy_warning;        // the sentence to print when it was (BusyIdleWarning)
  // Set when the baseline in force is a stored one (meter/idle_store.h)
  // reused instead of measured: when it was measured (Unix seconds).
  std::optional<double> idle_stored_at_s;
  std::string idle_store_warning;  // a measured baseline that could not be stored: why
  std::vector<std::pair<std::string, std::string>> versions;  // the engine's: libtorch, blas, ...
};

// One measured window as a stored row of rec, with its extra (loss, idle
// and mean power, meter samples) and per-domain energies: the one shape of a
// stored window, for the study runner and `train --db`. `samples` is the
// engine's count, or the window's when 0.
RunRow& AppendWindowRow(RunRecord& rec, int64_t batch_size, int64_t threads, const std::string& precision,
                        const ModelFacts& facts, const std::string& window, const MeteredWindow& mw,
                        int64_t samples, std::optional<double> loss);

// Reads the context of a started meter and its engine.
MeterContext CollectMeterContext(const Meter& meter, const WorkloadEngine& engine);
// The context block a study opens with: host, kernel and CPU (read through
// env), the engine's versions, the meter's sources, interval and facts (GPU
// names with their driver). Name, spec and times are the runner's to fill.
// The host and CPU as a study's context records them (StudyInfo::host, cpu:
// "MODEL NAME (N threads)"); `wattlab calibrate` records the same, so a
// calibration matches the studies of its machine.
std::string ContextHost(Env* env);
std::string ContextCpu(Env* env);

StudyInfo CollectStudyContext(Env* env, const Meter& meter, const WorkloadEngine& engine,
                              const std::string& wattlab_version);
// The same without an engine (a study of command sweeps only: no libtorch loaded).
StudyInfo CollectStudyContext(Env* env, const Meter& meter, const WorkloadEngine* engine,
                              const std::string& wattlab_version);
// Measures the idle baseline for idle_s seconds (0 or less: none) on a started
// meter, which uses it for energy_above_idle_j from then on, and notes it in
// *context, with its busy flag and the warning to print when it was busy.
// Errors say "measuring the idle baseline".
Status MeasureIdleBaseline(Meter* meter, double idle_s, MeterContext* context);

// Which idle baseline a train/infer command uses (issue 11: no needless
// waiting). measure_s <= 0: none at all.
struct IdleBaselinePolicy {
  double measure_s = 2;     // measured for this long when no stored one is reused
  double max_age_s = 3600;  // a stored baseline younger than this is reused (0: always measure)
};
// Reuses the stored baseline for this host and the meter's sources (the
// idle state file, meter/idle_store.h) when it is younger than max_age_s and
// was not measured busy; otherwise measures one (MeasureIdleBaseline) and
// stores it, busy or not (a busy one is stored flagged, and never reused).
// *context says which: idle_stored_at_s when reused, idle_measured_s when
// measured now. A state file that cannot be read or written costs only the
// reuse: the baseline is measured, and the write error goes to
// context->idle_store_warning.
Status EstablishIdleBaseline(Env* env, Meter* meter, const IdleBaselinePolicy& policy, MeterContext* context);

// {name, input, classes, params, macs, macs_by_kind, macs_per_param, counter}:
// the model block of train/infer JSON and of every stored run.
nlohmann::json ModelFactsToJson(const ModelFacts& facts);

// How an inference ran its convolutions (InferConfig::conv_weights):
// {"in_force": "packed"|"plain", "convs", "packed", "why" (when plain:
// InferResult::conv_weights_why)}, in `infer --json` and a
// study's infer runs (runs.config_json); and the text line `infer` prints.
nlohmann::json ConvWeightsJson(const InferResult& r);
std::string ConvWeightsLine(const InferResult& r);

class MeteredRun : public WorkloadObserver {
 public:
  explicit MeteredRun(Meter* meter, MeteredRunOptions options = {});
  ~MeteredRun() override;
  MeteredRun(const MeteredRun&) = delete;
  MeteredRun& operator=(const MeteredRun&) = delete;

  // One engine call each. REQUIRES: one call per MeteredRun.
  Result<TrainResult> Train(WorkloadEngine* engine, const TrainConfig& config);
  Result<InferResult> Infer(WorkloadEngine* engine, const InferConfig& config);

  // WorkloadObserver: called by the engine.
  void OnPhaseBegin(const std::string& phase) override;
  void OnPhaseEnd(const std::string& phase, int64_t samples) override;
  void OnEpochBegin(int64_t epoch) override;
  void OnEpochEnd(int64_t epoch, int64_t samples, double mean_loss) override;
  void OnStepEnd(int64_t step, int64_t samples, double loss) override;
  void OnEvalBatchEnd(int64_t batch, int64_t samples) override;
  bool ShouldStop() override;
  bool ShouldEndTraining() override;

  // Results, in the order the windows closed.
  const std::vector<MeteredWindow>& phases() const { return phases_; }
  const std::vector<MeteredWindow>& epochs() const { return epochs_; }
  // The named phase's window; Internal when the engine never announced it.
  Result<const MeteredWindow*> Phase(const std::string& name) const;
  // Every closed window and the setup span, meter time (seconds since Start).
  const std::vector<RunTimeline::Span>& spans() const { return spans_; }
  const std::vector<double>& step_losses() const { return losses_; }
  // The train phase's step times (s), with clock_s: each from the end of the
  // previous step (or of the phase's or epoch's opening) to the step's end,
  // so a step's time includes its batch's data loading and excludes the
  // epoch windows' opening and closing.
  const std::vector<double>& step_times() const { return step_s_; }
  // Time spent at epoch boundaries of the train phase (s), with clock_s: from
  // the phase's opening (or a step's end) to an epoch's window opened, and
  // from the last step's end to the phase's end (the epoch window closed),
  // summed; and the number of epochs begun.
  double boundary_s() const { return boundary_s_; }
  // The eval phase's batch times (s), with clock_s: each from the end of the
  // previous batch (the first from the phase's opening) to the batch's end.
  const std::vector<double>& eval_batch_times() const { return eval_batch_s_; }
  int64_t epochs_begun() const { return epochs_begun_; }
  const Status& error() const { return error_; }

 private:
  template <typename R>
  Result<R> Finish(Result<R> engine_result);
  void BeginSetup();
  void CloseSetup();
  void CloseAll();
  // Ends the named window; on success returns it, on failure keeps the error.
  std::optional<MeteredWindow> Close(const std::string& name, int64_t samples, std::optional<double> loss);

  Meter* meter_;
  MeteredRunOptions options_;
  std::optional<Meter::WindowId> setup_;
  std::map<std::string, Meter::WindowId> open_;
  std::vector<MeteredWindow> phases_, epochs_;
  std::vector<RunTimeline::Span> spans_;
  std::vector<double> losses_;
  std::vector<double> step_s_;
  std::optional<double> step_mark_s_;  // the clock when the next step began (train phase only)
  std::optional<double> eval_mark_s_;  // the clock when the next eval batch began (eval phase only)
  std::vector<double> eval_batch_s_;
  double boundary_s_ = 0;
  int64_t epochs_begun_ = 0;
  Status error_;
};

}  // namespace wattlab
