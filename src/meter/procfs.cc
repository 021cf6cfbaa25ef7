#include "meter/procfs.h"

#include <cstdint>
#include <set>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "core/strings.h"

namespace wattlab {

uint64_t CpuTimes::Busy() const { return user + nice + system + irq + softirq + steal; }
uint64_t CpuTimes::Total() const { return Busy() + idle + iowait; }

namespace {

std::optional<uint64_t> ParseU64Field(std::string_view s) {
  auto v = ParseInt(s);
  if (!v || *v < 0) return std::nullopt;
  return static_cast<uint64_t>(*v);
}

std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string f;
  while (in >> f) out.push_back(f);
  return out;
}

}  // namespace

Result<CpuTimes> ParseProcStat(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!StartsWith(line, "cpu ")) continue;
    std::vector<std::string> f = Fields(line);
    // Kernels since 2.6.11 print at least 8 numbers (steal); older have fewer
    // and those missing stay 0.
    if (f.size() < 5) {
      return Status::Corruption("/proc/stat: the aggregate 'cpu' line has too few fields: '" + line + "'");
    }
    uint64_t v[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t i = 1; i < f.size() && i <= 8; ++i) {
      auto n = ParseU64Field(f[i]);
      if (!n)
        return Status::Corruption("/proc/stat: field " + std::to_string(i) +
                                  " of the 'cpu' line is not a number: '" + f[i] + "'");
      v[i - 1] = *n;
    }
    // Busy() and Total() sum the fields: a line whose sum passes 2^64 is not
    // a real /proc/stat, and summed it would wrap (found with sysfs_fuzz).
    uint64_t sum = 0;
    for (uint64_t x : v) {
      if (x > UINT64_MAX - sum)
        return Status::Corruption("/proc/stat: the 'cpu' line's ticks add up past 2^64: '" + line + "'");
      sum += x;
    }
    CpuTimes t;
    t.user = v[0];
    t.nice = v[1];
    t.system = v[2];
    t.idle = v[3];
    t.iowait = v[4];
    t.irq = v[5];
    t.softirq = v[6];
    t.steal = v[7];
    return t;
  }
  return Status::Corruption("/proc/stat has no aggregate 'cpu' line");
}

Result<CpuTimes> ReadProcStat(Env* env) {
  WATTLAB_ASSIGN_OR_RETURN(std::string text, env->ReadFile("/proc/stat"));
  return ParseProcStat(text);
}

Result<CpuInfo> ParseCpuInfo(const std::string& text) {
  CpuInfo info;
  std::set<std::string> physical_ids;
  // "cpu cores" per socket as printed for each physical id.
  std::unordered_map<std::string, int> cores_per_socket;
  std::string current_physical_id;
  int cores_this_entry = -1;
  auto flush_entry = [&]() {
    if (cores_this_entry > 0) cores_per_socket[current_physical_id] = cores_this_entry;
    current_physical_id.clear();
    cores_this_entry = -1;
  };

  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) {
      if (TrimCopy(line).empty()) flush_entry();
      continue;
    }
    std::string key = TrimCopy(std::string_view(line).substr(0, colon));
    std::string value = TrimCopy(std::string_view(line).substr(colon + 1));
    if (key == "processor") {
      ++info.threads;
    } else if (key == "vendor_id") {
      if (info.vendor.empty()) info.vendor = value;
    } else if (key == "model name") {
      if (info.model_name.empty()) info.model_name = value;
    } else if (key == "cpu family") {
      if (info.family < 0) {
        auto v = ParseInt(value);
        if (v) info.family = static_cast<int>(*v);
      }
    } else if (key == "model") {
      if (info.model < 0) {
        auto v = ParseInt(value);
        if (v) info.model = static_cast<int>(*v);
      }
    } else if (key == "physical id") {
      current_physical_id = value;
      physical_ids.insert(value);
    } else if (key == "flags") {
      if ((" " + value + " ").find(" hypervisor ") != std::string::npos) info.hypervisor = true;
    } else if (key == "cpu cores") {
      auto v = ParseInt(value);
      if (v && *v > 0) cores_this_entry = static_cast<int>(*v);
    }
  }
  flush_entry();
  if (info.threads <= 0) {
    return Status::Corruption("/proc/cpuinfo lists no 'processor' entries");
  }
  info.sockets = physical_ids.empty() ? 1 : static_cast<int>(physical_ids.size());
  int cores = 0;
  for (const auto& [id, n] : cores_per_socket) cores += n;
  info.cores = cores > 0 ? cores : info.threads;
  return info;
}

