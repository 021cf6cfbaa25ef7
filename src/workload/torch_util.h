// libtorch helpers shared by engine.cc, train.cc and infer.cc: exception to
// Status translation and precision handling. Only for src/workload/ files
// that already include libtorch.
#pragma once

#include <c10/util/Exception.h>

#include <exception>
#include <string>

#include "wattlab/status.h"

namespace wattlab::workload {

// libtorch messages carry a C++ backtrace after the first line; users need
// only the first line.
inline std::string FirstLine(const std::string& s) {
  auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

// Runs fn (returning Result<T> or Status) and converts libtorch and standard
// exceptions into an Internal/InvalidArgument Status with `what` as context.
template <typename Fn>
auto CatchTorch(const std::string& what, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const c10::Error& e) {
    return Status::Internal(what + ": libtorch error: " + FirstLine(e.what_without_backtrace()));
  } catch (const std::bad_alloc&) {
    return Status::Internal(what + ": out of memory; use a smaller --batch-size or model");
  } catch (const std::exception& e) {
    return Status::Internal(what + ": " + FirstLine(e.what()));
  }
}

}  // namespace wattlab::workload
