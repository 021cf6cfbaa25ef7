// The pure parts of the Env seam: Roots from the environment (through an Env),
// the ReadableFile helpers and the sysfs value parsers.
#include "core/env.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "core/strings.h"

namespace wattlab {

Roots Roots::FromEnvironment(Env* env) {
  Roots r;
  if (auto v = env->GetEnvVar("WATTLAB_SYSFS_ROOT"); v && !v->empty()) r.sysfs = *v;
  if (auto v = env->GetEnvVar("WATTLAB_PROC_ROOT"); v && !v->empty()) r.proc = *v;
  if (auto v = env->GetEnvVar("WATTLAB_DEV_ROOT"); v && !v->empty()) r.dev = *v;
  return r;
}

std::string Trim(const std::string& s) { return TrimCopy(s); }

Result<uint64_t> ParseU64(const std::string& text, const std::string& path) {
  std::string t = Trim(text);
  if (t.empty() || !std::all_of(t.begin(), t.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return Status::Corruption(path + ": expected an unsigned integer, found '" + t + "'");
  errno = 0;
  unsigned long long v = std::strtoull(t.c_str(), nullptr, 10);
  if (errno == ERANGE) return Status::Corruption(path + ": integer out of range: " + t);
  return static_cast<uint64_t>(v);
}

Result<int64_t> ParseI64(const std::string& text, const std::string& path) {
  std::string t = Trim(text);
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(t.c_str(), &end, 10);
  // The whole text must be the number: `*end == '\0'` alone took "\0junk"
  // for 0 (found by sysfs_fuzz).
  if (t.empty() || end != t.c_str() + t.size() || errno == ERANGE)
    return Status::Corruption(path + ": expected an integer, found '" + t + "'");
  return static_cast<int64_t>(v);
}

Result<double> ParseDouble(const std::string& text, const std::string& path) {
  std::string t = Trim(text);
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size())
    return Status::Corruption(path + ": expected a number, found '" + t + "'");
  return v;
}

Result<std::string> ReadableFile::ReadAllText() {
  std::string out;
  char buf[4096];
  uint64_t off = 0;
  for (;;) {
    auto n = PRead(off, buf, sizeof buf);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    out.append(buf, *n);
    off += *n;
  }
  return out;
}

Result<uint64_t> ReadableFile::ReadU64(uint64_t offset) {
  uint64_t v = 0;
  auto n = PRead(offset, &v, sizeof v);
  if (!n.ok()) return n.status();
  if (*n != sizeof v)
    return Status::IOError("short read of 8 bytes at offset " + std::to_string(offset) + " in " + path());
  return v;
}

}  // namespace wattlab
