// rapl-msr: RAPL energy counters read straight from the model-specific
// registers through /dev/cpu/N/msr (needs the msr module and CAP_SYS_RAWIO).
//
// One CPU per package is read (the first CPU of each physical package): RAPL
// counters are per package, so reading every CPU would multiply the energy.
// The counters are 32 bits in units of 1/2^ESU J (ESU = bits 12:8 of the unit
// register), so they wrap at 2^32 * unit J: within minutes at high power. The
// sampler corrects the wrap using max_energy_range_j; it must sample faster
// than one wrap period.
//
// Intel: unit 0x606, package 0x611, PP0 (core) 0x639, PP1 (uncore) 0x641,
// DRAM 0x619, PSYS 0x64D. Server parts count DRAM in a fixed 15.3 uJ unit
// (as Linux's intel_rapl does). AMD (and Hygon): unit 0xC0010299, package
// 0xC001029B, per-core 0xC001029A (not read: nested in the package, one per
// core).
//
// ProbeMsr (meter/sources.h) is the entry point. Thread-safety: see
// rapl_common.h.
#pragma once

#include <cstdint>

namespace wattlab {
namespace msr {

inline constexpr uint64_t kIntelPowerUnit = 0x606;
inline constexpr uint64_t kIntelPkgEnergy = 0x611;
inline constexpr uint64_t kIntelPp0Energy = 0x639;
inline constexpr uint64_t kIntelPp1Energy = 0x641;
inline constexpr uint64_t kIntelDramEnergy = 0x619;
inline constexpr uint64_t kIntelPsysEnergy = 0x64D;
inline constexpr uint64_t kAmdPowerUnit = 0xC0010299;
inline constexpr uint64_t kAmdCoreEnergy = 0xC001029A;
inline constexpr uint64_t kAmdPkgEnergy = 0xC001029B;

// Energy unit in joules from the unit register's bits 12:8.
double EnergyUnitJ(uint64_t unit_register);

// True for Intel server models whose DRAM domain counts in 15.3 uJ whatever
// the unit register says (Haswell-EP and later Xeons, Xeon Phi).
bool IntelDramHasFixedUnit(int family, int model);
inline constexpr double kIntelServerDramUnitJ = 15.3e-6;

}  // namespace msr
}  // namespace wattlab
