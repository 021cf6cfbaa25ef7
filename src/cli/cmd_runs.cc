// wattlab runs: export stored runs, one row per measured window, with exactly
// the columns of RunRowColumns() (include/wattlab/record.h).
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"
#include "store/export.h"
#include "store/store.h"

namespace wattlab::cli {

namespace {

struct Runs {
  std::string db = kDefaultDb, study;
  bool csv = false, as_json = false;
  int Run();
};

}  // namespace

CommandFn AddRuns(CLI::App* root) {
  auto c = std::make_shared<Runs>();
  CLI::App* p =
      AddCommand(root, "runs", "export stored runs (one row per measured window: run x phase x window) as CSV or JSON");
  AddString(p, "--db", &c->db, "FILE", "database to read (default wattlab.db)");
  AddString(p, "--study", &c->study, "NAME", "only this study (default: every study in the database)");
  AddFlag(p, "--csv", &c->csv, "CSV with a header line (the default)");
  AddFlag(p, "--json", &c->as_json, "a JSON array of objects with the same keys (missing values null)");
  return [c](const Invocation&) { return c->Run(); };
}

int Runs::Run() {
  if (csv && as_json) return ReportError("runs", Status::InvalidArgument("choose one of --csv and --json"));

  auto env = OpenDefaultEnv();
  auto store = Store::Open(env.get(), db, OpenMode::kReadOnly);
  if (!store.ok() && store.status().kind() == Status::Kind::kFailedPrecondition &&
      store.status().message().find("older than") != std::string::npos) {
    store = Store::Open(env.get(), db, OpenMode::kReadWrite);  // migrates an older schema forward, once
  }
  if (!store.ok()) return ReportError("runs", store.status());
  if (!study.empty()) {
    auto info = (*store)->ReadStudy(study);
    if (!info.ok()) return ReportError("runs", info.status());
    if (!info->has_value()) {
      auto all = (*store)->ReadStudies();
      std::string names;
      if (all.ok())
        for (const auto& s : *all) names += (names.empty() ? "" : ", ") + s.name;
      return ReportError("runs", Status::InvalidArgument("no study '" + study + "' in " + db + " (studies: " +
                                                         (names.empty() ? "none" : names) + ")"));
    }
  }
  auto rows = (*store)->ReadRows(study);
  if (!rows.ok()) return ReportError("runs", rows.status());
  std::string out = as_json ? RunRowsToJson(*rows) : RunRowsToCsv(*rows);
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (std::fflush(stdout) != 0) return ReportError("runs", Status::IOError("could not write to stdout"));
  return kExitOk;
}

}  // namespace wattlab::cli
