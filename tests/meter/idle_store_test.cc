// Idle store: path rules, round trip, replacement by key, corrupt files.
#include "meter/idle_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "platform/real_env.h"

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
  VarsEnv relative(real_.get(),
                   {{"XDG_STATE_HOME", "rel"}, {"HOME", "/home/u"}});  // XDG says: ignore relative
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
  EXPECT_FALSE(
      SaveIdleEntry(real_.get(), path_, Entry("a", {"x"}, 1)).ok());  // never clobbers a foreign file
  std::ofstream(path_) << R"({"entries": [{"host": "a"}]})";
  EXPECT_EQ(LoadIdleEntries(real_.get(), path_).status().kind(), Status::Kind::kCorruption);
}

// Faults on the way to disk. The idle store writes only through
// Env::WriteFileAtomically (and Env::CreateDirs), so a fake that fails them
// shows what a user sees; the previous file must stay whole.
class FaultyWriteEnv : public ForwardingEnv {
 public:
  using ForwardingEnv::ForwardingEnv;
  std::optional<Status> atomic_write_error;  // returned instead of writing
  std::optional<Status> create_dirs_error;
  bool remove_dir_after_create = false;  // the directory vanishes before the write
  int other_writes = 0;                  // any write that is not the atomic one
  Status WriteFileAtomically(const std::string& p, const std::string& d) override {
    if (atomic_write_error) return *atomic_write_error;
    return ForwardingEnv::WriteFileAtomically(p, d);
  }
  Status CreateDirs(const std::string& p) override {
    if (create_dirs_error) return *create_dirs_error;
    Status s = ForwardingEnv::CreateDirs(p);
    if (s.ok() && remove_dir_after_create) (void)ForwardingEnv::RemoveTree(p);
    return s;
  }
  Status WriteFileInPlace(const std::string& p, const std::string& d) override {
    ++other_writes;
    return ForwardingEnv::WriteFileInPlace(p, d);
  }
  Status AppendToFile(const std::string& p, const std::string& d) override {
    ++other_writes;
    return ForwardingEnv::AppendToFile(p, d);
  }
  Result<std::unique_ptr<RandomRWFile>> OpenRandomRW(const std::string& p, bool c, bool ro) override {
    ++other_writes;
    return ForwardingEnv::OpenRandomRW(p, c, ro);
  }
  Status Rename(const std::string& f, const std::string& t) override {
    ++other_writes;
    return ForwardingEnv::Rename(f, t);
  }
};

std::string Slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

TEST_F(IdleStoreTest, DiskFullKeepsThePreviousFileAndSaysSo) {
  ASSERT_TRUE(SaveIdleEntry(real_.get(), path_, Entry("a", {"estimate"}, 12)).ok());
  const std::string before = Slurp(path_);
  FaultyWriteEnv env(real_.get());
  env.atomic_write_error = Status::IOError("cannot write " + path_ + ".tmp.7.0: No space left on device");
  Status s = SaveIdleEntry(&env, path_, Entry("b", {"estimate"}, 30));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.kind(), Status::Kind::kIOError);
  EXPECT_EQ(s.message(), "cannot save the idle baseline to " + path_ + ": cannot write " + path_ +
                             ".tmp.7.0: No space left on device");
  EXPECT_EQ(env.other_writes, 0) << "the idle store wrote past Env::WriteFileAtomically";
  EXPECT_EQ(Slurp(path_), before);
  auto all = LoadIdleEntries(real_.get(), path_);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].host, "a");
}

