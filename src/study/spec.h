// A study spec: what to sweep and how to measure it, read from TOML (the
// built-in presets are TOML too, embedded in the binary). Format and every key:
// docs/study.md.
//
// Validation is strict: unknown keys, wrong types, empty sweeps, values out of
// range and model names of no known form are InvalidArgument errors of the
// form "FILE:LINE: key 'sweep[2].batch_sizes': <what is wrong>; <what is
// allowed>". Model names and datasets are checked against the catalog
// (src/catalog): the zoo's names and the full family grammar, so a spec that
// parses names only models the engine can build.
//
// Pure code, no OS calls; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "study/profile.h"
#include "wattlab/status.h"

namespace wattlab {

struct SweepSpec {
  std::string label;  // optional `name` of the sweep, for logs
  int line = 0;       // where the [[sweep]] table starts
  std::vector<std::string> models;
  std::vector<int64_t> batch_sizes;
  std::vector<int64_t> threads;        // 0 = all cores
  std::vector<std::string> precision;  // "fp32" | "bf16"
  std::vector<std::string> phases;     // "train" | "infer"
  // OpenMP wait policies to sweep ("default" | "active" | "passive"); empty:
  // not swept, the runs take the policy of the study's own process. libgomp
  // reads the policy once per process, so each swept policy's runs go to a
  // child process (study/wait_policy_groups.h).
  std::vector<std::string> omp_wait_policy;
  int64_t profile_steps = 3;  // the profile's fewest measured training steps (>= 3)
  int64_t max_profile_steps =
      kDefaultMaxProfileSteps;  // its most; in between it stops at SE(mean step) <= 1%
  int64_t epochs = 1;           // full training length the profile is extrapolated to
  int64_t steps_per_epoch = 0;  // 0: ceil(train_samples / batch_size)
  int64_t train_samples = 0;    // per epoch; 0: the whole training set
  bool full_length = false;     // also train the full length (measures extrapolation error)
  bool evaluate = false;        // test-set accuracy after the full-length training
  int64_t eval_samples = 0;     // 0: the whole test set
  int64_t infer_samples = 256;
  std::string optimizer = "sgd";
  double lr = 0.001;
  // Power caps and clocks (docs/power-caps.md): each non-empty list multiplies
  // the configurations. gpu_power_limits_w and gpu_power_limits_pct (percent of
  // each GPU's default limit, as the reference study swept them) exclude each
  // other. Empty: the knob is left as found (and still recorded).
  std::vector<double> gpu_power_limits_w;
  std::vector<double> gpu_power_limits_pct;
  std::vector<double> cpu_power_limits_w;
  std::vector<double> cpu_max_freqs_mhz;

  // A command sweep (docs/own-workloads.md) runs a program instead of zoo
  // models: `command` is its argv with {placeholders} (CommandPlaceholders()),
  // and `label` is the model name of its rows. Empty for a models sweep.
  std::vector<std::string> command;
  std::optional<int64_t> params, macs;  // given in the spec; absent: unknown (or counted from torchscript)
  std::string torchscript;  // a TorchScript file: instead of models, or to count a command's model
  std::string input;        // its input shape "CxHxW"; empty: the dataset's shape
  // Phase -> the program's window names that stand for it (glob patterns,
  // `*` and `?`); a phase without an entry is the window of its own name.
  std::vector<std::pair<std::string, std::vector<std::string>>> windows;
  bool phases_given = false;  // `phases` was in the spec (then each must be measured)
  double timeout_s = 3600;
  bool is_command() const { return !command.empty(); }
  // A TorchScript sweep: the engine trains and runs the user's file (no command).
  bool is_torchscript() const { return command.empty() && !torchscript.empty(); }
};

struct StudySpec {
  std::string name;
  std::string file;  // where it came from ("preset:default", "my.toml")
  std::string toml;  // the text as read (stored with the study)
  uint64_t seed = 1;
  int64_t repetitions = 1;
  int64_t warmup_steps = 1;   // training warm-up steps (>= 1) and inference warm-up batches
  double cooldown_s = 1;      // pause between runs
  double idle_s = 5;          // idle baseline length
  double idle_every_s = 300;  // re-measure the idle baseline this often (0: only at start)
  std::string dataset = "fashion-mnist";
  // `calibrate = true` ("default" shapes) or `calibrate = "quick"`: run
  // `wattlab calibrate` for each threads/precision of the plan before the
  // runs, unless the database has a calibration of the same context
  // (issue 12). Empty: no calibration.
  std::string calibrate;
  std::vector<SweepSpec> sweeps;
};

// The placeholders a command sweep's `command` may use: batch_size, threads,
// precision, epochs, seed, repetition, run_id, dataset.
const std::vector<std::string>& CommandPlaceholders();
// Fills {NAME} in `arg` from `values` ({{ and }} are literal braces).
// InvalidArgument naming an unknown placeholder or an unclosed brace.
Result<std::string> FillPlaceholders(const std::string& arg,
                                     const std::vector<std::pair<std::string, std::string>>& values);
// Shell-style glob: `*` any run of characters, `?` one character.
bool GlobMatch(const std::string& pattern, const std::string& text);

// Parses and validates. `file` names the source in messages.
Result<StudySpec> ParseStudySpec(const std::string& toml_text, const std::string& file);

// `--dataset` given to `wattlab study`: sets spec->dataset and records it at
// the end of spec->toml ("# wattlab study --dataset DATA"), so --resume with
// another dataset is refused and ParseStoredStudySpec finds it again.
void OverrideDataset(StudySpec* spec, const std::string& dataset);
// A spec as a study stored it (StudyInfo::spec_toml): parsed, with the
// dataset OverrideDataset recorded in it. Gives the plan the study ran.
Result<StudySpec> ParseStoredStudySpec(const std::string& stored_toml, const std::string& file);

// "quick", "default", "paper".
const std::vector<std::string>& PresetNames();
// The embedded TOML text; NotFound (listing the names) for another name.
Result<std::string> PresetText(const std::string& name);
Result<StudySpec> LoadPreset(const std::string& name);

}  // namespace wattlab
