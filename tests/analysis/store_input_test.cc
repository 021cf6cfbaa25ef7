// The two ways rows reach the analysis: the store (`--db`) and the export
// (`wattlab runs --csv` -> ReadRunsCsv). Both must give the same analysis.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "analysis/analysis.h"
#include "platform/real_env.h"
#include "store/export.h"
#include "store/store.h"

namespace wattlab::analysis {
namespace {

// The real Env the store opens its files through in these tests.
Env* StoreEnv() {
  static const std::unique_ptr<Env> env = NewRealEnv();
  return env.get();
}

std::vector<RunRow> FixtureRows() {
  std::ifstream in(std::string(WATTLAB_FIXTURES) + "/analysis/runs.csv");
  std::stringstream ss;
  ss << in.rdbuf();
  auto rows = ReadRunsCsv(ss.str());
  EXPECT_TRUE(rows.ok()) << rows.status().ToString();
  return rows.ok() ? *rows : std::vector<RunRow>{};
}

void ExpectSameRows(const std::vector<RunRow>& a, const std::vector<RunRow>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(a[i].run_id, b[i].run_id);
    EXPECT_EQ(a[i].config_id, b[i].config_id);
    EXPECT_EQ(a[i].phase, b[i].phase);
    EXPECT_EQ(a[i].window, b[i].window);
    EXPECT_EQ(a[i].samples, b[i].samples);
    EXPECT_EQ(a[i].steps, b[i].steps);
    EXPECT_DOUBLE_EQ(a[i].energy_j, b[i].energy_j);
    EXPECT_EQ(a[i].energy_above_idle_j, b[i].energy_above_idle_j);
    EXPECT_EQ(a[i].extrapolated_energy_j, b[i].extrapolated_energy_j);
    EXPECT_EQ(a[i].accuracy, b[i].accuracy);
    EXPECT_EQ(a[i].estimated, b[i].estimated);
    EXPECT_DOUBLE_EQ(a[i].macs_per_param, b[i].macs_per_param);
  }
}

TEST(StoreInput, ExportCsvRoundTripsThroughReader) {
  auto rows = FixtureRows();
  auto back = ReadRunsCsv(RunRowsToCsv(rows));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSameRows(rows, *back);
}

TEST(StoreInput, DatabaseGivesTheSameAnalysisAsTheCsv) {
  auto rows = FixtureRows();
  const std::string path = testing::TempDir() + "/analysis_store_input.db";
  std::filesystem::remove(path);
  {
    auto st = Store::Open(StoreEnv(), path, OpenMode::kCreate);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    StudyInfo info;
    info.name = "demo";
    ASSERT_TRUE((*st)->UpsertStudy(info).ok());
    std::map<int64_t, RunRecord> runs;
    for (const auto& r : rows) {
      RunRecord& rec = runs[r.run_id];
      rec.study = "demo";
      rec.run_id = r.run_id;
      rec.config_id = r.config_id;
      rec.repetition = r.repetition;
      rec.model = r.model;
      rec.rows.push_back(r);
    }
    for (const auto& [id, rec] : runs) ASSERT_TRUE((*st)->WriteRun(rec).ok()) << id;
  }
  auto st = Store::Open(StoreEnv(), path, OpenMode::kReadOnly);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  auto stored = (*st)->ReadRows();
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_EQ(stored->size(), rows.size());
  auto from_db = Analyze(*stored, {});
  auto from_csv = Analyze(rows, {});
  ASSERT_TRUE(from_db.ok() && from_csv.ok());
  EXPECT_EQ(ToJson(*from_db).dump(), ToJson(*from_csv).dump());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace wattlab::analysis
