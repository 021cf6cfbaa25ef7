// EnvVfs: how SQLite reaches the disk through an Env (docs/schema.md, "How
// SQLite reaches the disk").
//
// An sqlite3_vfs that wraps SQLite's default ("unix") VFS. Every byte of the
// database, its rollback journal and its WAL is read, written, truncated,
// synced and sized through an Env RandomRWFile opened on the same path, so a
// fault-injecting Env (a ForwardingEnv that fails PWrite or Sync) reaches the
// writes inside a run's transaction. Locking, WAL shared memory (-shm),
// sector size, device characteristics, deleting, existence checks and
// full-path names stay SQLite's own, on the inner unix file: they are the
// parts SQLite's correctness rests on, and Env has no lock API.
//
// One EnvVfs per Store: it is registered under a unique name on creation and
// unregistered on destruction, and it keeps the first Env error since the last
// TakeError, so the store can say what failed ("cannot write X-wal: No space
// left on device") and not only SQLite's "disk I/O error".
//
// Temporary files SQLite deletes on close (sort spills, temp databases, the
// statement journal) are not database content and go to the inner VFS
// unchanged.
//
// Thread-safety: an EnvVfs may be used by one connection at a time (the
// Store's); the registry of open files it shares with other EnvVfs instances
// is locked.
#pragma once

#include <memory>
#include <string>

#include "core/env.h"
#include "wattlab/status.h"

struct sqlite3;

namespace wattlab {

class EnvVfs {
 public:
  // Registers a new VFS over the default one. env must outlive it.
  static Result<std::unique_ptr<EnvVfs>> Create(Env* env);
  // Unregisters. Every connection opened with name() must be closed first.
  ~EnvVfs();
  EnvVfs(const EnvVfs&) = delete;
  EnvVfs& operator=(const EnvVfs&) = delete;

  // The name to pass to sqlite3_open_v2.
  const char* name() const;
  // The first Env error recorded since the last call ("" when none), cleared.
  std::string TakeError();

  struct State;

 private:
  explicit EnvVfs(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// sqlite3_errmsg(db), followed by " (<the Env error>)" when db was opened
// through an EnvVfs that recorded one; that error is cleared.
std::string SqliteErrorWithEnv(sqlite3* db);
// Clears the Env error of db's EnvVfs, if any (call before a statement so a
// message never carries a stale error).
void ClearEnvError(sqlite3* db);

}  // namespace wattlab
