// Helpers shared by the analysis sources; not part of the module's API.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analysis/analysis.h"

namespace wattlab::analysis {

// Phases present in configs, in train, eval, infer order; only phase_filter when set.
std::vector<std::string> PhasesOf(const std::vector<ConfigPoint>& configs, const std::string& phase_filter);
// The value of an export column for a configuration; nullopt when absent.
std::optional<double> ColumnValue(const ConfigPoint& c, const std::string& column);

}  // namespace wattlab::analysis
