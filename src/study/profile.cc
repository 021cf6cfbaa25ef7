#include "study/profile.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace wattlab {

StepStats SummarizeSteps(const std::vector<double>& step_s) {
  StepStats s;
  double sum = 0;
  for (double t : step_s)
    if (std::isfinite(t) && t >= 0) sum += t, ++s.n;
  s.relative_se = std::numeric_limits<double>::infinity();
  if (s.n == 0) return s;
  s.mean_s = sum / static_cast<double>(s.n);
  if (s.n < 2) return s;
  double ss = 0;
  for (double t : step_s)
    if (std::isfinite(t) && t >= 0) ss += (t - s.mean_s) * (t - s.mean_s);
  s.sd_s = std::sqrt(ss / static_cast<double>(s.n - 1));
  s.se_s = s.sd_s / std::sqrt(static_cast<double>(s.n));
  if (s.mean_s > 0) s.relative_se = s.se_s / s.mean_s;
  return s;
}

std::vector<double> SteadySteps(const std::vector<double>& step_s) {
  if (step_s.size() < 3) return step_s;
  return std::vector<double>(step_s.begin() + 1, step_s.end());
}

bool ProfileDone(const std::vector<double>& step_s, int64_t min_steps, int64_t max_steps, double target) {
  const auto n = static_cast<int64_t>(step_s.size());
  if (n >= max_steps) return true;
  if (n < min_steps) return false;
  return SummarizeSteps(SteadySteps(step_s)).relative_se <= target;
}

std::optional<TrainExtrapolation> ExtrapolateTraining(const ProfileMeasurement& p, const FullLength& full) {
  const StepStats st = SummarizeSteps(SteadySteps(p.step_s));
  if (p.steps <= 0 || p.samples <= 0 || !(p.duration_s > 0) || st.n == 0 || !(st.mean_s > 0) ||
      full.samples <= 0)
    return std::nullopt;
  TrainExtrapolation x;
  x.power_w = p.energy_j / p.duration_s;
  x.step_s = st.mean_s;
  // Steps by samples (a partial last batch costs less): the profile's time
  // per sample is its mean step over its samples per step.
  const double samples_per_step = static_cast<double>(p.samples) / static_cast<double>(p.steps);
  x.steps_s = st.mean_s * static_cast<double>(full.samples) / samples_per_step;
  // The first step after warm-up (still growing allocations and caches) is
  // paid once in the full run too: its excess over the steady mean, once.
  if (p.step_s.size() >= 3 && std::isfinite(p.step_s.front()) && p.step_s.front() >= 0)
    x.first_step_excess_s = p.step_s.front() - st.mean_s;
  x.steps_s += x.first_step_excess_s;
  // The profile is one epoch: one boundary. The full run has one per epoch.
  const double boundary_s = std::max(0.0, p.boundary_s);
  x.boundaries_s = boundary_s * static_cast<double>(std::max<int64_t>(full.epochs, 1));
  double in_steps = 0;
  for (double t : p.step_s)
    if (std::isfinite(t) && t >= 0) in_steps += t;
  x.edges_s = std::max(0.0, p.duration_s - in_steps - boundary_s);
  x.duration_s = x.steps_s + x.boundaries_s + x.edges_s;
  x.energy_j = x.power_w * x.duration_s;
  return x;
}

std::optional<EvalExtrapolation> ExtrapolateEval(const EvalMeasurement& p, int64_t full_eval_samples) {
  if (p.samples <= 0 || full_eval_samples <= 0 || !std::isfinite(p.energy_j)) return std::nullopt;
  EvalExtrapolation x;
  const double ratio = static_cast<double>(full_eval_samples) / static_cast<double>(p.samples);
  x.energy_j = p.energy_j * ratio;
  const StepStats st = SummarizeSteps(SteadySteps(p.batch_s));
  if (p.batch_s.size() < 3 || st.n != static_cast<int64_t>(p.batch_s.size()) - 1 || !(st.mean_s > 0) ||
      !(p.duration_s > 0) || p.batch_size <= 0)
    return x;
  x.by_batches = true;
  x.power_w = p.energy_j / p.duration_s;
  x.batch_mean_s = st.mean_s;
  // By samples (a short last batch costs less): the steady batches' time
  // over their samples (all but the first batch's).
  const int64_t steady_samples = p.samples - std::min(p.batch_size, p.samples);
  if (steady_samples <= 0) {
    x.by_batches = false;
    return x;
  }
  const double per_sample_s = st.mean_s * static_cast<double>(st.n) / static_cast<double>(steady_samples);
  // The first batch against what a steady batch of its size takes (the
  // steady mean would count a short last batch against it).
  x.first_batch_excess_s =
      p.batch_s.front() - per_sample_s * static_cast<double>(std::min(p.batch_size, p.samples));
  double in_batches = 0;
  for (double t : p.batch_s) in_batches += t;
  x.edges_s = std::max(0.0, p.duration_s - in_batches);
  x.duration_s = per_sample_s * static_cast<double>(full_eval_samples) + x.first_batch_excess_s + x.edges_s;
  x.energy_j = x.power_w * x.duration_s;
  return x;
}

}  // namespace wattlab
