// EnvVfs: a wrapper VFS over SQLite's default one whose page I/O goes
// through an Env (env_vfs.h; docs/schema.md).
#include "store/env_vfs.h"

#include <sqlite3.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

namespace wattlab {

struct EnvVfs::State {
  sqlite3_vfs vfs{};
  sqlite3_vfs* inner = nullptr;
  Env* env = nullptr;
  std::string name;
  std::mutex mu;
  std::string first_error;

  void Record(const Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    if (first_error.empty()) first_error = s.message();
  }
  std::string Take() {
    std::lock_guard<std::mutex> lock(mu);
    std::string e;
    e.swap(first_error);
    return e;
  }
};

namespace {

using State = EnvVfs::State;

// The sqlite3_file SQLite allocates for us (szOsFile bytes): this header, then
// the inner VFS's own file at kInnerOffset. SQLite owns the memory; every
// field is set in VfsOpen before use.
struct EnvFile {
  sqlite3_file base;  // base.pMethods = &kIoMethods once open
  State* state;
  RandomRWFile* rw;  // owned; null for pass-through (delete-on-close) files
  std::string* key;  // owned; the path in the open-file registry, null with rw
};
constexpr int kInnerOffset = static_cast<int>((sizeof(EnvFile) + 7) & ~static_cast<size_t>(7));

sqlite3_file* Inner(sqlite3_file* f) {
  return reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + kInnerOffset);
}
EnvFile* AsEnv(sqlite3_file* f) { return reinterpret_cast<EnvFile*>(f); }

// POSIX advisory locks (fcntl F_SETLK, what the unix VFS locks with) belong to
// the process and the inode: closing ANY descriptor of the file drops every
// lock this process holds on it, those of other connections included. The
// unix VFS defers closing its own descriptors for that reason; our Env
// descriptors live outside its bookkeeping, so we do the same here: a file's
// Env descriptor is closed only after its inner file is closed, and while
// another EnvFile of this process still has the same path open it is parked
// instead, and closed with the last one. (Keyed by the path SQLite opened,
// which xFullPathname made absolute; two different names for one inode would
// escape this, as they would in the unix VFS's own journal naming.)
struct OpenPath {
  int open = 0;
  std::vector<std::unique_ptr<RandomRWFile>> parked;
};
std::mutex& RegistryMu() {
  static std::mutex mu;
  return mu;
}
std::map<std::string, OpenPath>& Registry() {
  static std::map<std::string, OpenPath> r;
  return r;
}

void ReleaseEnvFile(EnvFile* f) {
  if (!f->rw) return;
  std::unique_ptr<RandomRWFile> rw(f->rw);
  std::unique_ptr<std::string> key(f->key);
  f->rw = nullptr;
  f->key = nullptr;
  std::vector<std::unique_ptr<RandomRWFile>> to_close;
  {
    std::lock_guard<std::mutex> lock(RegistryMu());
    auto it = Registry().find(*key);
    if (it != Registry().end() && --it->second.open > 0) {
      it->second.parked.push_back(std::move(rw));
      return;
    }
    if (it != Registry().end()) {
      to_close = std::move(it->second.parked);
      Registry().erase(it);
    }
  }
  // rw and the parked descriptors close here, after the inner file.
}

bool IsDiskFull(const Status& s) {
  const std::string& m = s.message();
  return m.find(std::strerror(ENOSPC)) != std::string::npos ||
         m.find(std::strerror(EDQUOT)) != std::string::npos;
}

// ---- io methods: bytes through Env, everything else to the inner file ----

int FileClose(sqlite3_file* pf) {
  sqlite3_file* in = Inner(pf);
  int rc = in->pMethods ? in->pMethods->xClose(in) : SQLITE_OK;
  ReleaseEnvFile(AsEnv(pf));
  return rc;
}

int FileRead(sqlite3_file* pf, void* buf, int amt, sqlite3_int64 off) {
  EnvFile* f = AsEnv(pf);
  if (!f->rw) return Inner(pf)->pMethods->xRead(Inner(pf), buf, amt, off);
  auto n = f->rw->PRead(static_cast<uint64_t>(off), buf, static_cast<size_t>(amt));
  if (!n.ok()) {
    f->state->Record(n.status());
    return SQLITE_IOERR_READ;
  }
  if (*n < static_cast<size_t>(amt)) {
    // SQLite requires the unread tail zeroed on a short read.
    std::memset(static_cast<char*>(buf) + *n, 0, static_cast<size_t>(amt) - *n);
    return SQLITE_IOERR_SHORT_READ;
  }
  return SQLITE_OK;
}

int FileWrite(sqlite3_file* pf, const void* buf, int amt, sqlite3_int64 off) {
  EnvFile* f = AsEnv(pf);
  if (!f->rw) return Inner(pf)->pMethods->xWrite(Inner(pf), buf, amt, off);
  Status s = f->rw->PWrite(static_cast<uint64_t>(off), buf, static_cast<size_t>(amt));
  if (!s.ok()) {
    f->state->Record(s);
    return IsDiskFull(s) ? SQLITE_FULL : SQLITE_IOERR_WRITE;
  }
  return SQLITE_OK;
}

int FileTruncate(sqlite3_file* pf, sqlite3_int64 size) {
  EnvFile* f = AsEnv(pf);
  if (!f->rw) return Inner(pf)->pMethods->xTruncate(Inner(pf), size);
  Status s = f->rw->Truncate(static_cast<uint64_t>(size));
  if (!s.ok()) {
    f->state->Record(s);
    return SQLITE_IOERR_TRUNCATE;
  }
  return SQLITE_OK;
}

int FileSync(sqlite3_file* pf, int flags) {
  EnvFile* f = AsEnv(pf);
  sqlite3_file* in = Inner(pf);
  if (f->rw) {
    Status s = f->rw->Sync();
    if (!s.ok()) {
      f->state->Record(s);
      return SQLITE_IOERR_FSYNC;
    }
  }
  // Then the inner file's own sync: with nothing left dirty it costs one
  // syscall, and it carries SQLite's fsync of the directory after a journal
  // or WAL was created (Env has no directory sync).
  return in->pMethods->xSync(in, flags);
}

int FileSize(sqlite3_file* pf, sqlite3_int64* size) {
  EnvFile* f = AsEnv(pf);
  if (!f->rw) return Inner(pf)->pMethods->xFileSize(Inner(pf), size);
  auto n = f->rw->Size();
  if (!n.ok()) {
    f->state->Record(n.status());
    return SQLITE_IOERR_FSTAT;
  }
  *size = static_cast<sqlite3_int64>(*n);
  return SQLITE_OK;
}

int FileLock(sqlite3_file* pf, int l) { return Inner(pf)->pMethods->xLock(Inner(pf), l); }
int FileUnlock(sqlite3_file* pf, int l) { return Inner(pf)->pMethods->xUnlock(Inner(pf), l); }
int FileCheckReservedLock(sqlite3_file* pf, int* out) {
  return Inner(pf)->pMethods->xCheckReservedLock(Inner(pf), out);
}

int FileControl(sqlite3_file* pf, int op, void* arg) {
  if (AsEnv(pf)->rw) {
    switch (op) {
      // The unix VFS would grow the file with writes of its own, past Env.
      // Both are hints; without them SQLite grows the file page by page.
      case SQLITE_FCNTL_SIZE_HINT:
      case SQLITE_FCNTL_CHUNK_SIZE:
        return SQLITE_OK;
      // No memory-mapped I/O: every read goes through Env (the io methods are
      // version 2, so the pager never asks for xFetch either).
      case SQLITE_FCNTL_MMAP_SIZE:
        *static_cast<sqlite3_int64*>(arg) = 0;
        return SQLITE_OK;
      default:
        break;
    }
  }
  return Inner(pf)->pMethods->xFileControl(Inner(pf), op, arg);
}

int FileSectorSize(sqlite3_file* pf) { return Inner(pf)->pMethods->xSectorSize(Inner(pf)); }
int FileDeviceCharacteristics(sqlite3_file* pf) {
  return Inner(pf)->pMethods->xDeviceCharacteristics(Inner(pf));
}
int FileShmMap(sqlite3_file* pf, int region, int size, int extend, void volatile** p) {
  return Inner(pf)->pMethods->xShmMap(Inner(pf), region, size, extend, p);
}
int FileShmLock(sqlite3_file* pf, int offset, int n, int flags) {
  return Inner(pf)->pMethods->xShmLock(Inner(pf), offset, n, flags);
}
void FileShmBarrier(sqlite3_file* pf) { Inner(pf)->pMethods->xShmBarrier(Inner(pf)); }
int FileShmUnmap(sqlite3_file* pf, int del) { return Inner(pf)->pMethods->xShmUnmap(Inner(pf), del); }

const sqlite3_io_methods kIoMethods = {
    2,  // version 2: WAL shared memory, no xFetch/xUnfetch (no mmap past Env)
    FileClose,
    FileRead,
    FileWrite,
    FileTruncate,
    FileSync,
    FileSize,
    FileLock,
    FileUnlock,
    FileCheckReservedLock,
    FileControl,
    FileSectorSize,
    FileDeviceCharacteristics,
    FileShmMap,
    FileShmLock,
    FileShmBarrier,
    FileShmUnmap,
    nullptr,
    nullptr,
};

// ---- vfs methods ----

State* StateOf(sqlite3_vfs* v) { return static_cast<State*>(v->pAppData); }

int VfsOpen(sqlite3_vfs* v, const char* name, sqlite3_file* pf, int flags, int* out_flags) {
  State* st = StateOf(v);
  EnvFile* f = AsEnv(pf);
  f->base.pMethods = nullptr;  // until fully open: SQLite calls xClose only when set
  f->state = st;
  f->rw = nullptr;
  f->key = nullptr;
  sqlite3_file* in = Inner(pf);
  int inner_out = 0;
  int rc = st->inner->xOpen(st->inner, name, in, flags, &inner_out);
  if (rc != SQLITE_OK) return rc;
  if (out_flags) *out_flags = inner_out;
  if (name && !(flags & SQLITE_OPEN_DELETEONCLOSE)) {
    const std::string path(name);
    auto fail = [&](const Status& s) {
      st->Record(s);
      in->pMethods->xClose(in);
      return SQLITE_CANTOPEN;
    };
    // Locks are taken on `path` itself; the bytes must be the same file.
    if (st->env->Resolve(path) != path)
      return fail(Status::InvalidArgument(
          "the database file " + path + " lies under a path this environment maps to " +
          st->env->Resolve(path) + "; keep databases outside /sys, /proc and /dev"));
    const bool read_only = (inner_out & SQLITE_OPEN_READONLY) != 0;
    // The inner open created the file when asked to, with SQLite's modes.
    auto rw = st->env->OpenRandomRW(path, /*create=*/false, read_only);
    if (!rw.ok()) return fail(rw.status());
    f->rw = rw->release();
    f->key = new std::string(path);
    std::lock_guard<std::mutex> lock(RegistryMu());
    ++Registry()[path].open;
  }
  f->base.pMethods = &kIoMethods;
  return SQLITE_OK;
}

int VfsDelete(sqlite3_vfs* v, const char* name, int sync_dir) {
  return StateOf(v)->inner->xDelete(StateOf(v)->inner, name, sync_dir);
}
int VfsAccess(sqlite3_vfs* v, const char* name, int flags, int* out) {
  return StateOf(v)->inner->xAccess(StateOf(v)->inner, name, flags, out);
}
int VfsFullPathname(sqlite3_vfs* v, const char* name, int n, char* out) {
  return StateOf(v)->inner->xFullPathname(StateOf(v)->inner, name, n, out);
}
void* VfsDlOpen(sqlite3_vfs* v, const char* name) {
  return StateOf(v)->inner->xDlOpen(StateOf(v)->inner, name);
}
void VfsDlError(sqlite3_vfs* v, int n, char* msg) { StateOf(v)->inner->xDlError(StateOf(v)->inner, n, msg); }
void (*VfsDlSym(sqlite3_vfs* v, void* h, const char* sym))(void) {
  return StateOf(v)->inner->xDlSym(StateOf(v)->inner, h, sym);
}
void VfsDlClose(sqlite3_vfs* v, void* h) { StateOf(v)->inner->xDlClose(StateOf(v)->inner, h); }
int VfsRandomness(sqlite3_vfs* v, int n, char* out) {
  return StateOf(v)->inner->xRandomness(StateOf(v)->inner, n, out);
}
int VfsSleep(sqlite3_vfs* v, int us) { return StateOf(v)->inner->xSleep(StateOf(v)->inner, us); }
int VfsCurrentTime(sqlite3_vfs* v, double* t) {
  return StateOf(v)->inner->xCurrentTime(StateOf(v)->inner, t);
}
int VfsGetLastError(sqlite3_vfs* v, int n, char* msg) {
  return StateOf(v)->inner->xGetLastError ? StateOf(v)->inner->xGetLastError(StateOf(v)->inner, n, msg) : 0;
}
int VfsCurrentTimeInt64(sqlite3_vfs* v, sqlite3_int64* t) {
  sqlite3_vfs* in = StateOf(v)->inner;
  if (in->iVersion >= 2 && in->xCurrentTimeInt64) return in->xCurrentTimeInt64(in, t);
  double d = 0;
  int rc = in->xCurrentTime(in, &d);
  *t = static_cast<sqlite3_int64>(d * 86400000.0);
  return rc;
}

State* StateOfDb(sqlite3* db) {
  sqlite3_vfs* v = nullptr;
  if (!db || sqlite3_file_control(db, "main", SQLITE_FCNTL_VFS_POINTER, &v) != SQLITE_OK || !v)
    return nullptr;
  if (v->xOpen != VfsOpen) return nullptr;
  return StateOf(v);
}

}  // namespace

