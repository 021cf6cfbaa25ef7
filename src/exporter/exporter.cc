// The node exporter (exporter.h): the meter's Sampler read every interval,
// its cumulative joules turned into prometheus-cpp counters and gauges.
#include "exporter/exporter.h"

#include <CivetServer.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/strings.h"
#include "meter/procfs.h"
#include "meter/sampler.h"

namespace wattlab {

namespace {

using std::chrono::nanoseconds;

double Seconds(nanoseconds d) { return std::chrono::duration<double>(d).count(); }

std::optional<int> ParseDecimal(const std::string& s, int max) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

bool IsIpv4(const std::string& h, bool* loopback) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t dot = h.find('.', start);
    parts.push_back(h.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (parts.size() != 4) return false;
  for (const auto& p : parts)
    if (p.size() > 3 || !ParseDecimal(p, 255)) return false;
  *loopback = parts[0] == "127";
  return true;
}

bool IsIpv6InBrackets(const std::string& h, bool* loopback) {
  if (h.size() < 4 || h.front() != '[' || h.back() != ']') return false;
  const std::string inner = h.substr(1, h.size() - 2);
  if (inner.find("::") == std::string::npos && std::count(inner.begin(), inner.end(), ':') != 7) return false;
  for (char c : inner)
    if (!(c == ':' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
      return false;
  *loopback = inner == "::1";
  return true;
}

// civetweb reports why it could not bind only through its log callback
// (the constructor's exception says "null context"); keep the last lines.
std::mutex g_civet_mu;
std::string g_civet_log;  // GUARDED_BY(g_civet_mu)

int CivetLog(const mg_connection*, const char* message) {
  std::lock_guard<std::mutex> lock(g_civet_mu);
  if (message) {
    if (!g_civet_log.empty()) g_civet_log += "; ";
    g_civet_log += message;
    if (g_civet_log.size() > 2000) g_civet_log.erase(0, g_civet_log.size() - 2000);
  }
  return 1;  // handled: civetweb prints nothing itself
}

// The comm field of /proc/<pid>/stat: between the first '(' and the last ')'.
std::string CommOf(const std::string& stat) {
  size_t open = stat.find('(');
  size_t close = stat.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return "";
  return stat.substr(open + 1, close - open - 1);
}

struct DomainSeries {
  size_t index = 0;  // into Sampler::domains()
  prometheus::Counter* energy = nullptr;
  prometheus::Gauge* power = nullptr;
};

struct ProcessState {
  std::string comm;
  uint64_t ticks = 0;                     // utime+stime at the last scan
  double energy_j = 0;                    // attributed since first seen
  prometheus::Counter* series = nullptr;  // non-null while in the top N
  double exported_j = 0;                  // what the series holds
  bool seen = false;                      // scratch: seen in this scan
};

class ExporterImpl : public Exporter {
 public:
  ExporterImpl(Env* env, const ExporterOptions& options, LogFn log)
      : env_(env), options_(options), log_(std::move(log)) {}

  ~ExporterImpl() override {
    exposer_.reset();  // stop serving before the registry goes
    if (sampler_) sampler_->Stop();
  }

  Status Init() {
    MeterOptions mo = options_.meter;
    mo.interval = options_.interval;
    WATTLAB_ASSIGN_OR_RETURN(DetectionReport rep, DetectSources(env_, mo));
    std::vector<Reading> scratch;
    for (auto& s : rep.chosen) {
      scratch.assign(s->domains().size(), Reading{});
      Status st = s->Read(scratch);
      if (!st.ok()) {
        ++start_errors_;
        log_("source " + s->name() + " failed its first reading and is left out: " + st.ToString());
        continue;
      }
      sources_.push_back(std::move(s));
    }
    if (sources_.empty())
      return Status::FailedPrecondition("no energy source could be read (see 'wattlab meters')");
    std::vector<EnergySource*> raw;
    for (auto& s : sources_) raw.push_back(s.get());
    // The exporter keeps no timeline: two rows are the least the sampler takes.
    sampler_ = std::make_unique<Sampler>(env_, raw, options_.interval, 2);
    WATTLAB_RETURN_IF_ERROR(sampler_->Start());

    registry_ = std::make_shared<prometheus::Registry>();
    auto& energy = prometheus::BuildCounter()
                       .Name("wattlab_energy_joules_total")
                       .Help("Energy per domain since the exporter started, joules")
                       .Register(*registry_);
    auto& power = prometheus::BuildGauge()
                      .Name("wattlab_power_watts")
                      .Help("Mean power per domain over the last sampling interval, watts")
                      .Register(*registry_);
    auto& estimated = prometheus::BuildGauge()
                          .Name("wattlab_estimated")
                          .Help("1 when the source is a model of CPU time (an estimate), 0 when measured")
                          .Register(*registry_);
    auto& errors = prometheus::BuildCounter()
                       .Name("wattlab_sampler_errors_total")
                       .Help("Failed source reads since the exporter started")
                       .Register(*registry_);
    process_family_ = &prometheus::BuildCounter()
                           .Name("wattlab_process_energy_joules_total")
                           .Help(
                               "CPU energy attributed to a process (CPU-time share) since the exporter "
                               "first saw it, joules; only the top N processes")
                           .Register(*registry_);
    auto& build = prometheus::BuildGauge()
                      .Name("wattlab_build_info")
                      .Help("wattlab version and git revision; always 1")
                      .Register(*registry_);

    const auto& domains = sampler_->domains();
    std::map<std::string, bool> source_estimated;
    for (size_t i = 0; i < domains.size(); ++i) {
      const DomainInfo& d = domains[i];
      auto [it, inserted] = source_estimated.emplace(d.source, d.estimated);
      if (!inserted) it->second = it->second || d.estimated;
      if (!d.in_total) continue;
      prometheus::Labels labels{
          {"component", ComponentName(d.component)}, {"domain", d.name}, {"source", d.source}};
      series_.push_back({i, &energy.Add(labels), &power.Add(labels)});
      if (d.component == Component::kCpu) cpu_domains_.push_back(i);
    }
    for (const auto& [source, est] : source_estimated) estimated.Add({{"source", source}}).Set(est ? 1 : 0);
    errors_ = &errors.Add({});
    errors_->Increment(static_cast<double>(start_errors_));
    build.Add({{"version", options_.version}, {"revision", options_.revision}}).Set(1);

    // Bind last: a bad address fails before any thread serves.
    std::vector<std::string> civet_options = {"listening_ports", options_.listen.ToString(), "num_threads",
                                              "2"};
    static CivetCallbacks callbacks;
    callbacks.log_message = &CivetLog;
    {
      std::lock_guard<std::mutex> lock(g_civet_mu);
      g_civet_log.clear();
    }
    try {
      exposer_ = std::make_unique<prometheus::Exposer>(civet_options, &callbacks);
    } catch (const std::exception& e) {
      std::string why;
      {
        std::lock_guard<std::mutex> lock(g_civet_mu);
        why = g_civet_log;
      }
      std::string msg = "cannot listen on " + options_.listen.ToString() + ": ";
      if (why.find("in use") != std::string::npos)
        msg += "the address is already in use (another exporter? choose another port with --listen)";
      else if (why.find("assign") != std::string::npos)
        msg += "the address is not one of this machine's";
      else
        msg += why.empty() ? e.what() : why;
      return Status::InvalidArgument(msg);
    }
    exposer_->RegisterCollectable(registry_);
    auto ports = exposer_->GetListeningPorts();
    port_ = ports.empty() ? options_.listen.port : ports.front();
    return Status::Ok();
  }

  int port() const override { return port_; }
  std::vector<std::string> sources() const override {
    std::vector<std::string> out;
    for (const auto& s : sources_) out.push_back(s->name());
    return out;
  }

  Status Run(const std::atomic<int>* stop) override {
    EnergySnapshot prev = sampler_->SampleNow();
    int64_t errors_seen = sampler_->error_count();
    auto cpu_prev = ReadProcStat(env_);
    ScanProcesses(0, 0);  // first sight: no energy yet
    std::string last_logged;
    nanoseconds last_log_t{0};
    nanoseconds next = prev.t + options_.interval;
    while (stop->load() == 0) {
      nanoseconds now = env_->NowMonotonic();
      if (now < next) {
        env_->SleepFor(std::min<nanoseconds>(next - now, std::chrono::milliseconds(100)));
        continue;
      }
      next += options_.interval;
      if (next <= now) next = now + options_.interval;  // fell behind: skip, never burst

      EnergySnapshot snap = sampler_->SampleNow();
      const double dt = Seconds(snap.t - prev.t);
      double cpu_j = 0;
      for (const auto& s : series_) {
        const double delta = std::max(0.0, snap.energy_j[s.index] - prev.energy_j[s.index]);
        s.energy->Increment(delta);
        if (dt > 0) s.power->Set(delta / dt);
      }
      for (size_t i : cpu_domains_) cpu_j += std::max(0.0, snap.energy_j[i] - prev.energy_j[i]);
      prev = std::move(snap);

      const int64_t count = sampler_->error_count();
      if (count > errors_seen) {
        errors_->Increment(static_cast<double>(count - errors_seen));
        const std::string msg = sampler_->FirstErrorSince(errors_seen).ToString();
        // One line per new kind of error, and a reminder at most once a minute.
        if (msg != last_logged || now - last_log_t >= std::chrono::seconds(60)) {
          log_("sampler error (" + std::to_string(count) +
               " so far, counted in wattlab_sampler_errors_total): " + msg);
          last_logged = msg;
          last_log_t = now;
        }
        errors_seen = count;
      }

      auto cpu_now = ReadProcStat(env_);
      uint64_t busy = 0;
      if (cpu_prev.ok() && cpu_now.ok() && cpu_now->Busy() >= cpu_prev->Busy())
        busy = cpu_now->Busy() - cpu_prev->Busy();
      if (cpu_now.ok()) cpu_prev = std::move(cpu_now);
      ScanProcesses(busy, cpu_j);
    }
    exposer_.reset();
    return sampler_->Stop();
  }

 private:
  // Reads every /proc/<pid>/stat, attributes `cpu_j` by each process's share
  // of `busy_ticks`, and keeps series for the top N only.
  void ScanProcesses(uint64_t busy_ticks, double cpu_j) {
    if (options_.top <= 0) return;
    auto entries = env_->ListDir("/proc");
    if (!entries.ok()) return;
    for (auto& [pid, p] : procs_) p.seen = false;
    for (const auto& e : *entries) {
      if (e.empty() || e.find_first_not_of("0123456789") != std::string::npos) continue;
      auto text = env_->ReadFile("/proc/" + e + "/stat");
      if (!text.ok()) continue;  // gone between the listing and the read
      auto st = ParsePidStat(*text);
      if (!st.ok()) continue;
      const uint64_t ticks = st->utime + st->stime;
      std::string comm = CommOf(*text);
      auto it = procs_.find(st->pid);
      if (it == procs_.end() || it->second.comm != comm || ticks < it->second.ticks) {
        // New (or a reused pid): counted from now on.
        if (it != procs_.end()) DropSeries(it->second);
        ProcessState fresh;
        fresh.comm = std::move(comm);
        fresh.ticks = ticks;
        fresh.seen = true;
        procs_[st->pid] = std::move(fresh);
        continue;
      }
      ProcessState& p = it->second;
      if (busy_ticks > 0) {
        const double share =
            std::min(1.0, static_cast<double>(ticks - p.ticks) / static_cast<double>(busy_ticks));
        p.energy_j += share * cpu_j;
      }
      p.ticks = ticks;
      p.seen = true;
    }
    for (auto it = procs_.begin(); it != procs_.end();) {
      if (!it->second.seen) {
        DropSeries(it->second);
        it = procs_.erase(it);
      } else {
        ++it;
      }
    }
    // The top N by attributed energy (processes with none get no series).
    std::vector<std::pair<double, int>> ranked;
    ranked.reserve(procs_.size());
    for (const auto& [pid, p] : procs_)
      if (p.energy_j > 0) ranked.emplace_back(p.energy_j, pid);
    const size_t n = std::min(ranked.size(), static_cast<size_t>(options_.top));
    std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n), ranked.end(),
                      [](const auto& a, const auto& b) {
                        return a.first > b.first || (a.first == b.first && a.second < b.second);
                      });
    std::vector<int> top;
    for (size_t i = 0; i < n; ++i) top.push_back(ranked[i].second);
    std::sort(top.begin(), top.end());
    for (auto& [pid, p] : procs_) {
      const bool in_top = std::binary_search(top.begin(), top.end(), pid);
      if (!in_top) {
        DropSeries(p);
        continue;
      }
      if (!p.series) {
        p.series = &process_family_->Add({{"pid", std::to_string(pid)}, {"comm", p.comm}});
        p.exported_j = 0;
      }
      if (p.energy_j > p.exported_j) {
        p.series->Increment(p.energy_j - p.exported_j);
        p.exported_j = p.energy_j;
      }
    }
  }

  void DropSeries(ProcessState& p) {
    if (!p.series) return;
    process_family_->Remove(p.series);
    p.series = nullptr;
    p.exported_j = 0;
  }

  Env* const env_;
  const ExporterOptions options_;
  LogFn log_;
  std::vector<std::unique_ptr<EnergySource>> sources_;
  std::unique_ptr<Sampler> sampler_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::vector<DomainSeries> series_;
  std::vector<size_t> cpu_domains_;
  prometheus::Counter* errors_ = nullptr;
  prometheus::Family<prometheus::Counter>* process_family_ = nullptr;
  std::unordered_map<int, ProcessState> procs_;
  int64_t start_errors_ = 0;
  int port_ = 0;
};

}  // namespace

Result<ListenAddress> ParseListenAddress(const std::string& text) {
  const std::string usage = " (expected ADDR:PORT, e.g. 127.0.0.1:9464 or [::1]:9464)";
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return Status::InvalidArgument("--listen '" + text + "' has no port" + usage);
  ListenAddress a;
  a.host = text.substr(0, colon);
  auto port = ParseDecimal(text.substr(colon + 1), 65535);
  if (!port) return Status::InvalidArgument("--listen '" + text + "': port must be 0..65535" + usage);
  a.port = *port;
  if (!IsIpv4(a.host, &a.loopback) && !IsIpv6InBrackets(a.host, &a.loopback))
    return Status::InvalidArgument("--listen '" + text + "': '" + a.host +
                                   "' is not an IPv4 address or a bracketed IPv6 address" + usage);
  return a;
}

Result<std::unique_ptr<Exporter>> Exporter::Start(Env* env, const ExporterOptions& options, LogFn log) {
  if (options.interval <= nanoseconds(0)) return Status::InvalidArgument("--interval must be > 0");
  auto e = std::make_unique<ExporterImpl>(env, options, std::move(log));
  WATTLAB_RETURN_IF_ERROR(e->Init());
  return std::unique_ptr<Exporter>(std::move(e));
}

}  // namespace wattlab
