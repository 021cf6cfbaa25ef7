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
  AddString(cmd, "--sysfs-root", &sysfs_root, "DIR",
            "read /sys from DIR (default $WATTLAB_SYSFS_ROOT or /sys)");
  AddString(cmd, "--proc-root", &proc_root, "DIR",
            "read /proc from DIR (default $WATTLAB_PROC_ROOT or /proc)");
  AddString(cmd, "--dev-root", &dev_root, "DIR", "read /dev from DIR (default $WATTLAB_DEV_ROOT or /dev)");
  AddNumber(cmd, "--cpu-tdp-w", &cpu_tdp_w, kTdpRange, "W",
            "CPU TDP in watts for the estimate (default $WATTLAB_CPU_TDP_W or the table)");
  AddString(
      cmd, "--estimate-profile", &estimate_profile, "FILE",
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
  if (!nvml_library.empty())
    o.nvml_library = nvml_library;
  else if (auto v = env->GetEnvVar("WATTLAB_NVML_LIBRARY"); v && !v->empty())
    o.nvml_library = *v;
  if (interval) o.interval = *interval;
  if (!estimate_profile.empty())
    o.estimate_profile = estimate_profile;
  else if (auto v = env->GetEnvVar("WATTLAB_ESTIMATE_PROFILE"); v && !v->empty())
    o.estimate_profile = *v;
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

namespace {
std::string ParentOf(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
}  // namespace

Status CheckOutputPath(Env* env, const std::string& flag, const std::string& path) {
  if (path == "-") return Status::Ok();
  const std::string what = flag + " " + path;
  if (path.empty()) return Status::InvalidArgument(flag + " needs a file name");
  auto st = env->Stat(path);
  if (!st.ok()) return Status::InvalidArgument("cannot write " + what + ": " + st.status().message());
  if (st->kind == FileKind::kDirectory)
    return Status::InvalidArgument("cannot write " + what + ": it is a directory; give a file name");
  if (st->kind == FileKind::kMissing) {
    const std::string dir = ParentOf(path);
    auto ds = env->Stat(dir);
    if (!ds.ok() || ds->kind == FileKind::kMissing)
      return Status::InvalidArgument("cannot write " + what + ": directory " + dir +
                                     " does not exist; create it or choose another path");
    if (ds->kind != FileKind::kDirectory)
      return Status::InvalidArgument("cannot write " + what + ": " + dir + " is not a directory");
  }
  if (Status w = env->CheckWritable(path); !w.ok())
    return Status::InvalidArgument("cannot write " + what + ": " + w.message() + "; choose a writable path");
  return Status::Ok();
}

Status CheckOutputDir(Env* env, const std::string& flag, const std::string& path) {
  const std::string what = flag + " " + path;
  if (path.empty()) return Status::InvalidArgument(flag + " needs a directory name");
  auto st = env->Stat(path);
  if (!st.ok()) return Status::InvalidArgument("cannot write " + what + ": " + st.status().message());
  if (st->kind == FileKind::kDirectory) {
    if (Status w = env->CheckWritable(path); !w.ok())
      return Status::InvalidArgument("cannot write " + what + ": " + w.message() +
                                     "; choose a writable directory");
    // The report is written beside it and renamed over it: the parent must
    // take a new entry too.
    if (Status w = env->CheckWritable(ParentOf(path) + "/.wattlab-output-check"); !w.ok())
      return Status::InvalidArgument("cannot write " + what + ": " + w.message() +
                                     "; choose a writable directory");
    return Status::Ok();
  }
  if (st->kind != FileKind::kMissing)
    return Status::InvalidArgument("cannot write " + what + ": it exists and is not a directory");
  return CheckOutputPath(env, flag, path);
}

Status WriteOutput(Env* env, const std::string& path, const std::string& data) {
  if (path == "-") {
    std::fwrite(data.data(), 1, data.size(), stdout);
    std::fflush(stdout);
    return std::ferror(stdout) ? Status::IOError("cannot write to stdout") : Status::Ok();
  }
  auto st = env->Stat(path);
  if (st.ok() && st->kind == FileKind::kOther) return env->WriteFileInPlace(path, data);
  return env->WriteFileAtomically(path, data);
}

std::string SaveFallback(Env* env, const std::string& command, const std::string& what,
                         const std::string& data) {
  std::string dir = env->GetEnvVar("TMPDIR").value_or("");
  if (dir.empty()) dir = "/tmp";
  const std::string path = dir + "/wattlab-" + command + "-" + std::to_string(env->Pid()) + "-" + what;
  if (!env->WriteFileAtomically(path, data).ok()) return "";
  return path;
}

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
std::string WattlabVersionNumber() { return WATTLAB_VERSION; }
std::string WattlabRevision() { return WATTLAB_GIT_REV; }

}  // namespace wattlab::cli
