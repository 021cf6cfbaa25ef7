// procfs parsers against fixture trees under tests/fixtures/proc-*.
#include "meter/procfs.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/env.h"
#include "platform/real_env.h"

namespace wattlab {
namespace {

std::unique_ptr<Env> ProcEnv(const std::string& fixture) {
  Roots roots;
  roots.proc = std::string(WATTLAB_FIXTURES_DIR) + "/" + fixture;
  return NewRealEnv(roots);
}

TEST(ProcStatTest, ParsesAggregateLine) {
  auto t = ParseProcStat("cpu  10 2 30 400 5 6 7 8 9 10\ncpu0 1 1 1 1 1 1 1 1 1 1\n");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->user, 10u);
  EXPECT_EQ(t->nice, 2u);
  EXPECT_EQ(t->system, 30u);
  EXPECT_EQ(t->idle, 400u);
  EXPECT_EQ(t->iowait, 5u);
  EXPECT_EQ(t->irq, 6u);
  EXPECT_EQ(t->softirq, 7u);
  EXPECT_EQ(t->steal, 8u);
  // guest (9) and guest_nice (10) are inside user/nice already: not summed.
  EXPECT_EQ(t->Busy(), 10u + 2 + 30 + 6 + 7 + 8);
  EXPECT_EQ(t->Total(), t->Busy() + 400 + 5);
}

TEST(ProcStatTest, OldKernelWithFewerFieldsLeavesZeros) {
  auto t = ParseProcStat("cpu 1 2 3 4\n");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->steal, 0u);
  EXPECT_EQ(t->Total(), 10u);
}

TEST(ProcStatTest, RejectsMissingOrGarbledLine) {
  EXPECT_EQ(ParseProcStat("cpu0 1 2 3 4 5\n").status().kind(), Status::Kind::kCorruption);
  EXPECT_EQ(ParseProcStat("cpu  1 x 3 4 5\n").status().kind(), Status::Kind::kCorruption);
  EXPECT_EQ(ParseProcStat("cpu  1 2\n").status().kind(), Status::Kind::kCorruption);
}

// Found with tests/fuzz/sysfs_fuzz (corpus/sysfs/crash-proc-stat-sum-wraps,
// crash-meminfo-wraps): sums and products past 2^64 wrapped silently.
TEST(ProcStatTest, RefusesTicksThatAddUpPast64Bits) {
  auto t = ParseProcStat("cpu  9223372036854775807 9223372036854775807 9223372036854775807 1 1 1 1 1\n");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().kind(), Status::Kind::kCorruption);
  EXPECT_NE(t.status().message().find("past 2^64"), std::string::npos) << t.status().message();
  auto big = ParseProcStat("cpu  9223372036854775807 1 0 0 0 0 0 0\n");  // large, but the sum fits
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->Total(), 9223372036854775808u);
}

TEST(MemInfoTest, RefusesSizesPast64Bits) {
  auto m = ParseMemTotalBytes("MemTotal:       9000000000000000000 kB\n");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("implausibly large"), std::string::npos) << m.status().message();
  EXPECT_EQ(*ParseMemAvailableBytes("MemAvailable: 16777216 GB\n"), uint64_t{1} << 54);
  EXPECT_FALSE(ParseMemAvailableBytes("MemAvailable: 17179869184 GB\n").ok());
}

TEST(ProcStatTest, ReadsThroughEnv) {
  auto env = ProcEnv("proc-i7-8700k");
  auto t = ReadProcStat(env.get());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->Busy(), 1500u);
  EXPECT_EQ(t->Total(), 9600u);
}

TEST(CpuInfoTest, DesktopIntel) {
  auto env = ProcEnv("proc-i7-8700k");
  auto c = ReadCpuInfo(env.get());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->vendor, "GenuineIntel");
  EXPECT_EQ(c->model_name, "Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz");
  EXPECT_EQ(c->family, 6);
  EXPECT_EQ(c->model, 158);
  EXPECT_EQ(c->threads, 12);
  EXPECT_EQ(c->sockets, 1);
  EXPECT_EQ(c->cores, 6);
  EXPECT_FALSE(c->hypervisor);
}

TEST(CpuInfoTest, TwoSocketXeon) {
  auto env = ProcEnv("proc-xeon-2s");
  auto c = ReadCpuInfo(env.get());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->threads, 80);
  EXPECT_EQ(c->sockets, 2);
  EXPECT_EQ(c->cores, 40);
}

TEST(CpuInfoTest, EpycVmPrintsNoModelNumber) {
  // Captured on the project's build machine (a cloud VM).
  auto env = ProcEnv("proc-epyc-vm");
  auto c = ReadCpuInfo(env.get());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->vendor, "AuthenticAMD");
  EXPECT_EQ(c->model_name, "AMD EPYC");
  EXPECT_EQ(c->family, 0x19);
  EXPECT_EQ(c->model, 0x11);
  EXPECT_EQ(c->threads, 2);
  EXPECT_TRUE(c->hypervisor);
}

TEST(CpuInfoTest, ArmStyleWithoutPhysicalIdOrModelName) {
  auto c = ParseCpuInfo("processor\t: 0\nBogoMIPS\t: 48.00\n\nprocessor\t: 1\nBogoMIPS\t: 48.00\n");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->threads, 2);
  EXPECT_EQ(c->sockets, 1);
  EXPECT_EQ(c->cores, 2);
  EXPECT_EQ(c->family, -1);
  EXPECT_TRUE(c->model_name.empty());
}

