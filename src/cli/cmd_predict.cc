// wattlab predict: energy (and time) of a model never run on this machine,
// from its counted params and MACs and the predictor fitted on stored runs.
// Parsing and formatting only; the prediction is analysis::PredictEnergy.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <tuple>

#include "analysis/analysis.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/run_input.h"
#include "core/strings.h"
#include "core/env.h"
#include "platform/real_env.h"
#include "platform/plugin.h"
#include "store/store.h"

namespace wattlab::cli {

namespace {

Status ParseWhole(const std::string& flag, const std::string& text, int64_t min, int64_t* out) {
  if (text.empty()) return Status::Ok();
  auto v = ParseInt(text);
  if (!v || *v < min)
    return Status::InvalidArgument("invalid --" + flag + " '" + text + "': give a whole number >= " + std::to_string(min));
  *out = *v;
  return Status::Ok();
}

std::string Sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

}  // namespace

int CmdPredict(const Args& args) {
  const std::string cmd = "predict";
  std::string model, input, batch, threads, phase = "infer", samples, epochs, dataset, db, csv, study, params, macs, energy = "above-idle";
  bool json = false;
  ArgParser p("wattlab predict",
              "predict the energy of a model never run here, from its params/MACs and the runs in the database");
  p.AddOption("model", &model, "NAME", "model to predict (zoo name or family spec, as `wattlab models` lists)");
  p.AddOption("input", &input, "CxHxW", "input shape for counting MACs (default: the model's native input)");
  p.AddOption("batch-size", &batch, "B", "batch size (default: the most common one measured)");
  p.AddOption("threads", &threads, "T", "threads (default: the most common count measured)");
  p.AddOption("phase", &phase, "train|infer", "phase to predict (default infer)");
  p.AddOption("samples", &samples, "N", "samples to process: also predicts whole-run energy and time");
  p.AddOption("epochs", &epochs, "E", "training epochs over --dataset (instead of --samples)");
  p.AddOption("dataset", &dataset, "NAME", "dataset for --epochs: fashion-mnist (default), cifar10");
  p.AddOption("db", &db, "FILE", "wattlab database with the measured runs (default wattlab.db)");
  p.AddOption("csv", &csv, "FILE", "read a `wattlab runs --csv` file instead ('-' = stdin)");
  p.AddOption("study", &study, "NAME", "only the runs of this study (default: every study in the input)");
  p.AddOption("energy", &energy, "above-idle|total", "predict energy above idle (default) or total energy");
  p.AddOption("params", &params, "N", "use this parameter count instead of asking the workload engine (with --macs)");
  p.AddOption("macs", &macs, "N", "use this forward MAC count per sample instead of asking the engine (with --params)");
  p.AddFlag("json", &json, "print one JSON object");
  int exit_code = 0;
  if (!ParseOrExit(p, args, &exit_code)) return exit_code;

  if (model.empty()) return ReportError(cmd, Status::InvalidArgument("--model NAME is required (see `wattlab models`)"));
  if (phase != "train" && phase != "infer")
    return ReportError(cmd, Status::InvalidArgument("invalid --phase '" + phase + "': give train or infer"));
  analysis::EnergyBasis basis = analysis::EnergyBasis::kAboveIdle;
  if (energy == "total") basis = analysis::EnergyBasis::kTotal;
  else if (energy != "above-idle")
    return ReportError(cmd, Status::InvalidArgument("invalid --energy '" + energy + "': give above-idle or total"));
  if (!samples.empty() && !epochs.empty())
    return ReportError(cmd, Status::InvalidArgument("give either --samples N or --epochs E, not both"));
  if (!dataset.empty() && epochs.empty())
    return ReportError(cmd, Status::InvalidArgument("--dataset goes with --epochs E"));
  if (params.empty() != macs.empty())
    return ReportError(cmd, Status::InvalidArgument("--params and --macs go together"));

  analysis::PredictRequest req;
  req.phase = phase;
  int64_t n_epochs = 0, n_params = 0, n_macs = 0;
  for (auto [flag, text, min, out] : {std::tuple{"batch-size", &batch, int64_t{1}, &req.batch_size},
                                      std::tuple{"threads", &threads, int64_t{1}, &req.threads},
                                      std::tuple{"samples", &samples, int64_t{1}, &req.samples},
                                      std::tuple{"epochs", &epochs, int64_t{1}, &n_epochs},
                                      std::tuple{"params", &params, int64_t{1}, &n_params},
                                      std::tuple{"macs", &macs, int64_t{1}, &n_macs}}) {
    if (Status st = ParseWhole(flag, *text, min, out); !st.ok()) return ReportError(cmd, st);
  }
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

  // The runs first: refusing for too few runs should not wait for libtorch.
  auto rows = LoadRunRows(db, csv, study);
  if (!rows.ok()) return ReportError(cmd, rows.status());

  if (n_params > 0) {
    req.facts.name = model;
    req.facts.params = n_params;
    req.facts.macs = n_macs;
    req.facts.macs_per_param = static_cast<double>(n_macs) / static_cast<double>(n_params);
    req.facts.counter = "given";
    if (shape) req.facts.input = *shape;
  } else {
    std::unique_ptr<Env> env = NewRealEnv(RootsFromProcessEnvironment());
    auto engine = LoadWorkloadEngine(env.get());
    if (!engine.ok())
      return ReportError(cmd, engine.status().WithContext("counting " + model +
                                                          " needs the workload engine (or give --params and --macs)"));
    auto facts = (*engine)->Describe(model, shape, std::nullopt);
    if (!facts.ok()) return ReportError(cmd, facts.status());
    req.facts = *facts;
  }

  auto pred = analysis::PredictEnergy(*rows, req, basis);
  if (!pred.ok()) return ReportError(cmd, pred.status());
  const auto& r = *pred;
  if (json) {
    auto j = analysis::ToJson(r);
    j["params"] = req.facts.params;
    j["macs"] = req.facts.macs;
    j["macs_per_param"] = req.facts.macs_per_param;
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("wattlab predict: %s, phase %s, batch %lld, %lld threads%s\n", r.model.c_str(), r.phase.c_str(),
              static_cast<long long>(r.batch_size), static_cast<long long>(r.threads),
              r.estimated ? " [ESTIMATED energy: a model of CPU time]" : "");
  std::printf("  model: %lld params, %lld MACs/sample, %.1f MACs/param\n", static_cast<long long>(req.facts.params),
              static_cast<long long>(req.facts.macs), req.facts.macs_per_param);
  std::printf("  energy per sample: %s J (95%% prediction interval %s .. %s J)\n", Sci(r.energy_per_sample_j).c_str(),
              Sci(r.energy_per_sample_low_j).c_str(), Sci(r.energy_per_sample_high_j).c_str());
  if (r.time_per_sample_s) std::printf("  time per sample: %s s\n", Sci(*r.time_per_sample_s).c_str());
  if (r.energy_j)
    std::printf("  %lld samples: %s J (%s .. %s J) = %s kWh%s\n", static_cast<long long>(r.samples),
                Sci(*r.energy_j).c_str(), Sci(*r.energy_low_j).c_str(), Sci(*r.energy_high_j).c_str(),
                Sci(*r.energy_j / 3.6e6).c_str(),
                r.duration_s ? (", about " + Sci(*r.duration_s) + " s").c_str() : "");
  std::printf("  predictor: log-log on %s, fitted on %lld configurations of %lld models\n", r.feature_set.c_str(),
              static_cast<long long>(r.n_configs), static_cast<long long>(r.n_models));
  if (r.cv_mape_pct)
    std::printf("  its cross-validated error (nested leave-one-model-out): MAPE %.1f%%, median APE %.1f%%\n",
                *r.cv_mape_pct, r.cv_median_ape_pct.value_or(0));
  if (!r.note.empty()) std::printf("  note: %s\n", r.note.c_str());
  return kExitOk;
}

}  // namespace wattlab::cli
