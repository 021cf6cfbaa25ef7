#include "study/plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <set>

#include "catalog/catalog.h"
#include "core/strings.h"

namespace wattlab {
namespace {

uint32_t Fnv1a(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

// The caps part of the identity: empty for a run that sets none, so studies
// from before caps keep their config ids (and --resume keeps working).
std::string CapsKey(const PlannedRun& r) {
  std::string k;
  if (r.gpu_power_limit_w) k += "|gpu_w=" + FormatDouble(*r.gpu_power_limit_w);
  if (r.gpu_power_limit_pct) k += "|gpu_pct=" + FormatDouble(*r.gpu_power_limit_pct);
  if (r.cpu_power_limit_w) k += "|cpu_w=" + FormatDouble(*r.cpu_power_limit_w);
  if (r.cpu_max_freq_mhz) k += "|cpu_mhz=" + FormatDouble(*r.cpu_max_freq_mhz);
  return k;
}

std::string ConfigKey(const PlannedRun& r, const SweepSpec& sw, const std::string& dataset) {
  // Everything that changes what is measured; not the repetition or order.
  if (r.is_command()) {
    std::string k = "command|" + r.model + "|" + Join(r.command, "\x1f") + "|" +
                    std::to_string(r.batch_size) + "|" + std::to_string(r.threads) + "|" + r.precision + "|" +
                    std::to_string(r.epochs) + "|" + Join(sw.phases, "+") + "|" + dataset + "|" +
                    r.torchscript + ":" + r.input + CapsKey(r);
    for (const auto& [phase, pats] : sw.windows) k += "|" + phase + "=" + Join(pats, "\x1f");
    return k;
  }
  return r.model + (r.torchscript.empty() ? "" : "|ts:" + r.torchscript + ":" + r.input) + "|" +
         std::to_string(r.batch_size) + "|" + std::to_string(r.threads) + "|" + r.precision + "|" +
         (r.train ? "train" : "") + (r.infer ? "+infer" : "") + "|" + std::to_string(r.profile_steps) +
         // The profile's cap only when not the default, so the ids of specs without the key stay.
         (r.train && r.max_profile_steps != kDefaultMaxProfileSteps
              ? "-" + std::to_string(r.max_profile_steps)
              : "") +
         "|" + (r.full_length ? "full" : "profile") + "|" + std::to_string(r.epochs) + "x" +
         std::to_string(r.steps_per_epoch) + "|" + std::to_string(r.train_samples) + "|" +
         (r.evaluate ? "eval" + std::to_string(r.eval_samples) : "") + "|" + std::to_string(r.infer_samples) +
         "|" + r.optimizer + "|" + FormatDouble(r.lr) + "|" + dataset + CapsKey(r) +
         // Only when swept, so the ids of specs without the key stay as they were.
         (r.omp_wait_policy.empty() ? "" : "|omp=" + r.omp_wait_policy);
}

// One axis of a cap sweep: the listed values, or "leave it" (nullopt).
std::vector<std::optional<double>> Axis(const std::vector<double>& values) {
  if (values.empty()) return {std::nullopt};
  return std::vector<std::optional<double>>(values.begin(), values.end());
}

std::string FormatDuration(double s) {
  char buf[32];
  int64_t t = (int64_t)std::llround(s);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", (long long)(t / 3600), (long long)(t % 3600 / 60));
  else
    std::snprintf(buf, sizeof buf, "%lldm%02llds", (long long)(t / 60), (long long)(t % 60));
  return buf;
}

}  // namespace

std::string PlannedRun::CapsLabel() const {
  std::vector<std::string> parts;
  if (gpu_power_limit_w) parts.push_back("gpu " + FormatDouble(*gpu_power_limit_w) + " W");
  if (gpu_power_limit_pct) parts.push_back("gpu " + FormatDouble(*gpu_power_limit_pct) + "%");
  if (cpu_power_limit_w) parts.push_back("cpu " + FormatDouble(*cpu_power_limit_w) + " W");
  if (cpu_max_freq_mhz) parts.push_back(FormatDouble(*cpu_max_freq_mhz) + " MHz");
  return Join(parts, ", ");
}

std::vector<PlannedRun> ExpandPlan(const StudySpec& spec) {
  std::vector<PlannedRun> configs;
  std::set<std::string> seen;
  auto dataset = catalog::LookupDataset(spec.dataset);
  if (!dataset.ok()) dataset = catalog::LookupDataset(StudySpec{}.dataset);  // REQUIRES says it cannot happen
  const int64_t dataset_size = dataset.ok() ? dataset->train_samples : 1;
  for (size_t si = 0; si < spec.sweeps.size(); ++si) {
    const SweepSpec& sw = spec.sweeps[si];
    bool train = std::find(sw.phases.begin(), sw.phases.end(), "train") != sw.phases.end();
    bool infer = std::find(sw.phases.begin(), sw.phases.end(), "infer") != sw.phases.end();
    // The OpenMP policy is the zoo engine's: a command sweep's program runs its own.
    const std::vector<std::string> policies =
        sw.omp_wait_policy.empty() || sw.is_command() ? std::vector<std::string>{""} : sw.omp_wait_policy;
    const std::vector<std::string> models = sw.is_command() ? std::vector<std::string>{sw.label} : sw.models;
    for (const auto& model : models)
      for (int64_t b : sw.batch_sizes)
        for (int64_t th : sw.threads)
          for (const auto& prec : sw.precision)
            for (const auto& gpu :
                 Axis(sw.gpu_power_limits_w.empty() ? sw.gpu_power_limits_pct : sw.gpu_power_limits_w))
              for (const auto& cpu_w : Axis(sw.cpu_power_limits_w))
                for (const auto& mhz : Axis(sw.cpu_max_freqs_mhz)) {
                  for (const auto& omp : policies) {
                    PlannedRun r;
                    r.omp_wait_policy = omp;
                    if (sw.gpu_power_limits_w.empty())
                      r.gpu_power_limit_pct = gpu;
                    else
                      r.gpu_power_limit_w = gpu;
                    r.cpu_power_limit_w = cpu_w;
                    r.cpu_max_freq_mhz = mhz;
                    r.sweep = si;
                    r.model = model;
                    r.batch_size = b;
                    r.threads = th;
                    r.precision = prec;
                    r.train = train;
                    r.infer = infer;
                    r.full_length = sw.full_length && train;
                    r.evaluate = sw.evaluate && r.full_length;
                    r.profile_steps = train ? sw.profile_steps : 0;
                    r.max_profile_steps = train ? std::max(sw.max_profile_steps, sw.profile_steps) : 0;
                    r.epochs = train ? sw.epochs : 0;
                    r.train_samples = train ? (sw.train_samples > 0 ? sw.train_samples : dataset_size) : 0;
                    r.steps_per_epoch =
                        train ? (sw.steps_per_epoch > 0 ? sw.steps_per_epoch : (r.train_samples + b - 1) / b)
                              : 0;
                    r.eval_samples = r.evaluate ? sw.eval_samples : 0;
                    r.infer_samples = infer ? sw.infer_samples : 0;
                    r.optimizer = sw.optimizer;
                    r.lr = sw.lr;
                    if (!sw.torchscript.empty()) {
                      r.torchscript = sw.torchscript;
                      r.input = !sw.input.empty() ? sw.input : dataset.ok() ? dataset->shape.ToString() : "";
                    }
                    if (sw.is_command()) {
                      // The program does its own training: only the phases and epochs are ours.
                      r.command = sw.command;
                      r.full_length = r.evaluate = false;
                      r.profile_steps = r.max_profile_steps = r.steps_per_epoch = r.train_samples =
                          r.infer_samples = 0;
                      r.epochs = sw.epochs;
                      r.optimizer.clear();
                      r.lr = 0;
                    }
                    std::string key = ConfigKey(r, sw, spec.dataset);
                    if (!seen.insert(key).second) continue;  // the same configuration from an earlier sweep
                    char id[16];
                    std::snprintf(id, sizeof id, "c%08x", Fnv1a(key));
                    r.config_id = id;
                    configs.push_back(std::move(r));
                  }
                }
  }
  std::vector<PlannedRun> runs;
  for (int64_t rep = 0; rep < spec.repetitions; ++rep)
    for (const auto& c : configs) {
      PlannedRun r = c;
      r.repetition = rep;
      runs.push_back(std::move(r));
    }
  // Fisher-Yates with an explicit engine and modulo draw: the same order on
  // every standard library (std::shuffle's algorithm is unspecified).
  std::mt19937_64 rng(spec.seed);
  for (size_t i = runs.size(); i > 1; --i) {
    size_t j = (size_t)(rng() % i);
    std::swap(runs[i - 1], runs[j]);
  }
  for (size_t i = 0; i < runs.size(); ++i) runs[i].run_id = (int64_t)i + 1;
  return runs;
}

int64_t CatalogMacs(const std::string& model) {
  auto f = catalog::CountModel(model);
  return f.ok() ? f->macs : 0;
}

double EstimateRunSeconds(const PlannedRun& r, const StudySpec& spec, int64_t macs) {
  if (r.is_command()) return kEstimateCommandRunS;
  if (macs <= 0) macs = 100'000'000;  // unknown: assume a mid-sized CIFAR model
  // Depthwise and grouped convolutions run far below the MAC rate on CPU
  // libtorch (measured here: mobilenet, shufflenetv2, efficientnet_b0 took
  // several times their MAC share).
  static const std::set<std::string> kSlowPerMac = {
      "mobilenet",     "mobilenetv2", "shufflenetv2",          "efficientnet_b0",
      "regnetx_200mf", "pnasnet",     "imagenet/mobilenet_v2", "imagenet/efficientnet_b0"};
  double slow = kSlowPerMac.count(r.model) ? 5.0 : 1.0;
  double per_train_sample = 3.0 * slow * (double)macs / kEstimateMacsPerSecond;
  double per_infer_sample = slow * (double)macs / kEstimateMacsPerSecond;
  // Small batches use the cores worse; a crude factor keeps batch-4 estimates honest.
  auto eff = [](int64_t b) { return b >= 32 ? 1.0 : b >= 8 ? 1.5 : 2.5; };
  double s = kEstimateRunOverheadS;
  if (r.train) {
    // The profile runs profile_steps to its cap, stopping on the SE rule: a
    // quiet machine stops early, so twice the minimum is assumed.
    const int64_t profile = std::min(r.profile_step_cap(), 2 * r.profile_steps);
    s += (double)((spec.warmup_steps + profile) * r.batch_size) * per_train_sample * eff(r.batch_size);
    if (r.full_length) {
      s += kEstimateRunOverheadS;
      s += (double)(spec.warmup_steps * r.batch_size + r.full_steps() * r.batch_size) * per_train_sample *
           eff(r.batch_size);
      if (r.evaluate) s += (double)(r.eval_samples > 0 ? r.eval_samples : 10000) * per_infer_sample;
    }
  }
  if (r.infer) s += kEstimateRunOverheadS / 4;  // inference set-up builds the model only
  if (r.infer)
    s += (double)(r.infer_samples + spec.warmup_steps * r.batch_size) * per_infer_sample * eff(r.batch_size);
  return s;
}

double EstimateStudySeconds(const std::vector<PlannedRun>& runs, const StudySpec& spec,
                            const std::map<std::string, int64_t>& macs_by_model) {
  double total = 0;
  for (const auto& r : runs) {
    auto it = macs_by_model.find(r.model);
    total += r.is_command()
                 ? kEstimateCommandRunS
                 : EstimateRunSeconds(r, spec, it != macs_by_model.end() ? it->second : CatalogMacs(r.model));
    total += spec.cooldown_s;
  }
  double idles = 1 + (spec.idle_every_s > 0 ? std::floor(total / spec.idle_every_s) : 0);
  return total + idles * spec.idle_s;
}

Status CheckPlanFitsMemory(const std::vector<PlannedRun>& runs, uint64_t mem_available_bytes) {
  const PlannedRun* worst = nullptr;
  int64_t worst_bytes = 0;
  std::map<std::string, ModelFacts> facts;
  for (const auto& r : runs) {
    // The program's memory is its own business; a TorchScript file is not in the catalog.
    if (r.is_command() || !r.torchscript.empty()) continue;
    auto it = facts.find(r.model);
    if (it == facts.end()) {
      auto f = catalog::CountModel(r.model);
      if (!f.ok()) return Status::InvalidArgument("model '" + r.model + "': " + f.status().message());
      it = facts.emplace(r.model, *f).first;
    }
    catalog::TrainingSetup setup;
    setup.batch_size = std::max<int64_t>(1, r.batch_size);
    if (!r.optimizer.empty()) setup.optimizer = r.optimizer;
    if (!r.precision.empty()) setup.precision = r.precision;
    auto mem = catalog::EstimateTrainingMemory(it->second, setup);
    if (!mem.ok()) continue;  // an option the catalog does not know is the runner's to refuse
    // Inference keeps no gradients, optimizer state or saved activations.
    const int64_t bytes = r.train ? mem->total_bytes : mem->params_bytes + mem->activations_bytes / 2;
    if (!worst || bytes > worst_bytes) worst = &r, worst_bytes = bytes;
  }
  if (worst && static_cast<uint64_t>(worst_bytes) > mem_available_bytes)
    return Status::FailedPrecondition(
        "model '" + worst->model + "' at batch " + std::to_string(worst->batch_size) + " needs about " +
        catalog::FormatBytes(worst_bytes) +
        (worst->train ? " to train (parameters, gradients, optimizer state and "
                        "activations)"
                      : " for inference") +
        ", but only " + catalog::FormatBytes(static_cast<int64_t>(mem_available_bytes)) +
        " is available (MemAvailable): use a smaller model or batch size, or free memory");
  return Status::Ok();
}

std::string FormatPlan(const std::vector<PlannedRun>& runs, const StudySpec& spec,
                       const std::map<std::string, int64_t>& macs_by_model) {
  std::string out;
  double total = EstimateStudySeconds(runs, spec, macs_by_model);
  std::set<std::string> models, configs;
  for (const auto& r : runs) {
    models.insert(r.model);
    configs.insert(r.config_id);
  }
  out += "study '" + spec.name + "' (" + spec.file + "): " + std::to_string(runs.size()) + " runs, " +
         std::to_string(configs.size()) + " configurations, " + std::to_string(models.size()) + " models, " +
         std::to_string(spec.repetitions) + " repetition(s), seed " + std::to_string(spec.seed) +
         ", dataset " + spec.dataset + "\n";
  out += "estimated time: " + FormatDuration(total) + " (from forward MACs at " +
         FormatDouble(kEstimateMacsPerSecond / 1e9) + " GMAC/s; idle baseline " + FormatDouble(spec.idle_s) +
         " s every " + FormatDouble(spec.idle_every_s) + " s; cool-down " + FormatDouble(spec.cooldown_s) +
         " s)\n";
  char line[512];
  std::snprintf(line, sizeof line, "%4s  %-9s %-3s %-28s %6s %3s %-5s %-22s %8s\n", "run", "config", "rep",
                "model", "batch", "thr", "prec", "phases", "est_s");
  out += line;
  for (const auto& r : runs) {
    std::string phases;
    if (r.is_command()) {
      phases = "command(" + Join(spec.sweeps[r.sweep].phases, "+") + ")";
    } else {
      if (r.train)
        phases +=
            "train(" + std::to_string(r.profile_steps) +
            (r.profile_step_cap() > r.profile_steps ? ".." + std::to_string(r.profile_step_cap()) : "") + ")";
      if (r.full_length) phases += "+full(" + std::to_string(r.full_steps()) + ")";
      if (r.evaluate) phases += "+eval";
      if (r.infer)
        phases += std::string(phases.empty() ? "" : "+") + "infer(" + std::to_string(r.infer_samples) + ")";
    }
    if (r.capped()) phases += " @ " + r.CapsLabel();
    auto it = macs_by_model.find(r.model);
    double est = r.is_command() ? kEstimateCommandRunS
                                : EstimateRunSeconds(
                                      r, spec, it != macs_by_model.end() ? it->second : CatalogMacs(r.model));
    std::snprintf(line, sizeof line, "%4lld  %-9s %-3lld %-28s %6lld %3lld %-5s %-22s %8.1f\n",
                  (long long)r.run_id, r.config_id.c_str(), (long long)r.repetition, r.model.c_str(),
                  (long long)r.batch_size, (long long)r.threads, r.precision.c_str(), phases.c_str(), est);
    out += line;
  }
  return out;
}

}  // namespace wattlab
