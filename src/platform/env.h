// Env: the only door through which wattlab touches the operating system.
//
// Every read of /sys, /proc and /dev, the monotonic clock, sleeping, perf
// events and dlopen go through an Env that is passed in (LevelDB's Env
// pattern). Callers always name the real-machine path ("/sys/class/powercap/
// intel-rapl:0/energy_uj"); the Env maps it under its Roots, so a test or a
// VM user can point "/sys" at a fixture tree or a hypervisor-filled folder.
//
// ForwardingEnv forwards every call to another Env, so a test fake overrides
// only the call it wants to break (EACCES on one file, a wrapping counter).
//
// Thread-safety: RealEnv is thread-safe. A ReadableFile is used by one thread
// at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wattlab/status.h"

namespace wattlab {

struct Roots {
  std::string sysfs = "/sys";
  std::string proc = "/proc";
  std::string dev = "/dev";

  // Reads WATTLAB_SYSFS_ROOT, WATTLAB_PROC_ROOT and WATTLAB_DEV_ROOT; unset
  // variables keep the defaults. Command-line flags override afterwards.
  static Roots FromEnvironment();
};

// An open file read with pread at explicit offsets (kept open by samplers so
// one sample costs one pread, not open+read+close).
class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // Reads up to n bytes at offset; returns the number read (0 at EOF).
  virtual Result<size_t> PRead(uint64_t offset, void* buf, size_t n) = 0;
  // Convenience: reads the whole (small) file from offset 0 as text.
  Result<std::string> ReadAllText();
  // Convenience: exactly 8 bytes at offset, little-endian (MSR, perf counters).
  Result<uint64_t> ReadU64(uint64_t offset);
  virtual const std::string& path() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  // Maps a real-machine path to where this Env reads it.
  virtual std::string Resolve(const std::string& path) const = 0;

  // Whole small file as text. Errors: NotFound, PermissionDenied (with errno
  // text), IOError.
  virtual Result<std::string> ReadFile(const std::string& path) = 0;
  // Entry names of a directory, sorted, without "." and "..".
  virtual Result<std::vector<std::string>> ListDir(const std::string& path) = 0;
  virtual bool Exists(const std::string& path) = 0;
  virtual Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& path) = 0;

  // perf_event_open(2) for a system-wide counting event on one CPU. The
  // returned file's ReadU64(0) is the raw counter.
  virtual Result<std::unique_ptr<ReadableFile>> OpenPerfEvent(uint32_t type, uint64_t config, int cpu) = 0;

  // dlopen/dlsym. Handles are never closed (libraries stay for the process).
  virtual Result<void*> DlOpen(const std::string& library) = 0;
  virtual void* DlSym(void* handle, const char* symbol) = 0;

  // Monotonic clock and sleeping, injectable for tests.
  virtual std::chrono::nanoseconds NowMonotonic() = 0;
  virtual void SleepFor(std::chrono::nanoseconds d) = 0;
  // Wall clock, seconds since the Unix epoch (for dates in records).
  virtual double NowWallSeconds() = 0;

  // Environment variables (injectable so tests do not depend on the shell).
  virtual std::optional<std::string> GetEnvVar(const std::string& name) = 0;
};

// The production Env: real syscalls, paths mapped under `roots`.
std::unique_ptr<Env> NewRealEnv(const Roots& roots = Roots{});

class ForwardingEnv : public Env {
 public:
  explicit ForwardingEnv(Env* target) : target_(target) {}
  std::string Resolve(const std::string& p) const override { return target_->Resolve(p); }
  Result<std::string> ReadFile(const std::string& p) override { return target_->ReadFile(p); }
  Result<std::vector<std::string>> ListDir(const std::string& p) override { return target_->ListDir(p); }
  bool Exists(const std::string& p) override { return target_->Exists(p); }
  Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& p) override { return target_->OpenForRead(p); }
  Result<std::unique_ptr<ReadableFile>> OpenPerfEvent(uint32_t type, uint64_t config, int cpu) override {
    return target_->OpenPerfEvent(type, config, cpu);
  }
  Result<void*> DlOpen(const std::string& lib) override { return target_->DlOpen(lib); }
  void* DlSym(void* h, const char* s) override { return target_->DlSym(h, s); }
  std::chrono::nanoseconds NowMonotonic() override { return target_->NowMonotonic(); }
  void SleepFor(std::chrono::nanoseconds d) override { target_->SleepFor(d); }
  double NowWallSeconds() override { return target_->NowWallSeconds(); }
  std::optional<std::string> GetEnvVar(const std::string& n) override { return target_->GetEnvVar(n); }

 protected:
  Env* target() const { return target_; }

 private:
  Env* target_;
};

// Translates an errno from an operation on `path` into a Status whose message
// says what failed. Used only inside src/platform/.
Status StatusFromErrno(int err, const std::string& what, const std::string& path);

// Trims whitespace; parses an unsigned/signed decimal or a double from sysfs
// text ("123456\n"). InvalidArgument / Corruption with the path on failure.
Result<uint64_t> ParseU64(const std::string& text, const std::string& path);
Result<int64_t> ParseI64(const std::string& text, const std::string& path);
Result<double> ParseDouble(const std::string& text, const std::string& path);
std::string Trim(const std::string& s);

}  // namespace wattlab
