// The estimate source and the TDP table: exact watts from scripted /proc/stat
// sequences, TDP lookups for real /proc/cpuinfo model strings.
#include "meter/estimate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <deque>
#include <initializer_list>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "core/env.h"
#include "core/strings.h"
#include "meter/cpu_tdp_table.h"
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

// The fitted curve, by line and vendor (values worked out by hand from
// bench/estimate/fit.py's constants): idle 6.5% of TDP (Intel) or 21% (AMD),
// linear to 56.5% of TDP (server) or 100% (client) at u = 0.75, flat above.
TEST(EstimateModelTest, FittedCurveExactValues) {
  const EstimateCurve xeon = EstimateCurveForCpu("Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz", "GenuineIntel");
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(xeon, 100, 0), 6.5);
  EXPECT_NEAR(EstimateCpuPowerW(xeon, 100, 0.375), 31.5, 1e-9);  // half way to saturation: 6.5 + 50 / 2
  EXPECT_NEAR(EstimateCpuPowerW(xeon, 100, 0.15), 16.5, 1e-9);   // a fifth of the way: 6.5 + 50 / 5
  EXPECT_NEAR(EstimateCpuPowerW(xeon, 170, 0.5), 170 * (0.065 + 0.5 * 0.5 / 0.75), 1e-9);
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(xeon, 100, 0.75), 56.5);
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(xeon, 100, 0.9), 56.5);  // flat above saturation
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(xeon, 100, 1), 56.5);
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(xeon, 0, 0.7), 0);
  const EstimateCurve tr =
      EstimateCurveForCpu("AMD Ryzen Threadripper 1950X 16-Core Processor", "AuthenticAMD");
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(tr, 180, 0), 180 * 0.21);
  EXPECT_NEAR(EstimateCpuPowerW(tr, 180, 0.375), 180 * (0.21 + 0.79 / 2), 1e-9);
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(tr, 180, 0.75), 180);  // a client part reaches its TDP
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(tr, 180, 1), 180);
  const EstimateCurve epyc = EstimateCurveForCpu("AMD EPYC 8024P 8-Core Processor", "AuthenticAMD");
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(epyc, 90, 0), 90 * 0.21);
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(epyc, 90, 1), 90 * 0.565);
}

// The line and vendor from what cpuinfo says (EstimateCurveForCpu's rule).
TEST(EstimateModelTest, CurveLineAndVendorFromTheName) {
  struct Case {
    const char* name;
    const char* vendor_id;
    const char* line;
    const char* vendor;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"AMD Ryzen Threadripper 1950X 16-Core Processor", "AuthenticAMD", "client", "AMD"},
           {"AMD Ryzen Threadripper 1950X 16-Core Processor", "", "client", "AMD"},
           {"AMD EPYC 8024P 8-Core Processor", "AuthenticAMD", "server", "AMD"},  // "8-Core" is no Core i
           {"AMD EPYC 8024P 8-Core Processor", "", "server", "AMD"},
           {"Intel(R) Xeon(R) CPU E3-1240 V2 @ 3.40GHz", "GenuineIntel", "server", "Intel"},
           {"Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz", "", "server", "Intel"},
           {"Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz", "GenuineIntel", "client", "Intel"},
           {"Intel(R) Core(TM) Ultra 7 155H", "", "client", "Intel"},
           {"AMD Ryzen 9 7950X 16-Core Processor", "", "client", "AMD"},
           {"Intel(R) Pentium(R) Gold G6400 CPU @ 4.00GHz", "", "client", "Intel"},
           {"AMD EPYC", "AuthenticAMD", "server", "AMD"},
           {"Intel Xeon Processor (Icelake)", "GenuineIntel", "server", "Intel"},
           {"Common KVM processor", "AuthenticAMD", "server", "AMD"},  // a VM: vendor_id decides
           {"QEMU Virtual CPU version 2.5+", "", "server", "Intel"},
           {"Frobnicator 9000", "", "server", "Intel"},
           {"Hygon C86 7185 32-core Processor", "HygonGenuine", "server", "AMD"},
       }) {
    EstimateCurve k = EstimateCurveForCpu(c.name, c.vendor_id);
    EXPECT_EQ(k.line, c.line) << c.name;
    EXPECT_EQ(k.vendor, c.vendor) << c.name;
    EXPECT_DOUBLE_EQ(k.full_load_fraction,
                     std::string(c.line) == "client" ? kClientFullLoadFraction : kServerFullLoadFraction)
        << c.name;
    EXPECT_DOUBLE_EQ(k.idle_fraction, std::string(c.vendor) == "AMD" ? kIdleFractionAmd : kIdleFractionIntel)
        << c.name;
    EXPECT_DOUBLE_EQ(k.saturation, kSaturationUtilisation);
  }
}

