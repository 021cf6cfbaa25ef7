// The power caps section: energy and time per sample against each swept cap
// (analysis/power_caps.h), the fitted quadratic through them, and the
// optimal caps with their savings. Shown only when a study swept a cap.
#include <algorithm>

#include "analysis/text.h"
#include "core/strings.h"
#include "report/sections.h"

namespace wattlab::report {

using analysis::Fixed;
using analysis::PhaseName;
using analysis::Sig;

namespace {

constexpr size_t kMaxCurvePlots = 8;  // the table lists every curve

std::string KnobTitle(const analysis::CapCurve& k) {
  if (k.knob == "gpu_power_limit_w") return "GPU power limit (W)";
  if (k.knob == "cpu_power_limit_w") return "CPU package power limit (W)";
  return "CPU maximum frequency (MHz)";
}

}  // namespace

Section PowerCapSection(const Context& c) {
  Section s;
  s.id = "power-caps";
  s.title = "Energy and time vs power cap";
  const analysis::PowerCaps& pc = c.a->power_caps;
  s.paragraphs.push_back(
      "Each curve holds everything but one knob (model, phase, batch size, threads, precision and the other "
      "knobs as read back). Markers are the measured means per cap; the dashed line is a least-squares "
      "quadratic in the cap. The ringed marker is the energy-optimal cap. Savings are against the highest "
      "cap measured, stated as energy saved for time added; the within-slowdown cap is the lowest-energy "
      "cap whose time stays within " +
      FormatDouble(pc.max_slowdown) + "x (--max-slowdown of report and analyze).");
  if (!pc.note.empty()) s.paragraphs.push_back(pc.note);
  s.estimated = pc.estimated;
  for (size_t i = 0; i < pc.curves.size() && i < kMaxCurvePlots; ++i) {
    const analysis::CapCurve& k = pc.curves[i];
    const std::string who = k.model + " " + PhaseName(k.phase) + ", batch " + std::to_string(k.batch_size);
    for (const std::string what : {"energy", "time"}) {
      PlotBlock b;
      b.csv_name = what + "_vs_" + k.knob + "_" + std::to_string(i + 1) + ".csv";
      b.csv.header = {"model", "phase", k.knob,
                      what == "energy" ? "energy_per_sample_j" : "time_per_sample_s",
                      what == "energy" ? "fitted_energy_per_sample_j" : "fitted_time_per_sample_s"};
      b.spec.id = what + "-cap-" + std::to_string(i + 1);
      b.spec.title =
          (what == "energy" ? "Energy" : "Time") + std::string(" per sample vs ") + KnobTitle(k) + ": " + who;
      b.spec.x = {KnobTitle(k), AxisScale::kLinear};
      b.spec.y = {what == "energy" ? "energy per sample (J)" : "time per sample (s)", AxisScale::kLinear};
      Series measured{"measured", SeriesKind::kScatter, {}, false, 0, 0};
      Series best{"energy-optimal cap", SeriesKind::kScatter, {}, false, 7, 0, true};
      for (const auto& p : k.points) {
        const double y = what == "energy" ? p.energy_per_sample_j : p.time_per_sample_s;
        measured.points.push_back({p.cap, y, ""});
        if (p.cap == k.energy_optimal_cap) best.points.push_back({p.cap, y, ""});
        const auto fitted = what == "energy" ? p.fitted_energy_per_sample_j : p.fitted_time_per_sample_s;
        b.csv.rows.push_back({k.model, k.phase, CsvNum(p.cap), CsvNum(y), CsvNum(fitted)});
      }
      const auto& fit = what == "energy" ? k.energy_fit : k.time_fit;
      b.spec.series.push_back(std::move(measured));
      if (fit && k.points.size() >= 2) {
        Series curve{"quadratic fit", SeriesKind::kDashed, {}, false, 1, 0};
        const double lo = k.points.front().cap, hi = k.points.back().cap;
        for (int j = 0; j <= 40; ++j) {
          const double x = lo + (hi - lo) * j / 40.0;
          curve.points.push_back({x, analysis::EvalQuadratic(*fit, x), ""});
        }
        b.spec.series.push_back(std::move(curve));
      }
      if (!best.points.empty()) b.spec.series.push_back(std::move(best));
      if (what == "energy")
        b.spec.notes.push_back("energy saved " + Fixed(k.energy_saved_pct, 1) + "% for " +
                               Fixed(k.time_added_pct, 1) + "% more time at " +
                               FormatDouble(k.energy_optimal_cap) + " " + k.unit);
      if (pc.estimated) b.spec.notes.push_back(EstimatedNote(true));
      b.has_data = true;
      s.plots.push_back(std::move(b));
    }
  }
  if (pc.curves.size() > kMaxCurvePlots)
    s.paragraphs.push_back("Plots for the first " + std::to_string(kMaxCurvePlots) + " of " +
                           std::to_string(pc.curves.size()) + " curves; the table lists them all.");
  Table t;
  t.header = {
      "model",          "phase",         "batch",           "knob",          "held",        "reference",
      "energy-optimal", "saved / added", "within slowdown", "saved / added", "EDP-optimal", "ED²P-optimal"};
  t.numeric = {false, false, true, false, false, true, true, false, true, false, true, true};
  for (const auto& k : pc.curves) {
    auto cap = [&](double v) { return FormatDouble(v) + " " + k.unit; };
    t.rows.push_back({k.model, k.phase, std::to_string(k.batch_size), k.knob, k.held.empty() ? "—" : k.held,
                      cap(k.reference_cap), cap(k.energy_optimal_cap),
                      Fixed(k.energy_saved_pct, 1) + "% / " + Fixed(k.time_added_pct, 1) + "%",
                      cap(k.within_slowdown_cap),
                      Fixed(k.within_energy_saved_pct, 1) + "% / " + Fixed(k.within_time_added_pct, 1) + "%",
                      cap(k.edp_optimal_cap), cap(k.ed2p_optimal_cap)});
  }
  s.tables.push_back(
      {"Optimal caps per model and phase (energy saved / time added against the reference)", t});
  return s;
}

}  // namespace wattlab::report
