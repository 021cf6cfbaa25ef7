// A TorchScript module to train, handed from infer.cc (the one file that
// includes torch/script.h) to train.cc as plain libtorch pieces: its forward
// pass, the parameters the optimizer updates, and its train/eval switch.
// Only for src/workload/ files that already include libtorch.
#pragma once

#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/env.h"
#include "wattlab/workload.h"

namespace wattlab::workload {

struct TrainableScript {
  ModelFacts facts;  // counted on `input` (params: those that require grad)
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  std::vector<torch::Tensor> parameters;  // the ones that require grad
  std::function<void(bool)> set_training;
  std::shared_ptr<void> module;  // keeps the module alive for the functions above
};

// Loads `path`, moves it to `dtype` and into training mode. NotFound for a
// missing file; InvalidArgument for a file that is not TorchScript, a model
// that does not run on `input`, or one without a parameter that requires grad.
Result<TrainableScript> LoadTrainableScript(Env* env, const std::string& path, const Shape& input,
                                            torch::Dtype dtype);

}  // namespace wattlab::workload
