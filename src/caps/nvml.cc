// NVML for power limits: the few entry points caps needs, bound by name
// through Env::DlOpen/DlSym (no build-time dependency on the driver).
#include <string>

#include "caps/internal.h"
#include "core/strings.h"

namespace wattlab::caps::internal {

using namespace nvml;

struct Nvml::Api {
  nvmlReturn_t (*Init)() = nullptr;
  nvmlReturn_t (*Shutdown)() = nullptr;
  const char* (*ErrorString)(nvmlReturn_t) = nullptr;
  nvmlReturn_t (*GetCount)(unsigned int*) = nullptr;
  nvmlReturn_t (*GetHandleByIndex)(unsigned int, nvmlDevice_t*) = nullptr;
  nvmlReturn_t (*GetName)(nvmlDevice_t, char*, unsigned int) = nullptr;
  nvmlReturn_t (*GetLimitConstraints)(nvmlDevice_t, unsigned int*, unsigned int*) = nullptr;
  nvmlReturn_t (*GetLimit)(nvmlDevice_t, unsigned int*) = nullptr;
  nvmlReturn_t (*GetDefaultLimit)(nvmlDevice_t, unsigned int*) = nullptr;
  nvmlReturn_t (*GetEnforcedLimit)(nvmlDevice_t, unsigned int*) = nullptr;
  nvmlReturn_t (*SetLimit)(nvmlDevice_t, unsigned int) = nullptr;

