// Tests for the report module: SVG plotting (ticks, escaping, label
// placement), the builder on fixture studies (rich, one run, estimated-only,
// no accuracy), the atomic directory writer (with faults injected through a
// ForwardingEnv: disk full, a refused rename, a vanished directory), and
// WriteReport on rows read from a real store file.
#include "report/report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "core/env.h"
#include "core/strings.h"
#include "fixtures.h"
#include "html_check.h"
#include "platform/real_env.h"
#include "report/builder.h"
#include "report/doc.h"
#include "report/svg.h"
#include "store/store.h"

namespace wattlab::report {
namespace {

namespace fs = std::filesystem;
using testing::AnalyzedFixture;
using testing::CheckWellFormed;
using testing::ElementTexts;
using testing::FixtureOptions;
using testing::Scenario;

fs::path FreshDir(const std::string& name) {
  fs::path p = fs::path(::testing::TempDir()) / ("wattlab-report-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

// A fresh directory removed again when the test ends.
struct ScopedDir {
  explicit ScopedDir(const std::string& name) : path(FreshDir(name)) {}
  ~ScopedDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Env* RealEnv() {
  static const std::unique_ptr<Env> env = NewRealEnv();
  return env.get();
}

const ReportFile* Find(const std::vector<ReportFile>& files, const std::string& name) {
  for (const auto& f : files)
    if (f.name == name) return &f;
  return nullptr;
}

// "nan", "inf", "-inf", "infinity" as whole words (not "inference").
bool HasNonFinite(const std::string& s) {
  static const std::regex kBad(R"((^|[^A-Za-z])(nan|-?inf|infinity)([^A-Za-z]|$))", std::regex::icase);
  return std::regex_search(s, kBad);
}

// ---- SVG module ----------------------------------------------------------------

TEST(ReportSvgTicks, LogTicksAreDecades) {
  EXPECT_EQ(LogTicks(0.003, 20), (std::vector<double>{0.01, 0.1, 1, 10}));
}

TEST(ReportSvgTicks, LogTicksAddTwoAndFiveOnNarrowRanges) {
  const auto t = LogTicks(4, 256);
  EXPECT_EQ(t, (std::vector<double>{5, 10, 20, 50, 100, 200}));
}

TEST(ReportSvgTicks, LogTicksThinWideRanges) {
  const auto t = LogTicks(1e-3, 1e12);
  EXPECT_LE(t.size(), 9u);
  EXPECT_GE(t.size(), 4u);
  for (size_t i = 1; i < t.size(); ++i) EXPECT_GT(t[i], t[i - 1]);
}

TEST(ReportSvgTicks, LogTicksInsideOneDecadeFallBackToLinear) {
  const auto t = LogTicks(1.1, 1.9);
  ASSERT_GE(t.size(), 2u);
  for (double v : t) {
    EXPECT_GE(v, 1.1);
    EXPECT_LE(v, 1.9);
  }
}

TEST(ReportSvgTicks, LinearTicksUseNiceSteps) {
  EXPECT_EQ(LinearTicks(0, 57), (std::vector<double>{0, 10, 20, 30, 40, 50}));
  EXPECT_EQ(LinearTicks(-1, 1, 4), (std::vector<double>{-1, -0.5, 0, 0.5, 1}));
  EXPECT_TRUE(LinearTicks(1, 1).empty());
}

TEST(ReportSvgTicks, FormatTick) {
  EXPECT_EQ(FormatTick(0), "0");
  EXPECT_EQ(FormatTick(0.001), "0.001");
  EXPECT_EQ(FormatTick(0.25), "0.25");
  EXPECT_EQ(FormatTick(10), "10");
  EXPECT_EQ(FormatTick(1e5), "100k");
  EXPECT_EQ(FormatTick(1e6), "1M");
  EXPECT_EQ(FormatTick(2.5e9), "2.5G");
  EXPECT_EQ(FormatTick(1e-5), "1e-05");
  EXPECT_EQ(FormatTick(std::nan("")), "");
}

TEST(ReportSvgText, Escapes) {
  EXPECT_EQ(XmlEscape("a<b & \"c\" 'd'>"), "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;");
  EXPECT_EQ(XmlEscape(std::string("x\x01y")), "xy");
}

PlotSpec Crowded(int n) {
  PlotSpec spec;
  spec.id = "crowded";
  spec.title = "Crowded <plot> & friends";
  spec.x = {"MACs per parameter (MACs/param)", AxisScale::kLog};
  spec.y = {"energy per sample (J)", AxisScale::kLog};
  Series s("models", SeriesKind::kScatter, {}, true, 0, 0);
  for (int i = 0; i < n; ++i) {
    // A tight cluster plus a spread, like 16 CIFAR models.
    const double x = i < n / 2 ? 50 + i : 10 * std::pow(1.6, i);
    const double y = i < n / 2 ? 0.01 + 0.0003 * i : 0.002 * std::pow(1.4, i);
    s.points.push_back({x, y, "model_number_" + std::to_string(i)});
  }
  spec.series.push_back(s);
  spec.notes.push_back("Spearman ρ = 0.91, n = " + std::to_string(n));
  return spec;
}

TEST(ReportSvgPlot, IsWellFormedAndLabelled) {
  const std::string svg = RenderSvg(Crowded(20));
  EXPECT_EQ(CheckWellFormed(svg), "");
  const auto axes = ElementTexts(svg, "text", "axis-label");
  ASSERT_EQ(axes.size(), 2u);
  EXPECT_NE(axes[0].find("(MACs/param)"), std::string::npos);
  EXPECT_NE(axes[1].find("(J)"), std::string::npos);
  EXPECT_NE(svg.find("Crowded &lt;plot&gt; &amp; friends"), std::string::npos);
  EXPECT_FALSE(HasNonFinite(svg));
}

TEST(ReportSvgPlot, LabelsOfManyPointsDoNotOverlap) {
  const int n = 24;
  const std::string svg = RenderSvg(Crowded(n));
  // Recover each placed label's box from its position and length, with the
  // same width estimate the placer uses.
  std::regex re("<text x=\"([-0-9.]+)\" y=\"([-0-9.]+)\" class=\"point-label\">([^<]*)</text>");
  struct B {
    double x0, y0, x1, y1;
  };
  std::vector<B> boxes;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), re); it != std::sregex_iterator(); ++it) {
    const double x = std::stod((*it)[1]), y = std::stod((*it)[2]);
    const double w = (*it)[3].str().size() * 6.6 + 2;
    boxes.push_back({x - 1, y + 3 - 13, x - 1 + w, y + 3});
  }
  const auto numbered = ElementTexts(svg, "text", "point-number");
  EXPECT_EQ(boxes.size() + numbered.size(), static_cast<size_t>(n));
  EXPECT_GE(boxes.size(), static_cast<size_t>(n / 2)) << "most labels should find a place";
  for (size_t i = 0; i < boxes.size(); ++i)
    for (size_t j = i + 1; j < boxes.size(); ++j) {
      const bool overlap = boxes[i].x0 < boxes[j].x1 - 0.2 && boxes[j].x0 < boxes[i].x1 - 0.2 &&
                           boxes[i].y0 < boxes[j].y1 - 0.2 && boxes[j].y0 < boxes[i].y1 - 0.2;
      EXPECT_FALSE(overlap) << "labels " << i << " and " << j << " overlap";
    }
  // Numbered points are listed in the key below the plot.
  for (size_t k = 0; k < numbered.size(); ++k)
    EXPECT_NE(svg.find(std::to_string(k + 1) + " = model_number_"), std::string::npos);
}

TEST(ReportSvgPlot, DropsNonFiniteAndNonPositiveOnLogAxes) {
  PlotSpec spec;
  spec.id = "bad";
  spec.x = {"x (s)", AxisScale::kLog};
  spec.y = {"y (J)", AxisScale::kLinear};
  Series s("s", SeriesKind::kLineMarkers,
           {{1, 1, ""},
            {std::nan(""), 2, ""},
            {-1, 3, ""},
            {10, std::numeric_limits<double>::infinity(), ""},
            {100, 4, ""}},
           false, 0, 0);
  spec.series.push_back(s);
  const std::string svg = RenderSvg(spec);
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_FALSE(HasNonFinite(svg));
  EXPECT_NE(svg.find("3 point(s) not drawn"), std::string::npos);
}

TEST(ReportSvgPlot, EmptyPlotStillRenders) {
  PlotSpec spec;
  spec.x = {"x (s)", AxisScale::kLog};
  spec.y = {"y (J)", AxisScale::kLog};
  const std::string svg = RenderSvg(spec);
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_FALSE(HasNonFinite(svg));
}

TEST(ReportSvgPlot, SpansAndDiagonal) {
  PlotSpec spec;
  spec.id = "spans";
  spec.x = {"time (s)", AxisScale::kLinear};
  spec.y = {"power (W)", AxisScale::kLinear, true};
  spec.series.push_back(
      Series("power", SeriesKind::kLine, {{0, 10, ""}, {5, 60, ""}, {10, 12, ""}}, false, 4, 0));
  spec.spans = {{1, 4, "train"}, {4, 4.2, "eval"}, {4.2, 9, "infer"}};
  spec.diagonal = true;
  const std::string svg = RenderSvg(spec);
  EXPECT_EQ(CheckWellFormed(svg), "");
  EXPECT_EQ(ElementTexts(svg, "text", "span-label").size(), 3u);
  EXPECT_NE(svg.find(">train</text>"), std::string::npos);
  EXPECT_NE(svg.find(">infer</text>"), std::string::npos);
  EXPECT_NE(svg.find("y = x (perfect prediction)"), std::string::npos);
}

// ---- document pieces ---------------------------------------------------------------

TEST(ReportDoc, NumbersNeverPrintNaN) {
  EXPECT_EQ(Sig(std::nan("")), "—");
  EXPECT_EQ(Sig(std::optional<double>()), "—");
  EXPECT_EQ(Sig(0.012345), "0.0123");
  EXPECT_EQ(Sig(12345.0), "12345");
  EXPECT_EQ(Sig(1.234e-5), "1.23e-05");
  EXPECT_EQ(Fixed(-0.0001, 2), "0.00");
  EXPECT_EQ(Percent(0.1234), "12.3%");
  EXPECT_EQ(EnergyText(850), "850 J");
  EXPECT_EQ(EnergyText(7200), "7.20 kJ (2.00 Wh)");
  EXPECT_EQ(EnergyText(7.2e6), "7.20 MJ (2.00 kWh)");
  EXPECT_EQ(CountText(2.5e6), "2.5M");
}

TEST(ReportDoc, TablesEscape) {
  Table t;
  t.header = {"model", "J"};
  t.numeric = {false, true};
  t.rows = {{"a|b_c <x>", "1.5"}};
  const std::string md = TableMarkdown(t);
  EXPECT_NE(md.find("a\\|b\\_c \\<x\\>"), std::string::npos);
  EXPECT_NE(md.find("| --- | ---: |"), std::string::npos);
  const std::string html = TableHtml(t);
  EXPECT_EQ(CheckWellFormed(html), "");
  EXPECT_NE(html.find("a|b_c &lt;x&gt;"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">1.5</td>"), std::string::npos);
}

TEST(ReportDoc, DefaultReportDir) {
  EXPECT_EQ(DefaultReportDir("runs/study.db"), "runs/study-report");
  EXPECT_EQ(DefaultReportDir("study.db"), "study-report");
  EXPECT_EQ(DefaultReportDir("/tmp/x/results.sqlite"), "/tmp/x/results.sqlite-report");
}

// ---- the builder on fixture studies --------------------------------------------------

class ReportBuilderTest : public ::testing::TestWithParam<Scenario> {};

TEST_P(ReportBuilderTest, WritesEveryFileWellFormedAndFinite) {
  const ReportInput in = AnalyzedFixture(GetParam());
  const auto files = BuildReport(in, FixtureOptions());
  const ReportFile* html = Find(files, "index.html");
  const ReportFile* md = Find(files, "summary.md");
  ASSERT_NE(html, nullptr);
  ASSERT_NE(md, nullptr);
  EXPECT_EQ(CheckWellFormed(html->content), "");
  // The same plot CSVs exist whatever the data.
  for (const char* csv :
       {"energy_vs_macs_per_param_infer.csv", "energy_vs_macs_infer.csv",
        "energy_vs_macs_per_param_train.csv", "train_vs_infer.csv", "accuracy_vs_energy_infer.csv",
        "energy_vs_batch_size_infer.csv", "time_vs_batch_size_infer.csv", "lifecycle.csv",
        "predicted_vs_measured_infer.csv", "extrapolation.csv"}) {
    EXPECT_NE(Find(files, csv), nullptr) << csv;
  }
  for (const auto& f : files) {
    EXPECT_FALSE(HasNonFinite(f.content)) << f.name;
    if (EndsWith(f.name, ".csv")) {
      std::string err;
      auto parsed = ParseCsv(f.content, &err);
      ASSERT_TRUE(parsed.has_value()) << f.name << ": " << err;
      ASSERT_GE(parsed->size(), 1u) << f.name;
      for (const auto& row : *parsed) EXPECT_EQ(row.size(), parsed->front().size()) << f.name;
    }
  }
  // Every drawn plot labels both axes with a unit in parentheses.
  const auto axes = ElementTexts(html->content, "text", "axis-label");
  EXPECT_EQ(axes.size() % 2, 0u);
  for (const auto& a : axes) EXPECT_TRUE(std::regex_search(a, std::regex(R"(\([^)]+\))"))) << a;
  // Self-contained: nothing fetched when opened.
  EXPECT_EQ(html->content.find("<script"), std::string::npos);
  EXPECT_EQ(html->content.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html->content.find("href=\"http"), std::string::npos);
  EXPECT_EQ(html->content.find("@import"), std::string::npos);
  // The context block and findings are in both documents.
  for (const auto* doc : {html, md}) {
    EXPECT_NE(doc->content.find("Headline findings"), std::string::npos);
    EXPECT_NE(doc->content.find("i7-8700K"), std::string::npos);
    EXPECT_NE(doc->content.find("OpenBLAS"), std::string::npos);
    EXPECT_NE(doc->content.find("idle baseline"), std::string::npos);
  }
  // How inference ran its convolutions, when the database said (issue 11).
  {
    ReportInput with = in;
    with.conv_weights = {{"packed", 54}, {"plain (no convolution)", 16}};
    const auto files2 = BuildReport(with, FixtureOptions());
    bool seen = false;
    for (const auto& f : files2) {
      if (f.name != "index.html" && f.name != "summary.md") continue;
      EXPECT_NE(f.content.find("inference convolution weights"), std::string::npos) << f.name;
      EXPECT_NE(f.content.find("packed once for oneDNN: 54 runs, plain (no convolution): 16 runs"),
                std::string::npos)
          << f.name;
      seen = true;
    }
    EXPECT_TRUE(seen);
    for (const auto* doc : {html, md})
      EXPECT_EQ(doc->content.find("inference convolution weights"), std::string::npos);  // not read: no line
  }
  // Deterministic: the same input gives the same bytes.
  const auto again = BuildReport(in, FixtureOptions());
  ASSERT_EQ(again.size(), files.size());
  for (size_t i = 0; i < files.size(); ++i) EXPECT_EQ(again[i].content, files[i].content) << files[i].name;
}

INSTANTIATE_TEST_SUITE_P(ReportScenarios, ReportBuilderTest,
                         ::testing::Values(Scenario::kRich, Scenario::kOneRun, Scenario::kEstimatedOnly,
                                           Scenario::kNoAccuracy),
                         [](const auto& info) {
                           std::string n = testing::ScenarioName(info.param);
                           n.erase(std::remove(n.begin(), n.end(), '-'), n.end());
                           return n;
                         });

TEST(ReportBuilderRich, DrawsEveryPlotAndComputesFindings) {
  const ReportInput in = AnalyzedFixture(Scenario::kRich);
  ASSERT_TRUE(in.analysis.has_value()) << in.analysis_error;
  const auto files = BuildReport(in, FixtureOptions());
  const std::string& html = Find(files, "index.html")->content;
  for (const char* id :
       {"corr-macsperparam-infer", "corr-macs-infer", "train-vs-infer", "pareto-infer", "energy-batch-infer",
        "time-batch-infer", "timeline-1", "lifecycle", "pred-infer", "extrapolation"}) {
    EXPECT_NE(
        html.find(std::string("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" id=\"") + id + "\""),
        std::string::npos)
        << id;
  }
  EXPECT_NE(html.find("MEASURED"), std::string::npos);
  EXPECT_EQ(html.find("ESTIMATED"), std::string::npos);
  ReportOptions with_band = FixtureOptions();
  with_band.estimate_error_band = "the estimate has erred by about ±60%";
  EXPECT_EQ(Find(BuildReport(in, with_band), "index.html")->content.find("has erred"), std::string::npos);
  const auto findings = HeadlineFindings(in, FixtureOptions());
  std::string all;
  for (const auto& f : findings) {
    all += f.text + "\n";
    EXPECT_FALSE(f.estimated) << f.text;
  }
  EXPECT_NE(all.find("energy-optimal for resnet18"), std::string::npos) << all;
  EXPECT_NE(all.find("Spearman ρ between MACs/param and inference energy per sample"), std::string::npos)
      << all;
  EXPECT_NE(all.find("of the best accuracy"), std::string::npos) << all;
  EXPECT_NE(all.find("Short profiles predicted"), std::string::npos) << all;
  // The fixture's resnet18 batch sweep is U-shaped with its minimum at 64..128.
  EXPECT_TRUE(all.find("batch 64 is energy-optimal for resnet18") != std::string::npos ||
              all.find("batch 128 is energy-optimal for resnet18") != std::string::npos)
      << all;
  // 16 models: the per-run table lists every window.
  EXPECT_NE(html.find("Every measured window"), std::string::npos);
}

TEST(ReportBuilderEdge, OneRunExplainsEmptySections) {
  const ReportInput in = AnalyzedFixture(Scenario::kOneRun);
  const auto files = BuildReport(in, FixtureOptions());
  const std::string& html = Find(files, "index.html")->content;
  const std::string& md = Find(files, "summary.md")->content;
  for (const char* section : {"id=\"correlation\"", "id=\"prediction\"", "id=\"batch-size\"",
                              "id=\"lifecycle\"", "id=\"recommendations\"", "id=\"carbon\"", "id=\"runs\""})
    EXPECT_NE(html.find(section), std::string::npos) << section;
  EXPECT_NE(html.find("no data:"), std::string::npos);
  EXPECT_NE(html.find("batch sweep"), std::string::npos);
  EXPECT_NE(html.find("too few models"), std::string::npos);
  EXPECT_NE(html.find("a correlation needs at least 3 configurations"), std::string::npos);
  EXPECT_EQ(html.find("id=\"corr-macsperparam-infer\""), std::string::npos);
  // One configuration is its own baseline: no "0% less energy" finding.
  for (const auto& f : HeadlineFindings(in, FixtureOptions()))
    EXPECT_EQ(f.text.find("less energy per sample than the most accurate"), std::string::npos) << f.text;
  EXPECT_NE(md.find("no data:"), std::string::npos);
  // The one run's timeline is still drawn.
  EXPECT_NE(html.find("id=\"timeline-1\""), std::string::npos);
}

TEST(ReportBuilderEdge, EstimatedOnlySaysSoEverywhere) {
  const ReportInput in = AnalyzedFixture(Scenario::kEstimatedOnly);
  const auto files = BuildReport(in, FixtureOptions());
  const std::string& html = Find(files, "index.html")->content;
  EXPECT_NE(html.find("<div class=\"banner estimated\" id=\"energy-basis\">ESTIMATED"), std::string::npos);
  EXPECT_NE(html.find("TDP used"), std::string::npos);
  const auto findings = HeadlineFindings(in, FixtureOptions());
  ASSERT_FALSE(findings.empty());
  for (const auto& f : findings) EXPECT_TRUE(f.estimated) << f.text;
  EXPECT_NE(Find(files, "summary.md")->content.find("rests on estimated energy"), std::string::npos);
  // The banner states the estimate's error band when the caller gives it
  // (the CLI passes meter's EstimateErrorBandLine), and only then.
  EXPECT_EQ(html.find("has erred by"), std::string::npos);
  ReportOptions with_band = FixtureOptions();
  with_band.estimate_error_band = "the estimate has erred by about ±60% against RAPL on 4 measured CPUs";
  const auto banded = BuildReport(in, with_band);
  EXPECT_NE(Find(banded, "index.html")->content.find("ESTIMATED: no energy counter was readable"),
            std::string::npos);
  EXPECT_NE(Find(banded, "index.html")->content.find("(the estimate has erred by about ±60% against RAPL"),
            std::string::npos);
  EXPECT_NE(Find(banded, "summary.md")->content.find("has erred by about ±60%"), std::string::npos);
}

TEST(ReportBuilderEdge, NoAccuracySaysWhy) {
  const ReportInput in = AnalyzedFixture(Scenario::kNoAccuracy);
  const auto files = BuildReport(in, FixtureOptions());
  const std::string& html = Find(files, "index.html")->content;
  EXPECT_NE(html.find("no accuracy was recorded"), std::string::npos);
  EXPECT_EQ(html.find("id=\"pareto-infer\""), std::string::npos);
  // Energy sections still work without accuracy.
  EXPECT_NE(html.find("id=\"corr-macsperparam-infer\""), std::string::npos);
}

TEST(ReportBuilderEdge, NoAnalysisRepeatsTheReason) {
  ReportInput in = testing::FixtureInput(Scenario::kOneRun);
  in.rows.clear();
  in.analysis_error = "the database holds no measured windows";
  const auto files = BuildReport(in, FixtureOptions());
  const std::string& html = Find(files, "index.html")->content;
  EXPECT_EQ(CheckWellFormed(html), "");
  EXPECT_NE(html.find("NO ENERGY DATA"), std::string::npos);
  EXPECT_NE(html.find("the database holds no measured windows"), std::string::npos);
}

// ---- atomic writing ------------------------------------------------------------------

TEST(ReportWriteFiles, WritesThenReplacesAReport) {
  const ScopedDir scoped("atomic");
  const fs::path& root = scoped.path;
  const fs::path out = root / "r";
  ASSERT_TRUE(
      WriteFilesAtomically({{"index.html", "a"}, {"summary.md", "b"}}, out.string(), true, RealEnv()).ok());
  EXPECT_EQ(ReadText(out / "index.html"), "a");
  ASSERT_TRUE(
      WriteFilesAtomically({{"index.html", "c"}, {"summary.md", "d"}}, out.string(), true, RealEnv()).ok());
  EXPECT_EQ(ReadText(out / "index.html"), "c");
  // No temporary or old directories are left beside it.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(root)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  const Status st =
      WriteFilesAtomically({{"index.html", "e"}, {"summary.md", "f"}}, out.string(), false, RealEnv());
  EXPECT_EQ(st.kind(), Status::Kind::kFailedPrecondition);
  EXPECT_EQ(ReadText(out / "index.html"), "c");
}

TEST(ReportWriteFiles, RefusesToReplaceSomethingElse) {
  const ScopedDir scoped("refuse");
  const fs::path& root = scoped.path;
  std::ofstream(root / "precious.txt") << "keep me";
  const Status st =
      WriteFilesAtomically({{"index.html", "a"}, {"summary.md", "b"}}, root.string(), true, RealEnv());
  EXPECT_EQ(st.kind(), Status::Kind::kFailedPrecondition);
  EXPECT_NE(st.message().find("not a wattlab report"), std::string::npos);
  EXPECT_EQ(ReadText(root / "precious.txt"), "keep me");
}

TEST(ReportWriteFiles, FailureLeavesNothingHalfWritten) {
  const ScopedDir scoped("fail");
  const fs::path& root = scoped.path;
  const fs::path out = root / "r";
  const Status st =
      WriteFilesAtomically({{"index.html", "a"}, {"../escape", "b"}}, out.string(), true, RealEnv());
  EXPECT_FALSE(st.ok());
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(fs::is_empty(root));
}

// ---- faults injected through the Env ----------------------------------------------

// Breaks one kind of call; everything else reaches the real file system.
class FaultyEnv : public ForwardingEnv {
 public:
  using ForwardingEnv::ForwardingEnv;
  // Fail the write of the file with this name (ENOSPC, as a full disk does).
  std::string fail_write_of;
  // Fail renames whose source contains this text (".tmp-": moving the new
  // report in; the target's own name: moving the old one aside).
  std::string fail_rename_from;
  // Remove this directory (really) just before the next write, or just
  // before the rename that moves the new report in.
  std::string vanish_before_write, vanish_before_rename;

