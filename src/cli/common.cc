#include "cli/common.h"

#include <cstdio>
#include <iostream>

#include "platform/real_env.h"
#include "core/strings.h"

#ifndef WATTLAB_VERSION
#define WATTLAB_VERSION "0.0.0"
#endif
#ifndef WATTLAB_GIT_REV
#define WATTLAB_GIT_REV "unknown"
#endif

namespace wattlab::cli {

void MeterFlags::Register(ArgParser& p, bool with_interval) {
  p.AddOption("sysfs-root", &sysfs_root, "DIR", "read /sys from DIR (default $WATTLAB_SYSFS_ROOT or /sys)");
  p.AddOption("proc-root", &proc_root, "DIR", "read /proc from DIR (default $WATTLAB_PROC_ROOT or /proc)");
  p.AddOption("dev-root", &dev_root, "DIR", "read /dev from DIR (default $WATTLAB_DEV_ROOT or /dev)");
  p.AddOption("cpu-tdp-w", &cpu_tdp_w, "W", "CPU TDP in watts for the estimate (default $WATTLAB_CPU_TDP_W or the table)");
  p.AddOption("nvml-library", &nvml_library, "PATH", "NVML library to load (default $WATTLAB_NVML_LIBRARY or libnvidia-ml.so.1)");
  if (with_interval) p.AddOption("interval", &interval, "DUR", "sampling interval, e.g. 100ms, 1ms (default 100ms)");
}

Result<Roots> MeterFlags::ResolveRoots() const {
  Roots r = RootsFromProcessEnvironment();
  if (!sysfs_root.empty()) r.sysfs = sysfs_root;
  if (!proc_root.empty()) r.proc = proc_root;
  if (!dev_root.empty()) r.dev = dev_root;
  return r;
}

Result<MeterOptions> MeterFlags::ResolveOptions(Env* env) const {
  MeterOptions o;
  std::string tdp = cpu_tdp_w;
  if (tdp.empty()) {
    if (auto v = env->GetEnvVar("WATTLAB_CPU_TDP_W"); v && !v->empty()) tdp = *v;
  }
  if (!tdp.empty()) {
    auto w = ParseNumber(tdp);
    if (!w || *w <= 0 || *w > 2000)
      return Status::InvalidArgument("invalid CPU TDP '" + tdp + "': give watts as a number between 0 and 2000, e.g. --cpu-tdp-w 65");
    o.cpu_tdp_w = *w;
  }
  if (!nvml_library.empty()) o.nvml_library = nvml_library;
  else if (auto v = env->GetEnvVar("WATTLAB_NVML_LIBRARY"); v && !v->empty()) o.nvml_library = *v;
  if (!interval.empty()) {
    std::string err;
    auto ns = ParseDurationNs(interval, &err);
    if (!ns) return Status::InvalidArgument(err);
    if (*ns < 100000 || *ns > 60000000000LL)
      return Status::InvalidArgument("invalid interval '" + interval + "': allowed 100us to 60s");
    o.interval = std::chrono::nanoseconds(*ns);
  }
  return o;
}

int ReportError(const std::string& command, const Status& status) {
  std::fprintf(stderr, "wattlab %s: %s\n", command.c_str(), status.message().c_str());
  return status.kind() == Status::Kind::kInvalidArgument ? kExitUsage : kExitFailure;
}

bool ParseOrExit(ArgParser& p, const std::vector<std::string>& args, int* exit_code) {
  Status st = p.Parse(args);
  if (p.help_requested()) {
    std::cout << p.Help();
    *exit_code = kExitOk;
    return false;
  }
  if (!st.ok()) {
    std::fprintf(stderr, "wattlab: %s\n", st.message().c_str());
    *exit_code = kExitUsage;
    return false;
  }
  return true;
}

std::string WattlabVersion() { return std::string(WATTLAB_VERSION) + " (git " + WATTLAB_GIT_REV + ")"; }

}  // namespace wattlab::cli
