// hwmon: energy and power sensors of the hwmon class.
//
// /sys/class/hwmon/hwmonN/{name, energyN_input (uJ, cumulative counter),
// energyN_label, powerN_average or powerN_input (uW, sampled power),
// powerN_label, update_interval (ms)}; older drivers keep these under
// hwmonN/device/. Files are opened once and pread at every sample.
//
// What each sensor covers decides how it is summed (detection then picks one
// source per component):
//   amd_energy  Esocket<k> -> "package-<k>", cpu, summed (Ecore* are nested
//               in the sockets and skipped; counted in a fact);
//   amdgpu      power -> gpu, summed;
//   power_meter ACPI whole-machine power -> platform, reported, not summed;
//   other chips board rails whose overlap with other domains is unknown ->
//               other, reported, not summed.
// Counters never wrap in practice (64-bit uJ): max_energy_range_j stays 0.
// Power sensors make the source's min_interval 10 ms, or the chip's
// update_interval when longer.
//
// ProbeHwmon (meter/sources.h) is the entry point. Thread-safety: see
// rapl_common.h.
#pragma once

#include <string>
#include <vector>

#include "core/env.h"
#include "wattlab/meter.h"

namespace wattlab {

struct HwmonSensor {
  std::string chip;   // contents of `name`: "amd_energy", "amdgpu"
  std::string dir;    // "/sys/class/hwmon/hwmon2" (or .../device)
  std::string file;   // "energy1_input", "power1_average"
  std::string label;  // "Esocket0", "PPT", "" when there is no label
  bool is_energy = true;
};

// Every energy and power sensor under /sys/class/hwmon, in hwmon order.
// NotFound when there is no hwmon class.
Result<std::vector<HwmonSensor>> ListHwmonSensors(Env* env);

}  // namespace wattlab