TEST(EstimateModelTest, UtilisationIsClampedAndPowerNeverAboveItsMaximum) {
  const EstimateCurve xeon = EstimateCurveForCpu("Intel Xeon", "GenuineIntel");
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(xeon, 100, 2), 56.5);
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(xeon, 100, 1e300), 56.5);
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(xeon, 100, -1), 6.5);
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(xeon, 100, std::nan("")), 6.5);
  EXPECT_DOUBLE_EQ(EstimateCpuPowerW(xeon, 100, std::numeric_limits<double>::infinity()), 56.5);
  for (const char* name : {"Intel Xeon", "AMD EPYC", "Intel Core i5", "AMD Ryzen 5"}) {
    const EstimateCurve c = EstimateCurveForCpu(name);
    double prev = 0;
    for (int i = -10; i <= 120; ++i) {
      double p = EstimateCpuPowerW(c, 137, i / 100.0);
      EXPECT_LE(p, c.full_load_fraction * 137) << name << " " << i;
      EXPECT_GE(p, c.idle_fraction * 137) << name << " " << i;
      EXPECT_GE(p, prev) << name << " " << i;  // never falls as load rises
      prev = p;
    }
  }
}

TEST(EstimateModelTest, ErrorBandLineAndCurveText) {
  EXPECT_EQ(EstimateErrorBandLine(), "the estimate has erred by about ±45% against RAPL on 4 measured CPUs");
  const std::string epyc = EstimateCurveText(EstimateCurveForCpu("AMD EPYC 8024P", "AuthenticAMD"));
  EXPECT_NE(
      epyc.find("P = TDP x (0.21 + 0.355 x min(1, u / 0.75)) (AMD idle 0.21, server line full load 0.565)"),
      std::string::npos)
      << epyc;
  const std::string core = EstimateCurveText(EstimateCurveForCpu("Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz"));
  EXPECT_NE(
      core.find("P = TDP x (0.065 + 0.935 x min(1, u / 0.75)) (Intel idle 0.065, client line full load 1)"),
      std::string::npos)
      << core;
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
  // i7-8700K: a client part by Intel: 6.5 + 93.5 x 0.5 / 0.75 at TDP 100.
  EXPECT_NEAR(out[0].power_w.value_or(NAN), 6.5 + 93.5 * 0.5 / 0.75, 1e-9);
  EXPECT_DOUBLE_EQ(out[1].power_w.value_or(NAN), dram_w);
  ASSERT_TRUE(r.source->Read(out).ok());
  EXPECT_DOUBLE_EQ(out[0].power_w.value_or(NAN), 100);
  ASSERT_TRUE(r.source->Read(out).ok());
  EXPECT_DOUBLE_EQ(out[0].power_w.value_or(NAN), 100);
  ASSERT_TRUE(r.source->Read(out).ok());
  EXPECT_DOUBLE_EQ(out[0].power_w.value_or(NAN), 6.5);
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
  EXPECT_NEAR(out[0].power_w.value_or(NAN), 95 * (0.065 + 0.935 * 0.5 / 0.75), 1e-9);
  EXPECT_EQ(Fact(r.attempt, "estimate.cpu_tdp_w"), "95");
  EXPECT_EQ(Fact(r.attempt, "estimate.cpu_tdp_method"), "table");
  EXPECT_NE(Fact(r.attempt, "estimate.cpu_tdp").find("table row 'Core i7-8700K'"), std::string::npos);
  EXPECT_NE(Fact(r.attempt, "estimate.cpu_tdp").find("source:"), std::string::npos);
  EXPECT_NE(Fact(r.attempt, "estimate.cpu_model").find("idle 6.175 W, full load 95 W"), std::string::npos)
      << Fact(r.attempt, "estimate.cpu_model");
  EXPECT_EQ(Fact(r.attempt, "estimate.error_band"), EstimateErrorBandLine());
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
  EXPECT_DOUBLE_EQ(out[0].power_w.value_or(NAN), 50 * 0.065);  // idle, Intel
}

