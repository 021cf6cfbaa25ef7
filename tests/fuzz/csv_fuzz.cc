// Fuzzes core's ParseCsv (the CSV input reader of `place`, `analyze --input`
// and friends). Invariants: an accepted document re-serialised with
// CsvEscape parses back to the same rows; a rejected one says why.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/strings.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto rows = wattlab::ParseCsv(text, &error);
  if (!rows) {
    FUZZ_CHECK(!error.empty(), "rejected without a message");
    return 0;
  }
  std::string again;
  for (const auto& row : *rows) {
    FUZZ_CHECK(!row.empty(), "a row without fields");
    for (size_t i = 0; i < row.size(); ++i) again += (i ? "," : "") + wattlab::CsvEscape(row[i]);
    again += "\n";
  }
  std::string error2;
  auto back = wattlab::ParseCsv(again, &error2);
  FUZZ_CHECK(back.has_value(), "re-serialised CSV rejected: %s", error2.c_str());
  FUZZ_CHECK(*back == *rows, "round trip changed the rows (%zu -> %zu rows)", rows->size(), back->size());
  return 0;
}
