#include "analysis/power_caps.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "analysis/stats.h"
#include "analysis/text.h"
#include "core/strings.h"

namespace wattlab::analysis {
namespace {

struct Knob {
  const char* column;
  const char* unit;
  const char* label;  // in sentences
  std::optional<double> RunRow::*field;
};

const Knob kKnobs[] = {
    {"gpu_power_limit_w", "W", "GPU power limit", &RunRow::gpu_power_limit_w},
    {"cpu_power_limit_w", "W", "CPU package power limit", &RunRow::cpu_power_limit_w},
    {"cpu_max_freq_mhz", "MHz", "CPU maximum frequency", &RunRow::cpu_max_freq_mhz},
};

// Read-back values may carry round-off (mW and kHz become W and MHz): caps
// within a milli-unit are one cap.
double Rounded(double v) { return std::round(v * 1000.0) / 1000.0; }

// Least-squares quadratic in the cap, fitted on the centred and scaled cap
// (for conditioning) and returned in the cap itself.
std::optional<std::array<double, 3>> FitQuadratic(const std::vector<double>& c,
                                                  const std::vector<double>& y) {
  if (c.size() < 3) return std::nullopt;
  const auto [lo, hi] = std::minmax_element(c.begin(), c.end());
  const double m = (*lo + *hi) / 2, s = (*hi - *lo) / 2;
  if (!(s > 0)) return std::nullopt;
  std::vector<std::vector<double>> x;
  for (double v : c) {
    const double u = (v - m) / s;
    x.push_back({u, u * u});
  }
  auto fit = LeastSquares(x, y);
  if (!fit || fit->beta.size() != 3) return std::nullopt;
  const double b0 = fit->beta[0], b1 = fit->beta[1], b2 = fit->beta[2];
  return std::array<double, 3>{b0 - b1 * m / s + b2 * m * m / (s * s), b1 / s - 2 * b2 * m / (s * s),
                               b2 / (s * s)};
}

std::string CapText(double cap, const std::string& unit) { return FormatDouble(cap) + " " + unit; }

}  // namespace

double EvalQuadratic(const std::array<double, 3>& f, double c) { return f[0] + f[1] * c + f[2] * c * c; }

PowerCaps AnalyzePowerCaps(const std::vector<RunRow>& rows, EnergyBasis basis, double max_slowdown) {
  PowerCaps out;
  out.max_slowdown = max_slowdown;
  for (const Knob& knob : kKnobs) {
    // key (configuration and the other knobs) -> cap -> (J/sample, s/sample) per repetition
    std::map<std::string, std::map<double, std::vector<std::pair<double, double>>>> groups;
    std::map<std::string, const RunRow*> first;
    std::map<std::string, std::string> held;
    std::map<std::string, bool> estimated;
    for (const RunRow& r : rows) {
      const std::optional<double>& cap = r.*knob.field;
      if (!cap || r.samples <= 0 || !(r.duration_s > 0)) continue;
      const auto e = EnergyPerSample(r.energy_j, r.energy_above_idle_j, r.samples, basis);
      if (!e || !std::isfinite(*e) || *e <= 0) continue;
      std::string others;
      for (const Knob& o : kKnobs) {
        if (&o == &knob || !(r.*o.field)) continue;
        others +=
            std::string(others.empty() ? "" : ", ") + o.column + "=" + FormatDouble(Rounded(*(r.*o.field)));
      }
      const std::string key = r.study + "|" + r.model + "|" + r.phase + "|" + r.window + "|" +
                              std::to_string(r.batch_size) + "|" + std::to_string(r.threads) + "|" +
                              r.precision + "|" + others;
      groups[key][Rounded(*cap)].emplace_back(*e, r.duration_s / (double)r.samples);
      first.emplace(key, &r);
      held[key] = others;
      estimated[key] = estimated[key] || r.estimated;
    }
    for (const auto& [key, by_cap] : groups) {
      if (by_cap.size() < 2) continue;  // nothing swept on this knob here
      const RunRow& f = *first[key];
      CapCurve c;
      c.knob = knob.column;
      c.unit = knob.unit;
      c.model = f.model;
      c.phase = f.phase;
      c.window = f.window;
      c.precision = f.precision;
      c.batch_size = f.batch_size;
      c.threads = f.threads;
      c.held = held[key];
      out.estimated = out.estimated || estimated[key];
      for (const auto& [cap, reps] : by_cap) {
        CapPoint p;
        p.cap = cap;
        p.repetitions = (int64_t)reps.size();
        double se = 0, st = 0;
        for (const auto& [e, t] : reps) se += e, st += t;
        p.energy_per_sample_j = se / (double)reps.size();
        p.time_per_sample_s = st / (double)reps.size();
        if (reps.size() > 1) {
          double ss = 0;
          for (const auto& rep : reps)
            ss += (rep.first - p.energy_per_sample_j) * (rep.first - p.energy_per_sample_j);
          p.energy_per_sample_sd_j = std::sqrt(ss / (double)(reps.size() - 1));
        }
        p.edp = p.energy_per_sample_j * p.time_per_sample_s;
        p.ed2p = p.edp * p.time_per_sample_s;
        c.points.push_back(p);
      }
      const CapPoint& ref = c.points.back();  // the highest cap
      c.reference_cap = ref.cap;
      std::vector<double> caps, es, ts;
      for (CapPoint& p : c.points) {
        p.slowdown = p.time_per_sample_s / ref.time_per_sample_s;
        p.energy_ratio = p.energy_per_sample_j / ref.energy_per_sample_j;
        caps.push_back(p.cap);
        es.push_back(p.energy_per_sample_j);
        ts.push_back(p.time_per_sample_s);
      }
      c.energy_fit = FitQuadratic(caps, es);
      c.time_fit = FitQuadratic(caps, ts);
      if (c.energy_fit) {
        for (CapPoint& p : c.points) p.fitted_energy_per_sample_j = EvalQuadratic(*c.energy_fit, p.cap);
        const double d = (*c.energy_fit)[2], b = (*c.energy_fit)[1];
        double best = caps.front();
        if (d > 0)
          best = std::clamp(-b / (2 * d), caps.front(), caps.back());
        else if (EvalQuadratic(*c.energy_fit, caps.back()) < EvalQuadratic(*c.energy_fit, caps.front()))
          best = caps.back();
        c.fit_energy_optimal_cap = best;
      }
      if (c.time_fit)
        for (CapPoint& p : c.points) p.fitted_time_per_sample_s = EvalQuadratic(*c.time_fit, p.cap);
      // Ties go to the higher cap (less slowdown for the same figure).
      auto argmin = [&](auto metric) {
        const CapPoint* best = &c.points.back();
        // A hair of round-off (durations from clock differences) is no win.
        for (auto it = c.points.rbegin(); it != c.points.rend(); ++it)
          if (metric(*it) < metric(*best) * (1 - 1e-9)) best = &*it;
        return best;
      };
      const CapPoint* e_opt = argmin([](const CapPoint& p) { return p.energy_per_sample_j; });
      c.energy_optimal_cap = e_opt->cap;
      c.edp_optimal_cap = argmin([](const CapPoint& p) { return p.edp; })->cap;
      c.ed2p_optimal_cap = argmin([](const CapPoint& p) { return p.ed2p; })->cap;
      const CapPoint* within = argmin([&](const CapPoint& p) {
        return p.slowdown <= max_slowdown * (1 + 1e-12) ? p.energy_per_sample_j
                                                        : std::numeric_limits<double>::infinity();
      });
      c.within_slowdown_cap = within->cap;
      c.energy_saved_pct = (1 - e_opt->energy_ratio) * 100;
      c.time_added_pct = (e_opt->slowdown - 1) * 100;
      c.within_energy_saved_pct = (1 - within->energy_ratio) * 100;
      c.within_time_added_pct = (within->slowdown - 1) * 100;
      const std::string who = c.model + " " + PhaseName(c.phase) + " (batch " + std::to_string(c.batch_size) +
                              (c.held.empty() ? "" : ", " + c.held) + ")";
      c.text = who + ": energy-optimal " + knob.label + " " + CapText(c.energy_optimal_cap, c.unit) +
               ", energy saved " + Fixed(c.energy_saved_pct, 1) + "% for " + Fixed(c.time_added_pct, 1) +
               "% more time than at " + CapText(c.reference_cap, c.unit) + "; within " +
               FormatDouble(max_slowdown) + "x time: " + CapText(c.within_slowdown_cap, c.unit) +
               ", energy saved " + Fixed(c.within_energy_saved_pct, 1) + "% for " +
               Fixed(c.within_time_added_pct, 1) + "% more time; EDP-optimal " +
               CapText(c.edp_optimal_cap, c.unit) + ", ED²P-optimal " + CapText(c.ed2p_optimal_cap, c.unit) +
               ".";
      out.curves.push_back(std::move(c));
    }
  }
  if (out.curves.empty())
    out.note =
        "no power cap or clock was swept (a curve needs two or more values of gpu_power_limit_w, "
        "cpu_power_limit_w or cpu_max_freq_mhz with everything else held)";
  else if (out.estimated)
    out.note =
        "energy is ESTIMATED (a model of CPU time, not a measurement): a cap does not change the estimate's "
        "power model, so these curves say little";
  return out;
}

}  // namespace wattlab::analysis
