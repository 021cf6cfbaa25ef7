// Store: round trip, migrations from a hand-written v1 file, refusal of
// newer-schema and foreign files, one-transaction runs, export columns.
#include "store/store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/strings.h"
#include "platform/real_env.h"
#include "store/export.h"

namespace wattlab {
namespace {

namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wattlab_store_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }
  std::string Path(const std::string& name) { return (dir_ / name).string(); }
  void ExecSql(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }
  fs::path dir_;
  std::unique_ptr<Env> env_ = NewRealEnv();
};

StudyInfo MakeStudy(const std::string& name) {
  StudyInfo s;
  s.name = name;
  s.spec_toml = "name = \"" + name + "\"\n";
  s.started_at_unix_s = 1700000000.5;
  s.host = "box";
  s.kernel = "6.1.0";
  s.cpu = "Intel(R) Core(TM) i7-8700K";
  s.gpus = {"NVIDIA RTX 3080 (driver 550)"};
  s.libtorch = "1.13.1";
  s.blas = "openblas-openmp";
  s.wattlab_version = "0.1.0";
  s.sources = {"rapl-powercap", "nvml"};
  s.interval_s = 0.1;
  s.estimated = false;
  s.meter_facts = {{"tdp_w", "95"}};
  return s;
}

RunRecord MakeRun(const std::string& study, int64_t run_id) {
  RunRecord r;
  r.study = study;
  r.run_id = run_id;
  r.config_id = "cfg" + std::to_string(run_id % 2);
  r.repetition = run_id / 2;
  r.model = "lenet";
  r.config_json = R"({"batch_size":8})";
  r.facts_json = R"({"params":62006})";
  r.started_at_unix_s = 1700000001;
  r.finished_at_unix_s = 1700000002;
  RunRow infer;
  infer.phase = "infer";
  infer.window = "full";
  infer.batch_size = 8;
  infer.threads = 2;
  infer.precision = "fp32";
  infer.params = 62006;
  infer.macs = 658000;
  infer.macs_per_param = 10.6;
  infer.samples = 64;
  infer.duration_s = 0.5;
  infer.energy_j = 10.0 + (double)run_id;
  infer.energy_above_idle_j = 4.0 + (double)run_id;
  infer.cpu_util = 0.75;
  infer.source = "rapl-powercap+nvml";
  RunRow train = infer;
  train.phase = "train";
  train.window = "profile";
  train.steps = 3;
  train.samples = 24;
  train.extrapolated_energy_j = 1234.5;
  train.accuracy = std::nullopt;
  // Deliberately out of order: reads sort by phase and window.
  r.rows = {infer, train};
  r.extras = {WindowExtra{std::nullopt, 12.0, 20.0, 5}, WindowExtra{2.3, 12.0, 30.0, 5}};
  r.domains = {{"train", "profile", "package-0", "rapl-powercap", "cpu", true, false, 8.0, 16.0},
               {"train", "profile", "gpu-0", "nvml", "gpu", true, false, 3.0, 6.0}};
  r.step_loss = {2.3, 2.2, 2.1};
  RunTimeline t;
  t.t_s = {0, 0.1, 0.2};
  t.power_w = {10, 30, 29};
  t.windows = {{"train", 0.05, 0.2}};
  r.timeline = t;
  return r;
}

TEST_F(StoreTest, RoundTrip) {
  auto st = Store::Open(env_.get(), Path("a.db"), OpenMode::kCreate);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  auto& s = **st;
  EXPECT_EQ(s.schema_version(), kStoreSchemaVersion);
  ASSERT_TRUE(s.UpsertStudy(MakeStudy("pilot")).ok());
  ASSERT_TRUE(s.AddIdleBaseline("pilot", 1700000000.7, 11.5).ok());
  ASSERT_TRUE(s.WriteRun(MakeRun("pilot", 2)).ok());
  ASSERT_TRUE(s.WriteRun(MakeRun("pilot", 1)).ok());
  ASSERT_TRUE(s.FinishStudy("pilot", 1700000100).ok());

  auto rows = s.ReadRows();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 4u);
  EXPECT_EQ((*rows)[0].run_id, 1);
  EXPECT_EQ((*rows)[0].phase, "train");
  EXPECT_EQ((*rows)[1].phase, "infer");
  EXPECT_EQ((*rows)[2].run_id, 2);
  const RunRow& t = (*rows)[0];
  EXPECT_EQ(t.study, "pilot");
  EXPECT_EQ(t.config_id, "cfg1");
  EXPECT_EQ(t.model, "lenet");
  EXPECT_EQ(t.steps, 3);
  EXPECT_EQ(t.extrapolated_energy_j, 1234.5);
  EXPECT_EQ(t.energy_above_idle_j, 5.0);
  EXPECT_FALSE(t.accuracy.has_value());
  EXPECT_FALSE((*rows)[1].steps.has_value());
  EXPECT_EQ(t.source, "rapl-powercap+nvml");

  auto studies = s.ReadStudies();
  ASSERT_TRUE(studies.ok());
  ASSERT_EQ(studies->size(), 1u);
  const StudyInfo& info = (*studies)[0];
  EXPECT_EQ(info.cpu, "Intel(R) Core(TM) i7-8700K");
  EXPECT_EQ(info.gpus.size(), 1u);
  EXPECT_EQ(info.sources, (std::vector<std::string>{"rapl-powercap", "nvml"}));
  EXPECT_EQ(info.finished_at_unix_s, 1700000100.0);
  ASSERT_EQ(info.idle_baselines.size(), 1u);
  EXPECT_DOUBLE_EQ(info.idle_baselines[0].power_w, 11.5);
  ASSERT_EQ(info.meter_facts.size(), 1u);

  auto tl = s.ReadTimelines("pilot");
  ASSERT_TRUE(tl.ok());
  ASSERT_EQ(tl->size(), 2u);
  EXPECT_EQ((*tl)[0].run_id, 1);
  EXPECT_EQ((*tl)[0].power_w, (std::vector<double>{10, 30, 29}));
  ASSERT_EQ((*tl)[0].windows.size(), 1u);
  EXPECT_EQ((*tl)[0].windows[0].name, "train");

  auto dom = s.ReadDomainEnergy("pilot", 1);
  ASSERT_TRUE(dom.ok());
  ASSERT_EQ(dom->size(), 2u);
  EXPECT_EQ((*dom)[1].component, "gpu");

  auto ids = s.CompletedRunIds("pilot");
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::set<int64_t>{1, 2}));
  // Nothing for another study.
  auto none = s.ReadRows("other");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(StoreTest, ReadOnlySeesWrittenData) {
  {
    auto st = Store::Open(env_.get(), Path("a.db"), OpenMode::kCreate);
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE((*st)->UpsertStudy(MakeStudy("s")).ok());
    ASSERT_TRUE((*st)->WriteRun(MakeRun("s", 1)).ok());
  }
  auto ro = Store::Open(env_.get(), Path("a.db"), OpenMode::kReadOnly);
  ASSERT_TRUE(ro.ok()) << ro.status().ToString();
  auto rows = (*ro)->ReadRows("s");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 2u);
}

