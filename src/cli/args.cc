#include "cli/args.h"

#include <CLI/CLI.hpp>
#include <cmath>
#include <limits>
#include <utility>

#include "core/strings.h"

namespace wattlab::cli {

namespace {

// "2000" for whole bounds, "1.0" / "0.5" for real ones: the ".0" says a
// fraction is allowed.
std::string Bound(double v, bool whole) {
  if (whole) return std::to_string(static_cast<long long>(v));
  std::string s = FormatDouble(v);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

// The text as the user gave it: bare when it reads as a number, else quoted.
std::string Got(const std::string& text) { return ParseNumber(text) ? text : "'" + text + "'"; }

// "--output" from "-o,--output"; the first name when there is no long one.
std::string DisplayName(const std::string& names) {
  std::string first;
  for (const auto& n : Split(names, ',')) {
    std::string t = TrimCopy(n);
    if (StartsWith(t, "--")) return t;
    if (first.empty()) first = t;
  }
  return first;
}

std::string FormatNs(std::chrono::nanoseconds d) {
  const int64_t ns = d.count();
  if (ns % 1000000000 == 0) return std::to_string(ns / 1000000000) + "s";
  if (ns % 1000000 == 0) return std::to_string(ns / 1000000) + "ms";
  if (ns % 1000 == 0) return std::to_string(ns / 1000) + "us";
  return std::to_string(ns) + "ns";
}

// Binds a parser to a one-value option: the parser's error message becomes
// CLI11's error as it is (no "name: " prefix).
template <typename Parse>
CLI::Option* AddParsed(CLI::App* cmd, const std::string& names, const std::string& value_name,
                       const std::string& help, Parse parse) {
  return cmd
      ->add_option_function<std::string>(
          names,
          [parse = std::move(parse)](const std::string& text) {
            Status st = parse(text);
            if (!st.ok()) throw CLI::ValidationError(st.message());
          },
          help)
      ->type_name(value_name);
}

}  // namespace

Range Range::AtLeast(double lo) { return Range{lo, std::nullopt, false, false}; }
Range Range::Above(double lo) { return Range{lo, std::nullopt, true, false}; }
Range Range::Between(double lo, double hi) { return Range{lo, hi, false, false}; }
Range Range::AboveUpTo(double lo, double hi) { return Range{lo, hi, true, false}; }

bool Range::Contains(double v) const {
  if (std::isnan(v)) return false;
  if (min && (min_exclusive ? !(v > *min) : !(v >= *min))) return false;
  if (max && (max_exclusive ? !(v < *max) : !(v <= *max))) return false;
  return true;
}

std::string Range::Describe(bool whole) const {
  std::string s;
  if (min) s = std::string(min_exclusive ? "> " : "≥ ") + Bound(*min, whole);
  if (max) s += std::string(s.empty() ? "" : " and ") + (max_exclusive ? "< " : "≤ ") + Bound(*max, whole);
  return s;
}

std::optional<int64_t> ParseWholeNumber(std::string_view s) {
  auto digit = [&](size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; };
  size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  std::string digits;
  int64_t fraction_digits = 0;
  while (digit(i)) digits += s[i++];
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (digit(i)) {
      digits += s[i++];
      ++fraction_digits;
    }
  }
  if (digits.empty()) return std::nullopt;
  int64_t exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool negative_exponent = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative_exponent = s[i++] == '-';
    if (!digit(i)) return std::nullopt;
    while (digit(i)) {
      if (exponent < 1000000) exponent = exponent * 10 + (s[i] - '0');  // saturates: far beyond int64 anyway
      ++i;
    }
    if (negative_exponent) exponent = -exponent;
  }
  if (i != s.size()) return std::nullopt;

  const size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return 0;  // "0", "0.000", "0e99"
  digits.erase(0, first);
  const int64_t shift = exponent - fraction_digits;  // value = digits x 10^shift
  if (shift < 0) {
    const auto drop = static_cast<size_t>(-shift);
    if (drop >= digits.size()) return std::nullopt;  // a non-zero value below 1
    if (digits.find_first_not_of('0', digits.size() - drop) != std::string::npos) return std::nullopt;  // 1.5
    digits.resize(digits.size() - drop);
  } else {
    if (static_cast<int64_t>(digits.size()) + shift > 19) return std::nullopt;
    digits.append(static_cast<size_t>(shift), '0');
  }
  if (digits.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) v = v * 10 + static_cast<uint64_t>(c - '0');  // < 10^19 < 2^64
  const uint64_t limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + (negative ? 1 : 0);
  if (v > limit) return std::nullopt;
  return negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
}

Result<int64_t> ParseCountValue(const std::string& name, const std::string& text, int64_t min) {
  auto v = ParseWholeNumber(TrimCopy(text));
  const std::string range = Range::AtLeast(static_cast<double>(min)).Describe(true);
  if (!v) {
    auto x = ParseNumber(text);
    if (!x || std::trunc(*x) != *x)
      return Status::InvalidArgument(name + " must be a whole number, got " + Got(text));
    if (*x >= static_cast<double>(min))  // whole but past int64
      return Status::InvalidArgument(name + " must be a whole number below 2^63, got " + text);
  }
  if (!v || *v < min) return Status::InvalidArgument(name + " must be " + range + ", got " + text);
  return *v;
}

