// Dataset readers without libtorch: Fashion-MNIST (idx files, gzip'd) and
// CIFAR-10 (binary batches), read by our own code (no torchvision, no
// downloads). They live outside src/workload/ so they build, test and fuzz
// alone (tests/fuzz/idx_fuzz.cc, cifar_fuzz.cc); the workload engine turns
// a Dataset into batches (workload/data.h).
//
// A Dataset keeps raw 8-bit pixels at the dataset's own shape (60,000
// Fashion-MNIST images are 47 MB this way, 737 MB as padded 3x32x32 floats).
//
// Files are read through the Env passed in; the parsers (Gunzip, ParseIdx,
// ParseCifar10) are pure functions over byte buffers. Errors are Corruption
// naming the file (`what`) and saying what is wrong with it.
//
// Thread-safety: Datasets are plain values; the functions keep no state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "wattlab/status.h"
#include "wattlab/workload.h"

namespace wattlab::data {

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

// Inflates a whole gzip member. `what` names the source in errors.
// Corruption for bad or truncated streams, and for output beyond
// kMaxGunzipBytes (a gzip bomb, or not a dataset file).
inline constexpr size_t kMaxGunzipBytes = size_t{1} << 32;
Result<std::string> Gunzip(std::string_view bytes, const std::string& what);
// Reads a file whole. NotFound / IOError with the path.
Result<std::string> ReadBinaryFile(Env* env, const std::string& path);

// An idx array (the MNIST file format): unsigned byte data only.
struct IdxArray {
  std::vector<int64_t> dims;  // each >= 1; their product is data.size()
  std::string data;           // row-major bytes, product(dims) long
};
// REQUIRES: expected_rank 1 (labels, magic 0x801) or 3 (images, magic 0x803).
Result<IdxArray> ParseIdx(std::string_view bytes, int expected_rank, const std::string& what);

// Fashion-MNIST split "train" or "t10k" from dir (gzip'd idx files). limit 0 = all.
Result<Dataset> LoadFashionMnist(Env* env, const std::string& dir, const std::string& split, int64_t limit);

// The bytes of one CIFAR-10 binary file (records of 1 label byte + 3072
// pixel bytes) appended to `ds` (shape 3x32x32), until ds holds `limit`
// samples (0 = no limit). Corruption naming `what` when the size is not a
// whole number of records or a label is outside 0..9; ds is then unchanged.
inline constexpr int64_t kCifar10RecordBytes = 1 + 3 * 32 * 32;
Status ParseCifar10(std::string_view bytes, const std::string& what, int64_t limit, Dataset* ds);
// CIFAR-10 binary files (1 label byte + 3072 pixel bytes per record). limit 0 = all.
Result<Dataset> LoadCifar10(Env* env, const std::vector<std::string>& files, const std::string& name,
                            int64_t limit);

}  // namespace wattlab::data
