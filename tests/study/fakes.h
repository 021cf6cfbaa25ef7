// Test doubles for the study runner: a clock-only Env, a Meter with a fixed
// power model, and a WorkloadEngine that announces phases and steps without
// libtorch. Time advances only through Env::SleepFor, so a fake clock makes
// the runner's tests instant and exact, and a real Env (the kill helper)
// makes them take real time.
#pragma once

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/env.h"
#include "wattlab/meter.h"
#include "wattlab/workload.h"

namespace wattlab::testing {

// Monotonic clock starting at 1000 s; SleepFor advances it. Everything else
// is unused by the runner and fails loudly.
class FakeClockEnv : public Env {
 public:
  std::string Resolve(const std::string& p) const override { return p; }
  Result<std::string> ReadFile(const std::string& p) override { return Status::NotFound(p); }
  Result<std::vector<std::string>> ListDir(const std::string& p) override { return Status::NotFound(p); }
  bool Exists(const std::string&) override { return false; }
  Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& p) override {
    return Status::NotFound(p);
  }
  Result<std::unique_ptr<ReadableFile>> OpenPerfEvent(uint32_t, uint64_t, int) override {
    return Status::NotSupported("fake");
  }
  Result<void*> DlOpen(const std::string& l) override { return Status::NotFound(l); }
  void* DlSym(void*, const char*) override { return nullptr; }
  std::chrono::nanoseconds NowMonotonic() override { return now_; }
  void SleepFor(std::chrono::nanoseconds d) override { now_ += d; }
  double NowWallSeconds() override { return 1.7e9 + std::chrono::duration<double>(now_).count(); }
  std::optional<std::string> GetEnvVar(const std::string&) override { return std::nullopt; }
  Status SetEnvVar(const std::string& n, const std::string&, bool) override {
    return Status::NotSupported("fake: " + n);
  }
  Status WriteFileInPlace(const std::string& p, const std::string&) override {
    return Status::NotSupported("fake: " + p);
  }
  Status WriteFileAtomically(const std::string& p, const std::string&) override {
    return Status::NotSupported("fake: " + p);
  }
  Status AppendToFile(const std::string& p, const std::string&) override {
    return Status::NotSupported("fake: " + p);
  }
  Result<std::unique_ptr<RandomRWFile>> OpenRandomRW(const std::string& p, bool, bool) override {
    return Status::NotSupported("fake: " + p);
  }
  Status Rename(const std::string& f, const std::string&) override {
    return Status::NotSupported("fake: " + f);
  }
  Status RemoveFile(const std::string& p) override { return Status::NotSupported("fake: " + p); }
  Status RemoveTree(const std::string& p) override { return Status::NotSupported("fake: " + p); }
  Status CreateDirs(const std::string& p) override { return Status::NotSupported("fake: " + p); }
  Result<std::string> MakeTempDir(const std::string& p, const std::string&) override {
    return Status::NotSupported("fake: " + p);
  }
  Result<FileInfo> Stat(const std::string&) override { return FileInfo{}; }
  Status CheckWritable(const std::string& p) override { return Status::NotSupported("fake: " + p); }
  Result<LockAttempt> TryLockFile(const std::string& p, const std::string&) override {
    return Status::NotSupported("fake: " + p);
  }
  int Pid() override { return 4242; }
  std::string HostName() override { return "fakehost"; }
  bool IsTerminal(int) override { return false; }
  int64_t ClockTicksPerSecond() override { return 100; }
  int OnlineCpuCount() override { return 2; }
  Status WatchSignals(const std::vector<Signal>&, std::atomic<int>*, bool) override { return Status::Ok(); }

 private:
  std::chrono::nanoseconds now_ = std::chrono::seconds(1000);
};

