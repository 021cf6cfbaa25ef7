// Training and evaluation loops: setup (data, model, optimizer) and warm-up
// happen before OnPhaseBegin("train"), so a meter window bound to the phase
// sees only measured steps; "eval" is its own phase over the test split.
#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <random>

#include "workload/data.h"
#include "workload/engine.h"
#include "workload/script.h"
#include "workload/torch_util.h"
#include "workload/zoo/zoo.h"

namespace wattlab::workload {

namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

Status ValidateTrain(const TrainConfig& c) {
  if (c.model.empty() && c.torchscript.empty())
    return Status::InvalidArgument(
        "no model given: use --model NAME ('wattlab models' lists them) or --torchscript FILE --input CxHxW");
  if (!c.model.empty() && !c.torchscript.empty())
    return Status::InvalidArgument("give --model NAME or --torchscript FILE, not both");
  if (!c.torchscript.empty() && !c.input)
    return Status::InvalidArgument(
        "--torchscript needs --input CxHxW (the model's input shape, e.g. 3x32x32)");
  if ((c.epochs > 0) == (c.steps > 0))
    return Status::InvalidArgument("give exactly one of --epochs N or --steps N, with N > 0");
  if (c.epochs < 0 || c.steps < 0) return Status::InvalidArgument("--epochs and --steps must be positive");
  if (c.batch_size < 1) return Status::InvalidArgument("--batch-size must be at least 1");
  if (c.warmup_steps < 0) return Status::InvalidArgument("warm-up steps must be 0 or more");
  if (c.optimizer != "sgd" && c.optimizer != "adam")
    return Status::InvalidArgument("unknown optimizer '" + c.optimizer + "': use sgd or adam");
  if (!(c.lr > 0) || !std::isfinite(c.lr)) return Status::InvalidArgument("--lr must be a positive number");
  if (c.momentum < 0 || !std::isfinite(c.momentum))
    return Status::InvalidArgument("--momentum must be 0 or more");
  if (c.weight_decay < 0 || !std::isfinite(c.weight_decay))
    return Status::InvalidArgument("--weight-decay must be 0 or more");
  if (c.threads < 0) return Status::InvalidArgument("--threads must be 0 (all cores) or more");
  if (c.eval_samples < 0 || c.train_samples < 0)
    return Status::InvalidArgument("sample limits must be 0 or more");
  if (!std::isfinite(c.eval_min_duration_s) || c.eval_min_duration_s < 0 || c.eval_min_batches < 0)
    return Status::InvalidArgument("the least evaluation time and batches must be 0 or more");
  return CheckPrecision(c.precision);
}

// One batch as tensors in the model's shape and precision.
struct Batch {
  torch::Tensor x, y;
};

Batch MakeBatch(const Dataset& ds, const std::vector<int64_t>& order, size_t begin, size_t end,
                const Shape& shape, torch::Dtype dtype) {
  const int64_t n = static_cast<int64_t>(end - begin);
  torch::Tensor x = torch::empty({n, shape.c, shape.h, shape.w}, torch::kFloat32);
  torch::Tensor y = torch::empty({n}, torch::kInt64);
  FillBatch(ds, order, begin, end, shape, x.data_ptr<float>(), y.data_ptr<int64_t>());
  if (dtype != torch::kFloat32) x = x.to(dtype);
  return {x, y};
}

Result<TrainResult> TrainImpl(Env* env, const TrainConfig& cfg, WorkloadObserver* obs) {
  const auto t_setup = Clock::now();
  ConfigureThreads(cfg.threads);
  const torch::Dtype dtype = cfg.precision == "bf16" ? torch::kBFloat16 : torch::kFloat32;

  // Fail on a bad model name before reading any data. A TorchScript model's
  // input is what the user says it is; the data is adapted to it as to a zoo
  // model's native input.
  Shape native;
  if (!cfg.torchscript.empty()) {
    native = *cfg.input;
  } else {
    WATTLAB_ASSIGN_OR_RETURN(native, zoo::NativeInput(cfg.model));
  }
  WATTLAB_ASSIGN_OR_RETURN(DataSplit data,
                           LoadDataset(env, cfg.dataset, cfg.seed, cfg.train_samples, cfg.eval_samples));
  const Shape shape = AdaptedShape(data.train.shape, native);
  const int64_t classes = data.train.classes;

  TrainResult r;
  torch::manual_seed(cfg.seed);
  // The model as a forward pass, its trainable parameters and its mode switch.
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  std::vector<torch::Tensor> parameters;
  std::function<void(bool)> set_training;
  std::shared_ptr<zoo::Net> net;
  TrainableScript script;
  if (!cfg.torchscript.empty()) {
    if (!(shape == native))
      return Status::InvalidArgument("the data (" + data.train.shape.ToString() +
                                     ") cannot be made into --input " + native.ToString() +
                                     " (padding and 1 -> 3 channels only): give the model's real input shape "
                                     "or another --dataset");
    WATTLAB_ASSIGN_OR_RETURN(script, LoadTrainableScript(env, cfg.torchscript, shape, dtype));
    if (script.facts.classes < classes)
      return Status::InvalidArgument("the TorchScript model '" + cfg.torchscript + "' gives " +
                                     std::to_string(script.facts.classes) + " outputs, but " + cfg.dataset +
                                     " has " + std::to_string(classes) + " classes");
    r.model = script.facts;
    forward = script.forward;
    parameters = script.parameters;
    set_training = script.set_training;
  } else {
    WATTLAB_ASSIGN_OR_RETURN(r.model, DescribeZooModel(cfg.model, shape, classes));
    WATTLAB_ASSIGN_OR_RETURN(net, zoo::Build(cfg.model, shape, classes));
    net->to(dtype);
    net->train();
    forward = [&net](const torch::Tensor& x) { return net->forward(x); };
    parameters = net->parameters();
    set_training = [&net](bool on) { net->train(on); };
  }

  std::unique_ptr<torch::optim::Optimizer> opt;
  if (cfg.optimizer == "adam") {
    opt = std::make_unique<torch::optim::Adam>(
        parameters, torch::optim::AdamOptions(cfg.lr).weight_decay(cfg.weight_decay));
  } else {
    opt = std::make_unique<torch::optim::SGD>(
        parameters, torch::optim::SGDOptions(cfg.lr).momentum(cfg.momentum).weight_decay(cfg.weight_decay));
  }

  const Dataset& train = data.train;
  const int64_t n_train = train.size();
  const int64_t batches_per_epoch = (n_train + cfg.batch_size - 1) / cfg.batch_size;
  const int64_t total_steps = cfg.steps > 0 ? cfg.steps : cfg.epochs * batches_per_epoch;
  const int64_t epochs = cfg.steps > 0 ? (cfg.steps + batches_per_epoch - 1) / batches_per_epoch : cfg.epochs;
  std::mt19937_64 rng(cfg.seed);

  auto step = [&](const Batch& b) -> double {
    opt->zero_grad();
    torch::Tensor logits = forward(b.x);
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits.to(torch::kFloat32), b.y);
    loss.backward();
    opt->step();
    return loss.item<double>();
  };
  const auto t_warm = Clock::now();
  r.setup_s = Seconds(t_setup, t_warm);

