// rapl-powercap: RAPL energy counters through the powercap sysfs class.
//
// Zones are /sys/class/powercap/intel-rapl:N (packages, psys) with subzones
// intel-rapl:N:M (core, uncore, dram), plus intel-rapl-mmio:N on client chips,
// whose package zone is the same counter as intel-rapl's read another way (it
// is skipped when intel-rapl already has that package, so nothing counts
// twice). Intel and AMD (Linux >= 5.8) share the layout.
//
// Each zone's energy_uj is opened once and pread at every sample; a reading is
// energy_uj * 1e-6 J, wrapping at max_energy_range_uj * 1e-6 J. The sampler
// corrects the wrap; this source only reports raw counters and their range.
//
// ProbePowercap (meter/sources.h) is the entry point; ListPowercapZones is
// exposed for tests and `wattlab meters`. Thread-safety: see rapl_common.h.
#pragma once

#include <string>
#include <vector>

#include "core/env.h"
#include "wattlab/meter.h"

namespace wattlab {

struct PowercapZone {
  std::string id;             // "intel-rapl:0:1", "intel-rapl-mmio:0"
  std::string dir;            // "/sys/class/powercap/intel-rapl:0:1"
  bool mmio = false;          // intel-rapl-mmio:*
  std::vector<int> index;     // {0, 1} for intel-rapl:0:1
  std::string raw_name;       // contents of `name`: "package-0", "core", "dram", "psys"
  std::string domain;         // wattlab's domain name: "package-0", "core-0", "dram-1", "psys"
  std::string kind;           // "package", "core", "uncore", "dram", "psys" or the raw kind
  std::string parent_domain;  // "package-0" for subzones, "" for top-level zones
};

// Every RAPL zone under /sys/class/powercap, intel-rapl before intel-rapl-mmio,
// parents before their subzones. NotFound when there is no powercap class.
Result<std::vector<PowercapZone>> ListPowercapZones(Env* env);

}  // namespace wattlab