TEST(EstimateSourceTest, EpycVmUsesGenerationPerThread) {
  auto env = ProcEnv("proc-epyc-vm");
  ProbeResult r = ProbeEstimate(env.get(), MeterOptions{});
  ASSERT_TRUE(r.attempt.available);
  EXPECT_EQ(Fact(r.attempt, "estimate.cpu_tdp_method"), "generation rule");
  EXPECT_EQ(Fact(r.attempt, "estimate.cpu_tdp_w"), "3.75");  // 360 W / 192 threads x 2
  EXPECT_NE(Fact(r.attempt, "estimate.cpu_tdp").find("Genoa"), std::string::npos);
  EXPECT_EQ(Fact(r.attempt, "cpu.virtual_machine"), "yes");
  // AMD, and a name ("AMD EPYC") of a server line: idle 0.21, full load 0.565 of 3.75 W.
  EXPECT_NE(Fact(r.attempt, "estimate.cpu_model").find("idle 0.7875 W, full load 2.11875 W"),
            std::string::npos)
      << Fact(r.attempt, "estimate.cpu_model");
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
  EXPECT_EQ(Fact(r.attempt, "estimate.cpu_tdp_method"), "default 4 W per thread");
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
  for (const char* name :
       {"AMD EPYC", "AMD EPYC Processor", "Intel Xeon Processor (Icelake)", "Intel(R) Xeon(R) CPU @ 2.20GHz",
        "Common KVM processor", "QEMU Virtual CPU version 2.5+", "AMD EPYC 7R13 Processor",
        "Intel(R) Core(TM) i7-8700KX", "", "Intel(R) Core(TM) i7-870"}) {
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

CpuInfo Info(const std::string& vendor, const std::string& name, int family, int model, int threads,
             int sockets, bool vm) {
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
  auto o = ResolveCpuTdp(
      Info("GenuineIntel", "Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz", 6, 158, 12, 1, false), 42.0);
  EXPECT_EQ(o.method, "override");
  EXPECT_DOUBLE_EQ(o.tdp_w, 42);
  // 2. table, per socket x sockets
  auto t = ResolveCpuTdp(
      Info("GenuineIntel", "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", 6, 85, 80, 2, false), std::nullopt);
  EXPECT_EQ(t.method, "table");
  EXPECT_DOUBLE_EQ(t.tdp_w, 300);
  EXPECT_NE(t.explanation.find("x 2 sockets"), std::string::npos) << t.explanation;
  // 2b. table inside a VM: a slice of the socket
  auto v =
      ResolveCpuTdp(Info("AuthenticAMD", "AMD EPYC 7763 64-Core Processor", 25, 1, 8, 1, true), std::nullopt);
  EXPECT_EQ(v.method, "table");
  EXPECT_DOUBLE_EQ(v.tdp_w, 280.0 * 8 / 128);
  EXPECT_NE(v.explanation.find("this VM sees"), std::string::npos);
  // 3. generation, when the name has no model number
  auto g = ResolveCpuTdp(Info("GenuineIntel", "Intel Xeon Processor (Icelake)", 6, 0x6A, 4, 1, true),
                         std::nullopt);
  EXPECT_EQ(g.method, "generation rule");
  EXPECT_DOUBLE_EQ(g.tdp_w, 270.0 / 80 * 4);
  EXPECT_NE(g.explanation.find("family 0x6 model 0x6A"), std::string::npos) << g.explanation;
  // 4. per-thread default
  auto d = ResolveCpuTdp(Info("", "", -1, -1, 6, 1, false), std::nullopt);
  EXPECT_EQ(d.method, "default 4 W per thread");
  EXPECT_DOUBLE_EQ(d.tdp_w, 24);
  EXPECT_NE(d.explanation.find("--cpu-tdp-w"), std::string::npos);
}

// ---- Lines added for issue 18: each with a real cpuinfo spelling.
TEST(CpuTdpTableTest, ServerLinesUsersRun) {
  const ModelCase cases[] = {
      {"AMD EPYC 8024P 8-Core Processor", "EPYC 8024P", 90},
      {"AMD EPYC 8534PN 64-Core Processor", "EPYC 8534PN", 175},
      {"AMD EPYC 9754 128-Core Processor", "EPYC 9754", 360},
      {"AMD EPYC 9734 112-Core Processor", "EPYC 9734", 340},
      {"AMD EPYC 4564P 16-Core Processor", "EPYC 4564P", 170},
      {"AMD EPYC 4484PX 12-Core Processor", "EPYC 4484PX", 120},
      {"Intel(R) Xeon(R) CPU E3-1240 V2 @ 3.40GHz", "Xeon E3-1240 v2", 69},
      {"Intel(R) Xeon(R) CPU E3-1230 v3 @ 3.30GHz", "Xeon E3-1230 v3", 80},
      {"Intel(R) Xeon(R) CPU E3-1240 v6 @ 3.70GHz", "Xeon E3-1240 v6", 72},
      {"Intel(R) Xeon(R) CPU E31230 @ 3.20GHz", "Xeon E3-1230 v1", 80},      // Sandy Bridge spelling
      {"Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz", "Xeon E5-2670 v1", 115},  // Sandy Bridge-EP spelling
      {"Intel(R) Xeon(R) CPU E5-2430L 0 @ 2.00GHz", nullptr, 0},             // not in the table: no v2 row
      {"Intel(R) Xeon(R) CPU E5-2670 v2 @ 2.50GHz", "Xeon E5-2670 v2", 115},
      {"Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz", "Xeon E5-2620 v3", 85},
      {"Intel(R) Xeon(R) CPU E7- 4870  @ 2.40GHz", "Xeon E7-4870 v1", 130},  // Westmere-EX spelling
      {"Intel(R) Xeon(R) CPU E7-8890 v4 @ 2.20GHz", "Xeon E7-8890 v4", 165},
      {"Intel(R) Xeon(R) CPU D-1541 @ 2.10GHz", "Xeon D-1541", 45},
      {"Intel(R) Xeon(R) D-2146NT CPU @ 2.30GHz", "Xeon D-2146NT", 80},
      {"Intel(R) Xeon(R) Gold 6142 CPU @ 2.60GHz", "Xeon Gold 6142", 150},
      {"Intel(R) Core(TM) i7-6700K CPU @ 4.00GHz", "Core i7-6700K", 91},
      {"Intel(R) Core(TM) i7-7500U CPU @ 2.70GHz", "Core i7-7500U", 15},
      {"AMD Ryzen 7 7840U w/ Radeon  780M Graphics", "Ryzen 7 7840U", 28},
  };
  for (const ModelCase& c : cases) {
    const CpuTdpRow* row = FindCpuTdpRow(c.cpuinfo_name);
    if (c.row == nullptr) {
      EXPECT_EQ(row, nullptr) << c.cpuinfo_name << " matched " << (row ? row->model : "");
      continue;
    }
    ASSERT_NE(row, nullptr) << c.cpuinfo_name;
    EXPECT_STREQ(row->model, c.row) << c.cpuinfo_name;
    EXPECT_DOUBLE_EQ(row->tdp_w, c.tdp_w) << c.cpuinfo_name;
  }
  // A v1 row never matches another version of the same number, nor the reverse.
  EXPECT_EQ(FindCpuTdpRow("Intel(R) Xeon(R) CPU E5-2690 v2 @ 3.00GHz")->tdp_w, 130);
  EXPECT_EQ(FindCpuTdpRow("Intel(R) Xeon(R) CPU E5-2690 0 @ 2.90GHz")->tdp_w, 135);
}

TEST(CpuTdpTableTest, EveryRowCitesItsManufacturersPage) {
  for (const CpuTdpRow& r : CpuTdpTable()) {
    std::string c = CpuTdpRowCitation(r);
    EXPECT_NE(c.find(StartsWith(r.model, "EPYC") || StartsWith(r.model, "Ryzen") ? "AMD product page"
                                                                                 : "Intel ARK"),
              std::string::npos)
        << r.model << ": " << c;
  }
  EXPECT_EQ(CpuTdpRowCitation(*FindCpuTdpRow("AMD EPYC 8024P 8-Core Processor")),
            "AMD product page 'AMD EPYC 8024P', specifications: Default TDP");
  EXPECT_EQ(CpuTdpRowCitation(*FindCpuTdpRow("Intel(R) Xeon(R) CPU E5-2670 0 @ 2.60GHz")),
            "Intel ARK 'Intel Xeon E5-2670 Processor' product specifications: TDP");
  EXPECT_EQ(CpuTdpRowCitation(*FindCpuTdpRow("Intel(R) Xeon(R) Platinum 8480+")),
            "Intel ARK 'Intel Xeon Platinum 8480+ Processor' product specifications: Processor Base Power");
}

// Siena (EPYC 8004) and Bergamo (EPYC 97x4) are the same Zen 4c silicon:
// family 19h, model A0h-AFh for both. The table decides for a named part;
// the generation rule decides by the name's line, or says it cannot tell.
TEST(CpuGenerationTest, SienaAndBergamoShareAModelNumber) {
  // The case: an EPYC 8024P (bare metal, 16 threads) is Siena, 90 W.
  auto siena = ResolveCpuTdp(
      Info("AuthenticAMD", "AMD EPYC 8024P 8-Core Processor", 0x19, 0xA0, 16, 1, false), std::nullopt);
  EXPECT_EQ(siena.method, "table");
  EXPECT_DOUBLE_EQ(siena.tdp_w, 90);
  auto bergamo = ResolveCpuTdp(
      Info("AuthenticAMD", "AMD EPYC 9754 128-Core Processor", 0x19, 0xA0, 256, 1, false), std::nullopt);
  EXPECT_EQ(bergamo.method, "table");
  EXPECT_DOUBLE_EQ(bergamo.tdp_w, 360);
  // Parts missing from the table: the name's line decides.
  const CpuGeneration* s = FindCpuGeneration("AuthenticAMD", 0x19, 0xA0, "AMD EPYC 8044P 12-Core Processor");
  ASSERT_NE(s, nullptr);
  EXPECT_NE(std::string(s->name).find("Siena"), std::string::npos) << s->name;
  EXPECT_EQ(std::string(s->name).find("Bergamo"), std::string::npos) << s->name;
  const CpuGeneration* b = FindCpuGeneration("AuthenticAMD", 0x19, 0xA2, "AMD EPYC 9774 120-Core Processor");
  ASSERT_NE(b, nullptr);
  EXPECT_NE(std::string(b->name).find("Bergamo"), std::string::npos) << b->name;
  EXPECT_EQ(std::string(b->name).find("Siena"), std::string::npos) << b->name;
  // A VM that prints only "AMD EPYC": the numbers cannot tell, and it says so.
  auto vm = ResolveCpuTdp(Info("AuthenticAMD", "AMD EPYC Processor", 0x19, 0xA0, 16, 1, true), std::nullopt);
  EXPECT_EQ(vm.method, "generation rule");
  EXPECT_NE(vm.explanation.find("cannot tell"), std::string::npos) << vm.explanation;
  EXPECT_NE(vm.explanation.find("Siena"), std::string::npos);
  EXPECT_NE(vm.explanation.find("Bergamo"), std::string::npos);
  EXPECT_DOUBLE_EQ(vm.tdp_w, 200.0 / 128 * 16);
}

TEST(CpuGenerationTest, NameDecidesOtherSharedModelNumbers) {
  EXPECT_NE(
      std::string(FindCpuGeneration("AuthenticAMD", 0x19, 0x61, "AMD EPYC 4999P")->name).find("EPYC 4004"),
      std::string::npos);
  EXPECT_NE(
      std::string(FindCpuGeneration("AuthenticAMD", 0x19, 0x61, "AMD Ryzen 5 7999")->name).find("Ryzen 7000"),
      std::string::npos);
  EXPECT_NE(std::string(FindCpuGeneration("AuthenticAMD", 0x17, 0x31, "AMD Ryzen Threadripper 3999X")->name)
                .find("Castle Peak"),
            std::string::npos);
  EXPECT_NE(
      std::string(FindCpuGeneration("AuthenticAMD", 0x17, 0x31, "AMD EPYC Processor")->name).find("Rome"),
      std::string::npos);
  EXPECT_NE(std::string(FindCpuGeneration("GenuineIntel", 6, 0x4F, "Intel(R) Xeon(R) CPU E7-8899 v4")->name)
                .find("Broadwell-EX"),
            std::string::npos);
  EXPECT_NE(std::string(FindCpuGeneration("GenuineIntel", 6, 0x4F, "Intel Xeon Processor (Broadwell)")->name)
                .find("Broadwell-EP"),
            std::string::npos);
  EXPECT_NE(std::string(FindCpuGeneration("GenuineIntel", 6, 0x9E, "Intel(R) Xeon(R) CPU E3-1299 v6")->name)
                .find("E3 v6"),
            std::string::npos);
}

// ---- EstimateForCpu: what the estimate says for a CPU that need not be ours.
TEST(EstimateForCpuTest, TableCpuGivesElevenPointsFromTheCurve) {
  EstimateQuery q;
  q.cpu_model = "AMD EPYC 8024P 8-Core Processor";
  auto e = EstimateForCpu(q);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->cpu_model, q.cpu_model);
  EXPECT_DOUBLE_EQ(e->tdp_w, 90);
  EXPECT_EQ(e->tdp_method, "table");
  EXPECT_NE(e->tdp_explanation.find("AMD product page"), std::string::npos) << e->tdp_explanation;
  EXPECT_EQ(e->error_band_pct, 45);
  EXPECT_FALSE(e->from_profile);
  EXPECT_NE(e->curve.find("fitted: P = TDP x (0.21 + 0.355 x min(1, u / 0.75)) (AMD idle 0.21, server line"),
            std::string::npos)
      << e->curve;
  ASSERT_EQ(e->points.size(), 11u);
  EXPECT_DOUBLE_EQ(e->points[0].load, 0);
  EXPECT_DOUBLE_EQ(e->points[0].cpu_power_w, 90 * 0.21);
  EXPECT_DOUBLE_EQ(e->points[3].load, 0.3);
  EXPECT_NEAR(e->points[3].cpu_power_w, 90 * (0.21 + 0.355 * 0.3 / 0.75), 1e-9);
  EXPECT_DOUBLE_EQ(e->points[10].load, 1);
  EXPECT_DOUBLE_EQ(e->points[10].cpu_power_w, 90 * 0.565);
}

TEST(EstimateForCpuTest, OneLoadSocketsAndOverride) {
  EstimateQuery q;
  q.cpu_model = "Intel(R) Xeon(R) CPU E5-2620 v3 @ 2.40GHz";
  q.sockets = 2;
  q.load = 0.5;
  auto e = EstimateForCpu(q);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_DOUBLE_EQ(e->tdp_w, 170);
  ASSERT_EQ(e->points.size(), 1u);
  EXPECT_NEAR(e->points[0].cpu_power_w, 170 * (0.065 + 0.5 * 0.5 / 0.75), 1e-9);
  q.cpu_tdp_w = 100;
  e = EstimateForCpu(q);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->tdp_method, "override");
  EXPECT_DOUBLE_EQ(e->tdp_w, 100);
}

