// `wattlab merge OUT.db IN.db...` (issue 16; docs/scale.md): one study from
// the databases of its shards (study/shard.h).
//
// What "the same run" is: a run is (study, run_id), run_id being its position
// in the seeded plan of the whole spec, the same in every shard; a run is the
// same measurement when its config, repetition, start and end agree. A shard
// execution is (study, K, N, started_at): --resume keeps its start.
//
// Semantics: everything goes into OUT in one transaction (Store::
// ImportStudies): all or nothing, OUT untouched on refusal (and not left
// behind when the merge created it). OUT may already hold shards of the same
// spec (incremental); a run, idle baseline or failed attempt already there
// is not added again (idempotent). Refused (FailedPrecondition): a study of
// another spec under the same name (spec hash), and two databases claiming
// the same shard with different runs. A shard database whose study stopped
// early merges as it is; the outcome lists its missing runs, and after
// `--resume` of that shard a second merge adds them. Idle baselines, windows,
// per-domain energy, timelines, power-limit candidates and failed attempts
// come across with their run; each run and baseline keeps its host.
//
// Reads and writes every file through the Env. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/env.h"
#include "study/shard.h"
#include "wattlab/status.h"

namespace wattlab {

struct MergeInputReport {
  std::string db;
  std::string study;
  std::vector<Shard> shards;  // the shards it holds (1/1: unsharded)
  std::vector<std::string> hosts;
  int64_t runs = 0;     // runs it holds
  int64_t added = 0;    // of them, new in OUT
  int64_t already = 0;  // already in OUT (merged before)
  int64_t planned = 0;  // runs its shards plan
  // Its shards' runs it does not hold: "run 6 (lenet batch 16 rep 0)".
  std::vector<std::string> missing;
};

struct MergeStudyReport {
  std::string study;
  std::string spec_hash;
  int64_t planned = 0;                                 // runs of the whole plan
  int64_t stored = 0;                                  // runs in OUT
  std::vector<std::pair<std::string, int64_t>> hosts;  // host -> runs in OUT
  std::vector<std::string> shards;                     // "2/4 from shard-2.db (host h)"
  std::vector<std::string> missing;                    // planned, not in OUT (the first ones)
  int64_t missing_count = 0;
  bool finished = false;
};

struct MergeOutcome {
  std::string out;
  bool created = false;  // OUT did not exist before
  std::vector<MergeInputReport> inputs;
  std::vector<MergeStudyReport> studies;
};

// InvalidArgument: no input, OUT among the inputs, an input that holds no
// study; the store's errors opening a file; FailedPrecondition for the
// refusals above (the message names both databases).
Result<MergeOutcome> MergeDatabases(Env* env, const std::string& out, const std::vector<std::string>& inputs);

// The lines `wattlab merge` prints.
std::string FormatMergeOutcome(const MergeOutcome& outcome);

}  // namespace wattlab
