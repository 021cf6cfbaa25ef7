// The estimate source and the TDP table: exact watts from scripted /proc/stat
// sequences, TDP lookups for real /proc/cpuinfo model strings.
#include "meter/estimate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <memory>
#include <string>
#include <utility>

#include "meter/cpu_tdp_table.h"
#include "core/env.h"
#include "platform/real_env.h"

namespace wattlab {
namespace {

std::unique_ptr<Env> ProcEnv(const std::string& fixture) {
  Roots roots;
  roots.proc = std::string(WATTLAB_FIXTURES_DIR) + "/" + fixture;
  return NewRealEnv(roots);
}

// /proc/stat served from a script: each ReadFile pops the next text (the
// last one repeats); everything else comes from the fixture tree.
class ScriptedStatEnv : public ForwardingEnv {
 public:
  using ForwardingEnv::ForwardingEnv;
  std::deque<std::string> stats;
  Result<std::string> ReadFile(const std::string& p) override {
    if (p == "/proc/stat" && !stats.empty()) {
      std::string s = stats.front();
      if (stats.size() > 1) stats.pop_front();
      return s;
    }
    return ForwardingEnv::ReadFile(p);
  }
};

std::string StatLine(uint64_t user, uint64_t system, uint64_t idle) {
  return "cpu  " + std::to_string(user) + " 0 " + std::to_string(system) + " " + std::to_string(idle) +
         " 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n";
}

std::string Fact(const SourceAttempt& a, const std::string& key) {
  for (const auto& [k, v] : a.facts)
    if (k == key) return v;
  return "";
}

TEST(EstimateModelTest, LoadModelIsCodeCarbons) {
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(100, 0), 10);
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(100, 0.5), 21.25);
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(100, 1), 100);
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(100, 2), 100);   // clamped
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(100, -1), 10);   // clamped
}

TEST(EstimateModelTest, UtilisationBetweenSnapshots) {
  CpuTimes a, b;
  a.user = 100;
  a.idle = 100;
  b = a;
  EXPECT_FALSE(UtilisationBetween(a, b).has_value());  // no tick passed
  b.user = 130;
  b.idle = 170;
  EXPECT_DOUBLE_EQ(*UtilisationBetween(a, b), 0.3);
  b.steal = 0;
  b.iowait = 100;  // iowait counts as idle time
  EXPECT_DOUBLE_EQ(*UtilisationBetween(a, b), 30.0 / 200.0);
  EXPECT_FALSE(UtilisationBetween(b, a).has_value());  // backwards
}

TEST(EstimateSourceTest, ExactWattsAsProcStatChanges) {
  auto fixture = ProcEnv("proc-i7-8700k");
  ScriptedStatEnv env(fixture.get());
  env.stats = {
      StatLine(1000, 500, 8000),  // probe snapshot
      StatLine(1030, 520, 8050),  // +50 busy, +50 idle: u = 0.5
      StatLine(1130, 520, 8050),  // +100 busy: u = 1
      StatLine(1130, 520, 8050),  // no tick: repeats u = 1
      StatLine(1130, 520, 8150),  // +100 idle: u = 0
  };
  MeterOptions opt;
  opt.cpu_tdp_w = 100;
  ProbeResult r = ProbeEstimate(&env, opt);
  ASSERT_TRUE(r.attempt.available) << r.attempt.reason;
  ASSERT_NE(r.source, nullptr);
  EXPECT_EQ(r.source->name(), "estimate");
  EXPECT_EQ(r.source->min_interval(), std::chrono::milliseconds(10));
  const auto& d = r.source->domains();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].name, "cpu");
  EXPECT_EQ(d[0].component, Component::kCpu);
  EXPECT_EQ(d[1].name, "dram");
  EXPECT_EQ(d[1].component, Component::kDram);
  for (const auto& dom : d) {
    EXPECT_TRUE(dom.estimated);
    EXPECT_FALSE(dom.is_counter);
    EXPECT_TRUE(dom.in_total);
    EXPECT_EQ(dom.source, "estimate");
  }
  const double dram_w = 0.375 * 32768000.0 / (1024 * 1024);  // 31.25 GiB
  std::vector<Reading> out(2);
  ASSERT_TRUE(r.source->Read(out).ok());
  EXPECT_DOUBLE_EQ(out[0].power_w.value_or(NAN), 21.25);
  EXPECT_DOUBLE_EQ(out[1].power_w.value_or(NAN), dram_w);
  ASSERT_TRUE(r.source->Read(out).ok());
  EXPECT_DOUBLE_EQ(out[0].power_w.value_or(NAN), 100);
  ASSERT_TRUE(r.source->Read(out).ok());
  EXPECT_DOUBLE_EQ(out[0].power_w.value_or(NAN), 100);
  ASSERT_TRUE(r.source->Read(out).ok());
  EXPECT_DOUBLE_EQ(out[0].power_w.value_or(NAN), 10);
  EXPECT_DOUBLE_EQ(out[1].power_w.value_or(NAN), 11.71875);
  EXPECT_EQ(Fact(r.attempt, "estimate.cpu_tdp_method"), "override");
}

