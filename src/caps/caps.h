// Power caps and clocks: the knobs wattlab can turn, read, set and put back.
//
// Three kinds of knob, each reached only through the Env seam:
//
//   GPU power limit       NVML (libnvidia-ml, loaded with Env::DlOpen like the
//                         meter's): ...GetPowerManagementLimitConstraints,
//                         ...GetPowerManagementLimit, ...DefaultLimit,
//                         ...GetEnforcedPowerLimit, ...SetPowerManagementLimit.
//                         NVML speaks milliwatts; wattlab speaks watts.
//   CPU package limit     powercap: /sys/class/powercap/intel-rapl:N, the
//                         `long_term` constraint by default
//                         (constraint_K_power_limit_uw); the constraint's
//                         time window and the zone's `enabled` are saved and
//                         put back as found. Writes are in place (sysfs).
//   CPU maximum frequency cpufreq: /sys/devices/system/cpu/cpuN/cpufreq/
//                         scaling_max_freq (kHz), within cpuinfo_min_freq and
//                         cpuinfo_max_freq.
//
// The restore guarantee. Before a knob changes, the value found is written to
// the journal (JournalPath: $WATTLAB_CAPS_JOURNAL or /run/wattlab/caps.json,
// replaced atomically). The journal keeps the value found before wattlab
// first touched the knob, so `wattlab cap --restore` after a crash puts back
// the machine's own setting (not the maximum, as Zeus does). A CapSession
// remembers what it found itself and puts exactly that back in Restore() and
// in its destructor (when asked to), then drops the journal entries it added.
// A set that fails part-way through a list of devices puts back those already
// set before it returns. A journal that does not parse is refused (Corruption)
// and left in place for a person to read.
//
// Ownership: a CapSession owns the NVML handle it opened (nvmlShutdown when
// destroyed). Thread-safety: none; one thread uses a session. Two processes
// changing caps at once share the journal without a lock: each rereads it
// before writing, which is enough for the one-command-at-a-time use it has.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/env.h"
#include "wattlab/status.h"

