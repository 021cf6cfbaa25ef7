// The online power-limit optimiser's state machine (see optimizer.h).
#include "caps/optimizer.h"

#include <cmath>
#include <cstdlib>

#include "core/strings.h"

namespace wattlab::caps {

namespace {

const char* kObjectiveForms = "energy, time, edp, cost:ETA (0 <= ETA <= 1) or slowdown:X (X >= 1)";

Result<double> ParseNumber(const std::string& text, const std::string& whole) {
  if (text.empty())
    return Status::InvalidArgument("--power-limit-optimizer '" + whole + "' lacks its number; use " +
                                   kObjectiveForms);
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v))
    return Status::InvalidArgument("--power-limit-optimizer '" + whole + "': '" + text +
                                   "' is not a number; use " + kObjectiveForms);
  return v;
}

struct MeanHalfWidth {
  double mean = 0, half_width = 0;
};

MeanHalfWidth Estimate(const std::vector<double>& v) {
  MeanHalfWidth r;
  const size_t n = v.size();
  if (n == 0) return r;
  double sum = 0;
  for (double x : v) sum += x;
  r.mean = sum / static_cast<double>(n);
  if (n < 2) return r;
  double ss = 0;
  for (double x : v) ss += (x - r.mean) * (x - r.mean);
  const double sd = std::sqrt(ss / static_cast<double>(n - 1));
  r.half_width = StudentT95(static_cast<int64_t>(n) - 1) * sd / std::sqrt(static_cast<double>(n));
  return r;
}

bool Within(const MeanHalfWidth& e, double rel) {
  return e.half_width == 0 || e.half_width <= rel * std::fabs(e.mean);
}

}  // namespace

std::string OptimizerObjective::ToString() const {
  switch (kind) {
    case Kind::kEnergy:
      return "energy";
    case Kind::kTime:
      return "time";
    case Kind::kEdp:
      return "edp";
    case Kind::kCost:
      return "cost:" + FormatDouble(eta);
    case Kind::kSlowdown:
      return "slowdown:" + FormatDouble(max_slowdown);
  }
  return "?";
}

Result<OptimizerObjective> ParseObjective(const std::string& text) {
  OptimizerObjective o;
  if (text == "energy") {
    o.kind = OptimizerObjective::Kind::kEnergy;
  } else if (text == "time") {
    o.kind = OptimizerObjective::Kind::kTime;
  } else if (text == "edp") {
    o.kind = OptimizerObjective::Kind::kEdp;
  } else if (StartsWith(text, "cost:")) {
    WATTLAB_ASSIGN_OR_RETURN(double eta, ParseNumber(text.substr(5), text));
    if (eta < 0 || eta > 1)
      return Status::InvalidArgument("--power-limit-optimizer " + text +
                                     ": ETA must be between 0 and 1 (the weight of energy against time)");
    o.kind = OptimizerObjective::Kind::kCost;
    o.eta = eta;
  } else if (StartsWith(text, "slowdown:")) {
    WATTLAB_ASSIGN_OR_RETURN(double x, ParseNumber(text.substr(9), text));
    if (x < 1)
      return Status::InvalidArgument("--power-limit-optimizer " + text +
                                     ": the maximum slowdown X must be 1 or more (1.1 allows 10% more time)");
    o.kind = OptimizerObjective::Kind::kSlowdown;
    o.max_slowdown = x;
  } else {
    return Status::InvalidArgument("unknown --power-limit-optimizer '" + text + "': use " + kObjectiveForms);
  }
  return o;
}

Status ValidateOptimizerOptions(const OptimizerOptions& o) {
  if (o.warmup_steps < 0) return Status::InvalidArgument("power-limit warm-up steps must be 0 or more");
  if (o.settle_steps < 0) return Status::InvalidArgument("power-limit settle steps must be 0 or more");
  if (o.min_steps < 2)
    return Status::InvalidArgument(
        "power-limit minimum steps per candidate must be at least 2 (a spread needs two)");
  if (o.max_steps < o.min_steps)
    return Status::InvalidArgument("power-limit maximum steps per candidate (" + std::to_string(o.max_steps) +
                                   ") must be at least the minimum (" + std::to_string(o.min_steps) + ")");
  if (!(o.rel_half_width > 0) || !std::isfinite(o.rel_half_width))
    return Status::InvalidArgument("the relative half-width must be a positive number");
  if (!(o.step_w > 0) || !std::isfinite(o.step_w))
    return Status::InvalidArgument("--power-limit-step-w must be a positive number of watts");
  return Status::Ok();
}

Result<std::vector<double>> CandidateLimits(double min_w, double max_w, double step_w) {
  if (!(min_w > 0) || !(max_w >= min_w) || !std::isfinite(max_w))
    return Status::InvalidArgument("a power-limit range needs 0 < minimum <= maximum, got " +
                                   FormatDouble(min_w) + " to " + FormatDouble(max_w) + " W");
  if (!(step_w > 0) || !std::isfinite(step_w))
    return Status::InvalidArgument("--power-limit-step-w must be a positive number of watts");
  std::vector<double> out;
  // Integer steps from the top, so 350 - k*25 is exact and nothing drifts.
  for (int64_t k = 0;; ++k) {
    double w = max_w - static_cast<double>(k) * step_w;
    // Within a milliwatt of the minimum counts as the minimum.
    if (w <= min_w + 1e-3) break;
    out.push_back(w);
  }
  out.push_back(min_w);
  return out;
}

