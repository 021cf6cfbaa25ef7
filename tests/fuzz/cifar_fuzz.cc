// Fuzzes the CIFAR-10 binary reader of src/data/ (data/readers.h,
// ParseCifar10, the parser LoadCifar10 runs on each file). The first byte is
// the sample limit (0 = none), the rest one file's bytes, appended to a
// dataset that may already hold a sample (as with the 2nd of 5 batch files).
// Invariants: accepted: every label in 0..9, 3072 pixel bytes per label,
// never more samples than the limit, the pixels are the records' bytes;
// refused: Corruption naming the file, the dataset unchanged.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "data/readers.h"
#include "fuzz_check.h"

using namespace wattlab;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int64_t limit = data[0] & 0x7f;
  const bool prefilled = (data[0] & 0x80) != 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  data::Dataset ds;
  ds.shape = Shape{3, 32, 32};
  if (prefilled) {
    ds.labels.push_back(9);
    ds.pixels.assign(3072, 0xab);
  }
  const data::Dataset before = ds;
  Status st = data::ParseCifar10(bytes, "fuzz.bin", limit, &ds);
  if (!st.ok()) {
    FUZZ_CHECK(st.kind() == Status::Kind::kCorruption, "refusal of another kind");
    FUZZ_CHECK(st.message().rfind("fuzz.bin", 0) == 0, "message does not name the file");
    FUZZ_CHECK(ds.labels == before.labels && ds.pixels == before.pixels,
               "a refused file changed the dataset");
    return 0;
  }
  FUZZ_CHECK(ds.pixels.size() == ds.labels.size() * 3072, "%zu pixels for %zu labels", ds.pixels.size(),
             ds.labels.size());
  for (int64_t l : ds.labels) FUZZ_CHECK(l >= 0 && l < 10, "label %lld", static_cast<long long>(l));
  if (limit > 0)
    FUZZ_CHECK(ds.size() <= std::max<int64_t>(limit, before.size()), "%lld samples over limit %lld",
               static_cast<long long>(ds.size()), static_cast<long long>(limit));
  for (size_t i = before.labels.size(); i < ds.labels.size(); ++i) {
    const size_t r = i - before.labels.size();
    const std::string_view rec = bytes.substr(r * data::kCifar10RecordBytes, data::kCifar10RecordBytes);
    FUZZ_CHECK(static_cast<unsigned char>(rec[0]) == ds.labels[i], "label of record %zu", r);
    FUZZ_CHECK(
        std::string_view(reinterpret_cast<const char*>(ds.pixels.data()) + i * 3072, 3072) == rec.substr(1),
        "pixels of record %zu", r);
  }
  return 0;
}