TEST(CpuInfoTest, EmptyIsCorruption) {
  EXPECT_EQ(ParseCpuInfo("").status().kind(), Status::Kind::kCorruption);
}

TEST(MemInfoTest, KibibytesToBytes) {
  auto env = ProcEnv("proc-i7-8700k");
  auto m = ReadMemTotalBytes(env.get());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, 32768000ull * 1024);
  EXPECT_EQ(ParseMemTotalBytes("MemFree: 1 kB\n").status().kind(), Status::Kind::kCorruption);
  EXPECT_EQ(ParseMemTotalBytes("MemTotal: 12 parsecs\n").status().kind(), Status::Kind::kCorruption);
}

TEST(PidStatTest, CommWithSpacesAndParentheses) {
  auto s = ParsePidStat("101 (pt worker) (1) S 100 101 101 0 -1 4194560 100 0 0 0 200 20 3 4 20 0 1 0 100\n");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->pid, 101);
  EXPECT_EQ(s->ppid, 100);
  EXPECT_EQ(s->utime, 200u);
  EXPECT_EQ(s->stime, 20u);
  EXPECT_EQ(s->cutime, 3u);
  EXPECT_EQ(s->cstime, 4u);
  EXPECT_EQ(ParsePidStat("12 (x) S 1 2").status().kind(), Status::Kind::kCorruption);
  EXPECT_EQ(ParsePidStat("garbage").status().kind(), Status::Kind::kCorruption);
}

TEST(ProcessTreeTest, SumsPidAndDescendants) {
  // Tree: 1 -> {100 -> 101 -> 102, 200 -> 201}. Ticks are utime+stime+cutime+cstime.
  auto env = ProcEnv("proc-tree");
  auto t100 = ReadProcessTreeCpuTicks(env.get(), 100);
  ASSERT_TRUE(t100.ok()) << t100.status().ToString();
  EXPECT_EQ(*t100, 375u + 220u + 80u);
  auto t102 = ReadProcessTreeCpuTicks(env.get(), 102);
  ASSERT_TRUE(t102.ok());
  EXPECT_EQ(*t102, 80u);
  auto t200 = ReadProcessTreeCpuTicks(env.get(), 200);
  ASSERT_TRUE(t200.ok());
  EXPECT_EQ(*t200, 100u + 10u);
  auto t1 = ReadProcessTreeCpuTicks(env.get(), 1);
  ASSERT_TRUE(t1.ok());
  EXPECT_EQ(*t1, 1380u + 675u + 110u);
}

TEST(ProcessTreeTest, MissingPidIsNotFound) {
  auto env = ProcEnv("proc-tree");
  auto t = ReadProcessTreeCpuTicks(env.get(), 999);
  EXPECT_EQ(t.status().kind(), Status::Kind::kNotFound);
  EXPECT_NE(t.status().message().find("999"), std::string::npos);
}

// A child that exits between the directory scan and reading its stat file is
// skipped, not an error.
class VanishingChildEnv : public ForwardingEnv {
 public:
  using ForwardingEnv::ForwardingEnv;
  Result<std::string> ReadFile(const std::string& p) override {
    if (p == "/proc/102/stat") return Status::NotFound("gone");
    return ForwardingEnv::ReadFile(p);
  }
};

TEST(ProcessTreeTest, VanishedChildIsSkipped) {
  auto real = ProcEnv("proc-tree");
  VanishingChildEnv env(real.get());
  auto t = ReadProcessTreeCpuTicks(&env, 100);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, 375u + 220u);
}

TEST(NetDevTest, SumsInterfacesAndKeepsLoopbackApart) {
  auto env = ProcEnv("proc-tree");
  auto b = ReadNetDev(env.get());
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->rx, 12345678u + 5000u);  // eth0 (no space after the colon) + wlan0
  EXPECT_EQ(b->tx, 7000u + 300u);
  EXPECT_EQ(b->lo_rx, 1000u);
  EXPECT_EQ(b->lo_tx, 1100u);
  EXPECT_EQ(ParseNetDev("Inter-|   Receive\n face |bytes\n").status().kind(), Status::Kind::kCorruption);
  EXPECT_EQ(ParseNetDev("  eth0: 1 2 3\n").status().kind(), Status::Kind::kCorruption);  // too few fields
}

TEST(PidIoTest, ParsesAndSumsTheTree) {
  auto io = ParsePidIo("rchar: 5\nread_bytes: 4096\nwrite_bytes: 8192\n");
  ASSERT_TRUE(io.ok());
  EXPECT_EQ(io->read, 4096u);
  EXPECT_EQ(io->write, 8192u);
  EXPECT_EQ(ParsePidIo("rchar: 5\n").status().kind(), Status::Kind::kCorruption);
  // Tree 100 -> 101 -> 102; 102 has no io file (gone, or not ours): skipped.
  auto env = ProcEnv("proc-tree");
  auto t = ReadProcessTreeIoBytes(env.get(), 100);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->read, 4096u + 100u);
  EXPECT_EQ(t->write, 8192u + 200u);
  EXPECT_FALSE(ReadProcessTreeIoBytes(env.get(), 102).ok());  // the root itself must be readable
}

}  // namespace
}  // namespace wattlab