Result<double> ParseNumberValue(const std::string& name, const std::string& text, const Range& range) {
  auto v = ParseNumber(TrimCopy(text));
  if (!v) return Status::InvalidArgument(name + " must be a number, got " + Got(text));
  if (!range.Contains(*v))
    return Status::InvalidArgument(name + " must be " + range.Describe() + ", got " + text);
  return *v;
}

Result<std::chrono::nanoseconds> ParseDurationValue(const std::string& name, const std::string& text,
                                                    std::chrono::nanoseconds min,
                                                    std::chrono::nanoseconds max) {
  std::string ignored;
  auto ns = ParseDurationNs(text, &ignored);
  if (!ns)
    return Status::InvalidArgument(
        name + " must be a duration such as 100ms (units ns, us, ms, s, min), got '" + text + "'");
  if (*ns < min.count() || *ns > max.count())
    return Status::InvalidArgument(name + " must be ≥ " + FormatNs(min) + " and ≤ " + FormatNs(max) +
                                   ", got " + text);
  return std::chrono::nanoseconds(*ns);
}

Status CheckChoice(const std::string& name, const std::string& text,
                   const std::vector<std::string>& choices) {
  for (const auto& c : choices)
    if (text == c) return Status::Ok();
  return Status::InvalidArgument(name + " must be one of " + Join(choices, ", ") + ", got '" + text + "'");
}

CLI::App* AddCommand(CLI::App* root, const std::string& name, const std::string& description) {
  return root->add_subcommand(name, description);
}

CLI::Option* AddFlag(CLI::App* cmd, const std::string& names, bool* out, const std::string& help) {
  return cmd->add_flag(names, *out, help);
}

CLI::Option* AddString(CLI::App* cmd, const std::string& names, std::string* out,
                       const std::string& value_name, const std::string& help) {
  return cmd->add_option(names, *out, help)->type_name(value_name);
}

CLI::Option* AddStrings(CLI::App* cmd, const std::string& names, std::vector<std::string>* out,
                        const std::string& value_name, const std::string& help) {
  return cmd->add_option(names, *out, help)
      ->type_name(value_name)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

CLI::Option* AddPositionals(CLI::App* cmd, const std::string& name, std::vector<std::string>* out, size_t min,
                            const std::string& value_name, const std::string& help) {
  CLI::Option* o = cmd->add_option(name, *out, help)->type_name(value_name);
  if (min > 0) o->required()->expected(static_cast<int>(min), CLI::detail::expected_max_vector_size);
  return o;
}

CLI::Option* AddChoice(CLI::App* cmd, const std::string& names, std::string* out,
                       std::vector<std::string> choices, const std::string& help) {
  const std::string name = DisplayName(names), shown = Join(choices, "|");
  return AddParsed(cmd, names, shown, help, [=](const std::string& text) -> Status {
    WATTLAB_RETURN_IF_ERROR(CheckChoice(name, text, choices));
    *out = text;
    return Status::Ok();
  });
}

CLI::Option* AddCount(CLI::App* cmd, const std::string& names, int64_t* out, int64_t min,
                      const std::string& value_name, const std::string& help) {
  const std::string name = DisplayName(names);
  return AddParsed(cmd, names, value_name, help, [=](const std::string& text) -> Status {
    WATTLAB_ASSIGN_OR_RETURN(*out, ParseCountValue(name, text, min));
    return Status::Ok();
  });
}

CLI::Option* AddCount(CLI::App* cmd, const std::string& names, std::optional<int64_t>* out, int64_t min,
                      const std::string& value_name, const std::string& help) {
  const std::string name = DisplayName(names);
  return AddParsed(cmd, names, value_name, help, [=](const std::string& text) -> Status {
    WATTLAB_ASSIGN_OR_RETURN(*out, ParseCountValue(name, text, min));
    return Status::Ok();
  });
}

CLI::Option* AddNumber(CLI::App* cmd, const std::string& names, double* out, Range range,
                       const std::string& value_name, const std::string& help) {
  const std::string name = DisplayName(names);
  return AddParsed(cmd, names, value_name, help, [=](const std::string& text) -> Status {
    WATTLAB_ASSIGN_OR_RETURN(*out, ParseNumberValue(name, text, range));
    return Status::Ok();
  });
}

CLI::Option* AddNumber(CLI::App* cmd, const std::string& names, std::optional<double>* out, Range range,
                       const std::string& value_name, const std::string& help) {
  const std::string name = DisplayName(names);
  return AddParsed(cmd, names, value_name, help, [=](const std::string& text) -> Status {
    WATTLAB_ASSIGN_OR_RETURN(*out, ParseNumberValue(name, text, range));
    return Status::Ok();
  });
}

CLI::Option* AddDuration(CLI::App* cmd, const std::string& names,
                         std::optional<std::chrono::nanoseconds>* out, std::chrono::nanoseconds min,
                         std::chrono::nanoseconds max, const std::string& value_name,
                         const std::string& help) {
  const std::string name = DisplayName(names);
  return AddParsed(cmd, names, value_name, help, [=](const std::string& text) -> Status {
    WATTLAB_ASSIGN_OR_RETURN(*out, ParseDurationValue(name, text, min, max));
    return Status::Ok();
  });
}

bool Given(const CLI::Option* option) { return option->count() > 0; }

}  // namespace wattlab::cli
