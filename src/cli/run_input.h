// Where analyze and predict get their runs: a wattlab database (--db, default
// wattlab.db) or a `wattlab runs --csv` file (--csv FILE, '-' for stdin),
// optionally only one study (--study NAME). One rule for both commands.
#pragma once

#include <string>
#include <vector>

#include "core/env.h"
#include "wattlab/record.h"
#include "wattlab/status.h"

namespace wattlab::cli {

// The CSV file is read through env. Errors: both sources given
// (InvalidArgument), missing files (NotFound), an unknown study
// (InvalidArgument listing the studies there).
Result<std::vector<RunRow>> LoadRunRows(Env* env, const std::string& db, const std::string& csv,
                                        const std::string& study);

}  // namespace wattlab::cli