TEST(EstimateForCpuTest, UnknownModelSaysWhichFallback) {
  EstimateQuery q;
  q.cpu_model = "Frobnicator 9000";
  auto missing = EstimateForCpu(q);  // no threads: the fallback cannot be sized
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().kind(), Status::Kind::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("--threads"), std::string::npos) << missing.status().message();
  q.threads = 6;
  auto e = EstimateForCpu(q);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->tdp_method, "default 4 W per thread");
  EXPECT_DOUBLE_EQ(e->tdp_w, 24);
  EXPECT_NE(e->tdp_explanation.find("neither in the table nor a known generation"), std::string::npos);
  // With cpuinfo numbers, a VM-style name gets the generation rule.
  q.cpu_model = "AMD EPYC Processor";
  q.vendor = "AuthenticAMD";
  q.family = 0x19;
  q.model = 0xA0;
  q.threads = 16;
  e = EstimateForCpu(q);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->tdp_method, "generation rule");
  EXPECT_NE(e->tdp_explanation.find("cannot tell"), std::string::npos);
}

TEST(EstimateForCpuTest, BadInputIsRefusedWithAReason) {
  EstimateQuery q;
  q.cpu_model = "AMD EPYC 8024P";
  for (double bad : {-0.1, 1.5, std::nan(""), std::numeric_limits<double>::infinity()}) {
    q.load = bad;
    auto e = EstimateForCpu(q);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.status().kind(), Status::Kind::kInvalidArgument);
    EXPECT_NE(e.status().message().find("between 0 and 1"), std::string::npos) << e.status().message();
  }
  q.load.reset();
  q.sockets = 0;
  EXPECT_FALSE(EstimateForCpu(q).ok());
  q.sockets = 1;
  q.threads = 0;
  EXPECT_FALSE(EstimateForCpu(q).ok());
  q.threads.reset();
  q.cpu_tdp_w = -3;
  EXPECT_FALSE(EstimateForCpu(q).ok());
  q.cpu_tdp_w.reset();
  q.cpu_model = "  ";
  EXPECT_FALSE(EstimateForCpu(q).ok());
}

