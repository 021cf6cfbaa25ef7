#include "core/control_protocol.h"

#include "core/strings.h"

namespace wattlab {

namespace {

// '\r' is a blank like ' ' and '\t' everywhere in a line, not only at its
// end: "begin \rX" once named its window "\rX" (found by protocol_fuzz).
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// The first token and the rest after the whitespace that follows it.
std::pair<std::string_view, std::string_view> SplitFirst(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && !IsSpace(s[i])) ++i;
  std::string_view head = s.substr(0, i);
  while (i < s.size() && IsSpace(s[i])) ++i;
  return {head, s.substr(i)};
}

std::string_view TrimView(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<ControlCommand> ParseControlLine(std::string_view line) {
  ControlCommand c;
  if (line.size() > kMaxControlLineBytes)
    return Status::InvalidArgument("line longer than " + std::to_string(kMaxControlLineBytes) + " bytes");
  for (char ch : line)
    if (ch == '\0' || ch == '\n') return Status::InvalidArgument("line holds a NUL or newline byte");
  std::string_view s = TrimView(line);
  if (s.empty() || s.front() == '#') return c;
  auto [verb, rest] = SplitFirst(s);
  if (verb == "begin" || verb == "end") {
    if (rest.empty()) return Status::InvalidArgument(std::string(verb) + " needs a window name");
    c.kind = verb == "begin" ? ControlCommand::Kind::kBegin : ControlCommand::Kind::kEnd;
    c.name = std::string(rest);
    return c;
  }
  if (verb == "samples") {
    auto n = ParseInt(rest);
    if (!n || *n < 0) return Status::InvalidArgument("samples needs a whole number >= 0");
    c.kind = ControlCommand::Kind::kSamples;
    c.samples = *n;
    return c;
  }
  if (verb == "meta") {
    auto [key, value] = SplitFirst(rest);
    if (key.empty()) return Status::InvalidArgument("meta needs a key");
    c.kind = ControlCommand::Kind::kMeta;
    c.name = std::string(key);
    c.value = std::string(value);
    return c;
  }
  return Status::InvalidArgument("unknown command '" + std::string(verb) +
                                 "' (expected begin, end, samples or meta)");
}

}  // namespace wattlab
