// The workload interface: models, counting, training and inference, seen from
// outside src/workload/ with no libtorch type in sight.
//
// The engine lives in a plugin (libwattlab_torch.so) loaded only by commands
// that run a network, so `meters`, `measure`, `analyze`, ... start without
// paying for libtorch. The engine knows nothing of the meter: it announces
// phase, epoch and step boundaries to a WorkloadObserver, and the caller binds
// meter windows to them.
//
// Thread-safety: an engine runs one Train/Infer at a time; observers are
// called on the calling thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wattlab/status.h"

namespace wattlab {

struct Shape {
  int64_t c = 3, h = 32, w = 32;
  std::string ToString() const {
    return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
  }
  bool operator==(const Shape&) const = default;
};
// Parses "CxHxW" (e.g. "3x32x32"); InvalidArgument with the allowed form.
Result<Shape> ParseShape(const std::string& text);

// What a model is: the facts every run records.
struct ModelFacts {
  std::string name;  // as given: "resnet18", "imagenet/resnet50", "mlp:depth=3,width=256"
  Shape input;
  int64_t classes = 10;
  int64_t params = 0;  // trainable parameters
  int64_t macs = 0;    // forward multiply-accumulates per sample (conv, linear, matmul, attention)
  std::map<std::string, int64_t>
      macs_by_kind;  // "conv", "linear", "matmul", "norm", "act", "pool", "elementwise"
  double macs_per_param = 0;
  std::string counter;  // "analytic" or "traced"
};

// A place where a model can be cut in two between top-level blocks, so that
// exactly one tensor crosses it (never inside a block with a skip
// connection). Used by `wattlab place` for split computing.
struct SplitPoint {
  std::string layer;                // "after block3", "before block7", ... in forward order
  int64_t activation_elements = 0;  // elements per sample of the tensor crossing the cut
  double mac_share = 0;             // share (0..1) of the forward MACs computed before the cut
};

// Called by the engine at boundaries; the default does nothing.
class WorkloadObserver {
 public:
  virtual ~WorkloadObserver() = default;
  // phase: "train", "eval" or "infer". Setup and warm-up happen before OnPhaseBegin.
  virtual void OnPhaseBegin(const std::string& phase) { (void)phase; }
  virtual void OnPhaseEnd(const std::string& phase, int64_t samples) { (void)phase, (void)samples; }
  virtual void OnEpochBegin(int64_t epoch) { (void)epoch; }
  virtual void OnEpochEnd(int64_t epoch, int64_t samples, double mean_loss) {
    (void)epoch, (void)samples, (void)mean_loss;
  }
  virtual void OnStepEnd(int64_t step, int64_t samples, double loss) {
    (void)step, (void)samples, (void)loss;
  }
  // After each batch of the eval phase (1-based), with the samples it held;
  // the study's profile times them to extrapolate evaluation (study/profile.h).
  virtual void OnEvalBatchEnd(int64_t batch, int64_t samples) { (void)batch, (void)samples; }
  // Polled between steps; true stops the run early with Status::Interrupted.
  virtual bool ShouldStop() { return false; }
  // Polled after each training step (OnStepEnd): true ends the train phase
  // there, normally (OnEpochEnd, OnPhaseEnd with the samples done), and the
  // call goes on to evaluation as after its last step. TrainConfig's steps or
  // epochs stay the most it runs. The study's profile ends on it once the
  // mean step time is known well enough (study/profile.h).
  virtual bool ShouldEndTraining() { return false; }
};

struct TrainConfig {
  std::string model;           // zoo name, or empty when torchscript is set
  std::string torchscript;     // path to a TorchScript file (its parameters that require grad are trained)
  std::optional<Shape> input;  // the TorchScript model's input (required with torchscript)
  std::string dataset = "fashion-mnist";  // "fashion-mnist", "cifar10:DIR", "synthetic:CxHxW:N"
  int64_t epochs = 0;                     // either epochs or steps (> 0)
  int64_t steps = 0;
  int64_t warmup_steps = 1;  // outside the measured phase
  int64_t batch_size = 128;
  std::string optimizer = "sgd";  // "sgd" | "adam"
  double lr = 0.001;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  int threads = 0;                 // 0 = all cores; always set explicitly on libtorch
  std::string precision = "fp32";  // "fp32" | "bf16"
  uint64_t seed = 1;
  bool evaluate = true;      // run the eval phase over the test set
  int64_t eval_samples = 0;  // 0 = whole test set
  // When > 0: evaluation ends early, once it has run eval_min_batches batches
  // and lasted this long (the study's profile: a short pass that is still
  // long enough to time). eval_samples is then what it evaluated.
  double eval_min_duration_s = 0;
  int64_t eval_min_batches = 0;
  int64_t train_samples = 0;  // 0 = whole training set (limits data loaded)
};

struct TrainResult {
  ModelFacts model;
  double setup_s = 0;  // model construction + data loading
  double warmup_s = 0;
  int64_t steps = 0;    // measured steps
  int64_t samples = 0;  // measured training samples
  double train_duration_s = 0;
  std::vector<double> step_loss;   // per measured step
  std::vector<double> epoch_loss;  // mean per epoch
  std::optional<double> accuracy;  // test accuracy 0..1; absent when not evaluated or meaningless (synthetic)
  bool accuracy_meaningful = true;
  int64_t eval_samples = 0;
  double eval_duration_s = 0;
  double samples_per_s = 0;
};

struct InferConfig {
  std::string model;        // zoo name, or empty when torchscript is set
  std::string torchscript;  // path to a TorchScript file
  std::optional<Shape> input;
  int64_t classes = 10;
  int64_t batch_size = 1;
  int64_t samples = 1000;
  // When > 0, `samples` is the least: whole batches follow until the phase
  // has lasted this long, so a small model's window is not mostly its edges.
  double min_duration_s = 0;
  int64_t warmup_batches = 2;
  int threads = 0;
  std::string precision = "fp32";
  uint64_t seed = 1;
  // "packed": a zoo model's fp32 convolutions run on oneDNN with weights
  // reordered once before the window (src/workload/zoo/packing.h; same
  // network and arithmetic, libtorch reorders them on every call); "plain":
  // libtorch's own choice per call, as eager PyTorch. TorchScript files and
  // bf16 always run plain.
  std::string conv_weights = "packed";
};

struct InferResult {
  ModelFacts model;
  double setup_s = 0;
  double warmup_s = 0;
  int64_t samples = 0;
  int64_t batches = 0;
  double duration_s = 0;
  double samples_per_s = 0;
  double latency_p50_ms = 0, latency_p90_ms = 0, latency_p99_ms = 0;  // per batch
  double checksum = 0;                 // sum of outputs of the first batch, for determinism checks
  std::string conv_weights = "plain";  // in force: "packed" when any convolution was
  // Why plain: "asked" (--conv-weights plain), "no convolution", "TorchScript
  // file", "bf16", "oneDNN unavailable" (libtorch without it, disabled, or
  // autocast on), "none qualifies"; empty when packed.
  std::string conv_weights_why = "asked";
  int64_t convs = 0;         // a zoo model's convolution layers when packing was asked (else 0)
  int64_t packed_convs = 0;  // of them, packed
};

// One operator of a forward pass, as the traced counter saw it at batch 1
// (issue 12's operator-level cost model; docs/analysis.md). Kinds:
//   "conv" (dense), "conv_grouped" (1 < groups < in channels),
//   "conv_depthwise" (groups = in channels), "linear" (linear, addmm),
//   "matmul" (mm, bmm, matmul: attention products too), "pool", "norm",
//   "act", "elementwise", "other" (copies: cat, contiguous, pad, ...; costed
//   by bytes), "unknown" (an operator the counter does not know: costed as
//   "other" by bytes, listed, and it widens a prediction's interval).
struct OpRecord {
  std::string kind;
  std::string op;               // aten name without "aten::", e.g. "conv2d"
  int64_t work = 0;             // per sample: MACs (conv, linear, matmul), else elements (mac-convention)
  int64_t bytes = 0;            // per sample: fp32 bytes of tensor inputs and the output
  int64_t weight_elements = 0;  // per call: elements of the weight (conv, linear), read once a call
  int64_t reduce = 0;           // conv: in/groups x kh x kw; linear, matmul: inner dimension
  int64_t kernel = 0;           // conv, pool: kh x kw (0 for global pooling)
  int64_t groups = 1;           // conv
  bool operator==(const OpRecord&) const = default;
};

// A model's forward pass, operator by operator, at batch 1.
struct OpProfile {
  ModelFacts facts;                      // params, MACs (as Describe/DescribeTorchScript)
  std::vector<OpRecord> ops;             // forward order
  std::vector<std::string> unknown_ops;  // distinct names of the "unknown" ops, sorted
  int64_t param_tensors = 0;             // trainable parameter tensors (the optimizer's per-tensor cost)
  // Inference runs this model's convolutions with weights packed once (zoo
  // models, InferConfig::conv_weights "packed"); false for TorchScript files,
  // which run libtorch's choice per call: predictions use the calibration's
  // plain times for them (CalibrationPoint::forward_plain_s).
  bool convs_packed = false;
};

// `wattlab calibrate`: micro-benchmarks of each operator kind over a spread of
// shapes and batch sizes, at one thread count and precision.
struct CalibrationConfig {
  int threads = 0;                 // 0 = every core
  std::string precision = "fp32";  // "fp32" | "bf16"
  // "default" (a few minutes on 2 cores), "quick" (under 60 s) or "tiny"
  // (tests only: a handful of shapes, a few seconds; not for predictions).
  std::string shapes = "default";
};

// One measured shape: the operator (as a model's OpRecord would describe it),
// the batch it ran at, and its median time per call.
struct CalibrationPoint {
  OpRecord op;  // kind "optimizer": one SGD step over `work` parameters (batch 1)
  int64_t batch = 1;
  double forward_s = 0;  // inference: eval mode, no autograd
  double train_s = 0;    // training: forward in train mode with autograd, plus its backward
  // Conv and linear: training as a model's first layer, whose input (the
  // data) needs no gradient; 0 when not measured (older calibrations).
  double train_first_s = 0;
  // Convolutions: forward_s ran with the weights packed once, as inference
  // runs by default (InferConfig::conv_weights); false in older calibrations.
  bool forward_packed = false;
  // When forward_packed: the same inference as libtorch runs it per call
  // (TorchScript files, --conv-weights plain); 0 otherwise (forward_s is that).
  double forward_plain_s = 0;
  bool operator==(const CalibrationPoint&) const = default;
};

struct CalibrationResult {
  int threads = 0;  // in force (resolved from 0)
  std::string precision;
  std::string shapes;
  double duration_s = 0;
  std::vector<CalibrationPoint> points;
};

class WorkloadEngine {
 public:
  virtual ~WorkloadEngine() = default;
  // The zoo's names plus example family specs.
  virtual std::vector<std::string> ModelNames() const = 0;
  // Counts params and MACs. input/classes default to the model's native form.
  virtual Result<ModelFacts> Describe(const std::string& model, std::optional<Shape> input,
                                      std::optional<int64_t> classes) = 0;
  virtual Result<ModelFacts> DescribeTorchScript(const std::string& path, const Shape& input) = 0;
  virtual Result<TrainResult> Train(const TrainConfig& config, WorkloadObserver* observer) = 0;
  virtual Result<InferResult> Infer(const InferConfig& config, WorkloadObserver* observer) = 0;
  // Where `model` can be cut between top-level blocks (see SplitPoint), in
  // forward order, for input/classes as in Describe. NotSupported by engines
  // (and models) that do not know their structure.
  virtual Result<std::vector<SplitPoint>> SplitPoints(const std::string& model, std::optional<Shape> input,
                                                      std::optional<int64_t> classes) {
    (void)model, (void)input, (void)classes;
    return Status::NotSupported("this workload engine does not list split points");
  }
  // The forward pass operator by operator at batch 1 (OpRecord), for the
  // operator-level cost model; input/classes as in Describe.
  virtual Result<OpProfile> ProfileOps(const std::string& model, std::optional<Shape> input,
                                       std::optional<int64_t> classes) {
    (void)model, (void)input, (void)classes;
    return Status::NotSupported("this workload engine does not profile operators");
  }
  virtual Result<OpProfile> ProfileTorchScriptOps(const std::string& path, const Shape& input) {
    (void)path, (void)input;
    return Status::NotSupported("this workload engine does not profile operators");
  }
  // Runs the operator micro-benchmarks (CalibrationConfig). Sets the thread count.
  virtual Result<CalibrationResult> Calibrate(const CalibrationConfig& config) {
    (void)config;
    return Status::NotSupported("this workload engine does not calibrate");
  }
  // ("libtorch", "1.13.1"), ("blas", "openblas-openmp"), ...
  virtual std::vector<std::pair<std::string, std::string>> Versions() const = 0;
};

class Env;

// Plugin entry point exported by libwattlab_torch.so (C linkage, no mangling).
// The engine reaches the OS (dataset files, the BLAS probe, the environment)
// only through `env`, which must outlive every use of the engine.
extern "C" {
typedef WorkloadEngine* (*CreateWorkloadEngineFn)(Env* env);
}
inline constexpr const char* kCreateWorkloadEngineSymbol = "wattlab_create_workload_engine";

}  // namespace wattlab
