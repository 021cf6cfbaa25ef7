// Sharded studies and merging (issue 16; docs/scale.md): --shard parsing,
// round-robin dealing, the Slurm array environment, %a/%A in --db, the runner
// running one shard, and `wattlab merge` (MergeDatabases): complete,
// incremental, idempotent, interrupted-then-resumed, and each refusal.
#include "study/shard.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "analysis/analysis.h"
#include "fakes.h"
#include "platform/real_env.h"
#include "store/store.h"
#include "store_env.h"
#include "study/merge.h"
#include "study/plan.h"
#include "study/runner.h"
#include "study/spec.h"

namespace wattlab {
namespace {

using testing::StoreEnv;

namespace fs = std::filesystem;
using testing::FakeClockEnv;
using testing::FakeEngine;
using testing::FakeMeter;

// Ten runs: five configurations x two repetitions.
const char* kSpec = R"(name = "sharded"
seed = 3
repetitions = 2
cooldown_s = 0.5
idle_s = 2
idle_every_s = 0

[[sweep]]
models = ["lenet", "mlp:depth=2,width=64"]
batch_sizes = [8, 32]
threads = [1]
phases = ["train", "infer"]
profile_steps = 3
train_samples = 640
infer_samples = 64

[[sweep]]
models = ["lenet"]
batch_sizes = [32]
threads = [1]
phases = ["train"]
train_samples = 320
full_length = true
evaluate = true
eval_samples = 100
)";
constexpr int64_t kPlanned = 10;

StudySpec Spec(const std::string& extra = "") {
  auto s = ParseStudySpec(std::string(kSpec) + extra, "sharded.toml");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return *s;
}

// An Env whose environment variables are a map (and a clock that can be moved on).
class SlurmEnv : public FakeClockEnv {
 public:
  explicit SlurmEnv(std::map<std::string, std::string> vars) : vars_(std::move(vars)) {}
  std::optional<std::string> GetEnvVar(const std::string& n) override {
    auto it = vars_.find(n);
    return it == vars_.end() ? std::nullopt : std::optional<std::string>(it->second);
  }

 private:
  std::map<std::string, std::string> vars_;
};

std::map<std::string, std::string> Array(int64_t id, int64_t min, int64_t max, int64_t step, int64_t count) {
  return {{"SLURM_ARRAY_JOB_ID", "777"},
          {"SLURM_ARRAY_TASK_ID", std::to_string(id)},
          {"SLURM_ARRAY_TASK_MIN", std::to_string(min)},
          {"SLURM_ARRAY_TASK_MAX", std::to_string(max)},
          {"SLURM_ARRAY_TASK_STEP", std::to_string(step)},
          {"SLURM_ARRAY_TASK_COUNT", std::to_string(count)}};
}

bool Contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// ---------------------------------------------------------------- --shard

TEST(ShardTest, ParsesKOfNAndRefusesTheRestClearly) {
  auto s = ParseShard("2/4");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*s, (Shard{2, 4}));
  EXPECT_EQ(s->Label(), "2/4");
  EXPECT_EQ(*ParseShard("1/1"), (Shard{1, 1}));
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"0/4", "K must be between 1 and N"}, {"5/4", "K must be between 1 and N"}, {"x", "expected K/N"},
      {"1/0", "N must be at least 1"},      {"1/4/5", "whole numbers"},           {"a/b", "whole numbers"},
      {"-1/4", "K must be between 1 and N"}};
  for (const auto& [text, why] : bad) {
    auto r = ParseShard(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().kind(), Status::Kind::kInvalidArgument) << text;
    EXPECT_TRUE(Contains(r.status().message(), "--shard " + text + ": ")) << r.status().message();
    EXPECT_TRUE(Contains(r.status().message(), why)) << r.status().message();
  }
}