// Whole machine at busy_power_w (idle_power_w when measuring idle), one
// counter domain from rapl-powercap plus an out-of-total core domain.
class FakeMeter : public Meter {
 public:
  explicit FakeMeter(Env* env, double busy_power_w = 30, double idle_power_w = 10)
      : env_(env), busy_w_(busy_power_w), idle_w_(idle_power_w) {
    DomainInfo pkg;
    pkg.name = "package-0";
    pkg.source = kSourceRaplPowercap;
    DomainInfo core = pkg;
    core.name = "core-0";
    core.in_total = false;
    domains_ = {pkg, core};
  }
  const std::vector<SourceAttempt>& attempts() const override { return attempts_; }
  std::vector<DomainInfo> domains() const override { return domains_; }
  std::vector<std::string> sources() const override { return {kSourceRaplPowercap}; }
  bool estimated() const override { return false; }
  std::chrono::nanoseconds interval() const override { return std::chrono::milliseconds(100); }
  Status Start() override {
    std::lock_guard<std::mutex> l(mu_);
    started_ = true;
    start_s_ = Now();
    ++starts;
    return Status::Ok();
  }
  Status Stop() override {
    std::lock_guard<std::mutex> l(mu_);
    started_ = false;
    return Status::Ok();
  }
  WindowId BeginWindow(const std::string& name) override {
    std::lock_guard<std::mutex> l(mu_);
    WindowId id = next_++;
    open_[id] = {name, Now()};
    return id;
  }
  Result<WindowResult> EndWindow(WindowId id) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = open_.find(id);
    if (it == open_.end()) return Status::InvalidArgument("no such window");
    WindowResult w;
    w.name = it->second.first;
    w.start_s = it->second.second - start_s_;
    w.duration_s = Now() - it->second.second;
    const double busy_w = busy_power ? busy_power() : busy_w_;
    w.energy_j = busy_w * w.duration_s;
    w.mean_power_w = busy_w;
    if (idle_) {
      w.idle_power_w = *idle_;
      w.idle_busy = idle_busy_;
      w.energy_above_idle_j = w.energy_j - *idle_ * w.duration_s;
    }
    DomainEnergy d;
    d.name = "package-0";
    d.source = kSourceRaplPowercap;
    d.energy_j = w.energy_j;
    d.mean_power_w = busy_w;
    w.domains = {d};
    w.sources = {kSourceRaplPowercap};
    w.cpu_util = 0.5;
    w.samples = (int64_t)(w.duration_s * 10);
    open_.erase(it);
    return w;
  }
  void SetIdlePower(double w) override {
    idle_ = w;
    idle_busy_ = false;
  }
  void SetIdleBusy(bool busy) override { idle_busy_ = busy; }
  std::optional<double> idle_power_w() const override { return idle_; }
  void SetIdleDomainPowers(const std::vector<std::pair<std::string, double>>& v) override {
    idle_domains_ = v;
  }
  std::vector<std::pair<std::string, double>> idle_domain_powers_w() const override { return idle_domains_; }
  Result<IdleMeasurement> MeasureIdle(std::chrono::nanoseconds d) override {
    if (!started_) return Status::FailedPrecondition("meter not started");
    env_->SleepFor(d);
    idle_ = idle_w_;
    idle_busy_ = busy_idle;
    ++idle_measurements;
    IdleMeasurement m;
    m.power_w = idle_w_;
    m.cpu_util = busy_idle ? 0.5 : 0.01;
    m.busy = busy_idle;
    if (busy_idle) m.busy_reason = "the CPU was 50% busy during it (more than 10%)";
    return m;
  }
  bool busy_idle = false;  // MeasureIdle reports a busy baseline
  // When set, the busy power of each window (read when it ends): a device
  // whose power follows a cap (capped_device.h).
  std::function<double()> busy_power;
  void SetAttributionPid(int) override {}
  std::vector<TimelineSample> Timeline() const override {
    std::vector<TimelineSample> out;
    double now = const_cast<FakeMeter*>(this)->Now();
    for (double t = 0; t <= now - start_s_; t += 0.1) out.push_back({t, {busy_w_, busy_w_ / 2}});
    return out;
  }
  size_t open_windows() const { return open_.size(); }

  int starts = 0;
  int idle_measurements = 0;

 private:
  double Now() { return std::chrono::duration<double>(env_->NowMonotonic()).count(); }
  Env* env_;
  double busy_w_, idle_w_;
  std::mutex mu_;
  bool started_ = false;
  double start_s_ = 0;
  std::optional<double> idle_;
  std::vector<std::pair<std::string, double>> idle_domains_;
  bool idle_busy_ = false;
  std::vector<SourceAttempt> attempts_;
  std::vector<DomainInfo> domains_;
  WindowId next_ = 1;
  std::map<WindowId, std::pair<std::string, double>> open_;
};

