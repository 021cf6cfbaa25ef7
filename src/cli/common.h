// Shared plumbing for subcommands: the meter flags every measuring command
// takes, building the Env and Meter from them, error printing, and the few
// constants and formats more than one command uses. Parsing only; logic
// lives in the modules.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/args.h"
#include "core/env.h"
#include "wattlab/meter.h"

namespace wattlab::cli {

// Exit codes shared by all commands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
// `measure` only: wattlab failed before running the command (env(1)'s 125).
inline constexpr int kExitCannotStart = 125;

// The database every command reads or writes unless --db says otherwise.
inline constexpr const char* kDefaultDb = "wattlab.db";

// --sysfs-root, --proc-root, --dev-root, --cpu-tdp-w, --estimate-profile,
// --interval, --nvml-library (each also from WATTLAB_* environment
// variables; flags win).
struct MeterFlags {
  std::string sysfs_root, proc_root, dev_root, nvml_library, estimate_profile;
  std::optional<double> cpu_tdp_w;
  std::optional<std::chrono::nanoseconds> interval;
  void Register(CLI::App* cmd, bool with_interval = true);
  Result<Roots> ResolveRoots() const;
  // Uses env for WATTLAB_CPU_TDP_W / WATTLAB_NVML_LIBRARY defaults.
  Result<MeterOptions> ResolveOptions(Env* env) const;
};

// The whole machine, with /sys, /proc and /dev where the meter flags (or
// WATTLAB_*_ROOT) put them.
Result<std::unique_ptr<Env>> OpenEnv(const MeterFlags& flags);
// The whole machine at its real roots (WATTLAB_*_ROOT still apply).
std::unique_ptr<Env> OpenDefaultEnv();

// Prints "wattlab CMD: message" to stderr and returns the exit code for it
// (kExitUsage for InvalidArgument, kExitFailure otherwise).
int ReportError(const std::string& command, const Status& status);

// ---- Outputs (docs/reliability.md: "Outputs are checked before work starts")

// OK when `path`, given with `flag` ("-o", "--timeline", "--out"), can be
// written: "-" (stdout) always; an existing FIFO or device (/dev/stdout) when
// writable; a regular file when writable; a missing file when its directory
// exists and is writable. Otherwise InvalidArgument saying what is wrong and
// what to do ("--timeline missing-dir/t.csv: directory missing-dir does not
// exist; create it or choose another path"). Writes nothing.
Status CheckOutputPath(Env* env, const std::string& flag, const std::string& path);
// The same for a directory that a command fills (report --out): it may exist
// (as a directory) or be created in a writable parent.
Status CheckOutputDir(Env* env, const std::string& flag, const std::string& path);
// Writes data to path: "-" is stdout; a FIFO or device is written in place;
// a regular file is replaced atomically.
Status WriteOutput(Env* env, const std::string& path, const std::string& data);
// When an output could not be written at the end: saves data to a fallback
// file ($TMPDIR or /tmp, "wattlab-CMD-PID-WHAT") and returns its path, or ""
// when even that failed.
std::string SaveFallback(Env* env, const std::string& command, const std::string& what,
                         const std::string& data);

// Four significant digits, exponent when needed ("0.0123", "1.235e+06").
std::string Sci(double v);

std::string WattlabVersion();        // "0.1.0 (git abc1234)"
std::string WattlabVersionNumber();  // "0.1.0"
std::string WattlabRevision();       // "abc1234", "unknown" outside git

}  // namespace wattlab::cli
