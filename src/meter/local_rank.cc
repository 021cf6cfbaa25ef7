#include "meter/local_rank.h"

#include <algorithm>
#include <cstdlib>

#include "core/env.h"

namespace wattlab {

Result<std::optional<LocalRank>> LocalRankFromEnv(Env* env) {
  std::optional<LocalRank> found;
  for (const char* name : {"SLURM_LOCALID", "LOCAL_RANK"}) {
    auto v = env->GetEnvVar(name);
    if (!v || v->empty()) continue;
    // Digits only (no sign, no spaces), at most 7 of them.
    const bool digits =
        v->size() <= 7 && std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; });
    const long rank = digits ? std::strtol(v->c_str(), nullptr, 10) : -1;
    if (rank < 0)
      return Status::InvalidArgument(std::string("$") + name + " is '" + *v +
                                     "', not a local rank (a whole number >= 0): unset it, or fix the "
                                     "launcher that set it");
    // The first variable above 0 decides; a 0 only when every one is 0.
    if (!found || (found->rank == 0 && rank > 0))
      found = LocalRank{static_cast<int>(rank), std::string(name) + "=" + *v};
  }
  return found;
}

Status CheckMetersNode(Env* env, const std::string& what) {
  auto rank = LocalRankFromEnv(env);
  if (!rank.ok()) return rank.status();
  if (!*rank || (*rank)->rank == 0) return Status::Ok();
  return Status::FailedPrecondition(
      "this process is local rank " + std::to_string((*rank)->rank) + " on this node (" + (*rank)->from +
      "): " + what + " records the node's energy, which only " + kNodeMeteredByRank0 +
      " reads (one meter per node, docs/scale.md). Start one per node: a job array (sbatch --array=1-N "
      "--exclusive) or srun --ntasks-per-node=1");
}

}  // namespace wattlab
