// Shared plumbing of `wattlab train` and `wattlab infer`: the flags both take,
// opening the Env, plugin and Meter for them, and the JSON and console forms
// of what a MeteredRun (study/metered_run.h) measured. Parsing and formatting
// only: binding windows to phases, the idle baseline and the energy-per-sample
// rule live in study/ and core/.
//
// Thread-safety: one command, one thread.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/common.h"
#include "core/env.h"
#include "meter/wait_policy.h"
#include "study/metered_run.h"
#include "wattlab/meter.h"
#include "wattlab/workload.h"

namespace wattlab::cli {

// Everything a measuring workload command needs, alive for the command.
struct MeteredSession {
  std::unique_ptr<Env> env;
  WorkloadEngine* engine = nullptr;  // owned by the plugin, lives for the process
  std::unique_ptr<Meter> meter;      // started
  MeterContext context;              // the idle baseline is added by EstablishIdleBaseline
  OmpWaitChoice omp;                 // the OpenMP wait policy libtorch loaded under
};

// --idle-seconds S (0 disables) and --idle-max-age S, the same for train and infer.
void AddIdleFlags(CLI::App* cmd, IdleBaselinePolicy* out);

// For commands that only describe models (no measured workload): libgomp
// reads OMP_WAIT_POLICY once, when libtorch's plugin loads it; a one-off
// forward pass gains nothing from spinning threads, so they wait passively
// unless the user chose a policy. Must run before LoadWorkloadEngine.
void PreferPassiveOpenMpWait(Env* env);

// Env from the meter flags, the OpenMP wait policy (meter/wait_policy.h:
// the user's, else default unless the machine is busy at start), the
// workload plugin, a started Meter attributing to this process, and the
// context block (whose versions name the policy in force).
Result<MeteredSession> OpenMeteredSession(const MeterFlags& flags);

// The idle baseline of a train/infer command (EstablishIdleBaseline), its
// warnings printed to stderr as "wattlab CMD: warning: ...".
Status SetUpIdleBaseline(const std::string& cmd, MeteredSession* session, const IdleBaselinePolicy& policy);

// "openmp: default wait policy (OMP_WAIT_POLICY unset, as PyTorch runs; ...)"
std::string OmpLine(const OmpWaitChoice& c);
// {"policy", "why", "from_environment", "busy_at_start"}
nlohmann::json OmpJson(const OmpWaitChoice& c);

// {name, input, classes, params, macs, macs_by_kind, macs_per_param, counter}
inline nlohmann::json ModelJson(const ModelFacts& f) { return ModelFactsToJson(f); }
// A window in the one shape of meter/json.h, with its samples and loss.
nlohmann::json WindowJson(const MeteredWindow& w);
// {sources, estimated, interval_s, idle_power_w, idle_measured_s, idle_busy, idle_cpu_util,
//  idle_baseline ("measured" | "stored" | "none"), idle_stored_at_s}
nlohmann::json MeterJson(const MeterContext& c);
// The engine's versions plus wattlab's.
nlohmann::json VersionsJson(const MeterContext& c);

// "meter: estimate (estimated: ...); idle 4.20 W"
std::string MeterLine(const MeterContext& c);
// One console line for a window:
// "train: 12.300 s, 480 samples (39.0/s), 456.70 J (123.40 J above idle), 0.2571 mJ/sample".
std::string WindowLine(const MeteredWindow& w);

}  // namespace wattlab::cli
