// wattlab train: trains one model with metered train, epoch and eval windows.
// Parsing and formatting only; the loop is the engine's, the energy the meter's,
// and with --power-limit-optimizer the GPU power limit is the caps room's
// (caps/online_optimizer.h).
#include <atomic>
#include <cstdio>
#include <iostream>
#include <set>
#include <thread>

#include "caps/online_optimizer.h"
#include "cli/commands.h"
#include "cli/workload_cli.h"
#include "core/strings.h"
#include "store/store.h"

namespace wattlab::cli {

namespace {

std::atomic<int> g_train_signal{0};
constexpr int kExitSigInt = 130;   // 128 + SIGINT
constexpr int kExitSigTerm = 143;  // 128 + SIGTERM

struct Train {
  TrainConfig cfg;
  std::string input;
  int64_t n_threads = 0, n_seed = 1;
  IdleBaselinePolicy idle;
  bool json = false, no_eval = false;
  MeterFlags meter_flags;
  std::string db, study = "train";  // --db, --study
  // --power-limit-optimizer and its knobs (caps/optimizer.h has the defaults).
  std::string plo_objective;
  caps::OptimizerOptions plo;
  std::vector<std::pair<CLI::Option*, std::string>> plo_flags;  // (option, its name)
  int Run();
};

nlohmann::json Opt(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

// The run's `power_limit_optimizer` object.
nlohmann::json OptimizerJson(const caps::OnlineOptimizerReport& r) {
  nlohmann::json j;
  j["objective"] = r.objective;
  j["gpus"] = r.gpus;
  j["original_limits_w"] = r.original_w;
  j["min_w"] = r.min_w;
  j["max_w"] = r.max_w;
  j["step_w"] = r.options.step_w;
  j["p_max_w"] = r.p_max_w;
  j["warmup_steps"] = r.options.warmup_steps;
  j["settle_steps"] = r.options.settle_steps;
  j["min_steps"] = r.options.min_steps;
  j["max_steps"] = r.options.max_steps;
  j["rel_half_width"] = r.options.rel_half_width;
  j["energy"] = "energy_j per step (whole machine, not above idle)";
  j["phase"] = r.phase;
  j["candidates"] = nlohmann::json::array();
  for (const caps::CandidateResult& c : r.candidates) {
    if (c.steps == 0 && !c.finished) continue;  // not reached
    j["candidates"].push_back({{"limit_w", c.limit_w},
                               {"steps", c.steps},
                               {"dropped_steps", c.dropped_steps},
                               {"mean_step_s", c.mean_step_s},
                               {"step_s_half_width", c.step_s_half_width},
                               {"step_energy_j", c.mean_step_energy_j},
                               {"step_energy_half_width_j", c.step_energy_half_width_j},
                               {"converged", c.converged},
                               {"finished", c.finished},
                               {"eligible", c.eligible},
                               {"objective_value", Opt(c.objective)}});
  }
  j["chosen_limit_w"] = Opt(r.chosen_limit_w);
  j["steps_at_chosen"] = r.steps_at_chosen;
  j["restored"] = r.restored;
  j["restore_error"] = r.restore_error.empty() ? nlohmann::json() : nlohmann::json(r.restore_error);
  return j;
}

void PrintOptimizer(const caps::OnlineOptimizerReport& r) {
  std::vector<std::string> gpus;
  for (int g : r.gpus) gpus.push_back(std::to_string(g));
  std::printf("power-limit optimiser (%s) on GPU %s, candidates %s to %s W in %s W steps:\n",
              r.objective.c_str(), Join(gpus, ", ").c_str(), FormatDouble(r.max_w).c_str(),
              FormatDouble(r.min_w).c_str(), FormatDouble(r.options.step_w).c_str());
  for (const caps::CandidateResult& c : r.candidates) {
    if (c.steps == 0 && !c.finished) continue;
    std::printf("  %6s W: %lld steps, %.4f s/step +-%.1f%%, %.3f J/step +-%.1f%%%s%s\n",
                FormatDouble(c.limit_w).c_str(), static_cast<long long>(c.steps), c.mean_step_s,
                c.mean_step_s > 0 ? 100 * c.step_s_half_width / c.mean_step_s : 0.0, c.mean_step_energy_j,
                c.mean_step_energy_j > 0 ? 100 * c.step_energy_half_width_j / c.mean_step_energy_j : 0.0,
                c.converged ? ""
                            : (c.finished ? " (stopped at the maximum steps, not within the target)"
                                          : " (run ended while profiling)"),
                c.eligible ? "" : " (too slow for the allowed slowdown)");
  }
  if (r.chosen_limit_w)
    std::printf("  chosen %s W, held for the remaining %lld steps\n", FormatDouble(*r.chosen_limit_w).c_str(),
                static_cast<long long>(r.steps_at_chosen));
  else
    std::printf("  no limit chosen: the run ended during %s\n", r.phase.c_str());
  std::vector<std::string> orig;
  for (double w : r.original_w) orig.push_back(FormatDouble(w) + " W");
  std::printf("  %s (%s)\n", r.restored ? "original limits restored" : "original limits NOT restored",
              Join(orig, ", ").c_str());
}

// --db: the run as the next run of the study (created when new): its
// train/full and eval/full rows, the idle baseline it measured, and the
// optimiser's candidates (power_limit_candidates).
Result<int64_t> StoreRun(MeteredSession& s, const std::string& db, const std::string& study,
                         const TrainConfig& cfg, const nlohmann::json& config_json, const TrainResult& r,
                         const MeteredRun& run, const std::optional<caps::OnlineOptimizerReport>& plo,
                         double started_unix_s) {
  Env* env = s.env.get();
  WATTLAB_ASSIGN_OR_RETURN(auto lock, LockStudy(env, db, study));
  WATTLAB_ASSIGN_OR_RETURN(auto store, Store::Open(env, db, OpenMode::kCreate));
  WATTLAB_ASSIGN_OR_RETURN(auto existing, store->ReadStudy(study));
  StudyInfo info = CollectStudyContext(env, *s.meter, *s.engine, WattlabVersion());
  info.name = study;
  info.started_at_unix_s = existing ? existing->started_at_unix_s : started_unix_s;
  WATTLAB_RETURN_IF_ERROR(store->UpsertStudy(info));
  if (s.context.idle_power_w && s.context.idle_measured_s > 0)
    WATTLAB_RETURN_IF_ERROR(store->AddIdleBaseline(
        study,
        IdleBaselineRecord{
            started_unix_s, *s.context.idle_power_w, s.context.idle_cpu_util, s.context.idle_busy, {}}));
  WATTLAB_ASSIGN_OR_RETURN(std::set<int64_t> ids, store->CompletedRunIds(study));
  RunRecord rec;
  rec.study = study;
  rec.run_id = ids.empty() ? 1 : *ids.rbegin() + 1;
  // One configuration per run: `train` runs are not repetitions of a plan.
  rec.config_id = "train-" + std::to_string(rec.run_id);
  rec.model = r.model.name;
  rec.config_json = config_json.dump();
  rec.facts_json = ModelJson(r.model).dump();
  rec.started_at_unix_s = started_unix_s;
  rec.finished_at_unix_s = env->NowWallSeconds();
  rec.step_loss = r.step_loss;
  for (const auto& w : run.phases()) {
    if (w.name != "train" && w.name != "eval") continue;
    RunRow& row =
        AppendWindowRow(rec, cfg.batch_size, cfg.threads, cfg.precision, r.model, "full", w, 0, std::nullopt);
    if (w.name == "train") row.steps = r.steps;
    row.accuracy = r.accuracy;
  }
  if (plo) {
    for (const caps::CandidateResult& c : plo->candidates) {
      if (c.steps == 0 && !c.finished) continue;
      PowerLimitCandidateRow row;
      row.limit_w = c.limit_w;
      row.objective = plo->objective;
      row.steps = c.steps;
      row.dropped_steps = c.dropped_steps;
      row.mean_step_s = c.mean_step_s;
      row.step_s_half_width = c.step_s_half_width;
      row.step_energy_j = c.mean_step_energy_j;
      row.step_energy_half_width_j = c.step_energy_half_width_j;
      row.converged = c.converged;
      row.eligible = c.eligible;
      row.objective_value = c.objective;
      row.chosen = plo->chosen_limit_w && *plo->chosen_limit_w == c.limit_w;
      rec.power_limit_candidates.push_back(row);
    }
  }
  WATTLAB_RETURN_IF_ERROR(store->WriteRun(rec));
  WATTLAB_RETURN_IF_ERROR(store->FinishStudy(study, rec.finished_at_unix_s));
  return rec.run_id;
}

}  // namespace

CommandFn AddTrain(CLI::App* root) {
  auto c = std::make_shared<Train>();
  TrainConfig& cfg = c->cfg;
  CLI::App* p =
      AddCommand(root, "train",
                 "train a model with metered train and eval windows (setup and warm-up are outside them)");
  AddString(p, "--model", &cfg.model, "NAME", "zoo model or family spec ('wattlab models' lists them)");
  AddString(p, "--torchscript", &cfg.torchscript, "FILE",
            "train your own TorchScript model (torch.jit.script(model).save(FILE)); needs --input");
  AddString(p, "--input", &c->input, "CxHxW",
            "the TorchScript model's input shape (e.g. 1x28x28); the data is padded or its channel repeated "
            "to fit it");
  AddString(p, "--dataset", &cfg.dataset, "SPEC",
            "fashion-mnist (default), cifar10:DIR or synthetic:CxHxW:N");
  AddCount(p, "--epochs", &cfg.epochs, 1, "N", "epochs to train (default 1 when --steps is not given)");
  AddCount(p, "--steps", &cfg.steps, 1, "N", "train for N steps instead of whole epochs");
  AddCount(p, "--batch-size", &cfg.batch_size, 1, "B", "samples per step (default 128)");
  AddChoice(p, "--optimizer", &cfg.optimizer, {"sgd", "adam"}, "optimizer (default sgd)");
  AddNumber(p, "--lr", &cfg.lr, Range::Above(0), "X", "learning rate (default 0.001)");
  AddNumber(p, "--momentum", &cfg.momentum, Range::AtLeast(0), "X", "SGD momentum (default 0.9)");
  AddNumber(p, "--weight-decay", &cfg.weight_decay, Range::AtLeast(0), "X", "weight decay (default 5e-4)");
  AddCount(p, "--threads", &c->n_threads, 1, "T", "libtorch threads (default: every core)");
  AddChoice(p, "--precision", &cfg.precision, {"fp32", "bf16"},
            "number format of weights and activations (default fp32)");
  AddCount(p, "--seed", &c->n_seed, 0, "S", "seed for initialisation and shuffling (default 1)");
  AddCount(p, "--warmup-steps", &cfg.warmup_steps, 0, "N",
           "unmeasured steps before the train window (default 1)");
  AddCount(p, "--train-samples", &cfg.train_samples, 1, "N",
           "use only the first N training samples (default all)");
  AddCount(p, "--eval-samples", &cfg.eval_samples, 1, "N",
           "evaluate on the first N test samples (default all)");
  AddFlag(p, "--no-eval", &c->no_eval, "skip the eval phase");
  AddIdleFlags(p, &c->idle);
  AddFlag(p, "--json", &c->json, "print one JSON object");
  c->meter_flags.Register(p);
  AddString(
      p, "--db", &c->db, "FILE",
      "also store the run in this database, as the next run of --study (with the optimiser's candidates)");
  AddString(p, "--study", &c->study, "NAME", "the study --db stores the run in (default train)");
  AddString(p, "--power-limit-optimizer", &c->plo_objective, "OBJ",
            "find the GPU power limit online and train with it: energy, time, edp, cost:ETA "
            "(ETA*E + (1-ETA)*P_max*T) or slowdown:X (least energy within X times the maximum limit's time); "
            "every GPU NVML lists gets the same limit; the limit found is restored at the end");
  c->plo_flags.emplace_back(AddNumber(p, "--power-limit-step-w", &c->plo.step_w, Range::Above(0), "W",
                                      "watts between candidate limits (default 25)"),
                            "--power-limit-step-w");
  c->plo_flags.emplace_back(AddCount(p, "--power-limit-warmup-steps", &c->plo.warmup_steps, 0, "N",
                                     "train steps at the maximum limit before profiling (default 10)"),
                            "--power-limit-warmup-steps");
  c->plo_flags.emplace_back(AddCount(p, "--power-limit-min-steps", &c->plo.min_steps, 2, "N",
                                     "counted steps per candidate, at least (default 10)"),
                            "--power-limit-min-steps");
  c->plo_flags.emplace_back(
      AddCount(p, "--power-limit-max-steps", &c->plo.max_steps, 2, "N",
               "counted steps per candidate, at most, when +-2% is not reached (default 100)"),
      "--power-limit-max-steps");
  return [c](const Invocation&) { return c->Run(); };
}

int Train::Run() {
  const std::string cmd = "train";
  cfg.evaluate = !no_eval;
  if (cfg.model.empty() == cfg.torchscript.empty())
    return ReportError(cmd, Status::InvalidArgument("give --model NAME ('wattlab models' lists them) or "
                                                    "--torchscript FILE --input CxHxW, one of them"));
  if (!cfg.torchscript.empty() && input.empty())
    return ReportError(cmd, Status::InvalidArgument(
                                "--torchscript needs --input CxHxW (the model's input shape, e.g. 1x28x28)"));
  if (!input.empty() && cfg.torchscript.empty())
    return ReportError(cmd,
                       Status::InvalidArgument("--input is for --torchscript (a zoo model has its own)"));
  if (!input.empty()) {
    auto shape = ParseShape(input);
    if (!shape.ok()) return ReportError(cmd, Status::InvalidArgument("--input: " + shape.status().message()));
    cfg.input = *shape;
  }
  if (cfg.epochs > 0 && cfg.steps > 0)
    return ReportError(cmd, Status::InvalidArgument("give --epochs or --steps, not both"));
  if (cfg.epochs == 0 && cfg.steps == 0) cfg.epochs = 1;
  cfg.threads =
      static_cast<int>(n_threads > 0 ? n_threads : std::max(1u, std::thread::hardware_concurrency()));
  cfg.seed = static_cast<uint64_t>(n_seed);
  std::optional<caps::OnlineOptimizerConfig> plo_config;
  if (!plo_objective.empty()) {
    auto objective = caps::ParseObjective(plo_objective);
    if (!objective.ok()) return ReportError(cmd, objective.status());
    if (Status st = caps::ValidateOptimizerOptions(plo); !st.ok()) return ReportError(cmd, st);
    plo_config.emplace();
    plo_config->objective = *objective;
    plo_config->options = plo;
  } else {
    for (const auto& [o, name] : plo_flags)
      if (Given(o)) return ReportError(cmd, Status::InvalidArgument(name + " needs --power-limit-optimizer"));
  }

  auto session = OpenMeteredSession(meter_flags);
  if (!session.ok()) return ReportError(cmd, session.status());
  if (!db.empty()) {
    if (study.empty()) return ReportError(cmd, Status::InvalidArgument("--study needs a name"));
    if (Status d = Store::CheckForWriting(session->env.get(), db); !d.ok()) return ReportError(cmd, d);
  }
  const double started_unix_s = session->env->NowWallSeconds();
  // A bad model name fails now, before the idle baseline makes anyone wait.
  if (auto facts = cfg.torchscript.empty()
                       ? session->engine->Describe(cfg.model, std::nullopt, std::nullopt)
                       : session->engine->DescribeTorchScript(cfg.torchscript, *cfg.input);
      !facts.ok())
    return ReportError(cmd, facts.status());
  // The optimiser refuses (no GPU it may set) before anyone waits, too. From
  // here on SIGINT/SIGTERM stop the training between steps, so the limit
  // found is put back before the process ends.
  std::unique_ptr<caps::OnlinePowerLimitOptimizer> plo_driver;
  if (plo_config) {
    auto mo = meter_flags.ResolveOptions(session->env.get());
    if (!mo.ok()) return ReportError(cmd, mo.status());
    plo_config->caps.nvml_library = mo->nvml_library;
    if (Status ws = session->env->WatchSignals({Signal::kInt, Signal::kTerm}, &g_train_signal,
                                               /*reset_after_first=*/true);
        !ws.ok())
      return ReportError(cmd, ws);
    auto d = caps::OnlinePowerLimitOptimizer::Open(session->env.get(), session->meter.get(), *plo_config);
    if (!d.ok()) {
      // Not a failure of the run: the flag cannot be honoured here.
      const int rc = ReportError(cmd, d.status());
      return d.status().kind() == Status::Kind::kNotSupported ? kExitUsage : rc;
    }
    plo_driver = std::move(*d);
  }
  if (Status idle_st = SetUpIdleBaseline(cmd, &*session, idle); !idle_st.ok())
    return ReportError(cmd, idle_st);

  MeteredRunOptions run_options;
  if (plo_driver) run_options.stop = [] { return g_train_signal.load() != 0; };
  MeteredRun run(session->meter.get(), run_options);
  auto result = run.Train(plo_driver ? plo_driver->Wrap(session->engine) : session->engine, cfg);
  std::optional<caps::OnlineOptimizerReport> plo_report;
  if (plo_driver) {
    plo_report = plo_driver->Finish();
    session->env->WatchSignals({Signal::kInt, Signal::kTerm}, nullptr, false);
    if (!plo_report->restored)
      std::fprintf(stderr, "wattlab %s: %s\n", cmd.c_str(), plo_report->restore_error.c_str());
  }
  Status stop = session->meter->Stop();
  if (plo_driver && !plo_driver->error().ok()) return ReportError(cmd, plo_driver->error());
  if (const int sig = g_train_signal.load(); plo_driver && sig != 0) {
    std::fprintf(stderr, "wattlab %s: stopped on a signal; %s\n", cmd.c_str(),
                 plo_report->restored ? "the original GPU power limits are restored"
                                      : "the original GPU power limits could NOT be restored");
    return sig == 1 ? kExitSigInt : kExitSigTerm;
  }
  if (!result.ok()) return ReportError(cmd, result.status());
  if (plo_report && !plo_report->restored) return kExitFailure;
  if (!stop.ok()) return ReportError(cmd, stop.WithContext("stopping the meter"));
  const TrainResult& r = *result;

  const nlohmann::json config_json = {
      {"dataset", cfg.dataset},
      {"epochs", cfg.epochs},
      {"steps", cfg.steps},
      {"batch_size", cfg.batch_size},
      {"optimizer", cfg.optimizer},
      {"lr", cfg.lr},
      {"momentum", cfg.momentum},
      {"weight_decay", cfg.weight_decay},
      {"threads", cfg.threads},
      {"precision", cfg.precision},
      {"seed", cfg.seed},
      {"warmup_steps", cfg.warmup_steps},
      {"torchscript", cfg.torchscript.empty() ? nlohmann::json() : nlohmann::json(cfg.torchscript)}};
  std::optional<int64_t> stored_run;
  if (!db.empty()) {
    auto id = StoreRun(*session, db, study, cfg, config_json, r, run, plo_report, started_unix_s);
    if (!id.ok()) return ReportError(cmd, id.status().WithContext("storing the run in " + db));
    stored_run = *id;
    std::fprintf(json ? stderr : stdout, "stored as run %lld of study %s in %s\n",
                 static_cast<long long>(*id), study.c_str(), db.c_str());
  }

  if (json) {
    nlohmann::json j;
    j["command"] = "train";
    j["model"] = ModelJson(r.model);
    j["config"] = config_json;
    j["versions"] = VersionsJson(session->context);
    j["meter"] = MeterJson(session->context);
    j["omp_wait_policy"] = OmpJson(session->omp);
    j["sources"] = session->context.sources;
    j["estimated"] = session->context.estimated;
    j["setup_s"] = r.setup_s;
    j["warmup_s"] = r.warmup_s;
    j["steps"] = r.steps;
    j["samples"] = r.samples;
    j["train_duration_s"] = r.train_duration_s;
    j["samples_per_s"] = r.samples_per_s;
    j["phases"] = nlohmann::json::object();
    for (const auto& w : run.phases()) j["phases"][w.name] = WindowJson(w);
    j["epochs"] = nlohmann::json::array();
    for (const auto& w : run.epochs()) j["epochs"].push_back(WindowJson(w));
    j["loss_curve"] = r.step_loss;
    j["epoch_loss"] = r.epoch_loss;
    j["accuracy"] = r.accuracy ? nlohmann::json(*r.accuracy) : nlohmann::json();
    j["accuracy_meaningful"] = r.accuracy_meaningful;
    j["eval_samples"] = r.eval_samples;
    if (plo_report) j["power_limit_optimizer"] = OptimizerJson(*plo_report);
    if (stored_run) j["stored"] = {{"db", db}, {"study", study}, {"run_id", *stored_run}};
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }

  const ModelFacts& m = r.model;
  std::printf("model %s: input %s, %lld classes, %lld params, %lld MACs/sample, %.1f MACs/param\n",
              m.name.c_str(), m.input.ToString().c_str(), static_cast<long long>(m.classes),
              static_cast<long long>(m.params), static_cast<long long>(m.macs), m.macs_per_param);
  std::printf("data %s, batch %lld, %s lr %g, %d threads, %s, seed %llu\n", cfg.dataset.c_str(),
              static_cast<long long>(cfg.batch_size), cfg.optimizer.c_str(), cfg.lr, cfg.threads,
              cfg.precision.c_str(), static_cast<unsigned long long>(cfg.seed));
  std::printf("%s\n", MeterLine(session->context).c_str());
  std::printf("%s\n", OmpLine(session->omp).c_str());
  std::printf("setup %.3f s, warm-up %.3f s (outside the windows)\n", r.setup_s, r.warmup_s);
  for (const auto& w : run.epochs()) {
    std::printf("  %s", WindowLine(w).c_str());
    if (w.mean_loss) std::printf(", mean loss %.4f", *w.mean_loss);
    std::printf("\n");
  }
  for (const auto& w : run.phases()) std::printf("%s\n", WindowLine(w).c_str());
  if (r.accuracy)
    std::printf("test accuracy %.2f%% on %lld samples\n", *r.accuracy * 100,
                static_cast<long long>(r.eval_samples));
  else if (!r.accuracy_meaningful)
    std::printf("test accuracy: not meaningful (synthetic data)\n");
  if (plo_report) PrintOptimizer(*plo_report);
  return kExitOk;
}

}  // namespace wattlab::cli
