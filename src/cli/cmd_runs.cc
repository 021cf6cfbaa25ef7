// wattlab runs: export stored runs, one row per measured window, with exactly
// the columns of RunRowColumns() (include/wattlab/record.h).
#include <cstdio>
#include <iostream>
#include <map>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/strings.h"
#include "report/codecarbon.h"
#include "store/export.h"
#include "store/store.h"

namespace wattlab::cli {

namespace {

struct Runs {
  std::string db = kDefaultDb, study, output;
  bool csv = false, as_json = false, codecarbon = false;
  double intensity = 475.0, pue = 1.0;
  int Run();
};

// One CodeCarbon row per stored window: project_name is the study,
// experiment_id the configuration, run_id "RUN/PHASE/WINDOW"; the machine
// facts come from the study's context and the timestamp is the study's end
// (its start while it runs): the store keeps no time per window.
Result<std::string> CodeCarbonRows(Store* store, const std::vector<RunRow>& rows, double intensity,
                                   double pue, std::vector<CodeCarbonRow>* out) {
  auto studies = store->ReadStudies();
  if (!studies.ok()) return studies.status();
  std::map<std::string, StudyInfo> by_name;
  for (auto& s : *studies) by_name[s.name] = s;
  std::map<std::pair<std::string, int64_t>, std::vector<DomainEnergyRow>> domains;
  for (const auto& r : rows) {
    auto key = std::make_pair(r.study, r.run_id);
    if (!domains.count(key)) {
      auto d = store->ReadDomainEnergy(r.study, r.run_id);
      if (!d.ok()) return d.status();
      domains[key] = std::move(*d);
    }
    CodeCarbonRow c;
    const StudyInfo& info = by_name[r.study];
    c.timestamp_unix_s = info.finished_at_unix_s.value_or(info.started_at_unix_s);
    c.project_name = r.study;
    c.experiment_id = r.config_id;
    c.run_id = std::to_string(r.run_id) + "/" + r.phase + "/" + r.window;
    c.duration_s = r.duration_s;
    c.energy_j = r.energy_j;
    c.intensity_g_per_kwh = intensity;
    c.pue = pue;
    for (const auto& d : domains[key]) {
      if (d.phase != r.phase || d.window != r.window || !d.in_total) continue;
      std::optional<double>* slot = d.component == "cpu"    ? &c.cpu_energy_j
                                    : d.component == "gpu"  ? &c.gpu_energy_j
                                    : d.component == "dram" ? &c.ram_energy_j
                                                            : nullptr;
      if (slot) *slot = slot->value_or(0) + d.energy_j;
    }
    if (!info.kernel.empty()) c.os = "Linux-" + info.kernel;
    c.cpu_model = info.cpu;
    c.gpu_count = static_cast<int64_t>(info.gpus.size());
    c.gpu_model = Join(info.gpus, "; ");
    if (r.cpu_util) c.cpu_utilization_percent = *r.cpu_util * 100;
    out->push_back(std::move(c));
  }
  return std::string();
}

}  // namespace

CommandFn AddRuns(CLI::App* root) {
  auto c = std::make_shared<Runs>();
  CLI::App* p = AddCommand(
      root, "runs", "export stored runs (one row per measured window: run x phase x window) as CSV or JSON");
  AddString(p, "--db", &c->db, "FILE", "database to read (default wattlab.db)");
  AddString(p, "--study", &c->study, "NAME", "only this study (default: every study in the database)");
  AddFlag(p, "--csv", &c->csv, "CSV with a header line (the default)");
  AddFlag(p, "--json", &c->as_json, "a JSON array of objects with the same keys (missing values null)");
  AddFlag(p, "--codecarbon", &c->codecarbon,
          "CodeCarbon 3.3.0's emissions.csv instead (one row per measured window; kWh, kg CO2e, W)");
  AddString(p, "-o,--output", &c->output, "FILE",
            "with --codecarbon: append to FILE (header written when new; another header is refused)");
  AddNumber(p, "--intensity", &c->intensity, Range::AtLeast(0), "G",
            "with --codecarbon: carbon intensity in gCO2e/kWh (default 475, world average)");
  AddNumber(p, "--pue", &c->pue, Range::AtLeast(1), "X",
            "with --codecarbon: power usage effectiveness (default 1.0)");
  return [c](const Invocation&) { return c->Run(); };
}

int Runs::Run() {
  if (int(csv) + int(as_json) + int(codecarbon) > 1)
    return ReportError("runs", Status::InvalidArgument("choose one of --csv, --json and --codecarbon"));
  if (!output.empty() && !codecarbon)
    return ReportError(
        "runs", Status::InvalidArgument("-o/--output is for --codecarbon (CSV and JSON go to stdout)"));

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
  if (codecarbon) {
    std::vector<CodeCarbonRow> cc;
    auto made = CodeCarbonRows(store->get(), *rows, intensity, pue, &cc);
    if (!made.ok()) return ReportError("runs", made.status());
    if (!output.empty()) {
      Status st = AppendCodeCarbonCsv(env.get(), output, cc);
      return st.ok() ? kExitOk : ReportError("runs", st);
    }
    std::string text = CodeCarbonHeaderLine();
    for (const auto& r : cc) text += CodeCarbonRowLine(r);
    std::fwrite(text.data(), 1, text.size(), stdout);
    return std::fflush(stdout) == 0 ? kExitOk
                                    : ReportError("runs", Status::IOError("could not write to stdout"));
  }
  std::string out = as_json ? RunRowsToJson(*rows) : RunRowsToCsv(*rows);
  std::fwrite(out.data(), 1, out.size(), stdout);
  if (std::fflush(stdout) != 0) return ReportError("runs", Status::IOError("could not write to stdout"));
  return kExitOk;
}

}  // namespace wattlab::cli
