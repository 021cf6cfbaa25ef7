// Test helpers shared by the rapl-powercap, rapl-perf, rapl-msr and hwmon
// tests: fixture paths, temp trees, sparse MSR files, Envs that inject errors
// and perf counters the test controls. Header-only (inline) so the four test
// files can live in one binary.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/env.h"
#include "platform/real_env.h"
#include "wattlab/meter.h"

namespace wattlab {
namespace rapl_testing {

namespace fs = std::filesystem;

// tests/fixtures (WATTLAB_FIXTURES_DIR comes from tests/meter/CMakeLists.txt).
inline fs::path FixturesDir() { return fs::path(WATTLAB_FIXTURES_DIR); }

inline Roots RootsAt(const fs::path& root) {
  Roots r;
  r.sysfs = (root / "sys").string();
  r.proc = (root / "proc").string();
  r.dev = (root / "dev").string();
  return r;
}

inline std::unique_ptr<Env> EnvAt(const fs::path& root) { return NewRealEnv(RootsAt(root)); }

// A fresh directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "wattlab-rapl-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr) << std::strerror(errno);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Copies a fixture tree into `to` (so a test may rewrite counters).
inline void CopyFixture(const std::string& name, const fs::path& to) {
  fs::copy(FixturesDir() / name, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

inline void WriteText(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::trunc) << text;
}

// /dev/cpu/N/msr as a sparse file: 8 little-endian bytes at each register's
// offset, holes (zeros) everywhere else, as the msr driver presents it.
inline void WriteMsrFile(const fs::path& path, const std::map<uint64_t, uint64_t>& regs) {
  fs::create_directories(path.parent_path());
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary | std::ios::trunc);
  ASSERT_TRUE(f.good()) << path;
  for (auto& [reg, value] : regs) {
    unsigned char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(value >> (8 * i));
    f.seekp(static_cast<std::streamoff>(reg));
    f.write(reinterpret_cast<const char*>(b), 8);
  }
  ASSERT_TRUE(f.good()) << path;
}

// A perf counter whose value the test sets.
class FakeCounterFile : public ReadableFile {
 public:
  FakeCounterFile(std::shared_ptr<uint64_t> value, std::string path)
      : value_(std::move(value)), path_(std::move(path)) {}
  Result<size_t> PRead(uint64_t offset, void* buf, size_t n) override {
    if (offset != 0 || n < 8) return Status::InvalidArgument("perf counters are read as 8 bytes at offset 0");
    std::memcpy(buf, value_.get(), 8);
    return size_t{8};
  }
  const std::string& path() const override { return path_; }

 private:
  std::shared_ptr<uint64_t> value_;
  std::string path_;
};

// Forwards to a real Env on a fixture, with hooks to break single calls.
class HookEnv : public ForwardingEnv {
 public:
  using ForwardingEnv::ForwardingEnv;
  // Returns a non-OK Status to fail that path (as EACCES would), OK to forward.
  std::function<Status(const std::string&)> deny_path;
  // perf_event_open: (type, config, cpu) -> file or error. Unset: NotFound.
  std::function<Result<std::unique_ptr<ReadableFile>>(uint32_t, uint64_t, int)> perf;

  Result<std::string> ReadFile(const std::string& p) override {
    if (deny_path) WATTLAB_RETURN_IF_ERROR(deny_path(p));
    return ForwardingEnv::ReadFile(p);
  }
  Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& p) override {
    if (deny_path) WATTLAB_RETURN_IF_ERROR(deny_path(p));
    return ForwardingEnv::OpenForRead(p);
  }
  Result<std::unique_ptr<ReadableFile>> OpenPerfEvent(uint32_t type, uint64_t config, int cpu) override {
    if (!perf) return Status::NotFound("no perf_event_open in tests");
    return perf(type, config, cpu);
  }
};

// EACCES as RealEnv reports it.
inline Status Denied(const std::string& p) {
  return Status::PermissionDenied("cannot open " + p + ": Permission denied");
}

inline std::vector<std::string> DomainNames(const std::vector<DomainInfo>& ds) {
  std::vector<std::string> names;
  for (const DomainInfo& d : ds) names.push_back(d.name);
  return names;
}

inline const DomainInfo* FindDomain(const std::vector<DomainInfo>& ds, const std::string& name) {
  for (const DomainInfo& d : ds)
    if (d.name == name) return &d;
  return nullptr;
}

inline std::string FindFact(const std::vector<std::pair<std::string, std::string>>& facts,
                            const std::string& key) {
  for (auto& [k, v] : facts)
    if (k == key) return v;
  return "<missing " + key + ">";
}

// gtest-only substring check (no gmock dependency for meter_test).
inline ::testing::AssertionResult Contains(const std::string& s, const std::string& sub) {
  if (s.find(sub) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << s << "' does not contain '" << sub << "'";
}

using Names = std::vector<std::string>;
using Joules = std::vector<double>;

// Reads a source once; the readings in domain order: joules of a counter
// domain, watts of a power domain (a reading in the other field, or in both,
// fails the test and reads as NaN).
inline std::vector<double> ReadOnce(EnergySource& src) {
  std::vector<Reading> out(src.domains().size());
  Status st = src.Read(out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  std::vector<double> v;
  for (size_t i = 0; i < out.size(); ++i) {
    const bool counter = src.domains()[i].is_counter;
    const std::optional<double>& mine = counter ? out[i].energy_j : out[i].power_w;
    const std::optional<double>& other = counter ? out[i].power_w : out[i].energy_j;
    EXPECT_TRUE(mine.has_value() && !other.has_value())
        << src.domains()[i].name << ": expected only " << (counter ? "energy_j" : "power_w");
    v.push_back(mine && !other ? *mine : std::nan(""));
  }
  return v;
}

}  // namespace rapl_testing
}  // namespace wattlab
