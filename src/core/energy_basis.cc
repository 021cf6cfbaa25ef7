#include "core/energy_basis.h"

#include <cmath>
#include <cstdio>

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

EnergyBasis WindowEnergyBasis(double energy_j, std::optional<double> energy_above_idle_j, bool idle_busy) {
  if (!energy_above_idle_j || idle_busy) return EnergyBasis::kTotal;
  return ZeroRoundOff(energy_j, *energy_above_idle_j) > 0 ? EnergyBasis::kAboveIdle : EnergyBasis::kTotal;
}

std::optional<double> EnergyPerSample(double energy_j, std::optional<double> energy_above_idle_j,
                                      int64_t samples, EnergyBasis basis) {
  if (samples <= 0) return std::nullopt;
  if (basis == EnergyBasis::kAboveIdle) {
    if (!energy_above_idle_j) return std::nullopt;
    return *energy_above_idle_j / static_cast<double>(samples);
  }
  return energy_j / static_cast<double>(samples);
}

std::optional<EnergyBasisRequest> ParseEnergyBasisRequest(std::string_view text) {
  if (text == "auto") return EnergyBasisRequest::kAuto;
  if (text == "above-idle") return EnergyBasisRequest::kAboveIdle;
  if (text == "total") return EnergyBasisRequest::kTotal;
  return std::nullopt;
}

const std::vector<std::string>& EnergyBasisChoices() {
  static const std::vector<std::string> kChoices = {"auto", "above-idle", "total"};
  return kChoices;
}

EnergyBasisChoice ChooseEnergyBasis(EnergyBasisRequest request, const std::vector<RunRow>& rows) {
  EnergyBasisChoice c;
  if (request == EnergyBasisRequest::kAboveIdle) {
    c.basis = EnergyBasis::kAboveIdle;
    c.reason = "--energy above-idle";
    return c;
  }
  if (request == EnergyBasisRequest::kTotal) {
    c.basis = EnergyBasis::kTotal;
    c.reason = "--energy total";
    return c;
  }
  c.automatic = true;
  int64_t busy = 0, without = 0;
  for (const auto& r : rows) {
    if (r.idle_busy.value_or(false)) ++busy;
    if (!r.energy_above_idle_j) ++without;
  }
  if (busy > 0) {
    c.basis = EnergyBasis::kTotal;
    c.reason = "auto: total energy, because " + std::to_string(busy) + " of " + std::to_string(rows.size()) +
               " window(s) rest on an idle baseline measured while the machine was busy";
  } else if (without > 0) {
    c.basis = EnergyBasis::kTotal;
    c.reason = "auto: total energy, because " + std::to_string(without) + " of " +
               std::to_string(rows.size()) + " window(s) have no idle baseline";
  } else {
    c.basis = EnergyBasis::kAboveIdle;
    c.reason = "auto: energy above idle (every idle baseline was quiet)";
  }
  return c;
}

double ZeroRoundOff(double energy_j, double energy_above_idle_j) {
  if (std::fabs(energy_above_idle_j) <= kAboveIdleRoundOffFraction * std::fabs(energy_j)) return 0.0;
  return energy_above_idle_j;
}

ShownAboveIdle ShowAboveIdle(double energy_j, double energy_above_idle_j) {
  ShownAboveIdle s;
  const double v = ZeroRoundOff(energy_j, energy_above_idle_j);
  if (v >= 0 || !std::isfinite(v)) {
    s.value_j = std::isfinite(v) ? v : 0.0;
    return s;
  }
  s.below_idle_j = -v;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", -v);
  s.note = std::string("the window drew ") + buf +
           " J less than the idle baseline, shown as 0: the baseline was busier than the run";
  return s;
}

}  // namespace wattlab
