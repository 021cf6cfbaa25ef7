// Store under injected faults: SQLite reaches the disk through the Env
// (store/env_vfs.h), so a ForwardingEnv that fails a write or a sync inside a
// run's transaction must leave the earlier runs readable, the new run absent,
// and an error that says what happened.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>

#include "platform/real_env.h"
#include "store/store.h"

namespace wattlab {
namespace {

namespace fs = std::filesystem;

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Fails RandomRWFile writes and syncs on command: the Nth matching call (and,
// for writes, every later one: a full disk stays full), or every call on
// files whose path ends with a pattern. Counts what it saw.
class FaultEnv : public ForwardingEnv {
 public:
  explicit FaultEnv(Env* target) : ForwardingEnv(target) {}

  std::string path_suffix;  // only files whose path ends with this ("" = every file)
  int fail_write_from = 0;  // 1-based index of the first failing matching PWrite; 0 = none
  int fail_sync_at = 0;     // 1-based index of the one failing matching Sync; 0 = none
  int fail_sync_from = 0;   // 1-based index of the first of all failing matching Syncs; 0 = none

  std::atomic<int> writes{0}, syncs{0}, failed_writes{0}, failed_syncs{0}, opens{0};

  Result<std::unique_ptr<RandomRWFile>> OpenRandomRW(const std::string& p, bool create,
                                                     bool read_only) override {
    auto f = target()->OpenRandomRW(p, create, read_only);
    if (!f.ok()) return f.status();
    ++opens;
    return std::unique_ptr<RandomRWFile>(new File(this, std::move(*f)));
  }

 private:
  class File : public RandomRWFile {
   public:
    File(FaultEnv* env, std::unique_ptr<RandomRWFile> f) : env_(env), f_(std::move(f)) {}
    Result<size_t> PRead(uint64_t off, void* buf, size_t n) override { return f_->PRead(off, buf, n); }
    Status PWrite(uint64_t off, const void* buf, size_t n) override {
      if (Matches()) {
        int k = ++env_->writes;
        if (env_->fail_write_from > 0 && k >= env_->fail_write_from) {
          ++env_->failed_writes;
          return Status::IOError("cannot write " + path() + ": No space left on device");
        }
      }
      return f_->PWrite(off, buf, n);
    }
    Status Truncate(uint64_t size) override { return f_->Truncate(size); }
    Status Sync() override {
      if (Matches()) {
        int k = ++env_->syncs;
        if (k == env_->fail_sync_at || (env_->fail_sync_from > 0 && k >= env_->fail_sync_from)) {
          ++env_->failed_syncs;
          return Status::IOError("cannot sync " + path() + ": Input/output error");
        }
      }
      return f_->Sync();
    }
    Result<uint64_t> Size() override { return f_->Size(); }
    const std::string& path() const override { return f_->path(); }

   private:
    bool Matches() const { return env_->path_suffix.empty() || EndsWith(path(), env_->path_suffix); }
    FaultEnv* env_;
    std::unique_ptr<RandomRWFile> f_;
  };
};

StudyInfo Study() {
  StudyInfo s;
  s.name = "s";
  s.started_at_unix_s = 1700000000;
  s.host = "box";
  s.sources = {"estimate"};
  return s;
}

RunRecord MakeRunRecord(int64_t id) {
  RunRecord r;
  r.study = "s";
  r.run_id = id;
  r.config_id = "c" + std::to_string(id);
  r.model = "lenet";
  RunRow infer;
  infer.phase = "infer";
  infer.window = "full";
  infer.batch_size = 8;
  infer.precision = "fp32";
  infer.samples = 64;
  infer.duration_s = 0.5;
  infer.energy_j = 10.0 + (double)id;
  infer.source = "estimate";
  RunRow train = infer;
  train.phase = "train";
  train.window = "profile";
  r.rows = {train, infer};
  r.domains = {{"infer", "full", "cpu", "estimate", "cpu", true, true, 8.0, 16.0}};
  // A timeline big enough that the run spans several pages.
  RunTimeline t;
  for (int i = 0; i < 2000; ++i) {
    t.t_s.push_back(0.01 * i);
    t.power_w.push_back(20.0 + i % 7);
  }
  r.timeline = t;
  return r;
}

class StoreFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wattlab_store_fault_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    real_ = NewRealEnv();
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }

