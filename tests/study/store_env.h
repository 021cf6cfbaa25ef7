// The real Env the study tests open stores and files through (the fakes in
// fakes.h stand in for the clock, meter and engine only).
#pragma once

#include <memory>

#include "core/env.h"
#include "platform/real_env.h"

namespace wattlab::testing {

inline Env* StoreEnv() {
  static const std::unique_ptr<Env> env = NewRealEnv();
  return env.get();
}

}  // namespace wattlab::testing
