#include "report/doc.h"

#include <sstream>

#include "report/svg.h"

namespace wattlab::report {
namespace {
bool IsNumeric(const Table& t, size_t col) { return col < t.numeric.size() && t.numeric[col]; }
}  // namespace

std::string HtmlEscape(const std::string& s) { return XmlEscape(s); }

std::string MarkdownEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '|':
      case '*':
      case '_':
      case '`':
      case '[':
      case ']':
      case '<':
      case '>':
      case '\\':
        out += '\\';
        out += c;
        break;
      case '\n':
      case '\r':
        out += ' ';
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string TableHtml(const Table& table, const std::string& css_class) {
  std::ostringstream o;
  o << "<div class=\"table-wrap\"><table"
    << (css_class.empty() ? "" : " class=\"" + HtmlEscape(css_class) + "\"") << ">\n<thead><tr>";
  for (size_t c = 0; c < table.header.size(); ++c) {
    o << "<th" << (IsNumeric(table, c) ? " class=\"num\"" : "") << ">" << HtmlEscape(table.header[c])
      << "</th>";
  }
  o << "</tr></thead>\n<tbody>\n";
  for (const auto& row : table.rows) {
    o << "<tr>";
    for (size_t c = 0; c < row.size(); ++c) {
      o << "<td" << (IsNumeric(table, c) ? " class=\"num\"" : "") << ">" << HtmlEscape(row[c]) << "</td>";
    }
    o << "</tr>\n";
  }
  o << "</tbody>\n</table></div>\n";
  return o.str();
}

std::string TableMarkdown(const Table& table) {
  std::ostringstream o;
  o << "|";
  for (const auto& h : table.header) o << " " << MarkdownEscape(h) << " |";
  o << "\n|";
  for (size_t c = 0; c < table.header.size(); ++c) o << (IsNumeric(table, c) ? " ---: |" : " --- |");
  o << "\n";
  for (const auto& row : table.rows) {
    o << "|";
    for (size_t c = 0; c < table.header.size(); ++c) {
      o << " " << (c < row.size() ? MarkdownEscape(row[c]) : "") << " |";
    }
    o << "\n";
  }
  return o.str();
}

}  // namespace wattlab::report
