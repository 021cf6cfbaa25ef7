// The training profile's two rules (issue 12, item 5): when to stop it, and
// how its measurements extrapolate to the full-length training.
//
// Stopping: `profile_steps` is the minimum; after it the profile goes on
// until the mean step time after warm-up is known to ±1% (standard error of
// the mean <= 1% of the mean), and never past `max_profile_steps`. "After
// warm-up": the first measured step is left out of the mean (SteadySteps):
// measured here, it still runs slower than the rest (allocations and caches
// still growing after one warm-up step: 2-3x the steady step for small
// models), so five steps' mean over-predicted a long run by tens of percent.
//
// Extrapolation: the train window's mean power times the predicted length of
// the full training: its steps at the steady mean (each with its batch's
// data loading, which the engine does inside the step in both windows)
// scaled by samples, plus the first step's excess once (the full run pays it
// once too), plus one epoch boundary (the epoch windows closed and opened,
// the new epoch's shuffle) per epoch, plus the phase window's own edges.
// Every cost is one the profile measured. Evaluation is extrapolated on its
// own (eval/profile to eval/full), by samples, at the profile's eval energy
// per sample.
//
// Pure code; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace wattlab {

// The standard-error target: the profile stops once SE(mean step) <= 1% of the mean.
inline constexpr double kProfileRelativeSe = 0.01;
// max_profile_steps when a sweep does not say.
inline constexpr int64_t kDefaultMaxProfileSteps = 200;

struct StepStats {
  int64_t n = 0;
  double mean_s = 0;
  double sd_s = 0;         // sample standard deviation (n - 1)
  double se_s = 0;         // sd / sqrt(n)
  double relative_se = 0;  // se / mean; infinity while it cannot be known (n < 2, mean <= 0)
};
// Over the finite, non-negative times (others are skipped).
StepStats SummarizeSteps(const std::vector<double>& step_s);

// The steps the mean is taken over: all but the first, from 3 steps on.
std::vector<double> SteadySteps(const std::vector<double>& step_s);

// True when a profile that has run step_s.size() steps should stop: never
// before min_steps, always at max_steps, in between once the relative SE of
// the mean of SteadySteps is at most target. REQUIRES: 1 <= min_steps <= max_steps.
bool ProfileDone(const std::vector<double>& step_s, int64_t min_steps, int64_t max_steps,
                 double target = kProfileRelativeSe);

// What the profile's train window measured.
struct ProfileMeasurement {
  int64_t steps = 0;
  int64_t samples = 0;
  int64_t batch_size = 0;
  double energy_j = 0;    // the train window's energy
  double duration_s = 0;  // the train window's length
  // Per-step times (the runner's clock, one step end to the next; the first
  // from the phase start), the epoch boundary cost (the epoch windows' close
  // and open, timed around the observer's own work) and the phase window's
  // edges inside duration_s that are not steps (duration_s minus the steps).
  std::vector<double> step_s;
  double boundary_s = 0;
};

// The full-length training the profile stands for.
struct FullLength {
  int64_t epochs = 0;
  int64_t samples = 0;  // over all epochs
};

struct TrainExtrapolation {
  double energy_j = 0;             // predicted energy of the full train window
  double duration_s = 0;           // its predicted length
  double power_w = 0;              // the profile window's mean power
  double step_s = 0;               // mean step time used (SteadySteps)
  double first_step_excess_s = 0;  // the first measured step less that mean, added once
  double steps_s = 0;              // predicted time in steps (first step's excess included)
  double boundaries_s = 0;         // predicted time at epoch boundaries
  double edges_s = 0;              // the window's own edges (as measured in the profile)
};
// Absent when the profile measured nothing usable (no steps, samples or time).
std::optional<TrainExtrapolation> ExtrapolateTraining(const ProfileMeasurement& profile,
                                                      const FullLength& full);

// What the profile's eval window measured.
struct EvalMeasurement {
  double energy_j = 0;
  double duration_s = 0;
  int64_t samples = 0;
  int64_t batch_size = 0;
  // Per-batch times (the runner's clock, one batch end to the next; the
  // first from the phase start); empty when the engine does not report them.
  std::vector<double> batch_s;
};

struct EvalExtrapolation {
  double energy_j = 0;
  double duration_s = 0;            // predicted length of the full eval window (0: ratio rule)
  double power_w = 0;               // the profile window's mean power
  double batch_mean_s = 0;          // steady mean batch time (all but the first)
  double first_batch_excess_s = 0;  // the first batch less a steady batch of its size, added once
  double edges_s = 0;               // the window's own edges (duration less the batches)
  bool by_batches = false;          // false: the sample-ratio rule (fewer than 3 batch times)
};

// Evaluation, as training: the window's mean power times the predicted
// length of the full pass: its batches at the steady mean (all but the
// first) scaled by samples, plus the first batch's excess once, plus the
// window's own edges. With fewer than 3 batch times, the energy per eval
// sample times the full pass's samples. Absent when the profile evaluated
// nothing.
std::optional<EvalExtrapolation> ExtrapolateEval(const EvalMeasurement& profile, int64_t full_eval_samples);

}  // namespace wattlab
