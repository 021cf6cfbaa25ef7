// Datasets for the workload engine: Fashion-MNIST (idx, gzip) and CIFAR-10
// (binary batches) through the readers of src/data/ (data/readers.h), and
// synthetic data, with no libtorch type in sight.
//
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
#include "data/readers.h"
#include "wattlab/status.h"
#include "wattlab/workload.h"

namespace wattlab::workload {

// The readers (Fashion-MNIST, CIFAR-10) are torch-free and live in src/data/.
using data::Dataset;
using data::Gunzip;
using data::IdxArray;
using data::kFashionMnistDir;
using data::LoadCifar10;
using data::LoadFashionMnist;
using data::ParseIdx;
using data::ReadBinaryFile;

struct DataSplit {
  Dataset train;
  Dataset test;
};

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
