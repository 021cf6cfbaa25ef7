// The meter: energy sources, detection, a sampler thread, and named windows.
//
// A Meter is built by detection (every source is tried; the best per
// component is chosen; nested domains are never double-counted), then started:
// a background thread reads every chosen source at its interval (never faster
// than a source's own resolution), corrects counter wraparound and keeps a
// timeline. Named windows (train, eval, infer, "epoch 3", ...) may nest and
// overlap; each EndWindow gives per-domain energy over exactly that span.
//
// Ownership: the Meter owns its sources and thread. The Env passed in must
// outlive it. Thread-safety: all public methods may be called from any
// thread. A read error fails only the windows open while it happened (their
// EndWindow returns it), so one bad read does not void a long study; Stop
// returns the first error the sampler met.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wattlab/status.h"

namespace wattlab {

class Env;
struct Roots;

// Source names, used verbatim in JSON, CSV, the store and reports.
inline constexpr const char* kSourceRaplPowercap = "rapl-powercap";
inline constexpr const char* kSourceRaplPerf = "rapl-perf";
inline constexpr const char* kSourceRaplMsr = "rapl-msr";
inline constexpr const char* kSourceHwmon = "hwmon";
inline constexpr const char* kSourceNvml = "nvml";
inline constexpr const char* kSourceEstimate = "estimate";

// What a domain measures. Detection picks one source per component.
enum class Component { kCpu, kDram, kGpu, kPlatform, kOther };
const char* ComponentName(Component c);  // "cpu", "dram", "gpu", "platform", "other"

struct DomainInfo {
  std::string name;  // "package-0", "core-0", "dram-1", "psys", "gpu-0", "cpu"
  Component component = Component::kCpu;
  std::string source;             // one of the kSource* names
  bool in_total = true;           // false for domains nested in another (core, uncore) or overlapping (psys)
  bool estimated = false;         // true for the estimate source
  bool is_counter = true;         // cumulative counter (true) or sampled power (false)
  double max_energy_range_j = 0;  // wrap range of a counter, 0 when unknown/none
  // A modelled power source's stated ceiling (the estimate's maximum), 0 when
  // none: no window's mean power of this domain ever exceeds it.
  double max_power_w = 0;
  std::string note;  // e.g. "nested in package-0", "TDP 65 W from table"
};

// One raw reading of one domain. A source sets exactly the field its
// domain's kind calls for (DomainInfo::is_counter); the sampler treats the
// other one, or neither, as the source's bug (an Internal error).
struct Reading {
  // Counters: raw cumulative energy in joules; may wrap at the domain's
  // max_energy_range_j.
  std::optional<double> energy_j;
  // Power sources: mean power in watts over the interval since the previous
  // reading (or instantaneous when the source cannot tell).
  std::optional<double> power_w;