TEST(ShardTest, EveryRunInExactlyOneShardInTheSameOrderForEveryShard) {
  const auto plan = ExpandPlan(Spec());
  ASSERT_EQ((int64_t)plan.size(), kPlanned);
  for (int64_t n : {1, 2, 3, 4, 7, 10, 13}) {
    std::multiset<int64_t> seen;
    for (int64_t k = 1; k <= n; ++k) {
      // Each shard expands the spec itself, as a separate process would.
      const auto mine = ShardRuns(ExpandPlan(Spec()), Shard{k, n});
      int64_t last = 0;
      for (size_t i = 0; i < mine.size(); ++i) {
        const PlannedRun& r = mine[i];
        EXPECT_GT(r.run_id, last) << "plan order within shard " << k << "/" << n;
        last = r.run_id;
        // Round-robin: positions k, k+n, k+2n, ... (1-based), run_ids the whole plan's.
        EXPECT_EQ(r.run_id, k + (int64_t)i * n);
        EXPECT_EQ(r.config_id, plan[r.run_id - 1].config_id);
        EXPECT_EQ(r.repetition, plan[r.run_id - 1].repetition);
        seen.insert(r.run_id);
      }
      EXPECT_LE((int64_t)mine.size(), (kPlanned + n - 1) / n);
    }
    EXPECT_EQ((int64_t)seen.size(), kPlanned) << n;
    for (int64_t id = 1; id <= kPlanned; ++id) EXPECT_EQ(seen.count(id), 1u) << "run " << id << " of n=" << n;
  }
}

// ---------------------------------------------------------------- Slurm

TEST(ShardTest, SlurmArrayGivesKAndN) {
  SlurmEnv none({});
  auto outside = ShardFromSlurmEnv(&none);
  ASSERT_TRUE(outside.ok());
  EXPECT_FALSE(outside->has_value());

  for (int64_t id = 1; id <= 4; ++id) {  // --array=1-4
    SlurmEnv env(Array(id, 1, 4, 1, 4));
    auto s = ShardFromSlurmEnv(&env);
    ASSERT_TRUE(s.ok() && s->has_value()) << s.status().ToString();
    EXPECT_EQ(**s, (Shard{id, 4}));
  }
  {
    SlurmEnv env(Array(10, 0, 15, 5, 4));  // --array=0-15:5 -> 0, 5, 10, 15
    auto s = ShardFromSlurmEnv(&env);
    ASSERT_TRUE(s.ok() && s->has_value()) << s.status().ToString();
    EXPECT_EQ(**s, (Shard{3, 4}));
  }
  {
    auto vars = Array(2, 0, 2, 1, 3);  // --array=0-2, no STEP variable: 1
    vars.erase("SLURM_ARRAY_TASK_STEP");
    SlurmEnv env(vars);
    auto s = ShardFromSlurmEnv(&env);
    ASSERT_TRUE(s.ok() && s->has_value()) << s.status().ToString();
    EXPECT_EQ(**s, (Shard{3, 3}));
  }
}

TEST(ShardTest, UnevenSlurmArrayAsksForShard) {
  // --array=1,3,7: MIN 1, MAX 7, COUNT 3 (Slurm's step says nothing useful).
  for (int64_t id : {1, 3, 7}) {
    SlurmEnv env(Array(id, 1, 7, 1, 3));
    auto s = ShardFromSlurmEnv(&env);
    ASSERT_FALSE(s.ok()) << id;
    EXPECT_EQ(s.status().kind(), Status::Kind::kInvalidArgument);
    EXPECT_TRUE(Contains(s.status().message(), "not evenly stepped")) << s.status().message();
    EXPECT_TRUE(Contains(s.status().message(), "pass --shard K/N")) << s.status().message();
  }
  {
    SlurmEnv env(Array(6, 0, 15, 5, 4));  // ID - MIN not a multiple of STEP
    EXPECT_FALSE(ShardFromSlurmEnv(&env).ok());
  }
  {
    SlurmEnv env(Array(9, 1, 9, 1, 4));  // K = 9 > COUNT = 4
    EXPECT_FALSE(ShardFromSlurmEnv(&env).ok());
  }
  {
    auto vars = Array(2, 1, 4, 1, 4);
    vars.erase("SLURM_ARRAY_TASK_COUNT");
    SlurmEnv env(vars);
    auto s = ShardFromSlurmEnv(&env);
    ASSERT_FALSE(s.ok());
    EXPECT_TRUE(Contains(s.status().message(), "SLURM_ARRAY_TASK_COUNT is not set")) << s.status().message();
    EXPECT_TRUE(Contains(s.status().message(), "--shard")) << s.status().message();
  }
  {
    auto vars = Array(2, 1, 4, 1, 4);
    vars["SLURM_ARRAY_TASK_MIN"] = "one";
    SlurmEnv env(vars);
    EXPECT_FALSE(ShardFromSlurmEnv(&env).ok());
  }
}

