#include "study/merge.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "core/strings.h"
#include "store/store.h"
#include "study/plan.h"
#include "study/spec.h"

namespace wattlab {
namespace {

constexpr size_t kMaxListed = 10;  // missing runs named one by one, then "and N more"

std::string RunLabel(const PlannedRun& r) {
  return "run " + std::to_string(r.run_id) + " (" + r.model + " batch " + std::to_string(r.batch_size) +
         " rep " + std::to_string(r.repetition) + ")";
}

// The plan a stored study ran, or nullopt when its spec no longer parses
// (a model this build does not know): then no run can be called missing.
std::optional<std::vector<PlannedRun>> StoredPlan(const StudyInfo& info) {
  auto spec = ParseStoredStudySpec(info.spec_toml, "study '" + info.name + "'");
  if (!spec.ok()) return std::nullopt;
  return ExpandPlan(*spec);
}

std::vector<Shard> ShardsOf(const StudyExport& ex) {
  std::vector<Shard> out;
  for (const auto& s : ex.shards) {
    Shard sh{s.k, s.n};
    if (std::find(out.begin(), out.end(), sh) == out.end()) out.push_back(sh);
  }
  if (out.empty()) out.push_back(Shard{});  // a study from before shards: the whole plan
  return out;
}

void RemoveCreated(Env* env, const std::string& out) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) (void)env->RemoveFile(out + suffix);
}

}  // namespace

Result<MergeOutcome> MergeDatabases(Env* env, const std::string& out,
                                    const std::vector<std::string>& inputs) {
  if (inputs.empty())
    return Status::InvalidArgument(
        "nothing to merge: give the output database and at least one shard database "
        "(wattlab merge OUT.db IN.db...)");
  MergeOutcome outcome;
  outcome.out = out;
  std::vector<StudyExport> exports;
  std::map<std::string, double> last_end;  // study -> the latest end of a run merged
  for (const auto& in : inputs) {
    if (in == out)
      return Status::InvalidArgument(in + " is both the output and an input: merge into another database");
    auto store = Store::Open(env, in, OpenMode::kReadOnly);
    if (!store.ok()) return store.status().WithContext("merging " + in);
    WATTLAB_ASSIGN_OR_RETURN(auto studies, (*store)->ReadStudies());
    if (studies.empty())
      return Status::InvalidArgument(in +
                                     " holds no study: pass the databases `wattlab study --shard` wrote");
    for (const auto& st : studies) {
      WATTLAB_ASSIGN_OR_RETURN(StudyExport ex, (*store)->ExportStudy(st.name));
      ex.source = in;
      MergeInputReport rep;
      rep.db = in;
      rep.study = st.name;
      rep.shards = ShardsOf(ex);
      rep.runs = static_cast<int64_t>(ex.runs.size());
      std::set<int64_t> have;
      for (const auto& r : ex.runs) {
        have.insert(r.run_id);
        if (std::find(rep.hosts.begin(), rep.hosts.end(), r.host) == rep.hosts.end())
          rep.hosts.push_back(r.host);
        last_end[st.name] = std::max(last_end[st.name], r.finished_at_unix_s);
      }
      if (rep.hosts.empty()) rep.hosts.push_back(ex.info.host);
      if (auto plan = StoredPlan(ex.info)) {
        std::set<int64_t> expected_seen;
        for (const Shard& sh : rep.shards)
          for (const auto& r : ShardRuns(*plan, sh)) {
            if (!expected_seen.insert(r.run_id).second) continue;
            ++rep.planned;
            if (!have.count(r.run_id)) rep.missing.push_back(RunLabel(r));
          }
      }
      outcome.inputs.push_back(std::move(rep));
      exports.push_back(std::move(ex));
    }
  }

  WATTLAB_ASSIGN_OR_RETURN(FileInfo info, env->Stat(out));
  outcome.created = info.kind == FileKind::kMissing;
  auto merged = Store::Open(env, out, outcome.created ? OpenMode::kCreate : OpenMode::kReadWrite);
  if (!merged.ok()) {
    if (outcome.created) RemoveCreated(env, out);
    return merged.status().WithContext("merging into " + out);
  }
  const double now = env->NowWallSeconds();
  auto finished = [&](const StudyInfo& st, const std::set<int64_t>& ids) -> std::optional<double> {
    auto plan = StoredPlan(st);
    if (!plan) return std::nullopt;
    for (const auto& r : *plan)
      if (!ids.count(r.run_id)) return std::nullopt;
    auto it = last_end.find(st.name);
    return it != last_end.end() && it->second > 0 ? it->second : now;
  };
  auto counts = (*merged)->ImportStudies(exports, finished);
  if (!counts.ok()) {
    merged->reset();
    if (outcome.created) RemoveCreated(env, out);
    return counts.status();
  }
  for (size_t i = 0; i < counts->size() && i < outcome.inputs.size(); ++i) {
    outcome.inputs[i].added = (*counts)[i].added;
    outcome.inputs[i].already = (*counts)[i].already;
  }

  // What OUT now holds, per study merged.
  std::vector<std::string> names;
  for (const auto& ex : exports)
    if (std::find(names.begin(), names.end(), ex.info.name) == names.end()) names.push_back(ex.info.name);
  for (const auto& name : names) {
    WATTLAB_ASSIGN_OR_RETURN(auto st, (*merged)->ReadStudy(name));
    WATTLAB_ASSIGN_OR_RETURN(auto ex, (*merged)->ExportStudy(name));
    MergeStudyReport rep;
    rep.study = name;
    rep.spec_hash = st ? st->spec_hash : "";
    rep.stored = static_cast<int64_t>(ex.runs.size());
    rep.finished = st && st->finished_at_unix_s.has_value();
    std::map<std::string, int64_t> hosts;
    std::set<int64_t> have;
    for (const auto& r : ex.runs) {
      ++hosts[r.host];
      have.insert(r.run_id);
    }
    rep.hosts.assign(hosts.begin(), hosts.end());
    for (const auto& s : ex.shards)
      rep.shards.push_back(std::to_string(s.k) + "/" + std::to_string(s.n) + " from " +
                           (s.source_db.empty() ? out : s.source_db) + " (host " + s.host + ")");
    if (auto plan = StoredPlan(ex.info)) {
      rep.planned = static_cast<int64_t>(plan->size());
      for (const auto& r : *plan)
        if (!have.count(r.run_id)) {
          ++rep.missing_count;
          if (rep.missing.size() < kMaxListed) rep.missing.push_back(RunLabel(r));
        }
    }
    outcome.studies.push_back(std::move(rep));
  }
  return outcome;
}

