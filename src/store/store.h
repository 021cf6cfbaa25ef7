// The store: every study's runs in one SQLite file (see docs/schema.md).
//
// What it holds: studies (StudyInfo: the context every report opens with,
// idle baselines), runs (one configuration x repetition, with its full config
// and model facts as JSON), windows (one RunRow per measured window: run x
// phase x window), per-window per-domain energy, and a downsampled power
// timeline per run.
//
// Crash safety: the database is in WAL mode and a run is written in ONE
// transaction (WriteRun), so a crash or SIGKILL leaves either the whole run or
// none of it. A run that is in the store is complete; `--resume` trusts that.
//
// Schema: versioned with PRAGMA user_version; Open(kReadWrite|kCreate)
// migrates older files forward in a transaction; a file from a newer wattlab
// is refused (FailedPrecondition), a file that is not a wattlab database is
// refused (Corruption). kReadOnly never migrates and never writes: a file
// with an older schema is refused with FailedPrecondition asking to open it
// read-write once (`wattlab runs --db FILE` on a writable file does that).
//
// Ownership and thread-safety: a Store owns its sqlite3 connection. One Store
// is used by one thread at a time; several processes may read one file while
// one writes (WAL).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/env.h"
#include "wattlab/record.h"
#include "wattlab/status.h"
#include "wattlab/workload.h"

struct sqlite3;

