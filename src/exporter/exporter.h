// The node exporter: the meter's sources sampled at a fixed interval and
// served to Prometheus over HTTP (pull), through Debian's prometheus-cpp
// (Exposer + Registry). `wattlab exporter` (src/cli/cmd_exporter.cc) is its
// command; docs/scale.md documents the metrics.
//
// Metrics, in base units (the names are a contract):
//   wattlab_energy_joules_total{component,domain,source}  counter, per chosen
//       domain counted in the machine total (nested domains such as core-0
//       and an unasked psys are left out, so sum() is the machine's energy)
//   wattlab_power_watts{component,domain,source}  gauge, mean power over the
//       last interval (energy difference / time difference)
//   wattlab_estimated{source}  gauge, 1 when the source is a model, else 0
//   wattlab_sampler_errors_total  counter, failed reads (a source failing is
//       counted and logged; the exporter keeps serving the rest)
//   wattlab_process_energy_joules_total{pid,comm}  counter, the top N live
//       processes by energy attributed since the exporter first saw them;
//       a process leaving the top N (or exiting) loses its series
//   wattlab_build_info{version,revision}  gauge, always 1
//
// Process attribution uses the meter's rule (CPU-time share applied to CPU
// energy): each interval, a process gets (its utime+stime ticks / the
// machine's busy ticks) of the CPU domains' energy. The exporter has no idle
// baseline, so the shared idle power is split too.
//
// Ownership: the Exporter owns its sources, sampler and HTTP server; the Env
// must outlive it. Thread-safety: Run on one thread; the HTTP server's own
// threads only read the registry (prometheus-cpp's metrics are atomic).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/env.h"
#include "wattlab/meter.h"
#include "wattlab/status.h"

namespace wattlab {

inline constexpr const char* kExporterDefaultListen = "127.0.0.1:9464";

// An ADDR:PORT to listen on: a dotted IPv4 address or a bracketed IPv6 one
// ("[::1]:9464"), port 0..65535 (0: any free port, for tests).
struct ListenAddress {
  std::string host;  // as given, brackets kept for IPv6
  int port = 0;
  bool loopback = false;  // 127.0.0.0/8 or [::1]
  std::string ToString() const { return host + ":" + std::to_string(port); }
};
// InvalidArgument naming `--listen` and what is wrong.
Result<ListenAddress> ParseListenAddress(const std::string& text);

struct ExporterOptions {
  ListenAddress listen;
  std::chrono::nanoseconds interval = std::chrono::seconds(1);
  int top = 10;         // processes with a series; 0: none
  MeterOptions meter;   // sources; meter.interval is replaced by `interval`
  std::string version;  // wattlab_build_info labels
  std::string revision;
};

class Exporter {
 public:
  using LogFn = std::function<void(const std::string&)>;
  virtual ~Exporter() = default;

  // Detects the sources, takes a first reading (a source whose first read
  // fails is dropped, logged and counted as a sampler error) and starts
  // listening. InvalidArgument when the address cannot be bound (in use,
  // not an address of this machine), with civetweb's reason.
  static Result<std::unique_ptr<Exporter>> Start(Env* env, const ExporterOptions& options, LogFn log);

  // The port actually bound (differs from the requested one for port 0).
  virtual int port() const = 0;
  // Chosen sources, for the start-up line.
  virtual std::vector<std::string> sources() const = 0;
  // Samples every interval and updates the metrics until *stop is non-zero
  // (checked at least every 100 ms), then stops the sampler and the server.
  virtual Status Run(const std::atomic<int>* stop) = 0;
};

}  // namespace wattlab