Result<CpuInfo> ReadCpuInfo(Env* env) {
  WATTLAB_ASSIGN_OR_RETURN(std::string text, env->ReadFile("/proc/cpuinfo"));
  return ParseCpuInfo(text);
}

namespace {
Result<uint64_t> ParseMeminfoBytes(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!StartsWith(line, key + ":")) continue;
    std::vector<std::string> f = Fields(line.substr(key.size() + 1));
    if (f.empty()) break;
    auto n = ParseU64Field(f[0]);
    if (!n) return Status::Corruption("/proc/meminfo: " + key + " is not a number: '" + line + "'");
    uint64_t scale = 1;
    if (f.size() >= 2) {
      std::string unit = ToLower(f[1]);
      if (unit == "kb")
        scale = 1024;  // the kernel's "kB" means KiB
      else if (unit == "mb")
        scale = 1024 * 1024;
      else if (unit == "gb")
        scale = 1024ull * 1024 * 1024;
      else
        return Status::Corruption("/proc/meminfo: unknown " + key + " unit '" + f[1] + "'");
    }
    // 9e18 kB is no real memory size, and times 1024 it wrapped (found with sysfs_fuzz).
    if (*n > UINT64_MAX / scale)
      return Status::Corruption("/proc/meminfo: " + key + " is implausibly large: '" + line + "'");
    return *n * scale;
  }
  return Status::Corruption("/proc/meminfo has no " + key + " line");
}
}  // namespace

Result<uint64_t> ParseMemTotalBytes(const std::string& text) { return ParseMeminfoBytes(text, "MemTotal"); }
Result<uint64_t> ParseMemAvailableBytes(const std::string& text) {
  return ParseMeminfoBytes(text, "MemAvailable");
}

Result<uint64_t> ReadMemAvailableBytes(Env* env) {
  WATTLAB_ASSIGN_OR_RETURN(std::string text, env->ReadFile("/proc/meminfo"));
  return ParseMemAvailableBytes(text);
}

Result<uint64_t> ReadMemTotalBytes(Env* env) {
  WATTLAB_ASSIGN_OR_RETURN(std::string text, env->ReadFile("/proc/meminfo"));
  return ParseMemTotalBytes(text);
}

Result<ProcStat> ParsePidStat(const std::string& text) {
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) {
    return Status::Corruption("/proc/<pid>/stat: no '(comm)' field in '" + text.substr(0, 80) + "'");
  }
  auto pid = ParseInt(TrimCopy(std::string_view(text).substr(0, open)));
  std::vector<std::string> f = Fields(text.substr(close + 1));
  // After comm: state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17);
  // f[0] is field 3.
  if (!pid || f.size() < 15) {
    return Status::Corruption("/proc/<pid>/stat: too few fields in '" + text.substr(0, 80) + "'");
  }
  auto ppid = ParseInt(f[1]);
  auto utime = ParseU64Field(f[11]);
  auto stime = ParseU64Field(f[12]);
  // cutime/cstime are signed in the kernel's format (long); never negative in practice.
  auto cutime = ParseInt(f[13]);
  auto cstime = ParseInt(f[14]);
  if (!ppid || !utime || !stime || !cutime || !cstime) {
    return Status::Corruption("/proc/<pid>/stat: malformed numbers in '" + text.substr(0, 80) + "'");
  }
  ProcStat s;
  s.pid = static_cast<int>(*pid);
  s.ppid = static_cast<int>(*ppid);
  s.utime = *utime;
  s.stime = *stime;
  s.cutime = *cutime > 0 ? static_cast<uint64_t>(*cutime) : 0;
  s.cstime = *cstime > 0 ? static_cast<uint64_t>(*cstime) : 0;
  return s;
}

