// The model zoo and its two MAC counters.
//
// What: builds the networks wattlab studies (the 16 CIFAR-10 classifiers of
// the reference study in their kuangliu/pytorch-cifar forms, five torchvision
// ImageNet forms named "imagenet/<name>", and three parametric families named
// by spec strings) for any input shape and class count, and counts their
// trainable parameters and forward MACs per sample.
//
// Two counters that share no code path, so agreement between them is a check:
//   * CountAnalytic walks the zoo's own layer descriptions (module options and
//     the model's own wiring) with symbolic shapes; no operator runs.
//   * CountTraced runs a forward pass once at batch 1 under a libtorch
//     operator observer (at::RecordFunction) and counts the aten operators it
//     sees from their input/output shapes, knowing nothing of module types.
//     It is what counts a user's TorchScript model.
// The MAC convention (what counts as a MAC, per-element costs of the other
// kinds, bias adds) is written down in docs/mac-convention.md.
//
// Ownership: Build returns a shared_ptr the caller owns. Nothing is cached.
// Thread-safety: Build/CountAnalytic are reentrant. CountTraced installs a
// thread-local operator callback for its duration and counts only operators
// dispatched on the calling thread, so calls on different threads are
// independent; a `forward` that hands work to other threads is undercounted.
// libtorch exceptions never escape: they become Status values.
//
// Only included inside src/workload/ (it exposes torch types).
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "wattlab/status.h"
#include "wattlab/workload.h"

namespace wattlab::zoo {

// Every zoo model. forward takes [N, C, H, W] and returns [N, classes] logits.
class Net : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(torch::Tensor x) = 0;
};

// The 16 CIFAR names, the "imagenet/<name>"s, then example family specs
// ("mlp:depth=3,width=256", "resnet:depth=20,width=16",
// "transformer:layers=4,d_model=128,heads=4,seq=64"): catalog::ModelNames().
std::vector<std::string> Names();

// The input a model was designed for: 3x32x32 for CIFAR forms and families,
// 3x224x224 for imagenet/* (the catalog's). Unknown name or bad spec ->
// InvalidArgument.
Result<Shape> NativeInput(const std::string& name);

// 10 for CIFAR forms and families, 1000 for imagenet/*.
int64_t NativeClasses(const std::string& name);

// Builds `name` for `input` and `classes` (the classifier's input size adapts
// to the shape). Unknown name -> InvalidArgument listing the valid names and
// the family spec forms; a shape too small for the model's downsampling ->
// InvalidArgument saying the minimum. The model is in training mode.
Result<std::shared_ptr<Net>> Build(const std::string& name, const Shape& input, int64_t classes);

// Analytic counter: params + macs + macs_by_kind, counter = "analytic".
Result<ModelFacts> CountAnalytic(const std::string& name, const Shape& input, int64_t classes);

// Where `name` can be cut between top-level blocks (one tensor crossing; the
// zoo's models chain their top-level blocks, so every block boundary
// qualifies), from a symbolic pass: activation elements per sample and the
// share of forward MACs before the cut. Boundaries with no MACs before them
// (the input itself) or none after are left out, and a block's output that
// is the next block's input appears once ("after blockK"). Models without
// blocks (lenet, vgg16, mlp) have none.
Result<std::vector<SplitPoint>> SplitPoints(const std::string& name, const Shape& input, int64_t classes);

// Traced counter result: per-sample forward MACs and per-kind work.
// macs_by_kind always has "conv" and "linear"; "matmul" when nonzero; "norm",
// "act", "pool", "elementwise" when nonzero.
struct OpCounts {
  int64_t macs = 0;
  std::map<std::string, int64_t> macs_by_kind;
};

// Runs `forward` once (no grad) on a batch-1 zeros input of `input` shape and
// counts the operators it runs. The caller chooses train/eval mode (eval is
// the norm: batch-norm at batch 1 in train mode fails on 1x1 maps).
Result<OpCounts> CountTraced(const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                             const Shape& input);

// The operator-level view of the same pass (issue 12): every operator the
// forward runs at batch 1, as OpRecords (wattlab/workload.h). Recognised
// operators are taken at their outermost recognised level (as CountTraced
// counts them); views and metadata operators are free; copies (cat, clone,
// pad, a reshape that copies) are "other"; any other outermost aten operator
// that runs no recognised operator inside is "unknown" and named in
// *unknown. Runs with no grad, in the mode the caller chose.
Result<std::vector<OpRecord>> TraceOps(const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                                       const Shape& input, std::vector<std::string>* unknown);

// Sum of numel over parameters with requires_grad.
int64_t CountTrainableParams(torch::nn::Module& m);

}  // namespace wattlab::zoo
