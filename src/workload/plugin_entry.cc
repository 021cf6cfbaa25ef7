// The plugin's only export: platform/plugin.cc dlopens libwattlab_torch.so and
// calls this to get the engine, which lives for the rest of the process.
#include "workload/engine.h"

extern "C" __attribute__((visibility("default"))) wattlab::WorkloadEngine* wattlab_create_workload_engine(
    wattlab::Env* env) {
  try {
    static std::unique_ptr<wattlab::WorkloadEngine> engine = wattlab::workload::NewTorchEngine(env);
    return engine.get();
  } catch (...) {
    // No exception may cross the C boundary; the loader reports a null engine.
    return nullptr;
  }
}