TEST(EstimateSourceTest, TableTdpAndInformativeFacts) {
  auto fixture = ProcEnv("proc-i7-8700k");
  ScriptedStatEnv env(fixture.get());
  env.stats = {StatLine(0, 0, 0), StatLine(50, 0, 50)};
  ProbeResult r = ProbeEstimate(&env, MeterOptions{});
  ASSERT_TRUE(r.attempt.available);
  std::vector<Reading> out(2);
  ASSERT_TRUE(r.source->Read(out).ok());
  EXPECT_DOUBLE_EQ(out[0].power_w.value_or(NAN), 95 * (0.1 + 0.9 * 0.125));
  EXPECT_EQ(Fact(r.attempt, "estimate.cpu_tdp_w"), "95");
  EXPECT_EQ(Fact(r.attempt, "estimate.cpu_tdp_method"), "table");
  EXPECT_NE(Fact(r.attempt, "estimate.cpu_tdp").find("table row 'Core i7-8700K'"), std::string::npos);
  EXPECT_NE(Fact(r.attempt, "estimate.cpu_tdp").find("source:"), std::string::npos);
  EXPECT_NE(Fact(r.attempt, "estimate.cpu_model").find("idle 10% of TDP = 9.5 W"), std::string::npos);
  EXPECT_NE(Fact(r.attempt, "estimate.dram").find("0.375 W/GiB x 31.25 GiB"), std::string::npos);
  EXPECT_EQ(Fact(r.attempt, "cpu.model_name"), "Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz");
  EXPECT_NE(r.source->domains()[0].note.find("Core i7-8700K"), std::string::npos);
}

TEST(EstimateSourceTest, FirstReadAveragesSinceProbeNotSinceBoot) {
  // A machine busy since boot (90%) that is idle after the probe reads idle.
  auto fixture = ProcEnv("proc-i7-8700k");
  ScriptedStatEnv env(fixture.get());
  env.stats = {StatLine(9000, 0, 1000), StatLine(9000, 0, 1100)};
  MeterOptions opt;
  opt.cpu_tdp_w = 50;
  ProbeResult r = ProbeEstimate(&env, opt);
  std::vector<Reading> out(2);
  ASSERT_TRUE(r.source->Read(out).ok());
  EXPECT_DOUBLE_EQ(out[0].power_w.value_or(NAN), 5);
}

TEST(EstimateSourceTest, EpycVmUsesGenerationPerThread) {
  auto env = ProcEnv("proc-epyc-vm");
  ProbeResult r = ProbeEstimate(env.get(), MeterOptions{});
  ASSERT_TRUE(r.attempt.available);
  EXPECT_EQ(Fact(r.attempt, "estimate.cpu_tdp_method"), "generation");
  EXPECT_EQ(Fact(r.attempt, "estimate.cpu_tdp_w"), "3.75");  // 360 W / 192 threads x 2
  EXPECT_NE(Fact(r.attempt, "estimate.cpu_tdp").find("Genoa"), std::string::npos);
  EXPECT_EQ(Fact(r.attempt, "cpu.virtual_machine"), "yes");
}

TEST(EstimateSourceTest, BadOverrideIsReportedNotUsed) {
  auto env = ProcEnv("proc-i7-8700k");
  MeterOptions opt;
  opt.cpu_tdp_w = -5;
  EXPECT_EQ(ValidateEstimateOptions(opt).kind(), Status::Kind::kInvalidArgument);
  ProbeResult r = ProbeEstimate(env.get(), opt);
  EXPECT_FALSE(r.attempt.available);
  EXPECT_EQ(r.source, nullptr);
  EXPECT_NE(r.attempt.reason.find("--cpu-tdp-w"), std::string::npos);
}