  // A database with runs 1 and 2, written and closed with the real env.
  void MakeBase(const std::string& path) {
    auto st = Store::Open(real_.get(), path, OpenMode::kCreate);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    ASSERT_TRUE((*st)->UpsertStudy(Study()).ok());
    ASSERT_TRUE((*st)->WriteRun(MakeRunRecord(1)).ok());
    ASSERT_TRUE((*st)->WriteRun(MakeRunRecord(2)).ok());
  }

  // Reopens with the real env and returns the complete runs, checking that
  // each stored run is whole (2 windows, 1 domain row, 1 timeline).
  std::set<int64_t> StoredRuns(const std::string& path) {
    auto st = Store::Open(real_.get(), path, OpenMode::kReadWrite);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    if (!st.ok()) return {};
    auto ids = (*st)->CompletedRunIds("s");
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    auto rows = (*st)->ReadRows("s");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    auto tl = (*st)->ReadTimelines("s");
    EXPECT_TRUE(tl.ok());
    if (!ids.ok() || !rows.ok() || !tl.ok()) return {};
    std::map<int64_t, int> per_run;
    for (const auto& r : *rows) ++per_run[r.run_id];
    EXPECT_EQ(per_run.size(), ids->size());
    for (int64_t id : *ids) {
      EXPECT_EQ(per_run[id], 2) << "run " << id << " is not whole";
      EXPECT_EQ((*st)->ReadDomainEnergy("s", id)->size(), 1u) << "run " << id;
    }
    EXPECT_EQ(tl->size(), ids->size());
    for (const auto& t : *tl) EXPECT_EQ(t.power_w.size(), 2000u);
    return *ids;
  }

