// Power caps and clocks against time and energy (issue 13, item 5): what a
// study that swept gpu_power_limits_w / _pct, cpu_power_limits_w or
// cpu_max_freqs_mhz found. Pure functions over RunRow (the caps in force are
// RunRow::gpu_power_limit_w, cpu_power_limit_w, cpu_max_freq_mhz).
//
// Method (docs/power-caps.md, "Analysis"):
//  - A curve is one knob against everything else held: rows of one model,
//    phase, window, batch size, threads and precision, with the same values
//    of the other two knobs, and at least two distinct values of this knob.
//    Repetitions at one cap are averaged.
//  - Per cap: energy per sample (the chosen basis), time per sample, EDP =
//    E x T and ED²P = E x T² per sample.
//  - The optimal caps (energy, EDP, ED²P, lowest energy within the slowdown)
//    are chosen among the measured caps, by their means: a cap is something
//    one sets, and the means are what was measured.
//  - The fitted curve is a least-squares quadratic in the cap, for energy and
//    for time (three or more caps), drawn through the points in the report.
//    Its minimum within the measured range is given as
//    fit_energy_optimal_cap, a hint for a cap between the measured ones.
//  - The reference is the highest cap measured (with gpu_power_limits_pct =
//    [100, ...] that is the default limit: the uncapped run). Savings are
//    stated as the reference study did: "energy saved N% for M% more time".
//
// Thread-safety: pure and reentrant.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/energy_basis.h"
#include "wattlab/record.h"

namespace wattlab::analysis {

inline constexpr double kDefaultMaxSlowdown = 1.1;  // analyze --max-slowdown

struct CapPoint {
  double cap = 0;  // W (power limits) or MHz (frequency)
  int64_t repetitions = 0;
  double energy_per_sample_j = 0, energy_per_sample_sd_j = 0;
  double time_per_sample_s = 0;
  double edp = 0, ed2p = 0;  // J·s and J·s² per sample
  double slowdown = 1;       // time / reference time
  double energy_ratio = 1;   // energy / reference energy
  std::optional<double> fitted_energy_per_sample_j, fitted_time_per_sample_s;
};

struct CapCurve {
  std::string knob;  // export column: gpu_power_limit_w, cpu_power_limit_w, cpu_max_freq_mhz
  std::string unit;  // "W" or "MHz"
  std::string model, phase, window, precision;
  int64_t batch_size = 0, threads = 0;
  std::string held;              // the other knobs as held, e.g. "cpu_power_limit_w=95"; "" when unread
  std::vector<CapPoint> points;  // by cap, ascending
  // Quadratic fits y = a + b·c + d·c² (c the cap), coefficients {a, b, d}.
  std::optional<std::array<double, 3>> energy_fit, time_fit;
  std::optional<double> fit_energy_optimal_cap;  // the fitted energy's minimum within the range
  double reference_cap = 0;                      // the highest cap
  double energy_optimal_cap = 0, edp_optimal_cap = 0, ed2p_optimal_cap = 0;
  double within_slowdown_cap = 0;  // lowest energy with slowdown <= max_slowdown
  // Against the reference: (1 - E/E_ref) x 100 and (T/T_ref - 1) x 100.
  double energy_saved_pct = 0, time_added_pct = 0;                // at energy_optimal_cap
  double within_energy_saved_pct = 0, within_time_added_pct = 0;  // at within_slowdown_cap
  std::string text;                                               // one sentence
};

struct PowerCaps {
  double max_slowdown = kDefaultMaxSlowdown;
  bool estimated = false;
  std::string note;  // why there are no curves; the estimate caveat
  std::vector<CapCurve> curves;
};

// REQUIRES: max_slowdown >= 1.
PowerCaps AnalyzePowerCaps(const std::vector<RunRow>& rows, EnergyBasis basis,
                           double max_slowdown = kDefaultMaxSlowdown);

// Value of a quadratic fit {a, b, d} at c.
double EvalQuadratic(const std::array<double, 3>& fit, double c);

}  // namespace wattlab::analysis
