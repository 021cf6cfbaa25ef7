#include "meter/nvml.h"

#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "core/strings.h"
#include "meter/sources.h"

namespace wattlab {
namespace nvml {

Status StatusFromNvml(nvmlReturn_t rc, const std::string& what, const char* error_string) {
  if (rc == NVML_SUCCESS) return Status::Ok();
  std::string text = what + " failed: " + (error_string && *error_string ? error_string : "NVML error") +
                     " (NVML code " + std::to_string(rc) + ")";
  switch (rc) {
    case NVML_ERROR_NO_PERMISSION:
      return Status::PermissionDenied(
          text + "; run as a user allowed to open /dev/nvidia* (e.g. in the 'video' group) or as root");
    case NVML_ERROR_NOT_SUPPORTED:
      return Status::NotSupported(text + "; this GPU or driver does not offer it");
    case NVML_ERROR_DRIVER_NOT_LOADED:
      return Status::NotFound(text + "; the NVIDIA kernel driver is not loaded: check `nvidia-smi`");
    case NVML_ERROR_LIBRARY_NOT_FOUND:
    case NVML_ERROR_FUNCTION_NOT_FOUND:
    case NVML_ERROR_NOT_FOUND:
      return Status::NotFound(text);
    case NVML_ERROR_INVALID_ARGUMENT:
    case NVML_ERROR_UNINITIALIZED:
      return Status::Internal(text);
    case NVML_ERROR_GPU_IS_LOST:
      return Status::IOError(text + "; the GPU fell off the bus: check `nvidia-smi` and the kernel log");
    default:
      return Status::IOError(text);
  }
}

}  // namespace nvml

namespace {

using namespace nvml;

// Entry points, looked up once. Required ones are checked at probe time.
struct NvmlApi {
  nvmlReturn_t (*Init)() = nullptr;
  nvmlReturn_t (*Shutdown)() = nullptr;
  const char* (*ErrorString)(nvmlReturn_t) = nullptr;
  nvmlReturn_t (*GetCount)(unsigned int*) = nullptr;
  nvmlReturn_t (*GetHandleByIndex)(unsigned int, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*GetName)(nvmlDevice_t, char*, unsigned int) = nullptr;
  nvmlReturn_t (*GetTotalEnergy)(nvmlDevice_t, unsigned long long*) = nullptr;
  nvmlReturn_t (*GetPowerUsage)(nvmlDevice_t, unsigned int*) = nullptr;
  nvmlReturn_t (*GetUtilization)(nvmlDevice_t, nvmlUtilization_t*) = nullptr;
  nvmlReturn_t (*GetLimitConstraints)(nvmlDevice_t, unsigned int*, unsigned int*) = nullptr;
  nvmlReturn_t (*GetLimit)(nvmlDevice_t, unsigned int*) = nullptr;
  nvmlReturn_t (*GetEnforcedLimit)(nvmlDevice_t, unsigned int*) = nullptr;
  nvmlReturn_t (*GetDriverVersion)(char*, unsigned int) = nullptr;

  Status Check(nvmlReturn_t rc, const std::string& what) const {
    return StatusFromNvml(rc, what, rc != NVML_SUCCESS && ErrorString ? ErrorString(rc) : nullptr);
  }
};

template <typename F>
void Bind(Env* env, void* handle, const char* symbol, F& fn) {
  fn = reinterpret_cast<F>(env->DlSym(handle, symbol));
}

// 2^64 mJ: the counter is an unsigned long long of millijoules.
constexpr double kEnergyCounterRangeJ = 18446744073709551616.0 / 1000.0;

struct Gpu {
  nvmlDevice_t handle = nullptr;
  unsigned int index = 0;
  bool energy_counter = false;
};

std::string WattsText(unsigned int mw) { return FormatDouble(mw / 1000.0); }

class NvmlSource : public EnergySource {
 public:
  NvmlSource(NvmlApi api, std::vector<Gpu> gpus, std::vector<DomainInfo> domains,
             std::vector<std::pair<std::string, std::string>> static_facts)
      : api_(api),
        gpus_(std::move(gpus)),
        domains_(std::move(domains)),
        static_facts_(std::move(static_facts)) {
    bool any_power = false;
    for (const Gpu& g : gpus_) any_power |= !g.energy_counter;
    // The energy counter is exact at any period, but a read costs a driver
    // call (~tens of us), so 10 ms is the useful floor. Sampled power only
    // changes when the driver refreshes it (every 20-100 ms; a 1 s average on
    // Ampere and newer), so reading faster than 20 ms just repeats values.
    min_interval_ = any_power ? std::chrono::milliseconds(20) : std::chrono::milliseconds(10);
  }
  ~NvmlSource() override { api_.Shutdown(); }

  const std::string& name() const override { return name_; }
  const std::vector<DomainInfo>& domains() const override { return domains_; }
  std::chrono::nanoseconds min_interval() const override { return min_interval_; }