TEST(ShardTest, DbPatternsExpandInsideAnArrayOnly) {
  SlurmEnv env(Array(3, 1, 4, 1, 4));
  EXPECT_EQ(*ExpandDbPattern(&env, "shard-%a.db"), "shard-3.db");
  EXPECT_EQ(*ExpandDbPattern(&env, "out/%A_%a.db"), "out/777_3.db");
  EXPECT_EQ(*ExpandDbPattern(&env, "100%%-%a.db"), "100%-3.db");
  EXPECT_EQ(*ExpandDbPattern(&env, "plain.db"), "plain.db");
  auto other = ExpandDbPattern(&env, "x-%j.db");
  ASSERT_FALSE(other.ok());
  EXPECT_TRUE(Contains(other.status().message(), "only %a")) << other.status().message();

  SlurmEnv outside({});
  EXPECT_EQ(*ExpandDbPattern(&outside, "plain.db"), "plain.db");
  for (const char* db : {"shard-%a.db", "job-%A.db"}) {
    auto r = ExpandDbPattern(&outside, db);
    ASSERT_FALSE(r.ok()) << db;
    EXPECT_EQ(r.status().kind(), Status::Kind::kInvalidArgument);
    EXPECT_TRUE(Contains(r.status().message(), "not a task of a Slurm job array")) << r.status().message();
    EXPECT_TRUE(Contains(r.status().message(), "plain --db")) << r.status().message();
  }
}

// ---------------------------------------------------------------- runner and merge

class ShardRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wattlab_shard_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Db(const std::string& name) { return (dir_ / name).string(); }

  // Runs shard k/n of `spec` into `db` on host `host`; `skew_s` moves the
  // clock on first (a separate execution starts at another time);
  // `stop_after` interrupts after that many runs (0: never).
  Result<StudyOutcome> RunShard(const std::string& db, Shard shard, const std::string& host,
                                const StudySpec& spec, double skew_s = 0, int64_t stop_after = 0,
                                bool resume = false) {
    FakeClockEnv env;
    env.SleepFor(std::chrono::nanoseconds((int64_t)(skew_s * 1e9)));
    FakeMeter meter(&env);
    FakeEngine engine(&env);
    auto store = Store::Open(StoreEnv(), db, OpenMode::kCreate);
    if (!store.ok()) return store.status();
    RunnerOptions opt;
    opt.shard = shard;
    opt.resume = resume;
    if (stop_after > 0)
      opt.interrupted = [&, stop_after] {
        auto ids = (*store)->CompletedRunIds(spec.name);
        return ids.ok() && (int64_t)ids->size() >= stop_after;
      };
    StudyInfo ctx;
    ctx.host = host;
    return StudyRunner(spec, &engine, &meter, store->get(), &env, opt).Run(ctx);
  }

  std::unique_ptr<Store> Open(const std::string& db) {
    auto s = Store::Open(StoreEnv(), db, OpenMode::kReadOnly);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  fs::path dir_;
};

TEST_F(ShardRunTest, ShardRunsOnlyItsRunsAndRecordsShardSpecHashAndHost) {
  const StudySpec spec = Spec();
  auto out = RunShard(Db("s2.db"), Shard{2, 3}, "node-b", spec);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->planned, 3);  // positions 2, 5, 8 of ten
  EXPECT_EQ(out->done_now, 3);
  EXPECT_TRUE(out->finished);
  auto st = Open(Db("s2.db"));
  ASSERT_TRUE(st);
  EXPECT_EQ(*st->CompletedRunIds("sharded"), (std::set<int64_t>{2, 5, 8}));
  auto info = *st->ReadStudy("sharded");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->spec_hash, SpecHash(spec.toml));
  EXPECT_EQ(info->spec_hash.size(), 16u);
  EXPECT_TRUE(info->finished_at_unix_s.has_value());
  ASSERT_EQ(info->idle_baselines.size(), 1u);  // its own baseline
  EXPECT_EQ(info->idle_baselines[0].host, "node-b");
  auto shards = *st->ReadShards("sharded");
  ASSERT_EQ(shards.size(), 1u);
  EXPECT_EQ(shards[0].k, 2);
  EXPECT_EQ(shards[0].n, 3);
  EXPECT_EQ(shards[0].host, "node-b");
  EXPECT_EQ(shards[0].spec_hash, info->spec_hash);
  EXPECT_DOUBLE_EQ(shards[0].started_at_unix_s, info->started_at_unix_s);
  EXPECT_TRUE(shards[0].finished_at_unix_s.has_value());
  const auto rows = *st->ReadRows("sharded");
  for (const auto& r : rows) EXPECT_EQ(r.host, "node-b");
  // An unsharded study is shard 1/1 of itself.
  ASSERT_TRUE(RunShard(Db("all.db"), Shard{}, "node-a", spec).ok());
  auto whole = Open(Db("all.db"));
  ASSERT_EQ(whole->ReadShards()->size(), 1u);
  EXPECT_EQ((*whole->ReadShards())[0].n, 1);
  EXPECT_EQ(whole->CompletedRunIds("sharded")->size(), (size_t)kPlanned);
}

