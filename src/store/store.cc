// SQLite implementation of the store. Schema and migrations: docs/schema.md.
#include "store/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "core/strings.h"
#include "store/env_vfs.h"

namespace wattlab {
namespace {

using json = nlohmann::json;

// PRAGMA application_id: "WATT". Marks a file as ours before any table is read.
constexpr int kApplicationId = 0x57415454;

// Migration i takes the schema from version i to i+1 (index 0: empty -> v1).
const char* const kMigrations[] = {
    // v1: studies, runs, windows (the export columns).
    R"sql(
CREATE TABLE studies (
  name TEXT PRIMARY KEY,
  spec_toml TEXT NOT NULL DEFAULT '',
  started_at REAL NOT NULL DEFAULT 0,
  finished_at REAL,
  context_json TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE runs (
  study TEXT NOT NULL REFERENCES studies(name),
  run_id INTEGER NOT NULL,
  config_id TEXT NOT NULL,
  repetition INTEGER NOT NULL,
  model TEXT NOT NULL,
  config_json TEXT NOT NULL DEFAULT '{}',
  facts_json TEXT NOT NULL DEFAULT '{}',
  started_at REAL,
  finished_at REAL,
  PRIMARY KEY (study, run_id)
);
CREATE TABLE windows (
  study TEXT NOT NULL,
  run_id INTEGER NOT NULL,
  phase TEXT NOT NULL,
  window TEXT NOT NULL,
  batch_size INTEGER NOT NULL,
  threads INTEGER NOT NULL,
  precision TEXT NOT NULL,
  params INTEGER NOT NULL,
  macs INTEGER NOT NULL,
  macs_per_param REAL NOT NULL,
  steps INTEGER,
  samples INTEGER NOT NULL,
  duration_s REAL NOT NULL,
  energy_j REAL NOT NULL,
  energy_above_idle_j REAL,
  extrapolated_energy_j REAL,
  cpu_util REAL,
  source TEXT NOT NULL,
  estimated INTEGER NOT NULL,
  accuracy REAL,
  PRIMARY KEY (study, run_id, phase, window),
  FOREIGN KEY (study, run_id) REFERENCES runs(study, run_id)
);
)sql",
    // v2: per-domain energy, timelines, idle baselines, window extras, loss.
    R"sql(
ALTER TABLE runs ADD COLUMN step_loss_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE windows ADD COLUMN loss REAL;
ALTER TABLE windows ADD COLUMN idle_power_w REAL;
ALTER TABLE windows ADD COLUMN mean_power_w REAL;
ALTER TABLE windows ADD COLUMN meter_samples INTEGER;
CREATE TABLE domain_energy (
  study TEXT NOT NULL,
  run_id INTEGER NOT NULL,
  phase TEXT NOT NULL,
  window TEXT NOT NULL,
  domain TEXT NOT NULL,
  source TEXT NOT NULL,
  component TEXT NOT NULL,
  in_total INTEGER NOT NULL,
  estimated INTEGER NOT NULL,
  energy_j REAL NOT NULL,
  mean_power_w REAL NOT NULL,
  PRIMARY KEY (study, run_id, phase, window, domain)
);
CREATE TABLE timelines (
  study TEXT NOT NULL,
  run_id INTEGER NOT NULL,
  model TEXT NOT NULL,
  t_s_json TEXT NOT NULL,
  power_w_json TEXT NOT NULL,
  spans_json TEXT NOT NULL,
  PRIMARY KEY (study, run_id)
);
CREATE TABLE idle_baselines (
  study TEXT NOT NULL,
  unix_s REAL NOT NULL,
  power_w REAL NOT NULL
);
)sql",
    // v3 (hardening, issue 17): busy idle baselines. Each baseline keeps the
    // machine's CPU utilisation while it was measured and whether it was busy
    // (meter/busy.h); each window keeps whether the baseline behind its
    // energy_above_idle_j was busy (RunRow::idle_busy), so --energy auto can
    // choose total energy for an input that rests on one.
    R"sql(
ALTER TABLE idle_baselines ADD COLUMN cpu_util REAL;
ALTER TABLE idle_baselines ADD COLUMN busy INTEGER NOT NULL DEFAULT 0;
ALTER TABLE windows ADD COLUMN idle_busy INTEGER;
)sql",
    // v4 (issue 13, power caps; one migration for the issue): the online
    // power-limit optimiser of `wattlab train --power-limit-optimizer` keeps
    // every candidate limit it profiled, with its measurements, the
    // objective's value and which one was chosen; caps in studies record the
    // caps and clocks in force during each run, read back after setting
    // (RunRow::gpu_power_limit_w, cpu_power_limit_w, cpu_max_freq_mhz; NULL
    // where the knob cannot be read).
    R"sql(
CREATE TABLE power_limit_candidates (
  study TEXT NOT NULL,
  run_id INTEGER NOT NULL,
  limit_w REAL NOT NULL,
  objective TEXT NOT NULL,
  steps INTEGER NOT NULL,
  dropped_steps INTEGER NOT NULL,
  mean_step_s REAL NOT NULL,
  step_s_half_width REAL NOT NULL,
  step_energy_j REAL NOT NULL,
  step_energy_half_width_j REAL NOT NULL,
  converged INTEGER NOT NULL,
  eligible INTEGER NOT NULL,
  objective_value REAL,
  chosen INTEGER NOT NULL,
  PRIMARY KEY (study, run_id, limit_w),
  FOREIGN KEY (study, run_id) REFERENCES runs(study, run_id)
);
ALTER TABLE windows ADD COLUMN gpu_power_limit_w REAL;
ALTER TABLE windows ADD COLUMN cpu_power_limit_w REAL;
ALTER TABLE windows ADD COLUMN cpu_max_freq_mhz REAL;
)sql",
    // v5 (performance, issue 11): the OpenMP wait policy in force for each
    // window's run ("default", "active", "passive"; NULL when unknown), so a
    // study can sweep it and an export says which one a figure ran under.
    R"sql(
ALTER TABLE windows ADD COLUMN omp_wait_policy TEXT;
)sql",
    // v6 (own workloads, issue 15): runs that failed, each attempt, with the
    // program's last stderr lines for a command sweep's run. A failed run is
    // not in `runs` (so --resume retries it); this table only says why.
    R"sql(
CREATE TABLE failed_runs (
  study TEXT NOT NULL,
  run_id INTEGER NOT NULL,
  model TEXT NOT NULL,
  failed_at REAL NOT NULL,
  message TEXT NOT NULL,
  stderr_tail TEXT NOT NULL DEFAULT ''
);
)sql",
    // v7 (beyond one machine, issue 16): studies sharded over a Slurm job
    // array and merged (`wattlab study --shard K/N`, `wattlab merge`). Each
    // study keeps its spec's hash; each run and idle baseline the machine it
    // was measured on (NULL: the study's host, as before); study_shards says
    // which share of the plan a database ran (an unsharded study is 1/1),
    // one row per execution of a shard, with where a merge took it from.
    R"sql(
ALTER TABLE studies ADD COLUMN spec_hash TEXT;
ALTER TABLE runs ADD COLUMN host TEXT;
ALTER TABLE idle_baselines ADD COLUMN host TEXT;
CREATE TABLE study_shards (
  study TEXT NOT NULL,
  shard_k INTEGER NOT NULL,
  shard_n INTEGER NOT NULL,
  spec_hash TEXT NOT NULL,
  host TEXT NOT NULL,
  started_at REAL NOT NULL,
  finished_at REAL,
  source_db TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (study, shard_k, shard_n, started_at)
);
)sql",
    // v8 (operator-level cost model, issue 12): `wattlab calibrate`'s
    // micro-benchmarks, one row per calibration with the machine context it
    // is valid for (host, CPU, libtorch, BLAS, OpenMP wait policy, threads,
    // precision) and its points as JSON (docs/schema.md).
    R"sql(
