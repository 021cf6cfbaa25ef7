// Fixture studies for the report tests and the browser test's generator:
// deterministic rows, study context and timelines shaped like real wattlab
// studies (16 CIFAR-10 models, a batch sweep, profile + full training), and
// the degenerate cases a report must still explain (one run, estimated-only,
// no accuracy).
#pragma once

#include <string>

#include "report/builder.h"

namespace wattlab::report::testing {

enum class Scenario { kRich, kOneRun, kEstimatedOnly, kNoAccuracy };

// Rows, studies and timelines for the scenario (no analysis yet).
ReportInput FixtureInput(Scenario scenario);

// FixtureInput plus the real analysis over its rows (Analyze); a failed
// analysis is recorded in analysis_error, as WriteReport does.
ReportInput AnalyzedFixture(Scenario scenario);

// Options with a pinned date so output is reproducible.
ReportOptions FixtureOptions();

const char* ScenarioName(Scenario scenario);

// Writes the input's studies, idle baselines, rows and timelines into a store
// file (created), one run per run_id, as the study runner would.
Status FillStore(const std::string& db_path, const ReportInput& input);

}  // namespace wattlab::report::testing