  fs::path dir_;
  std::unique_ptr<Env> real_;
};

TEST_F(StoreFaultTest, DiskFullInsideARunKeepsEarlierRunsAndDropsTheNewOne) {
  const std::string db = Path("a.db");
  MakeBase(db);
  FaultEnv env(real_.get());
  env.path_suffix = "-wal";  // the run's pages go to the WAL
  env.fail_write_from = 1;
  {
    auto st = Store::Open(&env, db, OpenMode::kReadWrite);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    Status s = (*st)->WriteRun(MakeRunRecord(3));
    ASSERT_FALSE(s.ok());
    EXPECT_GT(env.failed_writes.load(), 0);
    EXPECT_EQ(s.kind(), Status::Kind::kIOError);
    // Says where, what SQLite saw, and what the disk said.
    EXPECT_NE(s.message().find(db), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("database or disk is full"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("cannot write " + db + "-wal: No space left on device"), std::string::npos)
        << s.message();
    // The connection still reads what was there.
    EXPECT_EQ(*(*st)->CompletedRunIds("s"), (std::set<int64_t>{1, 2}));
  }
  EXPECT_EQ(StoredRuns(db), (std::set<int64_t>{1, 2}));
  // And the file takes the run once the disk has room again.
  {
    auto st = Store::Open(real_.get(), db, OpenMode::kReadWrite);
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE((*st)->WriteRun(MakeRunRecord(3)).ok());
  }
  EXPECT_EQ(StoredRuns(db), (std::set<int64_t>{1, 2, 3}));
}

// Every write SQLite makes for one run (and for closing the file) fails in
// turn: the run is then either whole or absent, never half there, and runs 1
// and 2 are always intact.
TEST_F(StoreFaultTest, EachWriteOfARunFailingInTurnLeavesTheStoreWhole) {
  const std::string base = Path("base.db");
  MakeBase(base);
  int with_fault = 0;
  bool clean_pass = false;
  for (int n = 1; n <= 200 && !clean_pass; ++n) {
    const std::string db = Path("n" + std::to_string(n) + ".db");
    fs::copy_file(base, db);
    FaultEnv env(real_.get());
    env.fail_write_from = n;
    bool run_ok = false;
    {
      auto st = Store::Open(&env, db, OpenMode::kReadWrite);
      if (st.ok()) {
        Status s = (*st)->WriteRun(MakeRunRecord(3));
        run_ok = s.ok();
        if (!s.ok()) {
          EXPECT_NE(s.message().find("No space left on device"), std::string::npos) << s.message();
        }
      } else {
        EXPECT_NE(st.status().message().find("No space left on device"), std::string::npos)
            << st.status().ToString();
      }
    }  // closing checkpoints: more writes, which may fail too
    clean_pass = env.failed_writes.load() == 0;
    if (!clean_pass) ++with_fault;
    std::set<int64_t> want = run_ok ? std::set<int64_t>{1, 2, 3} : std::set<int64_t>{1, 2};
    EXPECT_EQ(StoredRuns(db), want) << "write " << n << " failed; WriteRun "
                                    << (run_ok ? "succeeded" : "failed");
    fs::remove(db);
    fs::remove(db + "-wal");
    fs::remove(db + "-shm");
  }
  EXPECT_TRUE(clean_pass) << "more than 200 writes for one run?";
  EXPECT_GE(with_fault, 3) << "the run's writes did not go through the Env";
}

// The first commit into a fresh WAL syncs the WAL header: a sync failing
// there fails the run, which is then absent, and says what the disk said.
TEST_F(StoreFaultTest, FailedSyncInsideARunDropsTheRun) {
  const std::string db = Path("a.db");
  MakeBase(db);
  FaultEnv env(real_.get());
  env.path_suffix = "-wal";
  env.fail_sync_from = 1;
  {
    auto st = Store::Open(&env, db, OpenMode::kReadWrite);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    Status s = (*st)->WriteRun(MakeRunRecord(3));
    ASSERT_FALSE(s.ok());
    EXPECT_GT(env.failed_syncs.load(), 0);
    EXPECT_EQ(s.kind(), Status::Kind::kIOError);
    EXPECT_NE(s.message().find("cannot sync " + db + "-wal: Input/output error"), std::string::npos)
        << s.message();
  }
  EXPECT_EQ(StoredRuns(db), (std::set<int64_t>{1, 2}));
}

// After that commit (synchronous=NORMAL), syncs come from the checkpoint at
// close. A sync failing there stops the checkpoint and loses nothing: the
// committed run is still in the WAL.
TEST_F(StoreFaultTest, FailedSyncAtCheckpointLosesNoCommittedRun) {
  const std::string db = Path("a.db");
  MakeBase(db);
  FaultEnv env(real_.get());
  env.fail_sync_from = 2;
  {
    auto st = Store::Open(&env, db, OpenMode::kReadWrite);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    Status s = (*st)->WriteRun(MakeRunRecord(3));
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(env.failed_syncs.load(), 0);
  }
  EXPECT_GT(env.failed_syncs.load(), 0) << "the checkpoint's sync did not go through the Env";
  EXPECT_TRUE(fs::exists(db + "-wal"));
  EXPECT_EQ(StoredRuns(db), (std::set<int64_t>{1, 2, 3}));
}

// Each sync of one run and its close failing in turn: whole or absent.
TEST_F(StoreFaultTest, EachSyncOfARunFailingInTurnLeavesTheStoreWhole) {
  const std::string base = Path("base.db");
  MakeBase(base);
  int with_fault = 0;
  bool clean_pass = false;
  for (int n = 1; n <= 50 && !clean_pass; ++n) {
    const std::string db = Path("n" + std::to_string(n) + ".db");
    fs::copy_file(base, db);
    FaultEnv env(real_.get());
    env.fail_sync_at = n;
    bool run_ok = false;
    {
      auto st = Store::Open(&env, db, OpenMode::kReadWrite);
      ASSERT_TRUE(st.ok()) << st.status().ToString();
      Status s = (*st)->WriteRun(MakeRunRecord(3));
      run_ok = s.ok();
      if (!s.ok()) {
        EXPECT_NE(s.message().find("cannot sync"), std::string::npos) << s.message();
      }
    }
    clean_pass = env.failed_syncs.load() == 0;
    if (!clean_pass) ++with_fault;
    std::set<int64_t> want = run_ok ? std::set<int64_t>{1, 2, 3} : std::set<int64_t>{1, 2};
    EXPECT_EQ(StoredRuns(db), want) << "sync " << n << " failed; WriteRun "
                                    << (run_ok ? "succeeded" : "failed");
    fs::remove(db);
    fs::remove(db + "-wal");
    fs::remove(db + "-shm");
  }
  EXPECT_TRUE(clean_pass);
  EXPECT_GE(with_fault, 2) << "the run's syncs did not go through the Env";
}

// Each sync SQLite makes while creating a database fails in turn: Open says
// so, and opening the file again (with a working disk) finishes the job.
TEST_F(StoreFaultTest, FailedSyncWhileCreatingIsReportedAndRecoverable) {
  int failures = 0;
  bool clean_pass = false;
  for (int n = 1; n <= 20 && !clean_pass; ++n) {
    const std::string db = Path("n" + std::to_string(n) + ".db");
    FaultEnv env(real_.get());
    env.fail_sync_at = n;
    {
      auto st = Store::Open(&env, db, OpenMode::kCreate);
      if (!st.ok()) {
        ++failures;
        EXPECT_EQ(st.status().kind(), Status::Kind::kIOError);
        EXPECT_NE(st.status().message().find("cannot sync"), std::string::npos) << st.status().ToString();
      } else if (env.failed_syncs.load() == 0) {
        clean_pass = true;
      }
    }
    MakeBase(db);  // the real env completes (or adopts) the file
    EXPECT_EQ(StoredRuns(db), (std::set<int64_t>{1, 2})) << "sync " << n;
  }
  EXPECT_TRUE(clean_pass);
  EXPECT_GE(failures, 1) << "creating a database never synced through the Env";
}

// Open asks the Env, not the OS, whether the file is there and writable.
class ViewEnv : public ForwardingEnv {
 public:
  using ForwardingEnv::ForwardingEnv;
  bool hide = false, read_only = false, refuse_open = false;
  Result<FileInfo> Stat(const std::string& p) override {
    if (hide) return FileInfo{};
    return ForwardingEnv::Stat(p);
  }
  Status CheckWritable(const std::string& p) override {
    if (read_only) return Status::PermissionDenied("cannot write " + p + ": Permission denied");
    return ForwardingEnv::CheckWritable(p);
  }
  Result<std::unique_ptr<RandomRWFile>> OpenRandomRW(const std::string& p, bool c, bool ro) override {
    if (refuse_open) return Status::PermissionDenied("cannot open " + p + ": Permission denied");
    return ForwardingEnv::OpenRandomRW(p, c, ro);
  }
};

TEST_F(StoreFaultTest, OpenChecksThroughTheEnv) {
  const std::string db = Path("a.db");
  MakeBase(db);
  ViewEnv env(real_.get());
  env.hide = true;
  auto st = Store::Open(&env, db, OpenMode::kReadOnly);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().kind(), Status::Kind::kNotFound);
  EXPECT_NE(st.status().message().find("no database at " + db), std::string::npos);

  env.hide = false;
  env.read_only = true;
  st = Store::Open(&env, db, OpenMode::kReadWrite);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().message(),
            "database " + db + " is not writable: fix its permissions or pass another --db");
  EXPECT_TRUE(Store::Open(&env, db, OpenMode::kReadOnly).ok());