// wattlab estimate --estimate-profile: the measured curve of the same CPU
// model replaces the fitted one; another model is refused, naming both.
TEST(EstimateForCpuTest, ProfileOfTheSameModelReplacesTheCurve) {
  auto env = ProcEnv("proc-i7-8700k");
  const std::string path = std::string(WATTLAB_FIXTURES_DIR) + "/estimate-profile/epyc-8024p.json";
  auto profile = LoadCpuLoadProfile(env.get(), path);
  ASSERT_TRUE(profile.ok()) << profile.status().message();
  EstimateQuery q;
  q.cpu_model = "AMD EPYC 8024P 8-Core Processor";
  q.profile = &*profile;
  q.profile_path = path;
  auto e = EstimateForCpu(q);
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_TRUE(e->from_profile);
  EXPECT_FALSE(e->error_band_pct.has_value());  // the band is the fitted curve's
  EXPECT_EQ(e->curve,
            "profile " + path + " ('AMD EPYC 8024P 8-Core Processor', 4 points, linear between them)");
  EXPECT_EQ(e->tdp_method, "table");  // still reported
  ASSERT_EQ(e->points.size(), 11u);
  EXPECT_DOUBLE_EQ(e->points[0].cpu_power_w, 18);
  EXPECT_DOUBLE_EQ(e->points[1].cpu_power_w, 28);  // half way from 18 W at 0 to 38 W at 0.2
  EXPECT_NEAR(e->points[3].cpu_power_w, 38 + 10.0 / 3, 1e-9);
  EXPECT_DOUBLE_EQ(e->points[10].cpu_power_w, 46);
  // The same CPU spelled differently (no "8-Core Processor") is the same model.
  q.cpu_model = "AMD EPYC 8024P";
  q.load = 0.5;
  q.threads = 4;  // a quarter of the 16 threads it was measured over
  e = EstimateForCpu(q);
  ASSERT_TRUE(e.ok()) << e.status().message();
  ASSERT_EQ(e->points.size(), 1u);
  EXPECT_DOUBLE_EQ(e->points[0].cpu_power_w, 48 * 0.25);
  EXPECT_NE(e->curve.find("x 0.2500 = 4 of its 16 threads"), std::string::npos) << e->curve;
}

