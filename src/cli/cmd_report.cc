// wattlab report: writes the self-contained HTML report (inline SVG plots),
// summary.md and one CSV per plot for the runs in a database. Parsing only;
// the report is src/report/.
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/strings.h"
#include "report/report.h"

namespace wattlab::cli {

namespace {

struct Report {
  std::string db, out;
  ReportOptions opt;
  int Run();
};

}  // namespace

CommandFn AddReport(CLI::App* root) {
  auto c = std::make_shared<Report>();
  ReportOptions& opt = c->opt;
  CLI::App* p = AddCommand(root, "report",
                           "Write a self-contained report (index.html with SVG plots, summary.md, one CSV per plot) "
                           "for the runs in a database. Opening it fetches nothing.");
  AddString(p, "--db", &c->db, "FILE", std::string("study database (default ") + kDefaultDb + ")");
  AddString(p, "--out", &c->out, "DIR",
            "output directory (default: <database name without .db>-report beside the database); an earlier "
            "report there is replaced, any other non-empty directory is refused");
  AddString(p, "--study", &opt.study, "NAME", "report one study (default: every study in the database)");
  AddString(p, "--title", &opt.title, "TEXT", "report title (default: from the study names)");
  AddNumber(p, "--intensity", &opt.carbon_intensity_g_per_kwh, Range::AtLeast(0), "G_PER_KWH",
            "grid carbon intensity for gCO2e (default 475, world average)");
  AddNumber(p, "--pue", &opt.pue, Range::AtLeast(1), "X",
            "power usage effectiveness for gCO2e (default 1.0; data centres ~1.58)");
  AddNumber(p, "--inferences-per-day", &opt.inferences_per_day, Range::AtLeast(0), "N",
            "inference traffic assumed by the lifecycle section (default 1000000)");
  return [c](const Invocation&) { return c->Run(); };
}

int Report::Run() {
  const std::string db_path = db.empty() ? kDefaultDb : db;
  const std::string out_dir = out.empty() ? DefaultReportDir(db_path) : out;
  Status st = WriteReport(db_path, out_dir, opt);
  if (!st.ok()) return ReportError("report", st);
  int csvs = 0;
  if (auto names = OpenDefaultEnv()->ListDir(out_dir); names.ok())
    for (const auto& n : *names)
      if (EndsWith(n, ".csv")) ++csvs;
  std::printf("wrote %s/index.html, summary.md and %d plot CSVs\n", out_dir.c_str(), csvs);
  return kExitOk;
}

}  // namespace wattlab::cli
