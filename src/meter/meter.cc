// Meter::Create and the Meter implementation: detection, the sampler, named
// windows, the idle baseline and per-process attribution.
#include <algorithm>
#include <map>
#include <mutex>

#include "core/strings.h"
#include "meter/busy.h"
#include "meter/detect.h"
#include "meter/meter_impl.h"
#include "meter/procfs.h"
#include "meter/sampler.h"

namespace wattlab {

namespace {

struct CpuTicks {
  uint64_t busy = 0, total = 0;
};

// Byte counters at one window edge (procfs.h's NetBytes / IoBytes).
struct NetSnap {
  uint64_t rx = 0, tx = 0, lo_rx = 0, lo_tx = 0;
};
struct IoSnap {
  uint64_t read = 0, write = 0;
};

std::optional<CpuTicks> ReadMachineTicks(Env* env) {
  auto t = ReadProcStat(env);
  if (!t.ok()) return std::nullopt;
  return CpuTicks{t->Busy(), t->Total()};
}

std::optional<NetSnap> ReadNet(Env* env) {
  auto b = ReadNetDev(env);
  if (!b.ok()) return std::nullopt;
  return NetSnap{b->rx, b->tx, b->lo_rx, b->lo_tx};
}

std::optional<IoSnap> ReadTreeIo(Env* env, int pid) {
  auto b = ReadProcessTreeIoBytes(env, pid);
  if (!b.ok()) return std::nullopt;
  return IoSnap{b->read, b->write};
}

// end - begin of a counter that only grows; a reset (interface gone and back,
// pid reused) reads as 0 rather than a wrapped huge number.
int64_t Grown(uint64_t begin, uint64_t end) { return end >= begin ? static_cast<int64_t>(end - begin) : 0; }

std::optional<uint64_t> ReadTreeTicks(Env* env, int pid) {
  auto t = ReadProcessTreeCpuTicks(env, pid);
  if (!t.ok()) return std::nullopt;
  return *t;
}

class MeterImpl : public Meter {
 public:
  MeterImpl(Env* env, const MeterOptions& options, DetectionReport report)
      : env_(env),
        options_(options),
        attempts_(std::move(report.attempts)),
        sources_(std::move(report.chosen)),
        node_metered_(!(options.local_rank && *options.local_rank > 0)) {
    // Local rank > 0: local rank 0 reads the node; not one source is read here.
    if (!node_metered_) sources_.clear();
    std::vector<EnergySource*> raw;
    for (auto& s : sources_) raw.push_back(s.get());
    sampler_ = std::make_unique<Sampler>(env_, raw, options_.interval, options_.timeline_capacity);
  }
  ~MeterImpl() override { (void)sampler_->Stop(); }

  const std::vector<SourceAttempt>& attempts() const override { return attempts_; }
  std::vector<DomainInfo> domains() const override { return sampler_->domains(); }
  std::vector<std::string> sources() const override {
    std::vector<std::string> names;
    for (const auto& s : sources_)
      if (std::find(names.begin(), names.end(), s->name()) == names.end()) names.push_back(s->name());
    return names;
  }
  bool estimated() const override {
    for (const auto& d : sampler_->domains())
      if (d.estimated && d.in_total) return true;
    return false;
  }
  std::chrono::nanoseconds interval() const override { return options_.interval; }
  bool node_metered() const override { return node_metered_; }

  Status Start() override {
    std::lock_guard<std::mutex> lock(start_mu_);
    if (started_) return Status::FailedPrecondition("meter already started");
    Status st = sampler_->Start();
    if (!st.ok()) return st;
    started_ = true;
    return Status::Ok();
  }

  Status Stop() override {
    std::lock_guard<std::mutex> lock(start_mu_);
    return sampler_->Stop();
  }