  env.read_only = false;
  env.refuse_open = true;
  st = Store::Open(&env, db, OpenMode::kReadOnly);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().kind(), Status::Kind::kIOError);
  EXPECT_NE(st.status().message().find("cannot open " + db + ": Permission denied"), std::string::npos)
      << st.status().ToString();
}

// Two stores on one file in one process: closing one must not drop the
// other's locks or descriptors (env_vfs.cc parks the Env file until the last
// one closes).
TEST_F(StoreFaultTest, TwoStoresOnOneFile) {
  const std::string db = Path("a.db");
  MakeBase(db);
  auto a = Store::Open(real_.get(), db, OpenMode::kReadWrite);
  ASSERT_TRUE(a.ok());
  {
    auto b = Store::Open(real_.get(), db, OpenMode::kReadOnly);
    ASSERT_TRUE(b.ok());
    EXPECT_EQ((*b)->ReadRows("s")->size(), 4u);
  }
  ASSERT_TRUE((*a)->WriteRun(MakeRunRecord(3)).ok());
  EXPECT_EQ((*a)->ReadRows("s")->size(), 6u);
  a->reset();
  EXPECT_EQ(StoredRuns(db), (std::set<int64_t>{1, 2, 3}));
}

}  // namespace
}  // namespace wattlab