TEST_F(IdleStoreTest, RenameRefusedKeepsThePreviousFileAndSaysSo) {
  ASSERT_TRUE(SaveIdleEntry(real_.get(), path_, Entry("a", {"estimate"}, 12)).ok());
  const std::string before = Slurp(path_);
  FaultyWriteEnv env(real_.get());
  env.atomic_write_error =
      Status::PermissionDenied("cannot rename onto " + path_ + ": Operation not permitted");
  Status s = SaveIdleEntry(&env, path_, Entry("a", {"estimate"}, 99));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.kind(), Status::Kind::kPermissionDenied);
  EXPECT_NE(s.message().find("cannot rename onto " + path_ + ": Operation not permitted"), std::string::npos);
  EXPECT_EQ(Slurp(path_), before);
  EXPECT_DOUBLE_EQ((*FindIdleEntry(real_.get(), path_, "a", {"estimate"}))->idle_power_w, 12);
}

TEST_F(IdleStoreTest, DirectoryThatCannotBeMadeSaysWhich) {
  FaultyWriteEnv env(real_.get());
  const std::string dir = fs::path(path_).parent_path().string();
  env.create_dirs_error = Status::PermissionDenied("cannot create directory " + dir + ": Permission denied");
  Status s = SaveIdleEntry(&env, path_, Entry("a", {"estimate"}, 12));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "cannot save the idle baseline to " + path_ + ": cannot create directory " + dir +
                             ": Permission denied");
  EXPECT_FALSE(fs::exists(path_));
}

// The directory is removed between creating it and writing (another process
// cleaning up): the real atomic write fails, says so, and leaves nothing.
TEST_F(IdleStoreTest, DirectoryVanishingBeforeTheWriteIsReported) {
  ASSERT_TRUE(SaveIdleEntry(real_.get(), path_, Entry("a", {"estimate"}, 12)).ok());
  FaultyWriteEnv env(real_.get());
  env.remove_dir_after_create = true;
  Status s = SaveIdleEntry(&env, path_, Entry("b", {"estimate"}, 30));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.kind(), Status::Kind::kNotFound);
  EXPECT_NE(s.message().find("cannot save the idle baseline to " + path_), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("No such file or directory"), std::string::npos) << s.message();
  EXPECT_FALSE(fs::exists(fs::path(path_).parent_path()));
}

// The real Env's atomic write in a directory that refuses new files: the
// previous file is whole and no temporary is left behind.
TEST_F(IdleStoreTest, UnwritableDirectoryKeepsThePreviousFile) {
  ASSERT_TRUE(SaveIdleEntry(real_.get(), path_, Entry("a", {"estimate"}, 12)).ok());
  const std::string before = Slurp(path_);
  const fs::path dir = fs::path(path_).parent_path();
  fs::permissions(dir, fs::perms::owner_read | fs::perms::owner_exec);
  Status s = SaveIdleEntry(real_.get(), path_, Entry("b", {"estimate"}, 30));
  fs::permissions(dir, fs::perms::owner_all);
  if (::geteuid() != 0) {  // root writes anywhere; the content check below still ran
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.kind(), Status::Kind::kPermissionDenied) << s.ToString();
    EXPECT_NE(s.message().find("cannot save the idle baseline to " + path_), std::string::npos);
    EXPECT_EQ(Slurp(path_), before);
  }
  int files = 0;
  for (const auto& f : fs::directory_iterator(dir)) (void)f, ++files;
  EXPECT_EQ(files, 1);
}

class HostEnv : public ForwardingEnv {
 public:
  using ForwardingEnv::ForwardingEnv;
  Result<std::string> ReadFile(const std::string& p) override {
    if (p == "/proc/sys/kernel/hostname")
      return Status::NotFound("cannot open " + p + ": No such file or directory");
    return ForwardingEnv::ReadFile(p);
  }
  std::string HostName() override { return "from-env"; }
};

TEST_F(IdleStoreTest, HostNameFallsBackToTheEnv) {
  HostEnv env(real_.get());
  EXPECT_EQ(HostName(&env), "from-env");
}

TEST_F(IdleStoreTest, HostNameIsNeverEmpty) { EXPECT_FALSE(HostName(real_.get()).empty()); }

}  // namespace
}  // namespace wattlab
