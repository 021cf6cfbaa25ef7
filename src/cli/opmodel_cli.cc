#include "cli/opmodel_cli.h"

#include <cstdio>
#include <map>
#include <set>

#include "cli/common.h"
#include "platform/plugin.h"
#include "study/metered_run.h"

namespace wattlab::cli {

namespace {
std::string VersionOf(WorkloadEngine& engine, const std::string& key) {
  for (const auto& [k, v] : engine.Versions())
    if (k == key) return v;
  return "";
}
}  // namespace

CalibrationContext CurrentCalibrationContext(Env* env, WorkloadEngine& engine, int64_t threads,
                                             const std::string& precision, const std::string& wait_policy) {
  CalibrationContext c;
  c.host = ContextHost(env);  // as the study context records them
  c.cpu = ContextCpu(env);
  c.libtorch = VersionOf(engine, "libtorch");
  c.blas = VersionOf(engine, "blas");
  c.wait_policy = wait_policy;
  c.precision = precision;
  c.threads = threads;
  return c;
}

StoredCalibration FromRow(const CalibrationRow& row) {
  StoredCalibration s;
  s.id = row.id;
  s.created_unix_s = row.created_unix_s;
  s.context = {row.host, row.cpu, row.libtorch, row.blas, row.wait_policy, row.precision, row.threads};
  s.shapes = row.shapes;
  s.duration_s = row.duration_s;
  s.points = row.points;
  return s;
}

Result<CalibrationRow> RunAndSaveCalibration(Env* env, WorkloadEngine* engine, Store* store,
                                             const CalibrationConfig& config,
                                             const std::string& wait_policy) {
  WATTLAB_ASSIGN_OR_RETURN(CalibrationResult r, engine->Calibrate(config));
  CalibrationContext ctx = CurrentCalibrationContext(env, *engine, r.threads, r.precision, wait_policy);
  CalibrationRow row;
  row.created_unix_s = env->NowWallSeconds();
  row.host = ctx.host;
  row.cpu = ctx.cpu;
  row.libtorch = ctx.libtorch;
  row.blas = ctx.blas;
  row.wait_policy = ctx.wait_policy;
  row.threads = r.threads;
  row.precision = r.precision;
  row.shapes = r.shapes;
  row.duration_s = r.duration_s;
  row.points = std::move(r.points);
  WATTLAB_ASSIGN_OR_RETURN(row.id, store->SaveCalibration(row));
  return row;
}

Result<OpModelInput> GatherOpModelInput(Env* env, const std::string& db, const std::string& study,
                                        const std::vector<RunRow>& rows) {
  OpModelInput in;
  const std::string path = db.empty() ? kDefaultDb : db;
  WATTLAB_ASSIGN_OR_RETURN(auto store, Store::Open(env, path, OpenMode::kReadOnly));
  WATTLAB_ASSIGN_OR_RETURN(auto cal_rows, store->ReadCalibrations());
  if (cal_rows.empty()) {
    in.notes.push_back("no operator calibration in " + path + ": run `wattlab calibrate --db " + path + "`");
    return in;
  }
  std::vector<StoredCalibration> stored;
  for (const auto& r : cal_rows) stored.push_back(FromRow(r));
  // The machine the runs were measured on: the first study's context.
  std::set<std::string> studies;
  for (const auto& r : rows) studies.insert(r.study);
  CalibrationContext want;
  for (const auto& name : studies) {
    WATTLAB_ASSIGN_OR_RETURN(auto info, store->ReadStudy(name));
    if (!info) continue;
    want.host = info->host;
    want.cpu = info->cpu;
    want.libtorch = info->libtorch;
    want.blas = info->blas;
    break;
  }
  std::map<std::string, int> policies;
  for (const auto& r : rows)
    if (!r.omp_wait_policy.empty()) ++policies[r.omp_wait_policy];
  int best = 0;
  for (const auto& [p, n] : policies)
    if (n > best) want.wait_policy = p, best = n;
  std::set<std::pair<int64_t, std::string>> keys;
  for (const auto& r : rows)
    if (r.phase == "train" || r.phase == "infer") keys.insert({r.threads, r.precision});
  for (const auto& [threads, precision] : keys) {
    CalibrationContext w = want;
    w.threads = threads;
    w.precision = precision;
    auto chosen = ChooseCalibration(stored, w);
    if (!chosen.ok()) {
      in.notes.push_back("threads " + std::to_string(threads) + ", " + precision + ": " +
                         chosen.status().message());
      continue;
    }
    in.calibrations[CalibrationKey(threads, precision)] = chosen->points;
  }
  if (in.calibrations.empty()) return in;
  // Each model's operators at the input its runs used.
  WATTLAB_ASSIGN_OR_RETURN(auto inputs, store->ReadModelInputs(study));
  auto engine = LoadWorkloadEngine(env);
  if (!engine.ok()) {
    in.notes.push_back("the workload engine is needed to profile the models' operators: " +
                       engine.status().message());
    return in;
  }
  std::set<std::string> models;
  for (const auto& r : rows) models.insert(r.model);
  for (const auto& m : models) {
    std::optional<Shape> shape;
    if (auto it = inputs.find(m); it != inputs.end()) {
      if (auto s = ParseShape(it->second); s.ok()) shape = *s;
    }
    auto prof = (*engine)->ProfileOps(m, shape, std::nullopt);
    if (!prof.ok()) {
      in.notes.push_back("operators of " + m + " not profiled: " + prof.status().message());
      continue;
    }
    in.profiles[m] = std::move(*prof);
  }
  return in;
}

}  // namespace wattlab::cli
