#include "platform/process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <set>

#include "core/control_protocol.h"

extern char** environ;

namespace wattlab {

namespace {

constexpr int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
std::atomic<pid_t> g_child{-1};
// A signal that arrived after fork but before the parent knew the child's
// pid (on a loaded machine the child often runs first, far enough to exec
// the command). The parent forwards it once g_child is set.
std::atomic<int> g_pending{0};
struct sigaction g_old[sizeof(kForwarded) / sizeof(kForwarded[0])];

// The handler wattlab had before (e.g. a study's WatchSignals flag): told of
// every signal too, so a study learns of Ctrl-C while a program of a command
// sweep runs. Only a plain function handler is chained (not SIG_DFL/SIG_IGN).
void ChainOldHandler(int sig) {
  for (size_t i = 0; i < sizeof(kForwarded) / sizeof(kForwarded[0]); ++i) {
    if (kForwarded[i] != sig || (g_old[i].sa_flags & SA_SIGINFO)) continue;
    void (*h)(int) = g_old[i].sa_handler;
    if (h != SIG_DFL && h != SIG_IGN && h != nullptr) h(sig);
  }
}

void ForwardSignal(int sig, siginfo_t* info, void*) {
  ChainOldHandler(sig);
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
  for (size_t i = 0; i < sizeof(kForwarded) / sizeof(kForwarded[0]); ++i)
    sigaction(kForwarded[i], &sa, &g_old[i]);
}

void RestoreSignals() {
  for (size_t i = 0; i < sizeof(kForwarded) / sizeof(kForwarded[0]); ++i)
    sigaction(kForwarded[i], &g_old[i], nullptr);
}

}  // namespace

int ExitCodeForSpawnFailure(const Status& status) {
  return status.kind() == Status::Kind::kNotFound ? 127 : 126;
}

namespace {

// Both ends close-on-exec; the child clears the flag on the end it keeps,
// so no other child spawned meanwhile inherits it.
Status MakePipe(int fds[2], const char* what) {
  if (pipe2(fds, O_CLOEXEC) != 0)
    return Status::IOError(std::string(what) + " pipe: " + std::strerror(errno));
  return Status::Ok();
}

// The control pipe's write end in the child.
constexpr int kControlChildFd = 3;

void CloseIf(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

}  // namespace

Result<std::unique_ptr<ChildProcess>> ChildProcess::Spawn(const std::vector<std::string>& argv,
                                                          const SpawnOptions& options) {
  if (argv.empty() || argv[0].empty()) return Status::InvalidArgument("no command given");
  // Everything the child needs is prepared before fork: after fork in a
  // threaded process only async-signal-safe calls are allowed.
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);

  int ctl[2] = {-1, -1}, err[2] = {-1, -1};
  auto close_channels = [&] {
    CloseIf(ctl[0]);
    CloseIf(ctl[1]);
    CloseIf(err[0]);
    CloseIf(err[1]);
  };
  if (options.control_channel) {
    Status st = MakePipe(ctl, "control");
    if (!st.ok()) return st;
  }
  if (options.capture_stderr) {
    Status st = MakePipe(err, "stderr");
    if (!st.ok()) {
      close_channels();
      return st;
    }
  }
  // The child's environment: ours, less the names we set, plus ours.
  std::vector<std::pair<std::string, std::string>> extra = options.env;
  if (options.control_channel) extra.emplace_back(kControlEnvVar, "fd:" + std::to_string(kControlChildFd));
  std::set<std::string> replaced;
  for (const auto& [k, v] : extra) replaced.insert(k);
  for (const auto& k : options.unset_env) replaced.insert(k);
  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    if (replaced.count(std::string(entry.substr(0, entry.find('='))))) continue;
    env_strings.emplace_back(entry);
  }
  for (const auto& [k, v] : extra) env_strings.push_back(k + "=" + v);
  std::vector<char*> cenv;
  for (auto& e : env_strings) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    int e = errno;
    close_channels();
    return Status::IOError(std::string("pipe: ") + std::strerror(e));
  }
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
    int fork_errno = errno;
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    close(fds[0]);
    close(fds[1]);
    close_channels();
    RestoreSignals();
    return Status::IOError(std::string("fork: ") + std::strerror(fork_errno));
  }
  if (pid == 0) {
    // Child: default dispositions for the forwarded signals, the caller's
    // mask back, then exec.
    for (int sig : kForwarded) signal(sig, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    close(fds[0]);
    // The control pipe becomes fd 3 (what WATTLAB_CONTROL says), so a shell
    // script can `echo "begin x" >&3`; the exec-error pipe moves out of the way.
    int exec_pipe = fds[1];
    if (exec_pipe <= kControlChildFd) exec_pipe = fcntl(fds[1], F_DUPFD_CLOEXEC, 10);
    if (err[1] >= 0) dup2(err[1], 2);
    if (ctl[1] == kControlChildFd) {
      fcntl(ctl[1], F_SETFD, 0);
    } else if (ctl[1] >= 0) {
      dup2(ctl[1], kControlChildFd);
    }
    execvpe(cargv[0], cargv.data(), cenv.data());
    int exec_errno = errno;
    ssize_t n = write(exec_pipe, &exec_errno, sizeof(exec_errno));
    (void)n;
    _exit(exec_errno == ENOENT ? 127 : 126);
  }
  g_child = pid;
  if (int sig = g_pending.exchange(0); sig != 0) kill(pid, sig);
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  close(fds[1]);
  // Our copies of the child's ends: the pipes reach EOF when the child (and
  // whatever it passed them to) is done.
  CloseIf(ctl[1]);
  CloseIf(err[1]);
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
    close_channels();
    std::string msg = "'" + argv[0] + "': " + std::strerror(child_errno);
    if (child_errno == ENOENT) return Status::NotFound(msg);
    if (child_errno == EACCES || child_errno == EPERM) return Status::PermissionDenied(msg);
    return Status::IOError(msg);
  }
  auto child = std::unique_ptr<ChildProcess>(new ChildProcess(pid));
  for (int fd : {ctl[0], err[0]})
    if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  child->control_fd_ = ctl[0];
  child->stderr_fd_ = err[0];
  return child;
}