TEST_F(ShardRunTest, MergeOfEveryShardHoldsEveryRunOnceWithEverythingAndNamesHosts) {
  const StudySpec spec = Spec();
  std::vector<std::string> dbs;
  for (int64_t k = 1; k <= 3; ++k) {
    dbs.push_back(Db("s" + std::to_string(k) + ".db"));
    ASSERT_TRUE(RunShard(dbs.back(), Shard{k, 3}, "node-" + std::to_string(k), spec, 10.0 * k).ok());
  }
  const std::string out = Db("merged.db");
  auto m = MergeDatabases(StoreEnv(), out, dbs);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->created);
  ASSERT_EQ(m->inputs.size(), 3u);
  int64_t added = 0;
  for (const auto& in : m->inputs) {
    EXPECT_TRUE(in.missing.empty()) << in.db;
    added += in.added;
    EXPECT_EQ(in.already, 0);
  }
  EXPECT_EQ(added, kPlanned);
  ASSERT_EQ(m->studies.size(), 1u);
  EXPECT_TRUE(m->studies[0].finished);
  EXPECT_EQ(m->studies[0].stored, kPlanned);
  EXPECT_EQ(m->studies[0].planned, kPlanned);
  EXPECT_EQ(m->studies[0].hosts.size(), 3u);
  const std::string text = FormatMergeOutcome(*m);
  EXPECT_TRUE(Contains(text, "10 of 10 planned runs, complete")) << text;
  EXPECT_TRUE(Contains(text, "hosts: node-1 (4 runs), node-2 (3 runs), node-3 (3 runs)")) << text;

  auto merged = Open(out);
  EXPECT_EQ(merged->CompletedRunIds("sharded")->size(), (size_t)kPlanned);
  // Everything of each run came across, as the shard holds it.
  size_t rows_in_shards = 0, baselines = 0;
  for (const auto& db : dbs) {
    auto s = Open(db);
    rows_in_shards += s->ReadRows("sharded")->size();
    baselines += (*s->ReadStudy("sharded"))->idle_baselines.size();
    const auto ids = *s->CompletedRunIds("sharded");
    for (int64_t id : ids) {
      auto a = *s->ReadDomainEnergy("sharded", id), b = *merged->ReadDomainEnergy("sharded", id);
      ASSERT_EQ(a.size(), b.size());
      for (size_t i = 0; i < a.size(); ++i) EXPECT_DOUBLE_EQ(a[i].energy_j, b[i].energy_j);
    }
  }
  EXPECT_EQ(merged->ReadRows("sharded")->size(), rows_in_shards);
  EXPECT_EQ(merged->ReadTimelines("sharded")->size(), (size_t)kPlanned);
  auto info = *merged->ReadStudy("sharded");
  EXPECT_EQ(info->idle_baselines.size(), baselines);
  EXPECT_TRUE(info->finished_at_unix_s.has_value());
  EXPECT_EQ(info->spec_hash, SpecHash(spec.toml));
  EXPECT_EQ(merged->ReadShards("sharded")->size(), 3u);

  // analyze names every host and warns where a configuration's repetitions
  // come from more than one (round-robin puts repetitions on other shards).
  auto rows = *merged->ReadRows("sharded");
  std::set<std::string> hosts;
  for (const auto& r : rows) hosts.insert(r.host);
  EXPECT_EQ(hosts, (std::set<std::string>{"node-1", "node-2", "node-3"}));
  analysis::AnalysisOptions ao;
  auto a = analysis::Analyze(rows, ao);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->hosts.size(), 3u);
  std::string notes;
  for (const auto& n : a->notes) notes += n + "\n";
  EXPECT_TRUE(Contains(notes, "runs from 3 hosts: node-1 (4 runs)")) << notes;
  EXPECT_TRUE(Contains(notes, "pool repetitions measured on more than one host")) << notes;
  EXPECT_TRUE(Contains(analysis::ToJson(*a).dump(), "\"hosts\":[{\"host\":\"node-1\",\"runs\":4}")) << notes;
}

