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
// from Env::NowMonotonic, sleeping from Env::SleepUntil, so tests drive the
// sampler with a virtual clock.
//
// Nested counters are read less often. A counter domain that is not in the
// total (core and uncore inside their package, psys over packages and dram,
// or the packages and dram when psys is summed instead) is read every 10th
// period of its source, but at least once a second and never faster than the
// source itself: nested period = max(period, min(10 x period, 1 s)), i.e.
// 100 Hz when sampling at 1 kHz, 1 Hz at 10 Hz. In-total domains and power
// domains are read every period. Every counter is still read at every window
// edge (SampleNow), so each domain's window energy is exact whatever its
// rate; only the timeline resolves a nested domain more coarsely (its power
// there is the mean over its own last read interval). A nested counter never
// draws more than its package, and the smallest RAPL range (65 kJ, AMD) takes
// minutes to wrap at any real power, so 1 s is far inside every wrap.
//
// The loop does one clock read per tick: it wakes at an absolute deadline
// (Env::SleepUntil), reads the clock once, reads what is due under one lock,
// appends one timeline row to a flat ring, and sleeps again.
// A late wake-up skips the slots it missed and stays on the original grid
// (counters lose no energy by a skipped slot).
//
// SampleNow() takes an edge reading on the caller's thread (windows call it
// at begin and end): counters are always read, so a window shorter than the
// interval is still exact for counters; a power source read less than its
// min_interval ago is not re-read, its last power is extrapolated instead.
// Snapshots never go back: when the next read of a power source finds a
// lower power than the one extrapolated, the energy an earlier snapshot
// already reported stands (a window over that span reads 0 J, not less) and
// the windows after it pay the overshoot back until the reads catch up;
// from then on snapshots are the integral of the reads again.
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
    std::chrono::nanoseconds nested_period{0};  // nested counters (see the top)
    std::chrono::nanoseconds last_read{0};      // last read of the source
    std::chrono::nanoseconds next_due{0};
    std::chrono::nanoseconds nested_next_due{0};
    std::vector<size_t> all;    // 0..n-1
    std::vector<size_t> often;  // in-total counters and power domains: every period
    bool has_nested = false;    // some domain read at nested_period only
    // What each reading needs, in one array (the loop touches little memory
    // per tick: at 10 Hz every tick starts with cold caches).
    struct DomainState {
      double prev_energy_j = 0;               // counters: last raw reading
      std::chrono::nanoseconds last_read{0};  // when this domain was last read
      double max_energy_range_j = 0;
      bool is_counter = true;
    };
    std::vector<DomainState> dom;
    std::vector<Reading> readings;  // scratch
    bool counter_source = true;     // every domain a counter
  };

  void Run();
  // Reads the domains `which` of source s at `now` and folds them into
  // cumulative energy. Caller holds mu_.
  void ReadSourceLocked(SourceState& s, const std::vector<size_t>& which, std::chrono::nanoseconds now);
  void NoteErrorLocked(const Status& st);
  EnergySnapshot SnapshotLocked(std::chrono::nanoseconds now);
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
  std::vector<double> reported_j_;    // GUARDED_BY(mu_) power domains: the most energy a snapshot reported
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
