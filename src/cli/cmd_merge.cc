// wattlab merge OUT.db IN.db...: one study from the databases of its shards
// (`wattlab study --shard K/N`, or the tasks of a Slurm job array). The
// merge, its refusals and what it prints are src/study/merge.h's.
#include <cstdio>
#include <iostream>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "study/merge.h"

namespace wattlab::cli {

namespace {

struct Merge {
  std::vector<std::string> dbs;  // OUT, then the inputs
  int Run();
};

}  // namespace

CommandFn AddMerge(CLI::App* root) {
  auto c = std::make_shared<Merge>();
  CLI::App* p = AddCommand(root, "merge",
                           "merge the databases of a study's shards into OUT.db, in one transaction (OUT may "
                           "already hold shards of the same spec; merging a shard twice adds nothing)");
  AddPositionals(p, "databases", &c->dbs, 2, "OUT.db IN.db...",
                 "the database to write, then the shard databases to merge into it");
  return [c](const Invocation&) { return c->Run(); };
}

int Merge::Run() {
  auto env = OpenDefaultEnv();
  const std::string out = dbs.front();
  const std::vector<std::string> inputs(dbs.begin() + 1, dbs.end());
  auto merged = MergeDatabases(env.get(), out, inputs);
  if (!merged.ok()) {
    const int rc = ReportError("merge", merged.status());
    std::fprintf(stderr, "wattlab merge: nothing was written to %s\n", out.c_str());
    return rc;
  }
  std::cout << FormatMergeOutcome(*merged);
  return kExitOk;
}

}  // namespace wattlab::cli
