// Shared plumbing for subcommands: the meter flags every measuring command
// takes, building the Env and Meter from them, and error printing.
// Parsing only; logic lives in the modules.
#pragma once

#include <memory>
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

// --sysfs-root, --proc-root, --dev-root, --cpu-tdp-w, --interval, --nvml-library
// (each also from WATTLAB_* environment variables; flags win).
struct MeterFlags {
  std::string sysfs_root, proc_root, dev_root, cpu_tdp_w, interval, nvml_library;
  void Register(ArgParser& p, bool with_interval = true);
  Result<Roots> ResolveRoots() const;
  // Uses env for WATTLAB_CPU_TDP_W / WATTLAB_NVML_LIBRARY defaults.
  Result<MeterOptions> ResolveOptions(Env* env) const;
};

// Prints "wattlab CMD: message" to stderr and returns the exit code for it
// (kExitUsage for InvalidArgument, kExitFailure otherwise).
int ReportError(const std::string& command, const Status& status);

// Parses args; on --help prints help and returns 0 via *exit_code; on error
// prints it and sets *exit_code. Returns true when the command should go on.
bool ParseOrExit(ArgParser& p, const std::vector<std::string>& args, int* exit_code);

std::string WattlabVersion();  // "0.1.0 (git abc1234)"

}  // namespace wattlab::cli
