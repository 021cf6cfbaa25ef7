#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/env.h"
#include "platform/real_env.h"

namespace wattlab {
namespace {

namespace fs = std::filesystem;

class TempTree : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("wattlab-platform-" + std::to_string(::getpid()));
    fs::create_directories(root_ / "sys/class/powercap/intel-rapl:0");
    std::ofstream(root_ / "sys/class/powercap/intel-rapl:0/energy_uj") << "123456\n";
    Roots r;
    r.sysfs = (root_ / "sys").string();
    env_ = NewRealEnv(r);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
  std::unique_ptr<Env> env_;
};

TEST_F(TempTree, MapsSysUnderRoot) {
  auto text = env_->ReadFile("/sys/class/powercap/intel-rapl:0/energy_uj");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*ParseU64(*text, "x"), 123456u);
  auto names = env_->ListDir("/sys/class/powercap");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 1u);
}

TEST_F(TempTree, MissingFileIsNotFound) {
  auto text = env_->ReadFile("/sys/class/powercap/nope");
  EXPECT_EQ(text.status().kind(), Status::Kind::kNotFound);
}

TEST_F(TempTree, WriteFileInPlaceReplacesTheValueAndNeverCreates) {
  const std::string knob = "/sys/class/powercap/intel-rapl:0/energy_uj";
  ASSERT_TRUE(env_->WriteFileInPlace(knob, "42").ok());
  EXPECT_EQ(*env_->ReadFile(knob), "42");  // not "423456\n": a shorter value replaces a longer one
  Status missing = env_->WriteFileInPlace("/sys/class/powercap/intel-rapl:0/nope", "1");
  EXPECT_EQ(missing.kind(), Status::Kind::kNotFound);
  EXPECT_FALSE(fs::exists(root_ / "sys/class/powercap/intel-rapl:0/nope"));
}

class DenyEnv : public ForwardingEnv {
 public:
  using ForwardingEnv::ForwardingEnv;
  Result<std::string> ReadFile(const std::string& p) override {
    if (p.find("energy_uj") != std::string::npos) return Status::PermissionDenied("cannot open " + p);
    return ForwardingEnv::ReadFile(p);
  }
};

TEST_F(TempTree, ForwardingEnvInjectsOneError) {
  DenyEnv deny(env_.get());
  EXPECT_EQ(deny.ReadFile("/sys/class/powercap/intel-rapl:0/energy_uj").status().kind(),
            Status::Kind::kPermissionDenied);
  EXPECT_TRUE(deny.ListDir("/sys/class/powercap").ok());
}

TEST(Parse, RejectsGarbage) {
  EXPECT_FALSE(ParseU64("12a", "f").ok());
  EXPECT_FALSE(ParseU64("", "f").ok());
  EXPECT_EQ(*ParseI64("-5\n", "f"), -5);
}

// Found by tests/fuzz/sysfs_fuzz (corpus/sysfs/crash-i64-embedded-nul):
// strtoll/strtod stop at an embedded NUL, and only `*end == '\0'` was
// checked, so "\0junk" read as 0.
TEST(Parse, EmbeddedNulIsNotTheEndOfTheNumber) {
  const std::string nul_first("\0\0?junk", 7), nul_after(
                                                   "12\0"
                                                   "34",
                                                   5);
  EXPECT_FALSE(ParseI64(nul_first, "f").ok());
  EXPECT_FALSE(ParseI64(nul_after, "f").ok());
  EXPECT_FALSE(ParseDouble(nul_first, "f").ok());
  EXPECT_FALSE(ParseDouble(nul_after, "f").ok());
  EXPECT_FALSE(ParseU64(nul_after, "f").ok());
  EXPECT_EQ(*ParseDouble("2.5e-3\n", "f"), 2.5e-3);
}

}  // namespace
}  // namespace wattlab
