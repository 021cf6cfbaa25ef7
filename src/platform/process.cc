#include "platform/process.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace wattlab {

namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
std::atomic<pid_t> g_child{-1};
// A signal that arrived after fork but before the parent knew the child's
// pid (on a loaded machine the child often runs first, far enough to exec
// the command). The parent forwards it once g_child is set.
std::atomic<int> g_pending{0};
struct sigaction g_old[sizeof(kForwarded) / sizeof(kForwarded[0])];

void ForwardSignal(int sig, siginfo_t* info, void*) {
  // si_code <= 0: sent by a process (kill, sigqueue, tkill). Signals the
  // kernel raised for the terminal (SI_KERNEL) already reached the child.
  if (info == nullptr || info->si_code > 0) return;
  // Pending first, then the pid: either this handler sees the pid, or the
  // parent sees the pending signal after publishing the pid. Never neither
  // (at worst, in a tiny window, both: the child gets it twice).
  g_pending.store(sig);
  pid_t child = g_child.load();
  if (child > 0) kill(child, sig);
}

void InstallForwarding() {
  struct sigaction sa {};
  sa.sa_sigaction = ForwardSignal;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof(kForwarded) / sizeof(kForwarded[0]); ++i) sigaction(kForwarded[i], &sa, &g_old[i]);
}

void RestoreSignals() {
  for (size_t i = 0; i < sizeof(kForwarded) / sizeof(kForwarded[0]); ++i) sigaction(kForwarded[i], &g_old[i], nullptr);
}

}  // namespace

int ExitCodeForSpawnFailure(const Status& status) {
  return status.kind() == Status::Kind::kNotFound ? 127 : 126;
}

Result<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0].empty()) return Status::InvalidArgument("no command given");
  // Everything the child needs is prepared before fork: after fork in a
  // threaded process only async-signal-safe calls are allowed.
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::IOError(std::string("pipe: ") + std::strerror(errno));
  // Installed before fork so a signal sent right after the child exists is
  // forwarded; g_child stays -1 until the pid is known.
  g_pending = 0;
  InstallForwarding();
  // This thread blocks the forwarded signals across fork, so the child
  // cannot run our handler before it resets them (it would swallow them).
  sigset_t block, old_mask;
  sigemptyset(&block);
  for (int sig : kForwarded) sigaddset(&block, sig);
  pthread_sigmask(SIG_BLOCK, &block, &old_mask);
  pid_t pid = fork();
  if (pid < 0) {
    int err = errno;
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    close(fds[0]);
    close(fds[1]);
    RestoreSignals();
    return Status::IOError(std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    // Child: default dispositions for the forwarded signals, the caller's
    // mask back, then exec.
    for (int sig : kForwarded) signal(sig, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    close(fds[0]);
    execvp(cargv[0], cargv.data());
    int err = errno;
    ssize_t n = write(fds[1], &err, sizeof(err));
    (void)n;
    _exit(err == ENOENT ? 127 : 126);
  }
  g_child = pid;
  if (int sig = g_pending.exchange(0); sig != 0) kill(pid, sig);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  close(fds[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = read(fds[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  close(fds[0]);
  if (n == static_cast<ssize_t>(sizeof(child_errno))) {
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    g_child = -1;
    RestoreSignals();
    std::string msg = "'" + argv[0] + "': " + std::strerror(child_errno);
    if (child_errno == ENOENT) return Status::NotFound(msg);
    if (child_errno == EACCES || child_errno == EPERM) return Status::PermissionDenied(msg);
    return Status::IOError(msg);
  }
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid));
}

Result<int> ChildProcess::Wait() {
  if (waited_) return Status::FailedPrecondition("child already waited for");
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  waited_ = true;
  g_child = -1;
  RestoreSignals();
  if (r < 0) return Status::IOError(std::string("waitpid: ") + std::strerror(errno));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return Status::Internal("child ended in an unexpected state");
}

ChildProcess::~ChildProcess() {
  if (!waited_ && pid_ > 0) (void)Wait();
}

}  // namespace wattlab