TEST(EstimateForCpuTest, ProfileOfAnotherModelIsRefusedNamingBoth) {
  auto env = ProcEnv("proc-i7-8700k");
  const std::string path = std::string(WATTLAB_FIXTURES_DIR) + "/estimate-profile/epyc-8024p.json";
  auto profile = LoadCpuLoadProfile(env.get(), path);
  ASSERT_TRUE(profile.ok());
  EstimateQuery q;
  q.cpu_model = "AMD EPYC 8124P 16-Core Processor";
  q.profile = &*profile;
  q.profile_path = path;
  auto e = EstimateForCpu(q);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().kind(), Status::Kind::kInvalidArgument);
  EXPECT_EQ(e.status().message(),
            "the profile " + path +
                " was measured on 'AMD EPYC 8024P 8-Core Processor', not on 'AMD EPYC 8124P "
                "16-Core Processor': record one on that CPU (wattlab idle --record-profile "
                "FILE) or drop --estimate-profile");
}

// ---- Measured profiles (--estimate-profile FILE)
std::string ProfilePath(const std::string& name) {
  return std::string(WATTLAB_FIXTURES_DIR) + "/estimate-profile/" + name;
}

TEST(EstimateProfileTest, GoodFileParsesSortedAndInterpolates) {
  auto env = ProcEnv("proc-i7-8700k");
  auto p = LoadCpuLoadProfile(env.get(), ProfilePath("epyc-8024p.json"));
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->cpu_model, "AMD EPYC 8024P 8-Core Processor");
  ASSERT_TRUE(p->threads.has_value());
  EXPECT_EQ(*p->threads, 16);
  ASSERT_EQ(p->points.size(), 4u);
  EXPECT_DOUBLE_EQ(p->points[0].load, 0);  // sorted by load
  EXPECT_DOUBLE_EQ(p->points[3].load, 1);
  EXPECT_DOUBLE_EQ(ProfilePowerW(*p, 0), 18);
  EXPECT_DOUBLE_EQ(ProfilePowerW(*p, 0.1), 28);  // half way from 18 to 38
  EXPECT_DOUBLE_EQ(ProfilePowerW(*p, 0.2), 38);
  EXPECT_NEAR(ProfilePowerW(*p, 0.35), 43, 1e-12);
  EXPECT_DOUBLE_EQ(ProfilePowerW(*p, 0.75), 47);  // falling after its peak, as measured
  EXPECT_DOUBLE_EQ(ProfilePowerW(*p, 1), 46);
  EXPECT_DOUBLE_EQ(ProfilePowerW(*p, 7), 46);  // clamped
  EXPECT_DOUBLE_EQ(ProfilePowerW(*p, -1), 18);
  EXPECT_DOUBLE_EQ(ProfilePowerW(*p, std::nan("")), 18);
  // Round trip through the writer.
  auto again = ParseCpuLoadProfile(CpuLoadProfileToJson(*p));
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->cpu_model, p->cpu_model);
  EXPECT_EQ(again->points.size(), 4u);
  EXPECT_DOUBLE_EQ(ProfilePowerW(*again, 0.35), ProfilePowerW(*p, 0.35));
}

