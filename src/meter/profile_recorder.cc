#include "meter/profile_recorder.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

#include "core/strings.h"
#include "meter/procfs.h"

namespace wattlab {

namespace {

// The duty cycle of the one partly busy thread: long against the 10 ms
// /proc/stat tick (so the ticks see the fraction), short against a step.
constexpr std::chrono::milliseconds kDutyPeriod{50};

std::string Load(double u) { return FormatFixed(u, 2); }

}  // namespace

std::vector<double> LadderTargets(double step) {
  std::vector<double> t;
  for (int i = 0;; ++i) {
    // Rounded to 1e-9 so that 3 x 0.1 is the 0.3 a user reads.
    const double v = std::round(i * step * 1e9) / 1e9;
    // A target closer to 1 than half a step would be a step whose load
    // noise alone can undo the rise to 1: 1 takes its place.
    if (1 - v < step / 2 - 1e-9) break;
    t.push_back(v);
  }
  t.push_back(1.0);
  return t;
}

Result<LoadLadderResult> RunLoadLadder(LoadStepMeasurer* measurer, double step, const std::string& cpu_model,
                                       int threads,
                                       const std::function<void(const LoadLadderStep&)>& on_step) {
  if (!(step >= kProfileStepMin && step <= 1))
    return Status::InvalidArgument("the profile step must be between " + FormatDouble(kProfileStepMin) +
                                   " and 1 (got " + FormatDouble(step) + ")");
  if (TrimCopy(cpu_model).empty())
    return Status::InvalidArgument("the CPU model is unknown (/proc/cpuinfo names none): a profile needs it");
  if (threads < 1) return Status::InvalidArgument("a profile needs the machine's logical CPU count (>= 1)");

  LoadLadderResult out;
  for (double target : LadderTargets(step)) {
    auto m = measurer->MeasureStep(target);
    if (!m.ok()) return m.status().WithContext("load step " + Load(target));
    if (!m->achieved_load) {
      out.refusal = "no /proc/stat tick passed during the step at load " + Load(target) +
                    ": its utilisation is unknown; give each step longer (--profile-seconds)";
      return out;
    }
    LoadLadderStep s;
    s.target_load = target;
    s.achieved_load = *m->achieved_load;
    s.cpu_power_w = m->cpu_power_w;
    if (target == 0) {
      // The first step is an idle baseline: the one definition of busy.
      IdleVerdict v = JudgeIdle(s.achieved_load, s.cpu_power_w, std::nullopt);
      s.off_target = v.busy;
      if (v.busy) s.flag = "busy: " + v.reason;
    } else if (std::abs(s.achieved_load - target) > kProfileStepTolerance) {
      s.off_target = true;
      s.flag = "off target: achieved " + Load(s.achieved_load) + " for " + Load(target) +
               (s.achieved_load > target ? " (something else kept the CPUs busy)"
                                         : " (the spinning threads did not get the CPUs)") +
               ", more than " + Load(kProfileStepTolerance) + " away";
    }
    out.steps.push_back(s);
    if (on_step) on_step(s);
  }

  for (size_t i = 1; i < out.steps.size(); ++i) {
    const auto& a = out.steps[i - 1];
    const auto& b = out.steps[i];
    if (!(b.achieved_load > a.achieved_load)) {
      out.refusal = "the achieved loads do not rise: " + FormatFixed(b.achieved_load, 4) + " at target " +
                    Load(b.target_load) + " after " + FormatFixed(a.achieved_load, 4) + " at target " +
                    Load(a.target_load) +
                    "; a profile needs loads that rise strictly (record again on a quiet machine)";
      return out;
    }
  }
  CpuLoadProfile p;
  p.cpu_model = cpu_model;
  p.threads = threads;
  for (const auto& s : out.steps) p.points.push_back({s.achieved_load, s.cpu_power_w});
  // What the reading side would say about it (never expected to fail after
  // the checks above; it keeps the two sides honest).
  auto reread = ParseCpuLoadProfile(CpuLoadProfileToJson(p));
  if (!reread.ok()) {
    out.refusal = reread.status().message();
    return out;
  }
  out.profile = std::move(p);
  return out;
}

Status CheckCpuEnergyCounter(const std::vector<DomainInfo>& domains) {
  int measured = 0;
  for (const auto& d : domains) {
    if (!d.in_total || d.component != Component::kCpu) continue;
    if (d.estimated) {
      measured = 0;
      break;
    }
    ++measured;
  }
  if (measured > 0) return Status::Ok();
  return Status::NotSupported(
      "recording a profile needs a CPU energy counter: this machine has none, a recorded profile would only "
      "repeat the estimate; record on a machine with RAPL of the same CPU model, then pass "
      "--estimate-profile "
      "FILE here");
}

Status SaveCpuLoadProfile(Env* env, const std::string& path, const CpuLoadProfile& profile) {
  Status st = env->WriteFileAtomically(path, CpuLoadProfileToJson(profile));
  if (!st.ok()) return st.WithContext("cannot write the profile " + path);
  return Status::Ok();
}

// ---- The load

SpinPlan PlanSpin(int cpus, double target_load) {
  SpinPlan p;
  const double u = std::clamp(std::isnan(target_load) ? 0.0 : target_load, 0.0, 1.0);
  const double busy = u * std::max(cpus, 1);
  p.full_threads = static_cast<int>(std::floor(busy + 1e-9));
  p.partial_fraction = busy - p.full_threads;
  if (p.partial_fraction < 1e-9) p.partial_fraction = 0;
  return p;
}

namespace {

class SpinningLoadGenerator : public LoadGenerator {
 public:
  SpinningLoadGenerator(Env* env, int cpus) : env_(env), cpus_(std::max(cpus, 1)) {}
  ~SpinningLoadGenerator() override { Stop(); }

