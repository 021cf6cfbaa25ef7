// Running the measured command: fork/exec with PATH search, waiting, and
// forwarding the signals someone sends to wattlab on to the child.
//
// Exec failures are reported to the parent through a close-on-exec pipe, so
// Spawn() returns NotFound ("not found", exit 127 like env(1)) or
// PermissionDenied/IOError ("cannot execute", exit 126) before anything is
// measured, and never leaves a half-started child behind.
//
// Signals: while a child runs, SIGINT, SIGTERM, SIGHUP and SIGQUIT that were
// sent to wattlab by kill(2) are forwarded to the child; the same signals
// raised by the terminal reach the child directly (same process group), so
// wattlab does not forward those twice and stays alive to report.
//
// Channels (SpawnOptions): the window protocol's control pipe, whose write
// end the child inherits as file descriptor 3 and is told about through
// WATTLAB_CONTROL=fd:3 (core/control_protocol.h); and optionally the child's
// stderr, read by the parent (a study keeps its last lines). ReadOutput
// polls both; TryWait and Kill make a timeout possible.
//
// Ownership: one ChildProcess owns one child pid and its channels; only one
// child may be waited for at a time per process (the signal handlers are
// process-wide). Thread-safety: one thread at a time.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wattlab/status.h"

namespace wattlab {

struct SpawnOptions {
  // A pipe for the window protocol: the child's fd 3, WATTLAB_CONTROL=fd:3.
  bool control_channel = false;
  // The child's stderr goes to a pipe read by ReadOutput instead of ours.
  bool capture_stderr = false;
  // Extra environment variables for the child (replace inherited ones).
  std::vector<std::pair<std::string, std::string>> env;
  // Inherited variables the child must not see (e.g. OMP_WAIT_POLICY for a
  // study's "default" policy, which means the variable unset).
  std::vector<std::string> unset_env;
};

// What ReadOutput found.
struct ChildOutput {
  std::vector<std::string> control_lines;  // complete lines, without '\n'
  std::string stderr_text;                 // raw bytes from the child's stderr
};

class ChildProcess {
 public:
  ~ChildProcess();  // restores signal dispositions; an unwaited child is waited for
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // REQUIRES: argv non-empty. argv[0] is searched in PATH unless it has a '/'.
  static Result<std::unique_ptr<ChildProcess>> Spawn(const std::vector<std::string>& argv,
                                                     const SpawnOptions& options = {});

  int pid() const { return pid_; }
  // Waits for the child; returns its exit status as a shell reports it:
  // the exit code, or 128 + signal number when a signal ended it.
  Result<int> Wait();
  // Reaps the child if it has ended (the same code as Wait), nullopt while
  // it runs.
  Result<std::optional<int>> TryWait();
  // SIGTERM (hard=false) or SIGKILL to the child.
  Status Kill(bool hard);

  // Waits up to `timeout` for data on the channels and appends what is
  // there to *out. A control line longer than kMaxControlLineBytes is cut
  // there (the parser reports it) and the rest of it dropped. With
  // final=true (after the child ended) it reads without waiting until the
  // channels are empty and hands over a last line that lacks its '\n';
  // descendants that still hold the pipe do not make it wait.
  Status ReadOutput(std::chrono::milliseconds timeout, ChildOutput* out, bool final = false);

 private:
  explicit ChildProcess(int pid) : pid_(pid) {}
  void CloseChannels();
  int pid_ = -1;
  bool waited_ = false;
  int control_fd_ = -1;  // read ends, -1 when absent or at EOF
  int stderr_fd_ = -1;
  std::string partial_;      // control bytes after the last '\n'
  bool discarding_ = false;  // dropping the rest of an over-long line
};

// The exit code for a failed Spawn, as env(1) uses: 127 not found, 126 found
// but not executable.
int ExitCodeForSpawnFailure(const Status& status);

}  // namespace wattlab
