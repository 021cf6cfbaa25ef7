#include "workload/data.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/strings.h"

namespace wattlab::workload {

namespace {

constexpr const char* kFashionInstallHint =
    "install dataset-fashion-mnist: apt-get install dataset-fashion-mnist";

uint32_t BigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// Bounded pseudo-random integer in [0, bound); the tiny modulo bias does not
// matter for shuffling and keeps the sequence identical across standard libraries.
uint64_t Below(std::mt19937_64& rng, uint64_t bound) { return rng() % bound; }

}  // namespace

Result<std::string> ReadBinaryFile(Env* env, const std::string& path) { return env->ReadFile(path); }

Result<std::string> Gunzip(std::string_view bytes, const std::string& what) {
  z_stream zs{};
  // 16 + MAX_WBITS: expect a gzip header, not a raw zlib stream.
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return Status::Internal("zlib inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  std::string out;
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // input ended before the stream did
  }
  inflateEnd(&zs);
  if (rc == Z_STREAM_END) return out;
  if (rc == Z_OK || rc == Z_BUF_ERROR)
    return Status::Corruption(what + ": truncated gzip data (the stream ends early); reinstall the file");
  return Status::Corruption(what + ": not valid gzip data (" +
                            (zs.msg ? zs.msg : "zlib error " + std::to_string(rc)) + ")");
}

Result<IdxArray> ParseIdx(std::string_view bytes, int expected_rank, const std::string& what) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 4)
    return Status::Corruption(what + ": too short for an idx header (" + std::to_string(bytes.size()) +
                              " bytes)");
  uint32_t magic = BigEndian32(p);
  uint32_t expected_magic = 0x800u | static_cast<uint32_t>(expected_rank);
  if (magic != expected_magic) {
    char got[16], want[16];
    std::snprintf(got, sizeof got, "0x%08x", magic);
    std::snprintf(want, sizeof want, "0x%08x", expected_magic);
    return Status::Corruption(what + ": wrong idx magic " + got + " (expected " + want +
                              ", unsigned bytes of rank " + std::to_string(expected_rank) + ")");
  }
  size_t header = 4 + 4 * static_cast<size_t>(expected_rank);
  if (bytes.size() < header) return Status::Corruption(what + ": truncated idx header");
  IdxArray a;
  uint64_t total = 1;
  for (int i = 0; i < expected_rank; ++i) {
    uint32_t d = BigEndian32(p + 4 + 4 * i);
    if (d == 0) return Status::Corruption(what + ": idx dimension " + std::to_string(i) + " is zero");
    a.dims.push_back(d);
    total *= d;
    if (total > (uint64_t{1} << 36)) return Status::Corruption(what + ": implausibly large idx dimensions");
  }
  if (bytes.size() - header < total)
    return Status::Corruption(what + ": truncated idx data (" + std::to_string(bytes.size() - header) +
                              " bytes, header promises " + std::to_string(total) + ")");
  if (bytes.size() - header > total)
    return Status::Corruption(what + ": " + std::to_string(bytes.size() - header - total) +
                              " unexpected bytes after the idx data");
  a.data.assign(bytes.substr(header));
  return a;
}

Result<Dataset> LoadFashionMnist(Env* env, const std::string& dir, const std::string& split, int64_t limit) {
  std::string images_path = dir + "/" + split + "-images-idx3-ubyte.gz";
  std::string labels_path = dir + "/" + split + "-labels-idx1-ubyte.gz";
  auto load = [&](const std::string& path, int rank) -> Result<IdxArray> {
    auto raw = ReadBinaryFile(env, path);
    if (!raw.ok()) {
      if (raw.status().kind() == Status::Kind::kNotFound)
        return Status::NotFound("Fashion-MNIST file " + path + " is missing; " + kFashionInstallHint);
      return raw.status();
    }
    WATTLAB_ASSIGN_OR_RETURN(std::string bytes, Gunzip(*raw, path));
    return ParseIdx(bytes, rank, path);
  };
  WATTLAB_ASSIGN_OR_RETURN(IdxArray images, load(images_path, 3));
  WATTLAB_ASSIGN_OR_RETURN(IdxArray labels, load(labels_path, 1));
  if (images.dims[0] != labels.dims[0])
    return Status::Corruption(images_path + " has " + std::to_string(images.dims[0]) + " images but " +
                              labels_path + " has " + std::to_string(labels.dims[0]) + " labels");
  Dataset ds;
  ds.name = "fashion-mnist/" + std::string(split == "t10k" ? "test" : split);
  ds.shape = Shape{1, images.dims[1], images.dims[2]};
  ds.classes = 10;
  ds.mean = {0.2860f};
  ds.std = {0.3530f};
  int64_t n = images.dims[0];
  if (limit > 0) n = std::min(n, limit);
  ds.pixels.assign(images.data.begin(), images.data.begin() + n * ds.SampleBytes());
  ds.labels.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    int64_t l = static_cast<unsigned char>(labels.data[i]);
    if (l >= ds.classes)
      return Status::Corruption(labels_path + ": label " + std::to_string(l) + " at index " +
                                std::to_string(i) + " is outside 0..9");
    ds.labels[i] = l;
  }
  return ds;
}

Result<Dataset> LoadCifar10(Env* env, const std::vector<std::string>& files, const std::string& name,
                            int64_t limit) {
  constexpr int64_t kRecord = 1 + 3 * 32 * 32;
  Dataset ds;
  ds.name = name;
  ds.shape = Shape{3, 32, 32};
  ds.classes = 10;
  // The per-channel statistics used by the reference CIFAR training code.
  ds.mean = {0.4914f, 0.4822f, 0.4465f};
  ds.std = {0.2023f, 0.1994f, 0.2010f};
  for (const auto& path : files) {
    auto raw = ReadBinaryFile(env, path);
    if (!raw.ok()) {
      if (raw.status().kind() == Status::Kind::kNotFound)
        return Status::NotFound(
            "CIFAR-10 file " + path +
            " is missing; give the folder holding data_batch_1..5.bin and test_batch.bin "
            "(the 'CIFAR-10 binary version'), e.g. --dataset cifar10:/data/cifar-10-batches-bin");
      return raw.status();
    }
    if (raw->empty() || raw->size() % kRecord != 0)
      return Status::Corruption(
          path + ": " + std::to_string(raw->size()) +
          " bytes is not a whole number of CIFAR-10 records (3073 bytes each); the file is "
          "truncated or not in the binary format");
    int64_t records = static_cast<int64_t>(raw->size()) / kRecord;
    for (int64_t r = 0; r < records; ++r) {
      if (limit > 0 && ds.size() >= limit) return ds;
      const char* rec = raw->data() + r * kRecord;
      int64_t label = static_cast<unsigned char>(rec[0]);
      if (label >= 10)
        return Status::Corruption(path + ": label " + std::to_string(label) + " in record " +
                                  std::to_string(r) + " is outside 0..9; not a CIFAR-10 binary file");
      ds.labels.push_back(label);
      ds.pixels.insert(ds.pixels.end(), rec + 1, rec + kRecord);
    }
  }
  return ds;
}

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
