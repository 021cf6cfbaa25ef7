// CPU TDP table and the rules that turn /proc/cpuinfo into a TDP figure for
// the estimate source.
//
// Resolution order (ResolveCpuTdp):
//   1. the user's override (--cpu-tdp-w / WATTLAB_CPU_TDP_W): the TDP of all
//      CPUs this system sees, used as given;
//   2. a row of the compiled-in table matched on the cpuinfo model name
//      ("Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz" -> "Core i7-8700K"):
//      per-socket TDP x sockets; inside a VM (cpuinfo flag "hypervisor") and
//      when the row knows the part's thread count, scaled to the threads this
//      VM sees (a 4-vCPU slice of a 64-core EPYC is not 280 W);
//   3. when the name carries no model number (VMs print "AMD EPYC" or "Intel
//      Xeon Processor"): the CPU generation from vendor + family + model
//      number (and the name, where two lines share the numbers), with the
//      W per thread of that generation's flagship part;
//   4. CodeCarbon's fallback: 4 W per logical CPU.
// Every result says which rule and constants were used, for the facts.
//
// The table: see cpu_tdp_table.cc for the rows and their source.
// Thread-safety: pure functions over constant data.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "meter/procfs.h"

namespace wattlab {

struct CpuTdpRow {
  const char* model;  // marketing name without vendor: "Core i7-8700K", "EPYC 7763"
  double tdp_w;       // per socket: Intel "Processor Base Power"/TDP, AMD "Default TDP"
  int threads;        // hardware threads per socket; 0 when the table does not say
};

// All rows, in table order.
std::span<const CpuTdpRow> CpuTdpTable();

// The manufacturer's spec page a row was written from, by name: "Intel ARK
// 'Intel Xeon E5-2620 v3 Processor' product specifications: TDP" or "AMD
// product page 'AMD EPYC 8024P', specifications: Default TDP".
std::string CpuTdpRowCitation(const CpuTdpRow& row);

// Lower-cased tokens of a model name with trademarks, clock speed, core-count
// words and filler removed: "Intel(R) Xeon(R) CPU E5-2690 v4 @ 2.60GHz" ->
// {"intel","xeon","e5-2690","v4"}; first-generation Xeon E3/E5/E7 spellings
// ("E31230", "E5-2670 0", "E7- 4870") become "e3-1230","v1" etc. Exposed for tests.
std::vector<std::string> NormalizeCpuModelTokens(const std::string& model_name);

// The row whose tokens appear as a contiguous run in the model name's tokens
// (so "i7-8700" never matches "i7-8700K"); the longest such row wins.
// nullptr when none matches.
const CpuTdpRow* FindCpuTdpRow(const std::string& model_name);

// A CPU generation recognised from cpuinfo's vendor, family and model.
struct CpuGeneration {
  const char* name;        // "AMD EPYC 9004 (Genoa, Zen 4)"
  const char* reference;   // flagship part the constant comes from: "EPYC 9654"
  double reference_tdp_w;  // its TDP per socket
  int reference_threads;   // its threads per socket
  double WattsPerThread() const { return reference_tdp_w / reference_threads; }
};
// model_name (cpuinfo's, may be empty) decides between product lines that
// share family and model numbers (EPYC 8004 Siena / 97x4 Bergamo, both 19h
// A0h-AFh); when it does not name the line, the generation found says that
// the rule cannot tell them apart.
const CpuGeneration* FindCpuGeneration(const std::string& vendor, int family, int model,
                                       const std::string& model_name = "");

inline constexpr double kDefaultWattsPerThread = 4.0;  // CodeCarbon's fallback for unknown CPUs

// How a TDP was found (CpuTdpResolution::method, fact estimate.cpu_tdp_method,
// `tdp_method` of `wattlab estimate --json`).
inline constexpr const char* kTdpMethodOverride = "override";
inline constexpr const char* kTdpMethodTable = "table";
inline constexpr const char* kTdpMethodGeneration = "generation rule";
inline constexpr const char* kTdpMethodDefault = "default 4 W per thread";

struct CpuTdpResolution {
  double tdp_w = 0;         // for all the CPUs this system sees
  std::string method;       // one of kTdpMethod*
  std::string explanation;  // "TDP 95 W from table row 'Core i7-8700K' x 1 socket (source: ...)"
};

// REQUIRES: info.threads >= 1. override_w, when set, must be > 0 (checked by
// the caller, which reports InvalidArgument).
CpuTdpResolution ResolveCpuTdp(const CpuInfo& info, std::optional<double> override_w);

// Where the table's numbers come from (named in facts and docs).
inline constexpr const char* kCpuTdpTableSource =
    "manufacturers' published spec sheets (Intel ARK Processor Base Power/TDP, AMD product pages Default "
    "TDP)";

}  // namespace wattlab
