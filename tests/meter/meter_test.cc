// Meter tests: windows (nested, overlapping), idle subtraction, MeasureIdle,
// cpu_util and per-process attribution from a procfs tree written at test
// time, with fake sources and a virtual clock.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "meter/busy.h"
#include "meter/detect.h"
#include "meter/json.h"
#include "meter/local_rank.h"
#include "meter/meter_impl.h"
#include "meter_fakes.h"
#include "platform/real_env.h"

namespace wattlab {
namespace {

namespace fs = std::filesystem;
using std::chrono::nanoseconds;
using testing::Dom;
using testing::FakeSource;
using testing::Ms;
using testing::VirtualClockEnv;

class MeterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("wattlab-meter-test-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(root_ / "proc/4242");
    WriteProc("cpu  100 0 100 800 0 0 0 0 0 0\n",
              "4242 (worker) S 1 4242 4242 0 -1 0 0 0 0 0 10 5 0 0 20 0 1 0 1 0 0\n");
    Roots r;
    r.proc = (root_ / "proc").string();
    real_ = NewRealEnv(r);
    env_ = std::make_unique<VirtualClockEnv>(real_.get());
  }
  void TearDown() override {
    meter_.reset();
    fs::remove_all(root_);
  }
  void WriteProc(const std::string& stat, const std::string& pid_stat) {
    std::ofstream(root_ / "proc/stat") << stat;
    std::ofstream(root_ / "proc/4242/stat") << pid_stat;
  }
  // Builds a meter over a package (10 W counter) and a dram (3 W counter).
  void MakeMeter(nanoseconds interval = Ms(100), std::optional<int> local_rank = std::nullopt) {
    DetectionReport rep;
    rep.chosen.push_back(std::make_unique<FakeSource>(
        env_.get(), "rapl-powercap",
        std::vector<FakeSource::Domain>{{Dom("package-0", Component::kCpu), 10.0, 0},
                                        {Dom("core-0", Component::kCpu, true, 0, /*in_total=*/false), 6.0, 0},
                                        {Dom("dram-0", Component::kDram), 3.0, 0}}));
    SourceAttempt a;
    a.source = "rapl-powercap";
    a.available = a.chosen = true;
    rep.attempts.push_back(a);
    MeterOptions o;
    o.interval = interval;
    o.local_rank = local_rank;
    meter_ = NewMeterFromDetection(env_.get(), o, std::move(rep));
  }
  void Finish() {
    env_->FreeRun();
    ASSERT_TRUE(meter_->Stop().ok());
  }

