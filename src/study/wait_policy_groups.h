// A study's OpenMP wait policies (issue 11): the policy this study process
// runs under, and the runs of the other swept policies in child processes.
//
// libgomp reads OMP_WAIT_POLICY once per process, when libtorch loads, so a
// study whose sweep lists `omp_wait_policy` runs the policies other than its
// own in child processes, one per policy: the study again (the CLI's
// `wattlab study` with the same arguments plus --resume --no-report), with
// the policy set in its environment (the variable removed for "default") and
// kStudyOmpGroupEnvVar naming the policy. A child runs only that policy's
// runs (StudyRunner::RunsHere), under its parent's lock, stores them in the
// same database and leaves the findings to its parent.
//
// Which children, with what environment, and what their exit means is here;
// starting a process is the platform's, so the caller passes a
// SpawnPolicyChild (the CLI's starts itself through platform/process.h).
//
// Thread-safety: one thread at a time (ChooseStudyWaitPolicy may set the
// process environment).
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "core/env.h"
#include "store/store.h"
#include "study/runner.h"
#include "wattlab/record.h"
#include "wattlab/status.h"

namespace wattlab {

// Set by a study for the child it starts for one swept policy: the policy's name.
inline constexpr const char* kStudyOmpGroupEnvVar = "WATTLAB_STUDY_OMP_GROUP";
// A child's exit status when it was interrupted (128 + SIGINT, as a shell reports it).
inline constexpr int kPolicyChildInterrupted = 130;

struct StudyWaitPolicy {
  std::string policy = "default";  // "default" | "active" | "passive": what libgomp will read
  std::string why;                 // one clause, recorded with the study's context
  bool child = false;              // this process is a child started for one swept policy
  std::string busy_note;           // set when passive because the machine was busy: print it
};

// The policy this study process runs under: in a child, the one its parent
// named in kStudyOmpGroupEnvVar (InvalidArgument when that is not a policy);
// otherwise the user's OMP_WAIT_POLICY, else default unless the machine is
// busy now (meter/wait_policy.h: ChooseOmpWaitPolicy, a short CPU sample;
// it sets OMP_WAIT_POLICY=PASSIVE when busy). REQUIRES: libtorch not loaded.
//
// Why a sample of its own and not the study's idle baseline's busy verdict
// (meter/busy.h): libgomp reads the policy when the workload plugin loads,
// and the study needs the plugin before its first baseline: the runner
// describes every model through the engine (an unknown model fails before a
// database is created), then starts the meter and measures the baseline, so
// that loading libtorch is never idle time. Measuring the baseline first
// would put a multi-second wait before the first error a user can get.
Result<StudyWaitPolicy> ChooseStudyWaitPolicy(Env* env);

// Names the policy in force in the study's context ("engine
// omp_wait_policy" meter fact). In a child, the context is its parent's,
// read back from the store when there (each window carries its own policy).
void NameWaitPolicyInContext(const StudyWaitPolicy& policy, Store& store, const std::string& study,
                             StudyInfo* context);

// What a child for one policy needs: its environment.
struct PolicyChild {
  std::string policy;                                        // "default" | "active" | "passive"
  std::vector<std::pair<std::string, std::string>> set_env;  // kStudyOmpGroupEnvVar, OMP_WAIT_POLICY
  std::vector<std::string> unset_env;                        // OMP_WAIT_POLICY for "default"
};
// Starts the child and waits for it: its exit status as a shell reports it
// (0 done; kPolicyChildInterrupted interrupted; anything else failed), or an
// error when it could not be started.
using SpawnPolicyChild = std::function<Result<int>(const PolicyChild&)>;

// Runs, one child per policy, the planned runs this process does not run
// (!runner.RunsHere) and the store does not hold yet, stopping early when
// `interrupted` says so or a child was interrupted. Brings *out up to date
// from the store: done_now, finished, interrupted; a child that failed adds
// one to failed and a line to failures. Errors: the store's, and a child
// that could not be started.
Status RunOtherWaitPolicies(const StudyRunner& runner, Store& store, const std::string& study,
                            const SpawnPolicyChild& spawn, const std::function<bool()>& interrupted,
                            std::ostream* log, StudyOutcome* out);

}  // namespace wattlab