// How inference ran its convolutions, counted from runs.config_json (issue
// 11): packed, plain by why, older runs "not recorded", runs without
// inference and command runs not counted.
TEST_F(StoreTest, ReadConvWeightsCountsInferenceRunsByKind) {
  auto st = Store::Open(env_.get(), Path("a.db"), OpenMode::kCreate);
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE((*st)->UpsertStudy(MakeStudy("s")).ok());
  ASSERT_TRUE((*st)->UpsertStudy(MakeStudy("t")).ok());
  const std::vector<std::pair<std::string, std::string>> runs = {
      {"s", R"({"infer":true,"conv_weights":{"in_force":"packed","convs":20,"packed":20}})"},
      {"s", R"({"infer":true,"conv_weights":{"in_force":"packed","convs":2,"packed":2}})"},
      {"s",
       R"({"infer":true,"conv_weights":{"in_force":"plain","convs":0,"packed":0,"why":"no convolution"}})"},
      {"s",
       R"({"infer":true,"conv_weights":{"in_force":"plain","convs":0,"packed":0,"why":"TorchScript file"}})"},
      {"s", R"({"infer":true,"conv_weights":{"in_force":"plain","convs":3,"packed":0,"why":"bf16"}})"},
      {"s", R"({"infer":true,"conv_weights":{"in_force":"plain","convs":3,"packed":0}})"},
      {"s", R"({"infer":true})"},
      {"s", R"({"infer":false})"},
      {"s", R"({"infer":true,"command":["python3","x.py"]})"},
      {"t", R"({"infer":true,"conv_weights":{"in_force":"packed","convs":20,"packed":20}})"}};
  int64_t id = 0;
  for (const auto& [study, config] : runs) {
    RunRecord r = MakeRun(study, ++id);
    r.config_json = config;
    ASSERT_TRUE((*st)->WriteRun(r).ok());
  }
  auto s = (*st)->ReadConvWeights("s");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*s, (std::map<std::string, int64_t>{{"packed", 2},
                                                {"plain (no convolution)", 1},
                                                {"plain (TorchScript file)", 1},
                                                {"plain (bf16)", 1},
                                                {"plain (why not recorded)", 1},
                                                {"not recorded", 1}}));
  auto all = (*st)->ReadConvWeights();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->at("packed"), 3);
}

TEST_F(StoreTest, RunNeverWrittenTwice) {
  auto st = Store::Open(env_.get(), Path("a.db"), OpenMode::kCreate);
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE((*st)->UpsertStudy(MakeStudy("s")).ok());
  ASSERT_TRUE((*st)->WriteRun(MakeRun("s", 1)).ok());
  Status again = (*st)->WriteRun(MakeRun("s", 1));
  EXPECT_EQ(again.kind(), Status::Kind::kFailedPrecondition);
  EXPECT_EQ((*st)->ReadRows("s")->size(), 2u);
}

TEST_F(StoreTest, FailedRunLeavesNothing) {
  auto st = Store::Open(env_.get(), Path("a.db"), OpenMode::kCreate);
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE((*st)->UpsertStudy(MakeStudy("s")).ok());
  RunRecord bad = MakeRun("s", 1);
  bad.rows[1].phase = "bogus";  // second window fails after the run row and first window went in
  EXPECT_FALSE((*st)->WriteRun(bad).ok());
  EXPECT_TRUE((*st)->ReadRows("s")->empty());
  EXPECT_TRUE((*st)->CompletedRunIds("s")->empty());
  EXPECT_TRUE((*st)->ReadTimelines("s")->empty());
  // And the connection is still usable.
  EXPECT_TRUE((*st)->WriteRun(MakeRun("s", 1)).ok());
}

