#include "core/energy_basis.h"

namespace wattlab {

const char* EnergyBasisName(EnergyBasis basis) {
  return basis == EnergyBasis::kAboveIdle ? "above-idle" : "total";
}

const char* EnergyBasisField(EnergyBasis basis) {
  return basis == EnergyBasis::kAboveIdle ? "energy_above_idle_j" : "energy_j";
}

EnergyBasis WindowEnergyBasis(std::optional<double> energy_above_idle_j) {
  return energy_above_idle_j ? EnergyBasis::kAboveIdle : EnergyBasis::kTotal;
}

std::optional<double> EnergyPerSample(double energy_j, std::optional<double> energy_above_idle_j, int64_t samples,
                                      EnergyBasis basis) {
  if (samples <= 0) return std::nullopt;
  if (basis == EnergyBasis::kAboveIdle) {
    if (!energy_above_idle_j) return std::nullopt;
    return *energy_above_idle_j / static_cast<double>(samples);
  }
  return energy_j / static_cast<double>(samples);
}

}  // namespace wattlab