  WindowId BeginWindow(const std::string& name) override {
    WindowState w;
    w.name = name;
    {
      std::lock_guard<std::mutex> lock(start_mu_);
      w.started = started_;
    }
    // /proc first, the energy edge last (and first at the end), so the
    // process-tree scan's own time stays outside the energy window.
    w.cpu_begin = ReadMachineTicks(env_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      w.pid = attribution_pid_;
    }
    if (w.pid) w.pid_ticks_begin = ReadTreeTicks(env_, *w.pid);
    w.net_begin = ReadNet(env_);
    if (w.pid) w.io_begin = ReadTreeIo(env_, *w.pid);
    if (w.started) {
      w.errors_begin = sampler_->error_count();
      w.begin = sampler_->SampleNow();
    }
    std::lock_guard<std::mutex> lock(mu_);
    WindowId id = next_id_++;
    windows_.emplace(id, std::move(w));
    return id;
  }

  Result<WindowResult> EndWindow(WindowId id) override {
    WindowState w;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = windows_.find(id);
      if (it == windows_.end())
        return Status::InvalidArgument("no open window with id " + std::to_string(id) + " (ended twice?)");
      w = std::move(it->second);
      windows_.erase(it);
    }
    if (!w.started)
      return Status::FailedPrecondition("window '" + w.name + "' began before the meter was started");
    EnergySnapshot end = sampler_->SampleNow();
    std::optional<CpuTicks> cpu_end = ReadMachineTicks(env_);
    std::optional<uint64_t> pid_ticks_end;
    if (w.pid) pid_ticks_end = ReadTreeTicks(env_, *w.pid);
    std::optional<NetSnap> net_end = ReadNet(env_);
    std::optional<IoSnap> io_end;
    if (w.pid) io_end = ReadTreeIo(env_, *w.pid);
    // Only errors met during this window make it fail: one bad read an hour
    // ago does not void every later window of a long study.
    Status err = sampler_->FirstErrorSince(w.errors_begin);
    if (!err.ok()) return err.WithContext("window '" + w.name + "'");

    std::optional<double> idle_w;
    bool idle_busy = false;
    std::vector<std::pair<std::string, double>> idle_domains;
    {
      // Local rank > 0: no node energy here, so no baseline to subtract from it.
      std::lock_guard<std::mutex> lock(mu_);
      if (node_metered_) {
        idle_w = idle_power_w_;
        idle_busy = idle_busy_;
        idle_domains = idle_domain_w_;
      }
    }