TEST_F(ShardRunTest, MergeIsIncrementalAndIdempotent) {
  const StudySpec spec = Spec();
  const std::string out = Db("merged.db");
  std::vector<std::string> dbs;
  for (int64_t k = 1; k <= 2; ++k) {
    dbs.push_back(Db("s" + std::to_string(k) + ".db"));
    ASSERT_TRUE(RunShard(dbs.back(), Shard{k, 2}, "node-" + std::to_string(k), spec, 10.0 * k).ok());
  }
  auto first = MergeDatabases(StoreEnv(), out, {dbs[0]});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->inputs[0].added, 5);
  EXPECT_FALSE(first->studies[0].finished);
  EXPECT_EQ(first->studies[0].missing_count, 5);
  EXPECT_FALSE((*Open(out)->ReadStudy("sharded"))->finished_at_unix_s.has_value());

  // The second shard later, with the first again: only the new runs are added.
  auto second = MergeDatabases(StoreEnv(), out, {dbs[0], dbs[1]});
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->inputs[0].added, 0);
  EXPECT_EQ(second->inputs[0].already, 5);
  EXPECT_EQ(second->inputs[1].added, 5);
  EXPECT_TRUE(second->studies[0].finished);

  auto count = [&] {
    auto s = Open(out);
    auto info = *s->ReadStudy("sharded");
    return std::make_tuple(s->ReadRows("sharded")->size(), info->idle_baselines.size(),
                           s->ReadTimelines("sharded")->size(), s->ReadShards("sharded")->size(),
                           s->ReadFailedRuns("sharded")->size());
  };
  const auto before = count();
  auto again = MergeDatabases(StoreEnv(), out, {dbs[1], dbs[0]});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->inputs[0].added + again->inputs[1].added, 0);
  EXPECT_EQ(count(), before);
  EXPECT_TRUE(Contains(FormatMergeOutcome(*again), "0 added, 5 already merged"));
}

TEST_F(ShardRunTest, InterruptedShardMergesIncompleteAndResumedShardCompletesIt) {
  const StudySpec spec = Spec();
  const std::string s1 = Db("s1.db"), s2 = Db("s2.db"), out = Db("merged.db");
  ASSERT_TRUE(RunShard(s1, Shard{1, 2}, "node-1", spec).ok());
  auto cut = RunShard(s2, Shard{2, 2}, "node-2", spec, 100, /*stop_after=*/2);
  ASSERT_TRUE(cut.ok()) << cut.status().ToString();
  ASSERT_TRUE(cut->interrupted);
  ASSERT_EQ(cut->done_now, 2);

  auto m = MergeDatabases(StoreEnv(), out, {s1, s2});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->inputs[1].missing.size(), 3u);
  EXPECT_TRUE(Contains(m->inputs[1].missing[0], "run 6 ("))
      << m->inputs[1].missing[0];  // 2, 4 done; 6, 8, 10 not
  EXPECT_FALSE(m->studies[0].finished);
  EXPECT_EQ(m->studies[0].stored, 7);
  const std::string text = FormatMergeOutcome(*m);
  EXPECT_TRUE(Contains(text, "INCOMPLETE: 3 of its 5 planned runs are missing: run 6 (")) << text;
  EXPECT_TRUE(Contains(text, "--shard 2/2 --db " + s2 + " --resume")) << text;

  // --resume of that shard (same execution: its start is kept), then merge again.
  auto res = RunShard(s2, Shard{2, 2}, "node-2", spec, 200, 0, /*resume=*/true);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_TRUE(res->finished);
  auto m2 = MergeDatabases(StoreEnv(), out, {s2});
  ASSERT_TRUE(m2.ok()) << m2.status().ToString();
  EXPECT_EQ(m2->inputs[0].added, 3);
  EXPECT_EQ(m2->inputs[0].already, 2);
  EXPECT_TRUE(m2->inputs[0].missing.empty());
  EXPECT_TRUE(m2->studies[0].finished);
  EXPECT_EQ(Open(out)->CompletedRunIds("sharded")->size(), (size_t)kPlanned);
  EXPECT_EQ(Open(out)->ReadShards("sharded")->size(), 2u);
}

