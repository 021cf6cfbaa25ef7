// Sampler: the background thread that reads every chosen energy source and
// turns raw readings into cumulative joules per domain.
//
// Each source is read at max(interval, source.min_interval()). Counters are
// differenced with wrap correction: delta = cur >= prev ? cur - prev
// : (max - prev) + cur, using the domain's max_energy_range_j; when the range
// is unknown a drop is taken as a counter reset (delta = cur) and reported in
// the first-error slot. Power sources (is_counter=false) are integrated as
// mean power x the time since that source's previous read. A reading without
// the field its domain's kind calls for (Reading::energy_j for a counter,
// power_w for a power domain) is an Internal error, like a failed read. Timestamps come
// from Env::NowMonotonic, sleeping from Env::SleepFor, so tests drive the
// sampler with a virtual clock.
//
// SampleNow() takes an edge reading on the caller's thread (windows call it
// at begin and end): counters are always read, so a window shorter than the
// interval is still exact for counters; a power source read less than its
// min_interval ago is not re-read, its last power is extrapolated instead.
//
// Ownership: the sources are owned by the caller (the Meter) and must outlive
// the Sampler. Thread-safety: every public method may be called from any
// thread; one mutex serialises all source reads (sources are not
// thread-safe) and the cumulative state.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "core/env.h"
#include "wattlab/meter.h"

namespace wattlab {

// Cumulative energy per domain (Sampler::domains() order) at time t.
struct EnergySnapshot {
  std::chrono::nanoseconds t{0};  // Env::NowMonotonic
  std::vector<double> energy_j;   // since Start
  int64_t ticks = 0;              // background sampler ticks so far
};

class Sampler {
 public:
  // REQUIRES: interval > 0, timeline_capacity >= 1, sources non-null.
  Sampler(Env* env, std::vector<EnergySource*> sources, std::chrono::nanoseconds interval,
          size_t timeline_capacity);
  ~Sampler();  // stops the thread if running
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Takes the first reading of every source (errors here are returned, and
  // the thread is not started), then starts the thread.
  Status Start();
  // Takes a last edge reading, stops and joins the thread. Returns the first
  // error met while running (OK if none). Idempotent.
  Status Stop();
  bool running() const;

  // Edge reading now (see above). REQUIRES: Start() succeeded.
  EnergySnapshot SampleNow();

  const std::vector<DomainInfo>& domains() const { return domains_; }
  // The period the thread wakes at: the shortest per-source period.
  std::chrono::nanoseconds tick_period() const { return tick_period_; }
  std::chrono::nanoseconds start_time() const { return start_time_; }
  std::vector<TimelineSample> Timeline() const;
  int64_t timeline_dropped() const;  // oldest samples dropped past capacity
  Status first_error() const;
  // Errors met so far, and the first one met after `count` errors (OK when
  // none): a window that began at count n fails only for its own errors.
  int64_t error_count() const;
  Status FirstErrorSince(int64_t count) const;
  int64_t ticks() const;

 private:
  struct SourceState {
    EnergySource* source = nullptr;
    size_t first_domain = 0;  // index into domains_
    std::chrono::nanoseconds period{0};
    std::chrono::nanoseconds last_read{0};
    std::chrono::nanoseconds next_due{0};
    std::vector<Reading> readings;      // scratch
    std::vector<double> prev_energy_j;  // counters: last raw reading
    bool counter_source = true;         // every domain a counter
  };

  void Run();
  // Reads source s at `now` and folds it into cumulative energy. Caller holds mu_.
  void ReadSourceLocked(SourceState& s, std::chrono::nanoseconds now);
  void NoteErrorLocked(const Status& st);
  EnergySnapshot SnapshotLocked(std::chrono::nanoseconds now) const;
  void AppendTimelineLocked(std::chrono::nanoseconds now);

  Env* const env_;
  std::vector<DomainInfo> domains_;
  const std::chrono::nanoseconds interval_;
  const size_t timeline_capacity_;
  std::chrono::nanoseconds tick_period_{0};
  std::chrono::nanoseconds start_time_{0};

  mutable std::mutex mu_;
  std::vector<SourceState> states_;   // GUARDED_BY(mu_)
  std::vector<double> energy_j_;      // GUARDED_BY(mu_) cumulative per domain at each domain's last read
  std::vector<double> last_power_w_;  // GUARDED_BY(mu_) mean power over each domain's last read interval
  // The timeline as a ring of fixed-size rows (t, then one power per
  // domain), flat so a tick appends without allocating once it is full.
  std::vector<double> timeline_;  // GUARDED_BY(mu_)
  size_t timeline_rows_ = 0;      // GUARDED_BY(mu_)
  size_t timeline_head_ = 0;      // GUARDED_BY(mu_) oldest row once full
  int64_t timeline_dropped_ = 0;  // GUARDED_BY(mu_)
  Status first_error_;            // GUARDED_BY(mu_)
  std::vector<Status> errors_;    // GUARDED_BY(mu_) the first kMaxKeptErrors
  int64_t error_count_ = 0;       // GUARDED_BY(mu_)
  int64_t ticks_ = 0;             // GUARDED_BY(mu_)
  bool started_ = false;          // GUARDED_BY(mu_)
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace wattlab
