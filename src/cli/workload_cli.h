// Shared plumbing of `wattlab train` and `wattlab infer`: loading the workload plugin, building and
// starting a Meter from the meter flags, measuring the idle baseline, and an
// observer that binds meter windows to the engine's phases (train, eval,
// infer) and epochs ("epoch N", nested in train). Parsing and formatting only;
// the logic lives in the meter and the engine.
//
// Thread-safety: one command, one thread.
#pragma once

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/common.h"
#include "core/strings.h"
#include "core/env.h"
#include "platform/plugin.h"
#include "wattlab/meter.h"
#include "wattlab/workload.h"

namespace wattlab::cli {

// Everything a measuring workload command needs, alive for the command.
struct MeteredSession {
  std::unique_ptr<Env> env;
  WorkloadEngine* engine = nullptr;  // owned by the plugin, lives for the process
  std::unique_ptr<Meter> meter;
  std::optional<double> idle_power_w;
  double idle_measured_s = 0;
};

// --idle-seconds S (0 disables), the same for train and infer.
inline void AddIdleSeconds(CLI::App* cmd, double* out) {
  AddNumber(cmd, "--idle-seconds", out, Range::Between(0, 3600), "S",
            "idle baseline measured before the run (default 2; 0 disables)");
}

// libgomp reads OMP_WAIT_POLICY once, when libtorch's plugin loads it; by
// default its idle threads spin. On a shared or oversubscribed machine a
// spinning thread waits for a descheduled peer: we measured LeNet training at
// 2 threads 18x slower with spinning than with passive waiting under load, and
// the spinning is CPU time the meter then charges to the run. So wattlab
// waits passively unless the user chose a policy (OMP_WAIT_POLICY=active).
// Must run before LoadWorkloadEngine.
inline void PreferPassiveOpenMpWait(Env* env) { (void)env->SetEnvVar("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/false); }

inline Result<MeteredSession> OpenMeteredSession(const MeterFlags& flags) {
  MeteredSession s;
  WATTLAB_ASSIGN_OR_RETURN(s.env, OpenEnv(flags));
  PreferPassiveOpenMpWait(s.env.get());
  WATTLAB_ASSIGN_OR_RETURN(MeterOptions options, flags.ResolveOptions(s.env.get()));
  // The engine first: loading libtorch is start-up work, not idle time.
  WATTLAB_ASSIGN_OR_RETURN(s.engine, LoadWorkloadEngine(s.env.get()));
  WATTLAB_ASSIGN_OR_RETURN(s.meter, Meter::Create(s.env.get(), options));
  WATTLAB_RETURN_IF_ERROR(s.meter->Start());
  s.meter->SetAttributionPid(s.env->Pid());
  return s;
}

// Measures the idle baseline (0 s: none) and keeps it for the report.
inline Status MeasureIdleBaseline(MeteredSession& s, double idle_seconds) {
  if (idle_seconds <= 0) return Status::Ok();
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(idle_seconds));
  auto idle = s.meter->MeasureIdle(ns);
  if (!idle.ok()) return idle.status().WithContext("measuring the idle baseline");
  s.idle_power_w = *idle;
  s.idle_measured_s = idle_seconds;
  return Status::Ok();
}

// Binds a meter window to every phase and epoch the engine announces.
class MeteredObserver : public WorkloadObserver {
 public:
  struct Window {
    std::string name;  // "train", "eval", "infer", "epoch 3"
    int64_t samples = 0;
    std::optional<double> mean_loss;  // epochs only
    WindowResult result;
  };

  explicit MeteredObserver(Meter* meter) : meter_(meter) {}

  void OnPhaseBegin(const std::string& phase) override { open_[phase] = meter_->BeginWindow(phase); }
  void OnPhaseEnd(const std::string& phase, int64_t samples) override { Close(phase, samples, std::nullopt, &phases_); }
  void OnEpochBegin(int64_t epoch) override {
    std::string name = "epoch " + std::to_string(epoch);
    open_[name] = meter_->BeginWindow(name);
  }
  void OnEpochEnd(int64_t epoch, int64_t samples, double mean_loss) override {
    Close("epoch " + std::to_string(epoch), samples, mean_loss, &epochs_);
  }
  // The meter keeps its first error; stop the workload rather than measure nothing.
  bool ShouldStop() override { return !error_.ok(); }

  const std::vector<Window>& phases() const { return phases_; }
  const std::vector<Window>& epochs() const { return epochs_; }
  const Status& error() const { return error_; }
  const Window* Phase(const std::string& name) const {
    for (const auto& w : phases_)
      if (w.name == name) return &w;
    return nullptr;
  }

 private:
  void Close(const std::string& name, int64_t samples, std::optional<double> loss, std::vector<Window>* out) {
    auto it = open_.find(name);
    if (it == open_.end()) return;
    auto r = meter_->EndWindow(it->second);
    open_.erase(it);
    if (!r.ok()) {
      if (error_.ok()) error_ = r.status().WithContext("meter window '" + name + "'");
      return;
    }
    out->push_back(Window{name, samples, loss, std::move(*r)});
  }

  Meter* meter_;
  std::map<std::string, Meter::WindowId> open_;
  std::vector<Window> phases_, epochs_;
  Status error_;
};

// Energy per sample: above idle when a baseline exists (MISSION.md), else the
// whole energy, and the JSON says which.
inline double EnergyPerSample(const WindowResult& w, int64_t samples, std::string* basis) {
  if (samples <= 0) return 0;
  if (w.energy_above_idle_j) {
    *basis = "energy_above_idle_j";
    return *w.energy_above_idle_j / static_cast<double>(samples);
  }
  *basis = "energy_j";
  return w.energy_j / static_cast<double>(samples);
}

inline nlohmann::json WindowJson(const MeteredObserver::Window& w) {
  nlohmann::json j;
  const WindowResult& r = w.result;
  j["name"] = w.name;
  j["samples"] = w.samples;
  j["duration_s"] = r.duration_s;
  j["samples_per_s"] = r.duration_s > 0 ? static_cast<double>(w.samples) / r.duration_s : 0.0;
  j["energy_j"] = r.energy_j;
  j["energy_above_idle_j"] = r.energy_above_idle_j ? nlohmann::json(*r.energy_above_idle_j) : nlohmann::json();
  j["mean_power_w"] = r.mean_power_w;
  std::string basis;
  j["energy_per_sample_j"] = EnergyPerSample(r, w.samples, &basis);
  j["energy_per_sample_basis"] = basis;
  j["cpu_util"] = r.cpu_util;
  if (r.attributed_energy_j) j["attributed_energy_j"] = *r.attributed_energy_j;
  j["sources"] = r.sources;
  j["estimated"] = r.estimated;
  if (w.mean_loss) j["mean_loss"] = *w.mean_loss;
  return j;
}

inline nlohmann::json ModelJson(const ModelFacts& f) {
  return nlohmann::json{{"name", f.name},     {"input", f.input.ToString()},
                        {"classes", f.classes}, {"params", f.params},
                        {"macs", f.macs},     {"macs_by_kind", f.macs_by_kind},
                        {"macs_per_param", f.macs_per_param}, {"counter", f.counter}};
}

inline nlohmann::json MeterJson(const MeteredSession& s) {
  nlohmann::json j;
  j["sources"] = s.meter->sources();
  j["estimated"] = s.meter->estimated();
  j["interval_s"] = std::chrono::duration<double>(s.meter->interval()).count();
  j["idle_power_w"] = s.idle_power_w ? nlohmann::json(*s.idle_power_w) : nlohmann::json();
  j["idle_measured_s"] = s.idle_measured_s;
  return j;
}

inline nlohmann::json VersionsJson(WorkloadEngine* engine) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : engine->Versions()) j[k] = v;
  j["wattlab"] = WattlabVersion();
  return j;
}

// One console line for a window: "train   12.3 s  456.7 J (above idle 123.4 J)  0.0123 J/sample".
inline std::string WindowLine(const MeteredObserver::Window& w) {
  std::string basis;
  double per = EnergyPerSample(w.result, w.samples, &basis);
  std::string line = w.name + ": " + FormatFixed(w.result.duration_s, 3) + " s, " + std::to_string(w.samples) +
                     " samples (" + FormatFixed(w.result.duration_s > 0 ? w.samples / w.result.duration_s : 0, 1) +
                     "/s), " + FormatFixed(w.result.energy_j, 2) + " J";
  if (w.result.energy_above_idle_j) line += " (" + FormatFixed(*w.result.energy_above_idle_j, 2) + " J above idle)";
  line += ", " + FormatFixed(per * 1e3, 4) + " mJ/sample" + (basis == "energy_j" ? " (no idle baseline)" : "");
  if (w.result.estimated) line += " [estimated]";
  return line;
}

}  // namespace wattlab::cli
