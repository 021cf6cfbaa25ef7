// The catalog: the one home of the facts about what wattlab can run, without
// libtorch and without the OS.
//
// What lives here (and nowhere else):
//   * the zoo's model names: the 16 reference CIFAR-10 classifiers, the
//     "imagenet/<name>" forms, and the parametric families with their grammar
//     ("mlp:depth=3,width=256") and the validation messages for bad specs;
//   * each model's native input shape and class count;
//   * trainable parameters, forward MACs per sample and macs_by_kind
//     (docs/mac-convention.md): from closed-form formulas for the families, at
//     any input shape and class count; from a table for the fixed zoo models,
//     at their native input and classes only (other shapes are "not known
//     analytically": NotSupported). The table is checked against libtorch's
//     counters for every model by tests/workload/zoo (label `torch`);
//   * the datasets the workload reads ("fashion-mnist", "cifar10:DIR",
//     "synthetic:CxHxW:N", ...) with their sample counts and shapes;
//   * a rough memory bound for a training configuration.
//
// The libtorch zoo (src/workload/zoo) builds what the catalog names; spec
// checking, planning and dry runs, prediction and the plugin's name list read
// the catalog, so a dry run never builds a model.
//
// Pure code, no OS calls, no libtorch; every function is thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "wattlab/status.h"
#include "wattlab/workload.h"

namespace wattlab::catalog {

// ------------------------------------------------------------------ models

// The 16 CIFAR-10 forms (kuangliu/pytorch-cifar), in the zoo's listing order
// ("lenet" first).
const std::vector<std::string>& CifarModels();
// The same 16 names in the reference study's order (SimpleDLA, DPN-26, ...).
const std::vector<std::string>& ReferenceModels();
// The torchvision ImageNet forms: "imagenet/resnet18", ...
const std::vector<std::string>& ImagenetModels();
// One example spec per family, in the zoo's listing order.
const std::vector<std::string>& FamilyExamples();
// Every name `wattlab models` lists: CIFAR forms, ImageNet forms, family examples.
std::vector<std::string> ModelNames();

// "mlp:depth=D,width=W | resnet:depth=D,width=W (D = 6n+2) | transformer:..."
const char* FamilyForms();

// A parsed family spec: "resnet:depth=20,width=16" -> {"resnet", {depth: 20, width: 16}}.
struct FamilySpec {
  std::string family;                     // "mlp", "resnet", "transformer"
  std::map<std::string, int64_t> values;  // exactly the family's keys
  int64_t at(const std::string& key) const { return values.at(key); }
};

// True when `name` is written as a family spec (its part before ':' is a
// family), whether or not the rest is valid.
bool IsFamilyName(const std::string& name);

// Parses and validates a family spec: exactly the family's keys, each an
// integer in range, resnet depth 6n+2, transformer d_model divisible by heads
// and seq a square. InvalidArgument saying what is wrong and the form;
// "unknown model ..." (listing every valid name) when no family matches.
Result<FamilySpec> ParseFamily(const std::string& name);

enum class ModelKind { kCifar, kImagenet, kFamily };

struct ModelInfo {
  std::string name;
  ModelKind kind = ModelKind::kCifar;
  Shape native_input;      // 3x32x32 (CIFAR forms, families), 3x224x224 (imagenet/*)
  int64_t native_classes;  // 10, or 1000 for imagenet/*
  std::optional<FamilySpec> family;
};

// InvalidArgument for an unknown name or a bad family spec, listing the valid
// names and the family forms.
Result<ModelInfo> LookupModel(const std::string& name);
// LookupModel's status alone.
Status CheckModelName(const std::string& name);

// Params, MACs and macs_by_kind, counter = "catalog". input/classes default
// to the model's native ones. Families: closed-form at any shape (a shape the
// model cannot take is InvalidArgument, as the zoo would say). Fixed models:
// their table at the native input and classes; any other -> NotSupported
// ("not known analytically"), never a model build.
Result<ModelFacts> CountModel(const std::string& name, std::optional<Shape> input = std::nullopt,
                              std::optional<int64_t> classes = std::nullopt);

// True when CountModel gives a figure from a closed-form formula (families),
// false when it comes from the verified table (fixed models).
bool CountedByFormula(const std::string& name);

// ---------------------------------------------------------------- datasets

struct DatasetInfo {
  std::string spec;  // as given
  std::string kind;  // "fashion-mnist", "cifar10", "synthetic"
  std::string dir;   // folder for file-backed datasets ("" = the default, or none)
  Shape shape;       // per-sample shape of the stored pixels
  int64_t classes = 10;
  int64_t train_samples = 0;
  int64_t test_samples = 0;
  bool accuracy_meaningful = true;  // false for synthetic data
  // Pixels held in memory when both splits are loaded whole (one byte each).
  int64_t bytes() const { return (train_samples + test_samples) * shape.c * shape.h * shape.w; }
};

// The dataset specs the workload loads:
//   "fashion-mnist" (or "fashion-mnist:DIR")  1x28x28, 60000 train / 10000 test
//   "cifar10:DIR"                              3x32x32, 50000 / 10000
//   "synthetic:CxHxW:N"                        N train (1..10,000,000) / max(1, N/5) test,
//                                              at most 16 GiB of pixels
// InvalidArgument for anything else, saying the allowed forms.
Result<DatasetInfo> LookupDataset(const std::string& spec);
// LookupDataset's status alone.
Status CheckDataset(const std::string& spec);
// "fashion-mnist, cifar10:DIR, synthetic:CxHxW:N"
const char* DatasetForms();

// Training-set size by dataset name or spec, for figures that need only the
// size ("cifar10" alone is accepted here: no folder is read). Case-insensitive.
// NotFound for an unknown name.
Result<int64_t> TrainSamplesByName(const std::string& name);

// ------------------------------------------------------------------ memory

// What a training configuration holds in memory (bytes). A documented rough
// bound (docs/mac-convention.md, "Memory of a training run"):
//   params, grads         params x bytes per element (fp32 4, bf16 2)
//   optimizer state       SGD with momentum 1x params, SGD without 0x, Adam 2x
//   activations           batch x (input + 2 x (norm + act + elementwise + pool))
//                         elements: every per-element operation keeps its
//                         output for the backward pass, and about as much again
//                         for the conv/linear output that feeds it
//   data                  the dataset's pixels, both splits (when given)
// libtorch's own code, thread buffers and allocator slack come on top.
struct TrainingMemory {
  int64_t params_bytes = 0;
  int64_t grads_bytes = 0;
  int64_t optimizer_bytes = 0;
  int64_t activations_bytes = 0;
  int64_t data_bytes = 0;
  int64_t total_bytes = 0;  // the sum, saturated at INT64_MAX
};

struct TrainingSetup {
  int64_t batch_size = 128;
  std::string optimizer = "sgd";   // "sgd" | "adam"
  double momentum = 0.9;           // SGD only
  std::string precision = "fp32";  // "fp32" | "bf16"
  std::optional<DatasetInfo> dataset;
};

// InvalidArgument for batch < 1, an unknown optimizer or precision.
Result<TrainingMemory> EstimateTrainingMemory(const ModelFacts& model, const TrainingSetup& setup);

// "1.2 GiB" style, for messages.
std::string FormatBytes(int64_t bytes);

}  // namespace wattlab::catalog
