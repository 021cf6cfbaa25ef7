// Datasets for the workload engine: Fashion-MNIST (idx, gzip), CIFAR-10
// (binary batches) and synthetic data, read by our own code (no torchvision,
// no downloads), with no libtorch type in sight so parsing builds and tests
// quickly.
//
// A Dataset keeps raw 8-bit pixels at the dataset's own shape (60,000
// Fashion-MNIST images are 47 MB this way, 737 MB as padded 3x32x32 floats).
// FillBatch turns selected samples into normalised floats in the shape a model
// needs: padding with background (pixel value 0) and repeating a single grey
// channel into three, so the model stays the reference architecture.
//
// Thread-safety: Datasets are plain values; FillBatch only reads.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "wattlab/status.h"
#include "wattlab/workload.h"

namespace wattlab::workload {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct Dataset {
  std::string name;  // "fashion-mnist/train", "cifar10/test", "synthetic/train"
  Shape shape;       // per-sample shape of the stored pixels
  int64_t classes = 10;
  std::vector<uint8_t> pixels;   // N x C x H x W
  std::vector<int64_t> labels;   // N, each in [0, classes)
  std::vector<float> mean, std;  // per channel, in [0,1] pixel units, for normalisation
  bool accuracy_meaningful = true;

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int64_t SampleBytes() const { return shape.c * shape.h * shape.w; }
};

struct DataSplit {
  Dataset train;
  Dataset test;
};

// Inflates a whole gzip member. `what` names the source in errors.
// Corruption for bad or truncated streams.
Result<std::string> Gunzip(std::string_view bytes, const std::string& what);
// Reads a file whole. NotFound / IOError with the path.
Result<std::string> ReadBinaryFile(Env* env, const std::string& path);

// An idx array (the MNIST file format): unsigned byte data only.
struct IdxArray {
  std::vector<int64_t> dims;
  std::string data;  // row-major bytes, product(dims) long
};
// REQUIRES: expected_rank 1 (labels, magic 0x801) or 3 (images, magic 0x803).
Result<IdxArray> ParseIdx(std::string_view bytes, int expected_rank, const std::string& what);

// Fashion-MNIST split "train" or "t10k" from dir (gzip'd idx files). limit 0 = all.
Result<Dataset> LoadFashionMnist(Env* env, const std::string& dir, const std::string& split, int64_t limit);
// CIFAR-10 binary files (1 label byte + 3072 pixel bytes per record). limit 0 = all.
Result<Dataset> LoadCifar10(Env* env, const std::vector<std::string>& files, const std::string& name,
                            int64_t limit);
// Random pixels and labels from a seeded generator; accuracy is meaningless.
Dataset MakeSynthetic(const Shape& shape, int64_t n, int64_t classes, uint64_t seed, const std::string& name);

// Parses a dataset spec and loads both splits:
//   "fashion-mnist" (or "fashion-mnist:DIR"), "cifar10:DIR", "synthetic:CxHxW:N".
// train_limit / test_limit 0 = whole split. The synthetic test split has
// max(1, N/5) samples.
Result<DataSplit> LoadDataset(Env* env, const std::string& spec, uint64_t seed, int64_t train_limit,
                              int64_t test_limit);

// The shape a model gets for data of shape `data`, given the model's native
// input: the native shape when the data fits into it by padding and channel
// repetition (1 -> 3), else the data's own shape.
Shape AdaptedShape(const Shape& data, const Shape& native);
// Checks that data of shape `from` can be made into `to` (pad, repeat 1 -> C).
Status CheckAdaptable(const Shape& from, const Shape& to);

// Writes the samples `indices[begin, end)` of `ds` into out (n x to.c x to.h x
// to.w floats, normalised, centred with padding) and their labels.
// REQUIRES: CheckAdaptable(ds.shape, to).ok(); out sized for end-begin samples.
void FillBatch(const Dataset& ds, const std::vector<int64_t>& indices, size_t begin, size_t end,
               const Shape& to, float* out, int64_t* labels_out);

// A reproducible permutation of [0, n): our own Fisher-Yates over a seeded
// mt19937_64 (std::shuffle's algorithm is implementation-defined).
std::vector<int64_t> Permutation(int64_t n, std::mt19937_64& rng);

}  // namespace wattlab::workload
