#include "meter/sampler.h"

#include <algorithm>
#include <cmath>

#include "core/strings.h"

namespace wattlab {

namespace {
// The thread never sleeps longer than this at once, so Stop() returns
// within 100 ms even at a 60 s interval, while 10 Hz sampling still wakes
// once per sample (its CPU cost is measured in bench/bench_sampler.cc).
constexpr std::chrono::nanoseconds kMaxSleepChunk = std::chrono::milliseconds(100);
// Nested counters: every kNestedEvery-th period, but at least every
// kNestedMaxPeriod (see sampler.h).
constexpr int kNestedEvery = 10;
constexpr std::chrono::nanoseconds kNestedMaxPeriod = std::chrono::seconds(1);
// Errors kept one by one (for windows); the count goes on past it.
constexpr size_t kMaxKeptErrors = 64;

double Seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

// OK when every reading in `which` carries the field its domain's kind calls
// for: energy_j for a counter, power_w for a power domain, and not the other.
template <typename DomainStates>
Status CheckReadings(const EnergySource& source, const DomainStates& dom, const std::vector<size_t>& which,
                     const std::vector<Reading>& readings) {
  for (size_t i : which) {
    const bool counter = dom[i].is_counter;
    const Reading& r = readings[i];
    if (counter ? (r.energy_j && !r.power_w) : (r.power_w && !r.energy_j)) continue;
    return Status::Internal("source " + source.name() + " gave domain " + source.domains()[i].name +
                            " a reading without " +
                            (counter ? "energy_j (it is a counter)" : "power_w (it is a power domain)") +
                            " or with both fields set");
  }
  return Status::Ok();
}

// The first slot of the grid t0 + k * period that lies after now.
std::chrono::nanoseconds NextSlotAfter(std::chrono::nanoseconds due, std::chrono::nanoseconds period,
                                       std::chrono::nanoseconds now) {
  if (due > now) return due;
  return due + ((now - due) / period + 1) * period;
}
}  // namespace

Sampler::Sampler(Env* env, std::vector<EnergySource*> sources, std::chrono::nanoseconds interval,
                 size_t timeline_capacity)
    : env_(env), interval_(interval), timeline_capacity_(std::max<size_t>(1, timeline_capacity)) {
  for (EnergySource* src : sources) {
    SourceState s;
    s.source = src;
    s.first_domain = domains_.size();
    s.period = std::max(interval_, src->min_interval());
    s.nested_period = std::max(s.period, std::min(kNestedEvery * s.period, kNestedMaxPeriod));
    const size_t n = src->domains().size();
    s.readings.resize(n);
    s.dom.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const DomainInfo& d = src->domains()[i];
      domains_.push_back(d);
      if (domains_.back().source.empty()) domains_.back().source = src->name();
      if (!d.is_counter) s.counter_source = false;
      s.dom[i].is_counter = d.is_counter;
      s.dom[i].max_energy_range_j = d.max_energy_range_j;
      s.all.push_back(i);
      if (d.is_counter && !d.in_total && s.nested_period > s.period)
        s.has_nested = true;
      else
        s.often.push_back(i);
    }
    if (tick_period_.count() == 0 || s.period < tick_period_) tick_period_ = s.period;
    states_.push_back(std::move(s));
  }
  if (tick_period_.count() == 0) tick_period_ = interval_;
  energy_j_.assign(domains_.size(), 0.0);
  last_power_w_.assign(domains_.size(), 0.0);
  reported_j_.assign(domains_.size(), 0.0);
}

Sampler::~Sampler() { (void)Stop(); }

