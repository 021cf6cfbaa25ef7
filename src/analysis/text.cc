// Number and name text shared by the findings and the report.
#include "analysis/text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/strings.h"

namespace wattlab::analysis {
namespace {
const char* kAbsent = "—";
}  // namespace

std::string Sig(double v, int digits) {
  if (!std::isfinite(v)) return kAbsent;
  if (v == 0) return "0";
  char buf[48];
  const double a = std::fabs(v);
  if (a >= 1e-3 && a < 1e7) {
    // Fixed notation with `digits` significant digits, trailing zeros kept
    // out ("0.0123", "12.3", "12300").
    const int mag = static_cast<int>(std::floor(std::log10(a)));
    const int decimals = std::max(0, digits - 1 - mag);
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  } else {
    std::snprintf(buf, sizeof buf, "%.*e", std::max(0, digits - 1), v);
  }
  return buf;
}

std::string Sig(const std::optional<double>& v, int digits) { return v ? Sig(*v, digits) : kAbsent; }

std::string Fixed(double v, int digits) {
  if (!std::isfinite(v)) return kAbsent;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  std::string s(buf);
  if (s.rfind("-0", 0) == 0 && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string Fixed(const std::optional<double>& v, int digits) { return v ? Fixed(*v, digits) : kAbsent; }

std::string Percent(double fraction, int digits) {
  if (!std::isfinite(fraction)) return kAbsent;
  return Fixed(fraction * 100.0, digits) + "%";
}

std::string EnergyText(double joules) {
  if (!std::isfinite(joules)) return kAbsent;
  const double a = std::fabs(joules);
  std::string s;
  if (a < 1e3) {
    s = Sig(joules, 3) + " J";
  } else if (a < 1e6) {
    s = Sig(joules / 1e3, 3) + " kJ";
  } else {
    s = Sig(joules / 1e6, 3) + " MJ";
  }
  if (a >= 3.6e3 && a < 3.6e6) s += " (" + Sig(joules / 3.6e3, 3) + " Wh)";
  if (a >= 3.6e6) s += " (" + Sig(joules / 3.6e6, 3) + " kWh)";
  return s;
}

std::string CountText(double n) {
  if (!std::isfinite(n)) return kAbsent;
  const double a = std::fabs(n);
  char buf[48];
  if (a >= 1e12)
    std::snprintf(buf, sizeof buf, "%.3gT", n / 1e12);
  else if (a >= 1e9)
    std::snprintf(buf, sizeof buf, "%.3gG", n / 1e9);
  else if (a >= 1e6)
    std::snprintf(buf, sizeof buf, "%.3gM", n / 1e6);
  else if (a >= 1e3)
    std::snprintf(buf, sizeof buf, "%.3gk", n / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.3g", n);
  return buf;
}

std::string PhaseName(const std::string& phase) {
  if (phase == "train") return "training";
  if (phase == "infer") return "inference";
  if (phase == "eval") return "evaluation";
  return phase;
}

std::string FeatureName(const std::string& x) {
  if (x == "macs_per_param") return "MACs/param";
  if (x == "macs") return "MACs";
  if (x == "params") return "parameters";
  if (x == "batch_size") return "batch size";
  if (x == "threads") return "threads";
  if (x == "duration_s") return "duration";
  if (x == "cpu_util") return "CPU utilisation";
  return x;
}

std::string FeatureSetName(const std::string& set) {
  std::vector<std::string> parts = Split(set, '+');
  for (auto& p : parts) p = FeatureName(p);
  return Join(parts, " + ");
}

}  // namespace wattlab::analysis
