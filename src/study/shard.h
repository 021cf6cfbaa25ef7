// Sharded studies (issue 16; docs/scale.md): one study's plan split over
// several processes, typically the tasks of a Slurm job array, each writing
// its own database, merged afterwards (study/merge.h).
//
// Dealing: the seeded order is computed once from the spec (ExpandPlan), so
// every shard sees the same plan; the run at 0-based position i goes to shard
// (i mod N) + 1. A run keeps its run_id (its position + 1 in the whole plan)
// in every shard, which is what makes runs of different shards, and the same
// run in two databases, comparable when they are merged.
//
// Inside a Slurm job array K and N come from the environment (read through
// Env::GetEnvVar): K = (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN) /
// SLURM_ARRAY_TASK_STEP + 1, N = SLURM_ARRAY_TASK_COUNT. An array whose ids
// are not evenly stepped (`--array=1,3,7`) cannot be told apart from a
// stepped one with a gap, so it is refused, asking for --shard.
//
// Pure code apart from the Env reads; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/env.h"
#include "study/plan.h"
#include "wattlab/status.h"

namespace wattlab {

struct Shard {
  int64_t k = 1;  // 1-based
  int64_t n = 1;
  std::string Label() const { return std::to_string(k) + "/" + std::to_string(n); }
  bool operator==(const Shard&) const = default;
};

// "K/N" with 1 <= K <= N (whole numbers). InvalidArgument saying what is
// wrong and what is allowed ("--shard 0/4: ...").
Result<Shard> ParseShard(const std::string& text);

// The shard of this Slurm array task; nullopt outside an array
// (SLURM_ARRAY_TASK_ID unset). InvalidArgument when the array is not evenly
// stepped or its variables are missing or malformed: the message names the
// values and says to pass --shard K/N.
Result<std::optional<Shard>> ShardFromSlurmEnv(Env* env);

// Slurm's file patterns in a --db path: %a (SLURM_ARRAY_TASK_ID), %A
// (SLURM_ARRAY_JOB_ID), %% (a literal %). InvalidArgument outside an array
// (the variable unset) and for any other %-sequence. A path without '%' is
// returned as it is.
Result<std::string> ExpandDbPattern(Env* env, const std::string& db);

// The runs of `shard`, in plan order, run_ids unchanged.
std::vector<PlannedRun> ShardRuns(const std::vector<PlannedRun>& plan, const Shard& shard);
// Whether the run at 0-based plan position `index` belongs to `shard`.
inline bool InShard(size_t index, const Shard& shard) {
  return static_cast<int64_t>(index % static_cast<size_t>(shard.n)) == shard.k - 1;
}

}  // namespace wattlab