namespace wattlab::caps {

inline constexpr const char* kDefaultJournalPath = "/run/wattlab/caps.json";
inline constexpr const char* kJournalEnvVar = "WATTLAB_CAPS_JOURNAL";
inline constexpr const char* kDefaultConstraint = "long_term";
inline constexpr const char* kRestoreCommand = "wattlab cap --restore";

struct CapsOptions {
  std::string nvml_library = "libnvidia-ml.so.1";
  // Empty: JournalPath(env).
  std::string journal_path;
};

// $WATTLAB_CAPS_JOURNAL when set and not empty, else /run/wattlab/caps.json.
std::string JournalPath(Env* env);

// ---------------------------------------------------------------- reading

struct GpuKnob {
  unsigned index = 0;
  std::string name;
  // Absent where the driver does not say.
  std::optional<double> limit_w, default_w, min_w, max_w, enforced_w;
  // Whether this process may change it: NVML sets need root or CAP_SYS_ADMIN
  // (read from /proc/self/status), and the limit's range must be known.
  bool settable = false;
};

struct ConstraintKnob {
  int number = 0;    // K in constraint_K_*
  std::string name;  // "long_term", "short_term", "peak_power"
  std::optional<double> power_limit_w, time_window_s, min_w, max_w;
};

struct PackageKnob {
  std::string zone;  // "intel-rapl:0"
  std::string dir;   // "/sys/class/powercap/intel-rapl:0"
  std::string name;  // "package-0"
  int package = 0;   // the number --package selects (0 for package-0)
  std::vector<ConstraintKnob> constraints;
  std::optional<bool> enabled;
  // The default constraint's power_limit_uw is writable by this process.
  bool settable = false;
};

struct CpufreqKnob {
  std::vector<int> cpus;           // CPUs with a cpufreq folder
  double max_freq_mhz = 0;         // highest scaling_max_freq among them
  double lowest_max_freq_mhz = 0;  // lowest scaling_max_freq (differs after a partial change or on hybrids)
  double min_mhz = 0;              // the lowest value every CPU accepts (max of cpuinfo_min_freq)
  double max_mhz = 0;              // the highest any CPU reaches (max of cpuinfo_max_freq)
  bool settable = false;           // every scaling_max_freq is writable by this process
};

struct Knobs {
  std::vector<GpuKnob> gpus;
  std::string gpu_note;  // why there are none, when there are none
  std::vector<PackageKnob> packages;
  std::string package_note;
  std::optional<CpufreqKnob> cpufreq;
  std::string cpufreq_note;
  // The journal's path when one is pending (a corrupt one included).
  std::optional<std::string> journal;
  bool journal_corrupt = false;
};

// Every knob found; a missing kind is an empty list (or no cpufreq) with a
// note saying why, never an error. Reads only: nothing is written.
Knobs ReadKnobs(Env* env, const CapsOptions& options);

// ---------------------------------------------------------------- journal

// One saved value: what a knob held before wattlab changed it.
struct SavedKnob {
  enum class Kind { kGpuPowerLimit, kPackagePowerLimit, kCpuMaxFreq };
  Kind kind = Kind::kGpuPowerLimit;
  int index = 0;                           // GPU index or CPU number
  std::string zone_dir;                    // powercap zone folder (package limits)
  int constraint = 0;                      // constraint number (package limits)
  uint64_t value = 0;                      // mW (GPU), uW (package), kHz (cpufreq)
  std::optional<uint64_t> time_window_us;  // package limits, as found
  std::optional<std::string> enabled;      // package limits: the zone's `enabled`, as found
  int pid = 0;                             // the process that saved it
  // "gpu:0", "powercap:/sys/class/powercap/intel-rapl:0:0", "cpufreq:3".
  std::string Key() const;
  // "GPU 0 power limit 250 W", "package-0 long_term limit 95 W", "cpu3 max frequency 3600 MHz".
  std::string Describe() const;
};

struct Journal {
  std::string sysfs_root;    // Env::Resolve("/sys") when it was written
  std::string nvml_library;  // the NVML library the GPU entries were set through
  std::vector<SavedKnob> saved;
};

// The journal at `path`; nullopt when there is none. Corruption (with the
// path, and the advice to restore by hand) when it does not parse.
Result<std::optional<Journal>> ReadJournal(Env* env, const std::string& path);
std::string JournalToJson(const Journal& journal);
Result<Journal> JournalFromJson(const std::string& text, const std::string& path);

// One line for stderr when a journal is pending at `path` (naming
// `wattlab cap --restore`), nullopt when none is. Reads only.
std::optional<std::string> PendingJournalWarning(Env* env, const std::string& path);

// ---------------------------------------------------------------- changing

struct RestoreReport {
  std::vector<std::string> restored;  // SavedKnob::Describe() of each value put back
  std::vector<std::string> failed;    // what could not be put back, with why
};

class CapSession {
 public:
  // restore_at_end: the destructor calls Restore() (errors are kept in
  // last_error()). The `wattlab cap --gpu-power-limit-w` form passes false:
  // its caps stay, and the journal with them, until `--restore`.
  static Result<std::unique_ptr<CapSession>> Open(Env* env, CapsOptions options, bool restore_at_end);
  ~CapSession();
  CapSession(const CapSession&) = delete;
  CapSession& operator=(const CapSession&) = delete;

  // Set one value on every listed device (empty list: all). Out-of-range
  // values are InvalidArgument naming the allowed range; permission errors
  // say what is needed. On a failure part-way, devices already set are put
  // back before returning.
  Status SetGpuPowerLimit(double watts, const std::vector<int>& gpus = {});
  Status SetPackagePowerLimit(double watts, const std::vector<int>& packages = {},
                              const std::string& constraint = kDefaultConstraint);
  Status SetCpuMaxFreq(double mhz);

  // Puts back every value this session found before its first change of that
  // knob and drops the journal entries it added (the journal file goes when
  // it is empty). Idempotent.
  Status Restore();

  // The values in force now, read back (for records): absent when unreadable.
  std::optional<double> GpuPowerLimitW(int gpu);
  std::optional<double> PackagePowerLimitW(int package, const std::string& constraint = kDefaultConstraint);
  std::optional<double> CpuMaxFreqMhz();

  const std::string& journal_path() const { return journal_path_; }
  const Status& last_error() const { return last_error_; }

  class Impl;

 private:
  CapSession() = default;
  std::unique_ptr<Impl> impl_;
  std::string journal_path_;
  bool restore_at_end_ = false;
  Status last_error_;
};

// Puts back every value in the journal (after a crash or SIGKILL, or after
// `wattlab cap --gpu-power-limit-w`) and removes the journal; entries that
// could not be put back stay in it. OK with an empty report when there is no
// journal. FailedPrecondition when the journal was written with another
// sysfs root than env's, Corruption when it does not parse (left in place).
Result<RestoreReport> RestoreFromJournal(Env* env, const CapsOptions& options);

}  // namespace wattlab::caps
