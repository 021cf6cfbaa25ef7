// The report's document model and its pieces, shared by the files of the
// report module (not part of its API): the sections a report is made of
// (sections.cc, sections_results.cc), the HTML and Markdown writers
// (html.cc, markdown.cc) and the style sheet (css.cc). BuildReport
// (builder.cc) puts them together.
//
// Sections only format: every number, choice and ranking they show comes
// from the analysis (src/analysis/), findings included.
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "analysis/analysis.h"
#include "report/builder.h"
#include "report/doc.h"
#include "report/svg.h"

namespace wattlab::report {

inline constexpr const char* kEstimatedCaveat =
    "rests on estimated energy (a model of CPU time, not a measurement)";

// The style sheet inlined into index.html (css.cc).
extern const char* const kReportCss;

struct PlotBlock {
  PlotSpec spec;
  std::string csv_name;
  Table csv;
  bool has_data = false;
  std::string empty_reason;  // shown instead of the plot when !has_data
};

struct Section {
  std::string id, title;
  std::vector<std::string> paragraphs;
  std::vector<PlotBlock> plots;
  std::vector<std::pair<std::string, Table>> tables;  // caption, table
  std::string empty_reason;                           // the whole section has no data: why
  bool estimated = false;
  bool collapsed = false;  // long tables: <details>
};

struct Context {
  const ReportInput& in;
  const ReportOptions& opt;
  const analysis::AnalysisResult* a;  // null when the analysis did not run
  bool estimated_any = false, measured_any = false;
  int64_t n_runs = 0;
  std::set<std::string> models;
};

Context MakeContext(const ReportInput& input, const ReportOptions& options);

// Why analysis sections are empty when the analysis did not run.
std::string NoAnalysisReason(const Context& c);
// The note a plot carries when its energy is estimated; "" otherwise.
std::string EstimatedNote(bool estimated);
// Labels one point per distinct label (the highest), so a model measured at
// many batch sizes is named once, not once per point.
void LabelOncePerName(std::vector<PlotPoint>* points);
// CSV numbers: full precision, empty for absent/non-finite (never "nan").
std::string CsvNum(double v);
std::string CsvNum(const std::optional<double>& v);

// ---- sections (in the order the report shows them) ----
// The context block as a table, the energy-basis banner and the study specs.
void ContextSection(const Context& c, Table* context_table, std::string* banner, std::string* spec_text);
Section CorrelationSection(const Context& c);
Section TrainInferSection(const Context& c);
Section ParetoSection(const Context& c);
Section BatchSection(const Context& c);
// Only when the analysis found a swept power cap or clock (sections_caps.cc).
Section PowerCapSection(const Context& c);
Section TimelineSection(const Context& c);
Section LifecycleSection(const Context& c);
Section PredictionSection(const Context& c);
Section RecommendationSection(const Context& c);
Section CarbonSection(const Context& c);
Section RunsSection(const Context& c);

// ---- writers ----
std::string RenderHtml(const std::string& title, const std::string& banner, bool banner_estimated,
                       const Table& context, const std::string& spec_text,
                       const std::vector<Finding>& findings, const std::vector<Section>& sections,
                       const std::string& generated_at);
std::string RenderMarkdown(const std::string& title, const std::string& banner, const Table& context,
                           const std::vector<Finding>& findings, const std::vector<Section>& sections);

}  // namespace wattlab::report
