// wattlab report: turns the runs of a study into a self-contained report that
// a team would rather look at than a table dump.
//
// WriteReport takes what the CLI read from the store (rows, study contexts,
// timelines), runs the analysis over the rows and writes into out_dir:
//   index.html   the report: context block, headline findings, inline SVG
//                plots, tables; inline CSS, no scripts, nothing fetched.
//   summary.md   the same findings and tables for a terminal or a pull request.
//   <plot>.csv   the data behind each plot, one file per plot.
// It opens no database and reads no clock: the caller chooses the paths and
// the date. Every file operation goes through the Env. The files are written
// into a temporary sibling directory that is renamed onto out_dir at the end,
// so a failed report never leaves a half-written one (an existing out_dir is
// replaced only once the new report is complete).
//
// Thread-safety: WriteReport touches only its own files; calls for different
// out_dirs may run concurrently when the Env is thread-safe (the real one is).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "analysis/opmodel.h"
#include "core/energy_basis.h"
#include "core/env.h"
#include "wattlab/record.h"
#include "wattlab/status.h"

namespace wattlab {

struct ReportOptions {
  // Study reported; empty means every study in the data. Used for the title
  // and messages: the caller has already selected the study's rows.
  std::string study;
  // Title shown at the top of index.html and summary.md; empty: derived from
  // the study name(s).
  std::string title;
  // Carbon conversion: gCO2e = kWh x intensity x PUE (defaults: docs/conventions.md).
  double carbon_intensity_g_per_kwh = 475.0;
  double pue = 1.0;
  // Inferences (requests) per day assumed for the lifecycle (break-even) plot,
  // table and finding: `--requests-per-day` (alias `--inferences-per-day`).
  double inferences_per_day = 1e6;
  // The power-cap section's "cheapest cap within X times the uncapped time"
  // (`--max-slowdown`, as analyze's; >= 1).
  double max_slowdown = 1.1;  // analysis::kDefaultMaxSlowdown
  // Basis of every per-sample figure (--energy auto|above-idle|total), chosen
  // once for all the rows by ChooseEnergyBasis. Carbon always uses total energy.
  EnergyBasisRequest energy = EnergyBasisRequest::kAuto;
  // Replace an existing out_dir. When false, an existing non-empty out_dir is
  // an error (FailedPrecondition) and nothing is written.
  bool overwrite = true;
  // Most timelines drawn (one plot each); the rest are named in a note.
  int max_timelines = 3;
  // When the report says it was generated (Unix seconds). The CLI fills it
  // from Env::NowWallSeconds(); tests pin it so output is byte-for-byte
  // reproducible. 0 prints "—".
  double generated_at_unix_s = 0;
  // The estimate's stated error (meter's EstimateErrorBandLine: "the estimate
  // has erred by about ±X% against RAPL on N measured CPUs"), printed beside
  // every "estimated" banner. The CLI fills it; the report room cannot read
  // the meter. Empty: no band line.
  std::string estimate_error_band;
};

// What a report is made of, as read from the store by the caller.
struct ReportData {
  std::vector<RunRow> rows;
  std::vector<StudyInfo> studies;
  std::vector<RunTimeline> timelines;
  // The operator-level model's inputs (analysis::AnalysisOptions::op_model).
  std::optional<OpModelInput> op_model;
  std::string op_model_note;
  // Store::ReadConvWeights: how inference ran its convolutions, runs by kind.
  std::map<std::string, int64_t> conv_weights;
};

// Analyses data.rows and writes the report into out_dir (written to a temp
// dir beside it, then renamed). Errors: InvalidArgument for bad options
// (e.g. a PUE below 1), FailedPrecondition when out_dir exists and is not an
// earlier report (or overwrite is false), IOError / NotFound /
// PermissionDenied naming the path when the report cannot be written.
// REQUIRES: env != nullptr.
Status WriteReport(const ReportData& data, const ReportOptions& options, const std::string& out_dir,
                   Env* env);

// Default --out for `wattlab report` and `wattlab study`: "<db name without
// .db>-report" beside the database ("runs/study.db" -> "runs/study-report").
std::string DefaultReportDir(const std::string& db_path);

}  // namespace wattlab