TEST(EstimateSourceTest, MissingProcStatIsUnavailableWithReason) {
  Roots roots;
  roots.proc = std::string(WATTLAB_FIXTURES_DIR) + "/does-not-exist";
  auto env = NewRealEnv(roots);
  ProbeResult r = ProbeEstimate(env.get(), MeterOptions{});
  EXPECT_FALSE(r.attempt.available);
  EXPECT_NE(r.attempt.reason.find("/proc/stat"), std::string::npos);
}

// Without /proc/cpuinfo and /proc/meminfo: threads from the cpuN lines, no
// dram domain, and the facts say why.
class NoCpuInfoEnv : public ForwardingEnv {
 public:
  using ForwardingEnv::ForwardingEnv;
  Result<std::string> ReadFile(const std::string& p) override {
    if (p == "/proc/cpuinfo" || p == "/proc/meminfo") return Status::PermissionDenied("denied: " + p);
    return ForwardingEnv::ReadFile(p);
  }
};

TEST(EstimateSourceTest, DegradesWithoutCpuInfoAndMemInfo) {
  auto fixture = ProcEnv("proc-i7-8700k");
  NoCpuInfoEnv env(fixture.get());
  ProbeResult r = ProbeEstimate(&env, MeterOptions{});
  ASSERT_TRUE(r.attempt.available);
  ASSERT_EQ(r.source->domains().size(), 1u);
  EXPECT_EQ(Fact(r.attempt, "estimate.cpu_tdp_method"), "per-thread default");
  EXPECT_EQ(Fact(r.attempt, "estimate.cpu_tdp_w"), "48");  // 12 cpuN lines x 4 W
  EXPECT_NE(Fact(r.attempt, "estimate.dram").find("not estimated"), std::string::npos);
  std::vector<Reading> out(1);
  EXPECT_TRUE(r.source->Read(out).ok());
}

// The source reads no faster than one /proc/stat tick, whose length the Env
// says (USER_HZ); 10 ms when the Env cannot tell.
class TicksEnv : public ForwardingEnv {
 public:
  TicksEnv(Env* target, int64_t ticks) : ForwardingEnv(target), ticks_(ticks) {}
  int64_t ClockTicksPerSecond() override { return ticks_; }

 private:
  int64_t ticks_;
};

TEST(EstimateSourceTest, MinIntervalIsOneTickOfTheEnv) {
  auto fixture = ProcEnv("proc-i7-8700k");
  for (auto [ticks, want] : {std::pair<int64_t, std::chrono::nanoseconds>{100, std::chrono::milliseconds(10)},
                             {1000, std::chrono::milliseconds(1)},
                             {0, std::chrono::milliseconds(10)}}) {
    TicksEnv env(fixture.get(), ticks);
    ProbeResult r = ProbeEstimate(&env, MeterOptions{});
    ASSERT_NE(r.source, nullptr) << r.attempt.reason;
    EXPECT_EQ(r.source->min_interval(), want) << ticks << " ticks/s";
  }
}

// ---- TDP table

struct ModelCase {
  const char* cpuinfo_name;
  const char* row;
  double tdp_w;
};