  fs::path root_;
  std::unique_ptr<Env> real_;
  std::unique_ptr<VirtualClockEnv> env_;
  std::unique_ptr<Meter> meter_;
};

TEST_F(MeterTest, NestedAndOverlappingWindows) {
  MakeMeter();
  ASSERT_TRUE(meter_->Start().ok());
  auto outer = meter_->BeginWindow("train");
  env_->RunUntil(Ms(1000));
  auto inner = meter_->BeginWindow("epoch 1");
  env_->RunUntil(Ms(1500));
  auto overlap = meter_->BeginWindow("eval");
  env_->RunUntil(Ms(2000));
  auto ri = meter_->EndWindow(inner);
  env_->RunUntil(Ms(2500));
  auto ro = meter_->EndWindow(overlap);
  env_->RunUntil(Ms(3000));
  auto rt = meter_->EndWindow(outer);
  Finish();
  ASSERT_TRUE(ri.ok() && ro.ok() && rt.ok()) << rt.status().ToString();
  EXPECT_EQ(ri->name, "epoch 1");
  EXPECT_NEAR(ri->duration_s, 1.0, 1e-12);
  EXPECT_NEAR(ri->start_s, 1.0, 1e-12);
  EXPECT_NEAR(ri->energy_j, 13.0, 1e-9);  // package 10 + dram 3; core is nested, not summed
  EXPECT_NEAR(ri->mean_power_w, 13.0, 1e-9);
  EXPECT_EQ(ri->samples, 10);
  EXPECT_NEAR(ro->energy_j, 13.0, 1e-9);
  EXPECT_NEAR(rt->energy_j, 39.0, 1e-9);
  EXPECT_NEAR(rt->duration_s, 3.0, 1e-12);
  ASSERT_EQ(rt->domains.size(), 3u);
  EXPECT_EQ(rt->domains[1].name, "core-0");
  EXPECT_FALSE(rt->domains[1].in_total);
  EXPECT_NEAR(rt->domains[1].energy_j, 18.0, 1e-9);
  EXPECT_NEAR(rt->domains[2].mean_power_w, 3.0, 1e-9);
  EXPECT_EQ(rt->sources, std::vector<std::string>{"rapl-powercap"});
  EXPECT_FALSE(rt->estimated);
  EXPECT_FALSE(rt->idle_power_w.has_value());
  EXPECT_FALSE(rt->energy_above_idle_j.has_value());
  EXPECT_FALSE(rt->attributed_share.has_value());
}

TEST_F(MeterTest, UnknownOrRepeatedWindowIsAnError) {
  MakeMeter();
  auto early = meter_->BeginWindow("before start");
  EXPECT_EQ(meter_->EndWindow(early).status().kind(), Status::Kind::kFailedPrecondition);
  ASSERT_TRUE(meter_->Start().ok());
  auto w = meter_->BeginWindow("x");
  EXPECT_TRUE(meter_->EndWindow(w).ok());
  EXPECT_EQ(meter_->EndWindow(w).status().kind(), Status::Kind::kInvalidArgument);
  EXPECT_EQ(meter_->EndWindow(12345).status().kind(), Status::Kind::kInvalidArgument);
  Finish();
}

TEST_F(MeterTest, SubtractsIdlePower) {
  MakeMeter();
  ASSERT_TRUE(meter_->Start().ok());
  meter_->SetIdlePower(5.0);
  auto w = meter_->BeginWindow("infer");
  env_->RunUntil(Ms(2000));
  auto r = meter_->EndWindow(w);
  Finish();
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->energy_above_idle_j.has_value());
  EXPECT_NEAR(*r->idle_power_w, 5.0, 1e-12);
  EXPECT_NEAR(*r->energy_above_idle_j, 26.0 - 10.0, 1e-9);
}

TEST_F(MeterTest, MeasureIdleSetsTheBaseline) {
  MakeMeter();
  ASSERT_TRUE(meter_->Start().ok());
  env_->FreeRun();  // MeasureIdle sleeps on this thread
  auto idle = meter_->MeasureIdle(Ms(500));
  ASSERT_TRUE(idle.ok()) << idle.status().ToString();
  // Free-running virtual time jumps by a whole sampler period whenever the
  // other sleeping thread wakes, which can fall between a tick's one clock
  // read and its counter reads (about 3% here, once in ~30 runs); real time
  // moves microseconds there. Exact joules are checked by the RunUntil tests.
  EXPECT_NEAR(idle->power_w, 13.0, 13.0 * 0.05);
  EXPECT_NEAR(*meter_->idle_power_w(), idle->power_w, 1e-12);
  auto per_domain = meter_->idle_domain_powers_w();
  ASSERT_EQ(per_domain.size(), 2u);  // in_total domains only
  EXPECT_EQ(per_domain[0].first, "package-0");
  EXPECT_NEAR(per_domain[0].second, 10.0, 10.0 * 0.05);
  ASSERT_TRUE(meter_->Stop().ok());
}

// The per-domain idle powers go with the whole-machine figure: setting a
// new whole-machine idle power drops per-domain figures of an older one.
TEST_F(MeterTest, SetIdlePowerClearsPerDomainIdle) {
  MakeMeter();
  EXPECT_TRUE(meter_->idle_domain_powers_w().empty());
  meter_->SetIdlePower(7.0);
  meter_->SetIdleDomainPowers({{"package-0", 4.0}, {"dram-0", 3.0}});
  ASSERT_EQ(meter_->idle_domain_powers_w().size(), 2u);
  EXPECT_EQ(meter_->idle_domain_powers_w()[1].first, "dram-0");
  meter_->SetIdlePower(8.0);
  EXPECT_TRUE(meter_->idle_domain_powers_w().empty());
  EXPECT_NEAR(*meter_->idle_power_w(), 8.0, 1e-12);
}

