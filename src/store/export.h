// Export of run rows as CSV or JSON with exactly the columns of
// RunRowColumns() (include/wattlab/record.h), in that order: booleans
// true/false, a missing value an empty CSV field or JSON null, `source` as
// stored (sources joined by '+'). Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "wattlab/record.h"

namespace wattlab {

// One field per column of RunRowColumns(), as CSV text ("" when missing).
std::vector<std::string> RunRowFields(const RunRow& row);
// Header line plus one line per row, '\n' line ends.
std::string RunRowsToCsv(const std::vector<RunRow>& rows);
// A JSON array of objects keyed by the column names, pretty-printed.
std::string RunRowsToJson(const std::vector<RunRow>& rows);

}  // namespace wattlab
