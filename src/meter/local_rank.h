// One meter per node (docs/scale.md): which of a job's processes on this
// node reads the node's counters.
//
// Several processes of one job may share a node (srun --ntasks-per-node,
// torchrun's workers, accelerate). Each running its own meter would report
// the whole node's energy, and summing them counts the node once per
// process (CodeCarbon issue #544). So only local rank 0 meters the node;
// a process whose local rank is above 0 reads no energy source and reports
// its own CPU-time share, saying that local rank 0 meters the node.
//
// The local rank comes from the environment the launcher sets: Slurm's
// SLURM_LOCALID (srun's task index on the node) and torch.distributed's
// LOCAL_RANK (torchrun, accelerate, deepspeed). Both may be set (torchrun
// started by srun, one task per node): the process is local rank 0 only
// when every one of them that is set is 0.
#pragma once

#include <optional>
#include <string>

#include "wattlab/status.h"

namespace wattlab {

class Env;

// What local_rank fields say about who meters the node, verbatim in JSON.
inline constexpr const char* kNodeMeteredByRank0 = "local rank 0";

struct LocalRank {
  int rank = 0;      // 0 .. ; above 0: local rank 0 meters the node
  std::string from;  // the variable that set it, e.g. "SLURM_LOCALID=1" (or "LOCAL_RANK=0")
};

// The local rank from SLURM_LOCALID and LOCAL_RANK (read through env); none
// when neither is set (or both are empty). A value that is not a whole
// number >= 0 is InvalidArgument naming the variable.
Result<std::optional<LocalRank>> LocalRankFromEnv(Env* env);

// OK where this process meters the node (no local rank, or local rank 0).
// Above 0: FailedPrecondition saying that `what` ("a study") records node
// energy, which local rank 0 reads, and how to start one per node; a bad
// variable is LocalRankFromEnv's InvalidArgument.
Status CheckMetersNode(Env* env, const std::string& what);

}  // namespace wattlab