TEST_F(StoreTest, MissingFileIsNotFound) {
  auto st = Store::Open(env_.get(), Path("none.db"), OpenMode::kReadOnly);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().kind(), Status::Kind::kNotFound);
  EXPECT_NE(st.status().message().find("no database at " + Path("none.db")), std::string::npos);
  EXPECT_NE(st.status().message().find("wattlab study"), std::string::npos);
  EXPECT_FALSE(fs::exists(Path("none.db")));
}

TEST_F(StoreTest, NotAnSqliteFileIsCorruption) {
  std::ofstream(Path("text.db"))
      << "hello, this is not a database at all, just some text that is long enough\n";
  for (OpenMode m : {OpenMode::kReadOnly, OpenMode::kReadWrite, OpenMode::kCreate}) {
    auto st = Store::Open(env_.get(), Path("text.db"), m);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.status().kind(), Status::Kind::kCorruption) << st.status().ToString();
    EXPECT_NE(st.status().message().find(Path("text.db")), std::string::npos);
    EXPECT_NE(st.status().message().find("not a wattlab database"), std::string::npos);
  }
}

TEST_F(StoreTest, ForeignSqliteIsCorruption) {
  ExecSql(Path("other.db"), "CREATE TABLE songs(title TEXT); INSERT INTO songs VALUES('x');");
  auto st = Store::Open(env_.get(), Path("other.db"), OpenMode::kReadWrite);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().kind(), Status::Kind::kCorruption);
  EXPECT_NE(st.status().message().find("not a wattlab database"), std::string::npos);
  // Untouched: still no wattlab tables.
  ExecSql(Path("other.db"), "SELECT title FROM songs;");
}

TEST_F(StoreTest, NewerSchemaRefused) {
  {
    auto st = Store::Open(env_.get(), Path("a.db"), OpenMode::kCreate);
    ASSERT_TRUE(st.ok());
  }
  ExecSql(Path("a.db"), "PRAGMA user_version=" + std::to_string(kStoreSchemaVersion + 5));
  for (OpenMode m : {OpenMode::kReadOnly, OpenMode::kReadWrite}) {
    auto st = Store::Open(env_.get(), Path("a.db"), m);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.status().kind(), Status::Kind::kFailedPrecondition);
    EXPECT_EQ(st.status().message(), "database schema v" + std::to_string(kStoreSchemaVersion + 5) +
                                         " is newer than this wattlab (v" +
                                         std::to_string(kStoreSchemaVersion) + "): upgrade wattlab");
  }
}

TEST_F(StoreTest, UnwritablePathIsIOError) {
  auto st = Store::Open(env_.get(), Path("no/such/dir/a.db"), OpenMode::kCreate);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().kind(), Status::Kind::kIOError);
  EXPECT_NE(st.status().message().find("does not exist"), std::string::npos) << st.status().message();

  if (::geteuid() != 0) {  // root writes anywhere; the missing-dir case above still ran
    fs::create_directories(Path("ro"));
    fs::permissions(Path("ro"), fs::perms::owner_read | fs::perms::owner_exec);
    auto ro = Store::Open(env_.get(), Path("ro/a.db"), OpenMode::kCreate);
    ASSERT_FALSE(ro.ok());
    EXPECT_EQ(ro.status().kind(), Status::Kind::kIOError);
    EXPECT_NE(ro.status().message().find("not writable"), std::string::npos) << ro.status().message();
  }
}

