#include "workload/data.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

#include "core/strings.h"

namespace wattlab::workload {

namespace {

// Bounded pseudo-random integer in [0, bound); the tiny modulo bias does not
// matter for shuffling and keeps the sequence identical across standard libraries.
uint64_t Below(std::mt19937_64& rng, uint64_t bound) { return rng() % bound; }

}  // namespace

Dataset MakeSynthetic(const Shape& shape, int64_t n, int64_t classes, uint64_t seed,
                      const std::string& name) {
  Dataset ds;
  ds.name = name;
  ds.shape = shape;
  ds.classes = classes;
  ds.accuracy_meaningful = false;
  ds.mean.assign(shape.c, 0.5f);
  ds.std.assign(shape.c, 0.25f);
  std::mt19937_64 rng(seed);
  ds.pixels.resize(static_cast<size_t>(n * ds.SampleBytes()));
  // Eight pixels per draw keeps generation fast for large shapes.
  for (size_t i = 0; i < ds.pixels.size(); i += 8) {
    uint64_t r = rng();
    for (size_t k = 0; k < 8 && i + k < ds.pixels.size(); ++k)
      ds.pixels[i + k] = static_cast<uint8_t>(r >> (8 * k));
  }
  ds.labels.resize(n);
  for (auto& l : ds.labels) l = static_cast<int64_t>(Below(rng, static_cast<uint64_t>(classes)));
  return ds;
}

Result<DataSplit> LoadDataset(Env* env, const std::string& spec, uint64_t seed, int64_t train_limit,
                              int64_t test_limit) {
  DataSplit split;
  if (spec == "fashion-mnist" || StartsWith(spec, "fashion-mnist:")) {
    std::string dir = spec == "fashion-mnist" ? kFashionMnistDir : spec.substr(std::strlen("fashion-mnist:"));
    WATTLAB_ASSIGN_OR_RETURN(split.train, LoadFashionMnist(env, dir, "train", train_limit));
    WATTLAB_ASSIGN_OR_RETURN(split.test, LoadFashionMnist(env, dir, "t10k", test_limit));
    return split;
  }
  if (StartsWith(spec, "cifar10:")) {
    std::string dir = spec.substr(std::strlen("cifar10:"));
    if (dir.empty()) return Status::InvalidArgument("dataset 'cifar10:' needs a folder: cifar10:DIR");
    std::vector<std::string> train_files;
    for (int i = 1; i <= 5; ++i) train_files.push_back(dir + "/data_batch_" + std::to_string(i) + ".bin");
    WATTLAB_ASSIGN_OR_RETURN(split.train, LoadCifar10(env, train_files, "cifar10/train", train_limit));
    WATTLAB_ASSIGN_OR_RETURN(split.test,
                             LoadCifar10(env, {dir + "/test_batch.bin"}, "cifar10/test", test_limit));
    return split;
  }
  if (StartsWith(spec, "synthetic:")) {
    auto parts = Split(spec, ':');
    Status usage = Status::InvalidArgument("invalid dataset '" + spec +
                                           "': use synthetic:CxHxW:N with N > 0 training samples, e.g. "
                                           "synthetic:3x32x32:1024");
    if (parts.size() != 3) return usage;
    auto shape = ParseShape(parts[1]);
    if (!shape.ok()) return shape.status().WithContext("dataset '" + spec + "'");
    auto n = ParseInt(parts[2]);
    if (!n || *n <= 0 || *n > 10'000'000) return usage;
    if (*n * shape->c * shape->h * shape->w > (int64_t{1} << 34))
      return Status::InvalidArgument("dataset '" + spec + "' would need more than 16 GiB; use fewer samples");
    int64_t n_train = train_limit > 0 ? std::min(*n, train_limit) : *n;
    int64_t n_test = std::max<int64_t>(1, *n / 5);
    if (test_limit > 0) n_test = std::min(n_test, test_limit);
    split.train = MakeSynthetic(*shape, n_train, 10, seed, "synthetic/train");
    split.test = MakeSynthetic(*shape, n_test, 10, seed ^ 0x9e3779b97f4a7c15ull, "synthetic/test");
    return split;
  }
  return Status::InvalidArgument(
      "unknown dataset '" + spec +
      "': use fashion-mnist, cifar10:DIR (CIFAR-10 binary files) or synthetic:CxHxW:N");
}

Status CheckAdaptable(const Shape& from, const Shape& to) {
  bool channels_ok = from.c == to.c || from.c == 1;
  if (!channels_ok || from.h > to.h || from.w > to.w)
    return Status::InvalidArgument("data of shape " + from.ToString() + " cannot feed a model input of " +
                                   to.ToString() +
                                   ": only padding (smaller images) and repeating one grey channel are done; "
                                   "choose a dataset or --input that matches the model");
  return Status::Ok();
}

Shape AdaptedShape(const Shape& data, const Shape& native) {
  return CheckAdaptable(data, native).ok() ? native : data;
}

void FillBatch(const Dataset& ds, const std::vector<int64_t>& indices, size_t begin, size_t end,
               const Shape& to, float* out, int64_t* labels_out) {
  const Shape& from = ds.shape;
  const int64_t top = (to.h - from.h) / 2, left = (to.w - from.w) / 2;
  const int64_t plane = to.h * to.w;
  // Per-channel lookup from byte to normalised value: one table read per pixel.
  std::vector<std::array<float, 256>> lut(to.c);
  for (int64_t c = 0; c < to.c; ++c) {
    int64_t sc = from.c == 1 ? 0 : c;
    float m = ds.mean[sc], s = ds.std[sc];
    for (int v = 0; v < 256; ++v) lut[c][v] = (static_cast<float>(v) / 255.0f - m) / s;
  }
  for (size_t b = begin; b < end; ++b) {
    const int64_t idx = indices[b];
    const uint8_t* src = ds.pixels.data() + idx * ds.SampleBytes();
    float* dst = out + static_cast<int64_t>(b - begin) * to.c * plane;
    for (int64_t c = 0; c < to.c; ++c) {
      const uint8_t* sp = src + (from.c == 1 ? 0 : c) * from.h * from.w;
      float* dp = dst + c * plane;
      const auto& t = lut[c];
      if (from.h != to.h || from.w != to.w) std::fill(dp, dp + plane, t[0]);
      for (int64_t y = 0; y < from.h; ++y) {
        const uint8_t* srow = sp + y * from.w;
        float* drow = dp + (y + top) * to.w + left;
        for (int64_t x = 0; x < from.w; ++x) drow[x] = t[srow[x]];
      }
    }
    labels_out[b - begin] = ds.labels[idx];
  }
}

std::vector<int64_t> Permutation(int64_t n, std::mt19937_64& rng) {
  std::vector<int64_t> p(n);
  for (int64_t i = 0; i < n; ++i) p[i] = i;
  for (int64_t i = n - 1; i > 0; --i) std::swap(p[i], p[Below(rng, static_cast<uint64_t>(i + 1))]);
  return p;
}

}  // namespace wattlab::workload
