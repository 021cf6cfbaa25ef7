// The OpenMP wait policy a workload runs under (issue 11): a measured choice,
// recorded with every run.
//
// libgomp reads OMP_WAIT_POLICY once, when libtorch loads. Three policies:
//   default  the variable left unset, as plain PyTorch runs: idle OpenMP
//            threads spin briefly, then sleep. Fastest on a quiet machine
//            (LeNet training 7.4-8.0 s with passive against 5.1-5.7 s,
//            docs/benchmarks.md).
//   active   spin while waiting: as fast as default when quiet, ruinous when
//            the cores are shared (a spinning thread waits for a peer that
//            is not scheduled).
//   passive  sleep at once: slower on a quiet machine, much faster on a busy
//            one (18x at 2 threads under load, docs/benchmarks.md).
// So: a policy the user set in the environment is kept; otherwise `default`,
// unless the machine is busy at start by the one definition of busy
// (meter/busy.h, CPU utilisation over a short sample), then `passive`, and
// the caller says so.
//
// Thread-safety: DecideOmpWaitPolicy and the name functions are pure;
// ChooseOmpWaitPolicy reads /proc/stat and the environment through the Env
// and sets the variable (process-wide): call it once, before libtorch loads.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/env.h"
#include "meter/busy.h"
#include "wattlab/status.h"

namespace wattlab {

inline constexpr const char* kOmpWaitPolicyEnvVar = "OMP_WAIT_POLICY";
// How long ChooseOmpWaitPolicy samples the machine's CPU utilisation.
inline constexpr std::chrono::milliseconds kOmpBusySample{250};

enum class OmpWaitPolicy { kDefault, kActive, kPassive };

// "default", "active", "passive".
const char* OmpWaitPolicyName(OmpWaitPolicy p);
// Case-insensitive "default" | "active" | "passive"; InvalidArgument otherwise.
Result<OmpWaitPolicy> ParseOmpWaitPolicy(std::string_view text);
// libgomp's reading of a set OMP_WAIT_POLICY value: "active"/"passive"
// (case-insensitive, surrounding blanks allowed); anything else libgomp
// rejects and runs its default (nullopt here).
std::optional<OmpWaitPolicy> LibgompReading(std::string_view env_value);

struct OmpWaitChoice {
  OmpWaitPolicy policy = OmpWaitPolicy::kDefault;
  bool from_environment = false;  // the user's OMP_WAIT_POLICY, kept as set
  bool busy_at_start = false;     // passive because the machine was busy
  std::string why;                // one clause: "set in the environment (OMP_WAIT_POLICY=active)"
};

// The decision, pure. env_value: OMP_WAIT_POLICY as found (nullopt: unset).
// at_start: the busy verdict of the start-up sample (nullopt: not measured).
OmpWaitChoice DecideOmpWaitPolicy(const std::optional<std::string>& env_value,
                                  const std::optional<IdleVerdict>& at_start);

// Reads OMP_WAIT_POLICY; when unset, samples the machine's CPU utilisation
// for `sample` (/proc/stat through env), judges it with JudgeIdle and, when
// busy, sets OMP_WAIT_POLICY=PASSIVE. A /proc/stat that cannot be read counts
// as quiet (the choice says so). REQUIRES: libtorch not loaded yet.
OmpWaitChoice ChooseOmpWaitPolicy(Env* env, std::chrono::nanoseconds sample = kOmpBusySample);

// The environment a child process needs to run under `policy`: the value to
// set, or nullopt when OMP_WAIT_POLICY must be removed (default).
std::optional<std::string> OmpWaitPolicyEnvValue(OmpWaitPolicy policy);

// The sentence printed when the machine was busy at start.
std::string OmpBusyNote(const OmpWaitChoice& choice);

}  // namespace wattlab