  // Warm-up: real steps (first-touch allocations, optimizer state, thread
  // pools) on batches drawn from their own permutation, outside the window.
  if (cfg.warmup_steps > 0) {
    std::mt19937_64 warm_rng(cfg.seed ^ 0x5bd1e995u);
    std::vector<int64_t> warm_order = Permutation(n_train, warm_rng);
    for (int64_t s = 0; s < cfg.warmup_steps; ++s) {
      size_t begin = static_cast<size_t>((s * cfg.batch_size) % n_train);
      size_t end = std::min<size_t>(begin + cfg.batch_size, n_train);
      step(MakeBatch(train, warm_order, begin, end, shape, dtype));
    }
  }
  r.warmup_s = Seconds(t_warm, Clock::now());

  obs->OnPhaseBegin("train");
  // train_duration_s excludes the phase's own edge work (meter readings);
  // epoch edges inside it are included.
  const auto t_train = Clock::now();
  int64_t done = 0;
  bool ended = false;  // the observer ended the phase (ShouldEndTraining)
  for (int64_t e = 1; e <= epochs && done < total_steps && !ended; ++e) {
    obs->OnEpochBegin(e);
    std::vector<int64_t> order = Permutation(n_train, rng);
    int64_t epoch_samples = 0;
    double epoch_loss_sum = 0;
    for (int64_t b = 0; b < batches_per_epoch && done < total_steps; ++b) {
      if (obs->ShouldStop())
        return Status::Interrupted("training stopped on request after " + std::to_string(done) + " steps");
      size_t begin = static_cast<size_t>(b * cfg.batch_size);
      size_t end = std::min<size_t>(begin + cfg.batch_size, n_train);
      double loss = step(MakeBatch(train, order, begin, end, shape, dtype));
      int64_t n = static_cast<int64_t>(end - begin);
      ++done;
      epoch_samples += n;
      epoch_loss_sum += loss * static_cast<double>(n);
      r.step_loss.push_back(loss);
      obs->OnStepEnd(done, n, loss);
      if (obs->ShouldEndTraining()) {
        ended = true;
        break;
      }
    }
    double mean_loss = epoch_samples > 0 ? epoch_loss_sum / static_cast<double>(epoch_samples) : 0;
    r.epoch_loss.push_back(mean_loss);
    r.samples += epoch_samples;
    obs->OnEpochEnd(e, epoch_samples, mean_loss);
  }
  const auto t_train_end = Clock::now();
  obs->OnPhaseEnd("train", r.samples);
  r.steps = done;
  r.train_duration_s = Seconds(t_train, t_train_end);
  r.samples_per_s = r.train_duration_s > 0 ? static_cast<double>(r.samples) / r.train_duration_s : 0;
  r.accuracy_meaningful = train.accuracy_meaningful;