TEST_F(ShardRunTest, MergeRefusesAnotherSpecAndLeavesOutUntouched) {
  const std::string s1 = Db("s1.db"), other = Db("other.db"), out = Db("merged.db");
  ASSERT_TRUE(RunShard(s1, Shard{1, 2}, "node-1", Spec()).ok());
  // The same study name, another spec (one more repetition's worth of text).
  ASSERT_TRUE(RunShard(other, Shard{2, 2}, "node-2", Spec("# edited\n"), 50).ok());

  // Into a new OUT: refused, and no OUT left behind.
  auto fresh = MergeDatabases(StoreEnv(), out, {s1, other});
  ASSERT_FALSE(fresh.ok());
  EXPECT_EQ(fresh.status().kind(), Status::Kind::kFailedPrecondition);
  EXPECT_TRUE(Contains(fresh.status().message(), other + " holds study 'sharded' of another spec"))
      << fresh.status().message();
  EXPECT_FALSE(fs::exists(out));

  // Into an existing OUT: refused, nothing written.
  ASSERT_TRUE(MergeDatabases(StoreEnv(), out, {s1}).ok());
  const size_t rows = Open(out)->ReadRows("sharded")->size();
  auto refused = MergeDatabases(StoreEnv(), out, {other});
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(Contains(refused.status().message(), "spec hash")) << refused.status().message();
  EXPECT_EQ(Open(out)->ReadRows("sharded")->size(), rows);
  EXPECT_EQ(Open(out)->ReadShards("sharded")->size(), 1u);
}

TEST_F(ShardRunTest, MergeRefusesTwoDatabasesClaimingOneShardWithDifferentRuns) {
  const StudySpec spec = Spec();
  const std::string a = Db("s2-a.db"), b = Db("s2-b.db"), s1 = Db("s1.db"), out = Db("merged.db");
  ASSERT_TRUE(RunShard(s1, Shard{1, 2}, "node-1", spec).ok());
  ASSERT_TRUE(RunShard(a, Shard{2, 2}, "node-2", spec, 100).ok());
  ASSERT_TRUE(RunShard(b, Shard{2, 2}, "node-3", spec, 900).ok());  // shard 2 again, elsewhere

  // In one merge: all or nothing.
  auto both = MergeDatabases(StoreEnv(), out, {s1, a, b});
  ASSERT_FALSE(both.ok());
  EXPECT_EQ(both.status().kind(), Status::Kind::kFailedPrecondition);
  EXPECT_TRUE(
      Contains(both.status().message(), "both claim shard 2/2 of study 'sharded' with different runs"))
      << both.status().message();
  EXPECT_TRUE(Contains(both.status().message(), a)) << both.status().message();
  EXPECT_TRUE(Contains(both.status().message(), b)) << both.status().message();
  EXPECT_FALSE(fs::exists(out));

  // Against what OUT holds already.
  ASSERT_TRUE(MergeDatabases(StoreEnv(), out, {s1, a}).ok());
  const size_t rows = Open(out)->ReadRows("sharded")->size();
  auto later = MergeDatabases(StoreEnv(), out, {b});
  ASSERT_FALSE(later.ok());
  EXPECT_TRUE(Contains(later.status().message(), "shard 2/2")) << later.status().message();
  EXPECT_EQ(Open(out)->ReadRows("sharded")->size(), rows);

  // A whole unsharded study of the same spec measured the same runs differently.
  ASSERT_TRUE(RunShard(Db("all.db"), Shard{}, "node-4", spec, 5000).ok());
  auto whole = MergeDatabases(StoreEnv(), out, {Db("all.db")});
  ASSERT_FALSE(whole.ok());
  EXPECT_TRUE(Contains(whole.status().message(), "with different measurements")) << whole.status().message();
  EXPECT_EQ(Open(out)->ReadRows("sharded")->size(), rows);
}

TEST_F(ShardRunTest, MergeRefusesBadInputs) {
  const std::string s1 = Db("s1.db"), out = Db("merged.db");
  ASSERT_TRUE(RunShard(s1, Shard{1, 2}, "node-1", Spec()).ok());
  auto none = MergeDatabases(StoreEnv(), out, {});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().kind(), Status::Kind::kInvalidArgument);
  auto self = MergeDatabases(StoreEnv(), s1, {s1});
  ASSERT_FALSE(self.ok());
  EXPECT_TRUE(Contains(self.status().message(), "both the output and an input")) << self.status().message();
  auto missing = MergeDatabases(StoreEnv(), out, {Db("nope.db")});
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(Contains(missing.status().message(), "no database at")) << missing.status().message();
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace wattlab
