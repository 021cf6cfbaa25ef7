// Recording a CPU's power-versus-load profile (`wattlab idle --record-profile
// FILE`): on a machine with a CPU energy counter, a load ladder holds the
// machine at 0, 0.1, ..., 1 of its logical CPUs, measures the CPU package
// power from the counter and the achieved utilisation from /proc/stat at each
// step, and writes the profile that `--estimate-profile FILE` reads
// (meter/estimate.h) so counter-less VMs of the same CPU model reuse it.
//
// Three seams, so that tests drive each part alone:
//   - RunLoadLadder: the ladder itself, pure over a LoadStepMeasurer (tests
//     give it a fake whose power follows a known curve);
//   - MeterLoadStepMeasurer: the real step measurer over a started Meter and
//     a LoadGenerator (tests give it fake sources and a generator that does
//     nothing);
//   - NewSpinningLoadGenerator: the real load, threads that spin.
//
// The load method (docs/measurement.md, "Recording a profile"): for a target
// t on N logical CPUs, floor(t x N) threads spin without pause and, when
// t x N is not whole, one more thread spins for the fraction of each 50 ms
// period and sleeps the rest. Threads are not pinned: the kernel spreads
// them as it spreads a real workload's threads.
//
// Thread-safety: RunLoadLadder and the measurer run on one thread; a
// LoadGenerator's Start/Stop are called from that thread and own their
// worker threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/env.h"
#include "meter/busy.h"
#include "meter/estimate.h"
#include "wattlab/meter.h"

namespace wattlab {

// The step sizes --profile-step accepts, and the default.
inline constexpr double kProfileStepMin = 0.01;
inline constexpr double kProfileStepDefault = 0.1;
// A step whose achieved utilisation is further than this from its target is
// flagged: the one busy threshold of meter/busy.h (at target 0 the step is an
// idle baseline and JudgeIdle decides).
inline constexpr double kProfileStepTolerance = kBusyIdleCpuUtilisation;

// What one step measured.
struct LoadStepMeasurement {
  std::optional<double> achieved_load;  // /proc/stat utilisation over the step; nullopt: no tick passed
  double cpu_power_w = 0;               // mean CPU power from the counter over the step
};

// Holds the machine at a target load for one step and measures it.
class LoadStepMeasurer {
 public:
  virtual ~LoadStepMeasurer() = default;
  // REQUIRES: 0 <= target_load <= 1 (a fraction of all logical CPUs).
  virtual Result<LoadStepMeasurement> MeasureStep(double target_load) = 0;
};

struct LoadLadderStep {
  double target_load = 0;
  double achieved_load = 0;
  double cpu_power_w = 0;
  bool off_target = false;  // achieved further than kProfileStepTolerance from target
  std::string flag;         // why, "" when on target
};

struct LoadLadderResult {
  std::vector<LoadLadderStep> steps;  // as measured, in ladder order
  // The profile to write (points at the achieved loads), or nullopt with the
  // reason it was refused.
  std::optional<CpuLoadProfile> profile;
  std::string refusal;
};

// 0, step, 2 step, ..., 1: 1 is always the last target, even when step does
// not divide it, and a multiple of step closer to 1 than step / 2 is left
// out (0.3: 0, 0.3, 0.6, 1). REQUIRES: kProfileStepMin <= step <= 1.
std::vector<double> LadderTargets(double step);

// Runs the ladder: one MeasureStep per target, on_step called after each.
// The profile is refused (result.refusal says why) when a step's
// utilisation is unknown (the ladder stops there) or when the achieved
// loads do not rise strictly from step to step; off-target steps are
// flagged but kept. An error of the measurer is returned as is.
// InvalidArgument for a step outside [kProfileStepMin, 1], an empty model or
// threads < 1.
Result<LoadLadderResult> RunLoadLadder(LoadStepMeasurer* measurer, double step, const std::string& cpu_model,
                                       int threads,
                                       const std::function<void(const LoadLadderStep&)>& on_step = {});

// OK when the in_total CPU domains are all measured by a counter (not the
// estimate) and there is at least one; otherwise NotSupported saying that a
// profile recorded here would only repeat the estimate, and what to do.
Status CheckCpuEnergyCounter(const std::vector<DomainInfo>& domains);

// Writes the profile to path with Env's atomic replace (a reader never sees
// half a file); the text is CpuLoadProfileToJson's.
Status SaveCpuLoadProfile(Env* env, const std::string& path, const CpuLoadProfile& profile);

// ---- The real measurer

// Keeps a share of the machine's logical CPUs busy until Stop.
class LoadGenerator {
 public:
  virtual ~LoadGenerator() = default;
  // Starts the load for target (0..1 of all logical CPUs); replaces any
  // load running.
  virtual Status Start(double target_load) = 0;
  virtual void Stop() = 0;  // joins every worker; idempotent
};

// How a target load is spread over cpus logical CPUs: full_threads spin all
// the time, and when partial_fraction > 0 one more thread spins for that
// fraction of each period.
struct SpinPlan {
  int full_threads = 0;
  double partial_fraction = 0;
};
SpinPlan PlanSpin(int cpus, double target_load);

// Threads that spin (std::thread; the time from env). REQUIRES: cpus >= 1.
std::unique_ptr<LoadGenerator> NewSpinningLoadGenerator(Env* env, int cpus);

struct MeterStepOptions {
  std::chrono::nanoseconds step_duration = std::chrono::seconds(5);  // measured part of a step
  // Time given the load to settle before the measured part (threads
  // starting, clocks ramping); not measured.
  std::chrono::nanoseconds settle = std::chrono::milliseconds(500);
};

// Measures each step with a started meter: generator at the target, settle,
// then a window of step_duration whose in_total CPU domains' energy gives
// the power, with /proc/stat read through env on either side of it.
// REQUIRES: meter started; CheckCpuEnergyCounter(meter->domains()) OK; env,
// meter and generator outlive it.
class MeterLoadStepMeasurer : public LoadStepMeasurer {
 public:
  MeterLoadStepMeasurer(Env* env, Meter* meter, LoadGenerator* generator, MeterStepOptions options)
      : env_(env), meter_(meter), generator_(generator), options_(options) {}
  Result<LoadStepMeasurement> MeasureStep(double target_load) override;

 private:
  Env* env_;
  Meter* meter_;
  LoadGenerator* generator_;
  MeterStepOptions options_;
};

}  // namespace wattlab
