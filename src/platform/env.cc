#include "platform/env.h"

#include "core/strings.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <thread>

namespace wattlab {

Roots Roots::FromEnvironment() {
  Roots r;
  if (const char* v = std::getenv("WATTLAB_SYSFS_ROOT"); v && *v) r.sysfs = v;
  if (const char* v = std::getenv("WATTLAB_PROC_ROOT"); v && *v) r.proc = v;
  if (const char* v = std::getenv("WATTLAB_DEV_ROOT"); v && *v) r.dev = v;
  return r;
}

std::string Trim(const std::string& s) { return TrimCopy(s); }

Result<uint64_t> ParseU64(const std::string& text, const std::string& path) {
  std::string t = Trim(text);
  if (t.empty() || !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return Status::Corruption(path + ": expected an unsigned integer, found '" + t + "'");
  errno = 0;
  unsigned long long v = std::strtoull(t.c_str(), nullptr, 10);
  if (errno == ERANGE) return Status::Corruption(path + ": integer out of range: " + t);
  return static_cast<uint64_t>(v);
}

Result<int64_t> ParseI64(const std::string& text, const std::string& path) {
  std::string t = Trim(text);
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(t.c_str(), &end, 10);
  if (t.empty() || *end != '\0' || errno == ERANGE)
    return Status::Corruption(path + ": expected an integer, found '" + t + "'");
  return static_cast<int64_t>(v);
}

Result<double> ParseDouble(const std::string& text, const std::string& path) {
  std::string t = Trim(text);
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (t.empty() || *end != '\0') return Status::Corruption(path + ": expected a number, found '" + t + "'");
  return v;
}

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

Result<std::string> ReadableFile::ReadAllText() {
  std::string out;
  char buf[4096];
  uint64_t off = 0;
  for (;;) {
    auto n = PRead(off, buf, sizeof buf);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    out.append(buf, *n);
    off += *n;
  }
  return out;
}

Result<uint64_t> ReadableFile::ReadU64(uint64_t offset) {
  uint64_t v = 0;
  auto n = PRead(offset, &v, sizeof v);
  if (!n.ok()) return n.status();
  if (*n != sizeof v) return Status::IOError("short read of 8 bytes at offset " + std::to_string(offset) + " in " + path());
  return v;
}

namespace {

// A file read at explicit offsets. perf_event fds are not seekable (pread
// fails with ESPIPE); read(2) returns their current count every time, which is
// what offset 0 means there, so they are opened as counters and read that way
// from the start instead of failing a pread on every sample.
class FdFile : public ReadableFile {
 public:
  enum class Kind { kSeekable, kCounter };
  FdFile(int fd, std::string path, Kind kind = Kind::kSeekable) : fd_(fd), kind_(kind), path_(std::move(path)) {}
  ~FdFile() override { ::close(fd_); }
  Result<size_t> PRead(uint64_t offset, void* buf, size_t n) override {
    if (kind_ == Kind::kCounter && offset != 0)
      return Status::NotSupported("cannot read at offset " + std::to_string(offset) + " of the counter " + path_);
    for (;;) {
      ssize_t r = kind_ == Kind::kCounter ? ::read(fd_, buf, n) : ::pread(fd_, buf, n, static_cast<off_t>(offset));
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

bool HasPrefix(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0 && (s.size() == p.size() || s[p.size()] == '/');
}

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
    std::string what = "perf_event type " + std::to_string(type) + " config 0x" + ToHex(config) + " cpu " + std::to_string(cpu);
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
  void* DlSym(void* handle, const char* symbol) override { return ::dlsym(handle, symbol); }

  std::chrono::nanoseconds NowMonotonic() override {
    timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  }
  void SleepFor(std::chrono::nanoseconds d) override {
    if (d.count() > 0) std::this_thread::sleep_for(d);
  }
  double NowWallSeconds() override {
    timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
  }
  std::optional<std::string> GetEnvVar(const std::string& name) override {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  }

 private:
  static std::string ToHex(uint64_t v) {
    char b[32];
    std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(v));
    return b;
  }
  Roots roots_;
};

}  // namespace

std::unique_ptr<Env> NewRealEnv(const Roots& roots) { return std::make_unique<RealEnv>(roots); }

}  // namespace wattlab