TEST_F(MeterTest, MeasureIdleNeedsAStartedMeter) {
  MakeMeter();
  EXPECT_EQ(meter_->MeasureIdle(Ms(10)).status().kind(), Status::Kind::kFailedPrecondition);
  EXPECT_EQ(meter_->MeasureIdle(Ms(0)).status().kind(), Status::Kind::kInvalidArgument);
}

// /proc/stat: busy 200 -> 500 (+300), total 1000 -> 1500 (+500): util 0.6.
// pid 4242: utime+stime 15 -> 105 (+90): share 90/300 = 0.3.
// Package (the only in_total cpu domain): 10 W x 2 s = 20 J; dram 6 J.
class MeterAttributionTest : public MeterTest {
 protected:
  Result<WindowResult> RunWindow() {
    MakeMeter();
    EXPECT_TRUE(meter_->Start().ok());
    meter_->SetAttributionPid(4242);
    auto w = meter_->BeginWindow("train");
    WriteProc("cpu  300 0 200 1000 0 0 0 0 0 0\n",
              "4242 (worker) S 1 4242 4242 0 -1 0 0 0 0 0 70 35 0 0 20 0 1 0 1 0 0\n");
    env_->RunUntil(Ms(2000));
    auto r = meter_->EndWindow(w);
    Finish();
    return r;
  }
};

TEST_F(MeterAttributionTest, ShareOfCpuEnergyWithoutIdle) {
  auto r = RunWindow();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NEAR(r->cpu_util, 0.6, 1e-12);
  ASSERT_TRUE(r->attributed_share.has_value());
  EXPECT_NEAR(*r->attributed_share, 0.3, 1e-12);
  EXPECT_NEAR(*r->attributed_energy_j, 0.3 * 20.0, 1e-9);
}

TEST_F(MeterAttributionTest, ShareOfDynamicCpuEnergyWithPerDomainIdle) {
  MakeMeter();
  meter_->SetIdlePower(7.0);
  meter_->SetIdleDomainPowers({{"package-0", 4.0}, {"dram-0", 3.0}});
  ASSERT_TRUE(meter_->Start().ok());
  meter_->SetAttributionPid(4242);
  auto w = meter_->BeginWindow("train");
  WriteProc("cpu  300 0 200 1000 0 0 0 0 0 0\n",
            "4242 (worker) S 1 4242 4242 0 -1 0 0 0 0 0 70 35 0 0 20 0 1 0 1 0 0\n");
  env_->RunUntil(Ms(2000));
  auto r = meter_->EndWindow(w);
  Finish();
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(*r->energy_above_idle_j, 26.0 - 14.0, 1e-9);
  EXPECT_NEAR(*r->attributed_energy_j, 0.3 * (20.0 - 8.0), 1e-9);  // package idle 4 W x 2 s
}

TEST_F(MeterAttributionTest, WholeMachineIdleIsSplitLikeTheWindow) {
  MakeMeter();
  meter_->SetIdlePower(6.5);  // 13 J over 2 s; cpu part 20/26 of it = 10 J
  ASSERT_TRUE(meter_->Start().ok());
  meter_->SetAttributionPid(4242);
  auto w = meter_->BeginWindow("train");
  WriteProc("cpu  300 0 200 1000 0 0 0 0 0 0\n",
            "4242 (worker) S 1 4242 4242 0 -1 0 0 0 0 0 70 35 0 0 20 0 1 0 1 0 0\n");
  env_->RunUntil(Ms(2000));
  auto r = meter_->EndWindow(w);
  Finish();
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(*r->attributed_energy_j, 0.3 * 10.0, 1e-9);
}

TEST_F(MeterAttributionTest, ShareIsClampedToOne) {
  MakeMeter();
  ASSERT_TRUE(meter_->Start().ok());
  meter_->SetAttributionPid(4242);
  auto w = meter_->BeginWindow("train");
  // Machine +10 busy ticks, the tree +90 (tick rounding across CPUs).
  WriteProc("cpu  110 0 100 1290 0 0 0 0 0 0\n",
            "4242 (worker) S 1 4242 4242 0 -1 0 0 0 0 0 70 35 0 0 20 0 1 0 1 0 0\n");
  env_->RunUntil(Ms(1000));
  auto r = meter_->EndWindow(w);
  Finish();
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(*r->attributed_share, 1.0, 1e-12);
  EXPECT_NEAR(*r->attributed_energy_j, 10.0, 1e-9);
}

