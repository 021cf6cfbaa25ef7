// wattlab calibrate: the operator micro-benchmarks of the operator-level cost
// model (issue 12; docs/analysis.md), stored in the database with the
// machine context they are valid for. Parsing and printing only: the
// benchmarks run in the workload plugin (WorkloadEngine::Calibrate).
#include <cstdio>
#include <iostream>
#include <map>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/opmodel_cli.h"
#include "cli/workload_cli.h"
#include "core/strings.h"
#include "meter/wait_policy.h"
#include "platform/plugin.h"
#include "store/store.h"

namespace wattlab::cli {

namespace {

struct Calibrate {
  std::string db, precision = "fp32", shapes;
  int64_t threads = 0;
  bool quick = false, json = false;
  int Run();
};

}  // namespace

CommandFn AddCalibrate(CLI::App* root) {
  auto c = std::make_shared<Calibrate>();
  CLI::App* p = AddCommand(root, "calibrate",
                           "time each operator kind over a spread of shapes on this machine, for the "
                           "operator-level model of analyze and predict");
  AddString(p, "--db", &c->db, "FILE", "wattlab database to store the calibration in (default wattlab.db)");
  AddCount(p, "--threads", &c->threads, 0, "T", "threads (default 0: every core)");
  AddChoice(p, "--precision", &c->precision, {"fp32", "bf16"}, "precision (default fp32)");
  AddFlag(p, "--quick", &c->quick, "fewer shapes, one batch size: under a minute on 2 cores");
  AddChoice(p, "--shapes", &c->shapes, {"default", "quick", "tiny"},
            "shape set; tiny is for tests only (seconds; too few shapes for predictions worth acting on)");
  AddFlag(p, "--json", &c->json, "print one JSON object");
  return [c](const Invocation&) { return c->Run(); };
}

int Calibrate::Run() {
  const std::string cmd = "calibrate";
  if (quick && !shapes.empty() && shapes != "quick")
    return ReportError(cmd, Status::InvalidArgument("--quick is --shapes quick: give one of them"));
  CalibrationConfig cfg;
  cfg.threads = static_cast<int>(threads);
  cfg.precision = precision;
  cfg.shapes = quick ? "quick" : (shapes.empty() ? "default" : shapes);
  std::unique_ptr<Env> env = OpenDefaultEnv();
  const std::string path = db.empty() ? kDefaultDb : db;
  // The database first: a bad path should not wait for libtorch.
  auto store = Store::Open(env.get(), path, OpenMode::kCreate);
  if (!store.ok()) return ReportError(cmd, store.status());
  // The wait policy as train and study choose it (meter/wait_policy.h).
  const OmpWaitChoice omp = ChooseOmpWaitPolicy(env.get());
  auto engine = LoadWorkloadEngine(env.get());
  if (!engine.ok())
    return ReportError(cmd, engine.status().WithContext("calibrating needs the workload engine"));
  if (!json)
    std::fprintf(stderr, "wattlab calibrate: %s shapes, %s, %s; %s\n", cfg.shapes.c_str(),
                 threads > 0 ? (std::to_string(threads) + " threads").c_str() : "every core",
                 precision.c_str(), OmpLine(omp).c_str());
  auto row = RunAndSaveCalibration(env.get(), *engine, store->get(), cfg, OmpWaitPolicyName(omp.policy));
  if (!row.ok()) return ReportError(cmd, row.status());
  std::map<std::string, int> per_kind;
  for (const auto& p : row->points) ++per_kind[p.op.kind];
  if (json) {
    nlohmann::json j{{"calibration_id", row->id},
                     {"db", path},
                     {"host", row->host},
                     {"cpu", row->cpu},
                     {"libtorch", row->libtorch},
                     {"blas", row->blas},
                     {"wait_policy", row->wait_policy},
                     {"threads", row->threads},
                     {"precision", row->precision},
                     {"shapes", row->shapes},
                     {"duration_s", row->duration_s},
                     {"points", row->points.size()},
                     {"points_by_kind", per_kind}};
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  std::printf("wattlab calibrate: calibration %lld stored in %s (%zu points, %.1f s)\n",
              static_cast<long long>(row->id), path.c_str(), row->points.size(), row->duration_s);
  std::printf("  context: host %s, cpu %s, libtorch %s, blas %s, wait policy %s, %lld threads, %s\n",
              row->host.c_str(), row->cpu.c_str(), row->libtorch.c_str(), row->blas.c_str(),
              row->wait_policy.c_str(), static_cast<long long>(row->threads), row->precision.c_str());
  std::string kinds;
  for (const auto& [k, n] : per_kind) kinds += (kinds.empty() ? "" : ", ") + k + " " + std::to_string(n);
  std::printf("  points: %s\n", kinds.c_str());
  std::printf("  used by `wattlab analyze` and `wattlab predict` for runs in this same context\n");
  return kExitOk;
}

}  // namespace wattlab::cli
