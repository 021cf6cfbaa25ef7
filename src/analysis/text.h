// Text for numbers and names in findings and reports: the analysis states its
// headline findings as sentences (so `wattlab analyze --json` and the report
// say the same thing), and the report formats its tables with the same
// helpers, so a figure reads the same wherever it appears.
//
// Thread-safety: pure functions over values.
#pragma once

#include <optional>
#include <string>

namespace wattlab::analysis {

// Number text. Never "nan"/"inf": a non-finite or absent value prints as "—".
std::string Sig(double v, int digits = 3);  // "0.0123", "1.23e-05", "12300"
std::string Sig(const std::optional<double>& v, int digits = 3);
std::string Fixed(double v, int digits);  // "12.35"
std::string Fixed(const std::optional<double>& v, int digits);
std::string Percent(double fraction, int digits = 1);  // 0.1234 -> "12.3%"
// Human energy: "850 J", "12.4 kJ", "3.1 MJ"; with Wh/kWh alongside when large.
std::string EnergyText(double joules);
// "1.2k", "3.4M", "2.0G" for counts (MACs, parameters, inferences).
std::string CountText(double n);

// "training", "inference", "evaluation" for train, infer, eval.
std::string PhaseName(const std::string& phase);
// "MACs/param", "parameters", ... for an export column.
std::string FeatureName(const std::string& column);
// "MACs + MACs/param" for a feature set name "macs+macs_per_param".
std::string FeatureSetName(const std::string& set);

}  // namespace wattlab::analysis