// One meter per node (docs/scale.md). The same window as
// MeterAttributionTest: share 0.3, package 20 J, dram 6 J over 2 s.
class MeterLocalRankTest : public MeterTest {
 protected:
  // Each call from a fresh clock and /proc (a test may compare two runs).
  Result<WindowResult> RunWindow(std::optional<int> local_rank) {
    meter_.reset();
    env_ = std::make_unique<VirtualClockEnv>(real_.get());
    WriteProc("cpu  100 0 100 800 0 0 0 0 0 0\n",
              "4242 (worker) S 1 4242 4242 0 -1 0 0 0 0 0 10 5 0 0 20 0 1 0 1 0 0\n");
    MakeMeter(Ms(100), local_rank);
    meter_->SetIdlePower(7.0);
    meter_->SetIdleDomainPowers({{"package-0", 4.0}, {"dram-0", 3.0}});
    EXPECT_TRUE(meter_->Start().ok());
    meter_->SetAttributionPid(4242);
    auto w = meter_->BeginWindow("train");
    WriteProc("cpu  300 0 200 1000 0 0 0 0 0 0\n",
              "4242 (worker) S 1 4242 4242 0 -1 0 0 0 0 0 70 35 0 0 20 0 1 0 1 0 0\n");
    env_->RunUntil(Ms(2000));
    auto r = meter_->EndWindow(w);
    Finish();
    return r;
  }
};