TEST(CpuTdpTableTest, RealModelStrings) {
  const ModelCase cases[] = {
      {"Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz", "Core i7-8700K", 95},
      {"Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz", "Core i7-8700", 65},
      {"12th Gen Intel(R) Core(TM) i5-12500", "Core i5-12500", 65},
      {"13th Gen Intel(R) Core(TM) i9-13900K", "Core i9-13900K", 125},
      {"11th Gen Intel(R) Core(TM) i9-11900KF @ 3.50GHz", "Core i9-11900KF", 125},
      {"Intel(R) Core(TM) i9-9900KS CPU @ 4.00GHz", "Core i9-9900KS", 127},
      {"Intel(R) Core(TM) Ultra 7 155H", "Core Ultra 7 155H", 28},
      {"Intel(R) Core(TM) i7-10750H CPU @ 2.60GHz", "Core i7-10750H", 45},
      {"Intel(R) Xeon(R) Platinum 8480+", "Xeon Platinum 8480+", 350},
      {"Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz", "Xeon Gold 6248R", 205},
      {"Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", "Xeon Gold 6248", 150},
      {"Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz", "Xeon Platinum 8380", 270},
      {"Intel(R) Xeon(R) CPU E5-2690 v4 @ 2.60GHz", "Xeon E5-2690 v4", 135},
      {"Intel(R) Xeon(R) CPU E5-2690 v3 @ 2.60GHz", "Xeon E5-2690 v3", 135},
      {"Intel(R) Xeon(R) w9-3495X", "Xeon w9-3495X", 350},
      {"Intel(R) Xeon(R) W-2295 CPU @ 3.00GHz", "Xeon W-2295", 165},
      {"Intel(R) Xeon(R) E-2288G CPU @ 3.70GHz", "Xeon E-2288G", 95},
      {"Intel(R) Xeon(R) 6980P", "Xeon 6980P", 500},
      {"AMD EPYC 7763 64-Core Processor", "EPYC 7763", 280},
      {"AMD EPYC 7742 64-Core Processor", "EPYC 7742", 225},
      {"AMD EPYC 9654 96-Core Processor", "EPYC 9654", 360},
      {"AMD EPYC 7H12 64-Core Processor", "EPYC 7H12", 280},
      {"AMD Ryzen 9 5950X 16-Core Processor", "Ryzen 9 5950X", 105},
      {"AMD Ryzen 7 5800X3D 8-Core Processor", "Ryzen 7 5800X3D", 105},
      {"AMD Ryzen 9 7950X3D 16-Core Processor", "Ryzen 9 7950X3D", 120},
      {"AMD Ryzen 5 3600 6-Core Processor", "Ryzen 5 3600", 65},
      {"AMD Ryzen 7 5800H with Radeon Graphics", "Ryzen 7 5800H", 45},
      {"AMD Ryzen Threadripper PRO 5995WX 64-Cores", "Ryzen Threadripper PRO 5995WX", 280},
      {"AMD Ryzen Threadripper 3990X 64-Core Processor", "Ryzen Threadripper 3990X", 280},
  };
  for (const ModelCase& c : cases) {
    const CpuTdpRow* row = FindCpuTdpRow(c.cpuinfo_name);
    ASSERT_NE(row, nullptr) << c.cpuinfo_name;
    EXPECT_STREQ(row->model, c.row) << c.cpuinfo_name;
    EXPECT_DOUBLE_EQ(row->tdp_w, c.tdp_w) << c.cpuinfo_name;
  }
}

TEST(CpuTdpTableTest, NamesWithoutAKnownModelNumberDoNotMatch) {
  for (const char* name : {"AMD EPYC", "AMD EPYC Processor", "Intel Xeon Processor (Icelake)",
                           "Intel(R) Xeon(R) CPU @ 2.20GHz", "Common KVM processor", "QEMU Virtual CPU version 2.5+",
                           "AMD EPYC 7R13 Processor", "Intel(R) Core(TM) i7-8700KX", "", "Intel(R) Core(TM) i7-870"}) {
    EXPECT_EQ(FindCpuTdpRow(name), nullptr) << name;
  }
}

TEST(CpuTdpTableTest, TableIsLargeAndSane) {
  auto rows = CpuTdpTable();
  EXPECT_GT(rows.size(), 500u);
  for (const CpuTdpRow& r : rows) {
    EXPECT_GE(r.tdp_w, 10) << r.model;
    EXPECT_LE(r.tdp_w, 500) << r.model;
    EXPECT_GE(r.threads, 0) << r.model;
    // Every row must be findable by its own name (no row shadowed by another).
    EXPECT_EQ(FindCpuTdpRow(r.model), &r) << r.model;
  }
}

TEST(CpuTdpTableTest, NormalizesTokens) {
  EXPECT_EQ(NormalizeCpuModelTokens("Intel(R) Xeon(R) CPU E5-2690 v4 @ 2.60GHz"),
            (std::vector<std::string>{"intel", "xeon", "e5-2690", "v4"}));
  EXPECT_EQ(NormalizeCpuModelTokens("13th Gen Intel(R) Core(TM) i7-13700K"),
            (std::vector<std::string>{"intel", "core", "i7-13700k"}));
  EXPECT_EQ(NormalizeCpuModelTokens("AMD Ryzen 9 5950X 16-Core Processor"),
            (std::vector<std::string>{"amd", "ryzen", "9", "5950x"}));
}

