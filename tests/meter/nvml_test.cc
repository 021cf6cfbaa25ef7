// The NVML source against tests/meter/fake_nvml.c, loaded through the same
// Env::DlOpen path as the real libnvidia-ml.so.1.
#include "meter/nvml.h"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "core/env.h"
#include "meter/sources.h"
#include "platform/real_env.h"

namespace wattlab {
namespace {

const char* kFakeVars[] = {"FAKE_NVML_INIT_RC",   "FAKE_NVML_GPUS",         "FAKE_NVML_ENERGY_MJ_FILE",
                           "FAKE_NVML_ENERGY_MJ", "FAKE_NVML_NO_ENERGY",    "FAKE_NVML_POWER_MW",
                           "FAKE_NVML_NO_POWER",  "FAKE_NVML_NO_ENERGY_GPU"};

std::string Fact(const SourceAttempt& a, const std::string& key) {
  for (const auto& [k, v] : a.facts)
    if (k == key) return v;
  return "";
}

class NvmlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kFakeVars) unsetenv(v);
    env_ = NewRealEnv();
    options_.nvml_library = FAKE_NVML_PATH;
    energy_file_ = ::testing::TempDir() + "nvml_energy_" + std::to_string(getpid()) + ".txt";
    void* h = dlopen(FAKE_NVML_PATH, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(h, nullptr) << dlerror();
    live_inits_ = reinterpret_cast<int (*)()>(dlsym(h, "fake_nvml_live_inits"));
    ASSERT_NE(live_inits_, nullptr);
    ASSERT_EQ(live_inits_(), 0) << "a previous test leaked an NVML init";
  }
  void TearDown() override {
    for (const char* v : kFakeVars) unsetenv(v);
    std::remove(energy_file_.c_str());
  }
  void WriteEnergy(const std::string& text) {
    std::ofstream(energy_file_) << text;
    setenv("FAKE_NVML_ENERGY_MJ_FILE", energy_file_.c_str(), 1);
  }

  std::unique_ptr<Env> env_;
  MeterOptions options_;
  std::string energy_file_;
  int (*live_inits_)() = nullptr;
};

TEST_F(NvmlTest, CounterModeReadsJoules) {
  setenv("FAKE_NVML_GPUS", "2", 1);
  WriteEnergy("1000 5000\n");
  ProbeResult r = ProbeNvml(env_.get(), options_);
  ASSERT_TRUE(r.attempt.available) << r.attempt.reason;
  ASSERT_NE(r.source, nullptr);
  EXPECT_EQ(r.attempt.source, "nvml");
  EXPECT_EQ(r.source->name(), "nvml");
  EXPECT_EQ(live_inits_(), 1);
  const auto& d = r.source->domains();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].name, "gpu-0");
  EXPECT_EQ(d[1].name, "gpu-1");
  for (const auto& dom : d) {
    EXPECT_EQ(dom.component, Component::kGpu);
    EXPECT_EQ(dom.source, "nvml");
    EXPECT_TRUE(dom.is_counter);
    EXPECT_FALSE(dom.estimated);
    EXPECT_TRUE(dom.in_total);
    EXPECT_DOUBLE_EQ(dom.max_energy_range_j, 18446744073709551616.0 / 1000.0);
  }
  EXPECT_EQ(r.attempt.domains.size(), 2u);
  EXPECT_EQ(r.source->min_interval(), std::chrono::milliseconds(10));

  std::vector<Reading> out(2);
  ASSERT_TRUE(r.source->Read(out).ok());
  EXPECT_DOUBLE_EQ(out[0].energy_j.value_or(NAN), 1.0);
  EXPECT_DOUBLE_EQ(out[1].energy_j.value_or(NAN), 5.0);
  WriteEnergy("2500 5001\n");
  ASSERT_TRUE(r.source->Read(out).ok());
  EXPECT_DOUBLE_EQ(out[0].energy_j.value_or(NAN), 2.5);
  EXPECT_DOUBLE_EQ(out[1].energy_j.value_or(NAN), 5.001);

  EXPECT_EQ(Fact(r.attempt, "gpu-0.name"), "Fake GPU 0");
  EXPECT_EQ(Fact(r.attempt, "gpu-1.name"), "Fake GPU 1");
  EXPECT_EQ(Fact(r.attempt, "gpu-0.mode"), "energy counter");
  EXPECT_EQ(Fact(r.attempt, "nvml.driver_version"), "999.99.01");
  EXPECT_EQ(Fact(r.attempt, "gpu-0.power_limit_w"), "320");
  EXPECT_EQ(Fact(r.attempt, "gpu-0.enforced_power_limit_w"), "300");
  EXPECT_EQ(Fact(r.attempt, "gpu-0.power_limit_min_w"), "100");
  EXPECT_EQ(Fact(r.attempt, "gpu-0.power_limit_max_w"), "350");
  EXPECT_EQ(Fact(r.attempt, "gpu-0.utilization_gpu_pct"), "42");
  bool util_live = false;
  for (const auto& [k, v] : r.source->Facts())
    util_live |= (k == "gpu-1.utilization_memory_pct" && v == "17");
  EXPECT_TRUE(util_live);

  r.source.reset();
  EXPECT_EQ(live_inits_(), 0) << "the source must call nvmlShutdown when destroyed";
}

