// Idle store: path rules, round trip, replacement by key, corrupt files.
#include "platform/real_env.h"
#include "meter/idle_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace wattlab {
namespace {

namespace fs = std::filesystem;

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

class IdleStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("wattlab-idle-test-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    real_ = NewRealEnv();
    path_ = (dir_ / "state/wattlab/idle.json").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  IdleEntry Entry(std::string host, std::vector<std::string> sources, double w) {
    IdleEntry e;
    e.host = std::move(host);
    e.sources = std::move(sources);
    e.idle_power_w = w;
    e.domains_w = {{"package-0", w - 1}, {"dram-0", 1}};
    e.measured_at_s = 1.8e9;
    e.duration_s = 10;
    return e;
  }
  fs::path dir_;
  std::unique_ptr<Env> real_;
  std::string path_;
};

TEST_F(IdleStoreTest, PathFromXdgThenHome) {
  VarsEnv xdg(real_.get(), {{"XDG_STATE_HOME", "/x/state"}, {"HOME", "/home/u"}});
  EXPECT_EQ(*IdleStatePath(&xdg), "/x/state/wattlab/idle.json");
  VarsEnv home(real_.get(), {{"HOME", "/home/u"}});
  EXPECT_EQ(*IdleStatePath(&home), "/home/u/.local/state/wattlab/idle.json");
  VarsEnv relative(real_.get(), {{"XDG_STATE_HOME", "rel"}, {"HOME", "/home/u"}});  // XDG says: ignore relative
  EXPECT_EQ(*IdleStatePath(&relative), "/home/u/.local/state/wattlab/idle.json");
  VarsEnv none(real_.get(), {});
  EXPECT_EQ(IdleStatePath(&none).status().kind(), Status::Kind::kFailedPrecondition);
}

TEST_F(IdleStoreTest, MissingFileIsEmpty) {
  auto e = FindIdleEntry(real_.get(), path_, "h", {"rapl-powercap"});
  ASSERT_TRUE(e.ok());
  EXPECT_FALSE(e->has_value());
}

TEST_F(IdleStoreTest, RoundTripAndReplaceByKey) {
  ASSERT_TRUE(SaveIdleEntry(real_.get(), path_, Entry("a", {"rapl-powercap"}, 12.5)).ok());
  ASSERT_TRUE(SaveIdleEntry(real_.get(), path_, Entry("a", {"estimate"}, 30)).ok());
  ASSERT_TRUE(SaveIdleEntry(real_.get(), path_, Entry("b", {"rapl-powercap"}, 8)).ok());
  ASSERT_TRUE(SaveIdleEntry(real_.get(), path_, Entry("a", {"rapl-powercap"}, 14.25)).ok());
  auto all = LoadIdleEntries(real_.get(), path_);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  auto e = FindIdleEntry(real_.get(), path_, "a", {"rapl-powercap"});
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_DOUBLE_EQ((*e)->idle_power_w, 14.25);
  EXPECT_DOUBLE_EQ((*e)->measured_at_s, 1.8e9);
  EXPECT_DOUBLE_EQ((*e)->duration_s, 10);
  ASSERT_EQ((*e)->domains_w.size(), 2u);
  EXPECT_EQ((*e)->domains_w[0].first, "package-0");
  EXPECT_DOUBLE_EQ((*e)->domains_w[0].second, 13.25);
  auto other = FindIdleEntry(real_.get(), path_, "a", {"rapl-powercap", "nvml"});
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());
  // No temp files left behind.
  int files = 0;
  for (const auto& f : fs::directory_iterator(fs::path(path_).parent_path())) (void)f, ++files;
  EXPECT_EQ(files, 1);
}

TEST_F(IdleStoreTest, CorruptFileSaysWhatToDo) {
  fs::create_directories(fs::path(path_).parent_path());
  std::ofstream(path_) << "{not json";
  auto e = LoadIdleEntries(real_.get(), path_);
  EXPECT_EQ(e.status().kind(), Status::Kind::kCorruption);
  EXPECT_NE(e.status().message().find("wattlab idle"), std::string::npos);
  EXPECT_FALSE(SaveIdleEntry(real_.get(), path_, Entry("a", {"x"}, 1)).ok());  // never clobbers a foreign file
  std::ofstream(path_) << R"({"entries": [{"host": "a"}]})";
  EXPECT_EQ(LoadIdleEntries(real_.get(), path_).status().kind(), Status::Kind::kCorruption);
}

TEST_F(IdleStoreTest, AtomicWriteReplaces) {
  fs::create_directories(dir_);
  std::string p = (dir_ / "out.json").string();
  ASSERT_TRUE(WriteFileAtomically(p, "one").ok());
  ASSERT_TRUE(WriteFileAtomically(p, "two").ok());
  std::ifstream f(p);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(s, "two");
  EXPECT_FALSE(WriteFileAtomically((dir_ / "no/such/dir/x").string(), "x").ok());
}

TEST_F(IdleStoreTest, HostNameIsNeverEmpty) { EXPECT_FALSE(HostName(real_.get()).empty()); }

}  // namespace
}  // namespace wattlab