TEST(EstimateProfileTest, BadFilesAreRefusedWithTheReason) {
  auto env = ProcEnv("proc-i7-8700k");
  const std::pair<const char*, const char*> cases[] = {
      {"bad-load.json", "outside 0..1"},
      {"bad-repeated-load.json", "given twice"},
      {"bad-no-model.json", "cpu_model"},
      {"bad-negative-power.json", "not a power >= 0"},
      {"bad-one-point.json", "at least 2 points"},
      {"bad-threads.json", "threads"},
      {"bad-not-json.json", "not valid JSON"},
      {"does-not-exist.json", "cannot read the estimate profile"},
  };
  for (const auto& [file, why] : cases) {
    auto p = LoadCpuLoadProfile(env.get(), ProfilePath(file));
    ASSERT_FALSE(p.ok()) << file;
    EXPECT_EQ(p.status().kind(), Status::Kind::kInvalidArgument) << file;
    EXPECT_NE(p.status().message().find(why), std::string::npos) << file << ": " << p.status().message();
    EXPECT_NE(p.status().message().find(file), std::string::npos)
        << "names the file: " << p.status().message();
  }
}

TEST(EstimateSourceTest, MeasuredProfileReplacesTheCurve) {
  auto fixture = ProcEnv("proc-i7-8700k");
  ScriptedStatEnv env(fixture.get());
  env.stats = {StatLine(1000, 500, 8000), StatLine(1010, 500, 8090),
               StatLine(1110, 500, 8090)};  // u 0.1, then 1
  MeterOptions opt;
  opt.estimate_profile = ProfilePath("epyc-8024p.json");
  ProbeResult r = ProbeEstimate(&env, opt);
  ASSERT_TRUE(r.attempt.available) << r.attempt.reason;
  std::vector<Reading> out(2);
  ASSERT_TRUE(r.source->Read(out).ok());
  EXPECT_DOUBLE_EQ(out[0].power_w.value_or(NAN), 28);
  ASSERT_TRUE(r.source->Read(out).ok());
  EXPECT_DOUBLE_EQ(out[0].power_w.value_or(NAN), 46);
  EXPECT_NE(Fact(r.attempt, "estimate.profile").find("epyc-8024p.json"), std::string::npos);
  EXPECT_NE(r.source->domains()[0].note.find("measured profile"), std::string::npos);
  // Measured on an EPYC, used on an i7: said, not hidden.
  EXPECT_NE(Fact(r.attempt, "estimate.profile_mismatch").find("AMD EPYC 8024P"), std::string::npos);
}

