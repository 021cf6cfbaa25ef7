#include "fixtures.h"

#include <cmath>
#include <map>
#include <utility>
#include <vector>

#include "analysis/analysis.h"
#include "platform/real_env.h"
#include "store/store.h"

namespace wattlab::report::testing {
namespace {

// The real Env the store opens its files through in these tests.
Env* StoreEnv() {
  static const std::unique_ptr<Env> env = NewRealEnv();
  return env.get();
}

struct ModelSpec {
  const char* name;
  int64_t params;
  int64_t macs;
  double accuracy;
};

// CIFAR-10 forms (3x32x32 input), figures of the kuangliu/pytorch-cifar
// collection rounded; accuracies invented but plausible.
const std::vector<ModelSpec>& Models() {
  static const std::vector<ModelSpec> kModels = {
      {"simpledla", 15142970, 921000000, 0.941},
      {"dpn26", 11574842, 2047000000, 0.935},
      {"densenet121", 6956298, 898000000, 0.948},
      {"efficientnetb0", 3598598, 28000000, 0.872},
      {"googlenet", 6166250, 1529000000, 0.946},
      {"lenet", 62006, 651000, 0.652},
      {"mobilenet", 3217226, 47000000, 0.884},
      {"mobilenetv2", 2296922, 94000000, 0.913},
      {"pnasnet", 452266, 45000000, 0.861},
      {"preactresnet18", 11171146, 556000000, 0.936},
      {"regnetx_200mf", 2321946, 63000000, 0.902},
      {"resnet18", 11173962, 556000000, 0.939},
      {"resnext29_2x64d", 9128778, 1416000000, 0.947},
      {"senet18", 11260354, 556000000, 0.938},
      {"shufflenetv2", 1263854, 45000000, 0.889},
      {"vgg16", 14728266, 314000000, 0.928},
  };
  return kModels;
}

// Deterministic "measurement": energy per sample grows with MACs/param, with
// a model-specific wobble so correlations are strong but not perfect.
double InferJPerSample(const ModelSpec& m, size_t i, int64_t batch) {
  const double mpp = static_cast<double>(m.macs) / m.params;
  const double wobble = 1.0 + 0.18 * std::sin(1.7 * static_cast<double>(i) + 0.3);
  // Small batches cost more per sample; very large ones a little more again.
  const double b = static_cast<double>(batch);
  const double batch_factor = 1.0 + 6.0 / b + b / 900.0;
  return 2.0e-4 * std::pow(mpp, 0.85) * wobble * batch_factor / (1.0 + 6.0 / 128 + 128 / 900.0);
}

RunRow BaseRow(const std::string& study, int64_t run_id, const ModelSpec& m, int64_t batch, int64_t rep) {
  RunRow r;
  r.study = study;
  r.run_id = run_id;
  r.config_id = std::string(m.name) + "-b" + std::to_string(batch) + "-t2-fp32";
  r.repetition = rep;
  r.model = m.name;
  r.batch_size = batch;
  r.threads = 2;
  r.precision = "fp32";
  r.params = m.params;
  r.macs = m.macs;
  r.macs_per_param = static_cast<double>(m.macs) / m.params;
  r.source = "rapl-powercap";
  return r;
}

void AddWindow(std::vector<RunRow>* rows, RunRow r, const std::string& phase, const std::string& window,
               int64_t samples, double j_per_sample, double idle_w, double w_per_sample_s) {
  r.phase = phase;
  r.window = window;
  r.samples = samples;
  r.steps = samples / std::max<int64_t>(1, r.batch_size);
  r.duration_s = w_per_sample_s * samples;
  r.energy_above_idle_j = j_per_sample * samples;
  r.energy_j = *r.energy_above_idle_j + idle_w * r.duration_s;
  r.cpu_util = 0.93;
  rows->push_back(std::move(r));
}

}  // namespace

const char* ScenarioName(Scenario s) {
  switch (s) {
    case Scenario::kRich:
      return "rich";
    case Scenario::kOneRun:
      return "one-run";
    case Scenario::kEstimatedOnly:
      return "estimated-only";
    case Scenario::kNoAccuracy:
      return "no-accuracy";
  }
  return "unknown";
}

ReportOptions FixtureOptions() {
  ReportOptions o;
  o.generated_at_unix_s = 1795779000;  // 2026-11-27
  return o;
}

ReportInput FixtureInput(Scenario scenario) {
  ReportInput in;
  const std::string study = std::string("fixture-") + ScenarioName(scenario);
  const bool estimated = scenario == Scenario::kEstimatedOnly;
  const double idle_w = estimated ? 6.0 : 11.5;

  StudyInfo st;
  st.name = study;
  st.spec_toml = "name = \"" + study +
                 "\"\nmodels = [\"resnet18\", \"mobilenetv2\", \"...\"]\nbatch_sizes = [16, 32, 64, 128, "
                 "256]\nrepetitions = 2\n# comment with <angle> & ampersand\n";
  st.started_at_unix_s = 1795770000;
  st.finished_at_unix_s = 1795775400;
  st.host = "build-box";
  st.kernel = "Linux 6.1.0-26-amd64";
  st.cpu = "Intel(R) Core(TM) i7-8700K CPU @ 3.70GHz (6 cores, 12 threads)";
  st.libtorch = "1.13.1";
  st.blas = "OpenBLAS 0.3.21 (openmp)";
  st.wattlab_version = "0.1.0 (git fixture)";
  st.sources = {estimated ? "estimate" : "rapl-powercap"};
  st.interval_s = 0.1;
  st.estimated = estimated;
  if (estimated)
    st.meter_facts = {{"TDP used", "95 W (table: i7-8700K)"}, {"estimate model", "TDP x (0.1 + 0.9 u^3)"}};
  st.idle_baselines = {{1795770010, idle_w, std::nullopt, false},
                       {1795772000, idle_w + 0.4, std::nullopt, false}};
  in.studies.push_back(st);

  const auto& models = Models();
  const size_t n_models = scenario == Scenario::kOneRun ? 1 : models.size();
  int64_t run_id = 0;
  for (size_t i = 0; i < n_models; ++i) {
    const ModelSpec& m = models[scenario == Scenario::kOneRun ? 11 : i];
    std::vector<int64_t> batches = {128};
    if (scenario == Scenario::kRich &&
        (std::string(m.name) == "resnet18" || std::string(m.name) == "mobilenetv2" ||
         std::string(m.name) == "vgg16"))
      batches = {16, 32, 64, 128, 256};
    const int reps = scenario == Scenario::kRich && i % 5 == 0 ? 2 : 1;
    for (int64_t batch : batches) {
      for (int rep = 1; rep <= reps; ++rep) {
        ++run_id;
        RunRow base = BaseRow(study, run_id, m, batch, rep);
        base.estimated = estimated;
        if (estimated) base.source = "estimate";
        const double e_inf = InferJPerSample(m, i, batch) * (1.0 + 0.02 * (rep - 1));
        const double e_train = e_inf * (2.6 + 0.5 * std::cos(static_cast<double>(i)));
        const double s_inf = e_inf / 45.0;  // ~45 W above idle
        // Training: a short profile extrapolated to the full window.
        RunRow prof = base;
        prof.extrapolated_energy_j = (e_train * 10000 + idle_w * s_inf * 3 * 10000) *
                                     (1.0 + 0.04 * std::sin(3.0 * static_cast<double>(i) + rep));
        AddWindow(&in.rows, prof, "train", "profile", 1280, e_train, idle_w, s_inf * 3);
        AddWindow(&in.rows, base, "train", "full", 10000, e_train, idle_w, s_inf * 3);
        RunRow ev = base;
        if (scenario != Scenario::kNoAccuracy) ev.accuracy = m.accuracy;
        AddWindow(&in.rows, ev, "eval", "full", 2000, e_inf, idle_w, s_inf);
        AddWindow(&in.rows, base, "infer", "full", 2000, e_inf, idle_w, s_inf);
      }
    }
  }

  // Timelines for the first runs: idle, warm-up, train, eval, infer.
  for (int64_t id = 1; id <= std::min<int64_t>(run_id, 2); ++id) {
    RunTimeline tl;
    tl.run_id = id;
    tl.model = in.rows[(id - 1) * 4].model;
    tl.windows = {{"warmup", 1.0, 3.0}, {"train", 3.0, 40.0}, {"eval", 40.0, 46.0}, {"infer", 46.0, 55.0}};
    for (int k = 0; k <= 580; ++k) {
      const double t = k * 0.1;
      double p = idle_w;
      if (t >= 1 && t < 40)
        p = idle_w + 52 + 4 * std::sin(t * 3.1);
      else if (t >= 40 && t < 55)
        p = idle_w + 41 + 3 * std::sin(t * 2.3);
      tl.t_s.push_back(t);
      tl.power_w.push_back(p);
    }
    in.timelines.push_back(std::move(tl));
  }
  in.generated_at = FormatUtc(FixtureOptions().generated_at_unix_s);
  in.wattlab_version = "0.1.0 (git test)";
  return in;
}

ReportInput AnalyzedFixture(Scenario scenario) {
  ReportInput in = FixtureInput(scenario);
  analysis::AnalysisOptions opt;
  opt.requests_per_day = 1e6;
  opt.days = 365;
  auto res = analysis::Analyze(in.rows, opt);
  if (res.ok()) {
    in.analysis = std::move(res).value();
  } else {
    in.analysis_error = res.status().message();
  }
  return in;
}

Status FillStore(const std::string& db, const ReportInput& in) {
  WATTLAB_ASSIGN_OR_RETURN(auto store, Store::Open(StoreEnv(), db, OpenMode::kCreate));
  for (const auto& st : in.studies) {
    StudyInfo s = st;
    s.idle_baselines.clear();
    WATTLAB_RETURN_IF_ERROR(store->UpsertStudy(s));
    for (const auto& b : st.idle_baselines) WATTLAB_RETURN_IF_ERROR(store->AddIdleBaseline(st.name, b));
  }
  std::map<int64_t, RunRecord> runs;
  for (const auto& r : in.rows) {
    RunRecord& rec = runs[r.run_id];
    rec.study = r.study;
    rec.run_id = r.run_id;
    rec.config_id = r.config_id;
    rec.repetition = r.repetition;
    rec.model = r.model;
    rec.config_json = "{}";
    rec.facts_json = "{}";
    rec.started_at_unix_s = 1795770000 + r.run_id;
    rec.finished_at_unix_s = rec.started_at_unix_s + 1;
    rec.rows.push_back(r);
  }
  for (const auto& tl : in.timelines) runs[tl.run_id].timeline = tl;
  for (auto& [id, rec] : runs) WATTLAB_RETURN_IF_ERROR(store->WriteRun(rec));
  return Status::Ok();
}

}  // namespace wattlab::report::testing