  Status Read(std::vector<Reading>& out) override {
    if (out.size() != gpus_.size()) return Status::Internal("nvml Read: output size does not match domains");
    for (size_t i = 0; i < gpus_.size(); ++i) {
      const Gpu& g = gpus_[i];
      if (g.energy_counter) {
        unsigned long long mj = 0;
        WATTLAB_RETURN_IF_ERROR(
            api_.Check(api_.GetTotalEnergy(g.handle, &mj),
                       "nvmlDeviceGetTotalEnergyConsumption(gpu-" + std::to_string(g.index) + ")"));
        out[i] = Reading::Energy(static_cast<double>(mj) / 1000.0);
      } else {
        unsigned int mw = 0;
        WATTLAB_RETURN_IF_ERROR(api_.Check(api_.GetPowerUsage(g.handle, &mw),
                                           "nvmlDeviceGetPowerUsage(gpu-" + std::to_string(g.index) + ")"));
        out[i] = Reading::Power(mw / 1000.0);
      }
    }
    return Status::Ok();
  }

  // Static facts plus the utilisation at the time of the call.
  std::vector<std::pair<std::string, std::string>> Facts() const override {
    auto facts = static_facts_;
    if (!api_.GetUtilization) return facts;
    for (const Gpu& g : gpus_) {
      nvmlUtilization_t u{};
      if (api_.GetUtilization(g.handle, &u) == NVML_SUCCESS) {
        std::string p = "gpu-" + std::to_string(g.index) + ".";
        facts.emplace_back(p + "utilization_gpu_pct", std::to_string(u.gpu));
        facts.emplace_back(p + "utilization_memory_pct", std::to_string(u.memory));
      }
    }
    return facts;
  }

