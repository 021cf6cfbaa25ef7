// wattlab report: writes the self-contained HTML report (inline SVG plots),
// summary.md and one CSV per plot for the runs in a database. Parsing only;
// the report is src/report/.
#include <cmath>
#include <cstdio>

#include "cli/cmd_report.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "core/strings.h"
#include "platform/real_env.h"
#include "report/report.h"
#include "store/store.h"

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

Status WriteReportFromDatabase(Env* env, const std::string& db_path, const std::string& out_dir,
                               ReportOptions options) {
  WATTLAB_ASSIGN_OR_RETURN(auto store, Store::Open(db_path, OpenMode::kReadOnly));
  ReportData data;
  WATTLAB_ASSIGN_OR_RETURN(std::vector<StudyInfo> studies, store->ReadStudies());
  if (!options.study.empty()) {
    std::vector<std::string> names;
    for (auto& st : studies) {
      names.push_back(st.name);
      if (st.name == options.study) data.studies.push_back(st);
    }
    if (data.studies.empty()) {
      return Status::InvalidArgument("no study '" + options.study + "' in " + db_path + " (studies: " +
                                     (names.empty() ? std::string("none") : Join(names, ", ")) + ")");
    }
  } else {
    data.studies = std::move(studies);
  }
  WATTLAB_ASSIGN_OR_RETURN(data.rows, store->ReadRows(options.study));
  WATTLAB_ASSIGN_OR_RETURN(data.timelines, store->ReadTimelines(options.study));
  if (options.generated_at_unix_s <= 0) options.generated_at_unix_s = env->NowWallSeconds();
  return WriteReport(data, options, out_dir, env);
}

int CmdReport(const Args& args) {
  std::string db, out, study, intensity, pue, per_day, per_day_alias, title;
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
  p.AddOption("requests-per-day", &per_day, "N",
              "inference traffic assumed by the lifecycle section (default 1000000; same flag as analyze)");
  p.AddOption("inferences-per-day", &per_day_alias, "N", "alias of --requests-per-day");
  int exit_code = kExitOk;
  if (!ParseOrExit(p, args, &exit_code)) return exit_code;

  ReportOptions opt;
  opt.study = study;
  opt.title = title;
  if (!per_day.empty() && !per_day_alias.empty())
    return ReportError("report", Status::InvalidArgument(
                                     "give --requests-per-day or its alias --inferences-per-day, not both"));
  Status st = ParsePositive("intensity", intensity, 0, &opt.carbon_intensity_g_per_kwh);
  if (st.ok()) st = ParsePositive("pue", pue, 1, &opt.pue);
  if (st.ok()) st = ParsePositive("requests-per-day", per_day, 0, &opt.inferences_per_day);
  if (st.ok()) st = ParsePositive("inferences-per-day", per_day_alias, 0, &opt.inferences_per_day);
  if (!st.ok()) return ReportError("report", st);

  const std::string db_path = db.empty() ? kDefaultDb : db;
  const std::string out_dir = out.empty() ? DefaultReportDir(db_path) : out;
  auto env = NewRealEnv();
  st = WriteReportFromDatabase(env.get(), db_path, out_dir, opt);
  if (!st.ok()) return ReportError("report", st);
  int csvs = 0;
  if (auto names = env->ListDir(out_dir); names.ok())
    for (const auto& n : *names)
      if (EndsWith(n, ".csv")) ++csvs;
  std::printf("wrote %s/index.html, summary.md and %d plot CSVs\n", out_dir.c_str(), csvs);
  return kExitOk;
}

}  // namespace wattlab::cli