  Status Start(double target_load) override {
    Stop();
    stop_ = false;
    SpinPlan plan = PlanSpin(cpus_, target_load);
    for (int i = 0; i < plan.full_threads; ++i) workers_.emplace_back([this] { Spin(1.0); });
    if (plan.partial_fraction > 0) {
      const double f = plan.partial_fraction;
      workers_.emplace_back([this, f] { Spin(f); });
    }
    return Status::Ok();
  }
  void Stop() override {
    stop_ = true;
    for (auto& t : workers_)
      if (t.joinable()) t.join();
    workers_.clear();
  }

 private:
  // Busy for `fraction` of each kDutyPeriod (all of it at 1), asleep for
  // the rest; checks the stop flag often.
  void Spin(double fraction) {
    const auto period = std::chrono::duration_cast<std::chrono::nanoseconds>(kDutyPeriod);
    const auto busy = std::chrono::nanoseconds(static_cast<int64_t>(fraction * period.count()));
    volatile double x = 1;
    while (!stop_.load(std::memory_order_relaxed)) {
      const auto start = env_->NowMonotonic();
      while (!stop_.load(std::memory_order_relaxed) && env_->NowMonotonic() - start < busy)
        for (int i = 0; i < 1000; ++i) x = x * 1.0000001 + 1e-9;
      if (fraction < 1 && !stop_.load(std::memory_order_relaxed)) env_->SleepFor(period - busy);
    }
  }

  Env* env_;
  const int cpus_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> workers_;
};

}  // namespace

std::unique_ptr<LoadGenerator> NewSpinningLoadGenerator(Env* env, int cpus) {
  return std::make_unique<SpinningLoadGenerator>(env, cpus);
}

// ---- The real measurer

Result<LoadStepMeasurement> MeterLoadStepMeasurer::MeasureStep(double target_load) {
  WATTLAB_RETURN_IF_ERROR(generator_->Start(target_load));
  struct StopAtExit {
    LoadGenerator* g;
    ~StopAtExit() { g->Stop(); }
  } stop_at_exit{generator_};
  if (options_.settle.count() > 0) env_->SleepFor(options_.settle);
  auto before = ReadProcStat(env_);
  if (!before.ok()) return before.status();
  const Meter::WindowId id = meter_->BeginWindow("profile-step");
  env_->SleepFor(options_.step_duration);
  auto window = meter_->EndWindow(id);
  auto after = ReadProcStat(env_);
  if (!window.ok()) return window.status();
  if (!after.ok()) return after.status();
  LoadStepMeasurement m;
  m.achieved_load = UtilisationBetween(*before, *after);
  double cpu_j = 0;
  for (const auto& d : window->domains)
    if (d.in_total && d.component == Component::kCpu && !d.estimated) cpu_j += d.energy_j;
  m.cpu_power_w = window->duration_s > 0 ? cpu_j / window->duration_s : 0;
  return m;
}

}  // namespace wattlab
