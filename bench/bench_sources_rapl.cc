// Cost of one sample of each counter source (rapl-powercap, rapl-msr, hwmon)
// on fixture trees, next to the floor: the bare preads of the same files with
// no parsing, no Env and no virtual calls. The difference is what the source
// itself adds to every sampler tick.
//
// rapl-perf is not here: this machine has no power PMU, and a faked counter
// would time the fake. Run: bench_sources_rapl [--benchmark_filter=...].
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/env.h"
#include "meter/msr.h"
#include "meter/sources.h"
#include "platform/real_env.h"

namespace {

namespace fs = std::filesystem;
using namespace wattlab;

// A temp copy of the fixtures plus sparse MSR files, made once per process.
class BenchTree {
 public:
  static BenchTree& Get() {
    static BenchTree tree;
    return tree;
  }
  const fs::path& root() const { return root_; }
  std::unique_ptr<Env> EnvFor(const std::string& fixture) const {
    Roots r;
    r.sysfs = (root_ / fixture / "sys").string();
    r.proc = (root_ / fixture / "proc").string();
    r.dev = (root_ / fixture / "dev").string();
    return NewRealEnv(r);
  }
  ~BenchTree() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

 private:
  BenchTree() {
    std::string tmpl = (fs::temp_directory_path() / "wattlab-bench-rapl-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) std::perror("mkdtemp"), std::exit(1);
    root_ = tmpl;
    for (const char* f : {"intel-2s", "amd"})
      fs::copy(fs::path(WATTLAB_RAPL_FIXTURES_DIR) / f, root_ / f, fs::copy_options::recursive);
    for (int cpu = 0; cpu < 4; ++cpu) {
      const uint64_t pkg = cpu % 2 == 0 ? 100 * 16384 : 7;
      WriteMsr(root_ / "intel-2s/dev/cpu" / std::to_string(cpu) / "msr", {{msr::kIntelPowerUnit, 0xA0E03},
                                                                          {msr::kIntelPkgEnergy, pkg},
                                                                          {msr::kIntelPp0Energy, 40 * 16384},
                                                                          {msr::kIntelDramEnergy, 1000000}});
    }
  }
  static void WriteMsr(const fs::path& path, const std::map<uint64_t, uint64_t>& regs) {
    fs::create_directories(path.parent_path());
    std::ofstream f(path, std::ios::binary);
    for (auto& [reg, v] : regs) {
      f.seekp(static_cast<std::streamoff>(reg));
      f.write(reinterpret_cast<const char*>(&v), 8);  // little-endian host
    }
  }
  fs::path root_;
};

void RunSource(benchmark::State& state, ProbeResult (*probe)(Env*, const MeterOptions&),
               const char* fixture) {
  auto env = BenchTree::Get().EnvFor(fixture);
  ProbeResult r = probe(env.get(), MeterOptions{});
  if (!r.source) {
    state.SkipWithError(("source unavailable: " + r.attempt.reason).c_str());
    return;
  }
  std::vector<Reading> out(r.source->domains().size());
  for (auto _ : state) {
    Status st = r.source->Read(out);
    benchmark::DoNotOptimize(out.data());
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      break;
    }
  }
  state.counters["domains"] = static_cast<double>(out.size());
}

// The floor: open every file once, then one bare pread per file per sample.
void RunFloor(benchmark::State& state, const std::vector<std::pair<fs::path, uint64_t>>& reads,
              size_t bytes) {
  std::map<fs::path, int> fds;
  for (auto& [p, off] : reads) {
    (void)off;
    if (fds.count(p)) continue;
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      state.SkipWithError(("cannot open " + p.string()).c_str());
      return;
    }
    fds[p] = fd;
  }
  std::vector<std::pair<int, uint64_t>> plan;
  for (auto& [p, off] : reads) plan.emplace_back(fds[p], off);
  char buf[32];
  for (auto _ : state) {
    for (auto& [fd, off] : plan) {
      ssize_t n = ::pread(fd, buf, bytes, static_cast<off_t>(off));
      benchmark::DoNotOptimize(n);
    }
  }
  state.counters["domains"] = static_cast<double>(plan.size());
  for (auto& [p, fd] : fds) ::close(fd);
}

void BM_PowercapRead(benchmark::State& state) { RunSource(state, ProbePowercap, "intel-2s"); }

void BM_PowercapPreadFloor(benchmark::State& state) {
  const fs::path z = BenchTree::Get().root() / "intel-2s/sys/class/powercap";
  std::vector<std::pair<fs::path, uint64_t>> reads;
  for (const char* zone :
       {"intel-rapl:0", "intel-rapl:0:0", "intel-rapl:0:1", "intel-rapl:0:2", "intel-rapl:1",
        "intel-rapl:1:0", "intel-rapl:1:1", "intel-rapl:1:2", "intel-rapl:2"})
    reads.emplace_back(z / zone / "energy_uj", 0);
  RunFloor(state, reads, 32);
}

void BM_PowercapPreadOneFile(benchmark::State& state) {
  RunFloor(state, {{BenchTree::Get().root() / "intel-2s/sys/class/powercap/intel-rapl:0/energy_uj", 0}}, 32);
}

void BM_MsrRead(benchmark::State& state) { RunSource(state, ProbeMsr, "intel-2s"); }

void BM_MsrPreadFloor(benchmark::State& state) {
  const fs::path d = BenchTree::Get().root() / "intel-2s/dev/cpu";
  std::vector<std::pair<fs::path, uint64_t>> reads;
  for (int cpu : {0, 2})
    for (uint64_t reg : {msr::kIntelPkgEnergy, msr::kIntelPp0Energy, msr::kIntelDramEnergy})
      reads.emplace_back(d / std::to_string(cpu) / "msr", reg);
  RunFloor(state, reads, 8);
}

void BM_HwmonRead(benchmark::State& state) { RunSource(state, ProbeHwmon, "amd"); }

void BM_HwmonPreadFloor(benchmark::State& state) {
  const fs::path h = BenchTree::Get().root() / "amd/sys/class/hwmon/hwmon1";
  RunFloor(state, {{h / "energy5_input", 0}, {h / "energy6_input", 0}}, 32);
}

BENCHMARK(BM_PowercapRead);
BENCHMARK(BM_PowercapPreadFloor);
BENCHMARK(BM_PowercapPreadOneFile);
BENCHMARK(BM_MsrRead);
BENCHMARK(BM_MsrPreadFloor);
BENCHMARK(BM_HwmonRead);
BENCHMARK(BM_HwmonPreadFloor);

}  // namespace

BENCHMARK_MAIN();
