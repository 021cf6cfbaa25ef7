// wattlab report: writes the self-contained HTML report (inline SVG plots),
// summary.md and one CSV per plot for the runs in a database. Parsing only;
// the report is src/report/.
#include "cli/cmd_report.h"

#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/opmodel_cli.h"
#include "cli/workload_cli.h"
#include "core/strings.h"
#include "meter/estimate.h"
#include "report/report.h"
#include "store/store.h"

namespace wattlab::cli {

namespace {

struct Report {
  std::string db, out, energy = "auto";
  ReportOptions opt;
  const CLI::Option* per_day = nullptr;
  const CLI::Option* per_day_alias = nullptr;
  int Run();
};

}  // namespace

Status WriteReportFromDatabase(Env* env, const std::string& db_path, const std::string& out_dir,
                               ReportOptions options) {
  WATTLAB_ASSIGN_OR_RETURN(auto store, Store::Open(env, db_path, OpenMode::kReadOnly));
  if (!store->notice().empty()) std::fprintf(stderr, "wattlab report: note: %s\n", store->notice().c_str());
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
  WATTLAB_ASSIGN_OR_RETURN(data.conv_weights, store->ReadConvWeights(options.study));
  PreferPassiveOpenMpWait(env);  // when libtorch loads here: one-off forward passes to profile operators
  if (auto in = GatherOpModelInput(env, db_path, options.study, data.rows); in.ok())
    data.op_model = std::move(*in);
  else
    data.op_model_note = in.status().message();
  if (options.generated_at_unix_s <= 0) options.generated_at_unix_s = env->NowWallSeconds();
  if (options.estimate_error_band.empty()) options.estimate_error_band = EstimateErrorBandLine();
  return WriteReport(data, options, out_dir, env);
}

CommandFn AddReport(CLI::App* root) {
  auto c = std::make_shared<Report>();
  ReportOptions& opt = c->opt;
  CLI::App* p =
      AddCommand(root, "report",
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
  // One name for inference traffic in report and analyze; the report's
  // earlier name stays as an alias (its own help line, so --help shows both).
  AddChoice(p, "--energy", &c->energy, EnergyBasisChoices(),
            "energy per sample above idle or total; auto (default): above idle unless an idle baseline was "
            "measured "
            "busy, then total for the whole report (carbon always uses total energy)");
  AddNumber(p, "--max-slowdown", &opt.max_slowdown, Range::AtLeast(1), "X",
            "power caps: the lowest-energy cap whose time is within X times the highest cap's (default 1.1)");
  c->per_day = AddNumber(p, "--requests-per-day", &opt.inferences_per_day, Range::AtLeast(0), "N",
                         "inference traffic assumed by the lifecycle section (default 1000000)");
  c->per_day_alias = AddNumber(p, "--inferences-per-day", &opt.inferences_per_day, Range::AtLeast(0), "N",
                               "alias of --requests-per-day");
  return [c](const Invocation&) { return c->Run(); };
}

int Report::Run() {
  if (Given(per_day) && Given(per_day_alias))
    return ReportError("report", Status::InvalidArgument(
                                     "give --requests-per-day or its alias --inferences-per-day, not both"));
  const std::string db_path = db.empty() ? kDefaultDb : db;
  const std::string out_dir = out.empty() ? DefaultReportDir(db_path) : out;
  opt.energy = *ParseEnergyBasisRequest(energy);
  auto env = OpenDefaultEnv();
  // The output directory is checked before the database is read.
  if (Status o = CheckOutputDir(env.get(), "--out", out_dir); !o.ok()) return ReportError("report", o);
  Status st = WriteReportFromDatabase(env.get(), db_path, out_dir, opt);
  if (!st.ok()) return ReportError("report", st);
  int csvs = 0;
  if (auto names = env->ListDir(out_dir); names.ok())
    for (const auto& n : *names)
      if (EndsWith(n, ".csv")) ++csvs;
  std::printf("wrote %s/index.html, summary.md and %d plot CSVs\n", out_dir.c_str(), csvs);
  return kExitOk;
}

}  // namespace wattlab::cli