TEST_F(NvmlTest, PowerOnlyModeReadsWatts) {
  setenv("FAKE_NVML_NO_ENERGY", "1", 1);
  setenv("FAKE_NVML_POWER_MW", "123456", 1);
  ProbeResult r = ProbeNvml(env_.get(), options_);
  ASSERT_TRUE(r.attempt.available) << r.attempt.reason;
  const auto& d = r.source->domains();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_FALSE(d[0].is_counter);
  EXPECT_DOUBLE_EQ(d[0].max_energy_range_j, 0);
  EXPECT_NE(d[0].note.find("Not Supported"), std::string::npos) << d[0].note;
  EXPECT_EQ(r.source->min_interval(), std::chrono::milliseconds(20));
  EXPECT_EQ(Fact(r.attempt, "gpu-0.mode"), "power sampling");
  std::vector<Reading> out(1);
  ASSERT_TRUE(r.source->Read(out).ok());
  EXPECT_DOUBLE_EQ(out[0].power_w.value_or(NAN), 123.456);
  setenv("FAKE_NVML_POWER_MW", "200000", 1);
  ASSERT_TRUE(r.source->Read(out).ok());
  EXPECT_DOUBLE_EQ(out[0].power_w.value_or(NAN), 200);
}

TEST_F(NvmlTest, MixedMachineHasOneModePerGpu) {
  setenv("FAKE_NVML_GPUS", "2", 1);
  setenv("FAKE_NVML_NO_ENERGY_GPU", "1", 1);
  setenv("FAKE_NVML_POWER_MW", "75500", 1);
  WriteEnergy("42000\n");
  ProbeResult r = ProbeNvml(env_.get(), options_);
  ASSERT_TRUE(r.attempt.available) << r.attempt.reason;
  const auto& d = r.source->domains();
  ASSERT_EQ(d.size(), 2u);
  EXPECT_TRUE(d[0].is_counter);
  EXPECT_FALSE(d[1].is_counter);
  // Power sampling on any GPU sets the floor for the whole source.
  EXPECT_EQ(r.source->min_interval(), std::chrono::milliseconds(20));
  std::vector<Reading> out(2);
  ASSERT_TRUE(r.source->Read(out).ok());
  EXPECT_DOUBLE_EQ(out[0].energy_j.value_or(NAN), 42.0);
  EXPECT_DOUBLE_EQ(out[1].power_w.value_or(NAN), 75.5);
  EXPECT_FALSE(out[0].power_w.has_value());
  EXPECT_FALSE(out[1].energy_j.has_value());
  EXPECT_EQ(Fact(r.attempt, "gpu-0.mode"), "energy counter");
  EXPECT_EQ(Fact(r.attempt, "gpu-1.mode"), "power sampling");
}