  if (cfg.evaluate && data.test.size() > 0) {
    const Dataset& test = data.test;
    std::vector<int64_t> order(test.size());
    for (int64_t i = 0; i < test.size(); ++i) order[i] = i;
    set_training(false);
    torch::NoGradGuard no_grad;
    int64_t correct = 0, evaluated = 0, batches = 0;
    obs->OnPhaseBegin("eval");
    const auto t_eval = Clock::now();
    for (int64_t begin = 0; begin < test.size(); begin += cfg.batch_size) {
      if (obs->ShouldStop()) return Status::Interrupted("evaluation stopped on request");
      if (cfg.eval_min_duration_s > 0 && batches >= cfg.eval_min_batches &&
          Seconds(t_eval, Clock::now()) >= cfg.eval_min_duration_s)
        break;
      size_t end = std::min<size_t>(begin + cfg.batch_size, test.size());
      Batch b = MakeBatch(test, order, begin, end, shape, dtype);
      torch::Tensor pred = forward(b.x).argmax(1);
      correct += pred.eq(b.y).sum().item<int64_t>();
      obs->OnEvalBatchEnd(++batches, static_cast<int64_t>(end) - begin);
      evaluated += static_cast<int64_t>(end) - begin;
    }
    r.eval_duration_s = Seconds(t_eval, Clock::now());
    r.eval_samples = evaluated;
    obs->OnPhaseEnd("eval", r.eval_samples);
    if (test.accuracy_meaningful && evaluated > 0)
      r.accuracy = static_cast<double>(correct) / static_cast<double>(evaluated);
  }
  return r;
}

}  // namespace

Result<TrainResult> RunTraining(Env* env, const TrainConfig& config, WorkloadObserver* observer) {
  WATTLAB_RETURN_IF_ERROR(ValidateTrain(config));
  WorkloadObserver none;
  WorkloadObserver* obs = observer ? observer : &none;
  return CatchTorch("training " + (config.model.empty() ? config.torchscript : config.model),
                    [&]() { return TrainImpl(env, config, obs); });
}

}  // namespace wattlab::workload
