// The online power-limit optimiser: a pure state machine, fed one
// measurement per training step, that says which power limit to hold next.
//
//   warm-up   `warmup_steps` steps at the first candidate (the maximum), not
//             counted: caches, allocator, clocks settle;
//   profile   each candidate limit in turn, from the maximum down to the
//             minimum in `step_w` steps (the minimum itself always last).
//             After each change `settle_steps` steps are not counted (the
//             limiter takes a moment, and the step that straddled the change
//             belongs to neither limit). Then steps are counted until both
//             the mean step time and the mean step energy are known to
//             ±`rel_half_width` (the half-width of a two-sided 95% Student-t
//             confidence interval of the mean, relative to the mean), with at
//             least `min_steps` and at most `max_steps` counted steps; a
//             candidate stopped by `max_steps` is marked not converged;
//   done      the best candidate by the objective is held for the rest of the
//             run.
//
// Objectives (lower is better; E = mean energy per step in J, T = mean time
// per step in s):
//   energy        E
//   time          T
//   edp           E·T
//   cost:ETA      ETA·E + (1−ETA)·P_max·T (Zeus's cost; P_max is the power
//                 that turns time into energy: the maximum limit summed over
//                 the GPUs being capped), 0 ≤ ETA ≤ 1
//   slowdown:X    the lowest E among candidates with T ≤ X·T_ref, T_ref the
//                 first candidate's (the maximum limit's) T; X ≥ 1
//
// Knows nothing of devices, meters or clocks: the caller applies limit_w()
// and measures. Thread-safety: none. Errors: only from ParseObjective and
// PowerLimitOptimizer::Create (InvalidArgument).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wattlab/status.h"

namespace wattlab::caps {

struct OptimizerObjective {
  enum class Kind { kEnergy, kTime, kEdp, kCost, kSlowdown };
  Kind kind = Kind::kEnergy;
  double eta = 0.5;           // kCost
  double max_slowdown = 1.1;  // kSlowdown
  // "energy", "time", "edp", "cost:0.5", "slowdown:1.1": the text it parses from.
  std::string ToString() const;
};

// "energy" | "time" | "edp" | "cost:ETA" (0 ≤ ETA ≤ 1) | "slowdown:X" (X ≥ 1).
// InvalidArgument naming the accepted forms otherwise.
Result<OptimizerObjective> ParseObjective(const std::string& text);

struct OptimizerOptions {
  int64_t warmup_steps = 10;     // Zeus's warm-up
  int64_t settle_steps = 1;      // not counted after each limit change
  int64_t min_steps = 10;        // counted steps per candidate, at least
  int64_t max_steps = 100;       // ... and at most
  double rel_half_width = 0.02;  // ±2%
  double step_w = 25;            // between candidates
};

// InvalidArgument when an option is out of its range (negative counts,
// min_steps < 2, max_steps < min_steps, rel_half_width or step_w not > 0).
Status ValidateOptimizerOptions(const OptimizerOptions& options);

// max_w, max_w − step_w, ... while above min_w, then min_w: from the maximum
// down, the minimum always included. InvalidArgument unless
// 0 < min_w ≤ max_w and step_w > 0.
Result<std::vector<double>> CandidateLimits(double min_w, double max_w, double step_w);

// What one training step cost. Non-finite or negative values, or a zero
// duration, are dropped (counted in CandidateResult::dropped_steps).
struct StepMeasurement {
  double duration_s = 0;
  double energy_j = 0;
};

// Two-sided 95% Student-t quantile for `dof` degrees of freedom (a table to
// 30, then a series in 1/dof); NaN for dof < 1.
double StudentT95(int64_t dof);

struct CandidateResult {
  double limit_w = 0;
  int64_t steps = 0;                                            // counted steps
  int64_t dropped_steps = 0;                                    // measurements that were not usable
  double mean_step_s = 0, step_s_half_width = 0;                // ± in s
  double mean_step_energy_j = 0, step_energy_half_width_j = 0;  // ± in J
  bool converged = false;  // both known to ±rel_half_width when profiling stopped
  bool finished = false;   // profiling of this candidate is over
  // The objective's value once finished; for slowdown:X the energy, absent
  // when the candidate is slower than X·T_ref (not eligible).
  std::optional<double> objective;
  bool eligible = true;  // slowdown:X only: T ≤ X·T_ref
};

class PowerLimitOptimizer {
 public:
  enum class Phase { kWarmup, kProfiling, kDone };

  // candidates_w from the maximum down (CandidateLimits); p_max_w for cost.
  static Result<PowerLimitOptimizer> Create(OptimizerObjective objective, std::vector<double> candidates_w,
                                            double p_max_w, OptimizerOptions options);

  // The limit to hold during the next step.
  double limit_w() const;
  // Feeds the step that just ran at limit_w() (as it was before this call).
  // True when limit_w() changed, i.e. the caller must apply the new limit.
  bool Observe(const StepMeasurement& m);

  Phase phase() const { return phase_; }
  const char* phase_name() const;  // "warmup", "profiling", "done"
  // Every candidate, in profiling order; those not reached yet have steps 0.
  const std::vector<CandidateResult>& candidates() const { return candidates_; }
  std::optional<double> chosen_limit_w() const;
  const OptimizerObjective& objective() const { return objective_; }
  const OptimizerOptions& options() const { return options_; }
  double p_max_w() const { return p_max_w_; }

 private:
  PowerLimitOptimizer() = default;
  void FinishCandidate();
  void Choose();

  OptimizerObjective objective_;
  OptimizerOptions options_;
  double p_max_w_ = 0;
  Phase phase_ = Phase::kWarmup;
  std::vector<CandidateResult> candidates_;
  size_t current_ = 0;                        // candidate being profiled
  int64_t warm_done_ = 0;                     // warm-up steps seen
  int64_t settle_left_ = 0;                   // steps still to skip after the last change
  std::vector<double> times_s_, energies_j_;  // counted steps of the current candidate
  std::optional<size_t> chosen_;
};

}  // namespace wattlab::caps
