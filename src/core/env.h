// Env: the only door through which wattlab touches the operating system.
//
// Every read and write of a file (/sys, /proc, /dev, databases, reports,
// baselines), the clocks, sleeping, perf events, dynamic loading, the environment,
// process facts (pid, host, terminal, clock ticks) and signal handlers go
// through an Env that is passed in (LevelDB's Env pattern). The interface is
// declared here, in core, so every room (the workload plugin included) can
// take one; src/platform/ is the only room that implements it on the OS. Callers always name the real-machine
// path ("/sys/class/powercap/ intel-rapl:0/energy_uj"); the Env maps it under its Roots, so a test or a VM
// user can point "/sys" at a fixture tree or a hypervisor-filled folder.
//
// ForwardingEnv forwards every call to another Env, so a test fake overrides
// only the call it wants to break (EACCES on one file, a wrapping counter).
//
// Thread-safety: the real Env is thread-safe. A ReadableFile or RandomRWFile
// is used by one thread at a time.
#pragma once

#include <atomic>
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

  // Reads WATTLAB_SYSFS_ROOT, WATTLAB_PROC_ROOT and WATTLAB_DEV_ROOT through
  // env->GetEnvVar; unset variables keep the defaults. Command-line flags
  // override afterwards.
  static Roots FromEnvironment(class Env* env);
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

// A file opened for reading and writing at explicit offsets: what the SQLite
// VFS (src/store/) forwards its page I/O to, so a test can fail a write in the
// middle of a transaction.
class RandomRWFile {
 public:
  virtual ~RandomRWFile() = default;
  // Reads up to n bytes at offset; returns the number read (short at EOF).
  virtual Result<size_t> PRead(uint64_t offset, void* buf, size_t n) = 0;
  // Writes all n bytes at offset (a short write is an IOError, e.g. ENOSPC).
  virtual Status PWrite(uint64_t offset, const void* buf, size_t n) = 0;
  virtual Status Truncate(uint64_t size) = 0;
  virtual Status Sync() = 0;  // data reaches the disk
  virtual Result<uint64_t> Size() = 0;
  virtual const std::string& path() const = 0;
};

enum class FileKind { kMissing, kRegular, kDirectory, kOther };  // kOther: device, FIFO, socket

struct FileInfo {
  FileKind kind = FileKind::kMissing;
  uint64_t size_bytes = 0;
  double modified_unix_s = 0;
};

// An exclusive advisory lock, held until this object is destroyed (Env::TryLockFile).
class FileLock {
 public:
  virtual ~FileLock() = default;
  virtual const std::string& path() const = 0;
};

struct LockAttempt {
  std::unique_ptr<FileLock> lock;  // null when another process holds the lock
  std::string holder;              // then: the line its holder wrote ("" when unreadable)
};

