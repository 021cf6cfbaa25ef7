// Fuzzes the Fashion-MNIST readers of src/data/ (data/readers.h): Gunzip and
// ParseIdx, alone and chained as LoadFashionMnist chains them. The first
// byte picks: bit 0 the rank (1 labels, 3 images), bit 1 whether the rest is
// inflated first. Invariants: an accepted array has `rank` dimensions, each
// >= 1, whose product is the data's length, and the data are the input's
// bytes after the header; a gzip stream never inflates past
// kMaxGunzipBytes; every refusal is Corruption naming the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "data/readers.h"
#include "fuzz_check.h"

using namespace wattlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int rank = (data[0] & 1) ? 3 : 1;
  const bool gzipped = (data[0] & 2) != 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string inflated;
  if (gzipped) {
    auto raw = data::Gunzip(bytes, "fuzz.gz");
    if (!raw.ok()) {
      FUZZ_CHECK(raw.status().kind() == Status::Kind::kCorruption, "gunzip refusal of another kind");
      FUZZ_CHECK(raw.status().message().rfind("fuzz.gz", 0) == 0, "message does not name the file");
      return 0;
    }
    FUZZ_CHECK(raw->size() <= data::kMaxGunzipBytes, "inflated %zu bytes", raw->size());
    inflated = std::move(*raw);
    bytes = inflated;
  }
  auto a = data::ParseIdx(bytes, rank, "fuzz-idx");
  if (!a.ok()) {
    FUZZ_CHECK(a.status().kind() == Status::Kind::kCorruption, "refusal of another kind");
    FUZZ_CHECK(a.status().message().rfind("fuzz-idx", 0) == 0, "message does not name the file");
    return 0;
  }
  FUZZ_CHECK(static_cast<int>(a->dims.size()) == rank, "%zu dims for rank %d", a->dims.size(), rank);
  uint64_t product = 1;
  for (int64_t d : a->dims) {
    FUZZ_CHECK(d >= 1, "dimension %lld", static_cast<long long>(d));
    product *= static_cast<uint64_t>(d);
  }
  FUZZ_CHECK(product == a->data.size(), "dims promise %llu bytes, data has %zu",
             static_cast<unsigned long long>(product), a->data.size());
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  FUZZ_CHECK(bytes.size() == header + a->data.size() && bytes.substr(header) == a->data,
             "data not the input's");
  return 0;
}
