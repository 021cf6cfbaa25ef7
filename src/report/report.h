// wattlab report: turns a study database into a self-contained report that a
// team would rather look at than a table dump.
//
// WriteReport reads the database (read-only), runs the analysis over its rows
// and writes into out_dir:
//   index.html   the report: context block, headline findings, inline SVG
//                plots, tables; inline CSS, no scripts, nothing fetched.
//   summary.md   the same findings and tables for a terminal or a pull request.
//   <plot>.csv   the data behind each plot, one file per plot.
// The files are written into a temporary sibling directory that is renamed
// onto out_dir at the end, so a failed report never leaves a half-written one
// (an existing out_dir is replaced only once the new report is complete).
//
// Thread-safety: WriteReport touches only its own files; calls for different
// out_dirs may run concurrently.
#pragma once

#include <optional>
#include <string>

#include "wattlab/status.h"

namespace wattlab {

struct ReportOptions {
  // Study to report; empty means every study in the database.
  std::string study;
  // Title shown at the top of index.html and summary.md; empty: derived from
  // the study name(s).
  std::string title;
  // Carbon conversion: gCO2e = kWh x intensity x PUE (defaults: docs/conventions.md).
  double carbon_intensity_g_per_kwh = 475.0;
  double pue = 1.0;
  // Inferences per day assumed for the lifecycle (break-even) plot and table.
  double inferences_per_day = 1e6;
  // Replace an existing out_dir. When false, an existing non-empty out_dir is
  // an error (FailedPrecondition) and nothing is written.
  bool overwrite = true;
  // Most timelines drawn (one plot each); the rest are named in a note.
  int max_timelines = 3;
  // When the report says it was generated (Unix seconds); absent: the Env's
  // wall clock now. Tests pin it so output is byte-for-byte reproducible.
  std::optional<double> generated_at_unix_s;
};

// Reads the database at db_path and writes the report into out_dir (created;
// written to a temp dir then renamed). Errors: the store's messages for a
// missing or unreadable database, InvalidArgument for an unknown study,
// IOError when out_dir cannot be written.
Status WriteReport(const std::string& db_path, const std::string& out_dir,
                   const ReportOptions& options = {});

// Default --out for `wattlab report`: "<db name without .db>-report" beside
// the database ("runs/study.db" -> "runs/study-report").
std::string DefaultReportDir(const std::string& db_path);

}  // namespace wattlab