double StudentT95(int64_t dof) {
  static const double kTable[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                  2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                  2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (dof < 1) return std::nan("");
  if (dof <= 30) return kTable[dof - 1];
  // Cornish-Fisher expansion around the normal quantile (error < 1e-3 past 30).
  const double z = 1.959964, d = static_cast<double>(dof);
  return z + (z * z * z + z) / (4 * d) + (5 * std::pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * d * d);
}

Result<PowerLimitOptimizer> PowerLimitOptimizer::Create(OptimizerObjective objective,
                                                        std::vector<double> candidates_w, double p_max_w,
                                                        OptimizerOptions options) {
  WATTLAB_RETURN_IF_ERROR(ValidateOptimizerOptions(options));
  if (candidates_w.empty()) return Status::InvalidArgument("no candidate power limits");
  if (objective.kind == OptimizerObjective::Kind::kCost && !(p_max_w > 0))
    return Status::InvalidArgument("cost:ETA needs the maximum power (P_max) in watts");
  PowerLimitOptimizer o;
  o.objective_ = objective;
  o.options_ = options;
  o.p_max_w_ = p_max_w;
  for (double w : candidates_w) {
    CandidateResult c;
    c.limit_w = w;
    o.candidates_.push_back(c);
  }
  if (options.warmup_steps == 0) {
    o.phase_ = Phase::kProfiling;
    o.settle_left_ = 0;  // the first candidate's limit is in force from the start
  }
  return o;
}

double PowerLimitOptimizer::limit_w() const {
  if (phase_ == Phase::kDone) return chosen_ ? candidates_[*chosen_].limit_w : candidates_.front().limit_w;
  if (phase_ == Phase::kWarmup) return candidates_.front().limit_w;
  return candidates_[current_].limit_w;
}

const char* PowerLimitOptimizer::phase_name() const {
  switch (phase_) {
    case Phase::kWarmup:
      return "warmup";
    case Phase::kProfiling:
      return "profiling";
    case Phase::kDone:
      return "done";
  }
  return "?";
}

std::optional<double> PowerLimitOptimizer::chosen_limit_w() const {
  if (!chosen_) return std::nullopt;
  return candidates_[*chosen_].limit_w;
}

bool PowerLimitOptimizer::Observe(const StepMeasurement& m) {
  const double before = limit_w();
  switch (phase_) {
    case Phase::kDone:
      return false;
    case Phase::kWarmup:
      // The warm-up runs at the first candidate: no change when it ends, and
      // no settling needed before counting it.
      if (++warm_done_ >= options_.warmup_steps) phase_ = Phase::kProfiling;
      return false;
    case Phase::kProfiling:
      break;
  }
  CandidateResult& c = candidates_[current_];
  if (settle_left_ > 0) {
    --settle_left_;
    return false;
  }
  if (!std::isfinite(m.duration_s) || !std::isfinite(m.energy_j) || m.duration_s <= 0 || m.energy_j < 0) {
    ++c.dropped_steps;
  } else {
    times_s_.push_back(m.duration_s);
    energies_j_.push_back(m.energy_j);
  }
  const MeanHalfWidth t = Estimate(times_s_), e = Estimate(energies_j_);
  c.steps = static_cast<int64_t>(times_s_.size());
  c.mean_step_s = t.mean;
  c.step_s_half_width = t.half_width;
  c.mean_step_energy_j = e.mean;
  c.step_energy_half_width_j = e.half_width;
  const bool precise = Within(t, options_.rel_half_width) && Within(e, options_.rel_half_width);
  // A run of unusable measurements must end too: they count toward the maximum.
  const bool enough = c.steps >= options_.min_steps && precise;
  if (!enough && c.steps + c.dropped_steps < options_.max_steps) return false;
  c.converged = enough;
  FinishCandidate();
  return limit_w() != before;
}

void PowerLimitOptimizer::FinishCandidate() {
  CandidateResult& c = candidates_[current_];
  c.finished = true;
  const double e = c.mean_step_energy_j, t = c.mean_step_s;
  if (c.steps > 0) {
    switch (objective_.kind) {
      case OptimizerObjective::Kind::kEnergy:
        c.objective = e;
        break;
      case OptimizerObjective::Kind::kTime:
        c.objective = t;
        break;
      case OptimizerObjective::Kind::kEdp:
        c.objective = e * t;
        break;
      case OptimizerObjective::Kind::kCost:
        c.objective = objective_.eta * e + (1 - objective_.eta) * p_max_w_ * t;
        break;
      case OptimizerObjective::Kind::kSlowdown: {
        // T_ref: the first candidate's (the maximum limit's) time.
        const CandidateResult& ref = candidates_.front();
        c.eligible = ref.steps > 0 && t <= objective_.max_slowdown * ref.mean_step_s;
        if (c.eligible) c.objective = e;
        break;
      }
    }
  }
  times_s_.clear();
  energies_j_.clear();
  if (current_ + 1 < candidates_.size()) {
    ++current_;
    settle_left_ = options_.settle_steps;
    return;
  }
  Choose();
}

void PowerLimitOptimizer::Choose() {
  phase_ = Phase::kDone;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    const CandidateResult& c = candidates_[i];
    if (!c.objective) continue;
    // Ties go to the higher limit (the earlier candidate).
    if (!chosen_ || *c.objective < *candidates_[*chosen_].objective) chosen_ = i;
  }
}

}  // namespace wattlab::caps
