// NVML source: NVIDIA GPU energy through libnvidia-ml, loaded at run time.
//
// There is no build-time dependency on the driver or on nvml.h: the library
// is opened with Env::DlOpen (MeterOptions.nvml_library, default
// "libnvidia-ml.so.1") and the few entry points are looked up by their real,
// versioned names. The declarations below mirror NVML's C ABI (nvml.h):
// nvmlReturn_t is an int, nvmlDevice_t an opaque pointer.
//
// One domain per GPU ("gpu-0", component gpu). Preferred: the total-energy
// counter (nvmlDeviceGetTotalEnergyConsumption, mJ since driver load, Volta
// and newer) read as a cumulative counter in J. Fallback per GPU: sampled
// power (nvmlDeviceGetPowerUsage, mW) read as W.
//
// Ownership: the source keeps NVML initialised for its lifetime and calls
// nvmlShutdown when destroyed (NVML reference-counts init/shutdown).
// Thread-safety: NVML calls are thread-safe; Read is called by the sampler
// thread and Facts may be called from any other.
#pragma once

#include <string>

#include "wattlab/status.h"

namespace wattlab {
namespace nvml {

using nvmlReturn_t = int;
struct nvmlDevice_st;
using nvmlDevice_t = nvmlDevice_st*;
struct nvmlUtilization_t {
  unsigned int gpu;     // percent of time a kernel ran over the last sample period
  unsigned int memory;  // percent of time device memory was read or written
};

inline constexpr nvmlReturn_t NVML_SUCCESS = 0;
inline constexpr nvmlReturn_t NVML_ERROR_UNINITIALIZED = 1;
inline constexpr nvmlReturn_t NVML_ERROR_INVALID_ARGUMENT = 2;
inline constexpr nvmlReturn_t NVML_ERROR_NOT_SUPPORTED = 3;
inline constexpr nvmlReturn_t NVML_ERROR_NO_PERMISSION = 4;
inline constexpr nvmlReturn_t NVML_ERROR_NOT_FOUND = 6;
inline constexpr nvmlReturn_t NVML_ERROR_DRIVER_NOT_LOADED = 9;
inline constexpr nvmlReturn_t NVML_ERROR_LIBRARY_NOT_FOUND = 12;
inline constexpr nvmlReturn_t NVML_ERROR_FUNCTION_NOT_FOUND = 13;
inline constexpr nvmlReturn_t NVML_ERROR_GPU_IS_LOST = 15;
inline constexpr nvmlReturn_t NVML_ERROR_UNKNOWN = 999;

inline constexpr unsigned int kNameBufferSize = 96;           // NVML_DEVICE_NAME_V2_BUFFER_SIZE
inline constexpr unsigned int kDriverVersionBufferSize = 80;  // NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE

// Translates an NVML return code into a Status, once, at the boundary.
// `what` names the call ("nvmlInit_v2"); `error_string` is nvmlErrorString's
// text (may be null). The message says what to do where that is known.
Status StatusFromNvml(nvmlReturn_t rc, const std::string& what, const char* error_string);

}  // namespace nvml
}  // namespace wattlab