CREATE TABLE calibrations (
  calibration_id INTEGER PRIMARY KEY,
  created_at REAL NOT NULL,
  host TEXT NOT NULL,
  cpu TEXT NOT NULL,
  libtorch TEXT NOT NULL,
  blas TEXT NOT NULL,
  wait_policy TEXT NOT NULL,
  threads INTEGER NOT NULL,
  precision TEXT NOT NULL,
  shapes TEXT NOT NULL,
  duration_s REAL NOT NULL,
  points_json TEXT NOT NULL
);
)sql",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kStoreSchemaVersion);

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    ClearEnvError(db);
    rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Status status(const std::string& what) const {
    if (rc_ == SQLITE_OK) return Status::Ok();
    return Status::IOError(what + ": " + SqliteErrorWithEnv(db_));
  }
  void Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.c_str(), (int)v.size(), SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void Bind(int i, double v) {
    if (std::isfinite(v))
      sqlite3_bind_double(s_, i, v);
    else
      sqlite3_bind_null(s_, i);
  }
  void Bind(int i, bool v) { sqlite3_bind_int(s_, i, v ? 1 : 0); }
  void BindNull(int i) { sqlite3_bind_null(s_, i); }
  template <typename T>
  void Bind(int i, const std::optional<T>& v) {
    if (v)
      Bind(i, *v);
    else
      BindNull(i);
  }
  int Step() { return sqlite3_step(s_); }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  std::string Text(int c) const {
    const unsigned char* t = sqlite3_column_text(s_, c);
    return t ? std::string(reinterpret_cast<const char*>(t), sqlite3_column_bytes(s_, c)) : std::string();
  }
  int64_t Int(int c) const { return sqlite3_column_int64(s_, c); }
  double Real(int c) const { return sqlite3_column_double(s_, c); }
  bool IsNull(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  std::optional<double> OptReal(int c) const {
    return IsNull(c) ? std::nullopt : std::optional<double>(Real(c));
  }
  std::optional<int64_t> OptInt(int c) const {
    return IsNull(c) ? std::nullopt : std::optional<int64_t>(Int(c));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

Status Exec(sqlite3* db, const char* sql, const std::string& what) {
  ClearEnvError(db);
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    sqlite3_free(err);  // the same text as sqlite3_errmsg, which SqliteErrorWithEnv extends
    return Status::IOError(what + ": " + SqliteErrorWithEnv(db));
  }
  return Status::Ok();
}

Result<int64_t> QueryInt(sqlite3* db, const char* sql, const std::string& what) {
  Stmt s(db, sql);
  WATTLAB_RETURN_IF_ERROR(s.status(what));
  int rc = s.Step();
  if (rc != SQLITE_ROW) return Status::IOError(what + ": " + SqliteErrorWithEnv(db));
  return s.Int(0);
}

// Rolls back unless committed.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  Status Begin() { return Exec(db_, "BEGIN IMMEDIATE", "starting a transaction"); }
  Status Commit() {
    WATTLAB_RETURN_IF_ERROR(Exec(db_, "COMMIT", "committing"));
    done_ = true;
    return Status::Ok();
  }
  ~Transaction() {
    if (!done_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

 private:
  sqlite3* db_;
  bool done_ = false;
};

Status InsertRun(sqlite3* db, const std::string& path, const RunRecord& run);

int PhaseOrder(const std::string& p) { return p == "train" ? 0 : p == "eval" ? 1 : p == "infer" ? 2 : 3; }

json StudyContextJson(const StudyInfo& s) {
  json j;
  j["host"] = s.host;
  j["kernel"] = s.kernel;
  j["cpu"] = s.cpu;
  j["gpus"] = s.gpus;
  j["libtorch"] = s.libtorch;
  j["blas"] = s.blas;
  j["wattlab_version"] = s.wattlab_version;
  j["sources"] = s.sources;
  j["interval_s"] = s.interval_s;
  j["estimated"] = s.estimated;
  json facts = json::array();
  for (const auto& [k, v] : s.meter_facts) facts.push_back({k, v});
  j["meter_facts"] = facts;
  return j;
}

void StudyContextFromJson(const json& j, StudyInfo& s) {
  auto str = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; };
  s.host = str("host");
  s.kernel = str("kernel");
  s.cpu = str("cpu");
  s.libtorch = str("libtorch");
  s.blas = str("blas");
  s.wattlab_version = str("wattlab_version");
  if (j.contains("gpus") && j["gpus"].is_array())
    for (const auto& g : j["gpus"])
      if (g.is_string()) s.gpus.push_back(g.get<std::string>());
  if (j.contains("sources") && j["sources"].is_array())
    for (const auto& g : j["sources"])
      if (g.is_string()) s.sources.push_back(g.get<std::string>());
  if (j.contains("interval_s") && j["interval_s"].is_number()) s.interval_s = j["interval_s"].get<double>();
  if (j.contains("estimated") && j["estimated"].is_boolean()) s.estimated = j["estimated"].get<bool>();
  if (j.contains("meter_facts") && j["meter_facts"].is_array())
    for (const auto& f : j["meter_facts"])
      if (f.is_array() && f.size() == 2 && f[0].is_string() && f[1].is_string())
        s.meter_facts.emplace_back(f[0].get<std::string>(), f[1].get<std::string>());
}

std::string UnwritableMessage(Env* env, const std::string& path) {
  std::string dir = path;
  size_t slash = dir.find_last_of('/');
  dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : dir.substr(0, slash));
  auto st = env->Stat(dir);
  if (!st.ok() || st->kind == FileKind::kMissing)
    return "cannot create database " + path + ": directory " + dir +
           " does not exist; create it or pass another --db";
  if (!env->CheckWritable(path).ok())
    return "cannot create database " + path + ": directory " + dir + " is not writable (" +
           std::strerror(EACCES) + "); pass --db with a writable path";
  return "cannot open database " + path + " for writing; pass --db with a writable path";
}

std::string DirOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

uint32_t BigEndian(const std::string& b, size_t at, size_t n) {
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  return v;
}

// The first bytes of an existing file, read through the Env (never written).
Result<std::string> ReadHead(Env* env, const std::string& path, size_t n) {
  WATTLAB_ASSIGN_OR_RETURN(auto f, env->OpenForRead(path));
  std::string head(n, '\0');
  size_t got = 0;
  while (got < n) {
    WATTLAB_ASSIGN_OR_RETURN(size_t r, f->PRead(got, head.data() + got, n - got));
    if (r == 0) break;
    got += r;
  }
  head.resize(got);
  return head;
}

// What a file's first bytes look like, for "it starts with ..." messages.
std::string Printable(const std::string& head) {
  std::string out;
  for (char c : head.substr(0, 24)) out += (c >= 32 && c < 127) ? c : '.';
  return out;
}

constexpr char kSqliteMagic[] = "SQLite format 3";  // + NUL: 16 bytes

// The diagnoses that need no SQLite (docs/reliability.md): a file that is not
// a regular file, not SQLite at all, or cut short. Reads only.
Status DiagnoseBeforeOpen(Env* env, const std::string& path, const FileInfo& info, bool* empty_file) {
  *empty_file = false;
  if (info.kind == FileKind::kDirectory)
    return Status::InvalidArgument(path + " is a directory, not a database file: pass --db FILE");
  if (info.kind == FileKind::kOther)
    return Status::InvalidArgument(path +
                                   " is not a regular file (a device, FIFO or socket such as /dev/null): a "
                                   "database must be a file; pass --db FILE");
  auto head = ReadHead(env, path, 100);
  if (!head.ok()) return Status::IOError("cannot read database " + path + ": " + head.status().message());
  if (head->empty()) {
    *empty_file = true;
    return Status::Ok();
  }
  if (info.size_bytes == 0)
    return Status::InvalidArgument(
        path +
        " is not a database: a special file whose size reads 0 but which has "
        "content (under /proc or /sys?); pass --db with a file `wattlab study` wrote");
  const size_t magic = std::min(head->size(), sizeof kSqliteMagic);  // the 16 bytes, NUL included
  if (head->compare(0, magic, kSqliteMagic, magic) != 0)
    return Status::Corruption(path + " is not a wattlab database: not an SQLite file (it starts with \"" +
                              Printable(*head) + "\"); pass --db with a file `wattlab study` wrote");
  if (head->size() < 100)
    return Status::Corruption(
        path + " is corrupt: truncated to " + std::to_string(head->size()) +
        " bytes, shorter than an SQLite header; restore it from a copy or pass another --db");
  uint32_t page_size = BigEndian(*head, 16, 2);
  if (page_size == 1) page_size = 65536;
  const uint32_t pages = BigEndian(*head, 28, 4);
  // The in-header size is valid when its "version valid for" matches the change counter.
  const bool size_valid = pages > 0 && BigEndian(*head, 92, 4) == BigEndian(*head, 24, 4);
  // A checkpoint cut short (the disk filled while pages were copied back)
  // leaves the file shorter than its header while the WAL still holds every
  // page: SQLite recovers that, so only a file without a WAL is judged here.
  auto wal = env->Stat(path + "-wal");
  const bool has_wal = wal.ok() && wal->kind == FileKind::kRegular && wal->size_bytes > 0;
  if (size_valid && !has_wal && page_size >= 512 &&
      static_cast<uint64_t>(pages) * page_size > info.size_bytes)
    return Status::Corruption(path + " is corrupt: truncated to " + std::to_string(info.size_bytes) +
                              " bytes, but its header says " + std::to_string(pages) + " pages of " +
                              std::to_string(page_size) +
                              " bytes; restore it from a copy or pass another --db");
  return Status::Ok();
}

// A query failed on an SQLite file: integrity_check says whether it is corrupt.
Status CorruptOr(sqlite3* db, const std::string& path, Status otherwise) {
  Stmt s(db, "PRAGMA quick_check(1)");
  std::string verdict;
  if (s.status("checking").ok()) {
    int rc = s.Step();
    if (rc == SQLITE_ROW)
      verdict = s.Text(0);
    else
      verdict = sqlite3_errmsg(db);
  } else {
    verdict = sqlite3_errmsg(db);
  }
  if (verdict == "ok") return otherwise;
  return Status::Corruption(path + " is corrupt (integrity_check: " + verdict +
                            "); restore it from a copy or pass another --db");
}

}  // namespace

