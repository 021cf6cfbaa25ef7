// Test doubles for the meter core: a virtual clock Env and scriptable
// energy sources. Header-only; used by sampler_test.cc, meter_test.cc and
// detect_test.cc.
//
// VirtualClockEnv: NowMonotonic is virtual time. SleepFor(d) advances it,
// but only as far as the test allows: RunUntil(t) lets sleepers run up to
// virtual time t and returns once the sampler thread is parked in a sleep
// that would pass t (so everything due at or before t has happened). In
// free-run mode sleeps pass at once (for MeasureIdle, whose own sleep runs
// on the test thread). No test ever sleeps for real.
#pragma once

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/env.h"
#include "wattlab/meter.h"

namespace wattlab::testing {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

class VirtualClockEnv : public ForwardingEnv {
 public:
  explicit VirtualClockEnv(Env* target) : ForwardingEnv(target) {}

  nanoseconds NowMonotonic() override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  void SleepFor(nanoseconds d) override {
    std::unique_lock<std::mutex> lock(mu_);
    const nanoseconds target = now_ + d;
    ++sleepers_;
    parked_target_ = target;
    cv_.notify_all();
    cv_.wait(lock, [&] { return free_run_ || allowed_ >= target; });
    --sleepers_;
    if (target > now_) now_ = target;
    cv_.notify_all();
  }
  // Lets virtual time run to t; returns when a sleeper is parked past t.
  void RunUntil(nanoseconds t) {
    std::unique_lock<std::mutex> lock(mu_);
    allowed_ = t;
    cv_.notify_all();
    cv_.wait(lock, [&] { return sleepers_ > 0 && parked_target_ > allowed_; });
    if (now_ < t) now_ = t;
  }
  void FreeRun() {
    std::lock_guard<std::mutex> lock(mu_);
    free_run_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  nanoseconds now_{0};
  nanoseconds allowed_{0};
  nanoseconds parked_target_{0};
  int sleepers_ = 0;
  bool free_run_ = false;
};

// A source whose readings are a function of virtual time (so any sampling
// schedule gives exact expected joules), optionally scripted, optionally
// failing on chosen reads.
class FakeSource : public EnergySource {
 public:
  struct Domain {
    DomainInfo info;
    double power_w = 0;  // counters: energy_j = fmod(offset_j + power_w * t, range); power: power_w
    double offset_j = 0;
  };
  FakeSource(Env* env, std::string name, std::vector<Domain> domains,
             nanoseconds min_interval = milliseconds(1))
      : env_(env), name_(std::move(name)), spec_(std::move(domains)), min_interval_(min_interval) {
    for (auto& d : spec_) {
      if (d.info.source.empty()) d.info.source = name_;
      infos_.push_back(d.info);
    }
  }
  const std::string& name() const override { return name_; }
  const std::vector<DomainInfo>& domains() const override { return infos_; }
  nanoseconds min_interval() const override { return min_interval_; }
  Status Read(std::vector<Reading>& out) override {
    std::vector<size_t> all(out.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    return ReadDomains(all, out);
  }
  // Fills only `which` (the sampler reads nested domains less often), and
  // counts the readings each domain got.
  Status ReadDomains(const std::vector<size_t>& which, std::vector<Reading>& out) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++reads_;
    if (domain_reads_.size() != spec_.size()) domain_reads_.assign(spec_.size(), 0);
    for (size_t i : which) ++domain_reads_[i];
    for (const auto& [n, msg] : fail_on_read_)
      if (n == reads_) return Status::IOError(msg);
    if (!script_.empty()) {
      std::vector<double> v = script_.front();
      script_.pop_front();
      for (size_t i : which) out[i] = spec_[i].info.is_counter ? Reading::Energy(v[i]) : Reading::Power(v[i]);
      return Status::Ok();
    }
    const double t = std::chrono::duration<double>(env_->NowMonotonic()).count();
    for (size_t i : which) {
      const auto& d = spec_[i];
      if (d.info.is_counter) {
        double v = d.offset_j + d.power_w * t;
        if (d.info.max_energy_range_j > 0) v = std::fmod(v, d.info.max_energy_range_j);
        out[i] = Reading::Energy(v);
      } else {
        out[i] = Reading::Power(d.power_w);
      }
    }
    return Status::Ok();
  }
  std::vector<std::pair<std::string, std::string>> Facts() const override { return {{"fake", "yes"}}; }

  void FailOnRead(int n, std::string msg) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_on_read_.emplace_back(n, std::move(msg));
  }
  // Each Read pops one row of raw values instead of the time function.
  void Script(std::vector<std::vector<double>> rows) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.assign(rows.begin(), rows.end());
  }
  int reads() const {
    std::lock_guard<std::mutex> lock(mu_);
    return reads_;
  }
  // Readings domain i got (Read counts for every domain).
  int domain_reads(size_t i) const {
    std::lock_guard<std::mutex> lock(mu_);
    return i < domain_reads_.size() ? domain_reads_[i] : 0;
  }

 private:
  Env* env_;
  std::string name_;
  std::vector<Domain> spec_;
  std::vector<DomainInfo> infos_;
  nanoseconds min_interval_;
  mutable std::mutex mu_;
  int reads_ = 0;
  std::vector<int> domain_reads_;
  std::vector<std::pair<int, std::string>> fail_on_read_;
  std::deque<std::vector<double>> script_;
};

inline DomainInfo Dom(std::string name, Component c, bool counter = true, double range_j = 0,
                      bool in_total = true, bool estimated = false) {
  DomainInfo d;
  d.name = std::move(name);
  d.component = c;
  d.is_counter = counter;
  d.max_energy_range_j = range_j;
  d.in_total = in_total;
  d.estimated = estimated;
  return d;
}

inline nanoseconds Ms(int64_t ms) { return milliseconds(ms); }

}  // namespace wattlab::testing