  static Reading Energy(double joules) {
    Reading r;
    r.energy_j = joules;
    return r;
  }
  static Reading Power(double watts) {
    Reading r;
    r.power_w = watts;
    return r;
  }
};

// An energy source: a set of domains read together.
class EnergySource {
 public:
  virtual ~EnergySource() = default;
  virtual const std::string& name() const = 0;  // kSource*
  virtual const std::vector<DomainInfo>& domains() const = 0;
  // The shortest interval at which reading this source means something
  // (e.g. 10 ms for /proc/stat ticks; 1 ms or less for counters).
  virtual std::chrono::nanoseconds min_interval() const = 0;
  // Fills out[i] for domains()[i]. REQUIRES: out.size() == domains().size().
  virtual Status Read(std::vector<Reading>& out) = 0;
  // Fills out[i] for each i in `which` (ascending indices into domains()) and
  // leaves the other readings as they are: the sampler reads nested domains
  // less often than in-total ones. The default reads every domain, which is
  // always correct; a source whose domains cost a read each overrides it.
  // REQUIRES: out.size() == domains().size().
  virtual Status ReadDomains(const std::vector<size_t>& which, std::vector<Reading>& out) {
    (void)which;
    return Read(out);
  }
  // Facts for reports (GPU name, power limits, TDP constants). key -> value.
  virtual std::vector<std::pair<std::string, std::string>> Facts() const { return {}; }
};

// Detection: one attempt per source kind (and per device where relevant).
struct SourceAttempt {
  std::string source;  // kSource*
  bool available = false;
  bool chosen = false;
  std::string reason;  // why not available / not chosen ("energy_uj is root-only since CVE-2020-8694")
  std::string hint;    // what to do ("run as root, or ...")
  std::vector<DomainInfo> domains;
  std::vector<std::pair<std::string, std::string>> facts;
};

struct MeterOptions {
  std::chrono::nanoseconds interval = std::chrono::milliseconds(100);
  std::optional<double> cpu_tdp_w;  // --cpu-tdp-w / WATTLAB_CPU_TDP_W
  std::string estimate_profile;  // --estimate-profile / WATTLAB_ESTIMATE_PROFILE: a measured CPU curve (JSON)
  std::string nvml_library = "libnvidia-ml.so.1";  // overridable for tests (WATTLAB_NVML_LIBRARY)
  bool include_psys = false;           // psys overlaps package+dram; reported, not summed, unless asked
  size_t timeline_capacity = 1 << 20;  // samples kept in memory
  // One meter per node (docs/scale.md): this process's rank among the
  // processes of one job on this node (SLURM_LOCALID / LOCAL_RANK; see
  // meter/local_rank.h), unset outside such a job. Above 0, local rank 0
  // meters the node: this meter reads no energy source at all (no counter,
  // no estimate) and its windows carry only what is this process's own,
  // its CPU-time share (WindowResult::node_metered false).
  std::optional<int> local_rank;
};

struct DetectionReport {
  std::vector<SourceAttempt> attempts;  // every source tried, in order
  std::vector<std::unique_ptr<EnergySource>> chosen;
};

// Tries every source under env; never fails for a missing source (that is an
// attempt with available=false). Fails only for invalid options.
Result<DetectionReport> DetectSources(Env* env, const MeterOptions& options);

struct DomainEnergy {
  std::string name;
  std::string source;
  Component component = Component::kCpu;
  bool in_total = true;
  bool estimated = false;
  double energy_j = 0;
  double mean_power_w = 0;
};

struct WindowResult {
  std::string name;
  double start_s = 0;  // monotonic, relative to Meter::Start
  double duration_s = 0;
  double energy_j = 0;  // sum over in_total domains
  double mean_power_w = 0;
  std::optional<double> idle_power_w;         // baseline in force, when one is set
  std::optional<double> energy_above_idle_j;  // energy_j - idle_power_w * duration_s
  bool idle_busy = false;                     // that baseline was measured busy (meter/busy.h)
  std::vector<DomainEnergy> domains;
  std::vector<std::string> sources;  // distinct sources of in_total domains
  bool estimated = false;            // any part estimated
  double cpu_util = 0;               // machine CPU utilisation over the window, 0..1 (NaN-free; 0 if unknown)
  // Per-process attribution (when a pid is set): CPU-time share of the
  // process tree applied to the dynamic (above-idle) CPU power.
  std::optional<double> attributed_share;
  std::optional<double> attributed_energy_j;
  int64_t samples = 0;  // sampler ticks inside the window
  // Data volume over the window (absent when the file could not be read).
  // Network: /proc/net/dev, i.e. the whole network namespace (every process
  // in it, not only the measured one); net_* over every interface but lo,
  // lo_* the loopback alone. Storage: read_bytes/write_bytes of /proc/PID/io
  // summed over the attribution pid's process tree (children it already
  // waited for included, as the kernel folds them into the parent); absent
  // without an attribution pid.
  std::optional<int64_t> net_rx_bytes, net_tx_bytes, lo_rx_bytes, lo_tx_bytes;
  std::optional<int64_t> io_read_bytes, io_write_bytes;
  // One meter per node: the local rank (MeterOptions::local_rank) when one
  // was given. node_metered false (local rank > 0): local rank 0 meters the
  // node, so energy_j, mean_power_w and domains are empty (0, not a
  // measurement), there is no idle baseline and no attributed_energy_j;
  // attributed_share (this process tree's share of the node's busy CPU
  // time) is the figure to combine with local rank 0's dynamic CPU energy.
  std::optional<int> local_rank;
  bool node_metered = true;
};

struct TimelineSample {
  double t_s = 0;               // monotonic seconds since Start
  std::vector<double> power_w;  // per domain, same order as Meter::domains()
};

// One idle measurement (Meter::MeasureIdle).
struct IdleMeasurement {
  double power_w = 0;       // mean whole-machine power (in_total domains)
  double cpu_util = 0;      // machine CPU utilisation during it (/proc/stat), 0..1
  bool busy = false;        // meter/busy.h: the one definition of "busy"
  std::string busy_reason;  // why, "" when quiet
};

class Meter {
 public:
  using WindowId = int64_t;
  virtual ~Meter() = default;

  // Runs detection and builds a stopped meter.
  static Result<std::unique_ptr<Meter>> Create(Env* env, const MeterOptions& options);

  virtual const std::vector<SourceAttempt>& attempts() const = 0;
  virtual std::vector<DomainInfo> domains() const = 0;   // chosen domains, timeline order
  virtual std::vector<std::string> sources() const = 0;  // chosen source names
  virtual bool estimated() const = 0;
  virtual std::chrono::nanoseconds interval() const = 0;
  // False when another process (local rank 0) meters this node
  // (MeterOptions::local_rank > 0): no source is read.
  virtual bool node_metered() const { return true; }

  virtual Status Start() = 0;
  virtual Status Stop() = 0;

  // Windows: nestable, any number open at once. Takes a reading at the edge.
  virtual WindowId BeginWindow(const std::string& name) = 0;
  virtual Result<WindowResult> EndWindow(WindowId id) = 0;

  // Idle baseline in watts (whole machine, in_total domains) used for
  // energy_above_idle_j from now on. Clears the per-domain idle powers. A
  // baseline set this way is taken as quiet (WindowResult::idle_busy false)
  // unless busy is given.
  virtual void SetIdlePower(double idle_power_w) = 0;
  virtual void SetIdleBusy(bool busy) = 0;  // after SetIdlePower: the baseline's flag
  virtual std::optional<double> idle_power_w() const = 0;
  // Per-domain idle power (watts, keyed by domain name) to go with
  // SetIdlePower (call it after): attribution then subtracts exactly the CPU
  // domains' idle share. Without it the idle power is split in proportion
  // to each window's own energy split.
  virtual void SetIdleDomainPowers(const std::vector<std::pair<std::string, double>>& idle_w_by_domain) = 0;
  // The per-domain idle powers in force (empty when unknown).
  virtual std::vector<std::pair<std::string, double>> idle_domain_powers_w() const = 0;
  // Measures idle power for `duration` (meter must be started), judges it
  // (meter/busy.h) and sets it, whole machine and per domain, with its flag.
  // FailedPrecondition where the node is metered by local rank 0.
  virtual Result<IdleMeasurement> MeasureIdle(std::chrono::nanoseconds duration) = 0;

  // Attribute windows to this process tree (its CPU time over machine CPU time).
  virtual void SetAttributionPid(int pid) = 0;

  // Copy of the timeline so far (power per domain per sample).
  virtual std::vector<TimelineSample> Timeline() const = 0;
};

}  // namespace wattlab