// A v1 file exactly as the v1 build wrote it (hand SQL), migrated to the
// current schema with its data intact and the new tables usable.
TEST_F(StoreTest, MigratesV1) {
  ExecSql(Path("v1.db"), R"sql(
PRAGMA application_id = 1463899220;
CREATE TABLE studies (name TEXT PRIMARY KEY, spec_toml TEXT NOT NULL DEFAULT '', started_at REAL NOT NULL DEFAULT 0,
  finished_at REAL, context_json TEXT NOT NULL DEFAULT '{}');
CREATE TABLE runs (study TEXT NOT NULL REFERENCES studies(name), run_id INTEGER NOT NULL, config_id TEXT NOT NULL,
  repetition INTEGER NOT NULL, model TEXT NOT NULL, config_json TEXT NOT NULL DEFAULT '{}',
  facts_json TEXT NOT NULL DEFAULT '{}', started_at REAL, finished_at REAL, PRIMARY KEY (study, run_id));
CREATE TABLE windows (study TEXT NOT NULL, run_id INTEGER NOT NULL, phase TEXT NOT NULL, window TEXT NOT NULL,
  batch_size INTEGER NOT NULL, threads INTEGER NOT NULL, precision TEXT NOT NULL, params INTEGER NOT NULL,
  macs INTEGER NOT NULL, macs_per_param REAL NOT NULL, steps INTEGER, samples INTEGER NOT NULL,
  duration_s REAL NOT NULL, energy_j REAL NOT NULL, energy_above_idle_j REAL, extrapolated_energy_j REAL,
  cpu_util REAL, source TEXT NOT NULL, estimated INTEGER NOT NULL, accuracy REAL,
  PRIMARY KEY (study, run_id, phase, window), FOREIGN KEY (study, run_id) REFERENCES runs(study, run_id));
INSERT INTO studies VALUES('old', 'name = "old"', 1600000000, 1600000100, '{"host":"h","cpu":"c","sources":["estimate"],"estimated":true}');
INSERT INTO runs VALUES('old', 1, 'c1', 0, 'lenet', '{}', '{}', 1600000001, 1600000002);
INSERT INTO windows VALUES('old', 1, 'infer', 'full', 1, 2, 'fp32', 62006, 658000, 10.6, NULL, 100, 1.5, 9.0, 3.0,
  NULL, 0.5, 'estimate', 1, NULL);
PRAGMA user_version = 1;
)sql");
  ASSERT_EQ(1463899220, 0x57415454);
  // Read-only refuses to migrate, saying how.
  auto ro = Store::Open(env_.get(), Path("v1.db"), OpenMode::kReadOnly);
  ASSERT_FALSE(ro.ok());
  EXPECT_EQ(ro.status().kind(), Status::Kind::kFailedPrecondition);

  auto st = Store::Open(env_.get(), Path("v1.db"), OpenMode::kReadWrite);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ((*st)->schema_version(), kStoreSchemaVersion);
  auto rows = (*st)->ReadRows();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].model, "lenet");
  EXPECT_TRUE((*rows)[0].estimated);
  EXPECT_EQ((*rows)[0].energy_above_idle_j, 3.0);
  auto studies = (*st)->ReadStudies();
  ASSERT_TRUE(studies.ok());
  EXPECT_TRUE((*studies)[0].estimated);
  // v2 features work on the migrated file.
  ASSERT_TRUE((*st)->AddIdleBaseline("old", 1600000000, 7).ok());
  ASSERT_TRUE((*st)->WriteRun(MakeRun("old", 2)).ok());
  EXPECT_EQ((*st)->ReadTimelines("old")->size(), 1u);
  st->reset();
  auto again = Store::Open(env_.get(), Path("v1.db"), OpenMode::kReadOnly);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)->ReadRows()->size(), 3u);
}

// v7 (issue 16): a run written without a host takes the study's, the spec
// hash is the study text's; hosts, shards and the hash round-trip, and
// ExportStudy gives back every part of a run.
TEST_F(StoreTest, ShardsHostsAndSpecHashRoundTrip) {
  {
    auto st = Store::Open(env_.get(), Path("s.db"), OpenMode::kCreate);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    ASSERT_TRUE((*st)->UpsertStudy(MakeStudy("s")).ok());
    RunRecord plain = MakeRun("s", 1);  // no host: the study's
    ASSERT_TRUE((*st)->WriteRun(plain).ok());
    RunRecord elsewhere = MakeRun("s", 2);
    elsewhere.host = "node-7";
    ASSERT_TRUE((*st)->WriteRun(elsewhere).ok());
    IdleBaselineRecord b{1700000000, 11.5, 0.02, false, "node-7"};
    ASSERT_TRUE((*st)->AddIdleBaseline("s", b).ok());
    ShardRecord sh;
    sh.study = "s";
    sh.k = 2;
    sh.n = 4;
    sh.spec_hash = SpecHash(MakeStudy("s").spec_toml);
    sh.host = "node-7";
    sh.started_at_unix_s = 1700000000.5;
    ASSERT_TRUE((*st)->RecordShard(sh).ok());
    sh.finished_at_unix_s = 1700000100;
    ASSERT_TRUE((*st)->RecordShard(sh).ok());  // the same execution: refreshed, not added
    ShardRecord bad = sh;
    bad.k = 5;
    EXPECT_EQ((*st)->RecordShard(bad).kind(), Status::Kind::kInvalidArgument);
  }
  auto st = Store::Open(env_.get(), Path("s.db"), OpenMode::kReadOnly);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  auto info = *(*st)->ReadStudy("s");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->spec_hash, SpecHash("name = \"s\"\n"));
  EXPECT_NE(SpecHash("name = \"s\"\n"), SpecHash("name = \"s\"\n# edited\n"));
  ASSERT_EQ(info->idle_baselines.size(), 1u);
  EXPECT_EQ(info->idle_baselines[0].host, "node-7");
  std::map<int64_t, std::string> hosts;
  const auto rows = *(*st)->ReadRows("s");
  for (const auto& r : rows) hosts[r.run_id] = r.host;
  EXPECT_EQ(hosts, (std::map<int64_t, std::string>{{1, "box"}, {2, "node-7"}}));
  auto shards = *(*st)->ReadShards("s");
  ASSERT_EQ(shards.size(), 1u);
  EXPECT_EQ(shards[0].k, 2);
  EXPECT_EQ(shards[0].n, 4);
  EXPECT_EQ(shards[0].finished_at_unix_s, 1700000100);
  EXPECT_EQ(shards[0].source_db, "");

  auto ex = (*st)->ExportStudy("s");
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  ASSERT_EQ(ex->runs.size(), 2u);
  const RunRecord& r = ex->runs[0];
  const RunRecord want = MakeRun("s", 1);
  EXPECT_EQ(r.host, "box");
  EXPECT_EQ(r.config_json, want.config_json);
  EXPECT_EQ(r.step_loss, want.step_loss);
  ASSERT_EQ(r.rows.size(), 2u);
  ASSERT_EQ(r.extras.size(), 2u);
  EXPECT_EQ(r.rows[0].phase, "train");  // read back in phase order
  EXPECT_EQ(r.extras[0].loss, 2.3);
  EXPECT_EQ(r.extras[0].mean_power_w, 30.0);
  EXPECT_EQ(r.domains.size(), 2u);
  ASSERT_TRUE(r.timeline.has_value());
  EXPECT_EQ(r.timeline->power_w, want.timeline->power_w);
  EXPECT_EQ((*st)->ExportStudy("nope").status().kind(), Status::Kind::kNotFound);
}

