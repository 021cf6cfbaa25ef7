// The production Env: real syscalls, paths mapped under Roots. The only
// implementation of the Env interface (src/core/env.h) outside tests.
#pragma once

#include <memory>
#include <string>

#include "core/env.h"

namespace wattlab {

// Real syscalls, /sys, /proc and /dev mapped under `roots`.
std::unique_ptr<Env> NewRealEnv(const Roots& roots = Roots{});

// Roots from WATTLAB_SYSFS_ROOT / WATTLAB_PROC_ROOT / WATTLAB_DEV_ROOT of this
// process's environment.
Roots RootsFromProcessEnvironment();

// Translates an errno from an operation on `path` into a Status whose message
// says what failed and, for permissions, what to do.
Status StatusFromErrno(int err, const std::string& what, const std::string& path);

}  // namespace wattlab
