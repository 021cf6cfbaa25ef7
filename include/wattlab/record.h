// Run records: the rows every study writes, `wattlab runs` exports, and
// analysis and reports read. One row per measured window (run x phase x
// window). The field names are the CSV/JSON column names; keep them identical
// everywhere (see docs/schema.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace wattlab {

struct RunRow {
  std::string study;
  int64_t run_id = 0;
  std::string config_id;  // same for every repetition of one configuration
  int64_t repetition = 0;
  std::string model;
  std::string phase;   // "train", "eval", "infer"
  std::string window;  // "profile", "full"
  int64_t batch_size = 0;
  int64_t threads = 0;
  std::string precision;  // "fp32", "bf16"
  int64_t params = 0;
  int64_t macs = 0;
  double macs_per_param = 0;
  std::optional<int64_t> steps;
  int64_t samples = 0;
  double duration_s = 0;
  double energy_j = 0;
  std::optional<double> energy_above_idle_j;
  std::optional<double> extrapolated_energy_j;  // profile rows of train: predicted energy of the full length
  std::optional<double> cpu_util;
  std::string source;  // sources joined by '+', e.g. "rapl-powercap+nvml"
  bool estimated = false;
  std::optional<double> accuracy;
  // The idle baseline behind energy_above_idle_j was measured while the
  // machine was busy (meter/busy.h); absent when unknown (older databases and
  // CSV files, windows without a baseline). ChooseEnergyBasis reads it.
  std::optional<bool> idle_busy;
  // The power caps and clocks in force during the run, read back after the
  // study set them (issue 13; docs/power-caps.md): absent where the knob
  // cannot be read. Several GPUs or packages: the mean over them (each one's
  // value when, as a study sets them, they are all alike).
  std::optional<double> gpu_power_limit_w;
  std::optional<double> cpu_power_limit_w;  // the package's long_term constraint
  std::optional<double> cpu_max_freq_mhz;   // the highest scaling_max_freq
  // The OpenMP wait policy in force for the run (OMP_WAIT_POLICY as libgomp
  // read it when libtorch loaded): "default" (the variable unset), "active" or
  // "passive"; empty when unknown (older databases and CSV files).
  std::string omp_wait_policy;
  // The machine the run was measured on (schema v7, issue 16): a study merged
  // from shards (`wattlab merge`) may hold runs of several hosts, and energy
  // is per machine. Not an export column; empty from a CSV file.
  std::string host;
};

// One idle measurement of a study.
struct IdleBaselineRecord {
  double unix_s = 0;
  double power_w = 0;
  std::optional<double> cpu_util;  // machine CPU utilisation during it, 0..1
  bool busy = false;               // meter/busy.h
  std::string host;                // the machine it was measured on (v7); empty: the study's host
};

// The context of one study: what every report opens with.
struct StudyInfo {
  std::string name;
  std::string spec_toml;  // the spec as run
  double started_at_unix_s = 0;
  std::optional<double> finished_at_unix_s;
  std::string host, kernel, cpu;
  std::vector<std::string> gpus;  // "NVIDIA H100 80GB HBM3 (driver 550.54)"
  std::string libtorch, blas;     // versions
  std::string wattlab_version;
  std::vector<std::string> sources;  // meter sources chosen
  double interval_s = 0.1;
  bool estimated = false;                                        // true when any energy figure is estimated
  std::vector<std::pair<std::string, std::string>> meter_facts;  // TDP used, constants, GPU limits
  std::vector<IdleBaselineRecord> idle_baselines;                // each measured, in time order
  std::string spec_hash;  // of spec_toml (v7): shards of one study share it (`wattlab merge` checks)
};

// A downsampled power timeline of one run, with its windows.
struct RunTimeline {
  int64_t run_id = 0;
  std::string model;
  std::vector<double> t_s;      // seconds since the run began
  std::vector<double> power_w;  // whole-machine power (in_total domains)
  struct Span {
    std::string name;  // "warmup", "train", "eval", "infer", "epoch 1"
    double start_s = 0, end_s = 0;
  };
  std::vector<Span> windows;
};

// The export column order, shared by the CSV writer and reader.
inline const std::vector<std::string>& RunRowColumns() {
  static const std::vector<std::string> kCols = {"study",
                                                 "run_id",
                                                 "config_id",
                                                 "repetition",
                                                 "model",
                                                 "phase",
                                                 "window",
                                                 "batch_size",
                                                 "threads",
                                                 "precision",
                                                 "params",
                                                 "macs",
                                                 "macs_per_param",
                                                 "steps",
                                                 "samples",
                                                 "duration_s",
                                                 "energy_j",
                                                 "energy_above_idle_j",
                                                 "extrapolated_energy_j",
                                                 "cpu_util",
                                                 "source",
                                                 "estimated",
                                                 "accuracy",
                                                 "idle_busy",
                                                 "gpu_power_limit_w",
                                                 "cpu_power_limit_w",
                                                 "cpu_max_freq_mhz",
                                                 "omp_wait_policy"};
  return kCols;
}

}  // namespace wattlab
