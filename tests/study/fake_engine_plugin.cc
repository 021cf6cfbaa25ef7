// Test-only workload plugin: the fake engine of fakes.h behind the real
// plugin entry point, so the real `wattlab study` runs a tiny study without
// libtorch (WATTLAB_TORCH_PLUGIN=<this .so>). Steps take real time:
// WATTLAB_FAKE_S_PER_SAMPLE seconds per training sample (default 0.0005).
#include <chrono>
#include <cstdlib>
#include <thread>

#include "fakes.h"

namespace {

class RealClockEnv : public wattlab::testing::FakeClockEnv {
 public:
  std::chrono::nanoseconds NowMonotonic() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now().time_since_epoch());
  }
  void SleepFor(std::chrono::nanoseconds d) override { std::this_thread::sleep_for(d); }
};

}  // namespace

extern "C" __attribute__((visibility("default"))) wattlab::WorkloadEngine* wattlab_create_workload_engine(
    wattlab::Env*) {
  static RealClockEnv env;
  const char* s = std::getenv("WATTLAB_FAKE_S_PER_SAMPLE");
  double per = s ? std::atof(s) : 0.0005;
  return new wattlab::testing::FakeEngine(&env, per > 0 ? per : 0.0005);
}