  Status WriteFileAtomically(const std::string& p, const std::string& d) override {
    if (!vanish_before_write.empty()) {
      (void)target()->RemoveTree(vanish_before_write);
      vanish_before_write.clear();
    }
    if (!fail_write_of.empty() && EndsWith(p, "/" + fail_write_of))
      return Status::IOError("cannot write " + p + ": No space left on device");
    return ForwardingEnv::WriteFileAtomically(p, d);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    if (!vanish_before_rename.empty() && from.find(".tmp-") != std::string::npos) {
      (void)target()->RemoveTree(vanish_before_rename);
      vanish_before_rename.clear();
    }
    if (!fail_rename_from.empty() && from.find(fail_rename_from) != std::string::npos)
      return Status::IOError("cannot rename " + from + " to " + to + ": Device or resource busy");
    return ForwardingEnv::Rename(from, to);
  }
};

const std::vector<ReportFile> kOld = {{"index.html", "old report"}, {"summary.md", "old summary"}};
const std::vector<ReportFile> kNew = {
    {"index.html", "new report"}, {"summary.md", "new summary"}, {"lifecycle.csv", "model\n"}};

// Every entry of dir (hidden ones included).
std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// The earlier report is whole and alone: no temporary or old directory beside it.
void ExpectOldReportWhole(const fs::path& root, const fs::path& out) {
  EXPECT_EQ(ReadText(out / "index.html"), "old report");
  EXPECT_EQ(ReadText(out / "summary.md"), "old summary");
  EXPECT_FALSE(fs::exists(out / "lifecycle.csv"));
  EXPECT_EQ(Entries(root), std::vector<std::string>{out.filename().string()});
}

TEST(ReportWriteFaults, DiskFullWhileWritingKeepsThePreviousReport) {
  const ScopedDir scoped("diskfull");
  const fs::path out = scoped.path / "r";
  ASSERT_TRUE(WriteFilesAtomically(kOld, out.string(), true, RealEnv()).ok());
  FaultyEnv env(RealEnv());
  env.fail_write_of = "summary.md";  // the second file: the first is already in the temp dir
  const Status st = WriteFilesAtomically(kNew, out.string(), true, &env);
  EXPECT_EQ(st.kind(), Status::Kind::kIOError);
  EXPECT_NE(st.message().find("No space left on device"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("cannot write summary.md"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("previous report in " + out.string() + " is unchanged"), std::string::npos)
      << st.message();
  ExpectOldReportWhole(scoped.path, out);
}

TEST(ReportWriteFaults, DiskFullOnAFirstReportLeavesNothing) {
  const ScopedDir scoped("diskfull-first");
  const fs::path out = scoped.path / "r";
  FaultyEnv env(RealEnv());
  env.fail_write_of = "index.html";
  const Status st = WriteFilesAtomically(kNew, out.string(), true, &env);
  EXPECT_EQ(st.kind(), Status::Kind::kIOError);
  EXPECT_NE(st.message().find("nothing was written to " + out.string()), std::string::npos) << st.message();
  EXPECT_TRUE(fs::is_empty(scoped.path));
}

TEST(ReportWriteFaults, RefusedRenameIntoPlaceRestoresThePreviousReport) {
  const ScopedDir scoped("rename-in");
  const fs::path out = scoped.path / "r";
  ASSERT_TRUE(WriteFilesAtomically(kOld, out.string(), true, RealEnv()).ok());
  FaultyEnv env(RealEnv());
  env.fail_rename_from = ".tmp-";  // the old report was moved aside, the new one cannot move in
  const Status st = WriteFilesAtomically(kNew, out.string(), true, &env);
  EXPECT_EQ(st.kind(), Status::Kind::kIOError);
  EXPECT_NE(st.message().find("cannot move the new report into " + out.string()), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("Device or resource busy"), std::string::npos) << st.message();
  ExpectOldReportWhole(scoped.path, out);
}

TEST(ReportWriteFaults, RefusedRenameAsideKeepsThePreviousReport) {
  const ScopedDir scoped("rename-aside");
  const fs::path out = scoped.path / "r";
  ASSERT_TRUE(WriteFilesAtomically(kOld, out.string(), true, RealEnv()).ok());
  FaultyEnv env(RealEnv());
  env.fail_rename_from = out.string();  // moving the old report aside fails
  const Status st = WriteFilesAtomically(kNew, out.string(), true, &env);
  EXPECT_EQ(st.kind(), Status::Kind::kIOError);
  EXPECT_NE(st.message().find("cannot move the previous report " + out.string() + " aside"),
            std::string::npos)
      << st.message();
  ExpectOldReportWhole(scoped.path, out);
}

TEST(ReportWriteFaults, TemporaryDirectoryVanishingMidWriteIsNamed) {
  const ScopedDir scoped("vanish-tmp");
  const fs::path out = scoped.path / "r";
  ASSERT_TRUE(WriteFilesAtomically(kOld, out.string(), true, RealEnv()).ok());
  // Whatever removes the temp dir (a cleaner, a user) strikes before the first write.
  struct TmpVanish : FaultyEnv {
    using FaultyEnv::FaultyEnv;
    Result<std::string> MakeTempDir(const std::string& parent, const std::string& prefix) override {
      auto made = FaultyEnv::MakeTempDir(parent, prefix);
      if (made.ok()) vanish_before_write = *made;
      return made;
    }
  } vanish(RealEnv());
  const Status st = WriteFilesAtomically(kNew, out.string(), true, &vanish);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("vanished while index.html was being written"), std::string::npos)
      << st.message();
  ExpectOldReportWhole(scoped.path, out);
}

TEST(ReportWriteFaults, ParentVanishingBeforeTheSwapIsNamed) {
  const ScopedDir scoped("vanish-parent");
  const fs::path parent = scoped.path / "reports";
  const fs::path out = parent / "r";
  FaultyEnv env(RealEnv());
  env.vanish_before_rename = parent.string();  // the whole output parent is removed under us
  const Status st = WriteFilesAtomically(kNew, out.string(), true, &env);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.kind(), Status::Kind::kNotFound) << st.ToString();
  EXPECT_NE(st.message().find("the directory " + parent.string() + " vanished"), std::string::npos)
      << st.message();
  // Nothing was recreated behind the user's back, and nothing is left over.
  EXPECT_FALSE(fs::exists(parent));
  EXPECT_TRUE(fs::is_empty(scoped.path));
}

TEST(ReportWriteFaults, MissingParentIsCreated) {
  const ScopedDir scoped("parent");
  const fs::path out = scoped.path / "a" / "b" / "r";
  ASSERT_TRUE(WriteFilesAtomically(kNew, out.string() + "/", true, RealEnv()).ok());
  EXPECT_EQ(ReadText(out / "index.html"), "new report");
  EXPECT_EQ(Entries(out.parent_path()), std::vector<std::string>{"r"});
}

// ---- WriteReport on rows read from a real store file ----------------------------------

TEST(ReportWriteReport, FromADatabase) {
  const ScopedDir scoped("db");
  const fs::path& root = scoped.path;
  const std::string db = (root / "study.db").string();
  ASSERT_TRUE(testing::FillStore(db, testing::FixtureInput(Scenario::kRich)).ok());
  // What `wattlab report` does before WriteReport: read the store.
  const auto store_env = NewRealEnv();
  auto store = Store::Open(store_env.get(), db, OpenMode::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ReportData data;
  data.studies = *(*store)->ReadStudies();
  data.rows = *(*store)->ReadRows("");
  data.timelines = *(*store)->ReadTimelines("");
  ReportOptions opt = FixtureOptions();
  const std::string out = DefaultReportDir(db);
  const Status st = WriteReport(data, opt, out, RealEnv());
  ASSERT_TRUE(st.ok()) << st.ToString();
  const std::string html = ReadText(fs::path(out) / "index.html");
  EXPECT_EQ(CheckWellFormed(html), "");
  EXPECT_NE(html.find("fixture-rich"), std::string::npos);
  EXPECT_NE(html.find("id=\"corr-macsperparam-infer\""), std::string::npos);
  EXPECT_NE(html.find("Generated 2026-11-27"), std::string::npos);  // the date given, not the clock's
  EXPECT_TRUE(fs::exists(fs::path(out) / "summary.md"));
  EXPECT_TRUE(fs::exists(fs::path(out) / "lifecycle.csv"));

  opt.pue = 0.5;  // bad options fail before anything is written
  const Status bad = WriteReport(data, opt, (root / "other").string(), RealEnv());
  EXPECT_EQ(bad.kind(), Status::Kind::kInvalidArgument);
  EXPECT_FALSE(fs::exists(root / "other"));
}

// The report states the analysis' findings word for word: one source for
// `wattlab analyze --json` and the report.
TEST(ReportFindings, AreTheAnalysisFindings) {
  const ReportInput in = AnalyzedFixture(Scenario::kRich);
  ASSERT_TRUE(in.analysis.has_value());
  const auto findings = HeadlineFindings(in, FixtureOptions());
  const auto json = analysis::ToJson(*in.analysis)["findings"];
  ASSERT_EQ(findings.size(), json.size());
  const std::string md = Find(BuildReport(in, FixtureOptions()), "summary.md")->content;
  for (size_t i = 0; i < findings.size(); ++i) {
    EXPECT_EQ(findings[i].text, json[i]["text"].get<std::string>());
    EXPECT_NE(md.find("- " + MarkdownEscape(findings[i].text)), std::string::npos) << findings[i].text;
  }
}

}  // namespace
}  // namespace wattlab::report
