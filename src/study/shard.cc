#include "study/shard.h"

#include "core/strings.h"

namespace wattlab {
namespace {

constexpr const char* kShardAdvice = "pass --shard K/N (1-based, e.g. --shard 2/4 for the second of four)";

}  // namespace

Result<Shard> ParseShard(const std::string& text) {
  const std::string form = "--shard " + text + ": ";
  const size_t slash = text.find('/');
  if (slash == std::string::npos)
    return Status::InvalidArgument(form + "expected K/N, the K-th of N shards (1-based, e.g. 2/4)");
  auto k = ParseInt(text.substr(0, slash)), n = ParseInt(text.substr(slash + 1));
  if (!k || !n) return Status::InvalidArgument(form + "K and N must be whole numbers (K/N, e.g. 2/4)");
  if (*n < 1) return Status::InvalidArgument(form + "N must be at least 1 (N shards)");
  if (*k < 1 || *k > *n)
    return Status::InvalidArgument(form + "K must be between 1 and N (" + std::to_string(*n) +
                                   "): shards are numbered 1/" + std::to_string(*n) + " to " +
                                   std::to_string(*n) + "/" + std::to_string(*n));
  return Shard{*k, *n};
}

Result<std::optional<Shard>> ShardFromSlurmEnv(Env* env) {
  const auto id_text = env->GetEnvVar("SLURM_ARRAY_TASK_ID");
  if (!id_text) return std::optional<Shard>();
  auto get = [&](const char* name) -> Result<int64_t> {
    auto v = env->GetEnvVar(name);
    if (!v)
      return Status::InvalidArgument(std::string("this is a Slurm array task (SLURM_ARRAY_TASK_ID=") +
                                     *id_text + ") but " + name +
                                     " is not set, so its shard cannot be told; " + kShardAdvice);
    auto n = ParseInt(TrimCopy(*v));
    if (!n)
      return Status::InvalidArgument(std::string(name) + "='" + *v + "' is not a whole number; " +
                                     kShardAdvice);
    return *n;
  };
  WATTLAB_ASSIGN_OR_RETURN(int64_t id, get("SLURM_ARRAY_TASK_ID"));
  WATTLAB_ASSIGN_OR_RETURN(int64_t min, get("SLURM_ARRAY_TASK_MIN"));
  WATTLAB_ASSIGN_OR_RETURN(int64_t max, get("SLURM_ARRAY_TASK_MAX"));
  WATTLAB_ASSIGN_OR_RETURN(int64_t count, get("SLURM_ARRAY_TASK_COUNT"));
  // Slurm sets the step for a range (1-7:2); 1 when it says nothing.
  int64_t step = 1;
  if (env->GetEnvVar("SLURM_ARRAY_TASK_STEP")) {
    WATTLAB_ASSIGN_OR_RETURN(step, get("SLURM_ARRAY_TASK_STEP"));
  }
  const std::string values = "SLURM_ARRAY_TASK_ID=" + std::to_string(id) + ", MIN=" + std::to_string(min) +
                             ", MAX=" + std::to_string(max) + ", STEP=" + std::to_string(step) +
                             ", COUNT=" + std::to_string(count);
  if (step < 1 || count < 1 || id < min)
    return Status::InvalidArgument("the Slurm array variables do not describe a job array (" + values +
                                   "); " + kShardAdvice);
  const int64_t k = (id - min) / step + 1;
  if ((id - min) % step != 0 || k > count || min + (count - 1) * step != max)
    return Status::InvalidArgument("this Slurm job array is not evenly stepped (" + values +
                                   "), e.g. --array=1,3,7: wattlab cannot tell which shard task " +
                                   std::to_string(id) + " is; " + kShardAdvice +
                                   " to each task, e.g. from a list indexed by SLURM_ARRAY_TASK_ID");
  return std::optional<Shard>(Shard{k, count});
}

Result<std::string> ExpandDbPattern(Env* env, const std::string& db) {
  if (db.find('%') == std::string::npos) return db;
  std::string out;
  for (size_t i = 0; i < db.size(); ++i) {
    if (db[i] != '%') {
      out += db[i];
      continue;
    }
    const char c = i + 1 < db.size() ? db[i + 1] : '\0';
    ++i;
    if (c == '%') {
      out += '%';
      continue;
    }
    if (c != 'a' && c != 'A')
      return Status::InvalidArgument(
          "--db " + db + ": only %a (the array task id), %A (the array job id) and %% " +
          "(a literal %) are expanded, not '%" + std::string(c ? 1 : 0, c) + "'; write the path out");
    const char* var = c == 'a' ? "SLURM_ARRAY_TASK_ID" : "SLURM_ARRAY_JOB_ID";
    auto v = env->GetEnvVar(var);
    if (!v || v->empty())
      return Status::InvalidArgument("--db " + db + ": %" + std::string(1, c) + " is the Slurm array " +
                                     (c == 'a' ? "task" : "job") + " id, but this is not a task of a Slurm " +
                                     "job array (" + var + " is not set): run it under `sbatch --array`, " +
                                     "or give a plain --db FILE");
    out += *v;
  }
  return out;
}

std::vector<PlannedRun> ShardRuns(const std::vector<PlannedRun>& plan, const Shard& shard) {
  std::vector<PlannedRun> out;
  for (size_t i = 0; i < plan.size(); ++i)
    if (InShard(i, shard)) out.push_back(plan[i]);
  return out;
}

}  // namespace wattlab