 private:
  const std::string name_ = kSourceNvml;
  NvmlApi api_;
  std::vector<Gpu> gpus_;
  std::vector<DomainInfo> domains_;
  std::vector<std::pair<std::string, std::string>> static_facts_;
  std::chrono::nanoseconds min_interval_;
};

}  // namespace

ProbeResult ProbeNvml(Env* env, const MeterOptions& options) {
  ProbeResult r;
  SourceAttempt& a = r.attempt;
  a.source = kSourceNvml;
  const std::string& lib = options.nvml_library;

  auto handle = env->DlOpen(lib);
  if (!handle.ok()) {
    a.reason = "no NVIDIA driver (" + lib + " not found)";
    a.hint =
        "on a GPU machine install the NVIDIA driver; if the library lives elsewhere, set "
        "WATTLAB_NVML_LIBRARY to its path";
    a.facts.emplace_back("nvml.dlopen_error", handle.status().message());
    return r;
  }

  NvmlApi api;
  Bind(env, *handle, "nvmlInit_v2", api.Init);
  Bind(env, *handle, "nvmlShutdown", api.Shutdown);
  Bind(env, *handle, "nvmlErrorString", api.ErrorString);
  Bind(env, *handle, "nvmlDeviceGetCount_v2", api.GetCount);
  Bind(env, *handle, "nvmlDeviceGetHandleByIndex_v2", api.GetHandleByIndex);
  Bind(env, *handle, "nvmlDeviceGetName", api.GetName);
  Bind(env, *handle, "nvmlDeviceGetTotalEnergyConsumption", api.GetTotalEnergy);
  Bind(env, *handle, "nvmlDeviceGetPowerUsage", api.GetPowerUsage);
  Bind(env, *handle, "nvmlDeviceGetUtilizationRates", api.GetUtilization);
  Bind(env, *handle, "nvmlDeviceGetPowerManagementLimitConstraints", api.GetLimitConstraints);
  Bind(env, *handle, "nvmlDeviceGetPowerManagementLimit", api.GetLimit);
  Bind(env, *handle, "nvmlDeviceGetEnforcedPowerLimit", api.GetEnforcedLimit);
  Bind(env, *handle, "nvmlSystemGetDriverVersion", api.GetDriverVersion);

  std::vector<std::string> missing;
  if (!api.Init) missing.push_back("nvmlInit_v2");
  if (!api.Shutdown) missing.push_back("nvmlShutdown");
  if (!api.GetCount) missing.push_back("nvmlDeviceGetCount_v2");
  if (!api.GetHandleByIndex) missing.push_back("nvmlDeviceGetHandleByIndex_v2");
  if (!api.GetPowerUsage) missing.push_back("nvmlDeviceGetPowerUsage");
  if (!missing.empty()) {
    a.reason = lib + " lacks " + Join(missing, ", ") + " (driver too old or not NVML)";
    a.hint = "update the NVIDIA driver (NVML with the _v2 entry points ships since driver 400)";
    return r;
  }

  Status init = api.Check(api.Init(), "nvmlInit_v2");
  if (!init.ok()) {
    a.reason = init.message();
    if (init.kind() == Status::Kind::kPermissionDenied) {
      a.hint = "run as a user allowed to open /dev/nvidia* (e.g. in the 'video' group) or as root";
    } else {
      a.hint = "check that `nvidia-smi` works on this machine";
    }
    return r;
  }

  std::string driver = "unknown";
  if (api.GetDriverVersion) {
    char buf[kDriverVersionBufferSize] = {0};
    if (api.GetDriverVersion(buf, sizeof buf) == NVML_SUCCESS) driver = buf;
  }
  a.facts.emplace_back("nvml.driver_version", driver);
  a.facts.emplace_back("nvml.library", lib);

  unsigned int count = 0;
  Status st = api.Check(api.GetCount(&count), "nvmlDeviceGetCount_v2");
  if (!st.ok() || count == 0) {
    api.Shutdown();
    a.reason = st.ok() ? "NVML found no GPUs (driver " + driver + ")" : st.message();
    a.hint = "check `nvidia-smi -L`, and CUDA_VISIBLE_DEVICES/container GPU flags";
    return r;
  }
  a.facts.emplace_back("nvml.gpu_count", std::to_string(count));

  std::vector<Gpu> gpus;
  std::vector<DomainInfo> domains;
  std::vector<std::string> problems;
  for (unsigned int i = 0; i < count; ++i) {
    const std::string dom = "gpu-" + std::to_string(i);
    const std::string p = dom + ".";
    Gpu g;
    g.index = i;
    Status hs = api.Check(api.GetHandleByIndex(i, &g.handle),
                          "nvmlDeviceGetHandleByIndex_v2(" + std::to_string(i) + ")");
    if (!hs.ok()) {
      problems.push_back(dom + ": " + hs.message());
      continue;
    }
    std::string name = "unknown";
    if (api.GetName) {
      char buf[kNameBufferSize] = {0};
      if (api.GetName(g.handle, buf, sizeof buf) == NVML_SUCCESS) name = buf;
    }
    DomainInfo d;
    d.name = dom;
    d.component = Component::kGpu;
    d.source = kSourceNvml;
    d.in_total = true;
    d.estimated = false;
    unsigned long long mj = 0;
    Status es = api.GetTotalEnergy
                    ? api.Check(api.GetTotalEnergy(g.handle, &mj), "nvmlDeviceGetTotalEnergyConsumption")
                    : Status::NotSupported("nvmlDeviceGetTotalEnergyConsumption is missing from " + lib);
    if (es.ok()) {
      g.energy_counter = true;
      d.is_counter = true;
      d.max_energy_range_j = kEnergyCounterRangeJ;
      d.note = name + ": total-energy counter (mJ since driver load)";
    } else {
      unsigned int mw = 0;
      Status ps = api.Check(api.GetPowerUsage(g.handle, &mw), "nvmlDeviceGetPowerUsage");
      if (!ps.ok()) {
        problems.push_back(dom + ": neither energy nor power readable: " + ps.message());
        continue;
      }
      d.is_counter = false;
      d.note = name + ": sampled power (energy counter unavailable: " + es.message() +
               "); power is a driver average, so short phases may be missed";
    }
    a.facts.emplace_back(p + "name", name);
    a.facts.emplace_back(p + "mode", g.energy_counter ? "energy counter" : "power sampling");
    unsigned int lo = 0, hi = 0, limit = 0, enforced = 0;
    if (api.GetLimitConstraints && api.GetLimitConstraints(g.handle, &lo, &hi) == NVML_SUCCESS) {
      a.facts.emplace_back(p + "power_limit_min_w", WattsText(lo));
      a.facts.emplace_back(p + "power_limit_max_w", WattsText(hi));
    }
    if (api.GetLimit && api.GetLimit(g.handle, &limit) == NVML_SUCCESS) {
      a.facts.emplace_back(p + "power_limit_w", WattsText(limit));
    }
    if (api.GetEnforcedLimit && api.GetEnforcedLimit(g.handle, &enforced) == NVML_SUCCESS) {
      a.facts.emplace_back(p + "enforced_power_limit_w", WattsText(enforced));
    }
    gpus.push_back(g);
    domains.push_back(d);
  }
  for (const std::string& pr : problems) a.facts.emplace_back("nvml.problem", pr);

  if (gpus.empty()) {
    api.Shutdown();
    a.reason =
        "NVML lists " + std::to_string(count) + " GPU(s) but none is readable: " + Join(problems, "; ");
    a.hint = "check `nvidia-smi -q -d POWER` on this machine";
    return r;
  }

  a.available = true;
  a.domains = domains;
  auto source = std::make_unique<NvmlSource>(api, std::move(gpus), std::move(domains), a.facts);
  // Utilisation at probe time, for the detection report.
  a.facts = source->Facts();
  r.source = std::move(source);
  return r;
}

}  // namespace wattlab