Status Sampler::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return Status::FailedPrecondition("sampler already started");
    auto now = env_->NowMonotonic();
    start_time_ = now;
    for (auto& s : states_) {
      Status st = s.source->Read(s.readings);
      if (st.ok()) st = CheckReadings(*s.source, s.dom, s.all, s.readings);
      if (!st.ok()) return st.WithContext("first reading of " + s.source->name());
      for (size_t i = 0; i < s.readings.size(); ++i) {
        const Reading& r = s.readings[i];
        if (r.energy_j) s.dom[i].prev_energy_j = *r.energy_j;
        // A power source's first value has no interval behind it; it only
        // serves to extrapolate until the next read.
        if (r.power_w) last_power_w_[s.first_domain + i] = *r.power_w;
        s.dom[i].last_read = now;
      }
      s.last_read = now;
      s.next_due = now + s.period;
      s.nested_next_due = now + s.nested_period;
    }
    started_ = true;
    stop_ = false;
  }
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

Status Sampler::Stop() {
  if (thread_.joinable()) {
    stop_ = true;
    thread_.join();
    SampleNow();  // the timeline and the counters end at the stop edge
  }
  std::lock_guard<std::mutex> lock(mu_);
  return first_error_;
}

bool Sampler::running() const { return thread_.joinable() && !stop_; }

void Sampler::NoteErrorLocked(const Status& st) {
  if (st.ok()) return;
  if (first_error_.ok()) first_error_ = st;
  if (errors_.size() < kMaxKeptErrors) errors_.push_back(st);
  ++error_count_;
}

int64_t Sampler::error_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return error_count_;
}

Status Sampler::FirstErrorSince(int64_t count) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (error_count_ <= count) return Status::Ok();
  // Past the kept ones, the last kept error stands for the rest.
  return errors_[std::min<size_t>(static_cast<size_t>(count), errors_.size() - 1)];
}

void Sampler::ReadSourceLocked(SourceState& s, const std::vector<size_t>& which,
                               std::chrono::nanoseconds now) {
  if (which.empty()) return;
  Status st =
      which.size() == s.all.size() ? s.source->Read(s.readings) : s.source->ReadDomains(which, s.readings);
  if (st.ok()) st = CheckReadings(*s.source, s.dom, which, s.readings);
  if (!st.ok()) {
    // Keep prev_energy_j and the read times: the next good read covers the gap.
    NoteErrorLocked(st.WithContext("reading " + s.source->name()));
    return;
  }
  for (size_t i : which) {
    const size_t d = s.first_domain + i;
    SourceState::DomainState& ds = s.dom[i];
    const Reading& r = s.readings[i];
    const double dt_s = Seconds(now - ds.last_read);
    double delta_j;
    if (ds.is_counter) {
      const double cur = *r.energy_j;
      const double prev = ds.prev_energy_j;
      if (cur >= prev) {
        delta_j = cur - prev;
      } else if (ds.max_energy_range_j > 0) {
        delta_j = (ds.max_energy_range_j - prev) + cur;
      } else {
        delta_j = cur;  // no known range: the counter restarted from zero
        NoteErrorLocked(
            Status::Corruption("counter " + domains_[d].name + " of " + s.source->name() +
                               " went back from " + FormatDouble(prev) + " J to " + FormatDouble(cur) +
                               " J and its range is unknown; taken as a reset, energy may be missing"));
      }
      ds.prev_energy_j = cur;
      if (dt_s > 0) last_power_w_[d] = delta_j / dt_s;
    } else {
      delta_j = *r.power_w * dt_s;
      last_power_w_[d] = *r.power_w;
    }
    energy_j_[d] += delta_j;
    ds.last_read = now;
  }
  s.last_read = now;
}

EnergySnapshot Sampler::SnapshotLocked(std::chrono::nanoseconds now) {
  EnergySnapshot snap;
  snap.t = now;
  snap.ticks = ticks_;
  snap.energy_j = energy_j_;
  for (const auto& s : states_) {
    if (s.counter_source) continue;
    for (size_t i = 0; i < s.readings.size(); ++i) {
      const size_t d = s.first_domain + i;
      if (domains_[d].is_counter) continue;  // its integral only grows: never goes back
      // Power sources between reads: extrapolate the last mean power so an
      // edge between two reads is not cut short; an extrapolation that
      // overshot (the next read found a lower power) must not make a later
      // snapshot read less, or a window would get negative joules.
      const double since_s = Seconds(now - s.dom[i].last_read);
      const double e = energy_j_[d] + (since_s > 0 ? last_power_w_[d] * since_s : 0.0);
      snap.energy_j[d] = reported_j_[d] = std::max(e, reported_j_[d]);
    }
  }
  return snap;
}

