// WriteReport: the analysis glued to the pure builder and the atomic writer.
// No store, no clock: the CLI reads the database and passes the date.
#include "report/report.h"

#include "analysis/analysis.h"
#include "core/strings.h"
#include "report/builder.h"

#ifndef WATTLAB_VERSION
#define WATTLAB_VERSION "unknown"
#endif
#ifndef WATTLAB_GIT_REV
#define WATTLAB_GIT_REV "unknown"
#endif

namespace wattlab {

std::string DefaultReportDir(const std::string& db_path) {
  const size_t slash = db_path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : db_path.substr(0, slash + 1);
  std::string stem = slash == std::string::npos ? db_path : db_path.substr(slash + 1);
  if (EndsWith(stem, ".db")) stem.resize(stem.size() - 3);
  if (stem.empty()) stem = "wattlab";
  return dir + stem + "-report";
}

Status WriteReport(const ReportData& data, const ReportOptions& options, const std::string& out_dir,
                   Env* env) {
  report::ReportInput in;
  in.rows = data.rows;
  in.studies = data.studies;
  in.timelines = data.timelines;
  in.conv_weights = data.conv_weights;

  analysis::AnalysisOptions aopt;
  aopt.intensity_g_per_kwh = options.carbon_intensity_g_per_kwh;
  aopt.pue = options.pue;
  aopt.max_slowdown = options.max_slowdown;
  const EnergyBasisChoice basis = ChooseEnergyBasis(options.energy, in.rows);
  aopt.energy = basis.basis;
  aopt.energy_reason = basis.reason;
  in.energy_basis = basis;
  aopt.op_model = data.op_model;
  aopt.op_model_note = data.op_model_note;
  if (options.inferences_per_day > 0) {
    aopt.requests_per_day = options.inferences_per_day;
    aopt.days = 365;
  }
  if (in.rows.empty()) {
    in.analysis_error = "the database holds no measured windows" +
                        (options.study.empty() ? std::string() : " for study '" + options.study + "'");
  } else {
    auto result = analysis::Analyze(in.rows, aopt);
    if (result.ok()) {
      in.analysis = std::move(result).value();
    } else if (result.status().kind() == Status::Kind::kInvalidArgument) {
      return result.status().WithContext("report options");
    } else {
      in.analysis_error = result.status().message();
    }
  }
  in.generated_at = report::FormatUtc(options.generated_at_unix_s);
  in.wattlab_version = std::string(WATTLAB_VERSION) + " (git " + WATTLAB_GIT_REV + ")";
  return report::WriteFilesAtomically(report::BuildReport(in, options), out_dir, options.overwrite, env);
}

}  // namespace wattlab
