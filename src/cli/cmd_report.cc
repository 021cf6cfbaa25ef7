// wattlab report: writes the self-contained HTML report (inline SVG plots),
// summary.md and one CSV per plot for the runs in a database. Parsing only;
// the report is src/report/.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/strings.h"
#include "report/report.h"

namespace wattlab::cli {

namespace {

constexpr const char* kDefaultDb = "wattlab.db";

Status ParsePositive(const std::string& flag, const std::string& text, double min, double* out) {
  if (text.empty()) return Status::Ok();
  auto v = ParseNumber(text);
  if (!v || !std::isfinite(*v) || *v < min) {
    return Status::InvalidArgument("invalid --" + flag + " '" + text + "': give a number of at least " +
                                   FormatDouble(min));
  }
  *out = *v;
  return Status::Ok();
}

}  // namespace

int CmdReport(const Args& args) {
  std::string db, out, study, intensity, pue, per_day, title;
  ArgParser p("report",
              "Write a self-contained report (index.html with SVG plots, summary.md, one CSV per plot) for the "
              "runs in a database. Opening it fetches nothing.");
  p.AddOption("db", &db, "FILE", std::string("study database (default ") + kDefaultDb + ")");
  p.AddOption("out", &out, "DIR",
              "output directory (default: <database name without .db>-report beside the database); an earlier "
              "report there is replaced, any other non-empty directory is refused");
  p.AddOption("study", &study, "NAME", "report one study (default: every study in the database)");
  p.AddOption("title", &title, "TEXT", "report title (default: from the study names)");
  p.AddOption("intensity", &intensity, "G_PER_KWH", "grid carbon intensity for gCO2e (default 475, world average)");
  p.AddOption("pue", &pue, "X", "power usage effectiveness for gCO2e (default 1.0; data centres ~1.58)");
  p.AddOption("inferences-per-day", &per_day, "N",
              "inference traffic assumed by the lifecycle section (default 1000000)");
  int exit_code = kExitOk;
  if (!ParseOrExit(p, args, &exit_code)) return exit_code;

  ReportOptions opt;
  opt.study = study;
  opt.title = title;
  Status st = ParsePositive("intensity", intensity, 0, &opt.carbon_intensity_g_per_kwh);
  if (st.ok()) st = ParsePositive("pue", pue, 1, &opt.pue);
  if (st.ok()) st = ParsePositive("inferences-per-day", per_day, 0, &opt.inferences_per_day);
  if (!st.ok()) return ReportError("report", st);

  const std::string db_path = db.empty() ? kDefaultDb : db;
  const std::string out_dir = out.empty() ? DefaultReportDir(db_path) : out;
  st = WriteReport(db_path, out_dir, opt);
  if (!st.ok()) return ReportError("report", st);
  std::error_code ec;
  int csvs = 0;
  for (const auto& e : std::filesystem::directory_iterator(out_dir, ec))
    if (e.path().extension() == ".csv") ++csvs;
  std::printf("wrote %s/index.html, summary.md and %d plot CSVs\n", out_dir.c_str(), csvs);
  return kExitOk;
}

}  // namespace wattlab::cli