    const auto& domains = sampler_->domains();
    WindowResult r;
    r.name = w.name;
    r.start_s = std::chrono::duration<double>(w.begin.t - sampler_->start_time()).count();
    r.duration_s = std::chrono::duration<double>(end.t - w.begin.t).count();
    r.samples = end.ticks - w.begin.ticks;
    r.local_rank = options_.local_rank;
    r.node_metered = node_metered_;
    double cpu_energy_j = 0, cpu_idle_w = 0;
    bool cpu_idle_known = !idle_domains.empty();
    for (size_t i = 0; i < domains.size(); ++i) {
      DomainEnergy d;
      d.name = domains[i].name;
      d.source = domains[i].source;
      d.component = domains[i].component;
      d.in_total = domains[i].in_total;
      d.estimated = domains[i].estimated;
      d.energy_j = end.energy_j[i] - w.begin.energy_j[i];
      // A modelled source never exceeds its stated maximum, also over a
      // window: the last reading before the edge is extrapolated into the
      // window, and a reading at the maximum just after it would otherwise
      // count a moment of the old level at the new one.
      if (domains[i].max_power_w > 0 && r.duration_s > 0)
        d.energy_j = std::min(d.energy_j, domains[i].max_power_w * r.duration_s);
      d.mean_power_w = r.duration_s > 0 ? d.energy_j / r.duration_s : 0;
      if (d.in_total) {
        r.energy_j += d.energy_j;
        if (d.estimated) r.estimated = true;
        if (std::find(r.sources.begin(), r.sources.end(), d.source) == r.sources.end())
          r.sources.push_back(d.source);
        if (d.component == Component::kCpu) {
          cpu_energy_j += d.energy_j;
          for (const auto& [n, p] : idle_domains)
            if (n == d.name) cpu_idle_w += p;
        }
      }
      r.domains.push_back(std::move(d));
    }
    r.mean_power_w = r.duration_s > 0 ? r.energy_j / r.duration_s : 0;
    if (idle_w) {
      r.idle_power_w = *idle_w;
      r.idle_busy = idle_busy;
      r.energy_above_idle_j = r.energy_j - *idle_w * r.duration_s;
    }
    if (w.cpu_begin && cpu_end && cpu_end->total > w.cpu_begin->total) {
      const double busy = static_cast<double>(cpu_end->busy - std::min(cpu_end->busy, w.cpu_begin->busy));
      const double total = static_cast<double>(cpu_end->total - w.cpu_begin->total);
      r.cpu_util = std::clamp(busy / total, 0.0, 1.0);
    }
    if (w.pid && w.pid_ticks_begin && pid_ticks_end && w.cpu_begin && cpu_end) {
      const double tree = static_cast<double>(*pid_ticks_end - std::min(*pid_ticks_end, *w.pid_ticks_begin));
      const double busy = static_cast<double>(cpu_end->busy - std::min(cpu_end->busy, w.cpu_begin->busy));
      // No machine busy ticks in the window: nothing to share (a window far
      // shorter than the 10 ms tick); tree ticks without machine ticks can
      // only come from tick rounding, so the share is 1 then.
      double share = busy > 0 ? tree / busy : (tree > 0 ? 1.0 : 0.0);
      share = std::clamp(share, 0.0, 1.0);
      double dynamic_cpu_j = cpu_energy_j;
      if (idle_w) {
        double cpu_idle_j;
        if (cpu_idle_known) {
          cpu_idle_j = cpu_idle_w * r.duration_s;
        } else {
          // Only the whole-machine idle is known: split it like this
          // window's energy splits between CPU and the rest.
          double frac = r.energy_j > 0 ? cpu_energy_j / r.energy_j : 0;
          cpu_idle_j = *idle_w * frac * r.duration_s;
        }
        dynamic_cpu_j = std::max(0.0, cpu_energy_j - cpu_idle_j);
      }
      r.attributed_share = share;
      // Local rank > 0 read no CPU energy: the share is combined with local
      // rank 0's dynamic CPU energy over the same span (docs/scale.md).
      if (node_metered_) r.attributed_energy_j = share * dynamic_cpu_j;
    }
    if (w.net_begin && net_end) {
      r.net_rx_bytes = Grown(w.net_begin->rx, net_end->rx);
      r.net_tx_bytes = Grown(w.net_begin->tx, net_end->tx);
      r.lo_rx_bytes = Grown(w.net_begin->lo_rx, net_end->lo_rx);
      r.lo_tx_bytes = Grown(w.net_begin->lo_tx, net_end->lo_tx);
    }
    if (w.io_begin && io_end) {
      r.io_read_bytes = Grown(w.io_begin->read, io_end->read);
      r.io_write_bytes = Grown(w.io_begin->write, io_end->write);
    }
    return r;
  }

