// Small pure string helpers shared by every module (no OS calls).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wattlab {

std::vector<std::string> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::string TrimCopy(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
std::string ToLower(std::string_view s);

// Strict number parsing: the whole string must be the number.
std::optional<int64_t> ParseInt(std::string_view s);
std::optional<double> ParseNumber(std::string_view s);

// Shortest round-trip text of a double ("0.1", "1e-07"); "" for NaN.
std::string FormatDouble(double v);
// Fixed digits after the point.
std::string FormatFixed(double v, int digits);
// Durations like "250 ms", "100 us", "1.5 s" -> nanoseconds. InvalidArgument text in *error.
std::optional<int64_t> ParseDurationNs(std::string_view s, std::string* error);

// RFC 4180 CSV: quoting where needed.
std::string CsvEscape(std::string_view field);
// Parses one CSV document into rows of fields (handles quotes, CRLF).
// Returns nullopt and sets *error on an unterminated quote.
std::optional<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text, std::string* error);

}  // namespace wattlab
