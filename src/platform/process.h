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
// Ownership: one ChildProcess owns one child pid; only one child may be
// waited for at a time per process (the signal handlers are process-wide).
// Thread-safety: Spawn and Wait from one thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "wattlab/status.h"

namespace wattlab {

class ChildProcess {
 public:
  ~ChildProcess();  // restores signal dispositions; an unwaited child is waited for
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // REQUIRES: argv non-empty. argv[0] is searched in PATH unless it has a '/'.
  static Result<std::unique_ptr<ChildProcess>> Spawn(const std::vector<std::string>& argv);

  int pid() const { return pid_; }
  // Waits for the child; returns its exit status as a shell reports it:
  // the exit code, or 128 + signal number when a signal ended it.
  Result<int> Wait();

 private:
  explicit ChildProcess(int pid) : pid_(pid) {}
  int pid_ = -1;
  bool waited_ = false;
};

// The exit code for a failed Spawn, as env(1) uses: 127 not found, 126 found
// but not executable.
int ExitCodeForSpawnFailure(const Status& status);

}  // namespace wattlab