TEST_F(NvmlTest, ReadErrorIsTranslated) {
  ProbeResult r = ProbeNvml(env_.get(), options_);
  ASSERT_TRUE(r.attempt.available);
  setenv("FAKE_NVML_NO_ENERGY", "1", 1);
  std::vector<Reading> out(1);
  Status st = r.source->Read(out);
  EXPECT_EQ(st.kind(), Status::Kind::kNotSupported);
  EXPECT_NE(st.message().find("nvmlDeviceGetTotalEnergyConsumption(gpu-0)"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("Not Supported"), std::string::npos);
}

TEST_F(NvmlTest, ZeroGpusIsNotAvailable) {
  setenv("FAKE_NVML_GPUS", "0", 1);
  ProbeResult r = ProbeNvml(env_.get(), options_);
  EXPECT_FALSE(r.attempt.available);
  EXPECT_EQ(r.source, nullptr);
  EXPECT_EQ(r.attempt.reason, "NVML found no GPUs (driver 999.99.01)");
  EXPECT_FALSE(r.attempt.hint.empty());
  EXPECT_EQ(live_inits_(), 0);
}

TEST_F(NvmlTest, MissingLibrary) {
  options_.nvml_library = "/nonexistent/libnvidia-ml.so.1";
  ProbeResult r = ProbeNvml(env_.get(), options_);
  EXPECT_FALSE(r.attempt.available);
  EXPECT_EQ(r.attempt.reason, "no NVIDIA driver (/nonexistent/libnvidia-ml.so.1 not found)");
  EXPECT_FALSE(r.attempt.hint.empty());
  EXPECT_NE(Fact(r.attempt, "nvml.dlopen_error").find("/nonexistent/libnvidia-ml.so.1"), std::string::npos);
}

// The default library name, on a machine without the driver (an Env whose
// dlopen fails, so the test does not depend on what this machine has).
class NoDriverEnv : public ForwardingEnv {
 public:
  using ForwardingEnv::ForwardingEnv;
  std::string asked;
  Result<void*> DlOpen(const std::string& lib) override {
    asked = lib;
    return Status::NotFound("cannot load " + lib + ": no such file");
  }
};

TEST_F(NvmlTest, DefaultLibraryName) {
  NoDriverEnv env(env_.get());
  ProbeResult r = ProbeNvml(&env, MeterOptions{});
  EXPECT_EQ(env.asked, "libnvidia-ml.so.1");
  EXPECT_EQ(r.attempt.reason, "no NVIDIA driver (libnvidia-ml.so.1 not found)");
}

TEST_F(NvmlTest, InitNoPermission) {
  setenv("FAKE_NVML_INIT_RC", "4", 1);
  ProbeResult r = ProbeNvml(env_.get(), options_);
  EXPECT_FALSE(r.attempt.available);
  EXPECT_EQ(r.source, nullptr);
  EXPECT_NE(r.attempt.reason.find("nvmlInit_v2 failed: Insufficient Permissions"), std::string::npos)
      << r.attempt.reason;
  EXPECT_NE(r.attempt.hint.find("root"), std::string::npos);
  EXPECT_EQ(live_inits_(), 0);
}

TEST_F(NvmlTest, InitDriverNotLoaded) {
  setenv("FAKE_NVML_INIT_RC", "9", 1);
  ProbeResult r = ProbeNvml(env_.get(), options_);
  EXPECT_FALSE(r.attempt.available);
  EXPECT_NE(r.attempt.reason.find("Driver Not Loaded"), std::string::npos) << r.attempt.reason;
}

TEST_F(NvmlTest, GpuWithNeitherEnergyNorPowerIsNotUsable) {
  setenv("FAKE_NVML_NO_ENERGY", "1", 1);
  setenv("FAKE_NVML_NO_POWER", "1", 1);
  ProbeResult r = ProbeNvml(env_.get(), options_);
  EXPECT_FALSE(r.attempt.available);
  EXPECT_NE(r.attempt.reason.find("none is readable"), std::string::npos) << r.attempt.reason;
  EXPECT_EQ(live_inits_(), 0);
}

// A library that is not NVML at all (the symbols are missing).
class NoSymbolsEnv : public ForwardingEnv {
 public:
  using ForwardingEnv::ForwardingEnv;
  void* DlSym(void*, const char*) override { return nullptr; }
};

TEST_F(NvmlTest, LibraryWithoutNvmlSymbols) {
  NoSymbolsEnv env(env_.get());
  ProbeResult r = ProbeNvml(&env, options_);
  EXPECT_FALSE(r.attempt.available);
  EXPECT_NE(r.attempt.reason.find("lacks nvmlInit_v2"), std::string::npos) << r.attempt.reason;
}

TEST(NvmlStatusTest, CodesTranslateOnce) {
  using nvml::StatusFromNvml;
  EXPECT_TRUE(StatusFromNvml(0, "x", nullptr).ok());
  EXPECT_EQ(StatusFromNvml(3, "x", "Not Supported").kind(), Status::Kind::kNotSupported);
  EXPECT_EQ(StatusFromNvml(4, "x", "Insufficient Permissions").kind(), Status::Kind::kPermissionDenied);
  EXPECT_EQ(StatusFromNvml(9, "x", "Driver Not Loaded").kind(), Status::Kind::kNotFound);
  EXPECT_EQ(StatusFromNvml(12, "x", nullptr).kind(), Status::Kind::kNotFound);
  EXPECT_EQ(StatusFromNvml(15, "x", "GPU is lost").kind(), Status::Kind::kIOError);
  Status s = StatusFromNvml(999, "nvmlFoo", "Unknown Error");
  EXPECT_EQ(s.kind(), Status::Kind::kIOError);
  EXPECT_NE(s.message().find("nvmlFoo failed: Unknown Error (NVML code 999)"), std::string::npos);
}

}  // namespace
}  // namespace wattlab
