// Energy per sample and the figure it divides: the one place that says how a
// window's energy becomes "J per sample".
//
// Two bases (docs/measurement.md): `energy_above_idle_j` (the window's energy
// minus mean idle power x duration, the reference study's E_tr and E_in) and
// `energy_j` (everything the meter integrated). The rule for one window on
// its own (measure, train, infer): above idle when the window has that figure
// (an idle baseline was in force), else total. The rule for a whole input
// (study summary, analyze, predict, report, place: --energy auto|above-idle|
// total) is ChooseEnergyBasis, chosen ONCE for all the input's windows so that
// every line of a result rests on the same basis, and printed with it.
//
// "Busy" baselines: an idle baseline measured while something else kept the
// machine busy (meter/busy.h has the one definition) is about as high as the
// runs, so above-idle figures are noise or negative; auto then uses total.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wattlab/record.h"

namespace wattlab {

enum class EnergyBasis { kAboveIdle, kTotal };  // --energy above-idle | total

// "above-idle" | "total": the flag's spelling.
const char* EnergyBasisName(EnergyBasis basis);
// "energy_above_idle_j" | "energy_j": the field divided, as JSON names it
// (energy_per_sample_basis).
const char* EnergyBasisField(EnergyBasis basis);

// One window on its own: above idle when it has an above-idle figure, else total.
EnergyBasis WindowEnergyBasis(std::optional<double> energy_above_idle_j);
// One window as measure/train/infer print it: above idle only when the
// window has a positive above-idle figure (after round-off) on a baseline
// that was not busy; else total (and the output says why).
EnergyBasis WindowEnergyBasis(double energy_j, std::optional<double> energy_above_idle_j, bool idle_busy);

// The basis's energy divided by samples; nullopt when samples <= 0 or the
// basis is kAboveIdle and the window has no above-idle figure.
std::optional<double> EnergyPerSample(double energy_j, std::optional<double> energy_above_idle_j,
                                      int64_t samples, EnergyBasis basis);

// ---- one basis for a whole input (--energy auto|above-idle|total)

enum class EnergyBasisRequest { kAuto, kAboveIdle, kTotal };

// "auto" | "above-idle" | "total" -> the request; nullopt for anything else.
std::optional<EnergyBasisRequest> ParseEnergyBasisRequest(std::string_view text);
// The flag's choices, in --help order: {"auto", "above-idle", "total"}.
const std::vector<std::string>& EnergyBasisChoices();

struct EnergyBasisChoice {
  EnergyBasis basis = EnergyBasis::kAboveIdle;
  bool automatic = false;  // chosen by auto (else asked for)
  std::string reason;      // one sentence: why this basis ("--energy total", "auto: ...")
};

// The one rule. auto = above-idle, unless any window of the input rests on an
// idle baseline flagged busy (RunRow::idle_busy) or any window has no
// above-idle figure (no baseline was measured): then total, for every window.
// An explicit request is taken as given. Carbon is not affected: it always
// converts total energy.
EnergyBasisChoice ChooseEnergyBasis(EnergyBasisRequest request, const std::vector<RunRow>& rows);

// ---- showing an above-idle figure

// An above-idle figure within this fraction of energy_j of zero is round-off
// (two nearly equal products subtracted) and is shown as 0.
inline constexpr double kAboveIdleRoundOffFraction = 1e-9;

struct ShownAboveIdle {
  double value_j = 0;       // what to print: never negative
  double below_idle_j = 0;  // > 0 when the window drew less than the baseline (value_j is then 0)
  std::string note;         // why value_j was clamped; "" when not
};

// The figure as printed: round-off becomes 0; a negative figure becomes 0
// with below_idle_j and a note saying why ("the window drew X J less than
// the idle baseline: the baseline was busier than the run").
ShownAboveIdle ShowAboveIdle(double energy_j, double energy_above_idle_j);
// Round-off only (|v| <= 1e-9 x |energy_j| -> 0); the sign is kept. For data
// exports (`runs --csv`), which keep what was measured.
double ZeroRoundOff(double energy_j, double energy_above_idle_j);

}  // namespace wattlab
