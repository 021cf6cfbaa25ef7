// wattlab infer: metered inference of a zoo model or a TorchScript file.
// Parsing and formatting only; the loop is the engine's, the energy the meter's.
#include <cstdio>
#include <iostream>
#include <thread>

#include "cli/commands.h"
#include "cli/workload_cli.h"

namespace wattlab::cli {

namespace {

struct Infer {
  InferConfig cfg;
  std::string input;
  int64_t n_threads = 0, n_seed = 1, n_classes = 0;
  IdleBaselinePolicy idle;
  bool json = false;
  MeterFlags meter_flags;
  int Run();
};

}  // namespace

CommandFn AddInfer(CLI::App* root) {
  auto c = std::make_shared<Infer>();
  InferConfig& cfg = c->cfg;
  CLI::App* p = AddCommand(
      root, "infer", "metered inference of a zoo model or a TorchScript file (setup and warm-up outside)");
  AddString(p, "--model", &cfg.model, "NAME", "zoo model or family spec ('wattlab models' lists them)");
  AddString(p, "--torchscript", &cfg.torchscript, "FILE",
            "a TorchScript model (torch.jit.script/trace ... .save); needs --input");
  AddString(p, "--input", &c->input, "CxHxW", "input shape (default: the model's native input)");
  AddCount(p, "--classes", &c->n_classes, 1, "N",
           "output classes of a zoo model (default: the model's native count)");
  AddCount(p, "--batch-size", &cfg.batch_size, 1, "B", "samples per forward pass (default 1)");
  AddCount(p, "--samples", &cfg.samples, 1, "N", "samples to run in the measured window (default 1000)");
  AddCount(p, "--threads", &c->n_threads, 1, "T", "libtorch threads (default: every core)");
  AddChoice(p, "--precision", &cfg.precision, {"fp32", "bf16"}, "number format (default fp32)");
  AddChoice(p, "--conv-weights", &cfg.conv_weights, {"packed", "plain"},
            "packed: convolutions on oneDNN with weights reordered once, before the window (default); "
            "plain: libtorch's choice per call, as eager PyTorch");
  AddCount(p, "--seed", &c->n_seed, 0, "S", "seed for weights and inputs (default 1)");
  AddCount(p, "--warmup-batches", &cfg.warmup_batches, 0, "N",
           "unmeasured batches before the window (default 2)");
  AddIdleFlags(p, &c->idle);
  AddFlag(p, "--json", &c->json, "print one JSON object");
  c->meter_flags.Register(p);
  return [c](const Invocation&) { return c->Run(); };
}

int Infer::Run() {
  const std::string cmd = "infer";
  const std::string& model = cfg.model;
  const std::string& torchscript = cfg.torchscript;
  Status st = [&]() -> Status {
    if (model.empty() == torchscript.empty())
      return Status::InvalidArgument("give exactly one of --model NAME or --torchscript FILE");
    if (!torchscript.empty() && input.empty())
      return Status::InvalidArgument(
          "--torchscript needs --input CxHxW (the model's input shape, e.g. 3x32x32)");
    if (!torchscript.empty() && n_classes > 0)
      return Status::InvalidArgument("--classes applies to zoo models; a TorchScript model has its own");
    if (!input.empty()) {
      WATTLAB_ASSIGN_OR_RETURN(Shape s, ParseShape(input));
      cfg.input = s;
    }
    return Status::Ok();
  }();
  if (!st.ok()) return ReportError(cmd, st);
  cfg.threads =
      static_cast<int>(n_threads > 0 ? n_threads : std::max(1u, std::thread::hardware_concurrency()));
  cfg.seed = static_cast<uint64_t>(n_seed);

  auto session = OpenMeteredSession(meter_flags);
  if (!session.ok()) return ReportError(cmd, session.status());
  // Fail on a bad model, shape or file now, before the idle baseline; this
  // also gives a zoo model its native class count.
  auto facts = torchscript.empty() ? session->engine->Describe(
                                         cfg.model, cfg.input,
                                         n_classes > 0 ? std::optional<int64_t>(n_classes) : std::nullopt)
                                   : session->engine->DescribeTorchScript(cfg.torchscript, *cfg.input);
  if (!facts.ok()) return ReportError(cmd, facts.status());
  cfg.classes = facts->classes;
  if (Status idle_st = SetUpIdleBaseline(cmd, &*session, idle); !idle_st.ok())
    return ReportError(cmd, idle_st);

  MeteredRun run(session->meter.get());
  auto result = run.Infer(session->engine, cfg);
  Status stop = session->meter->Stop();
  if (!result.ok()) return ReportError(cmd, result.status());
  if (!stop.ok()) return ReportError(cmd, stop.WithContext("stopping the meter"));
  const InferResult& r = *result;
  auto win = run.Phase("infer");

  if (json) {
    nlohmann::json j;
    j["command"] = "infer";
    j["model"] = ModelJson(r.model);
    j["config"] = {
        {"batch_size", cfg.batch_size},
        {"samples", cfg.samples},
        {"threads", cfg.threads},
        {"precision", cfg.precision},
        {"seed", cfg.seed},
        {"warmup_batches", cfg.warmup_batches},
        {"conv_weights", cfg.conv_weights},
        {"torchscript", cfg.torchscript.empty() ? nlohmann::json() : nlohmann::json(cfg.torchscript)}};
    j["versions"] = VersionsJson(session->context);
    j["meter"] = MeterJson(session->context);
    j["omp_wait_policy"] = OmpJson(session->omp);
    j["sources"] = session->context.sources;
    j["estimated"] = session->context.estimated;
    j["setup_s"] = r.setup_s;
    j["warmup_s"] = r.warmup_s;
    j["samples"] = r.samples;
    j["batches"] = r.batches;
    j["duration_s"] = r.duration_s;
    j["samples_per_s"] = r.samples_per_s;
    j["latency_ms"] = {{"p50", r.latency_p50_ms}, {"p90", r.latency_p90_ms}, {"p99", r.latency_p99_ms}};
    j["checksum"] = r.checksum;
    j["conv_weights"] = ConvWeightsJson(r);
    j["phases"] = nlohmann::json::object();
    for (const auto& w : run.phases()) j["phases"][w.name] = WindowJson(w);
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }

  const ModelFacts& m = r.model;
  std::printf("model %s: input %s, %lld classes, %lld params, %lld MACs/sample, %.1f MACs/param (%s count)\n",
              m.name.c_str(), m.input.ToString().c_str(), static_cast<long long>(m.classes),
              static_cast<long long>(m.params), static_cast<long long>(m.macs), m.macs_per_param,
              m.counter.c_str());
  std::printf("batch %lld, %d threads, %s\n", static_cast<long long>(cfg.batch_size), cfg.threads,
              cfg.precision.c_str());
  std::printf("%s\n", MeterLine(session->context).c_str());
  std::printf("%s\n", OmpLine(session->omp).c_str());
  std::printf("%s\n", ConvWeightsLine(r).c_str());
  std::printf("setup %.3f s, warm-up %.3f s (outside the window)\n", r.setup_s, r.warmup_s);
  if (win.ok()) std::printf("%s\n", WindowLine(**win).c_str());
  std::printf("latency per batch: p50 %.3f ms, p90 %.3f ms, p99 %.3f ms; %.1f samples/s\n", r.latency_p50_ms,
              r.latency_p90_ms, r.latency_p99_ms, r.samples_per_s);
  return kExitOk;
}

}  // namespace wattlab::cli
