// wattlab study: the main job. Parses flags, builds the spec, engine, meter
// and store, and hands them to the StudyRunner (src/study/runner.h).
#include <atomic>
#include <cstdio>
#include <iostream>

#include "catalog/catalog.h"
#include "cli/cmd_report.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "core/energy_basis.h"
#include "core/strings.h"
#include "meter/local_rank.h"
#include "meter/procfs.h"
#include "platform/plugin.h"
#include "platform/process.h"
#include "store/store.h"
#include "study/metered_run.h"
#include "study/plan.h"
#include "study/runner.h"
#include "study/shard.h"
#include "study/spec.h"
#include "study/wait_policy_groups.h"

namespace wattlab::cli {
namespace {

// 128 + SIGINT, as a shell reports it; a parent study reads a child's so.
constexpr int kExitInterrupted = 130;
static_assert(kExitInterrupted == kPolicyChildInterrupted);
// Set by the Env's signal handler on SIGINT/SIGTERM (lives for the process,
// as the handler may fire at any time).
std::atomic<int> g_interrupted{0};

struct Study {
  std::string db = kDefaultDb, preset, spec_file, dataset, energy = "auto", shard;
  bool resume = false, dry_run = false, no_report = false;
  MeterFlags mf;
  int Run(const std::vector<std::string>& args);
};

}  // namespace

CommandFn AddStudy(CLI::App* root) {
  auto c = std::make_shared<Study>();
  CLI::App* p =
      AddCommand(root, "study",
                 "run a study (default: the built-in pilot study), store every run, print the findings and "
                 "write the report");
  AddString(p, "--db", &c->db, "FILE",
            "database to write (default wattlab.db in the working directory); in a Slurm job array %a is the "
            "array task id and %A the array job id");
  AddString(
      p, "--shard", &c->shard, "K/N",
      "run only the K-th of N shares of the plan (1-based; runs dealt round-robin from the seeded order); "
      "in a Slurm job array the task's share unless given; merge the shards with `wattlab merge`");
  AddString(p, "--preset", &c->preset, "NAME",
            "built-in study: quick (< 2 min), default (<= 10 min), paper (needs --dataset cifar10:DIR)");
  AddString(p, "--spec", &c->spec_file, "FILE.toml",
            "study spec file (see docs/study.md); instead of --preset");
  AddString(p, "--dataset", &c->dataset, "DATA",
            "fashion-mnist (default), cifar10:DIR or synthetic:CxHxW:N; overrides the spec");
  AddFlag(p, "--resume", &c->resume,
          "continue an interrupted study in --db: completed runs are kept, the rest run");
  AddFlag(p, "--dry-run", &c->dry_run, "print the plan (runs, estimated time) and exit");
  AddFlag(p, "--no-report", &c->no_report, "do not write the report after the study");
  AddChoice(
      p, "--energy", &c->energy, EnergyBasisChoices(),
      "basis of the summary's and the report's per-sample figures; auto (default): above idle unless an idle "
      "baseline was measured busy, then total");
  c->mf.Register(p);
  return [c](const Invocation& inv) { return c->Run(inv.args); };
}

int Study::Run(const std::vector<std::string>& args) {
  if (!preset.empty() && !spec_file.empty())
    return ReportError("study", Status::InvalidArgument("give --preset or --spec, not both"));
  Shard my_shard;
  if (!shard.empty()) {
    auto parsed = ParseShard(shard);
    if (!parsed.ok()) return ReportError("study", parsed.status());
    my_shard = *parsed;
  }
  auto opened = OpenEnv(mf);
  if (!opened.ok()) return ReportError("study", opened.status());
  std::unique_ptr<Env> env = std::move(*opened);
  // Inside a Slurm job array: the task's shard (unless --shard), and %a/%A in --db.
  if (shard.empty()) {
    auto from_slurm = ShardFromSlurmEnv(env.get());
    if (!from_slurm.ok()) return ReportError("study", from_slurm.status());
    if (*from_slurm) {
      my_shard = **from_slurm;
      std::fprintf(stderr, "wattlab study: Slurm array task %s: shard %s (give --shard to choose another)\n",
                   env->GetEnvVar("SLURM_ARRAY_TASK_ID").value_or("?").c_str(), my_shard.Label().c_str());
    }
  }
  if (auto expanded = ExpandDbPattern(env.get(), db); expanded.ok())
    db = *expanded;
  else
    return ReportError("study", expanded.status());
  auto mo = mf.ResolveOptions(env.get());
  if (!mo.ok()) return ReportError("study", mo.status());
  // One meter per node (docs/scale.md): a study's every figure is node
  // energy, which only local rank 0 reads; another rank would store nothing.
  if (Status r = CheckMetersNode(env.get(), "a study"); !r.ok()) return ReportError("study", r);

  Result<StudySpec> spec = Status::Internal("unset");
  if (!spec_file.empty()) {
    auto text = env->ReadFile(spec_file);
    if (!text.ok())
      return ReportError("study",
                         Status::InvalidArgument("cannot read spec file " + spec_file +
                                                 ": check the path (see docs/study.md for the format)"));
    spec = ParseStudySpec(*text, spec_file);
  } else {
    spec = LoadPreset(preset.empty() ? "default" : preset);
    if (!spec.ok() && spec.status().kind() == Status::Kind::kNotFound)
      return ReportError("study", Status::InvalidArgument(spec.status().message()));
  }
  if (!spec.ok()) return ReportError("study", spec.status());
  if (!dataset.empty()) {
    Status ds = catalog::CheckDataset(dataset);
    if (!ds.ok()) return ReportError("study", Status::InvalidArgument("--dataset: " + ds.message()));
    OverrideDataset(&*spec, dataset);  // recorded with the spec: --resume with another is refused
  }
  if (spec->dataset == "cifar10:REQUIRED")
    return ReportError(
        "study",
        Status::InvalidArgument("the paper preset trains on CIFAR-10: pass --dataset cifar10:DIR with the "
                                "directory holding data_batch_1.bin ... test_batch.bin"));

  const std::vector<PlannedRun> whole_plan = ExpandPlan(*spec);
  // This process's share (the whole plan unless sharded), run_ids unchanged.
  const std::vector<PlannedRun> plan = ShardRuns(whole_plan, my_shard);
  // Before any work (docs/reliability.md): every model must fit in the memory
  // the machine has free (counted by the catalog: nothing is built), and
  // every output must be writable.
  if (auto avail = ReadMemAvailableBytes(env.get()); avail.ok()) {
    if (Status m = CheckPlanFitsMemory(plan, *avail); !m.ok()) {
      if (m.kind() == Status::Kind::kInvalidArgument)
        return ReportError("study", Status::InvalidArgument(spec->file + ": " + m.message()));
      return ReportError("study", m.WithContext(spec->file));
    }
  }
  if (Status d = Store::CheckForWriting(env.get(), db); !d.ok()) return ReportError("study", d);
  if (!no_report)
    if (Status r = CheckOutputDir(env.get(), "report directory", DefaultReportDir(db)); !r.ok())
      return ReportError("study", r.WithContext("pass --no-report or another --db"));
  if (dry_run) {
    // The database it would write: another writer of this study is reported now.
    auto probe = LockStudy(env.get(), db, spec->name);
    if (!probe.ok()) return ReportError("study", probe.status());
    probe->reset();
    // Counted by the catalog: a dry run never loads libtorch nor builds a model.
    std::map<std::string, int64_t> macs;
    for (const auto& r : plan) {
      if (macs.count(r.model) || r.is_command() || !r.torchscript.empty()) continue;
      auto f = catalog::CountModel(r.model);
      if (!f.ok())
        return ReportError("study", Status::InvalidArgument(spec->file + ": model '" + r.model +
                                                            "': " + f.status().message()));
      macs[r.model] = f->macs;
    }
    if (my_shard.n > 1)
      std::cout << "Shard " << my_shard.Label() << ": " << plan.size() << " of the plan's "
                << whole_plan.size()
                << " runs (dealt round-robin from the seeded order; run ids are the whole plan's)\n";
    std::cout << FormatPlan(plan, *spec, macs);
    return kExitOk;
  }

  // libgomp reads OMP_WAIT_POLICY once, when the plugin loads libtorch: the
  // policy is chosen first (study/wait_policy_groups.h). A child started below
  // for one swept policy got it from us.
  auto omp = ChooseStudyWaitPolicy(env.get());
  if (!omp.ok()) return ReportError("study", omp.status());
  if (!omp->busy_note.empty()) std::fprintf(stderr, "wattlab study: %s\n", omp->busy_note.c_str());

  // libtorch only when a sweep runs models (the zoo's or a TorchScript file)
  // or counts one: a study of the user's own programs runs without the plugin.
  bool needs_engine = false;
  for (const auto& r : plan) needs_engine = needs_engine || !r.is_command() || !r.torchscript.empty();
  Result<WorkloadEngine*> engine = static_cast<WorkloadEngine*>(nullptr);
  if (needs_engine) engine = LoadWorkloadEngine(env.get());
  if (!engine.ok()) return ReportError("study", engine.status());
  auto meter = Meter::Create(env.get(), *mo);
  if (!meter.ok()) return ReportError("study", meter.status());
  (*meter)->SetAttributionPid(env->Pid());

  bool tty = env->IsTerminal(2);
  RunnerOptions ro;
  ro.resume = resume;
  ro.log = &std::cerr;
  ro.tty = tty;
  ro.interrupted = [] { return g_interrupted.load() != 0; };
  ro.caps.nvml_library = mo->nvml_library;  // the caps journal: $WATTLAB_CAPS_JOURNAL or /run/wattlab
  ro.omp_wait_policy = omp->policy;
  ro.shard = my_shard;
  StudyRunner runner(*spec, *engine, meter->get(), nullptr, env.get(), ro);
  // Unknown models fail here, before a database is created.
  if (auto f = runner.DescribeModels(); !f.ok()) return ReportError("study", f.status());

  // One writer per study: a second `study` (or `--resume`) of the same study
  // on this database is refused at once, before it measures anything.
  // A child for one swept policy runs under its parent's lock.
  std::unique_ptr<FileLock> lock;
  if (!omp->child) {
    auto l = LockStudy(env.get(), db, spec->name);
    if (!l.ok()) return ReportError("study", l.status());
    lock = std::move(*l);
  }
  auto store = Store::Open(env.get(), db, OpenMode::kCreate);
  if (!store.ok()) return ReportError("study", store.status());
  runner.set_store(store->get());
  // A second Ctrl-C kills at once (the default action); the store is safe either way.
  if (Status ws =
          env->WatchSignals({Signal::kInt, Signal::kTerm}, &g_interrupted, /*reset_after_first=*/true);
      !ws.ok())
    return ReportError("study", ws);
  StudyInfo context = CollectStudyContext(env.get(), **meter, *engine, WattlabVersion());
  NameWaitPolicyInContext(*omp, **store, spec->name, &context);
  auto out = runner.Run(context);
  if (!out.ok()) return ReportError("study", out.status());
  if (omp->child) {
    // A child: its runs are stored; the parent prints the findings.
    std::fprintf(stderr, "wattlab study: %lld run(s) under OpenMP wait policy %s stored (child process)\n",
                 (long long)out->done_now, omp->policy.c_str());
    if (out->interrupted) return kExitInterrupted;
    return out->failed > 0 ? kExitFailure : kExitOk;
  }
  if (!out->interrupted) {
    // Each other swept policy in a child: this binary again, the same
    // arguments, --resume --no-report, the policy's environment.
    auto spawn = [&args, this](const PolicyChild& child) -> Result<int> {
      std::vector<std::string> argv = {"/proc/self/exe", "study"};
      argv.insert(argv.end(), args.begin(), args.end());
      if (!resume) argv.push_back("--resume");
      argv.push_back("--no-report");
      SpawnOptions so;
      so.env = child.set_env;
      so.unset_env = child.unset_env;
      WATTLAB_ASSIGN_OR_RETURN(auto process, ChildProcess::Spawn(argv, so));
      return process->Wait();
    };
    if (Status cs = RunOtherWaitPolicies(
            runner, **store, spec->name, spawn, [] { return g_interrupted.load() != 0; }, &std::cerr, &*out);
        !cs.ok())
      return ReportError("study", cs);
  }

  std::string resume_cmd = "wattlab study";
  for (const auto& a : args) resume_cmd += " " + a;
  if (!resume) resume_cmd += " --resume";
  auto rows = (*store)->ReadRows(spec->name);
  std::cout << "\nstudy '" << spec->name << "': " << (out->done_before + out->done_now) << " of "
            << out->planned << " runs" << (my_shard.n > 1 ? " of shard " + my_shard.Label() : std::string())
            << " stored in " << db << " (" << out->done_now << " this time, "
            << FormatFixed(out->elapsed_s, 0) << " s)\n";
  if (rows.ok()) std::cout << SummarizeStudy(*rows, *ParseEnergyBasisRequest(energy));
  for (const auto& f : out->failures) std::cout << "failed: " << f << "\n";
  if (!out->caps_restore_error.empty())
    std::fprintf(stderr, "wattlab study: WARNING: the power caps were not all put back: %s\n",
                 out->caps_restore_error.c_str());
  std::cout << "export: wattlab runs --db " << db << " --study " << spec->name << " [--csv|--json]\n";

  std::cout.flush();  // the findings are out even if something later fails
  if (out->interrupted) {
    std::fprintf(stderr, "wattlab study: interrupted; the run in progress was discarded. Continue with: %s\n",
                 resume_cmd.c_str());
    return kExitInterrupted;
  }
  if (!no_report) {
    std::string dir = DefaultReportDir(db);
    ReportOptions opts;
    opts.study = spec->name;
    opts.energy = *ParseEnergyBasisRequest(energy);
    Status rs = WriteReportFromDatabase(env.get(), db, dir, opts);
    if (rs.ok())
      std::cout << "report: " << dir << "/index.html (and summary.md)\n";
    else
      std::fprintf(stderr, "wattlab study: the report could not be written: %s\n", rs.message().c_str());
  }
  if (out->failed > 0) {
    std::fprintf(stderr,
                 "wattlab study: %lld run(s) failed (listed above); rerun with --resume to retry them: %s\n",
                 (long long)out->failed, resume_cmd.c_str());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace wattlab::cli