Store::Store(sqlite3* db, std::string path, int schema_version, std::unique_ptr<EnvVfs> vfs)
    : vfs_(std::move(vfs)), db_(db), path_(std::move(path)), schema_version_(schema_version) {}

Store::~Store() {
  // Every statement is finalized by now, so the connection closes at once and
  // the VFS can go. Should one be left, keep the VFS alive (leak it) rather
  // than pull it from under a zombie connection.
  if (sqlite3_close(db_) != SQLITE_OK) {
    sqlite3_close_v2(db_);
    (void)vfs_.release();
  }
}

Result<std::unique_ptr<Store>> Store::Open(Env* env, const std::string& path, OpenMode mode) {
  if (path.empty()) return Status::InvalidArgument("empty database path: pass --db FILE");
  if (!env) return Status::InvalidArgument("Store::Open needs an Env");
  WATTLAB_ASSIGN_OR_RETURN(FileInfo info, env->Stat(path));
  bool exists = info.kind != FileKind::kMissing;
  if (!exists && mode != OpenMode::kCreate)
    return Status::NotFound("no database at " + path + ": run `wattlab study` first or pass --db");
  // Everything that can be told from the bytes is told before SQLite opens
  // (and so before it could create a journal beside a device).
  bool empty_file = false;
  if (exists) WATTLAB_RETURN_IF_ERROR(DiagnoseBeforeOpen(env, path, info, &empty_file));
  if (mode == OpenMode::kReadOnly && empty_file)
    return Status::Corruption(path +
                              " is not a wattlab database (an empty file): no study was written to it; run "
                              "`wattlab study --db " +
                              path + "`");
  if (mode != OpenMode::kReadOnly && exists && !env->CheckWritable(path).ok())
    return Status::IOError("database " + path + " is not writable: fix its permissions or pass another --db");
  const std::string dir = DirOf(path);
  // A WAL database needs PATH-shm (and PATH-wal) beside it, even to be read.
  std::string notice;
  bool immutable = false;
  if (exists && !empty_file && !env->CheckWritable(path + "-shm").ok()) {
    WATTLAB_ASSIGN_OR_RETURN(FileInfo wal, env->Stat(path + "-wal"));
    if (mode != OpenMode::kReadOnly)
      return Status::IOError("the directory " + dir + " of database " + path +
                             " is not writable, and SQLite needs to create " + path + "-wal and " + path +
                             "-shm there: fix its permissions or copy the database to a writable directory");
    if (wal.kind == FileKind::kRegular && wal.size_bytes > 0)
      return Status::FailedPrecondition("database " + path + " has unmerged changes in " + path +
                                        "-wal, which cannot be read without creating " + path +
                                        "-shm, and the directory " + dir +
                                        " is not writable: copy the database with its -wal file to a "
                                        "writable directory");
    immutable = true;
    notice = "the directory " + dir + " is not writable (a WAL database needs " + path +
             "-shm beside it), so " + path + " was opened read-only and immutable";
  }

  WATTLAB_ASSIGN_OR_RETURN(auto vfs, EnvVfs::Create(env));
  int flags = mode == OpenMode::kReadOnly    ? SQLITE_OPEN_READONLY
              : mode == OpenMode::kReadWrite ? SQLITE_OPEN_READWRITE
                                             : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  std::string target = path;
  if (immutable) {
    // file: URI; '%', '?' and '#' would be read as URI syntax.
    std::string esc;
    for (char c : path) {
      if (c == '%' || c == '?' || c == '#') {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
        esc += buf;
      } else {
        esc += c;
      }
    }
    target = "file:" + esc + "?immutable=1";
    flags |= SQLITE_OPEN_URI;
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(target.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, vfs->name());
  if (rc != SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (std::string e = vfs->TakeError(); !e.empty()) m += " (" + e + ")";
    sqlite3_close_v2(db);
    if (!exists) return Status::IOError(UnwritableMessage(env, path) + " (" + m + ")");
    return Status::IOError("cannot open database " + path + ": " + m);
  }
  std::unique_ptr<Store> store(new Store(db, path, 0, std::move(vfs)));
  sqlite3_busy_timeout(db, 5000);

  store->notice_ = notice;

  // The header was checked above; a failure now is damage further in.
  auto app = QueryInt(db, "PRAGMA application_id", "reading " + path);
  if (!app.ok()) return CorruptOr(db, path, app.status());
  auto ver = QueryInt(db, "PRAGMA user_version", "reading " + path);
  if (!ver.ok()) return CorruptOr(db, path, ver.status());
  auto tables = QueryInt(db, "SELECT count(*) FROM sqlite_master", "reading " + path);
  if (!tables.ok())
    return CorruptOr(
        db, path,
        Status::Corruption(path + " is not a wattlab database (" + tables.status().message() + ")"));
  if (*tables > 0 && mode == OpenMode::kReadOnly) {
    // Damage in a table the queries above did not touch.
    Status c = CorruptOr(db, path, Status::Ok());
    if (!c.ok()) return c;
  }
  bool empty = *tables == 0 && *ver == 0;
  if (!empty && *app != kApplicationId)
    return Status::Corruption(path +
                              " is not a wattlab database (an SQLite file of another application): pass --db "
                              "with a file `wattlab study` wrote");
  if (*ver > kStoreSchemaVersion)
    return Status::FailedPrecondition("database schema v" + std::to_string(*ver) +
                                      " is newer than this wattlab (v" + std::to_string(kStoreSchemaVersion) +
                                      "): upgrade wattlab");
  if (mode == OpenMode::kReadOnly) {
    if (empty) return Status::Corruption(path + " is not a wattlab database (an empty SQLite file)");
    if (*ver < kStoreSchemaVersion)
      return Status::FailedPrecondition(
          "database " + path + " has schema v" + std::to_string(*ver) + ", older than this wattlab's v" +
          std::to_string(kStoreSchemaVersion) + ": open it read-write once (e.g. `wattlab runs --db " + path +
          "` on a writable copy) to migrate it");
    store->schema_version_ = (int)*ver;
    return store;
  }

  // WAL: readers never block the writer, and a killed writer leaves no torn run.
  {
    Stmt wal(db, "PRAGMA journal_mode=WAL");
    WATTLAB_RETURN_IF_ERROR(wal.status("setting WAL mode on " + path));
    wal.Step();
  }
  WATTLAB_RETURN_IF_ERROR(
      Exec(db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", "configuring " + path));

  for (int64_t v = *ver; v < kStoreSchemaVersion; ++v) {
    Transaction tx(db);
    Status s = tx.Begin();
    if (!s.ok()) {
      if (!exists) return Status::IOError(UnwritableMessage(env, path));
      return s.WithContext("migrating " + path);
    }
    WATTLAB_RETURN_IF_ERROR(
        Exec(db, kMigrations[v], "migrating " + path + " to schema v" + std::to_string(v + 1)));
    std::string pragmas = "PRAGMA application_id=" + std::to_string(kApplicationId) +
                          "; PRAGMA user_version=" + std::to_string(v + 1);
    WATTLAB_RETURN_IF_ERROR(Exec(db, pragmas.c_str(), "migrating " + path));
    WATTLAB_RETURN_IF_ERROR(tx.Commit());
  }
  store->schema_version_ = kStoreSchemaVersion;
  return store;
}

Status Store::CheckForWriting(Env* env, const std::string& path) {
  if (path.empty()) return Status::InvalidArgument("empty database path: pass --db FILE");
  WATTLAB_ASSIGN_OR_RETURN(FileInfo info, env->Stat(path));
  if (info.kind == FileKind::kMissing) {
    if (!env->CheckWritable(path).ok()) return Status::IOError(UnwritableMessage(env, path));
    return Status::Ok();
  }
  bool empty_file = false;
  WATTLAB_RETURN_IF_ERROR(DiagnoseBeforeOpen(env, path, info, &empty_file));
  if (!env->CheckWritable(path).ok())
    return Status::IOError("database " + path + " is not writable: fix its permissions or pass another --db");
  if (!env->CheckWritable(path + "-shm").ok())
    return Status::IOError("the directory " + DirOf(path) + " of database " + path +
                           " is not writable, and SQLite needs to create " + path + "-wal and " + path +
                           "-shm there: fix its permissions or copy the database to a writable directory");
  if (empty_file) return Status::Ok();
  WATTLAB_ASSIGN_OR_RETURN(auto vfs, EnvVfs::Create(env));
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, vfs->name());
  if (rc != SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    return Status::IOError("cannot open database " + path + ": " + m);
  }
  Status result = [&]() -> Status {
    auto app = QueryInt(db, "PRAGMA application_id", "reading " + path);
    if (!app.ok()) return CorruptOr(db, path, app.status());
    auto ver = QueryInt(db, "PRAGMA user_version", "reading " + path);
    if (!ver.ok()) return CorruptOr(db, path, ver.status());
    auto tables = QueryInt(db, "SELECT count(*) FROM sqlite_master", "reading " + path);
    if (!tables.ok()) return CorruptOr(db, path, tables.status());
    if (!(*tables == 0 && *ver == 0) && *app != kApplicationId)
      return Status::Corruption(path +
                                " is not a wattlab database (an SQLite file of another application): pass "
                                "--db with a file `wattlab study` wrote");
    if (*ver > kStoreSchemaVersion)
      return Status::FailedPrecondition("database schema v" + std::to_string(*ver) +
                                        " is newer than this wattlab (v" +
                                        std::to_string(kStoreSchemaVersion) + "): upgrade wattlab");
    return Status::Ok();
  }();
  sqlite3_close(db);
  return result;
}

std::string StudyLockPath(const std::string& db_path, const std::string& study) {
  std::string safe;
  for (char c : study)
    safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') ? c : '_';
  return db_path + "." + safe + ".lock";
}

Result<std::unique_ptr<FileLock>> LockStudy(Env* env, const std::string& db_path, const std::string& study) {
  const std::string lock_path = StudyLockPath(db_path, study);
  const std::string holder =
      "host " + env->HostName() + " pid " + std::to_string(env->Pid()) + " study " + study;
  auto got = env->TryLockFile(lock_path, holder);
  if (!got.ok()) return got.status().WithContext("locking study '" + study + "' of " + db_path);
  if (got->lock) return std::move(got->lock);
  // "host H pid N study X", as written above.
  std::string host = "?", pid = "?";
  const auto words = [&] {
    std::vector<std::string> w;
    std::string cur;
    for (char c : got->holder) {
      if (c == ' ') {
        if (!cur.empty()) w.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    if (!cur.empty()) w.push_back(cur);
    return w;
  }();
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    if (words[i] == "host") host = words[i + 1];
    if (words[i] == "pid") pid = words[i + 1];
  }
  return Status::FailedPrecondition("another wattlab (host " + host + ", pid " + pid + ") is running study " +
                                    study + " on " + db_path + "; wait for it to finish or stop it (lock " +
                                    lock_path + ")");
}

// ---------------------------------------------------------------- reads

Result<std::vector<RunRow>> Store::ReadRows(const std::string& study) {
  std::string sql =
      "SELECT w.study, w.run_id, r.config_id, r.repetition, r.model, w.phase, w.window, w.batch_size, "
      "w.threads,"
      " w.precision, w.params, w.macs, w.macs_per_param, w.steps, w.samples, w.duration_s, w.energy_j,"
      " w.energy_above_idle_j, w.extrapolated_energy_j, w.cpu_util, w.source, w.estimated, w.accuracy,"
      " w.idle_busy, w.gpu_power_limit_w, w.cpu_power_limit_w, w.cpu_max_freq_mhz, w.omp_wait_policy,"
      " r.host, s.context_json"
      " FROM windows w JOIN runs r ON r.study = w.study AND r.run_id = w.run_id"
      " JOIN studies s ON s.name = w.study";
  if (!study.empty()) sql += " WHERE w.study = ?1";
  sql +=
      " ORDER BY s.started_at, w.study, w.run_id,"
      " CASE w.phase WHEN 'train' THEN 0 WHEN 'eval' THEN 1 WHEN 'infer' THEN 2 ELSE 3 END,"
      " CASE w.window WHEN 'profile' THEN 0 WHEN 'full' THEN 1 ELSE 2 END, w.window";
  Stmt s(db_, sql.c_str());
  WATTLAB_RETURN_IF_ERROR(s.status("reading runs from " + path_));
  if (!study.empty()) s.Bind(1, study);
  std::vector<RunRow> rows;
  std::map<std::string, std::optional<std::string>> study_hosts;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    RunRow r;
    r.study = s.Text(0);
    r.run_id = s.Int(1);
    r.config_id = s.Text(2);
    r.repetition = s.Int(3);
    r.model = s.Text(4);
    r.phase = s.Text(5);
    r.window = s.Text(6);
    r.batch_size = s.Int(7);
    r.threads = s.Int(8);
    r.precision = s.Text(9);
    r.params = s.Int(10);
    r.macs = s.Int(11);
    r.macs_per_param = s.Real(12);
    r.steps = s.OptInt(13);
    r.samples = s.Int(14);
    r.duration_s = s.Real(15);
    r.energy_j = s.Real(16);
    r.energy_above_idle_j = s.OptReal(17);
    r.extrapolated_energy_j = s.OptReal(18);
    r.cpu_util = s.OptReal(19);
    r.source = s.Text(20);
    r.estimated = s.Int(21) != 0;
    r.accuracy = s.OptReal(22);
    if (auto busy = s.OptInt(23)) r.idle_busy = *busy != 0;
    r.gpu_power_limit_w = s.OptReal(24);
    r.cpu_power_limit_w = s.OptReal(25);
    r.cpu_max_freq_mhz = s.OptReal(26);
    r.omp_wait_policy = s.Text(27);
    r.host = s.Text(28);
    if (r.host.empty()) {
      // Runs before v7 (or without a host): the study's machine.
      auto& h = study_hosts[r.study];
      if (!h) {
        json ctx = json::parse(s.Text(29), nullptr, false);
        h = ctx.is_object() && ctx.contains("host") && ctx["host"].is_string()
                ? ctx["host"].get<std::string>()
                : std::string();
      }
      r.host = *h;
    }
    rows.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE)
    return Status::IOError("reading runs from " + path_ + ": " + SqliteErrorWithEnv(db_));
  return rows;
}

Result<std::vector<StudyInfo>> Store::ReadStudies() {
  Stmt s(db_, schema_version_ >= 7
                  ? "SELECT name, spec_toml, started_at, finished_at, context_json, spec_hash FROM studies"
                    " ORDER BY started_at, name"
                  : "SELECT name, spec_toml, started_at, finished_at, context_json, NULL FROM studies"
                    " ORDER BY started_at, name");
  WATTLAB_RETURN_IF_ERROR(s.status("reading studies from " + path_));
  std::vector<StudyInfo> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    StudyInfo info;
    info.name = s.Text(0);
    info.spec_toml = s.Text(1);
    info.started_at_unix_s = s.Real(2);
    info.finished_at_unix_s = s.OptReal(3);
    json ctx = json::parse(s.Text(4), nullptr, false);
    if (ctx.is_discarded())
      return Status::Corruption("study '" + info.name + "' in " + path_ + " has an unreadable context");
    StudyContextFromJson(ctx, info);
    info.spec_hash = s.IsNull(5) ? SpecHash(info.spec_toml) : s.Text(5);
    out.push_back(std::move(info));
  }
  if (rc != SQLITE_DONE)
    return Status::IOError("reading studies from " + path_ + ": " + SqliteErrorWithEnv(db_));
  if (schema_version_ >= 2) {
    const bool v3 = schema_version_ >= 3;
    Stmt b(
        db_,
        schema_version_ >= 7
            ? "SELECT study, unix_s, power_w, cpu_util, busy, host FROM idle_baselines ORDER BY unix_s, rowid"
        : v3 ? "SELECT study, unix_s, power_w, cpu_util, busy FROM idle_baselines ORDER BY unix_s, rowid"
             : "SELECT study, unix_s, power_w FROM idle_baselines ORDER BY unix_s, rowid");
    WATTLAB_RETURN_IF_ERROR(b.status("reading idle baselines from " + path_));
    while (b.Step() == SQLITE_ROW) {
      std::string name = b.Text(0);
      IdleBaselineRecord rec;
      rec.unix_s = b.Real(1);
      rec.power_w = b.Real(2);
      if (v3) {
        rec.cpu_util = b.OptReal(3);
        rec.busy = b.Int(4) != 0;
      }
      if (schema_version_ >= 7) rec.host = b.Text(5);
      for (auto& info : out)
        if (info.name == name) info.idle_baselines.push_back(rec);
    }
  }
  return out;
}

Result<std::optional<StudyInfo>> Store::ReadStudy(const std::string& name) {
  WATTLAB_ASSIGN_OR_RETURN(auto all, ReadStudies());
  for (auto& s : all)
    if (s.name == name) return std::optional<StudyInfo>(std::move(s));
  return std::optional<StudyInfo>();
}

Result<std::vector<RunTimeline>> Store::ReadTimelines(const std::string& study) {
  std::vector<RunTimeline> out;
  if (schema_version_ < 2) return out;
  std::string sql = "SELECT run_id, model, t_s_json, power_w_json, spans_json FROM timelines";
  if (!study.empty()) sql += " WHERE study = ?1";
  sql += " ORDER BY study, run_id";
  Stmt s(db_, sql.c_str());
  WATTLAB_RETURN_IF_ERROR(s.status("reading timelines from " + path_));
  if (!study.empty()) s.Bind(1, study);
  while (s.Step() == SQLITE_ROW) {
    RunTimeline t;
    t.run_id = s.Int(0);
    t.model = s.Text(1);
    json ts = json::parse(s.Text(2), nullptr, false), pw = json::parse(s.Text(3), nullptr, false),
         sp = json::parse(s.Text(4), nullptr, false);
    if (!ts.is_array() || !pw.is_array() || !sp.is_array())
      return Status::Corruption("timeline of run " + std::to_string(t.run_id) + " in " + path_ +
                                " is unreadable");
    for (const auto& v : ts) t.t_s.push_back(v.is_number() ? v.get<double>() : 0.0);
    for (const auto& v : pw) t.power_w.push_back(v.is_number() ? v.get<double>() : 0.0);
    for (const auto& v : sp) {
      RunTimeline::Span span;
      span.name = v.value("name", "");
      span.start_s = v.value("start_s", 0.0);
      span.end_s = v.value("end_s", 0.0);
      t.windows.push_back(std::move(span));
    }
    out.push_back(std::move(t));
  }
  return out;
}

Result<std::vector<DomainEnergyRow>> Store::ReadDomainEnergy(const std::string& study, int64_t run_id) {
  std::vector<DomainEnergyRow> out;
  if (schema_version_ < 2) return out;
  Stmt s(db_,
         "SELECT phase, window, domain, source, component, in_total, estimated, energy_j, mean_power_w"
         " FROM domain_energy WHERE study = ?1 AND run_id = ?2 ORDER BY rowid");
  WATTLAB_RETURN_IF_ERROR(s.status("reading domain energy from " + path_));
  s.Bind(1, study);
  s.Bind(2, run_id);
  while (s.Step() == SQLITE_ROW) {
    DomainEnergyRow d;
    d.phase = s.Text(0);
    d.window = s.Text(1);
    d.domain = s.Text(2);
    d.source = s.Text(3);
    d.component = s.Text(4);
    d.in_total = s.Int(5) != 0;
    d.estimated = s.Int(6) != 0;
    d.energy_j = s.Real(7);
    d.mean_power_w = s.Real(8);
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<PowerLimitCandidateRow>> Store::ReadPowerLimitCandidates(const std::string& study,
                                                                            int64_t run_id) {
  std::vector<PowerLimitCandidateRow> out;
  if (schema_version_ < 4) return out;
  Stmt s(db_,
         "SELECT limit_w, objective, steps, dropped_steps, mean_step_s, step_s_half_width, step_energy_j,"
         " step_energy_half_width_j, converged, eligible, objective_value, chosen"
         " FROM power_limit_candidates WHERE study = ?1 AND run_id = ?2 ORDER BY limit_w DESC");
  WATTLAB_RETURN_IF_ERROR(s.status("reading power-limit candidates from " + path_));
  s.Bind(1, study);
  s.Bind(2, run_id);
  while (s.Step() == SQLITE_ROW) {
    PowerLimitCandidateRow c;
    c.limit_w = s.Real(0);
    c.objective = s.Text(1);
    c.steps = s.Int(2);
    c.dropped_steps = s.Int(3);
    c.mean_step_s = s.Real(4);
    c.step_s_half_width = s.Real(5);
    c.step_energy_j = s.Real(6);
    c.step_energy_half_width_j = s.Real(7);
    c.converged = s.Int(8) != 0;
    c.eligible = s.Int(9) != 0;
    c.objective_value = s.OptReal(10);
    c.chosen = s.Int(11) != 0;
    out.push_back(std::move(c));
  }
  return out;
}

// ---------------------------------------------------------------- writes

Status Store::UpsertStudy(const StudyInfo& info) {
  if (info.name.empty()) return Status::InvalidArgument("a study needs a name");
  Stmt s(
      db_,
      "INSERT INTO studies(name, spec_toml, started_at, finished_at, context_json, spec_hash)"
      " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(name) DO UPDATE SET context_json = excluded.context_json,"
      " finished_at = NULL, spec_hash = COALESCE(spec_hash, excluded.spec_hash)");
  WATTLAB_RETURN_IF_ERROR(s.status("writing study to " + path_));
  s.Bind(1, info.name);
  s.Bind(2, info.spec_toml);
  s.Bind(3, info.started_at_unix_s);
  s.Bind(4, info.finished_at_unix_s);
  s.Bind(5, StudyContextJson(info).dump());
  s.Bind(6, SpecHash(info.spec_toml));
  if (s.Step() != SQLITE_DONE)
    return Status::IOError("writing study to " + path_ + ": " + SqliteErrorWithEnv(db_));
  return Status::Ok();
}

Status Store::AddIdleBaseline(const std::string& study, double unix_s, double idle_power_w) {
  IdleBaselineRecord b;
  b.unix_s = unix_s;
  b.power_w = idle_power_w;
  return AddIdleBaseline(study, b);
}

Status Store::AddIdleBaseline(const std::string& study, const IdleBaselineRecord& baseline) {
  Stmt s(db_,
         "INSERT INTO idle_baselines(study, unix_s, power_w, cpu_util, busy, host)"
         " VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
  WATTLAB_RETURN_IF_ERROR(s.status("writing idle baseline to " + path_));
  s.Bind(1, study);
  s.Bind(2, baseline.unix_s);
  s.Bind(3, baseline.power_w);
  s.Bind(4, baseline.cpu_util);
  s.Bind(5, baseline.busy);
  if (!baseline.host.empty()) s.Bind(6, baseline.host);
  if (s.Step() != SQLITE_DONE)
    return Status::IOError("writing idle baseline to " + path_ + ": " + SqliteErrorWithEnv(db_));
  return Status::Ok();
}

Status Store::FinishStudy(const std::string& study, double finished_at_unix_s) {
  Stmt s(db_, "UPDATE studies SET finished_at = ?2 WHERE name = ?1");
  WATTLAB_RETURN_IF_ERROR(s.status("finishing study in " + path_));
  s.Bind(1, study);
  s.Bind(2, finished_at_unix_s);
  if (s.Step() != SQLITE_DONE)
    return Status::IOError("finishing study in " + path_ + ": " + SqliteErrorWithEnv(db_));
  return Status::Ok();
}

Status Store::RecordFailedRun(const FailedRun& f) {
  Stmt s(db_,
         "INSERT INTO failed_runs (study, run_id, model, failed_at, message, stderr_tail) "
         "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  WATTLAB_RETURN_IF_ERROR(s.status("recording a failed run in " + path_));
  s.Bind(1, f.study);
  s.Bind(2, f.run_id);
  s.Bind(3, f.model);
  s.Bind(4, f.failed_at_unix_s);
  s.Bind(5, f.message);
  std::string tail;
  for (const auto& l : f.stderr_tail) tail += l + "\n";
  s.Bind(6, tail);
  if (s.Step() != SQLITE_DONE)
    return Status::IOError("recording a failed run in " + path_ + ": " + SqliteErrorWithEnv(db_));
  return Status::Ok();
}

Result<std::vector<FailedRun>> Store::ReadFailedRuns(const std::string& study) {
  Stmt s(db_,
         "SELECT study, run_id, model, failed_at, message, stderr_tail FROM failed_runs "
         "WHERE ?1 = '' OR study = ?1 ORDER BY failed_at, rowid");
  WATTLAB_RETURN_IF_ERROR(s.status("reading failed runs from " + path_));
  s.Bind(1, study);
  std::vector<FailedRun> out;
  while (s.Step() == SQLITE_ROW) {
    FailedRun f;
    f.study = s.Text(0);
    f.run_id = s.Int(1);
    f.model = s.Text(2);
    f.failed_at_unix_s = s.Real(3);
    f.message = s.Text(4);
    std::string tail = s.Text(5);
    size_t start = 0;
    while (start < tail.size()) {
      size_t nl = tail.find('\n', start);
      if (nl == std::string::npos) nl = tail.size();
      f.stderr_tail.push_back(tail.substr(start, nl - start));
      start = nl + 1;
    }
    out.push_back(std::move(f));
  }
  return out;
}

namespace {
nlohmann::json PointsToJson(const std::vector<CalibrationPoint>& points) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& p : points)
    a.push_back({{"kind", p.op.kind},
                 {"op", p.op.op},
                 {"work", p.op.work},
                 {"bytes", p.op.bytes},
                 {"weight_elements", p.op.weight_elements},
                 {"reduce", p.op.reduce},
                 {"kernel", p.op.kernel},
                 {"groups", p.op.groups},
                 {"batch", p.batch},
                 {"forward_s", p.forward_s},
                 {"train_s", p.train_s},
                 {"train_first_s", p.train_first_s},
                 {"forward_packed", p.forward_packed},
                 {"forward_plain_s", p.forward_plain_s}});
  return a;
}

Result<std::vector<CalibrationPoint>> PointsFromJson(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_array()) return Status::Corruption("calibration points are not a JSON array");
  std::vector<CalibrationPoint> out;
  try {
    for (const auto& e : j) {
      CalibrationPoint p;
      p.op.kind = e.at("kind").get<std::string>();
      p.op.op = e.at("op").get<std::string>();
      p.op.work = e.at("work").get<int64_t>();
      p.op.bytes = e.at("bytes").get<int64_t>();
      p.op.weight_elements = e.at("weight_elements").get<int64_t>();
      p.op.reduce = e.at("reduce").get<int64_t>();
      p.op.kernel = e.at("kernel").get<int64_t>();
      p.op.groups = e.at("groups").get<int64_t>();
      p.batch = e.at("batch").get<int64_t>();
      p.forward_s = e.at("forward_s").get<double>();
      p.train_s = e.at("train_s").get<double>();
      p.train_first_s = e.value("train_first_s", 0.0);      // absent before it was measured
      p.forward_packed = e.value("forward_packed", false);  // absent before packing
      p.forward_plain_s = e.value("forward_plain_s", 0.0);
      out.push_back(std::move(p));
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::Corruption(std::string("a calibration point is malformed: ") + e.what());
  }
  return out;
}

}  // namespace

Result<int64_t> Store::SaveCalibration(const CalibrationRow& c) {
  Stmt s(db_,
         "INSERT INTO calibrations (created_at, host, cpu, libtorch, blas, wait_policy, threads, precision, "
         "shapes, duration_s, points_json) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
  WATTLAB_RETURN_IF_ERROR(s.status("saving a calibration in " + path_));
  s.Bind(1, c.created_unix_s);
  s.Bind(2, c.host);
  s.Bind(3, c.cpu);
  s.Bind(4, c.libtorch);
  s.Bind(5, c.blas);
  s.Bind(6, c.wait_policy);
  s.Bind(7, c.threads);
  s.Bind(8, c.precision);
  s.Bind(9, c.shapes);
  s.Bind(10, c.duration_s);
  s.Bind(11, PointsToJson(c.points).dump());
  if (s.Step() != SQLITE_DONE)
    return Status::IOError("saving a calibration in " + path_ + ": " + SqliteErrorWithEnv(db_));
  return static_cast<int64_t>(sqlite3_last_insert_rowid(db_));
}

Result<std::vector<CalibrationRow>> Store::ReadCalibrations() {
  std::vector<CalibrationRow> out;
  if (schema_version_ < 8) return out;
  Stmt s(db_,
         "SELECT calibration_id, created_at, host, cpu, libtorch, blas, wait_policy, threads, precision, "
         "shapes, duration_s, points_json FROM calibrations ORDER BY created_at, calibration_id");
  WATTLAB_RETURN_IF_ERROR(s.status("reading calibrations from " + path_));
  while (s.Step() == SQLITE_ROW) {
    CalibrationRow c;
    c.id = s.Int(0);
    c.created_unix_s = s.Real(1);
    c.host = s.Text(2);
    c.cpu = s.Text(3);
    c.libtorch = s.Text(4);
    c.blas = s.Text(5);
    c.wait_policy = s.Text(6);
    c.threads = s.Int(7);
    c.precision = s.Text(8);
    c.shapes = s.Text(9);
    c.duration_s = s.Real(10);
    auto points = PointsFromJson(s.Text(11));
    if (!points.ok())
      return points.status().WithContext("calibration " + std::to_string(c.id) + " in " + path_);
    c.points = std::move(*points);
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::map<std::string, std::string>> Store::ReadModelInputs(const std::string& study) {
  Stmt s(db_,
         "SELECT model, json_extract(facts_json, '$.input') FROM runs WHERE (?1 = '' OR study = ?1) "
         "ORDER BY study, run_id");
  WATTLAB_RETURN_IF_ERROR(s.status("reading model inputs from " + path_));
  s.Bind(1, study);
  std::map<std::string, std::string> out;
  while (s.Step() == SQLITE_ROW) {
    std::string input = s.Text(1);
    if (!input.empty()) out[s.Text(0)] = input;
  }
  return out;
}

Result<std::map<std::string, int64_t>> Store::ReadConvWeights(const std::string& study) {
  Stmt s(db_,
         "SELECT CASE WHEN json_extract(config_json, '$.conv_weights.in_force') IS NULL THEN 'not recorded' "
         "WHEN json_extract(config_json, '$.conv_weights.in_force') = 'packed' THEN 'packed' "
         "ELSE 'plain (' || COALESCE(json_extract(config_json, '$.conv_weights.why'), 'why not recorded') || "
         "')' "
         "END, COUNT(*) FROM runs "
         "WHERE (?1 = '' OR study = ?1) AND json_valid(config_json) "
         "AND json_extract(config_json, '$.infer') = 1 AND json_type(config_json, '$.command') IS NULL "
         "GROUP BY 1");
  WATTLAB_RETURN_IF_ERROR(s.status("reading how inference ran its convolutions from " + path_));
  s.Bind(1, study);
  std::map<std::string, int64_t> out;
  while (s.Step() == SQLITE_ROW) out[s.Text(0)] = s.Int(1);
  return out;
}

Result<std::set<int64_t>> Store::CompletedRunIds(const std::string& study) {
  Stmt s(db_, "SELECT run_id FROM runs WHERE study = ?1");
  WATTLAB_RETURN_IF_ERROR(s.status("reading runs from " + path_));
  s.Bind(1, study);
  std::set<int64_t> ids;
  while (s.Step() == SQLITE_ROW) ids.insert(s.Int(0));
  return ids;
}

Status Store::WriteRun(const RunRecord& run) {
  if (!run.extras.empty() && run.extras.size() != run.rows.size())
    return Status::Internal("RunRecord.extras must be empty or parallel to rows");
  Transaction tx(db_);
  WATTLAB_RETURN_IF_ERROR(tx.Begin().WithContext(path_));
  WATTLAB_RETURN_IF_ERROR(InsertRun(db_, path_, run));
  return tx.Commit().WithContext(path_);
}

namespace {

// WriteRun's inserts, inside the caller's transaction.
Status InsertRun(sqlite3* db_, const std::string& path_, const RunRecord& run) {
  {
    Stmt e(db_, "SELECT 1 FROM runs WHERE study = ?1 AND run_id = ?2");
    WATTLAB_RETURN_IF_ERROR(e.status("writing run"));
    e.Bind(1, run.study);
    e.Bind(2, run.run_id);
    if (e.Step() == SQLITE_ROW)
      return Status::FailedPrecondition("run " + std::to_string(run.run_id) + " of study '" + run.study +
                                        "' is already in " + path_ + "; a run is never written twice");
  }
  {
    Stmt s(
        db_,
        "INSERT INTO runs(study, run_id, config_id, repetition, model, config_json, facts_json, started_at,"
        " finished_at, step_loss_json, host) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
    WATTLAB_RETURN_IF_ERROR(s.status("writing run to " + path_));
    s.Bind(1, run.study);
    s.Bind(2, run.run_id);
    s.Bind(3, run.config_id);
    s.Bind(4, run.repetition);
    s.Bind(5, run.model);
    s.Bind(6, run.config_json.empty() ? std::string("{}") : run.config_json);
    s.Bind(7, run.facts_json.empty() ? std::string("{}") : run.facts_json);
    s.Bind(8, run.started_at_unix_s);
    s.Bind(9, run.finished_at_unix_s);
    json losses = json::array();
    for (double l : run.step_loss) losses.push_back(std::isfinite(l) ? json(l) : json(nullptr));
    s.Bind(10, losses.dump());
    if (!run.host.empty()) s.Bind(11, run.host);
    if (s.Step() != SQLITE_DONE)
      return Status::IOError("writing run to " + path_ + ": " + SqliteErrorWithEnv(db_) +
                             " (is the study written first with UpsertStudy?)");
  }
  {
    Stmt s(
        db_,
        "INSERT INTO windows(study, run_id, phase, window, batch_size, threads, precision, params, macs,"
        " macs_per_param, steps, samples, duration_s, energy_j, energy_above_idle_j, extrapolated_energy_j,"
        " cpu_util, source, estimated, accuracy, loss, idle_power_w, mean_power_w, meter_samples, idle_busy,"
        " gpu_power_limit_w, cpu_power_limit_w, cpu_max_freq_mhz, omp_wait_policy)"
        " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25,"
        "?26,?27,?28,?29)");
    WATTLAB_RETURN_IF_ERROR(s.status("writing windows to " + path_));
    for (size_t i = 0; i < run.rows.size(); ++i) {
      const RunRow& r = run.rows[i];
      if (PhaseOrder(r.phase) == 3)
        return Status::InvalidArgument("window phase '" + r.phase + "' is not one of train, eval, infer");
      s.Reset();
      s.Bind(1, run.study);
      s.Bind(2, run.run_id);
      s.Bind(3, r.phase);
      s.Bind(4, r.window);
      s.Bind(5, r.batch_size);
      s.Bind(6, r.threads);
      s.Bind(7, r.precision);
      s.Bind(8, r.params);
      s.Bind(9, r.macs);
      s.Bind(10, r.macs_per_param);
      s.Bind(11, r.steps);
      s.Bind(12, r.samples);
      s.Bind(13, r.duration_s);
      s.Bind(14, r.energy_j);
      s.Bind(15, r.energy_above_idle_j);
      s.Bind(16, r.extrapolated_energy_j);
      s.Bind(17, r.cpu_util);
      s.Bind(18, r.source);
      s.Bind(19, r.estimated);
      s.Bind(20, r.accuracy);
      if (!run.extras.empty()) {
        const WindowExtra& x = run.extras[i];
        s.Bind(21, x.loss);
        s.Bind(22, x.idle_power_w);
        s.Bind(23, x.mean_power_w);
        s.Bind(24, x.meter_samples);
      }
      s.Bind(25, r.idle_busy);
      s.Bind(26, r.gpu_power_limit_w);
      s.Bind(27, r.cpu_power_limit_w);
      s.Bind(28, r.cpu_max_freq_mhz);
      if (!r.omp_wait_policy.empty()) s.Bind(29, r.omp_wait_policy);
      if (s.Step() != SQLITE_DONE)
        return Status::IOError("writing window " + r.phase + "/" + r.window + " to " + path_ + ": " +
                               SqliteErrorWithEnv(db_));
    }
  }
  {
    Stmt s(db_,
           "INSERT INTO domain_energy(study, run_id, phase, window, domain, source, component, in_total, "
           "estimated,"
           " energy_j, mean_power_w) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
    WATTLAB_RETURN_IF_ERROR(s.status("writing domain energy to " + path_));
    for (const auto& d : run.domains) {
      s.Reset();
      s.Bind(1, run.study);
      s.Bind(2, run.run_id);
      s.Bind(3, d.phase);
      s.Bind(4, d.window);
      s.Bind(5, d.domain);
      s.Bind(6, d.source);
      s.Bind(7, d.component);
      s.Bind(8, d.in_total);
      s.Bind(9, d.estimated);
      s.Bind(10, d.energy_j);
      s.Bind(11, d.mean_power_w);
      if (s.Step() != SQLITE_DONE)
        return Status::IOError("writing domain energy to " + path_ + ": " + SqliteErrorWithEnv(db_));
    }
  }
  if (run.timeline) {
    Stmt s(db_,
           "INSERT INTO timelines(study, run_id, model, t_s_json, power_w_json, spans_json) "
           "VALUES(?1,?2,?3,?4,?5,?6)");
    WATTLAB_RETURN_IF_ERROR(s.status("writing timeline to " + path_));
    json ts = json::array(), pw = json::array(), sp = json::array();
    for (double v : run.timeline->t_s) ts.push_back(std::isfinite(v) ? v : 0.0);
    for (double v : run.timeline->power_w) pw.push_back(std::isfinite(v) ? v : 0.0);
    for (const auto& w : run.timeline->windows)
      sp.push_back({{"name", w.name}, {"start_s", w.start_s}, {"end_s", w.end_s}});
    s.Bind(1, run.study);
    s.Bind(2, run.run_id);
    s.Bind(3, run.model);
    s.Bind(4, ts.dump());
    s.Bind(5, pw.dump());
    s.Bind(6, sp.dump());
    if (s.Step() != SQLITE_DONE)
      return Status::IOError("writing timeline to " + path_ + ": " + SqliteErrorWithEnv(db_));
  }
  if (!run.power_limit_candidates.empty()) {
    Stmt s(db_,
           "INSERT INTO power_limit_candidates(study, run_id, limit_w, objective, steps, dropped_steps,"
           " mean_step_s, step_s_half_width, step_energy_j, step_energy_half_width_j, converged, eligible,"
           " objective_value, chosen) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)");
    WATTLAB_RETURN_IF_ERROR(s.status("writing power-limit candidates to " + path_));
    for (const PowerLimitCandidateRow& c : run.power_limit_candidates) {
      s.Reset();
      s.Bind(1, run.study);
      s.Bind(2, run.run_id);
      s.Bind(3, c.limit_w);
      s.Bind(4, c.objective);
      s.Bind(5, c.steps);
      s.Bind(6, c.dropped_steps);
      s.Bind(7, c.mean_step_s);
      s.Bind(8, c.step_s_half_width);
      s.Bind(9, c.step_energy_j);
      s.Bind(10, c.step_energy_half_width_j);
      s.Bind(11, c.converged);
      s.Bind(12, c.eligible);
      s.Bind(13, c.objective_value);
      s.Bind(14, c.chosen);
      if (s.Step() != SQLITE_DONE)
        return Status::IOError("writing power-limit candidate " + std::to_string(c.limit_w) + " W to " +
                               path_ + ": " + SqliteErrorWithEnv(db_));
    }
  }
  return Status::Ok();
}

}  // namespace

std::string SpecHash(const std::string& spec_toml) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : spec_toml) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

Status Store::RecordShard(const ShardRecord& shard) {
  if (shard.n < 1 || shard.k < 1 || shard.k > shard.n)
    return Status::InvalidArgument("shard " + std::to_string(shard.k) + "/" + std::to_string(shard.n) +
                                   " is not a shard: K/N needs 1 <= K <= N");
  Stmt s(
      db_,
      "INSERT INTO study_shards(study, shard_k, shard_n, spec_hash, host, started_at, finished_at, source_db)"
      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(study, shard_k, shard_n, started_at) DO UPDATE SET"
      " host = excluded.host, finished_at = COALESCE(excluded.finished_at, finished_at)");
  WATTLAB_RETURN_IF_ERROR(s.status("writing shard to " + path_));
  s.Bind(1, shard.study);
  s.Bind(2, shard.k);
  s.Bind(3, shard.n);
  s.Bind(4, shard.spec_hash);
  s.Bind(5, shard.host);
  s.Bind(6, shard.started_at_unix_s);
  s.Bind(7, shard.finished_at_unix_s);
  s.Bind(8, shard.source_db);
  if (s.Step() != SQLITE_DONE)
    return Status::IOError("writing shard to " + path_ + ": " + SqliteErrorWithEnv(db_));
  return Status::Ok();
}

Result<std::vector<ShardRecord>> Store::ReadShards(const std::string& study) {
  Stmt s(
      db_,
      "SELECT study, shard_k, shard_n, spec_hash, host, started_at, finished_at, source_db FROM study_shards"
      " WHERE ?1 = '' OR study = ?1 ORDER BY study, shard_n, shard_k, started_at");
  WATTLAB_RETURN_IF_ERROR(s.status("reading shards from " + path_));
  s.Bind(1, study);
  std::vector<ShardRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    ShardRecord r;
    r.study = s.Text(0);
    r.k = s.Int(1);
    r.n = s.Int(2);
    r.spec_hash = s.Text(3);
    r.host = s.Text(4);
    r.started_at_unix_s = s.Real(5);
    r.finished_at_unix_s = s.OptReal(6);
    r.source_db = s.Text(7);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE)
    return Status::IOError("reading shards from " + path_ + ": " + SqliteErrorWithEnv(db_));
  return out;
}

Result<StudyExport> Store::ExportStudy(const std::string& study) {
  StudyExport ex;
  ex.source = path_;
  WATTLAB_ASSIGN_OR_RETURN(auto info, ReadStudy(study));
  if (!info) return Status::NotFound("no study '" + study + "' in " + path_);
  ex.info = std::move(*info);
  for (auto& b : ex.info.idle_baselines)
    if (b.host.empty()) b.host = ex.info.host;
  WATTLAB_ASSIGN_OR_RETURN(ex.shards, ReadShards(study));
  WATTLAB_ASSIGN_OR_RETURN(ex.failed, ReadFailedRuns(study));
  const std::string what = "reading study '" + study + "' from " + path_;
  std::map<int64_t, size_t> at;  // run_id -> index in ex.runs
  {
    Stmt s(db_,
           "SELECT run_id, config_id, repetition, model, config_json, facts_json, started_at, finished_at,"
           " step_loss_json, host FROM runs WHERE study = ?1 ORDER BY run_id");
    WATTLAB_RETURN_IF_ERROR(s.status(what));
    s.Bind(1, study);
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      RunRecord r;
      r.study = study;
      r.run_id = s.Int(0);
      r.config_id = s.Text(1);
      r.repetition = s.Int(2);
      r.model = s.Text(3);
      r.config_json = s.Text(4);
      r.facts_json = s.Text(5);
      r.started_at_unix_s = s.Real(6);
      r.finished_at_unix_s = s.Real(7);
      json losses = json::parse(s.Text(8), nullptr, false);
      if (losses.is_array())
        for (const auto& l : losses) r.step_loss.push_back(l.is_number() ? l.get<double>() : std::nan(""));
      r.host = s.IsNull(9) || s.Text(9).empty() ? ex.info.host : s.Text(9);
      at[r.run_id] = ex.runs.size();
      ex.runs.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return Status::IOError(what + ": " + SqliteErrorWithEnv(db_));
  }
  {
    // Every window with its extras (ReadRows's columns and the v2 ones).
    WATTLAB_ASSIGN_OR_RETURN(auto rows, ReadRows(study));
    Stmt s(db_,
           "SELECT loss, idle_power_w, mean_power_w, meter_samples FROM windows"
           " WHERE study = ?1 AND run_id = ?2 AND phase = ?3 AND window = ?4");
    WATTLAB_RETURN_IF_ERROR(s.status(what));
    for (auto& row : rows) {
      auto it = at.find(row.run_id);
      if (it == at.end()) continue;
      s.Reset();
      s.Bind(1, study);
      s.Bind(2, row.run_id);
      s.Bind(3, row.phase);
      s.Bind(4, row.window);
      WindowExtra x;
      if (s.Step() == SQLITE_ROW) {
        x.loss = s.OptReal(0);
        x.idle_power_w = s.OptReal(1);
        x.mean_power_w = s.OptReal(2).value_or(0);
        x.meter_samples = s.OptInt(3).value_or(0);
      }
      RunRecord& rec = ex.runs[it->second];
      rec.rows.push_back(std::move(row));
      rec.extras.push_back(x);
    }
  }
  for (auto& rec : ex.runs) {
    WATTLAB_ASSIGN_OR_RETURN(rec.domains, ReadDomainEnergy(study, rec.run_id));
    WATTLAB_ASSIGN_OR_RETURN(rec.power_limit_candidates, ReadPowerLimitCandidates(study, rec.run_id));
  }
  WATTLAB_ASSIGN_OR_RETURN(auto timelines, ReadTimelines(study));
  for (auto& t : timelines) {
    auto it = at.find(t.run_id);
    if (it != at.end()) ex.runs[it->second].timeline = std::move(t);
  }
  return ex;
}

namespace {

// "2024-05-01 12:00:03 UTC": when a shard or run started, for messages.
std::string UtcText(double unix_s) {
  using namespace std::chrono;
  const sys_seconds t{seconds(static_cast<int64_t>(std::floor(unix_s)))};
  const auto day = floor<days>(t);
  const year_month_day ymd(day);
  const hh_mm_ss<seconds> hms(t - day);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02lld:%02lld:%02lld UTC", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long long>(hms.hours().count()), static_cast<long long>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()));
  return buf;
}

std::string ShardLabel(int64_t k, int64_t n) { return std::to_string(k) + "/" + std::to_string(n); }

std::string ShardOrigin(const ShardRecord& s, const std::string& here) {
  return (s.source_db.empty() ? here : s.source_db) + " (host " + s.host + ", started " +
         UtcText(s.started_at_unix_s) + ")";
}

}  // namespace

Result<std::vector<ImportCount>> Store::ImportStudies(
    const std::vector<StudyExport>& studies,
    const std::function<std::optional<double>(const StudyInfo&, const std::set<int64_t>&)>& finished_at) {
  Transaction tx(db_);
  WATTLAB_RETURN_IF_ERROR(tx.Begin().WithContext(path_));
  std::vector<ImportCount> counts;
  std::set<std::string> touched;
  for (const StudyExport& ex : studies) {
    ImportCount count;
    const StudyInfo& in = ex.info;
    const std::string hash = in.spec_hash.empty() ? SpecHash(in.spec_toml) : in.spec_hash;
    WATTLAB_ASSIGN_OR_RETURN(auto here, ReadStudy(in.name));
    if (here) {
      if (here->spec_hash != hash)
        return Status::FailedPrecondition(
            ex.source + " holds study '" + in.name + "' of another spec (spec hash " + hash + ") than " +
            path_ + " (spec hash " + here->spec_hash +
            "): only shards of one spec merge into one study; merge it into another database, or give the "
            "study another name in its spec");
      Stmt u(db_, "UPDATE studies SET started_at = min(started_at, ?2) WHERE name = ?1");
      WATTLAB_RETURN_IF_ERROR(u.status("merging into " + path_));
      u.Bind(1, in.name);
      u.Bind(2, in.started_at_unix_s);
      if (u.Step() != SQLITE_DONE)
        return Status::IOError("merging into " + path_ + ": " + SqliteErrorWithEnv(db_));
    } else {
      StudyInfo info = in;
      info.finished_at_unix_s.reset();
      WATTLAB_RETURN_IF_ERROR(UpsertStudy(info));
    }
    // A shard is one execution: the same k/n started at another time is another.
    WATTLAB_ASSIGN_OR_RETURN(auto shards_here, ReadShards(in.name));
    for (const ShardRecord& sh : ex.shards) {
      for (const ShardRecord& h : shards_here)
        if (h.k == sh.k && h.n == sh.n && h.started_at_unix_s != sh.started_at_unix_s)
          return Status::FailedPrecondition(
              ex.source + " and " + ShardOrigin(h, path_) + " both claim shard " + ShardLabel(sh.k, sh.n) +
              " of study '" + in.name + "' with different runs (" + ex.source + " was started " +
              UtcText(sh.started_at_unix_s) + " on " + sh.host +
              "): two executions of one shard; merge only one of them (or each into its own database)");
      ShardRecord copy = sh;
      if (copy.source_db.empty()) copy.source_db = ex.source;
      if (copy.spec_hash.empty()) copy.spec_hash = hash;
      WATTLAB_RETURN_IF_ERROR(RecordShard(copy));
    }
    // Runs: the same run_id must be the same measurement.
    Stmt find(
        db_,
        "SELECT config_id, repetition, started_at, finished_at FROM runs WHERE study = ?1 AND run_id = ?2");
    WATTLAB_RETURN_IF_ERROR(find.status("merging into " + path_));
    for (const RunRecord& run : ex.runs) {
      find.Reset();
      find.Bind(1, in.name);
      find.Bind(2, run.run_id);
      if (find.Step() == SQLITE_ROW) {
        const bool same = find.Text(0) == run.config_id && find.Int(1) == run.repetition &&
                          find.Real(2) == run.started_at_unix_s && find.Real(3) == run.finished_at_unix_s;
        if (!same)
          return Status::FailedPrecondition(
              "run " + std::to_string(run.run_id) + " of study '" + in.name + "' is in both " + ex.source +
              " and " + path_ + " with different measurements (started " + UtcText(run.started_at_unix_s) +
              " vs " + UtcText(find.Real(2)) +
              "): two databases claim the same shard with different runs; merge only one execution of each "
              "shard");
        ++count.already;
        continue;
      }
      RunRecord copy = run;
      copy.study = in.name;
      if (copy.host.empty()) copy.host = in.host;
      WATTLAB_RETURN_IF_ERROR(InsertRun(db_, path_, copy));
      ++count.added;
    }
    // Idle baselines and failed attempts: each once.
    for (const auto& b : in.idle_baselines) {
      Stmt e(db_,
             "SELECT 1 FROM idle_baselines WHERE study = ?1 AND unix_s = ?2 AND power_w = ?3 AND"
             " COALESCE(host, '') = ?4");
      WATTLAB_RETURN_IF_ERROR(e.status("merging into " + path_));
      IdleBaselineRecord copy = b;
      if (copy.host.empty()) copy.host = in.host;
      e.Bind(1, in.name);
      e.Bind(2, copy.unix_s);
      e.Bind(3, copy.power_w);
      e.Bind(4, copy.host);
      if (e.Step() == SQLITE_ROW) continue;
      WATTLAB_RETURN_IF_ERROR(AddIdleBaseline(in.name, copy));
    }
    for (const auto& f : ex.failed) {
      Stmt e(
          db_,
          "SELECT 1 FROM failed_runs WHERE study = ?1 AND run_id = ?2 AND failed_at = ?3 AND message = ?4");
      WATTLAB_RETURN_IF_ERROR(e.status("merging into " + path_));
      e.Bind(1, in.name);
      e.Bind(2, f.run_id);
      e.Bind(3, f.failed_at_unix_s);
      e.Bind(4, f.message);
      if (e.Step() == SQLITE_ROW) continue;
      FailedRun copy = f;
      copy.study = in.name;
      WATTLAB_RETURN_IF_ERROR(RecordFailedRun(copy));
    }
    touched.insert(in.name);
    counts.push_back(count);
  }
  for (const auto& name : touched) {
    WATTLAB_ASSIGN_OR_RETURN(auto info, ReadStudy(name));
    WATTLAB_ASSIGN_OR_RETURN(auto ids, CompletedRunIds(name));
    std::optional<double> done = finished_at && info ? finished_at(*info, ids) : std::nullopt;
    Stmt u(db_, "UPDATE studies SET finished_at = ?2 WHERE name = ?1");
    WATTLAB_RETURN_IF_ERROR(u.status("merging into " + path_));
    u.Bind(1, name);
    u.Bind(2, done);
    if (u.Step() != SQLITE_DONE)
      return Status::IOError("merging into " + path_ + ": " + SqliteErrorWithEnv(db_));
  }
  WATTLAB_RETURN_IF_ERROR(tx.Commit().WithContext(path_));
  return counts;
}

}  // namespace wattlab
