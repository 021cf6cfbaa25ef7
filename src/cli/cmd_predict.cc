// wattlab predict: energy (and time) of a model never run on this machine,
// from its counted params and MACs and the predictor fitted on stored runs.
// Parsing and formatting only; the prediction is analysis::PredictEnergy.
#include <cstdio>
#include <iostream>
#include <map>
#include <type_traits>

#include "analysis/analysis.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/opmodel_cli.h"
#include "cli/run_input.h"
#include "cli/workload_cli.h"
#include "core/energy_basis.h"
#include "core/env.h"
#include "core/strings.h"
#include "platform/plugin.h"
#include "store/store.h"

namespace wattlab::cli {

namespace {

struct Predict {
  std::string model, torchscript, input, phase = "infer", dataset, db, csv, study, energy = "auto";
  std::optional<int64_t> samples, epochs, params, macs;
  bool json = false;
  analysis::PredictRequest req;
  int Run();
  Result<OpPrediction> PredictOpLevel(Env* env, WorkloadEngine* eng, const std::vector<RunRow>& rows,
                                      EnergyBasis basis, const std::string& name, std::optional<Shape> shape);
};

void PrintOp(const OpPrediction& p);

}  // namespace

CommandFn AddPredict(CLI::App* root) {
  auto c = std::make_shared<Predict>();
  CLI::App* p =
      AddCommand(root, "predict",
                 "predict the energy of a model never run here, from its params/MACs and the runs in the "
                 "database");
  AddString(p, "--model", &c->model, "NAME",
            "model to predict (zoo name or family spec, as `wattlab models` lists)");
  AddString(p, "--torchscript", &c->torchscript, "FILE",
            "a TorchScript model to predict instead of --model (with --input)");
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

// The operator-level prediction (issue 12): the calibration that serves the
// stored runs' machine, the model judged leave-one-model-out on them, and
// the target's operators.
Result<OpPrediction> Predict::PredictOpLevel(Env* env, WorkloadEngine* eng, const std::vector<RunRow>& rows,
                                             EnergyBasis basis, const std::string& name,
                                             std::optional<Shape> shape) {
  if (!csv.empty()) return Status::FailedPrecondition("it needs the database (calibrations): use --db");
  if (eng == nullptr)
    return Status::FailedPrecondition("it needs the model's operators, not --params/--macs");
  WATTLAB_ASSIGN_OR_RETURN(OpModelInput in, GatherOpModelInput(env, db, study, rows));
  if (in.calibrations.empty()) {
    std::string why = in.notes.empty() ? "no calibration serves these runs" : in.notes.front();
    return Status::FailedPrecondition(why);
  }
  // Threads, precision and batch as the regression chooses them: given, or the most common measured.
  std::map<int64_t, int> threads_n, batch_n;
  std::map<std::string, int> prec_n;
  for (const auto& r : rows) {
    if (r.phase != phase) continue;
    ++threads_n[r.threads];
    ++batch_n[r.batch_size];
    ++prec_n[r.precision];
  }
  auto most = [](const auto& m) {
    typename std::decay_t<decltype(m)>::key_type best{};
    int n = -1;
    for (const auto& [k, c] : m)
      if (c > n) best = k, n = c;
    return best;
  };
  const int64_t threads = req.threads > 0 ? req.threads : most(threads_n);
  const int64_t batch = req.batch_size > 0 ? req.batch_size : most(batch_n);
  const std::string precision = prec_n.empty() ? "fp32" : most(prec_n);
  auto cal = in.calibrations.find(CalibrationKey(threads, precision));
  if (cal == in.calibrations.end())
    return Status::FailedPrecondition("no calibration for " + std::to_string(threads) + " threads, " +
                                      precision +
                                      " on this study's machine: run `wattlab calibrate --threads " +
                                      std::to_string(threads) + " --precision " + precision + "`");
  WATTLAB_ASSIGN_OR_RETURN(OpCostModel cost, OpCostModel::Build(cal->second));
  // Judge it on this machine's models, leave-one-model-out.
  auto configs = analysis::AggregateConfigs(rows, basis);
  OpModelInput only = in;
  only.calibrations = {{cal->first, cal->second}};
  OpModelResult judged = EvaluateOpModel(rows, configs, only, phase);
  const OpModelPhase* ph = nullptr;
  for (const auto& p : judged.phases)
    if (p.phase == phase) ph = &p;
  if (ph == nullptr)
    return Status::FailedPrecondition("no measured " + phase + " configuration at " +
                                      std::to_string(threads) + " threads could be judged");
  Result<OpProfile> prof = torchscript.empty() ? eng->ProfileOps(name, shape, std::nullopt)
                                               : eng->ProfileTorchScriptOps(torchscript, *shape);
  WATTLAB_RETURN_IF_ERROR(prof.status());
  std::optional<double> n;
  if (req.samples > 0) n = static_cast<double>(req.samples);
  return PredictWithOpModel(cost, *prof, batch, phase, *ph, n);
}

namespace {
void PrintOp(const OpPrediction& p) {
  std::printf("  operator-level model (calibrated on this machine), batch %lld:\n",
              static_cast<long long>(p.batch_size));
  std::printf("    time per sample: %s s (95%% interval %s .. %s s)\n", Sci(p.time_per_sample_s).c_str(),
              Sci(p.time_low_s).c_str(), Sci(p.time_high_s).c_str());
  std::printf("    energy per sample: %s J (95%% interval %s .. %s J)\n", Sci(p.energy_per_sample_j).c_str(),
              Sci(p.energy_low_j).c_str(), Sci(p.energy_high_j).c_str());
  if (p.energy_j)
    std::printf("    %s samples: %s s, %s J (%s .. %s J)\n", Sci(*p.samples).c_str(),
                Sci(*p.duration_s).c_str(), Sci(*p.energy_j).c_str(), Sci(*p.energy_low_j_total).c_str(),
                Sci(*p.energy_high_j_total).c_str());
  std::string kinds;
  for (const auto& [k, v] : p.by_kind_s)
    if (p.raw_time_per_sample_s > 0 && v > 0)
      kinds +=
          (kinds.empty() ? "" : ", ") + k + " " + FormatFixed(100 * v / p.raw_time_per_sample_s, 0) + "%";
  std::printf("    time by operator kind: %s\n", kinds.c_str());
  std::printf(
      "    held-out error on this machine's %lld models (leave-one-model-out): time MAPE %s%%, energy MAPE "
      "%s%%\n",
      static_cast<long long>(p.n_models), FormatFixed(p.lomo_time_mape_pct.value_or(0), 1).c_str(),
      FormatFixed(p.lomo_energy_mape_pct.value_or(0), 1).c_str());
  if (!p.unknown_ops.empty())
    std::printf("    unknown operators (%.0f%% of the time): %s\n", 100 * p.unknown_share,
                Join(p.unknown_ops, ", ").c_str());
  if (!p.note.empty()) std::printf("    note: %s\n", p.note.c_str());
}

}  // namespace

int Predict::Run() {
  const std::string cmd = "predict";
  if (model.empty() && torchscript.empty())
    return ReportError(cmd, Status::InvalidArgument(
                                "--model NAME or --torchscript FILE is required (see `wattlab models`)"));
  if (!model.empty() && !torchscript.empty())
    return ReportError(cmd,
                       Status::InvalidArgument("give either --model NAME or --torchscript FILE, not both"));
  if (!torchscript.empty() && input.empty())
    return ReportError(
        cmd, Status::InvalidArgument("--torchscript needs --input CxHxW (the model's input shape)"));
  const std::string name = model.empty() ? torchscript : model;
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

  WorkloadEngine* eng = nullptr;
  if (n_params > 0) {
    req.facts.name = name;
    req.facts.params = n_params;
    req.facts.macs = n_macs;
    req.facts.macs_per_param = static_cast<double>(n_macs) / static_cast<double>(n_params);
    req.facts.counter = "given";
    if (shape) req.facts.input = *shape;
  } else {
    PreferPassiveOpenMpWait(env.get());  // one-off forward passes
    auto engine = LoadWorkloadEngine(env.get());
    if (!engine.ok())
      return ReportError(
          cmd, engine.status().WithContext("counting " + name +
                                           " needs the workload engine (or give --params and --macs)"));
    eng = *engine;
    auto facts = torchscript.empty() ? eng->Describe(model, shape, std::nullopt)
                                     : eng->DescribeTorchScript(torchscript, *shape);
    if (!facts.ok()) return ReportError(cmd, facts.status());
    req.facts = *facts;
  }

  const EnergyBasisChoice choice = ChooseEnergyBasis(*ParseEnergyBasisRequest(energy), *rows);
  auto op = PredictOpLevel(env.get(), eng, *rows, choice.basis, name, shape);
  auto pred = analysis::PredictEnergy(*rows, req, choice.basis);
  if (!pred.ok() && !op.ok()) return ReportError(cmd, pred.status());
  if (!pred.ok()) {
    // The operator-level prediction alone.
    if (json) {
      nlohmann::json j{
          {"model", name}, {"regression", nullptr}, {"regression_note", pred.status().message()}};
      j["op_model"] = ToJson(*op);
      std::cout << j.dump(2) << "\n";
    } else {
      std::printf("wattlab predict: %s, phase %s\n", name.c_str(), phase.c_str());
      std::printf("  regression: not available (%s)\n", pred.status().message().c_str());
      PrintOp(*op);
    }
    return kExitOk;
  }
  const auto& r = *pred;
  if (json) {
    auto j = analysis::ToJson(r);
    j["op_model"] = op.ok() ? ToJson(*op) : nlohmann::json(nullptr);
    j["op_model_note"] = op.ok() ? std::string() : op.status().message();
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
  if (op.ok())
    PrintOp(*op);
  else
    std::printf("  operator-level model: not available (%s)\n", op.status().message().c_str());
  return kExitOk;
}

}  // namespace wattlab::cli
