// rapl-perf: RAPL energy counters through perf_event's `power` PMU.
//
// The PMU is described in /sys/bus/event_source/devices/power: `type` (the
// perf type number), `cpumask` (one CPU per package) and events/energy-{pkg,
// cores,gpu,ram,psys} with their `.scale` (J per count, 2^-32 in practice)
// and `.unit` ("Joules"). One system-wide counting event is opened per
// package and domain through Env::OpenPerfEvent; a reading is the 64-bit
// count times the scale (the kernel extends the 32-bit MSR, so it does not
// wrap in practice; the range is reported as 2^64 * scale).
//
// This is the usual way in when energy_uj is root-only: it needs
// kernel.perf_event_paranoid <= 0 or CAP_PERFMON, not root.
//
// ProbePerf (meter/sources.h) is the entry point. Thread-safety: see
// rapl_common.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "wattlab/status.h"

namespace wattlab {

// "event=0x02" (the events/energy-* file) -> 0x02. Only the `event` term
// exists for the power PMU; any other term is NotSupported.
Result<uint64_t> ParsePerfEventConfig(const std::string& text);

}  // namespace wattlab