namespace wattlab {

class EnvVfs;  // store/env_vfs.h

enum class OpenMode {
  kReadOnly,   // must exist and be a wattlab database
  kReadWrite,  // must exist and be a wattlab database (or an empty file); migrated forward
  kCreate,     // created when missing; migrated forward
};

// The schema this build writes. History in docs/schema.md.
inline constexpr int kStoreSchemaVersion = 8;

// Energy of one domain over one window (the per-domain breakdown of a RunRow).
struct DomainEnergyRow {
  std::string phase, window;  // the RunRow it belongs to
  std::string domain;         // "package-0", "dram-0", "gpu-0", "cpu"
  std::string source;         // kSource* name
  std::string component;      // "cpu", "dram", "gpu", "platform", "other"
  bool in_total = true;
  bool estimated = false;
  double energy_j = 0;
  double mean_power_w = 0;
};

// One candidate power limit the online optimiser profiled in a training run
// (`wattlab train --power-limit-optimizer`, caps/online_optimizer.h); schema v4.
struct PowerLimitCandidateRow {
  double limit_w = 0;         // the GPU power limit profiled (the same on every GPU capped)
  std::string objective;      // "energy", "time", "edp", "cost:0.5", "slowdown:1.1"
  int64_t steps = 0;          // counted steps
  int64_t dropped_steps = 0;  // unusable measurements
  double mean_step_s = 0, step_s_half_width = 0;           // 95% CI half-width, s
  double step_energy_j = 0, step_energy_half_width_j = 0;  // whole machine per step, J
  bool converged = false;                 // both within the target (±2%) when profiling stopped
  bool eligible = true;                   // slowdown:X: within the allowed slowdown
  std::optional<double> objective_value;  // absent when not finished or not eligible
  bool chosen = false;                    // the limit held for the rest of the run
};

// Things a window records beyond the export columns.
struct WindowExtra {
  std::optional<double> loss;          // mean training loss of the window (train rows)
  std::optional<double> idle_power_w;  // baseline used for energy_above_idle_j
  double mean_power_w = 0;
  int64_t meter_samples = 0;  // sampler ticks inside the window
};

// Everything one completed run writes, in one transaction.
struct RunRecord {
  std::string study;
  int64_t run_id = 0;  // 1-based position in the study's plan (stable across --resume)
  std::string config_id;
  int64_t repetition = 0;
  std::string model;
  std::string config_json;  // the run's full configuration
  std::string facts_json;   // ModelFacts incl. macs_by_kind
  double started_at_unix_s = 0;
  double finished_at_unix_s = 0;
  std::vector<RunRow> rows;         // study/run_id/config_id/repetition/model are taken from the record
  std::vector<WindowExtra> extras;  // parallel to rows (may be empty)
  std::vector<DomainEnergyRow> domains;
  std::vector<double> step_loss;  // per measured training step
  std::optional<RunTimeline> timeline;
  // The online power-limit optimiser's candidates, when the run had one (v4).
  std::vector<PowerLimitCandidateRow> power_limit_candidates;
  std::string host;  // the machine it ran on (v7); empty: the study's host
};

// One failed attempt of a run (not in `runs`: --resume retries it).
struct FailedRun {
  std::string study;
  int64_t run_id = 0;
  std::string model;
  double failed_at_unix_s = 0;
  std::string message;
  std::vector<std::string> stderr_tail;  // a command sweep's program: its last stderr lines
};

// One share of a study's plan that one database ran (v7, issue 16;
// docs/scale.md): `wattlab study --shard K/N` runs the runs at positions
// K, K+N, K+2N, ... of the seeded order. An unsharded study is shard 1/1.
// One execution of a shard is (study, k, n, started_at): --resume keeps the
// start, a second, separate run of the shard has its own.
struct ShardRecord {
  std::string study;
  int64_t k = 1, n = 1;
  std::string spec_hash;
  std::string host;  // the machine that last wrote it
  double started_at_unix_s = 0;
  std::optional<double> finished_at_unix_s;  // every run of the shard stored
  std::string source_db;                     // where `wattlab merge` took it from ("" where it ran)
};

// Everything one database holds of one study, as `wattlab merge` copies it.
struct StudyExport {
  StudyInfo info;  // with spec_hash and the idle baselines (each with its host)
  std::vector<ShardRecord> shards;
  std::vector<RunRecord> runs;  // complete records, by run_id; host filled in
  std::vector<FailedRun> failed;
  std::string source;  // the database's path
};

// What merging one StudyExport did.
struct ImportCount {
  int64_t added = 0;    // runs written
  int64_t already = 0;  // runs the database held already (the same measurement)
};

// The stable hash of a study spec's text (16 hex digits, FNV-1a 64): every
// shard of one study records the same one.
std::string SpecHash(const std::string& spec_toml);

// One `wattlab calibrate` (v8, issue 12): the machine context it was
// measured in and its points (kept as JSON: an array of {kind, op, work,
// bytes, weight_elements, reduce, kernel, groups, batch, forward_s, train_s}).
struct CalibrationRow {
  int64_t id = 0;  // assigned by SaveCalibration
  double created_unix_s = 0;
  std::string host, cpu, libtorch, blas, wait_policy, precision;
  int64_t threads = 0;
  std::string shapes;  // "default", "quick", "tiny"
  double duration_s = 0;
  std::vector<CalibrationPoint> points;
};

class Store {
 public:
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Errors (each its own message, listed in docs/reliability.md; no
  // diagnosis writes to the file): missing file with kReadOnly/kReadWrite ->
  // NotFound "no database at PATH: run `wattlab study` first or pass --db";
  // a directory, device, FIFO or socket -> InvalidArgument, before SQLite
  // touches it; not SQLite at all -> Corruption "not an SQLite file (it
  // starts with ...)"; truncated or damaged -> Corruption "PATH is corrupt
  // (...)" (header vs size, then integrity_check); another application's
  // SQLite file -> Corruption; schema newer than this build ->
  // FailedPrecondition "database schema vN is newer than this wattlab (vM):
  // upgrade wattlab"; unwritable path -> IOError saying which path and why.
  // A read-only open in a directory where PATH-shm cannot be created opens
  // the file immutable and says so in notice().
  //
  // Every access to the file goes through `env`, which must outlive the
  // Store: the checks above (Stat, CheckWritable) and, through an EnvVfs
  // (env_vfs.h), every byte SQLite reads or writes in the database, its
  // journal and its WAL. A failed Env write fails the statement, and the
  // error carries the Env's message ("... (cannot write X-wal: No space left
  // on device)").
  static Result<std::unique_ptr<Store>> Open(Env* env, const std::string& path, OpenMode mode);

  // What Open(kCreate) would refuse, found without writing anything (for
  // `study --dry-run`): the same diagnoses, an unwritable file or directory,
  // a newer schema, another application's file.
  static Status CheckForWriting(Env* env, const std::string& path);

  const std::string& path() const { return path_; }
  // Something a user should know about how the file was opened ("" when
  // nothing), e.g. read-only and immutable because its directory is not
  // writable. Commands print it as a note.
  const std::string& notice() const { return notice_; }
  int schema_version() const { return schema_version_; }

  // ---- reads (analysis, report, `wattlab runs`) ----
  // All studies when `study` is empty; ordered by study, run_id, phase
  // (train, eval, infer), window (profile, full).
  Result<std::vector<RunRow>> ReadRows(const std::string& study = "");
  Result<std::vector<StudyInfo>> ReadStudies();  // ordered by started_at
  Result<std::optional<StudyInfo>> ReadStudy(const std::string& name);
  Result<std::vector<RunTimeline>> ReadTimelines(const std::string& study = "");
  Result<std::vector<DomainEnergyRow>> ReadDomainEnergy(const std::string& study, int64_t run_id);
  // The run's power-limit candidates in profiling order (highest limit first);
  // empty when it had no optimiser (or the database predates v4).
  Result<std::vector<PowerLimitCandidateRow>> ReadPowerLimitCandidates(const std::string& study,
                                                                       int64_t run_id);

  // Every calibration, oldest first (empty before v7).
  Result<std::vector<CalibrationRow>> ReadCalibrations();
  // Each model's input shape ("3x32x32") as its runs recorded it in
  // facts_json; a model whose runs disagree keeps the last one's.
  Result<std::map<std::string, std::string>> ReadModelInputs(const std::string& study = "");
  // How the runs with an inference window ran their convolutions (issue 11,
  // runs.config_json.conv_weights): run counts by "packed", "plain (WHY)"
  // (WHY: conv_weights.why, e.g. "no convolution", "TorchScript file",
  // "bf16") and "not recorded" (runs from before it was). Command runs are
  // not counted.
  Result<std::map<std::string, int64_t>> ReadConvWeights(const std::string& study = "");

  // ---- writes (the study runner) ----
  // Appends a calibration; returns its id.
  Result<int64_t> SaveCalibration(const CalibrationRow& row);
  // Inserts the study, or (resume) keeps the stored one and refreshes its
  // context fields. Idle baselines are appended with AddIdleBaseline.
  Status UpsertStudy(const StudyInfo& info);
  Status AddIdleBaseline(const std::string& study, double unix_s,
                         double idle_power_w);  // not busy, no cpu_util
  Status AddIdleBaseline(const std::string& study, const IdleBaselineRecord& baseline);
  Status FinishStudy(const std::string& study, double finished_at_unix_s);
  // run_ids of the study's completed runs (the only kind the store holds).
  Result<std::set<int64_t>> CompletedRunIds(const std::string& study);
  // Notes a failed attempt (history: every attempt is kept).
  Status RecordFailedRun(const FailedRun& failed);
  // All studies when `study` is empty; in the order they failed.
  Result<std::vector<FailedRun>> ReadFailedRuns(const std::string& study = "");
  // Writes the whole run in one transaction. AlreadyExists-like: writing a
  // run_id twice for one study is FailedPrecondition (never duplicated).
  Status WriteRun(const RunRecord& run);

  // ---- shards and merging (v7, issue 16; docs/scale.md) ----
  // Inserts the shard execution, or refreshes its host and finished_at.
  Status RecordShard(const ShardRecord& shard);
  // All studies when `study` is empty; by study, k, started_at.
  Result<std::vector<ShardRecord>> ReadShards(const std::string& study = "");
  // The whole study, for ImportStudies (NotFound when it is not here).
  Result<StudyExport> ExportStudy(const std::string& study);
  // Merges studies from other databases into this one, in ONE transaction
  // (all or nothing). Per study: created when missing; refused
  // (FailedPrecondition, nothing written) when this database holds the study
  // with another spec hash, when a shard (k/n) is here from another execution
  // (another started_at), or when a run_id is here with another measurement
  // (other config, repetition, start or end). A run, idle baseline, failed
  // attempt or shard already here is not written again (merging twice adds
  // nothing). `finished_at(study, run_ids)` is asked, inside the
  // transaction, with the study's run_ids after the merge: the study's
  // finished_at is set to what it returns (nullopt: not finished).
  Result<std::vector<ImportCount>> ImportStudies(
      const std::vector<StudyExport>& studies,
      const std::function<std::optional<double>(const StudyInfo&, const std::set<int64_t>&)>& finished_at);

 private:
  Store(sqlite3* db, std::string path, int schema_version, std::unique_ptr<EnvVfs> vfs);
  std::unique_ptr<EnvVfs> vfs_;  // outlives db_ (closed first in ~Store)
  sqlite3* db_;
  std::string path_;
  int schema_version_;
  std::string notice_;
};

// One writer per study: an exclusive lock on "<db>.<study>.lock" beside the
// database (Env::TryLockFile), held while the study writes, released (and the
// file removed) when the returned lock is destroyed or the process dies.
// A second writer of the same study gets FailedPrecondition "another wattlab
// (host H, pid N) is running study X on DB; wait for it to finish or stop it".
Result<std::unique_ptr<FileLock>> LockStudy(Env* env, const std::string& db_path, const std::string& study);
// The lock file's path (study names are kept to [A-Za-z0-9._-], others as '_').
std::string StudyLockPath(const std::string& db_path, const std::string& study);

}  // namespace wattlab
