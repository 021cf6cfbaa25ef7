// The report builder: a pure function from (rows, studies, timelines,
// analysis result) to the report's files, so it is tested from fixtures
// without a database. WriteReport (report.cc) runs the analysis and hands the
// result here, then writes the files atomically (writer.cc).
//
// Every section is always present: one with no data says why (one run,
// estimated energy only, no accuracy, no batch sweep) instead of vanishing.
// Headline findings are the analysis' own (analysis::HeadlineFindings); each
// one that rests on an estimated energy figure says so.
//
// Thread-safety: BuildReport is pure; WriteFilesAtomically touches only the
// given directory and a temporary sibling of it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analysis/analysis.h"
#include "core/energy_basis.h"
#include "core/env.h"
#include "report/report.h"
#include "wattlab/record.h"
#include "wattlab/status.h"

namespace wattlab::report {

struct ReportInput {
  std::vector<RunRow> rows;
  std::vector<StudyInfo> studies;
  std::vector<RunTimeline> timelines;
  // How inference ran its convolutions, runs by kind (Store::ReadConvWeights);
  // empty: no inference run, or not read.
  std::map<std::string, int64_t> conv_weights;
  // Absent when the analysis could not run (no usable row); analysis_error
  // then says why, and every analysis section repeats it.
  std::optional<analysis::AnalysisResult> analysis;
  std::string analysis_error;
  // The basis of every per-sample figure (ChooseEnergyBasis), stated in the
  // banner and the context table.
  EnergyBasisChoice energy_basis;
  std::string generated_at;     // "2026-11-27 11:30 UTC"; injected so output is deterministic
  std::string wattlab_version;  // of the build writing the report
};

struct ReportFile {
  std::string name;  // relative to the report directory: "index.html"
  std::string content;
};

using Finding = analysis::Finding;

// The headline findings, most decision-relevant first: the analysis' findings,
// or one that says why there are none when the analysis did not run.
std::vector<Finding> HeadlineFindings(const ReportInput& input, const ReportOptions& options);

// index.html, summary.md and one CSV per plot (always the same plot CSVs, a
// header-only CSV when the plot has no data; one timeline CSV per drawn run).
std::vector<ReportFile> BuildReport(const ReportInput& input, const ReportOptions& options);

// Writes files through env into a fresh temporary sibling of out_dir, then
// renames it onto out_dir (replacing an existing report when overwrite is
// true, else FailedPrecondition; a directory that is not a report is never
// replaced). On any error the temporary directory is removed and an earlier
// report in out_dir stays whole. Errors name the path and what happened
// (disk full, a rename refused, a directory that vanished).
// REQUIRES: env != nullptr.
Status WriteFilesAtomically(const std::vector<ReportFile>& files, const std::string& out_dir, bool overwrite,
                            Env* env);

// "YYYY-MM-DD HH:MM UTC" for a Unix time; "—" when not finite or <= 0.
std::string FormatUtc(double unix_s);

}  // namespace wattlab::report