TEST(ExportTest, CsvColumnsExactlyAsRecordH) {
  RunRow r;
  r.study = "s,1";  // quoted
  r.run_id = 3;
  r.phase = "train";
  r.window = "profile";
  r.steps = 3;
  r.source = "rapl-powercap+nvml";
  r.estimated = true;
  r.energy_j = 0.5;
  std::string csv = RunRowsToCsv({r});
  std::string err;
  auto parsed = ParseCsv(csv, &err);
  ASSERT_TRUE(parsed.has_value()) << err;
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0], RunRowColumns());
  EXPECT_EQ(
      Join((*parsed)[0], ","),
      "study,run_id,config_id,repetition,model,phase,window,batch_size,threads,precision,params,macs,"
      "macs_per_param,steps,samples,duration_s,energy_j,energy_above_idle_j,extrapolated_energy_j,cpu_util,"
      "source,estimated,accuracy,idle_busy,gpu_power_limit_w,cpu_power_limit_w,cpu_max_freq_mhz,omp_wait_"
      "policy");
  const auto& f = (*parsed)[1];
  ASSERT_EQ(f.size(), RunRowColumns().size());
  EXPECT_EQ(f[0], "s,1");
  EXPECT_EQ(f[13], "3");
  EXPECT_EQ(f[16], "0.5");
  EXPECT_EQ(f[17], "");  // missing -> empty
  EXPECT_EQ(f[20], "rapl-powercap+nvml");
  EXPECT_EQ(f[21], "true");
  EXPECT_EQ(f[22], "");
}

TEST(ExportTest, JsonKeysInOrderWithNulls) {
  RunRow r;
  r.estimated = false;
  r.accuracy = 0.875;
  auto j = nlohmann::ordered_json::parse(RunRowsToJson({r}));
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 1u);
  std::vector<std::string> keys;
  for (auto it = j[0].begin(); it != j[0].end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, RunRowColumns());
  EXPECT_TRUE(j[0]["steps"].is_null());
  EXPECT_TRUE(j[0]["energy_above_idle_j"].is_null());
  EXPECT_EQ(j[0]["estimated"], false);
  EXPECT_EQ(j[0]["accuracy"], 0.875);
}

// ---- diagnoses (docs/reliability.md): each case its own message, no writes.

// An Env under which PATH-shm cannot be created: the directory is read-only
// as far as the store can tell (the tests run as root, where chmod would not
// stop anything).
class ReadOnlyDirEnv : public ForwardingEnv {
 public:
  explicit ReadOnlyDirEnv(Env* target) : ForwardingEnv(target) {}
  Status CheckWritable(const std::string& p) override {
    if (EndsWith(p, "-shm") || EndsWith(p, "-wal"))
      return Status::PermissionDenied("cannot create files in the dir");
    return ForwardingEnv::CheckWritable(p);
  }
};

using StoreDiagnosis = StoreTest;

TEST_F(StoreDiagnosis, DevNullIsRefusedBeforeSqliteTouchesIt) {
  for (OpenMode m : {OpenMode::kReadOnly, OpenMode::kReadWrite, OpenMode::kCreate}) {
    auto st = Store::Open(env_.get(), "/dev/null", m);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.status().message().find("not a regular file"), std::string::npos) << st.status().message();
  }
  EXPECT_FALSE(fs::exists("/dev/null-journal"));
  EXPECT_FALSE(fs::exists("/dev/null-wal"));
  ASSERT_EQ(::mkfifo(Path("fifo").c_str(), 0644), 0);
  auto fifo = Store::Open(env_.get(), Path("fifo"), OpenMode::kCreate);
  ASSERT_FALSE(fifo.ok());
  EXPECT_NE(fifo.status().message().find("not a regular file"), std::string::npos);
  EXPECT_FALSE(Store::CheckForWriting(env_.get(), "/dev/null").ok());
}

TEST_F(StoreDiagnosis, ProcVersionIsNotAnEmptySqliteFile) {
  auto st = Store::Open(env_.get(), "/proc/version", OpenMode::kReadOnly);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().message().find("empty"), std::string::npos) << st.status().message();
  EXPECT_NE(st.status().message().find("special file"), std::string::npos) << st.status().message();
}

TEST_F(StoreDiagnosis, WrongKindOfFileSaysWhatItStartsWith) {
  std::ofstream(Path("notes.db")) << "Linux version 6.1.0 (debian-kernel@lists.debian.org)\n";
  auto st = Store::Open(env_.get(), Path("notes.db"), OpenMode::kReadOnly);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().kind(), Status::Kind::kCorruption);
  EXPECT_NE(st.status().message().find("not an SQLite file (it starts with \"Linux version"),
            std::string::npos)
      << st.status().message();
}

