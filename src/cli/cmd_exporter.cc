// wattlab exporter [--listen ADDR:PORT] [--interval DUR] [--top N]: a
// long-running Prometheus node exporter (src/exporter, docs/scale.md).
// Built only with Debian's prometheus-cpp-dev; without it the command says
// so and exits 2.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/strings.h"
#ifdef WATTLAB_HAVE_EXPORTER
#include "exporter/exporter.h"
#endif

namespace wattlab::cli {

namespace {

struct ExporterCliOptions {
  std::string listen = "127.0.0.1:9464";
  std::optional<std::chrono::nanoseconds> interval;
  int64_t top = 10;
  MeterFlags meter;
};

#ifdef WATTLAB_HAVE_EXPORTER
std::atomic<int> g_exporter_signal{0};

int RunExporter(const ExporterCliOptions& o) {
  auto listen = ParseListenAddress(o.listen);
  if (!listen.ok()) return ReportError("exporter", listen.status());
  auto env = OpenEnv(o.meter);
  if (!env.ok()) return ReportError("exporter", env.status());
  auto meter_options = o.meter.ResolveOptions(env->get());
  if (!meter_options.ok()) return ReportError("exporter", meter_options.status());
  if (!listen->loopback)
    std::fprintf(stderr,
                 "wattlab exporter: warning: listening on %s, which is not a loopback address: anyone who "
                 "can reach this machine can read its power and process names\n",
                 listen->ToString().c_str());

  ExporterOptions eo;
  eo.listen = *listen;
  eo.interval = o.interval.value_or(std::chrono::seconds(1));
  eo.top = static_cast<int>(std::min<int64_t>(o.top, 100000));
  eo.meter = *meter_options;
  eo.version = WattlabVersionNumber();
  eo.revision = WattlabRevision();
  auto log = [](const std::string& line) {
    std::fprintf(stderr, "wattlab exporter: %s\n", line.c_str());
    std::fflush(stderr);
  };
  auto exporter = Exporter::Start(env->get(), eo, log);
  if (!exporter.ok()) return ReportError("exporter", exporter.status());
  Status watch = (*env)->WatchSignals({Signal::kInt, Signal::kTerm}, &g_exporter_signal,
                                      /*reset_after_first=*/true);
  if (!watch.ok()) return ReportError("exporter", watch);
  const std::string host = listen->host;
  std::fprintf(stderr, "wattlab exporter: listening on http://%s:%d/metrics (sources: %s; every %s s)\n",
               host.c_str(), (*exporter)->port(), Join((*exporter)->sources(), ", ").c_str(),
               FormatDouble(std::chrono::duration<double>(eo.interval).count()).c_str());
  std::fflush(stderr);
  Status st = (*exporter)->Run(&g_exporter_signal);
  exporter->reset();
  (*env)->WatchSignals({Signal::kInt, Signal::kTerm}, nullptr, false);
  if (!st.ok()) {
    // The sampler's first error: already counted and logged while serving.
    log("stopped; the sampler met errors (first: " + st.ToString() + ")");
    return kExitOk;
  }
  log("stopped");
  return kExitOk;
}
#else
int RunExporter(const ExporterCliOptions&) {
  std::fprintf(stderr,
               "wattlab exporter: this wattlab was built without prometheus-cpp; install Debian's "
               "prometheus-cpp-dev (scripts/setup.sh does) and rebuild\n");
  return kExitUsage;
}
#endif

}  // namespace

CommandFn AddExporter(CLI::App* root) {
  auto o = std::make_shared<ExporterCliOptions>();
  CLI::App* cmd = AddCommand(root, "exporter",
                             "Serve this machine's energy (joules) and power (watts) per domain, and the top "
                             "processes' attributed energy, to Prometheus at http://ADDR:PORT/metrics until "
                             "SIGTERM or Ctrl-C.");
  AddString(cmd, "--listen", &o->listen, "ADDR:PORT",
            "address to listen on (default 127.0.0.1:9464; a non-loopback address prints a warning; port 0 "
            "picks a free one)");
  AddDuration(cmd, "--interval", &o->interval, std::chrono::milliseconds(10), std::chrono::hours(1), "DUR",
              "sampling interval; wattlab_power_watts is the mean over it (default 1s)");
  AddCount(cmd, "--top", &o->top, 0, "N",
           "export wattlab_process_energy_joules_total for the top N processes by attributed energy "
           "(default 10; 0: none)");
  o->meter.Register(cmd, /*with_interval=*/false);
  return [o](const Invocation&) { return RunExporter(*o); };
}

}  // namespace wattlab::cli
