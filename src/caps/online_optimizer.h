// The online power-limit optimiser in a training run: drives a
// PowerLimitOptimizer (caps/optimizer.h) from the meter, one measurement per
// training step, and turns the GPU power limit through a CapSession.
//
// Which GPUs: every GPU NVML lists; all get the same limit at once. The
// candidates run from the lowest of their maximum limits down to the highest
// of their minimum limits. P_max for cost:ETA is the maximum candidate times
// the number of GPUs. The CPU package limit is not driven (GPU only).
//
// What a step costs: a meter window per training step, opened when the train
// phase begins and at each step end, closed at the next step end: its
// duration_s and energy_j (the whole machine, every chosen domain, not above
// idle: the energy the machine drew while the step ran at that limit).
//
// How it reaches the step: Wrap(engine) returns an engine that hands the
// training loop an observer which forwards every call to the caller's
// observer (the MeteredRun) and then tells this driver. The engine interface
// is unchanged: OnPhaseBegin("train") / OnStepEnd / OnPhaseEnd("train").
//
// Restore: the CapSession is opened with restore_at_end, so the limit found
// before goes back in Finish() and, should Finish never run (an exception, an
// early return), in the destructor; the journal covers SIGKILL and crashes
// (`wattlab cap --restore`).
//
// Errors: Open refuses (NotSupported, exit 2 at the CLI) when there is no GPU
// whose limit this process may set, saying why. A limit that cannot be set
// mid-run is kept as error() and stops the training (ShouldStop).
//
// Ownership: borrows env and meter (both outlive it); owns its CapSession.
// Thread-safety: the engine's calling thread only.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caps/caps.h"
#include "caps/optimizer.h"
#include "core/env.h"
#include "wattlab/meter.h"
#include "wattlab/workload.h"

namespace wattlab::caps {

struct OnlineOptimizerConfig {
  OptimizerObjective objective;
  OptimizerOptions options;
  CapsOptions caps;
};

// Everything the run's JSON and the database keep about the optimiser.
struct OnlineOptimizerReport {
  std::string objective;           // OptimizerObjective::ToString()
  std::vector<int> gpus;           // the GPUs capped (NVML indices)
  std::vector<double> original_w;  // each GPU's limit found before (same order)
  double min_w = 0, max_w = 0;     // the candidate range
  double p_max_w = 0;              // cost:ETA's P_max
  OptimizerOptions options;
  std::string phase;  // "warmup", "profiling", "done": where the run ended
  std::vector<CandidateResult> candidates;
  std::optional<double> chosen_limit_w;
  int64_t steps_at_chosen = 0;  // training steps run at the chosen limit after profiling
  bool restored = false;        // every original limit put back
  std::string restore_error;    // why not, when not
};

class OnlinePowerLimitOptimizer {
 public:
  // Reads the GPUs, refuses when none is settable, opens the CapSession.
  // Changes nothing yet.
  static Result<std::unique_ptr<OnlinePowerLimitOptimizer>> Open(Env* env, Meter* meter,
                                                                 OnlineOptimizerConfig config);
  ~OnlinePowerLimitOptimizer();
  OnlinePowerLimitOptimizer(const OnlinePowerLimitOptimizer&) = delete;
  OnlinePowerLimitOptimizer& operator=(const OnlinePowerLimitOptimizer&) = delete;

  // An engine that trains through `inner` and feeds this driver. Valid while
  // both live.
  WorkloadEngine* Wrap(WorkloadEngine* inner);

  // Puts every original limit back (idempotent) and returns the report.
  OnlineOptimizerReport Finish();

  // The first error met while driving (a limit that could not be set, a
  // meter window that failed); OK otherwise.
  const Status& error() const { return error_; }
  const PowerLimitOptimizer& optimizer() const { return optimizer_; }

  // Called by the wrapped engine's observer.
  void OnTrainBegin();
  void OnStep();
  void OnTrainEnd();
  bool ShouldStop() const { return !error_.ok(); }

 private:
  explicit OnlinePowerLimitOptimizer(PowerLimitOptimizer opt);
  Status Apply(double watts);
  void Fail(const Status& st);

  class Engine;
  Meter* meter_ = nullptr;
  PowerLimitOptimizer optimizer_;
  std::unique_ptr<CapSession> session_;
  std::unique_ptr<Engine> engine_;
  OnlineOptimizerReport report_;
  std::optional<Meter::WindowId> step_window_;
  std::optional<double> applied_w_;
  bool finished_ = false;
  Status error_;
};

}  // namespace wattlab::caps
