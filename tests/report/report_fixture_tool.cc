// Writes a fixture report to a directory, for the browser test:
//   report_fixture_tool rich|one-run|estimated-only|no-accuracy OUT_DIR
// or, for the CLI test, a store file holding the rich study:
//   report_fixture_tool --db FILE
#include <cstdio>
#include <string>

#include "fixtures.h"
#include "platform/real_env.h"

int main(int argc, char** argv) {
  using namespace wattlab::report;
  using testing::Scenario;
  if (argc != 3) {
    std::fprintf(stderr, "usage: report_fixture_tool rich|one-run|estimated-only|no-accuracy OUT_DIR\n");
    return 2;
  }
  const std::string name = argv[1];
  if (name == "--db") {
    const wattlab::Status st = testing::FillStore(argv[2], testing::FixtureInput(Scenario::kRich));
    if (!st.ok()) {
      std::fprintf(stderr, "report_fixture_tool: %s\n", st.ToString().c_str());
      return 1;
    }
    return 0;
  }
  Scenario s;
  if (name == "rich")
    s = Scenario::kRich;
  else if (name == "one-run")
    s = Scenario::kOneRun;
  else if (name == "estimated-only")
    s = Scenario::kEstimatedOnly;
  else if (name == "no-accuracy")
    s = Scenario::kNoAccuracy;
  else {
    std::fprintf(stderr, "report_fixture_tool: unknown scenario '%s'\n", argv[1]);
    return 2;
  }
  const auto files = BuildReport(testing::AnalyzedFixture(s), testing::FixtureOptions());
  const wattlab::Status st = WriteFilesAtomically(files, argv[2], true, wattlab::NewRealEnv().get());
  if (!st.ok()) {
    std::fprintf(stderr, "report_fixture_tool: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