TEST_F(StoreDiagnosis, TruncatedFileIsCorruptAndNeverWritten) {
  {
    auto st = Store::Open(env_.get(), Path("w.db"), OpenMode::kCreate);
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE((*st)->UpsertStudy(MakeStudy("pilot")).ok());
    for (int i = 1; i <= 20; ++i) ASSERT_TRUE((*st)->WriteRun(MakeRun("pilot", i)).ok());
  }
  const auto full = fs::file_size(Path("w.db"));
  ASSERT_GT(full, 8192u);
  fs::resize_file(Path("w.db"), full / 2);
  const auto before = fs::last_write_time(Path("w.db"));
  for (OpenMode m : {OpenMode::kReadOnly, OpenMode::kReadWrite}) {
    auto st = Store::Open(env_.get(), Path("w.db"), m);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.status().kind(), Status::Kind::kCorruption) << st.status().ToString();
    EXPECT_NE(st.status().message().find("is corrupt"), std::string::npos) << st.status().message();
    EXPECT_NE(st.status().message().find("truncated"), std::string::npos) << st.status().message();
  }
  EXPECT_EQ(fs::file_size(Path("w.db")), full / 2);
  EXPECT_EQ(fs::last_write_time(Path("w.db")), before);
  // Cut inside the header.
  fs::resize_file(Path("w.db"), 40);
  auto st = Store::Open(env_.get(), Path("w.db"), OpenMode::kReadOnly);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("is corrupt: truncated to 40 bytes"), std::string::npos)
      << st.status().message();
}

TEST_F(StoreDiagnosis, DamagedPagesAreCorruptFromIntegrityCheck) {
  {
    auto st = Store::Open(env_.get(), Path("w.db"), OpenMode::kCreate);
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE((*st)->UpsertStudy(MakeStudy("pilot")).ok());
    for (int i = 1; i <= 20; ++i) ASSERT_TRUE((*st)->WriteRun(MakeRun("pilot", i)).ok());
  }
  // Overwrite every page after the first with garbage, keeping the size.
  {
    std::fstream f(Path("w.db"), std::ios::in | std::ios::out | std::ios::binary);
    const auto size = fs::file_size(Path("w.db"));
    std::string junk(size - 4096, '\x5a');
    f.seekp(4096);
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto st = Store::Open(env_.get(), Path("w.db"), OpenMode::kReadOnly);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.status().kind(), Status::Kind::kCorruption) << st.status().ToString();
  EXPECT_NE(st.status().message().find("is corrupt (integrity_check"), std::string::npos)
      << st.status().message();
}

TEST_F(StoreDiagnosis, EmptyFileIsSaidSoWhenRead) {
  std::ofstream(Path("empty.db")).flush();
  auto st = Store::Open(env_.get(), Path("empty.db"), OpenMode::kReadOnly);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("an empty file"), std::string::npos) << st.status().message();
  EXPECT_EQ(fs::file_size(Path("empty.db")), 0u);
  EXPECT_TRUE(Store::CheckForWriting(env_.get(), Path("empty.db")).ok());
}

TEST_F(StoreDiagnosis, ReadOnlyDirectoryOpensImmutableAndSaysSo) {
  {
    auto st = Store::Open(env_.get(), Path("w.db"), OpenMode::kCreate);
    ASSERT_TRUE(st.ok());
    ASSERT_TRUE((*st)->UpsertStudy(MakeStudy("pilot")).ok());
    ASSERT_TRUE((*st)->WriteRun(MakeRun("pilot", 1)).ok());
  }
  ASSERT_FALSE(fs::exists(Path("w.db-shm")));
  ReadOnlyDirEnv ro(env_.get());
  auto st = Store::Open(&ro, Path("w.db"), OpenMode::kReadOnly);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_NE((*st)->notice().find("opened read-only and immutable"), std::string::npos) << (*st)->notice();
  auto rows = (*st)->ReadRows();
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->size(), 2u);
  EXPECT_FALSE(fs::exists(Path("w.db-shm")));
  EXPECT_FALSE(fs::exists(Path("w.db-wal")));
  // Writing there is refused up front, with the reason.
  auto rw = Store::Open(&ro, Path("w.db"), OpenMode::kReadWrite);
  ASSERT_FALSE(rw.ok());
  EXPECT_NE(rw.status().message().find("is not writable, and SQLite needs to create"), std::string::npos)
      << rw.status().message();
  EXPECT_FALSE(Store::CheckForWriting(&ro, Path("w.db")).ok());
}

TEST_F(StoreDiagnosis, OneWriterPerStudy) {
  auto first = LockStudy(env_.get(), Path("w.db"), "pilot");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(fs::exists(StudyLockPath(Path("w.db"), "pilot")));
  auto second = LockStudy(env_.get(), Path("w.db"), "pilot");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().kind(), Status::Kind::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("another wattlab (host " + env_->HostName() + ", pid " +
                                           std::to_string(::getpid()) + ") is running study pilot"),
            std::string::npos)
      << second.status().message();
  // Another study of the same database is not held up.
  auto other = LockStudy(env_.get(), Path("w.db"), "other");
  EXPECT_TRUE(other.ok()) << other.status().ToString();
  first->reset();
  EXPECT_FALSE(fs::exists(StudyLockPath(Path("w.db"), "pilot")));
  EXPECT_TRUE(LockStudy(env_.get(), Path("w.db"), "pilot").ok());
  EXPECT_EQ(StudyLockPath("a/w.db", "my study/1"), "a/w.db.my_study_1.lock");
}

