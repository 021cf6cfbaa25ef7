// Fuzzes core's ParseControlLine (the window protocol a measured program
// writes on WATTLAB_CONTROL, docs/own-workloads.md). Invariants: long lines
// and lines with NUL are refused; begin/end carry a non-empty name without
// leading or trailing blanks; samples are >= 0; meta keys are one token.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/control_protocol.h"
#include "fuzz_check.h"

using wattlab::ControlCommand;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  auto c = wattlab::ParseControlLine(line);
  if (!c.ok()) {
    FUZZ_CHECK(c.status().kind() == wattlab::Status::Kind::kInvalidArgument, "error of another kind");
    FUZZ_CHECK(!c.status().message().empty(), "error without a message");
    return 0;
  }
  FUZZ_CHECK(size <= wattlab::kMaxControlLineBytes, "accepted a %zu-byte line", size);
  FUZZ_CHECK(line.find('\0') == std::string_view::npos, "accepted a NUL byte");
  auto blank = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\r'; };
  switch (c->kind) {
    case ControlCommand::Kind::kNone:
      FUZZ_CHECK(c->name.empty() && c->value.empty() && c->samples == 0, "a no-op that carries data");
      break;
    case ControlCommand::Kind::kBegin:
    case ControlCommand::Kind::kEnd:
      FUZZ_CHECK(!c->name.empty(), "window without a name");
      FUZZ_CHECK(!blank(c->name.front()) && !blank(c->name.back()), "name not trimmed: '%s'",
                 c->name.c_str());
      FUZZ_CHECK(line.find(c->name) != std::string_view::npos, "name not taken from the line");
      break;
    case ControlCommand::Kind::kSamples:
      FUZZ_CHECK(c->samples >= 0, "negative samples %lld", static_cast<long long>(c->samples));
      break;
    case ControlCommand::Kind::kMeta:
      FUZZ_CHECK(!c->name.empty(), "meta without a key");
      for (char ch : c->name) FUZZ_CHECK(ch != ' ' && ch != '\t', "meta key with a blank");
      break;
  }
  return 0;
}
