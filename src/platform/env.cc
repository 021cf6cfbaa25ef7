#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/strings.h"
#include "platform/real_env.h"

namespace wattlab {

Status StatusFromErrno(int err, const std::string& what, const std::string& path) {
  std::string m = what + " " + path + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENODEV:
    case ENXIO:
      return Status::NotFound(m);
    case EACCES:
    case EPERM:
      return Status::PermissionDenied(m);
    case EOPNOTSUPP:
    case EINVAL:
      return Status::NotSupported(m);
    default:
      return Status::IOError(m);
  }
}

namespace {

// A file read at explicit offsets. perf_event fds are not seekable (pread
// fails with ESPIPE); read(2) returns their current count every time, which is
// what offset 0 means there, so they are opened as counters and read that way
// from the start instead of failing a pread on every sample.
class FdFile : public ReadableFile {
 public:
  enum class Kind { kSeekable, kCounter };
  FdFile(int fd, std::string path, Kind kind = Kind::kSeekable)
      : fd_(fd), kind_(kind), path_(std::move(path)) {}
  ~FdFile() override { ::close(fd_); }
  Result<size_t> PRead(uint64_t offset, void* buf, size_t n) override {
    if (kind_ == Kind::kCounter && offset != 0)
      return Status::NotSupported("cannot read at offset " + std::to_string(offset) + " of the counter " +
                                  path_);
    for (;;) {
      ssize_t r =
          kind_ == Kind::kCounter ? ::read(fd_, buf, n) : ::pread(fd_, buf, n, static_cast<off_t>(offset));
      if (r >= 0) return static_cast<size_t>(r);
      if (errno == EINTR) continue;
      return StatusFromErrno(errno, "cannot read", path_);
    }
  }
  const std::string& path() const override { return path_; }

 private:
  int fd_;
  Kind kind_;
  std::string path_;
};

class RwFile : public RandomRWFile {
 public:
  RwFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~RwFile() override { ::close(fd_); }
  Result<size_t> PRead(uint64_t offset, void* buf, size_t n) override {
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, static_cast<char*>(buf) + done, n - done, static_cast<off_t>(offset + done));
      if (r == 0) break;
      if (r < 0) {
        if (errno == EINTR) continue;
        return StatusFromErrno(errno, "cannot read", path_);
      }
      done += static_cast<size_t>(r);
    }
    return done;
  }
  Status PWrite(uint64_t offset, const void* buf, size_t n) override {
    size_t done = 0;
    while (done < n) {
      ssize_t r =
          ::pwrite(fd_, static_cast<const char*>(buf) + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return StatusFromErrno(errno, "cannot write", path_);
      }
      done += static_cast<size_t>(r);
    }
    return Status::Ok();
  }
  Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0)
      return StatusFromErrno(errno, "cannot truncate", path_);
    return Status::Ok();
  }
  Status Sync() override {
    if (::fdatasync(fd_) != 0) return StatusFromErrno(errno, "cannot sync", path_);
    return Status::Ok();
  }
  Result<uint64_t> Size() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return StatusFromErrno(errno, "cannot stat", path_);
    return static_cast<uint64_t>(st.st_size);
  }
  const std::string& path() const override { return path_; }

 private:
  int fd_;
  std::string path_;
};

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t r = ::write(fd, data.data() + done, data.size() - done);
    if (r < 0) {
      if (errno == EINTR) continue;
      return StatusFromErrno(errno, "cannot write", path);
    }
    done += static_cast<size_t>(r);
  }
  return Status::Ok();
}