TEST_F(MeterLocalRankTest, RankAbove0ReportsItsShareAndNoNodeEnergy) {
  auto r = RunWindow(1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(meter_->node_metered());
  EXPECT_TRUE(meter_->sources().empty());  // not one source read, not even the estimate
  EXPECT_TRUE(meter_->domains().empty());
  EXPECT_FALSE(r->node_metered);
  EXPECT_EQ(r->local_rank, 1);
  EXPECT_EQ(r->energy_j, 0.0);
  EXPECT_TRUE(r->domains.empty());
  EXPECT_TRUE(r->sources.empty());
  EXPECT_FALSE(r->idle_power_w.has_value());  // no node energy to subtract a baseline from
  EXPECT_FALSE(r->energy_above_idle_j.has_value());
  EXPECT_NEAR(r->duration_s, 2.0, 1e-12);
  EXPECT_NEAR(r->cpu_util, 0.6, 1e-12);
  ASSERT_TRUE(r->attributed_share.has_value());
  EXPECT_NEAR(*r->attributed_share, 0.3, 1e-12);
  EXPECT_FALSE(r->attributed_energy_j.has_value());

  nlohmann::json j = WindowToJson(*r, WindowWork{100, std::nullopt});
  EXPECT_EQ(j.at("local_rank"), 1);
  EXPECT_EQ(j.at("node_metered_by"), "local rank 0");
  for (const char* k :
       {"energy_j", "mean_power_w", "energy_above_idle_j", "attributed_energy_j", "energy_per_sample_j"})
    EXPECT_TRUE(j.at(k).is_null()) << k << ": " << j.dump();
  EXPECT_NEAR(j.at("attributed_share").get<double>(), 0.3, 1e-12);
  EXPECT_EQ(j.at("domains"), nlohmann::json::array());
}

TEST_F(MeterLocalRankTest, Rank0MetersTheNodeAsALoneProcessDoes) {
  auto lone = RunWindow(std::nullopt);
  ASSERT_TRUE(lone.ok()) << lone.status().ToString();
  auto r = RunWindow(0);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(meter_->node_metered());
  EXPECT_TRUE(r->node_metered);
  EXPECT_EQ(r->local_rank, 0);
  EXPECT_FALSE(lone->local_rank.has_value());
  EXPECT_NEAR(r->energy_j, 26.0, 1e-9);
  EXPECT_EQ(r->energy_j, lone->energy_j);
  EXPECT_NEAR(*r->energy_above_idle_j, 26.0 - 14.0, 1e-9);
  EXPECT_NEAR(*r->attributed_energy_j, 0.3 * (20.0 - 8.0), 1e-9);
  EXPECT_EQ(r->domains.size(), lone->domains.size());

  nlohmann::json j = WindowToJson(*r), jl = WindowToJson(*lone);
  EXPECT_EQ(j.at("local_rank"), 0);
  EXPECT_FALSE(j.contains("node_metered_by"));
  EXPECT_FALSE(jl.contains("local_rank"));  // outside a job: the shape as before
  j.erase("local_rank");
  EXPECT_EQ(j, jl);
}

TEST_F(MeterLocalRankTest, RankAbove0MeasuresNoIdle) {
  MakeMeter(Ms(100), 2);
  ASSERT_TRUE(meter_->Start().ok());
  auto idle = meter_->MeasureIdle(Ms(100));
  EXPECT_EQ(idle.status().kind(), Status::Kind::kFailedPrecondition);
  EXPECT_NE(idle.status().message().find("local rank 0 meters the node"), std::string::npos)
      << idle.status().message();
  Finish();
}

TEST_F(MeterLocalRankTest, CreateAtRankAbove0ProbesNothing) {
  MeterOptions o;
  o.local_rank = 3;
  auto m = Meter::Create(env_.get(), o);  // the temp root has no /sys at all
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_FALSE((*m)->node_metered());
  EXPECT_TRUE((*m)->attempts().empty());
  EXPECT_TRUE((*m)->sources().empty());
  o.interval = nanoseconds(0);
  EXPECT_EQ(Meter::Create(env_.get(), o).status().kind(), Status::Kind::kInvalidArgument);
}

class VarsEnv : public ForwardingEnv {
 public:
  VarsEnv(Env* t, std::map<std::string, std::string> vars) : ForwardingEnv(t), vars_(std::move(vars)) {}
  std::optional<std::string> GetEnvVar(const std::string& n) override {
    auto it = vars_.find(n);
    if (it == vars_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::string, std::string> vars_;
};

TEST_F(MeterTest, LocalRankFromSlurmAndTorchVariables) {
  auto rank = [&](std::map<std::string, std::string> vars) {
    VarsEnv e(real_.get(), std::move(vars));
    return LocalRankFromEnv(&e);
  };
  auto none = rank({});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  auto empty = rank({{"LOCAL_RANK", ""}});
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
  struct Case {
    std::map<std::string, std::string> vars;
    int rank;
    std::string from;
  };
  for (const Case& c : std::vector<Case>{
           {{{"SLURM_LOCALID", "0"}}, 0, "SLURM_LOCALID=0"},
           {{{"LOCAL_RANK", "1"}}, 1, "LOCAL_RANK=1"},
           {{{"SLURM_LOCALID", "3"}}, 3, "SLURM_LOCALID=3"},
           // torchrun under srun, one task per node: torchrun's workers decide.
           {{{"SLURM_LOCALID", "0"}, {"LOCAL_RANK", "2"}}, 2, "LOCAL_RANK=2"},
           {{{"SLURM_LOCALID", "1"}, {"LOCAL_RANK", "0"}}, 1, "SLURM_LOCALID=1"},
           {{{"SLURM_LOCALID", "0"}, {"LOCAL_RANK", "0"}}, 0, "SLURM_LOCALID=0"},
       }) {
    auto r = rank(c.vars);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(r->has_value());
    EXPECT_EQ((*r)->rank, c.rank) << c.from;
    EXPECT_EQ((*r)->from, c.from);
  }
  for (const char* bad : {"x", "-1", "+1", "1.5", " 1", "1 "}) {
    auto r = rank({{"LOCAL_RANK", bad}});
    EXPECT_EQ(r.status().kind(), Status::Kind::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("$LOCAL_RANK"), std::string::npos) << r.status().message();
  }
}

TEST_F(MeterTest, OnlyLocalRank0MayRecordNodeEnergy) {
  VarsEnv alone(real_.get(), {});
  EXPECT_TRUE(CheckMetersNode(&alone, "a study").ok());
  VarsEnv zero(real_.get(), {{"SLURM_LOCALID", "0"}});
  EXPECT_TRUE(CheckMetersNode(&zero, "a study").ok());
  VarsEnv one(real_.get(), {{"LOCAL_RANK", "1"}});
  Status st = CheckMetersNode(&one, "a study");
  EXPECT_EQ(st.kind(), Status::Kind::kFailedPrecondition);
  EXPECT_NE(st.message().find("local rank 1 on this node (LOCAL_RANK=1): a study records the node's energy, "
                              "which only local rank 0 reads"),
            std::string::npos)
      << st.message();
}

TEST_F(MeterTest, AReadErrorFailsOnlyTheWindowsItFallsIn) {
  DetectionReport rep;
  auto src = std::make_unique<FakeSource>(
      env_.get(), "rapl-powercap",
      std::vector<FakeSource::Domain>{{Dom("package-0", Component::kCpu), 10.0, 0}});
  FakeSource* fake = src.get();
  rep.chosen.push_back(std::move(src));
  meter_ = NewMeterFromDetection(env_.get(), MeterOptions{}, std::move(rep));
  ASSERT_TRUE(meter_->Start().ok());
  fake->FailOnRead(4, "transient EIO");  // reads: 1 Start, 2 begin edge, 3 at 0.1 s, 4 at 0.2 s
  auto hit = meter_->BeginWindow("hit");
  env_->RunUntil(Ms(500));
  auto r1 = meter_->EndWindow(hit);
  EXPECT_EQ(r1.status().kind(), Status::Kind::kIOError);
  EXPECT_NE(r1.status().message().find("window 'hit'"), std::string::npos);
  auto later = meter_->BeginWindow("later");
  env_->RunUntil(Ms(1000));
  auto r2 = meter_->EndWindow(later);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  EXPECT_NEAR(r2->energy_j, 5.0, 1e-9);
  env_->FreeRun();
  EXPECT_EQ(meter_->Stop().kind(), Status::Kind::kIOError);  // Stop still reports it
}

TEST_F(MeterTest, ReportsSourcesAndEstimatedFlag) {
  DetectionReport rep;
  rep.chosen.push_back(std::make_unique<FakeSource>(
      env_.get(), "nvml", std::vector<FakeSource::Domain>{{Dom("gpu-0", Component::kGpu), 100.0, 0}}));
  rep.chosen.push_back(std::make_unique<FakeSource>(
      env_.get(), "estimate",
      std::vector<FakeSource::Domain>{{Dom("cpu", Component::kCpu, false, 0, true, true), 20.0, 0}}, Ms(10)));
  MeterOptions o;
  meter_ = NewMeterFromDetection(env_.get(), o, std::move(rep));
  EXPECT_EQ(meter_->sources(), (std::vector<std::string>{"nvml", "estimate"}));
  EXPECT_TRUE(meter_->estimated());
  ASSERT_TRUE(meter_->Start().ok());
  auto w = meter_->BeginWindow("infer");
  env_->RunUntil(Ms(1000));
  auto r = meter_->EndWindow(w);
  Finish();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->estimated);
  EXPECT_EQ(r->sources, (std::vector<std::string>{"nvml", "estimate"}));
  EXPECT_NEAR(r->energy_j, 120.0, 1e-9);
  ASSERT_FALSE(meter_->Timeline().empty());
  EXPECT_NEAR(meter_->Timeline().back().power_w[1], 20.0, 1e-9);
}

// ---- the estimate stays inside its model; busy idle baselines (meter/busy.h)

DomainInfo EstimatedCpu(double max_w) {
  DomainInfo d = testing::Dom("cpu", Component::kCpu, /*counter=*/false, 0, true, /*estimated=*/true);
  d.max_power_w = max_w;
  return d;
}

class ModelledMeterTest : public MeterTest {
 protected:
  // One estimated power domain with a 10 W maximum, read every 100 ms; the
  // first reading is `first_w`, every later one `then_w`.
  FakeSource* MakeModelled(double first_w, double then_w) {
    DetectionReport rep;
    auto src = std::make_unique<FakeSource>(
        env_.get(), "estimate", std::vector<FakeSource::Domain>{{EstimatedCpu(10.0), then_w, 0}}, Ms(100));
    src->Script({{first_w}});
    FakeSource* raw = src.get();
    rep.chosen.push_back(std::move(src));
    SourceAttempt a;
    a.source = "estimate";
    a.available = a.chosen = true;
    rep.attempts.push_back(a);
    MeterOptions o;
    o.interval = Ms(100);
    meter_ = NewMeterFromDetection(env_.get(), o, std::move(rep));
    return raw;
  }
};

TEST_F(ModelledMeterTest, AWindowNeverExceedsTheModelsMaximum) {
  MakeModelled(1.0, 10.0);
  ASSERT_TRUE(meter_->Start().ok());
  env_->RunUntil(Ms(50));
  auto w = meter_->BeginWindow("idle");  // between reads: 1 W extrapolated into it
  env_->RunUntil(Ms(150));               // the read at 100 ms says 10 W since 0 ms
  auto r = meter_->EndWindow(w);
  Finish();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Unclamped: (10 x 0.1 + 10 x 0.05 - 1 x 0.05) J / 0.1 s = 14.5 W.
  EXPECT_LE(r->mean_power_w, 10.0 + 1e-9);
  EXPECT_NEAR(r->energy_j, 1.0, 1e-9);
}

TEST_F(ModelledMeterTest, IdleNearTheMaximumIsBusyAndFlagsLaterWindows) {
  MakeModelled(9.8, 9.8);
  ASSERT_TRUE(meter_->Start().ok());
  env_->FreeRun();
  auto idle = meter_->MeasureIdle(Ms(500));
  ASSERT_TRUE(idle.ok()) << idle.status().ToString();
  EXPECT_NEAR(idle->power_w, 9.8, 1e-9);
  EXPECT_TRUE(idle->busy);
  EXPECT_NE(idle->busy_reason.find("within 5% of the estimate's maximum of 10.00 W"), std::string::npos)
      << idle->busy_reason;
  auto w = meter_->BeginWindow("infer");
  auto r = meter_->EndWindow(w);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->idle_busy);
  meter_->SetIdlePower(3.0);  // a baseline set by hand is taken as quiet
  auto w2 = meter_->BeginWindow("infer");
  auto r2 = meter_->EndWindow(w2);
  ASSERT_TRUE(r2.ok());
  EXPECT_FALSE(r2->idle_busy);
  ASSERT_TRUE(meter_->Stop().ok());
}

TEST(BusyIdle, TheOneDefinition) {
  EXPECT_FALSE(JudgeIdle(0.05, 5, std::nullopt).busy);
  EXPECT_FALSE(JudgeIdle(0.10, 5, std::nullopt).busy);  // "exceeds 10%"
  auto cpu = JudgeIdle(0.52, 5, std::nullopt);
  EXPECT_TRUE(cpu.busy);
  EXPECT_EQ(cpu.reason, "the CPU was 52% busy during it (more than 10%)");
  EXPECT_FALSE(JudgeIdle(0.0, 9.4, 10.0).busy);
  EXPECT_TRUE(JudgeIdle(0.0, 9.5, 10.0).busy);  // within 5% of the maximum
  EXPECT_TRUE(JudgeIdle(0.0, 12.597, 12.578).busy);
  EXPECT_FALSE(JudgeIdle(0.0, 9.9, std::nullopt).busy);  // measured by counters: no model maximum
  // The model's maximum exists only when every domain of the total is estimated.
  std::vector<DomainInfo> est = {EstimatedCpu(8.0), EstimatedCpu(4.0)};
  EXPECT_DOUBLE_EQ(*EstimateMaximumW(est), 12.0);
  est.push_back(testing::Dom("package-0", Component::kCpu));
  EXPECT_FALSE(EstimateMaximumW(est).has_value());
  EXPECT_NE(
      BusyIdleWarning(cpu, 11.25).find("the idle baseline (11.25 W) was measured while the machine was busy"),
      std::string::npos);
}

}  // namespace
}  // namespace wattlab