Result<std::unique_ptr<EnvVfs>> EnvVfs::Create(Env* env) {
  if (!env) return Status::InvalidArgument("EnvVfs needs an Env");
  if (sqlite3_initialize() != SQLITE_OK) return Status::Internal("cannot initialise SQLite");
  sqlite3_vfs* inner = sqlite3_vfs_find(nullptr);
  if (!inner) return Status::Internal("SQLite has no default VFS");
  static std::atomic<uint64_t> counter{0};
  auto st = std::make_unique<State>();
  st->inner = inner;
  st->env = env;
  st->name = "wattlab-env-" + std::to_string(counter.fetch_add(1));
  sqlite3_vfs& v = st->vfs;
  v.iVersion = 2;
  v.szOsFile = kInnerOffset + inner->szOsFile;
  v.mxPathname = inner->mxPathname;
  v.zName = st->name.c_str();
  v.pAppData = st.get();
  v.xOpen = VfsOpen;
  v.xDelete = VfsDelete;
  v.xAccess = VfsAccess;
  v.xFullPathname = VfsFullPathname;
  v.xDlOpen = VfsDlOpen;
  v.xDlError = VfsDlError;
  v.xDlSym = VfsDlSym;
  v.xDlClose = VfsDlClose;
  v.xRandomness = VfsRandomness;
  v.xSleep = VfsSleep;
  v.xCurrentTime = VfsCurrentTime;
  v.xGetLastError = VfsGetLastError;
  v.xCurrentTimeInt64 = VfsCurrentTimeInt64;
  int rc = sqlite3_vfs_register(&v, /*makeDflt=*/0);
  if (rc != SQLITE_OK)
    return Status::Internal(std::string("cannot register the SQLite VFS: ") + sqlite3_errstr(rc));
  return std::unique_ptr<EnvVfs>(new EnvVfs(std::move(st)));
}

EnvVfs::EnvVfs(std::unique_ptr<State> state) : state_(std::move(state)) {}

EnvVfs::~EnvVfs() { sqlite3_vfs_unregister(&state_->vfs); }

const char* EnvVfs::name() const { return state_->name.c_str(); }

std::string EnvVfs::TakeError() { return state_->Take(); }

std::string SqliteErrorWithEnv(sqlite3* db) {
  std::string m = db ? sqlite3_errmsg(db) : "out of memory";
  if (State* st = StateOfDb(db)) {
    std::string e = st->Take();
    if (!e.empty()) m += " (" + e + ")";
  }
  return m;
}

void ClearEnvError(sqlite3* db) {
  if (State* st = StateOfDb(db)) st->Take();
}

}  // namespace wattlab
