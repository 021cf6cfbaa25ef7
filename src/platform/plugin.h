// Loads the libtorch workload plugin (libwattlab_torch.so) on demand, so only
// commands that run a network pay libtorch's start-up (~290 libraries).
//
// Search order: $WATTLAB_TORCH_PLUGIN, the directory of the running
// executable, then ../lib/wattlab/ beside it.
#pragma once

#include "core/env.h"
#include "wattlab/workload.h"

namespace wattlab {

// The engine is created once per process and never unloaded.
Result<WorkloadEngine*> LoadWorkloadEngine(Env* env);

}  // namespace wattlab