TEST_F(StoreDiagnosis, BusyBaselinesAndWindowFlagsRoundTrip) {
  auto st = Store::Open(env_.get(), Path("w.db"), OpenMode::kCreate);
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE((*st)->UpsertStudy(MakeStudy("pilot")).ok());
  IdleBaselineRecord b{1700000000, 12.5, 0.52, true, ""};
  ASSERT_TRUE((*st)->AddIdleBaseline("pilot", b).ok());
  ASSERT_TRUE((*st)->AddIdleBaseline("pilot", 1700000100, 9.0).ok());
  RunRecord r = MakeRun("pilot", 1);
  r.rows[0].idle_busy = true;
  ASSERT_TRUE((*st)->WriteRun(r).ok());
  auto info = (*st)->ReadStudy("pilot");
  ASSERT_TRUE(info.ok() && info->has_value());
  ASSERT_EQ((*info)->idle_baselines.size(), 2u);
  EXPECT_TRUE((*info)->idle_baselines[0].busy);
  EXPECT_DOUBLE_EQ(*(*info)->idle_baselines[0].cpu_util, 0.52);
  EXPECT_FALSE((*info)->idle_baselines[1].busy);
  EXPECT_FALSE((*info)->idle_baselines[1].cpu_util.has_value());
  auto rows = (*st)->ReadRows("pilot");
  ASSERT_TRUE(rows.ok());
  int busy = 0, unknown = 0;
  for (const auto& row : *rows) {
    if (row.idle_busy.value_or(false)) ++busy;
    if (!row.idle_busy) ++unknown;
  }
  EXPECT_EQ(busy, 1);
  EXPECT_EQ(unknown, 1);
}

TEST_F(StoreDiagnosis, OmpWaitPolicyRoundTripsAndIsEmptyWhenUnknown) {
  auto st = Store::Open(env_.get(), Path("w.db"), OpenMode::kCreate);
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE((*st)->UpsertStudy(MakeStudy("pilot")).ok());
  RunRecord r = MakeRun("pilot", 1);
  ASSERT_GE(r.rows.size(), 2u);
  r.rows[0].omp_wait_policy = "passive";  // the other row: not recorded (NULL)
  ASSERT_TRUE((*st)->WriteRun(r).ok());
  auto rows = (*st)->ReadRows("pilot");
  ASSERT_TRUE(rows.ok());
  std::multiset<std::string> got;
  for (const auto& row : *rows) got.insert(row.omp_wait_policy);
  EXPECT_EQ(got, (std::multiset<std::string>{"", "passive"}));
}

TEST(ExportTest, RoundOffAboveIdleIsZeroAndIdleBusyThenTheCapsAreTheLastColumns) {
  RunRow r;
  r.study = "s";
  r.model = "lenet";
  r.phase = "infer";
  r.window = "full";
  r.energy_j = 12.5;
  r.energy_above_idle_j = 3.9968e-15;  // seen in `runs --csv` on a busy machine
  r.idle_busy = true;
  auto f = RunRowFields(r);
  ASSERT_EQ(f.size(), RunRowColumns().size());
  const size_t n = f.size();
  EXPECT_EQ(RunRowColumns()[n - 5], "idle_busy");
  EXPECT_EQ(f[17], "0");
  EXPECT_EQ(f[n - 5], "true");
  r.energy_above_idle_j = -0.25;  // data keeps its sign
  EXPECT_EQ(RunRowFields(r)[17], "-0.25");
  r.idle_busy.reset();
  EXPECT_EQ(RunRowFields(r)[n - 5], "");
  // Schema v4 (issue 13): the caps in force, empty where unreadable.
  EXPECT_EQ(std::vector<std::string>(RunRowColumns().end() - 4, RunRowColumns().end() - 1),
            (std::vector<std::string>{"gpu_power_limit_w", "cpu_power_limit_w", "cpu_max_freq_mhz"}));
  // Schema v5 (issue 11): the OpenMP wait policy, last.
  EXPECT_EQ(RunRowColumns().back(), "omp_wait_policy");
  EXPECT_EQ(RunRowFields(r)[n - 4], "");
  r.gpu_power_limit_w = 175;
  r.cpu_max_freq_mhz = 2400.5;
  EXPECT_EQ(RunRowFields(r)[n - 4], "175");
  EXPECT_EQ(RunRowFields(r)[n - 3], "");
  EXPECT_EQ(RunRowFields(r)[n - 2], "2400.5");
  const auto j = nlohmann::json::parse(RunRowsToJson({r}));
  EXPECT_TRUE(j[0]["idle_busy"].is_null());
  EXPECT_EQ(j[0]["gpu_power_limit_w"], 175);
  EXPECT_TRUE(j[0]["cpu_power_limit_w"].is_null());
  EXPECT_EQ(j[0]["cpu_max_freq_mhz"], 2400.5);
}

