// wattlab train: trains one model with metered train, epoch and eval windows.
// Parsing and formatting only; the loop is the engine's, the energy the meter's.
#include <cstdio>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/workload_cli.h"

namespace wattlab::cli {

namespace {

struct Train {
  TrainConfig cfg;
  std::string input;
  int64_t n_threads = 0, n_seed = 1;
  double idle_s = 2;
  bool json = false, no_eval = false;
  MeterFlags meter_flags;
  int Run();
};

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
  AddIdleSeconds(p, &c->idle_s);
  AddFlag(p, "--json", &c->json, "print one JSON object");
  c->meter_flags.Register(p);
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

  auto session = OpenMeteredSession(meter_flags);
  if (!session.ok()) return ReportError(cmd, session.status());
  // A bad model name fails now, before the idle baseline makes anyone wait.
  if (auto facts = cfg.torchscript.empty()
                       ? session->engine->Describe(cfg.model, std::nullopt, std::nullopt)
                       : session->engine->DescribeTorchScript(cfg.torchscript, *cfg.input);
      !facts.ok())
    return ReportError(cmd, facts.status());
  if (Status idle_st = MeasureIdleBaseline(session->meter.get(), idle_s, &session->context); !idle_st.ok())
    return ReportError(cmd, idle_st);
  if (session->context.idle_busy)
    std::fprintf(stderr, "wattlab %s: warning: %s\n", cmd.c_str(),
                 session->context.idle_busy_warning.c_str());

  MeteredRun run(session->meter.get());
  auto result = run.Train(session->engine, cfg);
  Status stop = session->meter->Stop();
  if (!result.ok()) return ReportError(cmd, result.status());
  if (!stop.ok()) return ReportError(cmd, stop.WithContext("stopping the meter"));
  const TrainResult& r = *result;

  if (json) {
    nlohmann::json j;
    j["command"] = "train";
    j["model"] = ModelJson(r.model);
    j["config"] = {
        {"dataset", cfg.dataset},
        {"epochs", cfg.epochs},
        {"torchscript", cfg.torchscript.empty() ? nlohmann::json() : nlohmann::json(cfg.torchscript)},
        {"steps", cfg.steps},
        {"batch_size", cfg.batch_size},
        {"optimizer", cfg.optimizer},
        {"lr", cfg.lr},
        {"momentum", cfg.momentum},
        {"weight_decay", cfg.weight_decay},
        {"threads", cfg.threads},
        {"precision", cfg.precision},
        {"seed", cfg.seed},
        {"warmup_steps", cfg.warmup_steps}};
    j["versions"] = VersionsJson(session->context);
    j["meter"] = MeterJson(session->context);
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
  return kExitOk;
}

}  // namespace wattlab::cli
