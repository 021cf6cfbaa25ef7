// Detection internals: choosing one source per component from the probes'
// results. DetectSources (include/wattlab/meter.h) runs the probes and calls
// ChooseSources; tests call ChooseSources directly with fake probe results.
//
// Rules, in probe order (rapl-powercap, rapl-perf, rapl-msr, hwmon, nvml,
// estimate): a source is chosen for every component of its domains that no
// earlier chosen source covers. A source whose components are all covered is
// kept as an attempt with chosen=false and the reason ("cpu already measured
// by rapl-powercap"). A source that adds some components only is chosen with
// just those domains (e.g. the estimate's dram beside RAPL packages without a
// dram counter), so no component is ever measured by two sources.
//
// Thread-safety: pure functions.
#pragma once

#include <memory>
#include <vector>

#include "meter/sources.h"
#include "wattlab/meter.h"

namespace wattlab {

// REQUIRES: probes in the documented order (the order is the preference).
DetectionReport ChooseSources(std::vector<ProbeResult> probes, const MeterOptions& options);

// Wraps `inner`, exposing only the domains at `keep` (indices into
// inner->domains()). Reads the whole inner source and copies those readings.
std::unique_ptr<EnergySource> NewDomainSubsetSource(std::unique_ptr<EnergySource> inner,
                                                    std::vector<size_t> keep);

}  // namespace wattlab