// v4 (issue 13): the online power-limit optimiser's candidates go in with
// the run, in the same transaction, and come back highest limit first.
TEST_F(StoreTest, PowerLimitCandidatesRoundTrip) {
  auto st = Store::Open(env_.get(), Path("a.db"), OpenMode::kCreate);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  auto& s = **st;
  ASSERT_TRUE(s.UpsertStudy(MakeStudy("train")).ok());
  RunRecord r = MakeRun("train", 1);
  PowerLimitCandidateRow a{.limit_w = 250,
                           .objective = "slowdown:1.1",
                           .steps = 12,
                           .dropped_steps = 1,
                           .mean_step_s = 0.5,
                           .step_s_half_width = 0.004,
                           .step_energy_j = 90,
                           .step_energy_half_width_j = 1.2,
                           .converged = true,
                           .eligible = true,
                           .objective_value = 90.0,
                           .chosen = true};
  PowerLimitCandidateRow b = a;
  b.limit_w = 150;
  b.converged = false;
  b.eligible = false;
  b.objective_value = std::nullopt;
  b.chosen = false;
  r.power_limit_candidates = {b, a};  // stored in any order, read back from the top
  ASSERT_TRUE(s.WriteRun(r).ok());
  ASSERT_TRUE(s.WriteRun(MakeRun("train", 2)).ok());  // a run without an optimiser

  auto c = s.ReadPowerLimitCandidates("train", 1);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->size(), 2u);
  EXPECT_EQ((*c)[0].limit_w, 250);
  EXPECT_EQ((*c)[0].objective, "slowdown:1.1");
  EXPECT_EQ((*c)[0].steps, 12);
  EXPECT_EQ((*c)[0].dropped_steps, 1);
  EXPECT_EQ((*c)[0].step_energy_half_width_j, 1.2);
  EXPECT_TRUE((*c)[0].converged);
  EXPECT_EQ((*c)[0].objective_value, 90.0);
  EXPECT_TRUE((*c)[0].chosen);
  EXPECT_EQ((*c)[1].limit_w, 150);
  EXPECT_FALSE((*c)[1].eligible);
  EXPECT_FALSE((*c)[1].objective_value.has_value());
  EXPECT_FALSE((*c)[1].chosen);
  EXPECT_TRUE(s.ReadPowerLimitCandidates("train", 2)->empty());

  // Two candidates with one limit are refused, and the whole run with them.
  RunRecord dup = MakeRun("train", 3);
  dup.power_limit_candidates = {a, a};
  EXPECT_FALSE(s.WriteRun(dup).ok());
  EXPECT_EQ(s.CompletedRunIds("train")->count(3), 0u);
}

TEST(ExportTest, OmpWaitPolicyIsTheLastColumnAndRoundTrips) {
  RunRow r;
  r.study = "s";
  r.run_id = 1;
  r.model = "lenet";
  r.phase = "infer";
  r.window = "full";
  EXPECT_EQ(RunRowColumns().back(), "omp_wait_policy");
  EXPECT_EQ(RunRowFields(r).back(), "");  // unknown: empty, JSON null
  EXPECT_TRUE(nlohmann::json::parse(RunRowsToJson({r}))[0]["omp_wait_policy"].is_null());
  r.omp_wait_policy = "passive";
  EXPECT_EQ(RunRowFields(r).back(), "passive");
  EXPECT_EQ(nlohmann::json::parse(RunRowsToJson({r}))[0]["omp_wait_policy"], "passive");
}

// Calibrations (v8) keep every point exactly, train_first_s and
// forward_packed included; a points_json from before they were measured
// loads them as 0 and false.
TEST_F(StoreTest, CalibrationsRoundTripAndOlderPointsLoad) {
  auto st = Store::Open(env_.get(), Path("a.db"), OpenMode::kCreate);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  auto& s = **st;
  CalibrationRow row;
  row.created_unix_s = 1795772000;
  row.host = "h";
  row.cpu = "Intel(R) Xeon(R) Processor";
  row.libtorch = "1.13.1";
  row.blas = "openblas";
  row.wait_policy = "default";
  row.precision = "fp32";
  row.threads = 2;
  row.shapes = "quick";
  row.duration_s = 9.2;
  CalibrationPoint p;
  p.op.kind = "conv";
  p.op.op = "conv2d";
  p.op.work = 460800;
  p.op.bytes = 31104;
  p.op.weight_elements = 450;
  p.op.reduce = 75;
  p.op.kernel = 25;
  p.batch = 64;
  p.forward_s = 5.7e-4;
  p.train_s = 3.95e-3;
  p.train_first_s = 1.43e-3;
  p.forward_packed = true;
  p.forward_plain_s = 9.1e-4;
  row.points = {p};
  auto id = s.SaveCalibration(row);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  auto back = s.ReadCalibrations();
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].points, row.points);
  EXPECT_EQ((*back)[0].threads, 2);
  EXPECT_EQ((*back)[0].shapes, "quick");
  // As an older wattlab wrote it: no train_first_s, no forward_packed.
  ExecSql(Path("a.db"),
          "UPDATE calibrations SET points_json = json_remove(points_json, '$[0].train_first_s', "
          "'$[0].forward_packed', '$[0].forward_plain_s')");
  back = s.ReadCalibrations();
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ((*back)[0].points.size(), 1u);
  EXPECT_EQ((*back)[0].points[0].train_first_s, 0);
  EXPECT_FALSE((*back)[0].points[0].forward_packed);
  EXPECT_EQ((*back)[0].points[0].forward_plain_s, 0);
  EXPECT_EQ((*back)[0].points[0].train_s, p.train_s);
}

}  // namespace
}  // namespace wattlab