Result<uint64_t> ReadProcessTreeCpuTicks(Env* env, int pid) {
  const std::string root_path = "/proc/" + std::to_string(pid) + "/stat";
  auto root_text = env->ReadFile(root_path);
  if (!root_text.ok()) {
    if (root_text.status().kind() == Status::Kind::kNotFound) {
      return Status::NotFound("process " + std::to_string(pid) + " does not exist (no " + root_path + ")");
    }
    return root_text.status();
  }
  WATTLAB_ASSIGN_OR_RETURN(ProcStat root, ParsePidStat(*root_text));

  WATTLAB_ASSIGN_OR_RETURN(std::vector<std::string> entries, env->ListDir("/proc"));
  std::unordered_map<int, std::vector<ProcStat>> children;
  for (const std::string& e : entries) {
    auto n = ParseInt(e);
    if (!n || *n <= 0 || *n == pid) continue;
    // A process may exit between ListDir and ReadFile: skip it, it is gone.
    auto text = env->ReadFile("/proc/" + e + "/stat");
    if (!text.ok()) continue;
    auto st = ParsePidStat(*text);
    if (!st.ok()) continue;
    children[st->ppid].push_back(*st);
  }

  uint64_t ticks = 0;
  std::vector<ProcStat> stack = {root};
  std::set<int> seen;
  while (!stack.empty()) {
    ProcStat p = stack.back();
    stack.pop_back();
    if (!seen.insert(p.pid).second) continue;  // guards against a pid reused mid-scan forming a loop
    ticks += p.utime + p.stime + p.cutime + p.cstime;
    auto it = children.find(p.pid);
    if (it == children.end()) continue;
    for (const ProcStat& c : it->second) stack.push_back(c);
  }
  return ticks;
}

Result<NetBytes> ParseNetDev(const std::string& text) {
  // Two header lines, then "  iface: rx_bytes rx_packets errs drop fifo frame
  // compressed multicast tx_bytes ...": tx_bytes is the 9th number.
  NetBytes b;
  int parsed = 0;
  for (const std::string& line : Split(text, '\n')) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string iface = TrimCopy(line.substr(0, colon));
    std::vector<uint64_t> v;
    for (const std::string& f : Split(line.substr(colon + 1), ' ')) {
      if (f.empty()) continue;
      auto n = ParseInt(f);
      if (!n || *n < 0) break;
      v.push_back(static_cast<uint64_t>(*n));
    }
    if (iface.empty() || v.size() < 9) continue;
    ++parsed;
    if (iface == "lo") {
      b.lo_rx += v[0];
      b.lo_tx += v[8];
    } else {
      b.rx += v[0];
      b.tx += v[8];
    }
  }
  if (parsed == 0) return Status::Corruption("/proc/net/dev: no interface line");
  return b;
}

Result<NetBytes> ReadNetDev(Env* env) {
  WATTLAB_ASSIGN_OR_RETURN(std::string text, env->ReadFile("/proc/net/dev"));
  return ParseNetDev(text);
}

Result<IoBytes> ParsePidIo(const std::string& text) {
  IoBytes b;
  bool r = false, w = false;
  for (const std::string& line : Split(text, '\n')) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = TrimCopy(line.substr(0, colon));
    auto n = ParseInt(TrimCopy(line.substr(colon + 1)));
    if (!n || *n < 0) continue;
    if (key == "read_bytes") b.read = static_cast<uint64_t>(*n), r = true;
    if (key == "write_bytes") b.write = static_cast<uint64_t>(*n), w = true;
  }
  if (!r || !w) return Status::Corruption("/proc/<pid>/io: no read_bytes/write_bytes lines");
  return b;
}

Result<IoBytes> ReadProcessTreeIoBytes(Env* env, int pid) {
  const std::string root_path = "/proc/" + std::to_string(pid) + "/io";
  WATTLAB_ASSIGN_OR_RETURN(std::string root_text, env->ReadFile(root_path));
  WATTLAB_ASSIGN_OR_RETURN(IoBytes total, ParsePidIo(root_text));
  WATTLAB_ASSIGN_OR_RETURN(std::vector<std::string> entries, env->ListDir("/proc"));
  std::unordered_map<int, std::vector<int>> children;
  for (const std::string& e : entries) {
    auto n = ParseInt(e);
    if (!n || *n <= 0 || *n == pid) continue;
    auto text = env->ReadFile("/proc/" + e + "/stat");
    if (!text.ok()) continue;
    auto st = ParsePidStat(*text);
    if (!st.ok()) continue;
    children[st->ppid].push_back(st->pid);
  }
  std::vector<int> stack = {pid};
  std::set<int> seen;
  while (!stack.empty()) {
    int p = stack.back();
    stack.pop_back();
    if (!seen.insert(p).second) continue;
    if (p != pid) {
      auto text = env->ReadFile("/proc/" + std::to_string(p) + "/io");
      if (text.ok())
        if (auto io = ParsePidIo(*text); io.ok()) {
          total.read += io->read;
          total.write += io->write;
        }
    }
    auto it = children.find(p);
    if (it == children.end()) continue;
    for (int c : it->second) stack.push_back(c);
  }
  return total;
}

}  // namespace wattlab
