// wattlab predict: energy (and time) of a model never run on this machine,
// from its counted params and MACs and the predictor fitted on stored runs.
// Parsing and formatting only; the prediction is analysis::PredictEnergy.
#include <cstdio>
#include <iostream>

#include "analysis/analysis.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/run_input.h"
#include "core/energy_basis.h"
#include "core/env.h"
#include "core/strings.h"
#include "platform/plugin.h"
#include "store/store.h"

namespace wattlab::cli {

namespace {

struct Predict {
  std::string model, input, phase = "infer", dataset, db, csv, study, energy = "auto";
  std::optional<int64_t> samples, epochs, params, macs;
  bool json = false;
  analysis::PredictRequest req;
  int Run();
};

}  // namespace

CommandFn AddPredict(CLI::App* root) {
  auto c = std::make_shared<Predict>();
  CLI::App* p =
      AddCommand(root, "predict",
                 "predict the energy of a model never run here, from its params/MACs and the runs in the "
                 "database");
  AddString(p, "--model", &c->model, "NAME",
            "model to predict (zoo name or family spec, as `wattlab models` lists)");
  AddString(p, "--input", &c->input, "CxHxW",
            "input shape for counting MACs (default: the model's native input)");
  AddCount(p, "--batch-size", &c->req.batch_size, 1, "B",
           "batch size (default: the most common one measured)");
  AddCount(p, "--threads", &c->req.threads, 1, "T", "threads (default: the most common count measured)");
  AddChoice(p, "--phase", &c->phase, {"train", "infer"}, "phase to predict (default infer)");
  AddCount(p, "--samples", &c->samples, 1, "N",
           "samples to process: also predicts whole-run energy and time");
  AddCount(p, "--epochs", &c->epochs, 1, "E", "training epochs over --dataset (instead of --samples)");
  AddString(p, "--dataset", &c->dataset, "NAME", "dataset for --epochs: fashion-mnist (default), cifar10");
  AddString(p, "--db", &c->db, "FILE", "wattlab database with the measured runs (default wattlab.db)");
  AddString(p, "--csv", &c->csv, "FILE", "read a `wattlab runs --csv` file instead ('-' = stdin)");
  AddString(p, "--study", &c->study, "NAME",
            "only the runs of this study (default: every study in the input)");
  AddChoice(
      p, "--energy", &c->energy, EnergyBasisChoices(),
      "predict energy above idle or total energy; auto (default): above idle unless an idle baseline of the "
      "input was measured busy, then total");
  AddCount(p, "--params", &c->params, 1, "N",
           "use this parameter count instead of asking the workload engine (with --macs)");
  AddCount(p, "--macs", &c->macs, 1, "N",
           "use this forward MAC count per sample instead of asking the engine (with --params)");
  AddFlag(p, "--json", &c->json, "print one JSON object");
  return [c](const Invocation&) { return c->Run(); };
}

int Predict::Run() {
  const std::string cmd = "predict";
  if (model.empty())
    return ReportError(cmd, Status::InvalidArgument("--model NAME is required (see `wattlab models`)"));
  if (samples && epochs)
    return ReportError(cmd, Status::InvalidArgument("give either --samples N or --epochs E, not both"));
  if (!dataset.empty() && !epochs)
    return ReportError(cmd, Status::InvalidArgument("--dataset goes with --epochs E"));
  if (params.has_value() != macs.has_value())
    return ReportError(cmd, Status::InvalidArgument("--params and --macs go together"));

  req.phase = phase;
  if (samples) req.samples = *samples;
  const int64_t n_epochs = epochs.value_or(0), n_params = params.value_or(0), n_macs = macs.value_or(0);
  if (n_epochs > 0) {
    auto per_epoch = analysis::DatasetTrainSamples(dataset.empty() ? "fashion-mnist" : dataset);
    if (!per_epoch.ok()) return ReportError(cmd, Status::InvalidArgument(per_epoch.status().message()));
    req.samples = n_epochs * *per_epoch;
  }
  std::optional<Shape> shape;
  if (!input.empty()) {
    auto s = ParseShape(input);
    if (!s.ok()) return ReportError(cmd, s.status());
    shape = *s;
  }
  std::unique_ptr<Env> env = OpenDefaultEnv();

  // The runs first: refusing for too few runs should not wait for libtorch.
  auto rows = LoadRunRows(env.get(), db, csv, study);
  if (!rows.ok()) return ReportError(cmd, rows.status());

  if (n_params > 0) {
    req.facts.name = model;
    req.facts.params = n_params;
    req.facts.macs = n_macs;
    req.facts.macs_per_param = static_cast<double>(n_macs) / static_cast<double>(n_params);
    req.facts.counter = "given";
    if (shape) req.facts.input = *shape;
  } else {
    auto engine = LoadWorkloadEngine(env.get());
    if (!engine.ok())
      return ReportError(
          cmd, engine.status().WithContext("counting " + model +
                                           " needs the workload engine (or give --params and --macs)"));
    auto facts = (*engine)->Describe(model, shape, std::nullopt);
    if (!facts.ok()) return ReportError(cmd, facts.status());
    req.facts = *facts;
  }

  const EnergyBasisChoice choice = ChooseEnergyBasis(*ParseEnergyBasisRequest(energy), *rows);
  auto pred = analysis::PredictEnergy(*rows, req, choice.basis);
  if (!pred.ok()) return ReportError(cmd, pred.status());
  const auto& r = *pred;
  if (json) {
    auto j = analysis::ToJson(r);
    j["params"] = req.facts.params;
    j["macs"] = req.facts.macs;
    j["macs_per_param"] = req.facts.macs_per_param;
    j["energy_basis_reason"] = choice.reason;
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("wattlab predict: %s, phase %s, batch %lld, %lld threads%s\n", r.model.c_str(), r.phase.c_str(),
              static_cast<long long>(r.batch_size), static_cast<long long>(r.threads),
              r.estimated ? " [ESTIMATED energy: a model of CPU time]" : "");
  std::printf("  energy basis: %s (%s)\n", EnergyBasisName(choice.basis), choice.reason.c_str());
  std::printf("  model: %lld params, %lld MACs/sample, %.1f MACs/param\n",
              static_cast<long long>(req.facts.params), static_cast<long long>(req.facts.macs),
              req.facts.macs_per_param);
  std::printf("  energy per sample: %s J (95%% prediction interval %s .. %s J)\n",
              Sci(r.energy_per_sample_j).c_str(), Sci(r.energy_per_sample_low_j).c_str(),
              Sci(r.energy_per_sample_high_j).c_str());
  if (r.time_per_sample_s) std::printf("  time per sample: %s s\n", Sci(*r.time_per_sample_s).c_str());
  if (r.energy_j)
    std::printf("  %lld samples: %s J (%s .. %s J) = %s kWh%s\n", static_cast<long long>(r.samples),
                Sci(*r.energy_j).c_str(), Sci(*r.energy_low_j).c_str(), Sci(*r.energy_high_j).c_str(),
                Sci(*r.energy_j / 3.6e6).c_str(),
                r.duration_s ? (", about " + Sci(*r.duration_s) + " s").c_str() : "");
  std::printf("  predictor: log-log on %s, fitted on %lld configurations of %lld models\n",
              r.feature_set.c_str(), static_cast<long long>(r.n_configs), static_cast<long long>(r.n_models));
  if (r.cv_mape_pct)
    std::printf("  its cross-validated error (nested leave-one-model-out): MAPE %.1f%%, median APE %.1f%%\n",
                *r.cv_mape_pct, r.cv_median_ape_pct.value_or(0));
  if (!r.note.empty()) std::printf("  note: %s\n", r.note.c_str());
  return kExitOk;
}

}  // namespace wattlab::cli