// Signals a library may ask to be told about (no <csignal> outside platform).
enum class Signal { kInt, kTerm, kHup, kQuit };

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

  // Dynamic loading. Handles are never closed (libraries stay for the process).
  // DlSym(nullptr, s) looks s up in the process's global scope.
  virtual Result<void*> DlOpen(const std::string& library) = 0;
  virtual void* DlSym(void* handle, const char* symbol) = 0;
  // The resolved path of the shared object holding `address`; nullopt
  // when unknown. Not pure: fakes need not care.
  virtual std::optional<std::string> LibraryPathOf(const void* address) {
    (void)address;
    return std::nullopt;
  }

  // Monotonic clock and sleeping, injectable for tests.
  virtual std::chrono::nanoseconds NowMonotonic() = 0;
  virtual void SleepFor(std::chrono::nanoseconds d) = 0;
  // Sleeps until NowMonotonic() reaches `deadline` (returns at once when it
  // has). A periodic thread sleeping to absolute deadlines keeps its phase
  // and needs one clock read per period. The default derives it from
  // NowMonotonic and SleepFor, so a fake clock overriding those two gets a
  // consistent SleepUntil; the real Env sleeps to the deadline directly.
  virtual void SleepUntil(std::chrono::nanoseconds deadline) {
    const std::chrono::nanoseconds now = NowMonotonic();
    if (deadline > now) SleepFor(deadline - now);
  }
  // Names the calling thread (as `top -H` and debuggers show it; the OS may
  // cut it to 15 characters). Best effort: the default does nothing.
  virtual void NameCurrentThread(const std::string& name) { (void)name; }
  // Wall clock, seconds since the Unix epoch (for dates in records).
  virtual double NowWallSeconds() = 0;

  // Environment variables (injectable so tests do not depend on the shell).
  virtual std::optional<std::string> GetEnvVar(const std::string& name) = 0;
  // overwrite=false keeps a value already set.
  virtual Status SetEnvVar(const std::string& name, const std::string& value, bool overwrite) = 0;

  // --- Writing. Paths are mapped by Resolve like reads. ---
  // Writes into an existing file without creating or renaming it, opened
  // with O_TRUNC as `echo V > file` does (sysfs knobs such as
  // constraint_0_power_limit_uw need exactly this; on a copy of a sysfs tree
  // a shorter value replaces a longer one whole). NotFound when missing.
  virtual Status WriteFileInPlace(const std::string& path, const std::string& data) = 0;
  // Replaces path with data atomically: a temporary sibling is written,
  // synced and renamed over path. On any failure the previous file is whole
  // and no temporary is left behind.
  virtual Status WriteFileAtomically(const std::string& path, const std::string& data) = 0;
  // Appends to path, creating it (mode 0644) when missing.
  virtual Status AppendToFile(const std::string& path, const std::string& data) = 0;
  // Opens (optionally creating) a file for page I/O. read_only opens O_RDONLY.
  virtual Result<std::unique_ptr<RandomRWFile>> OpenRandomRW(const std::string& path, bool create,
                                                             bool read_only) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;  // NotFound when missing
  virtual Status RemoveTree(const std::string& path) = 0;  // rm -r; OK when missing
  virtual Status CreateDirs(const std::string& path) = 0;  // mkdir -p; OK when it exists
  // A fresh empty directory "<parent>/<prefix>XXXXXX"; returns its path.
  virtual Result<std::string> MakeTempDir(const std::string& parent, const std::string& prefix) = 0;
  // Kind, size and mtime; kind kMissing (not an error) when nothing is there.
  virtual Result<FileInfo> Stat(const std::string& path) = 0;
  // OK when this process could create or write path: an existing file must be
  // writable; a missing one needs a writable existing parent directory.
  virtual Status CheckWritable(const std::string& path) = 0;
  // Takes an exclusive advisory lock on path (created when missing) without
  // waiting, and writes `holder` (one line: who holds it) into the file, which
  // is removed again when the lock is released. The lock is the process's
  // (a whole-file lock, not a byte-range one: closing another descriptor of the file keeps it) and
  // goes with it when the process dies, however it dies. When another process
  // holds it: OK with a null lock and that holder's line. Errors: the file
  // cannot be created or locked (IOError, PermissionDenied).
  virtual Result<LockAttempt> TryLockFile(const std::string& path, const std::string& holder) = 0;

  // --- Process facts. ---
  virtual int Pid() = 0;
  virtual std::string HostName() = 0;         // "unknown" when the OS will not say
  virtual bool IsTerminal(int fd) = 0;        // 0 stdin, 1 stdout, 2 stderr
  virtual int64_t ClockTicksPerSecond() = 0;  // ticks per second: /proc/stat units
  virtual int OnlineCpuCount() = 0;           // CPUs online now

  // --- Signals. ---
  // From now on, when one of `signals` arrives its number (1-based index of
  // Signal + 1, never 0) is stored into *flag; with reset_after_first the
  // disposition returns to the default after the first delivery (a second
  // Ctrl-C kills at once). The flag must outlive the handler; pass
  // flag=nullptr to restore the defaults.
  virtual Status WatchSignals(const std::vector<Signal>& signals, std::atomic<int>* flag,
                              bool reset_after_first) = 0;
};

