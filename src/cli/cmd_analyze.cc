// wattlab analyze: correlations, training vs inference, energy predictor,
// extrapolation check, trade-offs, lifecycle and carbon over stored runs (or
// a `wattlab runs --csv` file). Parsing and formatting only; the analysis is
// src/analysis/.
#include <cstdio>
#include <iostream>

#include "analysis/analysis.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/opmodel_cli.h"
#include "cli/run_input.h"
#include "cli/workload_cli.h"
#include "core/energy_basis.h"
#include "core/strings.h"
#include "meter/estimate.h"
#include "store/store.h"

namespace wattlab::cli {

namespace {

std::string Fmt(const std::optional<double>& v, int digits = 3) {
  if (!v) return "-";
  return FormatFixed(*v, digits);
}

void PrintNote(const std::string& note) {
  if (!note.empty()) std::printf("  note: %s\n", note.c_str());
}

std::string Pct(const std::optional<double>& v) { return v ? FormatFixed(*v, 1) : std::string("-"); }

// The operator-level model beside the regressions (issue 12), each error
// next to the repetitions' coefficient of variation.
void PrintOpModel(const analysis::AnalysisResult& r) {
  for (const auto& p : r.op_model.phases) {
    std::printf(
        "\nOperator-level model, phase %s (leave-one-model-out; correction and power refitted without the "
        "held-out "
        "model; nothing is selected, so nested = LOMO)\n",
        p.phase.c_str());
    std::printf("  %-44s %12s %14s\n", "predictor", "time MAPE %", "energy MAPE %");
    std::printf("  %-44s %12s %14s\n", "operator-level (calibrated)", Pct(p.time_mape_pct).c_str(),
                Pct(p.energy_mape_pct).c_str());
    auto regression = [&](const std::vector<analysis::PhasePredictor>& v) -> const analysis::PhasePredictor* {
      for (const auto& x : v)
        if (x.phase == p.phase) return &x;
      return nullptr;
    };
    const auto* te = regression(r.time_predictor);
    const auto* en = regression(r.predictor);
    if (te != nullptr || en != nullptr) {
      std::string label = "regression, nested (time: " + (te ? te->selected : std::string("-")) +
                          "; energy: " + (en ? en->selected : std::string("-")) + ")";
      std::printf("  %-44s %12s %14s\n", label.c_str(), Pct(te ? te->nested_mape_pct : std::nullopt).c_str(),
                  Pct(en ? en->nested_mape_pct : std::nullopt).c_str());
    }
    std::printf("  %-44s %12s %14s\n", "repetitions' CV (median; the noise floor)",
                Pct(p.median_time_cv_pct).c_str(), Pct(p.median_energy_cv_pct).c_str());
    std::string groups;
    for (const auto& [g, c] : p.corrections)
      groups += (groups.empty() ? "" : ", ") + g + " x" + FormatFixed(c, 2);
    std::printf(
        "  fitted on all %lld models: time = calibrated per kind x correction (%s; common scale x%s, ridge "
        "%s) + %s ms per batch; power %s W; %lld configurations\n",
        static_cast<long long>(p.n_models), groups.c_str(), FormatFixed(p.correction, 3).c_str(),
        FormatFixed(p.ridge_lambda, 2).c_str(), FormatFixed(p.per_batch_s * 1e3, 3).c_str(),
        FormatFixed(p.power_w, 2).c_str(), static_cast<long long>(p.n_points));
    std::printf("  %-26s %8s %8s %10s %10s\n", "model", "time APE", "time CV", "energy APE", "energy CV");
    for (const auto& m : p.models)
      std::printf("  %-26s %7s%% %7s%% %9s%% %9s%%\n", m.model.c_str(),
                  FormatFixed(m.time_ape_pct, 1).c_str(), Pct(m.time_cv_pct).c_str(),
                  FormatFixed(m.energy_ape_pct, 1).c_str(), Pct(m.energy_cv_pct).c_str());
    PrintNote(p.note);
  }
  for (const auto& n : r.op_model.notes)
    std::printf("%s  operator-level model: %s\n", r.op_model.phases.empty() ? "\n" : "", n.c_str());
}

void PrintTables(const analysis::AnalysisResult& r) {
  std::printf("wattlab analyze: %lld rows, %lld configurations (repetitions averaged)%s\n",
              static_cast<long long>(r.rows_read), static_cast<long long>(r.configs_used),
              r.estimated ? " [ESTIMATED energy: a model of CPU time]" : "");
  std::printf("  energy basis: %s (%s)\n", EnergyBasisName(r.energy_basis), r.energy_basis_reason.c_str());
  if (!r.hosts.empty()) {
    std::string hosts;
    for (const auto& [host, runs] : r.hosts)
      hosts += (hosts.empty() ? "" : ", ") + host + " (" + std::to_string(runs) + " runs)";
    std::printf("  hosts: %s\n", hosts.c_str());
  }
  if (r.estimated) std::printf("  estimate error: %s\n", EstimateErrorBandLine().c_str());
  for (const auto& n : r.notes) std::printf("  %s\n", n.c_str());

  std::printf("\nHeadline findings (the report opens with the same)\n");
  for (const auto& f : r.findings)
    std::printf("  - %s%s\n", f.text.c_str(), f.estimated ? " [ESTIMATED]" : "");

  std::printf("\nCorrelations of energy per sample (95%% CI by Fisher z)\n");
  std::printf("  %-6s %-15s %4s %8s %10s %18s %9s %10s\n", "phase", "x", "n", "pearson", "p", "ci95",
              "spearman", "p");
  for (const auto& c : r.correlations) {
    std::string ci = c.pearson_ci_low ? "[" + FormatFixed(*c.pearson_ci_low, 2) + ", " +
                                            FormatFixed(*c.pearson_ci_high, 2) + "]"
                                      : "-";
    std::printf("  %-6s %-15s %4lld %8s %10s %18s %9s %10s\n", c.phase.c_str(), c.x.c_str(),
                static_cast<long long>(c.n), Fmt(c.pearson).c_str(),
                c.pearson_p ? Sci(*c.pearson_p).c_str() : "-", ci.c_str(), Fmt(c.spearman).c_str(),
                c.spearman_p ? Sci(*c.spearman_p).c_str() : "-");
  }

  std::printf(
      "  (-: fewer than 3 configurations, a constant column, or a missing column; --json gives each "
      "reason)\n");

  const auto& t = r.train_vs_infer;
  std::printf("\nTraining vs inference (per sample, %lld models)\n", static_cast<long long>(t.n_models));
  if (t.n_models > 0) {
    std::printf(
        "  median ratio train/infer: time %s, energy %s; correlation of energy across models: pearson %s, "
        "spearman %s\n",
        Fmt(t.median_time_ratio, 2).c_str(), Fmt(t.median_energy_ratio, 2).c_str(),
        Fmt(t.energy_pearson).c_str(), Fmt(t.energy_spearman).c_str());
  }
  PrintNote(t.note);

  for (const auto& p : r.predictor) {
    std::printf("\nEnergy predictor, phase %s (log-log least squares, leave-one-model-out)\n",
                p.phase.c_str());
    std::printf("  %-40s %6s %10s %12s %7s\n", "features", "n", "MAPE %", "median APE %", "R2");
    for (const auto& s : p.sets)
      std::printf("  %-40s %6lld %10s %12s %7s%s\n", s.set.name.c_str(), static_cast<long long>(s.n_points),
                  Fmt(s.mape_pct, 1).c_str(), Fmt(s.median_ape_pct, 1).c_str(), Fmt(s.r2).c_str(),
                  s.set.name == p.selected ? "  <- selected" : "");
    if (p.nested_mape_pct)
      std::printf("  selected set's honest error (nested CV): MAPE %s%%, median APE %s%%\n",
                  Fmt(p.nested_mape_pct, 1).c_str(), Fmt(p.nested_median_ape_pct, 1).c_str());
    PrintNote(p.note);
  }

  PrintOpModel(r);

  const auto& e = r.extrapolation;
  std::printf("\nExtrapolation check (profile -> full run), %lld pairs\n", static_cast<long long>(e.n));
  if (e.n > 0)
    std::printf("  error: mean |e| %s%%, median |e| %s%%, max |e| %s%%, mean (signed) %s%%\n",
                Fmt(e.mean_abs_error_pct, 1).c_str(), Fmt(e.median_abs_error_pct, 1).c_str(),
                Fmt(e.max_abs_error_pct, 1).c_str(), Fmt(e.mean_error_pct, 1).c_str());
  for (const auto& p : e.points)  // every pair, so the worst has a name
    std::printf("  %-6s %-24s rep %-3lld predicted %s J  measured %s J  error %+.1f%%\n", p.phase.c_str(),
                p.model.c_str(), static_cast<long long>(p.repetition), Sci(p.predicted_j).c_str(),
                Sci(p.measured_j).c_str(), p.error_pct);
  PrintNote(e.note);

  std::printf("\nAccuracy vs energy (Pareto front)\n");
  for (const auto& p : r.pareto.points)
    if (p.on_front)
      std::printf("  %-6s %-24s batch %-5lld accuracy %.4f  %s J/sample\n", p.phase.c_str(), p.model.c_str(),
                  static_cast<long long>(p.batch_size), p.accuracy, Sci(p.energy_per_sample_j).c_str());
  std::printf("  energy-optimal batch size:\n");
  for (const auto& o : r.pareto.optimal_batch)
    if (o.series.size() > 1)
      std::printf("    %-6s %-24s batch %lld (%s J/sample, %zu batch sizes measured)\n", o.phase.c_str(),
                  o.model.c_str(), static_cast<long long>(o.best_batch_size),
                  Sci(o.best_energy_per_sample_j).c_str(), o.series.size());
  PrintNote(r.pareto.note);

  std::printf("\nRecommendations\n");
  for (const auto& x : r.recommendations.items) std::printf("  %s\n", x.text.c_str());
  PrintNote(r.recommendations.note);

  std::printf("\nLifecycle%s\n", r.lifecycle.inferences
                                     ? (" (N = " + Sci(*r.lifecycle.inferences) + " inferences)").c_str()
                                     : "");
  for (const auto& m : r.lifecycle.models) {
    std::printf("  %-24s training %s J, inference %s J/sample, break-even N %s", m.model.c_str(),
                Sci(m.training_energy_j).c_str(), Sci(m.inference_energy_per_sample_j).c_str(),
                m.break_even_n ? Sci(*m.break_even_n).c_str() : "-");
    if (m.total_j)
      std::printf(
          ", total %s J (training %s%%, inference %s%%)", Sci(*m.total_j).c_str(),
          Fmt(m.training_share ? std::optional<double>(*m.training_share * 100) : std::nullopt, 1).c_str(),
          Fmt(m.inference_share ? std::optional<double>(*m.inference_share * 100) : std::nullopt, 1).c_str());
    std::printf("\n");
  }
  PrintNote(r.lifecycle.note);

  const auto& c = r.carbon;
  std::printf("\nCarbon: %s kWh x %s g/kWh x PUE %s = %s gCO2e\n", Sci(c.energy_kwh).c_str(),
              FormatDouble(c.intensity_g_per_kwh).c_str(), FormatDouble(c.pue).c_str(), Sci(c.gco2e).c_str());
  std::printf("  energy: %s\n  intensity: %s\n", c.basis.c_str(), c.intensity_source.c_str());
  for (const auto& i : c.lifecycle)
    std::printf("  lifecycle %-24s %s kWh, %s gCO2e\n", i.model.c_str(), Sci(i.energy_kwh).c_str(),
                Sci(i.gco2e).c_str());
  PrintNote(c.note);

  const auto& pc = r.power_caps;
  if (!pc.curves.empty()) {
    std::printf("\nPower caps (within %sx time of the highest cap; quadratic fit in the cap)\n",
                FormatDouble(pc.max_slowdown).c_str());
    for (const auto& k : pc.curves) {
      std::printf("  %s\n", k.text.c_str());
      std::printf("    %-10s %14s %14s %9s %9s %14s\n", k.unit == "MHz" ? "cap MHz" : "cap W", "J/sample",
                  "s/sample", "slowdown", "energy", "fit J/sample");
      for (const auto& p : k.points)
        std::printf("    %-10s %14s %14s %9s %9s %14s\n", FormatDouble(p.cap).c_str(),
                    Sci(p.energy_per_sample_j).c_str(), Sci(p.time_per_sample_s).c_str(),
                    FormatFixed(p.slowdown, 3).c_str(), FormatFixed(p.energy_ratio, 3).c_str(),
                    p.fitted_energy_per_sample_j ? Sci(*p.fitted_energy_per_sample_j).c_str() : "-");
      if (k.fit_energy_optimal_cap)
        std::printf("    fitted curve's minimum: %s %s\n", FormatDouble(*k.fit_energy_optimal_cap).c_str(),
                    k.unit.c_str());
    }
  }
  PrintNote(pc.curves.empty() ? std::string() : pc.note);
}

struct Analyze {
  std::string db, csv, study, energy = "auto";
  std::optional<int64_t> inferences;
  bool json = false;
  analysis::AnalysisOptions o;
  int Run();
};

}  // namespace

CommandFn AddAnalyze(CLI::App* root) {
  auto c = std::make_shared<Analyze>();
  analysis::AnalysisOptions& o = c->o;
  CLI::App* p =
      AddCommand(root, "analyze",
                 "correlations, train vs infer, energy predictor with cross-validated error, extrapolation "
                 "check, trade-offs, lifecycle and carbon over stored runs");
  AddString(p, "--db", &c->db, "FILE", "wattlab database to read (default wattlab.db)");
  AddString(p, "--csv", &c->csv, "FILE", "read a `wattlab runs --csv` file instead ('-' = stdin)");
  AddString(p, "--study", &c->study, "NAME",
            "only the runs of this study (default: every study in the input)");
  AddChoice(p, "--phase", &o.phase, {"train", "infer"}, "only this phase");
  AddChoice(
      p, "--energy", &c->energy, EnergyBasisChoices(),
      "energy per sample from energy_above_idle_j or energy_j; auto (default): above idle unless an idle "
      "baseline of the input was measured busy, then total, for the whole input");
  AddNumber(p, "--min-accuracy", &o.min_accuracy, Range::Between(0, 1), "A",
            "recommend only configurations with accuracy >= A (0..1)");
  AddNumber(p, "--max-energy-j", &o.max_energy_j, Range::AtLeast(0), "E",
            "recommend only configurations with energy per sample <= E joules");
  AddCount(p, "--inferences", &c->inferences, 0, "N", "lifecycle: inferences served over the model's life");
  AddNumber(p, "--requests-per-day", &o.requests_per_day, Range::AtLeast(0), "R",
            "lifecycle: requests per day (with --days)");
  AddNumber(p, "--days", &o.days, Range::AtLeast(0), "D",
            "lifecycle: days in service (with --requests-per-day)");
  AddNumber(p, "--intensity", &o.intensity_g_per_kwh, Range::AtLeast(0), "G",
            "carbon intensity in gCO2e/kWh (default 475, world average)");
  AddString(p, "--region", &o.region, "CODE",
            "carbon intensity from the built-in yearly table (e.g. DE, FR, WORLD)");
  AddNumber(p, "--pue", &o.pue, Range::AtLeast(1), "P",
            "power usage effectiveness (default 1.0; ~1.58 for a typical data centre)");
  AddNumber(p, "--max-slowdown", &o.max_slowdown, Range::AtLeast(1), "X",
            "power caps: the lowest-energy cap whose time is within X times the highest cap's (default 1.1)");
  AddFlag(p, "--json", &c->json, "print one JSON object");
  return [c](const Invocation&) { return c->Run(); };
}

int Analyze::Run() {
  const std::string cmd = "analyze";
  if (inferences) o.inferences = static_cast<double>(*inferences);
  if (o.intensity_g_per_kwh && !o.region.empty())
    return ReportError(cmd, Status::InvalidArgument("give either --intensity or --region, not both"));

  std::unique_ptr<Env> env = OpenDefaultEnv();
  auto rows = LoadRunRows(env.get(), db, csv, study);
  if (!rows.ok()) return ReportError(cmd, rows.status());
  // One basis for the whole input (core/energy_basis.h), printed with the result.
  const EnergyBasisChoice basis = ChooseEnergyBasis(*ParseEnergyBasisRequest(energy), *rows);
  o.energy = basis.basis;
  o.energy_reason = basis.reason;
  if (!csv.empty()) {
    o.op_model_note = "the operator-level model needs the database (calibrations, model inputs): use --db";
  } else {
    PreferPassiveOpenMpWait(env.get());  // profiling is a one-off forward pass per model
    auto in = GatherOpModelInput(env.get(), db, study, *rows);
    if (in.ok())
      o.op_model = std::move(*in);
    else
      o.op_model_note = in.status().message();
  }
  auto res = analysis::Analyze(*rows, o);
  if (!res.ok()) return ReportError(cmd, res.status());
  if (json) {
    std::cout << analysis::ToJson(*res).dump(2) << "\n";
  } else {
    PrintTables(*res);
  }
  return kExitOk;
}

}  // namespace wattlab::cli
