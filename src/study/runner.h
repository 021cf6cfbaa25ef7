// The study runner: executes a plan against a WorkloadEngine (and, for a
// command sweep, the user's program: docs/own-workloads.md), measuring each
// engine call through a MeteredRun (study/metered_run.h: meter windows bound
// to the phases the engine announces), and writes each completed run to the
// store in one transaction.
//
// Per study: the meter is started, an idle baseline measured (Meter::
// MeasureIdle) and re-measured every idle_every_s; runs go in the plan's
// seeded order, skipping those the store already holds (--resume), with a
// cool-down between runs. A sharded study (RunnerOptions::shard) runs only
// its share of the plan, with its own idle baselines. Per run: a training profile (warm-up outside the
// window, then at least profile_steps measured steps, on until the mean step
// time is known to ±1% or max_profile_steps: study/profile.h;
// extrapolated_energy_j = the window's mean power x the predicted length of
// the full training: steps by samples, epoch boundaries, window edges, each
// measured in the profile; for a configuration that evaluates, a short test
// pass too, eval/profile, extrapolated by samples), then, when configured,
// the full training (train/full row) and its test-set pass (eval/full row,
// with accuracy), then inference (infer/full row). What the profile measured
// (steps, standard error reached, boundary and edge costs) goes into the
// run's config_json under "profile". A downsampled power timeline
// with the window spans goes with the run.
//
// Caps (docs/power-caps.md): a run whose sweep lists power caps or clocks
// gets them set through one CapSession (restore_at_end, journalled) before it
// starts, unless the previous run left the same ones in force; the values in
// force are read back and recorded on every run, capped or not. A cap that
// cannot be set fails that run with the reason and the study goes on. On
// every way out of Run (end, interruption, error) every knob the study
// changed is put back as found; after a crash the journal keeps the
// originals for `wattlab cap --restore`.
//
// Interruption: `interrupted` is polled between runs and between steps (via
// WorkloadObserver::ShouldStop); the current run is discarded (nothing
// written) and Run returns with outcome.interrupted set. A run that fails
// for another reason is logged, counted, not written (its message, and a
// program's last stderr lines, go to the store's failed_runs), and the study
// goes on.
//
// A command sweep's run spawns the program (meter/command_run.h) with the
// placeholders filled; its windows named train/eval/infer (or mapped by the
// sweep's `windows`) become train/full, eval/full, infer/full rows (several
// windows of one phase summed; each its own span in the timeline); a
// non-zero exit, a timeout or no such window fails the run. Needs no engine:
// a study of command sweeps only may pass engine = nullptr.
//
// Ownership: the runner borrows engine, meter, store and env; all must
// outlive it. Not thread-safe: one Run at a time, on the calling thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "caps/caps.h"
#include "core/energy_basis.h"
#include "core/env.h"
#include "store/store.h"
#include "study/metered_run.h"
#include "study/plan.h"
#include "study/shard.h"
#include "study/spec.h"
#include "wattlab/meter.h"
#include "wattlab/record.h"
#include "wattlab/workload.h"

namespace wattlab {

struct RunnerOptions {
  bool resume = false;
  std::ostream* log = nullptr;        // progress and log lines; nullptr: silent
  bool tty = false;                   // live one-line progress instead of log lines
  std::function<bool()> interrupted;  // polled; true stops the study
  size_t timeline_points = 400;       // downsampled timeline length per run
  // Power caps and clocks (src/caps): the Env the knobs are read and set
  // through (nullptr: the runner's env), the NVML library and the journal.
  Env* caps_env = nullptr;
  caps::CapsOptions caps;
  // The OpenMP wait policy libgomp read in this process ("default", "active",
  // "passive"; meter/wait_policy.h). Recorded with every run; a run whose
  // sweep names another policy is not run here but left to a child process
  // started with that policy (study/wait_policy_groups.h), and the study stays
  // unfinished until it has run.
  std::string omp_wait_policy = "default";
  // This process's share of the plan (study/shard.h; docs/scale.md): only
  // its runs are run, their run_ids those of the whole plan. Recorded in the
  // store (study_shards) with the spec hash and host; 1/1 is the whole plan.
  Shard shard;
};

struct StudyOutcome {
  int64_t planned = 0;      // runs of this shard (the whole plan when unsharded)
  int64_t done_before = 0;  // runs already in the store (resume)
  int64_t done_now = 0;     // runs completed and written by this invocation
  int64_t failed = 0;
  bool interrupted = false;
  bool finished = false;  // every planned run is in the store
  double elapsed_s = 0;
  std::vector<std::string> failures;  // "run 7 (resnet18 batch 8): <message>"
  // Set when a cap the study changed could not be put back at the end (the
  // journal keeps the original for `wattlab cap --restore`).
  std::string caps_restore_error;
};

class StudyRunner {
 public:
  StudyRunner(StudySpec spec, WorkloadEngine* engine, Meter* meter, Store* store, Env* env,
              RunnerOptions options);

