// Test-only workload plugin: the fake engine of fakes.h behind the real
// plugin entry point, so the real `wattlab study` runs a tiny study without
// libtorch (WATTLAB_TORCH_PLUGIN=<this .so>). Steps take real time:
// WATTLAB_FAKE_S_PER_SAMPLE seconds per training sample (default 0.0005),
// spent busy on one core as a real step is: a sleeping fake made every
// window idle, so its energy above the idle baseline was noise around zero
// and a loaded machine could leave a study with no window above idle.
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fakes.h"

namespace {

class RealClockEnv : public wattlab::testing::FakeClockEnv {
 public:
  std::chrono::nanoseconds NowMonotonic() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now().time_since_epoch());
  }
  void SleepFor(std::chrono::nanoseconds d) override {
    const auto until = std::chrono::steady_clock::now() + d;
    volatile uint64_t work = 0;
    while (std::chrono::steady_clock::now() < until)
      for (int i = 0; i < 1000; ++i) work = work + static_cast<uint64_t>(i);
  }
};

// A child `wattlab study` started for one swept OpenMP wait policy
// (WATTLAB_STUDY_OMP_GROUP) must have been given that policy in
// OMP_WAIT_POLICY when the plugin loaded: "default" means unset. A mismatch
// fails every run, so the end-to-end test sees it.
class PolicyCheckingEngine : public wattlab::testing::FakeEngine {
 public:
  using FakeEngine::FakeEngine;
  wattlab::Result<wattlab::TrainResult> Train(const wattlab::TrainConfig& c,
                                              wattlab::WorkloadObserver* o) override {
    if (!mismatch_.empty()) return wattlab::Status::Internal(mismatch_);
    return FakeEngine::Train(c, o);
  }
  wattlab::Result<wattlab::InferResult> Infer(const wattlab::InferConfig& c,
                                              wattlab::WorkloadObserver* o) override {
    if (!mismatch_.empty()) return wattlab::Status::Internal(mismatch_);
    return FakeEngine::Infer(c, o);
  }
  void CheckPolicy() {
    const char* group = std::getenv("WATTLAB_STUDY_OMP_GROUP");
    if (!group) return;
    const char* omp = std::getenv("OMP_WAIT_POLICY");
    const std::string want = std::string(group) == "default" ? "" : group;
    std::string got = omp ? omp : "";
    for (char& ch : got) ch = (char)std::tolower((unsigned char)ch);
    if (got != want)
      mismatch_ = "child for policy " + std::string(group) +
                  " loaded with OMP_WAIT_POLICY=" + (omp ? omp : "(unset)");
  }

 private:
  std::string mismatch_;
};

}  // namespace

extern "C" __attribute__((visibility("default"))) wattlab::WorkloadEngine* wattlab_create_workload_engine(
    wattlab::Env*) {
  static RealClockEnv env;
  const char* s = std::getenv("WATTLAB_FAKE_S_PER_SAMPLE");
  double per = s ? std::atof(s) : 0.0005;
  auto* engine = new PolicyCheckingEngine(&env, per > 0 ? per : 0.0005);
  engine->CheckPolicy();
  return engine;
}
