#include "cli/common.h"

#include <cstdio>

#include "core/strings.h"
#include "meter/estimate.h"
#include "platform/real_env.h"

#ifndef WATTLAB_VERSION
#define WATTLAB_VERSION "0.0.0"
#endif
#ifndef WATTLAB_GIT_REV
#define WATTLAB_GIT_REV "unknown"
#endif

namespace wattlab::cli {

namespace {

// The estimate's CPU TDP: a flag or $WATTLAB_CPU_TDP_W, same rule for both.
const Range kTdpRange = Range::AboveUpTo(0, 2000);

}  // namespace

void MeterFlags::Register(CLI::App* cmd, bool with_interval) {
  AddString(cmd, "--sysfs-root", &sysfs_root, "DIR", "read /sys from DIR (default $WATTLAB_SYSFS_ROOT or /sys)");
  AddString(cmd, "--proc-root", &proc_root, "DIR", "read /proc from DIR (default $WATTLAB_PROC_ROOT or /proc)");
  AddString(cmd, "--dev-root", &dev_root, "DIR", "read /dev from DIR (default $WATTLAB_DEV_ROOT or /dev)");
  AddNumber(cmd, "--cpu-tdp-w", &cpu_tdp_w, kTdpRange, "W",
            "CPU TDP in watts for the estimate (default $WATTLAB_CPU_TDP_W or the table)");
  AddString(cmd, "--estimate-profile", &estimate_profile, "FILE",
            "a measured CPU power-vs-load curve (JSON) for the estimate to use instead of TDP x the fitted curve "
            "(default $WATTLAB_ESTIMATE_PROFILE)");
  AddString(cmd, "--nvml-library", &nvml_library, "PATH",
            "NVML library to load (default $WATTLAB_NVML_LIBRARY or libnvidia-ml.so.1)");
  if (with_interval)
    AddDuration(cmd, "--interval", &interval, std::chrono::microseconds(100), std::chrono::seconds(60), "DUR",
                "sampling interval, e.g. 100ms, 1ms (default 100ms)");
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
  if (cpu_tdp_w) {
    o.cpu_tdp_w = *cpu_tdp_w;
  } else if (auto v = env->GetEnvVar("WATTLAB_CPU_TDP_W"); v && !v->empty()) {
    WATTLAB_ASSIGN_OR_RETURN(o.cpu_tdp_w, ParseNumberValue("$WATTLAB_CPU_TDP_W", *v, kTdpRange));
  }
  if (!nvml_library.empty()) o.nvml_library = nvml_library;
  else if (auto v = env->GetEnvVar("WATTLAB_NVML_LIBRARY"); v && !v->empty()) o.nvml_library = *v;
  if (interval) o.interval = *interval;
  if (!estimate_profile.empty()) o.estimate_profile = estimate_profile;
  else if (auto v = env->GetEnvVar("WATTLAB_ESTIMATE_PROFILE"); v && !v->empty()) o.estimate_profile = *v;
  if (!o.estimate_profile.empty()) {
    // A bad file is a usage error now, not a silently unavailable estimate later.
    auto profile = LoadCpuLoadProfile(env, o.estimate_profile);
    if (!profile.ok()) return profile.status();
  }
  return o;
}

Result<std::unique_ptr<Env>> OpenEnv(const MeterFlags& flags) {
  WATTLAB_ASSIGN_OR_RETURN(Roots roots, flags.ResolveRoots());
  return NewRealEnv(roots);
}

std::unique_ptr<Env> OpenDefaultEnv() { return NewRealEnv(RootsFromProcessEnvironment()); }

int ReportError(const std::string& command, const Status& status) {
  std::fprintf(stderr, "wattlab %s: %s\n", command.c_str(), status.message().c_str());
  return status.kind() == Status::Kind::kInvalidArgument ? kExitUsage : kExitFailure;
}

std::string Sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string WattlabVersion() { return std::string(WATTLAB_VERSION) + " (git " + WATTLAB_GIT_REV + ")"; }

}  // namespace wattlab::cli
