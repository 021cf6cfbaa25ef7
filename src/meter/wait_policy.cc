#include "meter/wait_policy.h"

#include "core/strings.h"
#include "meter/procfs.h"

namespace wattlab {

namespace {

std::string Canonical(std::string_view s) { return ToLower(TrimCopy(s)); }

}  // namespace

const char* OmpWaitPolicyName(OmpWaitPolicy p) {
  switch (p) {
    case OmpWaitPolicy::kActive:
      return "active";
    case OmpWaitPolicy::kPassive:
      return "passive";
    default:
      return "default";
  }
}

Result<OmpWaitPolicy> ParseOmpWaitPolicy(std::string_view text) {
  const std::string t = Canonical(text);
  if (t == "default") return OmpWaitPolicy::kDefault;
  if (t == "active") return OmpWaitPolicy::kActive;
  if (t == "passive") return OmpWaitPolicy::kPassive;
  return Status::InvalidArgument("'" + std::string(text) +
                                 "' is not an OpenMP wait policy; allowed: default, "
                                 "active, passive");
}

std::optional<OmpWaitPolicy> LibgompReading(std::string_view env_value) {
  const std::string t = Canonical(env_value);
  if (t == "active") return OmpWaitPolicy::kActive;
  if (t == "passive") return OmpWaitPolicy::kPassive;
  return std::nullopt;
}

OmpWaitChoice DecideOmpWaitPolicy(const std::optional<std::string>& env_value,
                                  const std::optional<IdleVerdict>& at_start) {
  OmpWaitChoice c;
  if (env_value) {
    c.from_environment = true;
    if (auto p = LibgompReading(*env_value)) {
      c.policy = *p;
      c.why = "set in the environment (OMP_WAIT_POLICY=" + *env_value + ")";
    } else {
      // libgomp prints "Invalid value" and runs its default: say what runs.
      c.policy = OmpWaitPolicy::kDefault;
      c.why = "OMP_WAIT_POLICY='" + *env_value +
              "' in the environment is not active or passive, so libgomp "
              "runs its default";
    }
    return c;
  }
  if (at_start && at_start->busy) {
    c.policy = OmpWaitPolicy::kPassive;
    c.busy_at_start = true;
    c.why = "the machine was busy at start (" + at_start->reason +
            "): spinning threads would wait for "
            "descheduled peers";
    return c;
  }
  c.policy = OmpWaitPolicy::kDefault;
  c.why = at_start ? "OMP_WAIT_POLICY unset, as PyTorch runs; the machine was quiet at start"
                   : "OMP_WAIT_POLICY unset, as PyTorch runs (the machine's load could not be read)";
  return c;
}

OmpWaitChoice ChooseOmpWaitPolicy(Env* env, std::chrono::nanoseconds sample) {
  std::optional<std::string> value = env->GetEnvVar(kOmpWaitPolicyEnvVar);
  std::optional<IdleVerdict> at_start;
  if (!value) {
    auto a = ReadProcStat(env);
    if (a.ok()) {
      env->SleepFor(sample);
      auto b = ReadProcStat(env);
      if (b.ok() && b->Total() > a->Total()) {
        const double util = (double)(b->Busy() - a->Busy()) / (double)(b->Total() - a->Total());
        at_start = JudgeIdle(util, 0, std::nullopt);
        // The one definition speaks of a baseline ("during it"); here it is the sample.
        if (auto at = at_start->reason.find(" during it"); at != std::string::npos)
          at_start->reason.replace(
              at, 10,
              " during a " + FormatDouble(std::chrono::duration<double>(sample).count()) + " s sample");
      }
    }
  }
  OmpWaitChoice c = DecideOmpWaitPolicy(value, at_start);
  if (c.busy_at_start) (void)env->SetEnvVar(kOmpWaitPolicyEnvVar, "PASSIVE", /*overwrite=*/false);
  return c;
}

std::optional<std::string> OmpWaitPolicyEnvValue(OmpWaitPolicy policy) {
  switch (policy) {
    case OmpWaitPolicy::kActive:
      return std::string("ACTIVE");
    case OmpWaitPolicy::kPassive:
      return std::string("PASSIVE");
    default:
      return std::nullopt;
  }
}

std::string OmpBusyNote(const OmpWaitChoice& c) {
  return "OpenMP threads wait passively (OMP_WAIT_POLICY=passive): " + c.why +
         "; set OMP_WAIT_POLICY yourself to choose (default is faster on a quiet machine)";
}

}  // namespace wattlab
