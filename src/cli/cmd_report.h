// The store side of `wattlab report`, shared with `wattlab study` (which
// writes a report when it finishes): reading a study's rows, contexts and
// timelines from a database and handing them to WriteReport.
#pragma once

#include <string>

#include "core/env.h"
#include "report/report.h"
#include "wattlab/status.h"

namespace wattlab::cli {

// Reads the database at db_path (read-only): options.study's rows, context
// and timelines, or every study's when options.study is empty. Then writes
// the report into out_dir through env, dated env->NowWallSeconds() unless
// options.generated_at_unix_s is already set. Errors: the store's messages
// for a missing or unreadable database, InvalidArgument for an unknown study
// (listing the studies there), WriteReport's errors.
Status WriteReportFromDatabase(Env* env, const std::string& db_path, const std::string& out_dir,
                               ReportOptions options);

}  // namespace wattlab::cli
