// Energy per sample and the figure it divides: the one place that says how a
// window's energy becomes "J per sample".
//
// Two bases (docs/measurement.md): `energy_above_idle_j` (the window's energy
// minus mean idle power x duration, the reference study's E_tr and E_in) and
// `energy_j` (everything the meter integrated). Today's rule for one window:
// above idle when the window has that figure (an idle baseline was in force),
// else total. A rule chosen once for a whole input (--energy auto|above-idle|
// total) builds on these functions.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>

namespace wattlab {

enum class EnergyBasis { kAboveIdle, kTotal };  // --energy above-idle | total

// "above-idle" | "total": the flag's spelling.
const char* EnergyBasisName(EnergyBasis basis);
// "energy_above_idle_j" | "energy_j": the field divided, as JSON names it
// (energy_per_sample_basis).
const char* EnergyBasisField(EnergyBasis basis);

// One window on its own: above idle when it has an above-idle figure, else total.
EnergyBasis WindowEnergyBasis(std::optional<double> energy_above_idle_j);

// The basis's energy divided by samples; nullopt when samples <= 0 or the
// basis is kAboveIdle and the window has no above-idle figure.
std::optional<double> EnergyPerSample(double energy_j, std::optional<double> energy_above_idle_j, int64_t samples,
                                      EnergyBasis basis);

}  // namespace wattlab