TEST(CpuGenerationTest, FamilyAndModelNumbers) {
  struct G {
    const char* vendor;
    int family, model;
    const char* contains;
  } cases[] = {
      {"AuthenticAMD", 0x19, 0x11, "Genoa"},        {"AuthenticAMD", 0x19, 0x01, "Milan"},
      {"AuthenticAMD", 0x17, 0x31, "Rome"},         {"AuthenticAMD", 0x17, 0x01, "Naples"},
      {"AuthenticAMD", 0x19, 0xA0, "Bergamo"},      {"GenuineIntel", 6, 0x6A, "Ice Lake"},
      {"GenuineIntel", 6, 0x8F, "Sapphire Rapids"}, {"GenuineIntel", 6, 0x55, "Cascade Lake"},
      {"GenuineIntel", 6, 0xCF, "Emerald Rapids"},  {"GenuineIntel", 6, 0x4F, "Broadwell"},
  };
  for (const G& g : cases) {
    const CpuGeneration* gen = FindCpuGeneration(g.vendor, g.family, g.model);
    ASSERT_NE(gen, nullptr) << g.contains;
    EXPECT_NE(std::string(gen->name).find(g.contains), std::string::npos) << gen->name;
  }
  EXPECT_EQ(FindCpuGeneration("AuthenticAMD", 0x19, 0x7F), nullptr);
  EXPECT_EQ(FindCpuGeneration("GenuineIntel", 15, 0x6A), nullptr);  // family must match too
  EXPECT_EQ(FindCpuGeneration("", 6, 0x8F), nullptr);
}

CpuInfo Info(const std::string& vendor, const std::string& name, int family, int model, int threads, int sockets,
             bool vm) {
  CpuInfo c;
  c.vendor = vendor;
  c.model_name = name;
  c.family = family;
  c.model = model;
  c.threads = threads;
  c.sockets = sockets;
  c.cores = threads;
  c.hypervisor = vm;
  return c;
}

TEST(ResolveCpuTdpTest, ResolutionOrder) {
  // 1. override wins over everything
  auto o = ResolveCpuTdp(Info("GenuineIntel", "Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz", 6, 158, 12, 1, false), 42.0);
  EXPECT_EQ(o.method, "override");
  EXPECT_DOUBLE_EQ(o.tdp_w, 42);
  // 2. table, per socket x sockets
  auto t = ResolveCpuTdp(Info("GenuineIntel", "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", 6, 85, 80, 2, false),
                         std::nullopt);
  EXPECT_EQ(t.method, "table");
  EXPECT_DOUBLE_EQ(t.tdp_w, 300);
  EXPECT_NE(t.explanation.find("x 2 sockets"), std::string::npos) << t.explanation;
  // 2b. table inside a VM: a slice of the socket
  auto v = ResolveCpuTdp(Info("AuthenticAMD", "AMD EPYC 7763 64-Core Processor", 25, 1, 8, 1, true), std::nullopt);
  EXPECT_EQ(v.method, "table");
  EXPECT_DOUBLE_EQ(v.tdp_w, 280.0 * 8 / 128);
  EXPECT_NE(v.explanation.find("this VM sees"), std::string::npos);
  // 3. generation, when the name has no model number
  auto g = ResolveCpuTdp(Info("GenuineIntel", "Intel Xeon Processor (Icelake)", 6, 0x6A, 4, 1, true), std::nullopt);
  EXPECT_EQ(g.method, "generation");
  EXPECT_DOUBLE_EQ(g.tdp_w, 270.0 / 80 * 4);
  EXPECT_NE(g.explanation.find("family 0x6 model 0x6A"), std::string::npos) << g.explanation;
  // 4. per-thread default
  auto d = ResolveCpuTdp(Info("", "", -1, -1, 6, 1, false), std::nullopt);
  EXPECT_EQ(d.method, "per-thread default");
  EXPECT_DOUBLE_EQ(d.tdp_w, 24);
  EXPECT_NE(d.explanation.find("--cpu-tdp-w"), std::string::npos);
}

}  // namespace
}  // namespace wattlab
