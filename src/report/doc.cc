#include "report/doc.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "report/svg.h"

namespace wattlab::report {
namespace {
const char* kAbsent = "—";

bool IsNumeric(const Table& t, size_t col) { return col < t.numeric.size() && t.numeric[col]; }
}  // namespace

std::string HtmlEscape(const std::string& s) { return XmlEscape(s); }

std::string MarkdownEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '|': case '*': case '_': case '`': case '[': case ']': case '<': case '>': case '\\':
        out += '\\';
        out += c;
        break;
      case '\n': case '\r':
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
  o << "<div class=\"table-wrap\"><table" << (css_class.empty() ? "" : " class=\"" + HtmlEscape(css_class) + "\"")
    << ">\n<thead><tr>";
  for (size_t c = 0; c < table.header.size(); ++c) {
    o << "<th" << (IsNumeric(table, c) ? " class=\"num\"" : "") << ">" << HtmlEscape(table.header[c]) << "</th>";
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

std::string Sig(double v, int digits) {
  if (!std::isfinite(v)) return kAbsent;
  if (v == 0) return "0";
  char buf[48];
  const double a = std::fabs(v);
  if (a >= 1e-3 && a < 1e7) {
    // Fixed notation with `digits` significant digits, trailing zeros kept
    // out ("0.0123", "12.3", "12300").
    const int mag = static_cast<int>(std::floor(std::log10(a)));
    const int decimals = std::max(0, digits - 1 - mag);
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  } else {
    std::snprintf(buf, sizeof buf, "%.*e", std::max(0, digits - 1), v);
  }
  return buf;
}

std::string Sig(const std::optional<double>& v, int digits) { return v ? Sig(*v, digits) : kAbsent; }

std::string Fixed(double v, int digits) {
  if (!std::isfinite(v)) return kAbsent;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  std::string s(buf);
  if (s.rfind("-0", 0) == 0 && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string Fixed(const std::optional<double>& v, int digits) { return v ? Fixed(*v, digits) : kAbsent; }

std::string Percent(double fraction, int digits) {
  if (!std::isfinite(fraction)) return kAbsent;
  return Fixed(fraction * 100.0, digits) + "%";
}

std::string EnergyText(double joules) {
  if (!std::isfinite(joules)) return kAbsent;
  const double a = std::fabs(joules);
  std::string s;
  if (a < 1e3) {
    s = Sig(joules, 3) + " J";
  } else if (a < 1e6) {
    s = Sig(joules / 1e3, 3) + " kJ";
  } else {
    s = Sig(joules / 1e6, 3) + " MJ";
  }
  if (a >= 3.6e3 && a < 3.6e6) s += " (" + Sig(joules / 3.6e3, 3) + " Wh)";
  if (a >= 3.6e6) s += " (" + Sig(joules / 3.6e6, 3) + " kWh)";
  return s;
}

std::string CountText(double n) {
  if (!std::isfinite(n)) return kAbsent;
  const double a = std::fabs(n);
  char buf[48];
  if (a >= 1e12) std::snprintf(buf, sizeof buf, "%.3gT", n / 1e12);
  else if (a >= 1e9) std::snprintf(buf, sizeof buf, "%.3gG", n / 1e9);
  else if (a >= 1e6) std::snprintf(buf, sizeof buf, "%.3gM", n / 1e6);
  else if (a >= 1e3) std::snprintf(buf, sizeof buf, "%.3gk", n / 1e3);
  else std::snprintf(buf, sizeof buf, "%.3g", n);
  return buf;
}

}  // namespace wattlab::report