EnergySnapshot Sampler::SampleNow() {
  std::lock_guard<std::mutex> lock(mu_);
  auto now = env_->NowMonotonic();
  if (!started_) {
    EnergySnapshot snap;
    snap.t = now;
    snap.energy_j.assign(domains_.size(), 0.0);
    return snap;
  }
  for (auto& s : states_) {
    // Counters are always read at an edge (re-reading a cumulative counter
    // is harmless); a power source is not read faster than it resolves.
    if (s.counter_source || now - s.last_read >= s.source->min_interval()) ReadSourceLocked(s, s.all, now);
  }
  return SnapshotLocked(now);
}

void Sampler::AppendTimelineLocked(std::chrono::nanoseconds now) {
  const size_t width = 1 + domains_.size();
  double* row;
  if (timeline_rows_ < timeline_capacity_) {
    timeline_.resize(timeline_.size() + width);
    row = timeline_.data() + timeline_rows_ * width;
    ++timeline_rows_;
  } else {
    row = timeline_.data() + timeline_head_ * width;
    timeline_head_ = (timeline_head_ + 1) % timeline_capacity_;
    ++timeline_dropped_;
  }
  row[0] = Seconds(now - start_time_);
  std::copy(last_power_w_.begin(), last_power_w_.end(), row + 1);
}

void Sampler::Run() {
  env_->NameCurrentThread("wattlab-sampler");
  // One clock read per wake-up: `now` is both what is due and the timestamp.
  std::chrono::nanoseconds now = env_->NowMonotonic();
  while (!stop_.load(std::memory_order_relaxed)) {
    std::chrono::nanoseconds next_due = std::chrono::nanoseconds::max();
    {
      std::lock_guard<std::mutex> lock(mu_);
      bool any = false;
      for (auto& s : states_) {
        if (s.next_due <= now) {
          const bool nested = s.has_nested && s.nested_next_due <= now;
          ReadSourceLocked(s, nested ? s.all : s.often, now);
          any = true;
          // Fell behind (machine busy, process stopped): skip the missed
          // slots rather than read in a burst, and stay on the grid; the
          // counters lose nothing.
          s.next_due = NextSlotAfter(s.next_due + s.period, s.period, now);
          if (nested)
            s.nested_next_due = NextSlotAfter(s.nested_next_due + s.nested_period, s.nested_period, now);
        }
        next_due = std::min(next_due, s.next_due);
      }
      if (any) {
        ++ticks_;
        AppendTimelineLocked(now);
      }
    }
    env_->SleepUntil(std::min(next_due, now + kMaxSleepChunk));
    now = env_->NowMonotonic();
  }
}

std::vector<TimelineSample> Sampler::Timeline() const {
  std::lock_guard<std::mutex> lock(mu_);
  const size_t width = 1 + domains_.size();
  std::vector<TimelineSample> out;
  out.reserve(timeline_rows_);
  for (size_t k = 0; k < timeline_rows_; ++k) {
    const double* row = timeline_.data() + ((timeline_head_ + k) % timeline_rows_) * width;
    TimelineSample s;
    s.t_s = row[0];
    s.power_w.assign(row + 1, row + width);
    out.push_back(std::move(s));
  }
  return out;
}

int64_t Sampler::timeline_dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return timeline_dropped_;
}

Status Sampler::first_error() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_error_;
}

int64_t Sampler::ticks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ticks_;
}

}  // namespace wattlab