std::string ParentDir(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Signal delivery for WatchSignals: one process-wide flag (handlers are
// process-wide too). Only the store of a lock-free atomic happens in the
// handler.
std::atomic<std::atomic<int>*> g_signal_flag{nullptr};

extern "C" void WattlabSignalHandler(int signo) {
  std::atomic<int>* flag = g_signal_flag.load();
  if (!flag) return;
  int v = 0;
  switch (signo) {
    case SIGINT:
      v = 1;
      break;
    case SIGTERM:
      v = 2;
      break;
    case SIGHUP:
      v = 3;
      break;
    case SIGQUIT:
      v = 4;
      break;
    default:
      v = 0;
  }
  flag->store(v);
}

int SignalNumber(Signal s) {
  switch (s) {
    case Signal::kInt:
      return SIGINT;
    case Signal::kTerm:
      return SIGTERM;
    case Signal::kHup:
      return SIGHUP;
    case Signal::kQuit:
      return SIGQUIT;
  }
  return SIGTERM;
}

bool HasPrefix(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0 &&
         (s.size() == p.size() || s[p.size()] == '/');
}

// flock(2) on a lock file: per open file description, so SQLite's fcntl
// locks and descriptors of the same process neither drop nor see it.
class RealFileLock : public FileLock {
 public:
  RealFileLock(int fd, std::string path, std::string real)
      : fd_(fd), path_(std::move(path)), real_(std::move(real)) {}
  ~RealFileLock() override {
    // Unlink while still holding it: a process that opened the old inode
    // meanwhile re-checks the path after locking and starts over.
    ::unlink(real_.c_str());
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  const std::string& path() const override { return path_; }

 private:
  int fd_;
  std::string path_, real_;
};

class RealEnv : public Env {
 public:
  explicit RealEnv(Roots roots) : roots_(std::move(roots)) {}

  std::string Resolve(const std::string& path) const override {
    if (HasPrefix(path, "/sys")) return roots_.sysfs + path.substr(4);
    if (HasPrefix(path, "/proc")) return roots_.proc + path.substr(5);
    if (HasPrefix(path, "/dev")) return roots_.dev + path.substr(4);
    return path;
  }

  Result<std::string> ReadFile(const std::string& path) override {
    auto f = OpenForRead(path);
    if (!f.ok()) return f.status();
    return (*f)->ReadAllText();
  }

  Result<std::vector<std::string>> ListDir(const std::string& path) override {
    std::string real = Resolve(path);
    DIR* d = ::opendir(real.c_str());
    if (!d) return StatusFromErrno(errno, "cannot list", real);
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }

  bool Exists(const std::string& path) override { return ::access(Resolve(path).c_str(), F_OK) == 0; }

  Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& path) override {
    std::string real = Resolve(path);
    int fd = ::open(real.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return StatusFromErrno(errno, "cannot open", real);
    return std::unique_ptr<ReadableFile>(new FdFile(fd, real));
  }

  Result<std::unique_ptr<ReadableFile>> OpenPerfEvent(uint32_t type, uint64_t config, int cpu) override {
    perf_event_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = type;
    attr.config = config;
    long fd = ::syscall(SYS_perf_event_open, &attr, /*pid=*/-1, cpu, /*group_fd=*/-1, PERF_FLAG_FD_CLOEXEC);
    std::string what = "perf_event type " + std::to_string(type) + " config 0x" + ToHex(config) + " cpu " +
                       std::to_string(cpu);
    if (fd < 0) return StatusFromErrno(errno, "cannot open", what);
    return std::unique_ptr<ReadableFile>(new FdFile(static_cast<int>(fd), what, FdFile::Kind::kCounter));
  }

  Result<void*> DlOpen(const std::string& library) override {
    void* h = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* e = ::dlerror();
      return Status::NotFound("cannot load " + library + ": " + (e ? e : "unknown error"));
    }
    return h;
  }
  void* DlSym(void* handle, const char* symbol) override {
    return ::dlsym(handle ? handle : RTLD_DEFAULT, symbol);
  }
  std::optional<std::string> LibraryPathOf(const void* address) override {
    Dl_info info{};
    if (!::dladdr(address, &info) || !info.dli_fname) return std::nullopt;
    std::string path = info.dli_fname;
    char real[PATH_MAX];
    if (::realpath(path.c_str(), real)) path = real;
    return path;
  }

  std::chrono::nanoseconds NowMonotonic() override {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  }
  void SleepFor(std::chrono::nanoseconds d) override {
    if (d.count() > 0) std::this_thread::sleep_for(d);
  }
  void SleepUntil(std::chrono::nanoseconds deadline) override {
    // NowMonotonic is CLOCK_MONOTONIC, so its deadline is this clock's time.
    timespec ts;
    ts.tv_sec = static_cast<time_t>(deadline.count() / 1000000000);
    ts.tv_nsec = static_cast<long>(deadline.count() % 1000000000);
    if (deadline.count() <= 0) return;
    while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
    }
  }
  void NameCurrentThread(const std::string& name) override {
    // Linux takes at most 15 characters and the terminating NUL.
    (void)::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
  }
  double NowWallSeconds() override {
    timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
  }
  std::optional<std::string> GetEnvVar(const std::string& name) override {
    std::lock_guard<std::mutex> lock(env_mu_);
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  }
  Status SetEnvVar(const std::string& name, const std::string& value, bool overwrite) override {
    std::lock_guard<std::mutex> lock(env_mu_);
    if (::setenv(name.c_str(), value.c_str(), overwrite ? 1 : 0) != 0)
      return StatusFromErrno(errno, "cannot set environment variable", name);
    return Status::Ok();
  }

  Status WriteFileInPlace(const std::string& path, const std::string& data) override {
    std::string real = Resolve(path);
    // O_TRUNC as `echo V > file` does: a no-op on sysfs, and what makes a
    // copied sysfs tree (tests, a hypervisor-filled folder) take a shorter value whole.
    int fd = ::open(real.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) return StatusFromErrno(errno, "cannot open for writing", real);
    Status st = WriteAll(fd, data, real);
    if (::close(fd) != 0 && st.ok()) st = StatusFromErrno(errno, "cannot write", real);
    return st;
  }

  Status WriteFileAtomically(const std::string& path, const std::string& data) override {
    std::string real = Resolve(path);
    std::string tmp = real + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(tmp_counter_++);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return StatusFromErrno(errno, "cannot create", tmp);
    Status st = WriteAll(fd, data, tmp);
    if (st.ok() && ::fsync(fd) != 0) st = StatusFromErrno(errno, "cannot sync", tmp);
    if (::close(fd) != 0 && st.ok()) st = StatusFromErrno(errno, "cannot write", tmp);
    if (st.ok() && ::rename(tmp.c_str(), real.c_str()) != 0)
      st = StatusFromErrno(errno, "cannot rename onto", real);
    if (!st.ok()) ::unlink(tmp.c_str());
    return st;
  }

  Status AppendToFile(const std::string& path, const std::string& data) override {
    std::string real = Resolve(path);
    int fd = ::open(real.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return StatusFromErrno(errno, "cannot open for appending", real);
    Status st = WriteAll(fd, data, real);
    if (::close(fd) != 0 && st.ok()) st = StatusFromErrno(errno, "cannot write", real);
    return st;
  }

  Result<std::unique_ptr<RandomRWFile>> OpenRandomRW(const std::string& path, bool create,
                                                     bool read_only) override {
    std::string real = Resolve(path);
    int flags = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | (create && !read_only ? O_CREAT : 0);
    int fd = ::open(real.c_str(), flags, 0644);
    if (fd < 0) return StatusFromErrno(errno, "cannot open", real);
    return std::unique_ptr<RandomRWFile>(new RwFile(fd, real));
  }

  Status Rename(const std::string& from, const std::string& to) override {
    std::string a = Resolve(from), b = Resolve(to);
    if (::rename(a.c_str(), b.c_str()) != 0) return StatusFromErrno(errno, "cannot rename " + a + " to", b);
    return Status::Ok();
  }
  Status RemoveFile(const std::string& path) override {
    std::string real = Resolve(path);
    if (::unlink(real.c_str()) != 0) return StatusFromErrno(errno, "cannot remove", real);
    return Status::Ok();
  }
  Status RemoveTree(const std::string& path) override {
    std::error_code ec;
    std::filesystem::remove_all(Resolve(path), ec);
    if (ec) return StatusFromErrno(ec.value(), "cannot remove", Resolve(path));
    return Status::Ok();
  }
  Status CreateDirs(const std::string& path) override {
    std::error_code ec;
    std::filesystem::create_directories(Resolve(path), ec);
    if (ec) return StatusFromErrno(ec.value(), "cannot create directory", Resolve(path));
    return Status::Ok();
  }
  Result<std::string> MakeTempDir(const std::string& parent, const std::string& prefix) override {
    std::string tmpl = Resolve(parent) + "/" + prefix + "XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data()))
      return StatusFromErrno(errno, "cannot create a temporary directory in", Resolve(parent));
    return std::string(buf.data());
  }
  Result<FileInfo> Stat(const std::string& path) override {
    std::string real = Resolve(path);
    struct stat st;
    FileInfo info;
    if (::stat(real.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return info;
      return StatusFromErrno(errno, "cannot stat", real);
    }
    info.kind = S_ISREG(st.st_mode)   ? FileKind::kRegular
                : S_ISDIR(st.st_mode) ? FileKind::kDirectory
                                      : FileKind::kOther;
    info.size_bytes = static_cast<uint64_t>(st.st_size);
    info.modified_unix_s = static_cast<double>(st.st_mtim.tv_sec) + st.st_mtim.tv_nsec * 1e-9;
    return info;
  }
  Status CheckWritable(const std::string& path) override {
    std::string real = Resolve(path);
    if (::access(real.c_str(), F_OK) == 0) {
      if (::access(real.c_str(), W_OK) != 0) return StatusFromErrno(errno, "cannot write", real);
      return Status::Ok();
    }
    std::string dir = ParentDir(real);
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) return StatusFromErrno(errno, "no such directory for", real);
    if (!S_ISDIR(st.st_mode))
      return Status::NotFound("cannot create " + real + ": " + dir + " is not a directory");
    if (::access(dir.c_str(), W_OK | X_OK) != 0) return StatusFromErrno(errno, "cannot create files in", dir);
    return Status::Ok();
  }

  Result<LockAttempt> TryLockFile(const std::string& path, const std::string& holder) override {
    const std::string real = Resolve(path);
    for (int attempt = 0; attempt < 8; ++attempt) {
      int fd = ::open(real.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) return StatusFromErrno(errno, "cannot create the lock file", real);
      if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        LockAttempt held;
        if (err == EWOULDBLOCK) {
          char buf[512];
          ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
          if (n > 0) held.holder = Trim(std::string(buf, static_cast<size_t>(n)));
          ::close(fd);
          return held;
        }
        ::close(fd);
        return StatusFromErrno(err, "cannot lock", real);
      }
      // The holder before us may have unlinked the file between our open and
      // our flock: then we hold a lock on a name nobody sees. Start over.
      struct stat by_fd, by_name;
      if (::fstat(fd, &by_fd) != 0 || ::stat(real.c_str(), &by_name) != 0 || by_fd.st_ino != by_name.st_ino ||
          by_fd.st_dev != by_name.st_dev) {
        ::close(fd);
        continue;
      }
      const std::string line = holder + "\n";
      if (::ftruncate(fd, 0) != 0 ||
          ::pwrite(fd, line.data(), line.size(), 0) != static_cast<ssize_t>(line.size())) {
        const int err = errno;
        ::unlink(real.c_str());
        ::close(fd);
        return StatusFromErrno(err, "cannot write the lock file", real);
      }
      LockAttempt got;
      got.lock = std::make_unique<RealFileLock>(fd, path, real);
      return got;
    }
    return Status::IOError("cannot lock " + real + ": it keeps being replaced");
  }

  int Pid() override { return static_cast<int>(::getpid()); }
  std::string HostName() override {
    char buf[256] = {};
    if (::gethostname(buf, sizeof(buf) - 1) == 0 && buf[0] != '\0') return buf;
    return "unknown";
  }
  bool IsTerminal(int fd) override { return ::isatty(fd) == 1; }
  int64_t ClockTicksPerSecond() override {
    long t = ::sysconf(_SC_CLK_TCK);
    return t > 0 ? t : 100;
  }
  int OnlineCpuCount() override {
    long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<int>(n) : 1;
  }

  Status WatchSignals(const std::vector<Signal>& signals, std::atomic<int>* flag,
                      bool reset_after_first) override {
    g_signal_flag.store(flag);
    for (Signal s : signals) {
      struct sigaction sa = {};
      sa.sa_handler = flag ? WattlabSignalHandler : SIG_DFL;
      sigemptyset(&sa.sa_mask);
      sa.sa_flags = reset_after_first ? SA_RESETHAND : 0;
      if (::sigaction(SignalNumber(s), &sa, nullptr) != 0)
        return StatusFromErrno(errno, "cannot install a handler for signal", std::to_string(SignalNumber(s)));
    }
    return Status::Ok();
  }

 private:
  static std::string ToHex(uint64_t v) {
    char b[32];
    std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(v));
    return b;
  }
  Roots roots_;
  std::mutex env_mu_;  // getenv/setenv are not thread-safe against each other
  std::atomic<uint64_t> tmp_counter_{0};
};

}  // namespace

std::unique_ptr<Env> NewRealEnv(const Roots& roots) { return std::make_unique<RealEnv>(roots); }

Roots RootsFromProcessEnvironment() {
  RealEnv bootstrap{Roots{}};
  return Roots::FromEnvironment(&bootstrap);
}

}  // namespace wattlab
