// Inference loop for zoo models and TorchScript files, and the description of
// a TorchScript file (parameters from its tensors, MACs from the traced
// counter). The only file that includes torch/script.h.
#include <c10/core/InferenceMode.h>
#include <torch/script.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>

#include "workload/data.h"
#include "workload/engine.h"
#include "workload/script.h"
#include "workload/torch_util.h"
#include "workload/zoo/packing.h"
#include "workload/zoo/zoo.h"

namespace wattlab::workload {

namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

using Forward = std::function<torch::Tensor(const torch::Tensor&)>;

Result<torch::jit::Module> LoadScript(Env* env, const std::string& path) {
  if (!env->OpenForRead(path).ok())
    return Status::NotFound("TorchScript file '" + path + "' does not exist or cannot be read");
  try {
    torch::jit::Module m = torch::jit::load(path);
    m.eval();
    return m;
  } catch (const std::exception& e) {
    return Status::InvalidArgument(
        "'" + path +
        "' is not a loadable TorchScript file (save one with torch.jit.script(model)"
        ".save(path) or torch.jit.trace): " +
        FirstLine(e.what()));
  }
}

// The module's output as one tensor: a tensor, or the first tensor of a tuple/list.
torch::Tensor FirstTensor(const c10::IValue& v) {
  if (v.isTensor()) return v.toTensor();
  if (v.isTuple()) {
    for (const auto& e : v.toTupleRef().elements())
      if (e.isTensor()) return e.toTensor();
  }
  if (v.isTensorList()) return v.toTensorVector().at(0);
  throw std::runtime_error("the TorchScript model's forward returned no tensor");
}

Result<ModelFacts> DescribeScript(torch::jit::Module& m, const std::string& path, const Shape& input) {
  ModelFacts f;
  f.name = path;
  f.input = input;
  f.counter = "traced";
  for (const auto& p : m.parameters())
    if (p.requires_grad()) f.params += p.numel();
  Forward fwd = [&m](const torch::Tensor& x) { return FirstTensor(m.forward({x})); };
  // Output width is the class count; a batch-1 pass is cheap next to counting.
  try {
    c10::InferenceMode guard;
    torch::Tensor out = fwd(torch::zeros({1, input.c, input.h, input.w}));
    f.classes = out.dim() >= 2 ? out.size(1) : out.numel();
  } catch (const std::exception& e) {
    return Status::InvalidArgument("the TorchScript model '" + path + "' does not run on input " +
                                   input.ToString() + " (check --input): " + FirstLine(e.what()));
  }
  // The catalog's traced counter; a module it cannot trace keeps its
  // parameter count and says its MACs are unknown (0) rather than failing.
  auto counts = zoo::CountTraced(fwd, input);
  if (counts.ok()) {
    f.macs = counts->macs;
    f.macs_by_kind = counts->macs_by_kind;
  } else {
    f.counter = "MACs unknown: " + counts.status().message();
  }
  f.macs_per_param = f.params > 0 ? static_cast<double>(f.macs) / static_cast<double>(f.params) : 0;
  return f;
}

Status ValidateInfer(const InferConfig& c) {
  if (c.model.empty() == c.torchscript.empty())
    return Status::InvalidArgument("give exactly one of --model NAME or --torchscript FILE");
  if (!c.torchscript.empty() && !c.input)
    return Status::InvalidArgument(
        "--torchscript needs --input CxHxW (the model's input shape, e.g. 3x32x32)");
  if (c.batch_size < 1) return Status::InvalidArgument("--batch-size must be at least 1");
  if (c.samples < 1) return Status::InvalidArgument("--samples must be at least 1");
  if (c.classes < 1) return Status::InvalidArgument("--classes must be at least 1");
  if (c.warmup_batches < 0) return Status::InvalidArgument("warm-up batches must be 0 or more");
  if (!std::isfinite(c.min_duration_s) || c.min_duration_s < 0)
    return Status::InvalidArgument("the least inference time must be a finite number of seconds, 0 or more");
  if (c.threads < 0) return Status::InvalidArgument("--threads must be 0 (all cores) or more");
  if (c.conv_weights != "packed" && c.conv_weights != "plain")
    return Status::InvalidArgument("unknown --conv-weights '" + c.conv_weights + "': use packed or plain");
  return CheckPrecision(c.precision);
}

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

Result<InferResult> InferImpl(Env* env, const InferConfig& cfg, WorkloadObserver* obs) {
  const auto t_setup = Clock::now();
  ConfigureThreads(cfg.threads);
  const torch::Dtype dtype = cfg.precision == "bf16" ? torch::kBFloat16 : torch::kFloat32;
  InferResult r;
  Forward fwd;
  std::shared_ptr<zoo::Net> net;
  torch::jit::Module script;
  Shape shape;
  torch::manual_seed(cfg.seed);
  if (!cfg.torchscript.empty()) {
    shape = *cfg.input;
    WATTLAB_ASSIGN_OR_RETURN(script, LoadScript(env, cfg.torchscript));
    WATTLAB_ASSIGN_OR_RETURN(r.model, DescribeScript(script, cfg.torchscript, shape));
    script.to(dtype);
    fwd = [&script](const torch::Tensor& x) { return FirstTensor(script.forward({x})); };
  } else {
    if (cfg.input) {
      shape = *cfg.input;
    } else {
      WATTLAB_ASSIGN_OR_RETURN(shape, zoo::NativeInput(cfg.model));
    }
    WATTLAB_ASSIGN_OR_RETURN(r.model, DescribeZooModel(cfg.model, shape, cfg.classes));
    WATTLAB_ASSIGN_OR_RETURN(net, zoo::Build(cfg.model, shape, cfg.classes));
    net->eval();
    net->to(dtype);
    fwd = [&net](const torch::Tensor& x) { return net->forward(x); };
  }
  // Inputs from their own seeded generator, so the checksum depends only on
  // seed, model, shape, precision, threads and (at float rounding) conv_weights.
  torch::Tensor x =
      torch::randn({cfg.batch_size, shape.c, shape.h, shape.w}, torch::TensorOptions().dtype(torch::kFloat32))
          .to(dtype);
  c10::InferenceMode guard;
  // Packed once here, in the setup (its first pass sees each layer's input).
  std::optional<zoo::ConvPacking> packing;
  if (cfg.conv_weights == "packed") {
    if (!net) {
      r.conv_weights_why = "TorchScript file";
    } else {
      packing.emplace(*net, x);
      r.convs = packing->convs();
      r.packed_convs = packing->packed();
      r.conv_weights = r.packed_convs > 0 ? "packed" : "plain";
      r.conv_weights_why = packing->why_plain();
    }
  }
  const auto t_warm = Clock::now();
  r.setup_s = Seconds(t_setup, t_warm);
  for (int64_t i = 0; i < cfg.warmup_batches; ++i) fwd(x);
  r.warmup_s = Seconds(t_warm, Clock::now());

  const int64_t batches = (cfg.samples + cfg.batch_size - 1) / cfg.batch_size;
  std::vector<double> latency_ms;
  latency_ms.reserve(batches);
  int64_t b = 0;
  obs->OnPhaseBegin("infer");
  // Our own clock starts after the observer's edge work (a meter reading),
  // which would otherwise dominate short runs of small models.
  const auto t_run = Clock::now();
  // The planned batches, then (min_duration_s) whole batches until the phase has lasted long enough.
  for (; b < batches || (cfg.min_duration_s > 0 && Seconds(t_run, Clock::now()) < cfg.min_duration_s); ++b) {
    if (obs->ShouldStop())
      return Status::Interrupted("inference stopped on request after " + std::to_string(b) + " batches");
    const int64_t n =
        b < batches ? std::min(cfg.batch_size, cfg.samples - b * cfg.batch_size) : cfg.batch_size;
    const auto t0 = Clock::now();
    torch::Tensor out = fwd(n == cfg.batch_size ? x : x.narrow(0, 0, n));
    const auto t1 = Clock::now();
    latency_ms.push_back(Seconds(t0, t1) * 1e3);
    if (b == 0) r.checksum = out.to(torch::kFloat64).sum().item<double>();
    r.samples += n;
    obs->OnStepEnd(b + 1, n, 0.0);
  }
  r.duration_s = Seconds(t_run, Clock::now());
  obs->OnPhaseEnd("infer", r.samples);
  r.batches = b;
  r.samples_per_s = r.duration_s > 0 ? static_cast<double>(r.samples) / r.duration_s : 0;
  r.latency_p50_ms = Percentile(latency_ms, 0.50);
  r.latency_p90_ms = Percentile(latency_ms, 0.90);
  r.latency_p99_ms = Percentile(latency_ms, 0.99);
  return r;
}

}  // namespace

