#include "platform/plugin.h"

#include <unistd.h>

#include <climits>
#include <mutex>

namespace wattlab {

namespace {
std::string ExecutableDir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string p(buf, static_cast<size_t>(n));
  auto slash = p.rfind('/');
  return slash == std::string::npos ? "." : p.substr(0, slash);
}
}  // namespace

Result<WorkloadEngine*> LoadWorkloadEngine(Env* env) {
  static std::mutex mu;
  static WorkloadEngine* engine = nullptr;
  std::lock_guard<std::mutex> lock(mu);
  if (engine) return engine;

  std::vector<std::string> candidates;
  if (auto v = env->GetEnvVar("WATTLAB_TORCH_PLUGIN"); v && !v->empty()) candidates.push_back(*v);
  std::string dir = ExecutableDir();
  candidates.push_back(dir + "/libwattlab_torch.so");
  candidates.push_back(dir + "/../lib/wattlab/libwattlab_torch.so");

  std::string tried;
  for (const auto& path : candidates) {
    if (::access(path.c_str(), F_OK) != 0) {
      tried += "\n  " + path + ": not found";
      continue;
    }
    auto h = env->DlOpen(path);
    if (!h.ok()) {
      tried += "\n  " + path + ": " + h.status().message();
      continue;
    }
    auto create = reinterpret_cast<CreateWorkloadEngineFn>(env->DlSym(*h, kCreateWorkloadEngineSymbol));
    if (!create) {
      tried += "\n  " + path + ": no symbol " + kCreateWorkloadEngineSymbol;
      continue;
    }
    engine = create(env);
    if (engine) return engine;
    tried += "\n  " + path + ": the plugin failed to create its engine";
  }
  return Status::NotFound(
      "the libtorch workload plugin (libwattlab_torch.so) is not available; this command runs networks and "
      "needs it. Install libtorch-dev (apt-get install libtorch-dev) and rebuild with "
      "-DWATTLAB_WITH_TORCH=ON, "
      "or set WATTLAB_TORCH_PLUGIN to the plugin's path. Tried:" +
      tried);
}

}  // namespace wattlab
