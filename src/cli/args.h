// Command-line options over CLI11 (Debian's libcli11-dev). Every command
// declares its options with these helpers, so each kind of value has one
// parser and one message form:
//
//   counts     whole numbers, also written 1e6 or 2.5e3 (exact integers only)
//   numbers    finite decimals, range-checked
//   durations  core's ParseDurationNs ("100ms", "1ms", "2s")
//   choices    one of a fixed list
//
//   "--pue must be ≥ 1.0, got 0.5"
//   "--params must be a whole number, got 1.5"
//   "--optimizer must be one of sgd, adam, got 'rmsprop'"
//
// The parsers are plain functions (fuzzable, testable without CLI11); the
// Add* helpers bind them to CLI11 options that throw CLI::ValidationError
// with exactly that message. Only args.cc and main.cc include CLI11.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wattlab/status.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace wattlab::cli {

// The interval a numeric option must lie in; an absent side is unbounded.
struct Range {
  std::optional<double> min, max;
  bool min_exclusive = false, max_exclusive = false;

  static Range AtLeast(double lo);               // lo ≤ x
  static Range Above(double lo);                 // lo < x
  static Range Between(double lo, double hi);    // lo ≤ x ≤ hi
  static Range AboveUpTo(double lo, double hi);  // lo < x ≤ hi
  bool Contains(double v) const;
  // "≥ 1.0", "> 0.0 and ≤ 3600.0"; whole=true prints bounds as integers.
  std::string Describe(bool whole = false) const;
};

// A whole number written in decimal ("1000000", "-3") or in decimal or
// exponent form that is exactly an integer ("1e6", "2.5e3", "1.0"), without
// rounding; nullopt for anything else ("1.5", "1e-3", "0x10", overflow).
std::optional<int64_t> ParseWholeNumber(std::string_view text);

// `name` is how the value was given ("--pue", "$WATTLAB_CPU_TDP_W"); errors
// are InvalidArgument in the form above.
Result<int64_t> ParseCountValue(const std::string& name, const std::string& text, int64_t min);
Result<double> ParseNumberValue(const std::string& name, const std::string& text, const Range& range);
Result<std::chrono::nanoseconds> ParseDurationValue(const std::string& name, const std::string& text,
                                                    std::chrono::nanoseconds min,
                                                    std::chrono::nanoseconds max);
Status CheckChoice(const std::string& name, const std::string& text, const std::vector<std::string>& choices);

// Declares subcommand `name` of root; its --help shows `description`.
CLI::App* AddCommand(CLI::App* root, const std::string& name, const std::string& description);

// Option declarations. `names` is CLI11's "-o,--output" form; `value_name`
// is shown in --help ("FILE", "N"). Out-pointers must outlive parsing; an
// option not given leaves its target untouched (so it holds the default).
// Given twice, the last value wins.
CLI::Option* AddFlag(CLI::App* cmd, const std::string& names, bool* out, const std::string& help);
CLI::Option* AddString(CLI::App* cmd, const std::string& names, std::string* out,
                       const std::string& value_name, const std::string& help);
// Repeatable: every occurrence appended, one value each.
CLI::Option* AddStrings(CLI::App* cmd, const std::string& names, std::vector<std::string>* out,
                        const std::string& value_name, const std::string& help);
// Positional arguments (`name` without dashes, shown as value_name): every
// one given, in order; at least `min` of them (fewer: CLI11's usage error).
CLI::Option* AddPositionals(CLI::App* cmd, const std::string& name, std::vector<std::string>* out, size_t min,
                            const std::string& value_name, const std::string& help);
CLI::Option* AddChoice(CLI::App* cmd, const std::string& names, std::string* out,
                       std::vector<std::string> choices, const std::string& help);
CLI::Option* AddCount(CLI::App* cmd, const std::string& names, int64_t* out, int64_t min,
                      const std::string& value_name, const std::string& help);
CLI::Option* AddCount(CLI::App* cmd, const std::string& names, std::optional<int64_t>* out, int64_t min,
                      const std::string& value_name, const std::string& help);
CLI::Option* AddNumber(CLI::App* cmd, const std::string& names, double* out, Range range,
                       const std::string& value_name, const std::string& help);
CLI::Option* AddNumber(CLI::App* cmd, const std::string& names, std::optional<double>* out, Range range,
                       const std::string& value_name, const std::string& help);
CLI::Option* AddDuration(CLI::App* cmd, const std::string& names,
                         std::optional<std::chrono::nanoseconds>* out, std::chrono::nanoseconds min,
                         std::chrono::nanoseconds max, const std::string& value_name,
                         const std::string& help);

// True when the option was given on the command line.
bool Given(const CLI::Option* option);

}  // namespace wattlab::cli
