// The libtorch workload engine seen from the rest of src/workload/ and its
// tests, without libtorch types: the engine factory and the three halves it
// is built from (describe/count in engine.cc, training in train.cc,
// inference in infer.cc), split so each libtorch-including file stays small.
//
// Ownership: NewTorchEngine returns an engine the caller owns; the plugin entry
// point (plugin_entry.cc) hands one out that lives for the process.
// Thread-safety: one Train/Infer at a time per process (libtorch's thread
// pool settings are process-global).
#pragma once

#include <memory>
#include <string>

#include "core/env.h"
#include "wattlab/workload.h"

namespace wattlab::workload {

std::unique_ptr<WorkloadEngine> NewTorchEngine(Env* env);

// Implemented in train.cc and infer.cc. Every libtorch exception is caught
// and returned as a Status.
Result<TrainResult> RunTraining(Env* env, const TrainConfig& config, WorkloadObserver* observer);
Result<InferResult> RunInference(Env* env, const InferConfig& config, WorkloadObserver* observer);

// `wattlab calibrate`'s micro-benchmarks (calibrate.cc).
Result<CalibrationResult> RunCalibration(const CalibrationConfig& config);

// Operator records of a TorchScript file's forward pass in eval mode (infer.cc).
Result<OpProfile> ProfileTorchScriptFile(Env* env, const std::string& path, const Shape& input);

// Facts for a zoo model at the given input and classes (analytic counter).
Result<ModelFacts> DescribeZooModel(const std::string& model, const Shape& input, int64_t classes);

// Sets libtorch's intra-op threads (0 = every core) and, once per process,
// its inter-op threads. Returns the thread count in force.
int ConfigureThreads(int threads);

// Validates "fp32" | "bf16".
Status CheckPrecision(const std::string& precision);

}  // namespace wattlab::workload
