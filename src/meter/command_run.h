// Running a program under the meter with the window protocol: the program is
// spawned with a control channel (WATTLAB_CONTROL, docs/own-workloads.md),
// its lines drive a ControlSession on the caller's meter while it runs, and
// at its exit the windows still open are closed and flagged. One poll loop
// on the calling thread reads the channel (and the program's stderr, when
// captured) and watches the timeout; no extra thread.
//
// `wattlab measure` and the study runner's command sweeps both run programs
// through here. The meter must be started; the caller opens and closes any
// window of its own around the call (measure's whole-command window).
//
// Thread-safety: one call at a time per process (ChildProcess's signal
// forwarding is process-wide).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "meter/control_session.h"
#include "wattlab/meter.h"
#include "wattlab/status.h"

namespace wattlab {

class Env;

struct CommandRunOptions {
  // Keep the program's stderr (its last lines) instead of passing it through.
  bool capture_stderr = false;
  size_t stderr_tail_lines = 20;
  // Ends the program (SIGTERM, then SIGKILL after kill_grace) past this.
  std::optional<std::chrono::nanoseconds> timeout;
  std::chrono::nanoseconds kill_grace = std::chrono::seconds(5);
  // Extra environment for the program.
  std::vector<std::pair<std::string, std::string>> env;
  // Polled about every 50 ms; true ends the program as the timeout does (a
  // study that is interrupted while a signal sent to wattlab alone, not the
  // program, asked it to stop).
  std::function<bool()> stop;
  // Told each protocol warning as it happens (e.g. to print it at once).
  std::function<void(const std::string&)> on_warning;
};

struct CommandRunResult {
  // Not OK when the program could not be started (NotFound: not found;
  // otherwise found but not executable); exit_code is then 127 or 126.
  Status spawn_error;
  int exit_code = 0;                   // as a shell reports it (128+N for signal N)
  bool timed_out = false;              // ended by us after the timeout
  bool stopped = false;                // ended by us because `stop` said so
  double duration_s = 0;               // spawn to exit, monotonic
  std::vector<ControlWindow> windows;  // in the order they were begun
  std::vector<std::string> warnings;   // protocol warnings, in order
  std::vector<std::pair<std::string, std::string>> meta;
  std::vector<std::string> stderr_tail;  // last lines, when captured
};

// A program that cannot be started is a result with spawn_error set; the
// error Status is for failures of wattlab itself (waiting, polling).
// REQUIRES: meter started; argv non-empty.
Result<CommandRunResult> RunCommandWithControl(Env* env, Meter* meter, const std::vector<std::string>& argv,
                                               const CommandRunOptions& options);

// The last `n` lines of text (a last line without '\n' counts), without
// their newlines. Pure; exposed for tests.
std::vector<std::string> LastLines(const std::string& text, size_t n);

}  // namespace wattlab
