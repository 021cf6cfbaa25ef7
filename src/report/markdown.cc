// summary.md: the same findings, context and tables as index.html for a
// terminal or a pull request; plots are named with their CSV files.
#include <sstream>

#include "core/strings.h"
#include "report/sections.h"

namespace wattlab::report {

std::string RenderMarkdown(const std::string& title, const std::string& banner, const Table& context,
                           const std::vector<Finding>& findings, const std::vector<Section>& sections) {
  std::ostringstream o;
  o << "# " << MarkdownEscape(title) << "\n\n**" << MarkdownEscape(banner)
    << "**\n\n## Headline findings\n\n";
  for (const auto& f : findings)
    o << "- " << MarkdownEscape(f.text) << (f.estimated ? std::string(" *(") + kEstimatedCaveat + ")*" : "")
      << "\n";
  o << "\n## Context\n\n" << TableMarkdown(context) << "\n";
  for (const auto& s : sections) {
    o << "## " << MarkdownEscape(s.title) << (s.estimated ? " (ESTIMATED)" : "") << "\n\n";
    if (!s.empty_reason.empty()) {
      o << "_No data: " << MarkdownEscape(s.empty_reason) << "._\n\n";
      continue;
    }
    for (const auto& p : s.paragraphs) o << MarkdownEscape(p) << "\n\n";
    for (const auto& b : s.plots) {
      if (b.has_data) {
        o << "- Plot: " << MarkdownEscape(b.spec.title) << " (in index.html; data: `" << b.csv_name << "`)";
        if (!b.spec.notes.empty()) o << ": " << MarkdownEscape(Join(b.spec.notes, "; "));
        o << "\n";
      } else {
        o << "- " << MarkdownEscape(b.spec.title.empty() ? "Plot" : b.spec.title)
          << ": no data: " << MarkdownEscape(b.empty_reason) << ".\n";
      }
    }
    if (!s.plots.empty()) o << "\n";
    for (const auto& [caption, table] : s.tables)
      o << "### " << MarkdownEscape(caption) << "\n\n" << TableMarkdown(table) << "\n";
  }
  return o.str();
}

}  // namespace wattlab::report