  void SetIdlePower(double idle_power_w) override {
    std::lock_guard<std::mutex> lock(mu_);
    idle_power_w_ = idle_power_w;
    idle_busy_ = false;
    idle_domain_w_.clear();
  }
  void SetIdleBusy(bool busy) override {
    std::lock_guard<std::mutex> lock(mu_);
    idle_busy_ = busy;
  }
  std::optional<double> idle_power_w() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return idle_power_w_;
  }
  void SetIdleDomainPowers(const std::vector<std::pair<std::string, double>>& idle_w_by_domain) override {
    std::lock_guard<std::mutex> lock(mu_);
    idle_domain_w_ = idle_w_by_domain;
  }
  std::vector<std::pair<std::string, double>> idle_domain_powers_w() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return idle_domain_w_;
  }

  Result<IdleMeasurement> MeasureIdle(std::chrono::nanoseconds duration) override {
    if (duration.count() <= 0) return Status::InvalidArgument("idle measurement needs a positive duration");
    if (!node_metered_)
      return Status::FailedPrecondition(
          "this process is local rank " + std::to_string(*options_.local_rank) +
          " on this node: local rank 0 meters the node and measures its idle power (docs/scale.md)");
    {
      std::lock_guard<std::mutex> lock(start_mu_);
      if (!started_)
        return Status::FailedPrecondition("MeasureIdle needs a started meter: call Start() first");
    }
    WindowId id = BeginWindow("idle");
    env_->SleepFor(duration);
    auto r = EndWindow(id);
    if (!r.ok()) return r.status();
    std::vector<std::pair<std::string, double>> per_domain;
    for (const auto& d : r->domains)
      if (d.in_total) per_domain.emplace_back(d.name, d.mean_power_w);
    IdleMeasurement m;
    m.power_w = r->mean_power_w;
    m.cpu_util = r->cpu_util;
    IdleVerdict v = JudgeIdle(r->cpu_util, r->mean_power_w, EstimateMaximumW(sampler_->domains()));
    m.busy = v.busy;
    m.busy_reason = v.reason;
    std::lock_guard<std::mutex> lock(mu_);
    idle_power_w_ = r->mean_power_w;
    idle_busy_ = v.busy;
    idle_domain_w_ = per_domain;
    return m;
  }

  void SetAttributionPid(int pid) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (pid > 0)
      attribution_pid_ = pid;
    else
      attribution_pid_.reset();
  }

  std::vector<TimelineSample> Timeline() const override { return sampler_->Timeline(); }

 private:
  struct WindowState {
    std::string name;
    bool started = false;
    EnergySnapshot begin;
    int64_t errors_begin = 0;
    std::optional<CpuTicks> cpu_begin;
    std::optional<int> pid;
    std::optional<uint64_t> pid_ticks_begin;
    std::optional<NetSnap> net_begin;
    std::optional<IoSnap> io_begin;
  };

  Env* const env_;
  const MeterOptions options_;
  const std::vector<SourceAttempt> attempts_;
  std::vector<std::unique_ptr<EnergySource>> sources_;
  std::unique_ptr<Sampler> sampler_;
  const bool node_metered_;  // false: local rank > 0, no source read (MeterOptions::local_rank)

  std::mutex start_mu_;
  bool started_ = false;  // GUARDED_BY(start_mu_)

  mutable std::mutex mu_;
  std::map<WindowId, WindowState> windows_;                    // GUARDED_BY(mu_)
  WindowId next_id_ = 1;                                       // GUARDED_BY(mu_)
  std::optional<double> idle_power_w_;                         // GUARDED_BY(mu_)
  bool idle_busy_ = false;                                     // GUARDED_BY(mu_)
  std::vector<std::pair<std::string, double>> idle_domain_w_;  // GUARDED_BY(mu_)
  std::optional<int> attribution_pid_;                         // GUARDED_BY(mu_)
};

}  // namespace

std::unique_ptr<Meter> NewMeterFromDetection(Env* env, const MeterOptions& options, DetectionReport report) {
  return std::make_unique<MeterImpl>(env, options, std::move(report));
}

Result<std::unique_ptr<Meter>> Meter::Create(Env* env, const MeterOptions& options) {
  // One meter per node: above local rank 0 no source is probed nor read
  // (not even the estimate); windows keep the clock and the CPU-time share.
  if (options.local_rank && *options.local_rank > 0) {
    if (options.interval.count() <= 0)
      return Status::InvalidArgument("sampling interval must be positive, e.g. --interval 100ms");
    return NewMeterFromDetection(env, options, DetectionReport{});
  }
  auto report = DetectSources(env, options);
  if (!report.ok()) return report.status();
  if (report->chosen.empty()) {
    std::string why;
    for (const auto& a : report->attempts) why += "\n  " + a.source + ": " + a.reason;
    return Status::FailedPrecondition("no energy source is usable on this machine (see 'wattlab meters'):" +
                                      why);
  }
  std::unique_ptr<Meter> m = NewMeterFromDetection(env, options, std::move(report).value());
  return m;
}

}  // namespace wattlab
