// Inside the caps room: the NVML handle and the sysfs helpers shared by
// knobs.cc, journal.cc and session.cc. Not exported.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caps/caps.h"
#include "meter/nvml.h"

namespace wattlab::caps::internal {

inline constexpr const char* kPowercapDir = "/sys/class/powercap";
inline constexpr const char* kCpuDir = "/sys/devices/system/cpu";

// NVML opened for power limits. Init in Open, nvmlShutdown in the destructor.
class Nvml {
 public:
  // NotFound when the library or a required entry point is missing; the
  // NVML error translated otherwise.
  static Result<std::unique_ptr<Nvml>> Open(Env* env, const std::string& library);
  ~Nvml();
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  unsigned count() const { return count_; }
  const std::string& library() const { return library_; }
  std::string Name(unsigned index);
  // Each in mW; the NVML error (as a Status) when the driver refuses.
  Result<unsigned> LimitMw(unsigned index);
  Result<unsigned> DefaultLimitMw(unsigned index);
  Result<unsigned> EnforcedLimitMw(unsigned index);
  Result<std::pair<unsigned, unsigned>> ConstraintsMw(unsigned index);
  // Permission errors say what is needed (root or CAP_SYS_ADMIN, persistence mode).
  Status SetLimitMw(unsigned index, unsigned mw);

  struct Api;

 private:
  Nvml() = default;
  Result<nvml::nvmlDevice_t> Handle(unsigned index);
  std::unique_ptr<Api> api_;
  std::string library_;
  unsigned count_ = 0;
};

// Whole sysfs file as an unsigned decimal.
Result<uint64_t> ReadU64File(Env* env, const std::string& path);
// Writes "<value>\n"-less decimal text in place; permission errors get the
// advice for `what` ("powercap limits", "cpufreq limits").
Status WriteU64File(Env* env, const std::string& path, uint64_t value, const std::string& what);
Status WriteTextFile(Env* env, const std::string& path, const std::string& text, const std::string& what);

// True when /proc/self/status shows CAP_SYS_ADMIN in CapEff (root has it).
bool HasCapSysAdmin(Env* env);

// A package zone with its constraint numbers by name.
struct PackageZone {
  std::string zone, dir, name;
  int package = 0;
};
// Top-level intel-rapl package zones ("package-N"), in package order; the
// intel-rapl-mmio duplicates only where intel-rapl has none.
Result<std::vector<PackageZone>> ListPackageZones(Env* env);
// The K of constraint_K_name == name; NotFound listing the names there are.
Result<int> FindConstraint(Env* env, const std::string& zone_dir, const std::string& name);

// CPUs with cpufreq/scaling_max_freq, ascending.
std::vector<int> ListCpufreqCpus(Env* env);
std::string CpufreqPath(int cpu, const std::string& file);

// "100.5" for 100500 mW etc.: watts from milli/micro units, without noise.
double MilliToUnit(uint64_t v);
double MicroToUnit(uint64_t v);

}  // namespace wattlab::caps::internal