// A workload engine whose steps cost step_s_per_sample x batch of clock time.
// Knows "lenet", "mlp:*", "resnet:*", "slow"; "broken" fails in Train.
class FakeEngine : public WorkloadEngine {
 public:
  explicit FakeEngine(Env* env, double s_per_sample = 0.001) : env_(env), s_per_sample_(s_per_sample) {}
  std::vector<std::string> ModelNames() const override { return {"lenet", "mlp:depth=2,width=64", "broken"}; }
  Result<ModelFacts> Describe(const std::string& model, std::optional<Shape>,
                              std::optional<int64_t>) override {
    if (model != "lenet" && model != "broken" && model.rfind("mlp:", 0) != 0 &&
        model.rfind("resnet:", 0) != 0)
      return Status::InvalidArgument("unknown model '" + model + "'; valid: lenet, mlp:depth=D,width=W");
    ModelFacts f;
    f.name = model;
    // Distinct counts per family spec (width and depth), so four fake models
    // give `wattlab predict` four points.
    auto num = [&](const char* key, int64_t dflt) -> int64_t {
      size_t at = model.find(key);
      return at == std::string::npos ? dflt : std::atoll(model.c_str() + at + std::strlen(key));
    };
    f.params = model == "lenet" ? 62006 : 1000 + num("depth=", 2) * num("width=", 64) * 10;
    f.macs = model == "lenet" ? 652000 : f.params * (2 + num("depth=", 2));
    f.macs_per_param = (double)f.macs / (double)f.params;
    f.macs_by_kind = {{"conv", f.macs / 2}, {"linear", f.macs / 2}};
    f.counter = "analytic";
    return f;
  }
  // "*.pt" files are TorchScript models it knows (without opening them).
  Result<ModelFacts> DescribeTorchScript(const std::string& path, const Shape& input) override {
    if (path.size() < 3 || path.compare(path.size() - 3, 3, ".pt") != 0)
      return Status::NotFound("TorchScript file '" + path + "' does not exist or cannot be read");
    ModelFacts f;
    f.name = path;
    f.input = input;
    f.params = 5000;
    f.macs = 400000;
    f.macs_per_param = 80;
    f.counter = "traced";
    return f;
  }
  Result<ModelFacts> Facts(const std::string& model, const std::string& torchscript,
                           const std::optional<Shape>& input) {
    if (torchscript.empty()) return Describe(model, std::nullopt, std::nullopt);
    if (!input) return Status::InvalidArgument("--torchscript needs --input");
    return DescribeTorchScript(torchscript, *input);
  }
  Result<TrainResult> Train(const TrainConfig& c, WorkloadObserver* obs) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      train_calls.push_back(c);
    }
    if (c.model == "broken") return Status::Internal("the fake engine was told to fail");
    WATTLAB_ASSIGN_OR_RETURN(auto facts, Facts(c.model, c.torchscript, c.input));
    env_->SleepFor(std::chrono::milliseconds(50));  // setup
    for (int64_t i = 0; i < c.warmup_steps; ++i) Step(c.batch_size);
    TrainResult r;
    r.model = facts;
    obs->OnPhaseBegin("train");
    int64_t steps = c.steps;
    int64_t epochs = c.epochs > 0 ? c.epochs : 1;
    int64_t per_epoch = c.steps > 0 ? c.steps : (c.train_samples + c.batch_size - 1) / c.batch_size;
    double t0 = Now();
    bool ended = false;  // the observer ended the phase (ShouldEndTraining)
    for (int64_t e = 1; e <= epochs && !ended; ++e) {
      if (c.epochs > 0) obs->OnEpochBegin(e);
      double sum = 0;
      for (int64_t s = 0; s < per_epoch; ++s) {
        if (obs->ShouldStop()) return Status::Interrupted("stopped by the observer");
        int64_t b = c.steps > 0 ? c.batch_size : std::min(c.batch_size, c.train_samples - s * c.batch_size);
        Step(b);
        double loss = 2.3 / (1.0 + 0.01 * (double)r.steps);
        r.step_loss.push_back(loss);
        sum += loss;
        ++r.steps;
        r.samples += b;
        obs->OnStepEnd(r.steps, b, loss);
        if (obs->ShouldEndTraining()) {
          ended = true;
          break;
        }
      }
      if (c.epochs > 0) {
        r.epoch_loss.push_back(sum / (double)per_epoch);
        obs->OnEpochEnd(e, r.samples, sum / (double)per_epoch);
      }
    }
    (void)steps;
    r.train_duration_s = Now() - t0;
    obs->OnPhaseEnd("train", r.samples);
    if (c.evaluate) {
      obs->OnPhaseBegin("eval");
      int64_t n = c.eval_samples > 0 ? c.eval_samples : 1000;
      const double t_eval = Now();
      int64_t done = 0;
      for (int64_t batch = 1; done < n; ++batch) {
        if (c.eval_min_duration_s > 0 && batch > c.eval_min_batches &&
            Now() - t_eval >= c.eval_min_duration_s)
          break;  // as the engine: at least eval_min_batches, then until eval_min_duration_s
        const int64_t b = std::min(c.batch_size, n - done);
        env_->SleepFor(std::chrono::nanoseconds((int64_t)(s_per_sample_ / 3 * 1e9 * (double)b)));
        obs->OnEvalBatchEnd(batch, b);
        done += b;
      }
      n = done;
      obs->OnPhaseEnd("eval", n);
      r.eval_samples = n;
      r.accuracy = 0.8;
    }
    return r;
  }
  Result<InferResult> Infer(const InferConfig& c, WorkloadObserver* obs) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      infer_calls.push_back(c);
    }
    WATTLAB_ASSIGN_OR_RETURN(auto facts, Facts(c.model, c.torchscript, c.input));
    env_->SleepFor(std::chrono::milliseconds(20));
    InferResult r;
    r.model = facts;
    obs->OnPhaseBegin("infer");
    for (int64_t done = 0; done < c.samples; done += c.batch_size) {
      if (obs->ShouldStop()) return Status::Interrupted("stopped by the observer");
      int64_t b = std::min(c.batch_size, c.samples - done);
      env_->SleepFor(std::chrono::nanoseconds((int64_t)(s_per_sample_ / 3 * 1e9 * (double)b)));
      r.samples += b;
      ++r.batches;
    }
    obs->OnPhaseEnd("infer", r.samples);
    return r;
  }
  std::vector<std::pair<std::string, std::string>> Versions() const override {
    return {{"libtorch", "fake"}};
  }

  // One conv point, timed packed (as the engine's inference runs).
  Result<CalibrationResult> Calibrate(const CalibrationConfig& c) override {
    calibrate_calls.push_back(c);
    CalibrationResult r;
    r.threads = c.threads;
    r.precision = c.precision;
    r.shapes = c.shapes;
    CalibrationPoint p;
    p.op.kind = "conv";
    p.op.op = "conv2d";
    p.forward_s = 1e-3;
    p.train_s = 3e-3;
    p.forward_packed = true;
    p.forward_plain_s = 2e-3;
    r.points = {p};
    return r;
  }

  std::vector<TrainConfig> train_calls;
  std::vector<InferConfig> infer_calls;
  std::vector<CalibrationConfig> calibrate_calls;
  // When set, every training step takes this factor longer (a power cap
  // below the device's demand: capped_device.h).
  std::function<double()> slowdown;

 private:
  void Step(int64_t batch) {
    const double f = slowdown ? slowdown() : 1.0;
    env_->SleepFor(std::chrono::nanoseconds((int64_t)(s_per_sample_ * f * 1e9 * (double)batch)));
  }
  double Now() { return std::chrono::duration<double>(env_->NowMonotonic()).count(); }
  Env* env_;
  double s_per_sample_;
  std::mutex mu_;
};

}  // namespace wattlab::testing
