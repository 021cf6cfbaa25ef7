// Shared plumbing of the operator-level model (issue 12) for `calibrate`,
// `analyze`, `predict` and `study`: the machine context a calibration is
// valid for, running and storing one, and gathering what
// analysis::EvaluateOpModel needs (each model's operator profile, the
// calibrations that serve a study's runs). Parsing and plumbing only.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "analysis/opmodel.h"
#include "core/env.h"
#include "store/store.h"
#include "wattlab/workload.h"

namespace wattlab::cli {

// The machine now: host, CPU model, the engine's libtorch and BLAS, and the
// given wait policy ("default", "active", "passive"), threads and precision.
CalibrationContext CurrentCalibrationContext(Env* env, WorkloadEngine& engine, int64_t threads,
                                             const std::string& precision, const std::string& wait_policy);

StoredCalibration FromRow(const CalibrationRow& row);

// Runs the micro-benchmarks and appends them to `store`; prints one progress
// line to stderr when `verbose`.
Result<CalibrationRow> RunAndSaveCalibration(Env* env, WorkloadEngine* engine, Store* store,
                                             const CalibrationConfig& config, const std::string& wait_policy);

// What analyze/predict need for the rows of `study` (all studies when empty)
// of the database at `db`: the calibrations that serve the study's machine
// (host, CPU, libtorch, BLAS and wait policy from the stored study context
// and rows) per threads/precision, and each model's profile at the input
// its runs recorded. Missing pieces are notes, not errors; an error only
// when the database cannot be read. Loads the plugin only when a
// calibration serves the runs.
Result<OpModelInput> GatherOpModelInput(Env* env, const std::string& db, const std::string& study,
                                        const std::vector<RunRow>& rows);

}  // namespace wattlab::cli