  // Describes every model of the plan once (validating names against the
  // engine). InvalidArgument naming the spec file and model when one is unknown.
  Result<std::map<std::string, ModelFacts>> DescribeModels();

  // Runs the study. `context` supplies host, versions and meter facts; its
  // name, spec and start time are taken from the spec and the clock. Errors:
  // FailedPrecondition when the study already exists without --resume, or was
  // started with a different spec; the store's and meter's errors.
  Result<StudyOutcome> Run(const StudyInfo& context);

  const std::vector<PlannedRun>& plan() const { return plan_; }
  // The runs this runner runs: the shard's share of plan(), in plan order.
  const std::vector<PlannedRun>& runs() const { return runs_; }
  // True when this process runs `run` (its policy is unswept or the one in force).
  bool RunsHere(const PlannedRun& run) const;
  // The store may be attached after DescribeModels, so a spec with an
  // unknown model never creates a database. REQUIRES: set before Run.
  void set_store(Store* store) { store_ = store; }

 private:
  Result<RunRecord> ExecuteRun(const PlannedRun& run, const ModelFacts& facts, int64_t index, int64_t total);
  // The steps of ExecuteRun, in order: each measures one engine call and adds
  // its rows to *rec and its spans (meter time) to *spans.
  Status ProfileTraining(const PlannedRun& run, const ModelFacts& facts, RunRecord* rec,
                         std::vector<RunTimeline::Span>* spans);
  Status FullTraining(const PlannedRun& run, const ModelFacts& facts, RunRecord* rec,
                      std::vector<RunTimeline::Span>* spans);
  Status Inference(const PlannedRun& run, const ModelFacts& facts, RunRecord* rec,
                   std::vector<RunTimeline::Span>* spans);
  // A command sweep's run: the program under the window protocol; one row per
  // kept phase, its windows summed. Failure keeps its stderr in failed_stderr_.
  Status CommandRun(const PlannedRun& run, const ModelFacts& facts, RunRecord* rec,
                    std::vector<RunTimeline::Span>* spans);
  // Stop polling, progress lines labelled `label`, the setup/warm-up span.
  MeteredRunOptions CallOptions(const std::string& label);
  Status MeasureIdle();
  // spec.calibrate: the operator micro-benchmarks for each threads/precision
  // of `todo` that the database has no calibration for in this context.
  Status CalibrateIfAsked(const std::vector<PlannedRun>& todo, const StudyInfo& info);
  // Sets the run's caps when they differ from those in force (restoring the
  // knobs a previous run changed and this one does not list).
  Status ApplyCaps(const PlannedRun& run);
  // Reads back the caps in force onto every row of *rec.
  void RecordCaps(RunRecord* rec);
  void Log(const std::string& line);
  void Progress(const std::string& what);
  bool Interrupted() const { return options_.interrupted && options_.interrupted(); }

  StudySpec spec_;
  WorkloadEngine* engine_;
  Meter* meter_;
  Store* store_;
  Env* env_;
  RunnerOptions options_;
  std::vector<PlannedRun> plan_;
  std::vector<PlannedRun> runs_;  // the shard's
  std::string host_;              // recorded with every run and idle baseline
  std::map<std::string, ModelFacts> facts_;
  std::vector<std::string> failed_stderr_;  // the last failed command run's stderr tail
  double start_mono_s_ = 0, last_idle_mono_s_ = 0;
  double est_total_s_ = 0, est_done_s_ = 0, actual_done_s_ = 0;
  int64_t progress_index_ = 0, progress_total_ = 0;
  std::string progress_label_;
  // The study's cap session (open during Run), the knobs found at its start,
  // and the caps the last run left in force (applied_valid_ false: unknown,
  // after a failed set).
  std::unique_ptr<caps::CapSession> caps_;
  caps::Knobs knobs_;
  PlannedRun applied_;
  bool applied_valid_ = true;
};

// The findings printed after a study: cheapest and most expensive model per
// inference sample, energy-optimal batch per model, extrapolation error of the
// full-length runs, totals. Pure; rows from Store::ReadRows.
std::string SummarizeStudy(const std::vector<RunRow>& rows,
                           EnergyBasisRequest energy = EnergyBasisRequest::kAuto);

}  // namespace wattlab
