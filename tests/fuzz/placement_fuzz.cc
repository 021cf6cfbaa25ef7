// Fuzzes the placement profile loader (analysis/placement.h,
// ParsePlacementProfile over the built-in profile, as `place --profile`
// does). Invariants: every coefficient of an accepted profile is finite,
// >= 0 and ordered low <= central <= high; the PUE is >= 1; the built-in
// links are all still there; refusals are InvalidArgument naming the file.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "analysis/placement.h"
#include "fuzz_check.h"

using namespace wattlab;
using namespace wattlab::analysis;

namespace {

void CheckTriple(const Triple& t, const char* what) {
  FUZZ_CHECK(std::isfinite(t.low) && std::isfinite(t.central) && std::isfinite(t.high), "%s not finite",
             what);
  FUZZ_CHECK(t.low >= 0, "%s negative", what);
  FUZZ_CHECK(t.low <= t.central && t.central <= t.high, "%s out of order (%g, %g, %g)", what, t.low,
             t.central, t.high);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const PlacementProfile& base = BuiltinPlacementProfile();
  auto p = ParsePlacementProfile(text, "fuzz.toml", base);
  if (!p.ok()) {
    FUZZ_CHECK(p.status().kind() == Status::Kind::kInvalidArgument, "refusal of another kind: %s",
               p.status().message().c_str());
    FUZZ_CHECK(p.status().message().find("fuzz.toml") != std::string::npos,
               "message does not name the file: %s", p.status().message().c_str());
    return 0;
  }
  FUZZ_CHECK(p->links.size() >= base.links.size(), "links lost");
  for (const LinkProfile& l : base.links) FUZZ_CHECK(FindLink(*p, l.name).ok(), "lost %s", l.name.c_str());
  for (const LinkProfile& l : p->links) {
    FUZZ_CHECK(!l.name.empty(), "a link without a name");
    for (int k = 0; k < kLinkKeyCount; ++k) CheckTriple(l.coef[k].value, kLinkKeys[k]);
  }
  CheckTriple(p->pue.value, "pue");
  FUZZ_CHECK(p->pue.value.low >= 1, "pue %g below 1", p->pue.value.low);
  return 0;
}
