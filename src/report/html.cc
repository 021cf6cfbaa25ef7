// index.html: the banner, findings, context block and sections, with inline
// SVG plots and the inline style sheet; no scripts, nothing fetched.
#include <sstream>

#include "report/sections.h"

namespace wattlab::report {

std::string RenderHtml(const std::string& title, const std::string& banner, bool banner_estimated,
                       const Table& context, const std::string& spec_text,
                       const std::vector<Finding>& findings, const std::vector<Section>& sections,
                       const std::string& generated_at) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
    << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
    << "<title>" << HtmlEscape(title) << "</title>\n<style>" << kReportCss
    << "</style>\n</head>\n<body>\n<main>\n";
  o << "<h1>" << HtmlEscape(title) << "</h1>\n";
  o << "<div class=\"banner " << (banner_estimated ? "estimated" : "measured") << "\" id=\"energy-basis\">"
    << HtmlEscape(banner) << "</div>\n";
  o << "<h2 id=\"findings\">Headline findings</h2>\n<ul class=\"findings\">\n";
  for (const auto& f : findings) {
    o << "<li>" << HtmlEscape(f.text);
    if (f.estimated)
      o << " <span class=\"badge\" title=\"" << HtmlEscape(kEstimatedCaveat) << "\">ESTIMATED</span>";
    o << "</li>\n";
  }
  o << "</ul>\n";
  o << "<h2 id=\"context\">Context</h2>\n" << TableHtml(context, "context");
  if (!spec_text.empty())
    o << "<details><summary>Study spec as run</summary>\n<pre>" << HtmlEscape(spec_text)
      << "</pre>\n</details>\n";
  for (const auto& s : sections) {
    o << "<section id=\"" << HtmlEscape(s.id) << "\">\n<h2>" << HtmlEscape(s.title);
    if (s.estimated) o << " <span class=\"badge\">ESTIMATED</span>";
    o << "</h2>\n";
    if (!s.empty_reason.empty()) {
      o << "<p class=\"empty\">No data: " << HtmlEscape(s.empty_reason) << ".</p>\n</section>\n";
      continue;
    }
    for (const auto& p : s.paragraphs) o << "<p>" << HtmlEscape(p) << "</p>\n";
    for (const auto& b : s.plots) {
      if (!b.has_data) {
        o << "<p class=\"empty\">" << HtmlEscape(b.spec.title.empty() ? "Plot" : b.spec.title)
          << ": no data: " << HtmlEscape(b.empty_reason) << ".</p>\n";
        continue;
      }
      o << "<figure>\n"
        << RenderSvg(b.spec) << "<figcaption>Data: <a href=\"" << HtmlEscape(b.csv_name) << "\">"
        << HtmlEscape(b.csv_name) << "</a></figcaption>\n</figure>\n";
    }
    for (const auto& [caption, table] : s.tables) {
      if (s.collapsed || table.rows.size() > 25) {
        o << "<details><summary>" << HtmlEscape(caption) << " (" << table.rows.size() << " rows)</summary>\n"
          << TableHtml(table) << "</details>\n";
      } else {
        o << "<h3>" << HtmlEscape(caption) << "</h3>\n" << TableHtml(table);
      }
    }
    o << "</section>\n";
  }
  o << "<footer>Generated " << HtmlEscape(generated_at)
    << " by wattlab report. Self-contained: no scripts, nothing fetched. Plot data: the CSV files beside "
       "this page."
    << "</footer>\n</main>\n</body>\n</html>\n";
  return o.str();
}

}  // namespace wattlab::report
