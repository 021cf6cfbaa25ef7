// The window protocol a measured program speaks to wattlab (docs/own-workloads.md).
//
// When wattlab runs a command it gives the child a channel (WATTLAB_CONTROL,
// see platform/process.h) on which the child writes one command per line:
//
//   begin NAME          opens a window named NAME (the rest of the line; may hold spaces)
//   end NAME            closes the open window named NAME
//   samples N           adds N (>= 0) workload samples to the most recently begun open window
//   meta KEY VALUE      a fact about the run (KEY one token; VALUE the rest, may be empty)
//
// Blank lines and lines starting with '#' are ignored. This file is the pure
// parser of one line, so a fuzzer can call it alone; what a line does to the
// meter's windows is meter/control_session.h.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "wattlab/status.h"

namespace wattlab {

// The environment variable naming the channel ("fd:N": an inherited pipe's
// write end, file descriptor N, in the child).
inline constexpr const char* kControlEnvVar = "WATTLAB_CONTROL";
// Lines longer than this are cut there and reported as malformed.
inline constexpr size_t kMaxControlLineBytes = 4096;

struct ControlCommand {
  enum class Kind { kNone, kBegin, kEnd, kSamples, kMeta };
  Kind kind = Kind::kNone;  // kNone: a blank or comment line, nothing to do
  std::string name;         // begin/end: the window name; meta: the key
  std::string value;        // meta: the value
  int64_t samples = 0;      // samples: N
};

// Parses one line (without its '\n'; a trailing '\r' is dropped). Errors are
// InvalidArgument with a message that says what was expected; the caller
// reports them with the line and carries on.
Result<ControlCommand> ParseControlLine(std::string_view line);

}  // namespace wattlab