namespace {

Result<int> ExitCodeFromStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return Status::Internal("child ended in an unexpected state");
}

}  // namespace

Result<std::optional<int>> ChildProcess::TryWait() {
  if (waited_) return Status::FailedPrecondition("child already waited for");
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return std::optional<int>();
  waited_ = true;
  g_child = -1;
  RestoreSignals();
  if (r < 0) return Status::IOError(std::string("waitpid: ") + std::strerror(errno));
  auto code = ExitCodeFromStatus(status);
  if (!code.ok()) return code.status();
  return std::optional<int>(*code);
}

Status ChildProcess::Kill(bool hard) {
  if (waited_) return Status::FailedPrecondition("child already waited for");
  if (kill(pid_, hard ? SIGKILL : SIGTERM) != 0)
    return Status::IOError(std::string("kill: ") + std::strerror(errno));
  return Status::Ok();
}

Status ChildProcess::ReadOutput(std::chrono::milliseconds timeout, ChildOutput* out, bool final) {
  auto take_control = [&](const char* data, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      char c = data[i];
      if (c == '\n') {
        if (!discarding_) out->control_lines.push_back(std::move(partial_));
        partial_.clear();
        discarding_ = false;
        continue;
      }
      if (discarding_) continue;
      partial_.push_back(c);
      if (partial_.size() > kMaxControlLineBytes) {
        // Cut one byte past the limit, so the parser sees and reports it.
        out->control_lines.push_back(std::move(partial_));
        partial_.clear();
        discarding_ = true;
      }
    }
  };
  bool waited_once = false;
  for (;;) {
    struct pollfd pfds[2];
    int n = 0;
    if (control_fd_ >= 0) pfds[n++] = {control_fd_, POLLIN, 0};
    if (stderr_fd_ >= 0) pfds[n++] = {stderr_fd_, POLLIN, 0};
    if (n == 0) break;
    int wait_ms = (final || waited_once) ? 0 : static_cast<int>(timeout.count());
    int r = poll(pfds, n, wait_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return Status::IOError(std::string("poll: ") + std::strerror(errno));
    if (r == 0) break;
    waited_once = true;
    bool got = false, closed = false;
    for (int i = 0; i < n; ++i) {
      if (pfds[i].revents == 0) continue;
      int& fd = pfds[i].fd == control_fd_ ? control_fd_ : stderr_fd_;
      char buf[8192];
      ssize_t k = read(fd, buf, sizeof(buf));
      if (k < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (k <= 0) {  // EOF or an error: the channel is done
        CloseIf(fd);
        closed = true;
        continue;
      }
      got = true;
      if (&fd == &control_fd_) {
        take_control(buf, static_cast<size_t>(k));
      } else {
        out->stderr_text.append(buf, static_cast<size_t>(k));
      }
    }
    // Drain on while something happened; a channel that polls readable but
    // yields nothing (EAGAIN) ends the round rather than spinning.
    if (!got && !closed) break;
  }
  if (final) {
    if (!partial_.empty() && !discarding_) out->control_lines.push_back(std::move(partial_));
    partial_.clear();
    discarding_ = false;
  }
  return Status::Ok();
}

void ChildProcess::CloseChannels() {
  CloseIf(control_fd_);
  CloseIf(stderr_fd_);
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
  return ExitCodeFromStatus(status);
}

ChildProcess::~ChildProcess() {
  CloseChannels();
  if (!waited_ && pid_ > 0) (void)Wait();
}

}  // namespace wattlab