std::string FormatMergeOutcome(const MergeOutcome& o) {
  std::string s;
  for (const auto& in : o.inputs) {
    std::vector<std::string> shards;
    for (const auto& sh : in.shards) shards.push_back(sh.Label());
    s += in.db + ": study '" + in.study + "' shard " + Join(shards, ", ") + " (host " + Join(in.hosts, ", ") +
         "): " + std::to_string(in.runs) + " runs, " + std::to_string(in.added) + " added, " +
         std::to_string(in.already) + " already merged\n";
    if (!in.missing.empty()) {
      std::vector<std::string> listed(in.missing.begin(),
                                      in.missing.begin() + std::min(in.missing.size(), kMaxListed));
      s += "  INCOMPLETE: " + std::to_string(in.missing.size()) + " of its " + std::to_string(in.planned) +
           " planned runs are missing: " + Join(listed, ", ") +
           (in.missing.size() > kMaxListed
                ? ", and " + std::to_string(in.missing.size() - kMaxListed) + " more"
                : "") +
           "\n  finish that shard with `wattlab study ... --shard " + (shards.empty() ? "K/N" : shards[0]) +
           " --db " + in.db + " --resume`, then merge it again\n";
    }
  }
  for (const auto& st : o.studies) {
    std::vector<std::string> hosts;
    for (const auto& [h, n] : st.hosts) hosts.push_back(h + " (" + std::to_string(n) + " runs)");
    s += o.out + ": study '" + st.study + "' (spec " + st.spec_hash + "): " + std::to_string(st.stored) +
         " of " + std::to_string(st.planned) + " planned runs" +
         (st.finished ? ", complete" : ", not complete") + "\n  hosts: " + Join(hosts, ", ") + "\n";
    if (st.hosts.size() > 1)
      s += "  note: energy is per machine; `wattlab analyze` and `report` say where a configuration's "
           "repetitions come from more than one host\n";
    for (const auto& sh : st.shards) s += "  shard " + sh + "\n";
    if (st.missing_count > 0)
      s += "  missing: " + Join(st.missing, ", ") +
           (st.missing_count > static_cast<int64_t>(st.missing.size())
                ? ", and " + std::to_string(st.missing_count - static_cast<int64_t>(st.missing.size())) +
                      " more"
                : "") +
           "\n";
  }
  return s;
}

}  // namespace wattlab
