#include "study/wait_policy_groups.h"

#include <algorithm>
#include <set>

#include "meter/wait_policy.h"

namespace wattlab {

Result<StudyWaitPolicy> ChooseStudyWaitPolicy(Env* env) {
  StudyWaitPolicy p;
  if (const std::optional<std::string> group = env->GetEnvVar(kStudyOmpGroupEnvVar)) {
    auto policy = ParseOmpWaitPolicy(*group);
    if (!policy.ok()) return policy.status().WithContext(kStudyOmpGroupEnvVar);
    p.policy = OmpWaitPolicyName(*policy);
    p.why = "swept by the study (omp_wait_policy), run in a child process with that policy";
    p.child = true;
    return p;
  }
  const OmpWaitChoice omp = ChooseOmpWaitPolicy(env);
  p.policy = OmpWaitPolicyName(omp.policy);
  p.why = omp.why;
  if (omp.busy_at_start) p.busy_note = OmpBusyNote(omp);
  return p;
}

void NameWaitPolicyInContext(const StudyWaitPolicy& policy, Store& store, const std::string& study,
                             StudyInfo* context) {
  if (policy.child) {
    // The study's context is its parent's (which names the parent's policy;
    // each window carries its own): the child does not overwrite it.
    if (auto stored = store.ReadStudy(study); stored.ok() && *stored) {
      *context = **stored;
      return;
    }
  }
  const std::string value = policy.policy + " (" + policy.why + ")";
  for (auto& [k, v] : context->meter_facts)
    if (k == "engine omp_wait_policy") {
      v = value;
      return;
    }
  context->meter_facts.emplace_back("engine omp_wait_policy", value);
}

Status RunOtherWaitPolicies(const StudyRunner& runner, Store& store, const std::string& study,
                            const SpawnPolicyChild& spawn, const std::function<bool()>& interrupted,
                            std::ostream* log, StudyOutcome* out) {
  WATTLAB_ASSIGN_OR_RETURN(std::set<int64_t> done, store.CompletedRunIds(study));
  std::vector<std::string> policies;
  for (const auto& r : runner.runs())
    if (!runner.RunsHere(r) && !done.count(r.run_id) &&
        std::find(policies.begin(), policies.end(), r.omp_wait_policy) == policies.end())
      policies.push_back(r.omp_wait_policy);
  for (const auto& name : policies) {
    if (interrupted && interrupted()) {
      out->interrupted = true;
      break;
    }
    WATTLAB_ASSIGN_OR_RETURN(OmpWaitPolicy policy, ParseOmpWaitPolicy(name));
    PolicyChild child;
    child.policy = name;
    child.set_env.emplace_back(kStudyOmpGroupEnvVar, name);
    if (auto value = OmpWaitPolicyEnvValue(policy))
      child.set_env.emplace_back(kOmpWaitPolicyEnvVar, *value);
    else
      child.unset_env.push_back(kOmpWaitPolicyEnvVar);
    if (log)
      *log << "wattlab study: the runs under OpenMP wait policy " << name << " go to a child process\n";
    auto code = spawn(child);
    if (!code.ok()) return code.status().WithContext("starting the child for OpenMP wait policy " + name);
    if (*code == kPolicyChildInterrupted || (interrupted && interrupted())) {
      out->interrupted = true;
      break;
    }
    if (*code != 0) {
      ++out->failed;
      out->failures.push_back("the runs under OpenMP wait policy " + name +
                              ": the child process exited with " + std::to_string(*code) +
                              " (its messages are above)");
    }
  }
  WATTLAB_ASSIGN_OR_RETURN(std::set<int64_t> now, store.CompletedRunIds(study));
  out->done_now += (int64_t)now.size() - (int64_t)done.size();
  bool finished = true;
  for (const auto& r : runner.runs())
    if (!now.count(r.run_id)) finished = false;
  out->finished = finished;
  return Status::Ok();
}

}  // namespace wattlab
