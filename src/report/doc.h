// Document pieces shared by the HTML and Markdown writers: a table of text
// cells rendered both ways, number formatting that never prints NaN, and
// escaping. The report builder fills these; the writers only format them.
//
// Thread-safety: pure functions over values.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace wattlab::report {

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  // Columns whose cells are numbers (right-aligned in HTML and Markdown).
  std::vector<bool> numeric;
};

// <table> with <thead>/<tbody>; cells escaped.
std::string TableHtml(const Table& table, const std::string& css_class = "");
// GitHub-flavoured Markdown table; '|' and newlines in cells escaped.
std::string TableMarkdown(const Table& table);

// Escapes text for HTML element content and attributes (same as XmlEscape).
std::string HtmlEscape(const std::string& s);
// Escapes Markdown's inline specials so model names like "mlp:depth=3" or
// "a_b_c" print as written.
std::string MarkdownEscape(const std::string& s);

// Number text for tables and findings. Never "nan"/"inf": a non-finite or
// absent value prints as "—".
std::string Sig(double v, int digits = 3);               // "0.0123", "1.23e-05", "12300"
std::string Sig(const std::optional<double>& v, int digits = 3);
std::string Fixed(double v, int digits);                 // "12.35"
std::string Fixed(const std::optional<double>& v, int digits);
std::string Percent(double fraction, int digits = 1);    // 0.1234 -> "12.3%"
// Human energy: "850 J", "12.4 kJ", "3.1 MJ"; with Wh/kWh alongside when large.
std::string EnergyText(double joules);
// "1.2k", "3.4M", "2.0G" for counts (MACs, parameters, inferences).
std::string CountText(double n);

}  // namespace wattlab::report