Result<ModelFacts> DescribeTorchScriptFile(Env* env, const std::string& path, const Shape& input) {
  return CatchTorch("describing TorchScript " + path, [&]() -> Result<ModelFacts> {
    WATTLAB_ASSIGN_OR_RETURN(torch::jit::Module m, LoadScript(env, path));
    return DescribeScript(m, path, input);
  });
}

Result<OpProfile> ProfileTorchScriptFile(Env* env, const std::string& path, const Shape& input) {
  return CatchTorch("profiling the operators of TorchScript " + path, [&]() -> Result<OpProfile> {
    WATTLAB_ASSIGN_OR_RETURN(torch::jit::Module m, LoadScript(env, path));
    OpProfile p;
    WATTLAB_ASSIGN_OR_RETURN(p.facts, DescribeScript(m, path, input));
    m.eval();
    for (const auto& t : m.parameters())
      if (t.requires_grad()) ++p.param_tensors;
    WATTLAB_ASSIGN_OR_RETURN(
        p.ops, zoo::TraceOps([&m](const torch::Tensor& x) { return FirstTensor(m.forward({x})); }, input,
                             &p.unknown_ops));
    return p;
  });
}

Result<TrainableScript> LoadTrainableScript(Env* env, const std::string& path, const Shape& input,
                                            torch::Dtype dtype) {
  auto m = std::make_shared<torch::jit::Module>();
  WATTLAB_ASSIGN_OR_RETURN(*m, LoadScript(env, path));
  TrainableScript t;
  WATTLAB_ASSIGN_OR_RETURN(t.facts, DescribeScript(*m, path, input));
  m->to(dtype);  // before collecting: the optimizer must hold the tensors the module computes with
  for (const auto& p : m->parameters())
    if (p.requires_grad()) t.parameters.push_back(p);
  if (t.parameters.empty())
    return Status::InvalidArgument("the TorchScript model '" + path +
                                   "' has no parameter that requires grad: nothing to train (save it "
                                   "without freezing, e.g. torch.jit.script(model).save(path))");
  m->train(true);
  t.forward = [m](const torch::Tensor& x) { return FirstTensor(m->forward({x})); };
  t.set_training = [m](bool on) { m->train(on); };
  t.module = m;
  return t;
}

Result<InferResult> RunInference(Env* env, const InferConfig& config, WorkloadObserver* observer) {
  WATTLAB_RETURN_IF_ERROR(ValidateInfer(config));
  WorkloadObserver none;
  WorkloadObserver* obs = observer ? observer : &none;
  std::string what = "inference of " + (config.model.empty() ? config.torchscript : config.model);
  return CatchTorch(what, [&]() { return InferImpl(env, config, obs); });
}

}  // namespace wattlab::workload