TEST(EstimateSourceTest, ProfileInAVmIsScaledToItsThreads) {
  auto fixture = ProcEnv("proc-epyc-vm");  // 2 vCPUs, hypervisor flag
  ScriptedStatEnv env(fixture.get());
  env.stats = {StatLine(0, 0, 0), StatLine(0, 0, 100)};  // idle
  MeterOptions opt;
  opt.estimate_profile = ProfilePath("epyc-8024p.json");
  ProbeResult r = ProbeEstimate(&env, opt);
  ASSERT_TRUE(r.attempt.available) << r.attempt.reason;
  std::vector<Reading> out(2);
  ASSERT_TRUE(r.source->Read(out).ok());
  EXPECT_DOUBLE_EQ(out[0].power_w.value_or(NAN), 18.0 * 2 / 16);
  EXPECT_NE(Fact(r.attempt, "estimate.profile").find("2 of its 16 threads"), std::string::npos)
      << Fact(r.attempt, "estimate.profile");
}

TEST(EstimateSourceTest, BadProfileMakesTheEstimateUnavailableWithTheReason) {
  auto env = ProcEnv("proc-i7-8700k");
  MeterOptions opt;
  opt.estimate_profile = ProfilePath("bad-load.json");
  ProbeResult r = ProbeEstimate(env.get(), opt);
  EXPECT_FALSE(r.attempt.available);
  EXPECT_EQ(r.source, nullptr);
  EXPECT_NE(r.attempt.reason.find("outside 0..1"), std::string::npos) << r.attempt.reason;
  EXPECT_NE(r.attempt.hint.find("--estimate-profile"), std::string::npos);
}
}  // namespace
}  // namespace wattlab
