// Fuzzes the option value parsers every command uses (cli/args.h): counts
// (ParseWholeNumber, ParseCountValue), numbers (ParseNumberValue) and
// durations (ParseDurationValue over core's ParseDurationNs). The first byte
// picks the parser, the rest is the text as typed.
//
// Invariants: a whole number is exactly the value written (checked against
// long double where that is exact); counts are >= their minimum; numbers lie
// in their range and are never NaN; durations are >= 0 and within their
// bounds; every refusal is InvalidArgument naming the option.
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "cli/args.h"
#include "core/strings.h"
#include "fuzz_check.h"

using namespace wattlab;
using namespace std::chrono_literals;

namespace {

void CheckRefusal(const Status& st, const std::string& name) {
  FUZZ_CHECK(st.kind() == Status::Kind::kInvalidArgument, "refusal of another kind");
  FUZZ_CHECK(st.message().rfind(name, 0) == 0, "message does not start with the option: %s",
             st.message().c_str());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int which = data[0] % 5;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (which) {
    case 0: {
      auto v = cli::ParseWholeNumber(text);
      if (v) {
        // A whole number is also a number, and the same one where a double
        // holds it exactly (below 2^53).
        auto d = ParseNumber(text);
        if (d && std::fabs(*d) < 9007199254740992.0)
          FUZZ_CHECK(static_cast<double>(*v) == *d, "'%s' read as %lld, a double says %.17g", text.c_str(),
                     static_cast<long long>(*v), *d);
      }
      break;
    }
    case 1: {
      for (int64_t min : {int64_t{0}, int64_t{1}}) {
        auto v = cli::ParseCountValue("--steps", text, min);
        if (v.ok())
          FUZZ_CHECK(*v >= min, "%lld below %lld", static_cast<long long>(*v), static_cast<long long>(min));
        else
          CheckRefusal(v.status(), "--steps");
      }
      break;
    }
    case 2: {
      const cli::Range ranges[] = {cli::Range::AtLeast(1.0), cli::Range::Above(0.0),
                                   cli::Range::Between(0, 1), cli::Range::AboveUpTo(0, 3600), cli::Range{}};
      for (const auto& r : ranges) {
        auto v = cli::ParseNumberValue("--pue", text, r);
        if (v.ok()) {
          FUZZ_CHECK(!std::isnan(*v), "NaN accepted");
          FUZZ_CHECK(r.Contains(*v), "%g outside %s", *v, r.Describe().c_str());
        } else {
          CheckRefusal(v.status(), "--pue");
        }
      }
      break;
    }
    case 3: {
      std::string error;
      auto ns = ParseDurationNs(text, &error);
      if (ns)
        FUZZ_CHECK(*ns >= 0, "'%s' read as %lld ns", text.c_str(), static_cast<long long>(*ns));
      else
        FUZZ_CHECK(!error.empty(), "refused without a message");
      break;
    }
    case 4: {
      const auto min = std::chrono::nanoseconds(1ms), max = std::chrono::nanoseconds(std::chrono::hours(24));
      auto d = cli::ParseDurationValue("--period", text, min, max);
      if (d.ok())
        FUZZ_CHECK(*d >= min && *d <= max, "'%s' read as %lld ns", text.c_str(),
                   static_cast<long long>(d->count()));
      else
        CheckRefusal(d.status(), "--period");
      break;
    }
  }
  return 0;
}
