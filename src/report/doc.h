// Document pieces shared by the HTML and Markdown writers: a table of text
// cells rendered both ways, and escaping. The report builder fills these;
// the writers only format them.
//
// Thread-safety: pure functions over values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analysis/text.h"

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

// Number text (Sig, Fixed, Percent, EnergyText, CountText) is the
// analysis' own, so a figure reads the same in a finding and in a table.
using analysis::CountText;
using analysis::EnergyText;
using analysis::Fixed;
using analysis::Percent;
using analysis::Sig;

}  // namespace wattlab::report