class ForwardingEnv : public Env {
 public:
  explicit ForwardingEnv(Env* target) : target_(target) {}
  std::string Resolve(const std::string& p) const override { return target_->Resolve(p); }
  Result<std::string> ReadFile(const std::string& p) override { return target_->ReadFile(p); }
  Result<std::vector<std::string>> ListDir(const std::string& p) override { return target_->ListDir(p); }
  bool Exists(const std::string& p) override { return target_->Exists(p); }
  Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& p) override {
    return target_->OpenForRead(p);
  }
  Result<std::unique_ptr<ReadableFile>> OpenPerfEvent(uint32_t type, uint64_t config, int cpu) override {
    return target_->OpenPerfEvent(type, config, cpu);
  }
  Result<void*> DlOpen(const std::string& lib) override { return target_->DlOpen(lib); }
  void* DlSym(void* h, const char* s) override { return target_->DlSym(h, s); }
  std::optional<std::string> LibraryPathOf(const void* a) override { return target_->LibraryPathOf(a); }
  std::chrono::nanoseconds NowMonotonic() override { return target_->NowMonotonic(); }
  void SleepFor(std::chrono::nanoseconds d) override { target_->SleepFor(d); }
  // SleepUntil is deliberately not forwarded: the default builds it on this
  // Env's NowMonotonic and SleepFor, which a fake clock overrides.
  void NameCurrentThread(const std::string& name) override { target_->NameCurrentThread(name); }
  double NowWallSeconds() override { return target_->NowWallSeconds(); }
  std::optional<std::string> GetEnvVar(const std::string& n) override { return target_->GetEnvVar(n); }
  Status SetEnvVar(const std::string& n, const std::string& v, bool o) override {
    return target_->SetEnvVar(n, v, o);
  }
  Status WriteFileInPlace(const std::string& p, const std::string& d) override {
    return target_->WriteFileInPlace(p, d);
  }
  Status WriteFileAtomically(const std::string& p, const std::string& d) override {
    return target_->WriteFileAtomically(p, d);
  }
  Status AppendToFile(const std::string& p, const std::string& d) override {
    return target_->AppendToFile(p, d);
  }
  Result<std::unique_ptr<RandomRWFile>> OpenRandomRW(const std::string& p, bool create,
                                                     bool read_only) override {
    return target_->OpenRandomRW(p, create, read_only);
  }
  Status Rename(const std::string& f, const std::string& t) override { return target_->Rename(f, t); }
  Status RemoveFile(const std::string& p) override { return target_->RemoveFile(p); }
  Status RemoveTree(const std::string& p) override { return target_->RemoveTree(p); }
  Status CreateDirs(const std::string& p) override { return target_->CreateDirs(p); }
  Result<std::string> MakeTempDir(const std::string& parent, const std::string& prefix) override {
    return target_->MakeTempDir(parent, prefix);
  }
  Result<FileInfo> Stat(const std::string& p) override { return target_->Stat(p); }
  Status CheckWritable(const std::string& p) override { return target_->CheckWritable(p); }
  Result<LockAttempt> TryLockFile(const std::string& p, const std::string& holder) override {
    return target_->TryLockFile(p, holder);
  }
  int Pid() override { return target_->Pid(); }
  std::string HostName() override { return target_->HostName(); }
  bool IsTerminal(int fd) override { return target_->IsTerminal(fd); }
  int64_t ClockTicksPerSecond() override { return target_->ClockTicksPerSecond(); }
  int OnlineCpuCount() override { return target_->OnlineCpuCount(); }
  Status WatchSignals(const std::vector<Signal>& s, std::atomic<int>* flag, bool reset) override {
    return target_->WatchSignals(s, flag, reset);
  }

 protected:
  Env* target() const { return target_; }

 private:
  Env* target_;
};

// Trims whitespace; parses an unsigned/signed decimal or a double from sysfs
// text ("123456\n"). InvalidArgument / Corruption with the path on failure.
Result<uint64_t> ParseU64(const std::string& text, const std::string& path);
Result<int64_t> ParseI64(const std::string& text, const std::string& path);
Result<double> ParseDouble(const std::string& text, const std::string& path);
std::string Trim(const std::string& s);

}  // namespace wattlab
