// BuildReport: the sections, the findings and the writers put together into
// the report's files.
#include "report/builder.h"

#include <cmath>
#include <ctime>
#include <set>

#include "core/strings.h"
#include "report/sections.h"

namespace wattlab::report {
namespace {

std::string CsvText(const Table& t) {
  std::string out;
  std::vector<std::string> cells;
  for (const auto& h : t.header) cells.push_back(CsvEscape(h));
  out += Join(cells, ",") + "\n";
  for (const auto& row : t.rows) {
    cells.clear();
    for (const auto& c : row) cells.push_back(CsvEscape(c));
    out += Join(cells, ",") + "\n";
  }
  return out;
}

}  // namespace

std::string FormatUtc(double unix_s) {
  if (!std::isfinite(unix_s) || unix_s <= 0) return "—";
  const std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

Context MakeContext(const ReportInput& input, const ReportOptions& options) {
  Context c{input, options, input.analysis ? &*input.analysis : nullptr, false, false, 0, {}};
  std::set<int64_t> runs;
  for (const auto& r : input.rows) {
    (r.estimated ? c.estimated_any : c.measured_any) = true;
    runs.insert(r.run_id);
    c.models.insert(r.model);
  }
  for (const auto& st : input.studies)
    c.estimated_any = c.estimated_any || (st.estimated && input.rows.empty());
  c.n_runs = static_cast<int64_t>(runs.size());
  return c;
}

std::vector<Finding> HeadlineFindings(const ReportInput& input, const ReportOptions& options) {
  if (input.analysis) return input.analysis->findings;
  const Context c = MakeContext(input, options);
  return {{"none", "", "No findings: " + NoAnalysisReason(c) + ".", c.estimated_any}};
}

std::vector<ReportFile> BuildReport(const ReportInput& input, const ReportOptions& options) {
  const Context c = MakeContext(input, options);
  Table context;
  std::string banner, spec_text;
  ContextSection(c, &context, &banner, &spec_text);
  const std::vector<Finding> findings = HeadlineFindings(input, options);

  std::vector<Section> sections;
  sections.push_back(CorrelationSection(c));
  sections.push_back(TrainInferSection(c));
  sections.push_back(ParetoSection(c));
  sections.push_back(BatchSection(c));
  if (c.a && !c.a->power_caps.curves.empty()) sections.push_back(PowerCapSection(c));
  sections.push_back(TimelineSection(c));
  sections.push_back(LifecycleSection(c));
  sections.push_back(PredictionSection(c));
  sections.push_back(RecommendationSection(c));
  sections.push_back(CarbonSection(c));
  if (c.a && !c.a->notes.empty()) {
    Section n;
    n.id = "analysis-notes";
    n.title = "Analysis notes";
    n.paragraphs = c.a->notes;
    sections.push_back(std::move(n));
  }
  sections.push_back(RunsSection(c));

  std::string title = options.title;
  if (title.empty()) {
    std::vector<std::string> names;
    for (const auto& st : input.studies) names.push_back(st.name);
    if (names.empty() && !options.study.empty()) names.push_back(options.study);
    title = names.empty() ? "wattlab report" : "wattlab report: " + Join(names, ", ");
  }

  std::vector<ReportFile> files;
  files.push_back({"index.html", RenderHtml(title, banner, c.estimated_any || input.rows.empty(), context,
                                            spec_text, findings, sections, input.generated_at)});
  files.push_back({"summary.md", RenderMarkdown(title, banner, context, findings, sections)});
  std::set<std::string> seen;
  for (const auto& s : sections)
    for (const auto& b : s.plots)
      if (seen.insert(b.csv_name).second) files.push_back({b.csv_name, CsvText(b.csv)});
  return files;
}

}  // namespace wattlab::report