  Status Check(nvmlReturn_t rc, const std::string& what) const {
    return StatusFromNvml(rc, what, rc != NVML_SUCCESS && ErrorString ? ErrorString(rc) : nullptr);
  }
};

namespace {

template <typename F>
void Bind(Env* env, void* handle, const char* symbol, F& fn) {
  fn = reinterpret_cast<F>(env->DlSym(handle, symbol));
}

std::string GpuCall(const char* call, unsigned index) {
  return std::string(call) + "(gpu " + std::to_string(index) + ")";
}

}  // namespace

Result<std::unique_ptr<Nvml>> Nvml::Open(Env* env, const std::string& library) {
  auto handle = env->DlOpen(library);
  if (!handle.ok()) return Status::NotFound("no NVIDIA driver (" + handle.status().message() + ")");
  std::unique_ptr<Nvml> n(new Nvml());
  n->api_ = std::make_unique<Api>();
  n->library_ = library;
  Api& a = *n->api_;
  Bind(env, *handle, "nvmlInit_v2", a.Init);
  Bind(env, *handle, "nvmlShutdown", a.Shutdown);
  Bind(env, *handle, "nvmlErrorString", a.ErrorString);
  Bind(env, *handle, "nvmlDeviceGetCount_v2", a.GetCount);
  Bind(env, *handle, "nvmlDeviceGetHandleByIndex_v2", a.GetHandleByIndex);
  Bind(env, *handle, "nvmlDeviceGetName", a.GetName);
  Bind(env, *handle, "nvmlDeviceGetPowerManagementLimitConstraints", a.GetLimitConstraints);
  Bind(env, *handle, "nvmlDeviceGetPowerManagementLimit", a.GetLimit);
  Bind(env, *handle, "nvmlDeviceGetPowerManagementDefaultLimit", a.GetDefaultLimit);
  Bind(env, *handle, "nvmlDeviceGetEnforcedPowerLimit", a.GetEnforcedLimit);
  Bind(env, *handle, "nvmlDeviceSetPowerManagementLimit", a.SetLimit);
  std::vector<std::string> missing;
  if (!a.Init) missing.push_back("nvmlInit_v2");
  if (!a.Shutdown) missing.push_back("nvmlShutdown");
  if (!a.GetCount) missing.push_back("nvmlDeviceGetCount_v2");
  if (!a.GetHandleByIndex) missing.push_back("nvmlDeviceGetHandleByIndex_v2");
  if (!a.GetLimit) missing.push_back("nvmlDeviceGetPowerManagementLimit");
  if (!missing.empty())
    return Status::NotFound(library + " lacks " + Join(missing, ", ") + " (driver too old or not NVML)");
  WATTLAB_RETURN_IF_ERROR(a.Check(a.Init(), "nvmlInit_v2"));
  unsigned count = 0;
  Status st = a.Check(a.GetCount(&count), "nvmlDeviceGetCount_v2");
  if (!st.ok()) {
    a.Shutdown();
    n->api_.reset();  // nothing to shut down twice
    return st;
  }
  n->count_ = count;
  return n;
}

Nvml::~Nvml() {
  if (api_ && api_->Shutdown) api_->Shutdown();
}

Result<nvmlDevice_t> Nvml::Handle(unsigned index) {
  if (index >= count_)
    return Status::InvalidArgument("there is no GPU " + std::to_string(index) + " (NVML lists " +
                                   std::to_string(count_) + ")");
  nvmlDevice_t h = nullptr;
  WATTLAB_RETURN_IF_ERROR(
      api_->Check(api_->GetHandleByIndex(index, &h), GpuCall("nvmlDeviceGetHandleByIndex_v2", index)));
  return h;
}

std::string Nvml::Name(unsigned index) {
  auto h = Handle(index);
  if (!h.ok() || !api_->GetName) return "unknown";
  char buf[kNameBufferSize] = {0};
  if (api_->GetName(*h, buf, sizeof buf) != NVML_SUCCESS) return "unknown";
  return buf;
}

namespace {

Result<unsigned> CallMw(Nvml::Api& api, nvmlReturn_t (*fn)(nvmlDevice_t, unsigned int*), nvmlDevice_t h,
                        const char* call, unsigned index) {
  if (!fn) return Status::NotSupported(std::string(call) + " is missing from this NVML");
  unsigned mw = 0;
  WATTLAB_RETURN_IF_ERROR(api.Check(fn(h, &mw), GpuCall(call, index)));
  return mw;
}

}  // namespace

Result<unsigned> Nvml::LimitMw(unsigned index) {
  WATTLAB_ASSIGN_OR_RETURN(nvmlDevice_t h, Handle(index));
  return CallMw(*api_, api_->GetLimit, h, "nvmlDeviceGetPowerManagementLimit", index);
}

Result<unsigned> Nvml::DefaultLimitMw(unsigned index) {
  WATTLAB_ASSIGN_OR_RETURN(nvmlDevice_t h, Handle(index));
  return CallMw(*api_, api_->GetDefaultLimit, h, "nvmlDeviceGetPowerManagementDefaultLimit", index);
}

Result<unsigned> Nvml::EnforcedLimitMw(unsigned index) {
  WATTLAB_ASSIGN_OR_RETURN(nvmlDevice_t h, Handle(index));
  return CallMw(*api_, api_->GetEnforcedLimit, h, "nvmlDeviceGetEnforcedPowerLimit", index);
}

Result<std::pair<unsigned, unsigned>> Nvml::ConstraintsMw(unsigned index) {
  WATTLAB_ASSIGN_OR_RETURN(nvmlDevice_t h, Handle(index));
  if (!api_->GetLimitConstraints)
    return Status::NotSupported("nvmlDeviceGetPowerManagementLimitConstraints is missing from this NVML");
  unsigned lo = 0, hi = 0;
  WATTLAB_RETURN_IF_ERROR(api_->Check(api_->GetLimitConstraints(h, &lo, &hi),
                                      GpuCall("nvmlDeviceGetPowerManagementLimitConstraints", index)));
  return std::make_pair(lo, hi);
}

Status Nvml::SetLimitMw(unsigned index, unsigned mw) {
  WATTLAB_ASSIGN_OR_RETURN(nvmlDevice_t h, Handle(index));
  if (!api_->SetLimit)
    return Status::NotSupported("nvmlDeviceSetPowerManagementLimit is missing from " + library_ +
                                " (driver too old to set power limits)");
  nvmlReturn_t rc = api_->SetLimit(h, mw);
  if (rc == NVML_ERROR_NO_PERMISSION) {
    const char* text = api_->ErrorString ? api_->ErrorString(rc) : "Insufficient Permissions";
    return Status::PermissionDenied(
        GpuCall("nvmlDeviceSetPowerManagementLimit", index) + " failed: " + text +
        "; setting a GPU power limit needs root (or CAP_SYS_ADMIN), and persistence mode "
        "(`nvidia-smi -pm 1`) keeps it while no process holds the GPU");
  }
  return api_->Check(rc, GpuCall("nvmlDeviceSetPowerManagementLimit", index));
}

}  // namespace wattlab::caps::internal
