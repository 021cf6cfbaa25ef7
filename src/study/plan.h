// Plan expansion: a StudySpec becomes an ordered list of runs.
//
// Each sweep expands to models x batch sizes x threads x precision x the
// power caps and clocks it lists (gpu, cpu package, cpu frequency) (x OpenMP
// wait policies, when swept; a command sweep: its name as the one model,
// docs/own-workloads.md); each such
// configuration runs its phases (train profile, full-length train + eval,
// infer) in one run, `repetitions` times. Identical configurations from two
// sweeps are kept once. The order is shuffled with the study's seed (a
// Fisher-Yates over a mt19937_64 stream, so it is the same on every platform
// and every resume), then run_id = position + 1. A cap is part of a run's
// identity (its config_id); a run without caps keeps the id it always had.
//
// Time estimates come from forward MACs per sample (the catalog's counts,
// src/catalog, unless the caller passes its own) and a throughput constant;
// they drive --dry-run and the ETA, nothing else. Nothing here builds a model.
//
// Pure code; thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "study/spec.h"
#include "wattlab/status.h"

namespace wattlab {

struct PlannedRun {
  int64_t run_id = 0;      // 1-based, in run order
  std::string config_id;   // stable hash of the configuration ("c" + 8 hex digits)
  int64_t repetition = 0;  // 0-based
  size_t sweep = 0;        // index into StudySpec::sweeps
  std::string model;
  int64_t batch_size = 0;
  int64_t threads = 0;
  std::string precision;
  std::string omp_wait_policy;  // swept policy; empty: the study process's own
  bool train = false;           // train profile (and full length when full_length)
  bool infer = false;
  bool full_length = false;
  bool evaluate = false;
  int64_t profile_steps = 0;      // the profile's fewest measured steps
  int64_t max_profile_steps = 0;  // and its most (study/profile.h: it stops between on the SE rule)
  int64_t epochs = 0;
  int64_t steps_per_epoch = 0;  // resolved (never 0)
  int64_t train_samples = 0;    // per epoch, resolved (never 0)
  int64_t eval_samples = 0;
  int64_t infer_samples = 0;
  std::string optimizer;
  double lr = 0;
  // The caps this run sets before it starts (absent: the knob is left as it
  // is). gpu_power_limit_pct is resolved against each GPU's default limit by
  // the runner; it and gpu_power_limit_w exclude each other.
  std::optional<double> gpu_power_limit_w, gpu_power_limit_pct, cpu_power_limit_w, cpu_max_freq_mhz;
  bool capped() const {
    return gpu_power_limit_w || gpu_power_limit_pct || cpu_power_limit_w || cpu_max_freq_mhz;
  }
  // "gpu 50%, cpu 95 W, 2400 MHz"; empty when the run sets no cap.
  std::string CapsLabel() const;
  // A command sweep's run (SweepSpec::is_command): the program's argv with
  // its {placeholders}, filled by the runner; `model` is the sweep's name.
  std::vector<std::string> command;
  bool is_command() const { return !command.empty(); }
  // The user's TorchScript file (a torchscript sweep: the engine runs it; a
  // command sweep: it only counts the program's model) and its input shape.
  std::string torchscript;
  std::string input;  // "CxHxW"
  // The full training length the profile is extrapolated to.
  int64_t full_steps() const { return epochs * steps_per_epoch; }
  // The most steps the profile runs: max_profile_steps, but never more than
  // the full length it stands for (when that is at least profile_steps).
  int64_t profile_step_cap() const {
    const int64_t cap = std::max(max_profile_steps, profile_steps);
    return full_steps() >= profile_steps ? std::min(cap, full_steps()) : cap;
  }
};

// REQUIRES: spec validated by ParseStudySpec.
std::vector<PlannedRun> ExpandPlan(const StudySpec& spec);

// Throughput assumed for estimates (multiply-accumulates per second): one
// training step of the 16 reference models at batch 128 took ~4 min here.
inline constexpr double kEstimateMacsPerSecond = 40e9;  // calibrated: see docs/study.md
inline constexpr double kEstimateRunOverheadS = 0.5;    // per engine call: model build, data loading, warm-up

// Forward MACs per sample at the model's native input, from the catalog; 0
// when the catalog cannot count it (an invalid name).
int64_t CatalogMacs(const std::string& model);

// A command run's time cannot be known before it runs: this is assumed for
// the estimate (the ETA then scales by how long runs really took).
inline constexpr double kEstimateCommandRunS = 60;

// Estimated seconds of one run (without cool-down). macs: forward MACs per sample.
double EstimateRunSeconds(const PlannedRun& run, const StudySpec& spec, int64_t macs);
// Whole study: runs + cool-downs + idle baselines. macs_by_model overrides CatalogMacs.
double EstimateStudySeconds(const std::vector<PlannedRun>& runs, const StudySpec& spec,
                            const std::map<std::string, int64_t>& macs_by_model = {});

// "Plan: 38 runs (...)" table for --dry-run.
// The plan's largest training run must fit in the memory the machine has
// free: params, gradients, optimizer state and activations at its batch size
// (catalog::EstimateTrainingMemory, analytic: no model is built). Counted by
// the catalog, so free for --dry-run. FailedPrecondition naming the model,
// its batch and the size it needs against mem_available_bytes; InvalidArgument
// for a model the catalog cannot count.
Status CheckPlanFitsMemory(const std::vector<PlannedRun>& runs, uint64_t mem_available_bytes);

std::string FormatPlan(const std::vector<PlannedRun>& runs, const StudySpec& spec,
                       const std::map<std::string, int64_t>& macs_by_model = {});

}  // namespace wattlab
