#!/usr/bin/python3
"""`wattlab exporter` end to end, its /metrics parsed by prometheus_client.

The exporter runs on tests/fixtures/e2e-powercap (copied to a temp folder, so
the test can rewrite energy_uj) and the fake NVML of tests/meter (a GPU whose
total-energy call is switched off, so wattlab reads its power, 150 W, and
integrates it). Each case is one CTest test:

  parse     every metric family of the issue, with its labels, parses
  rate      a counter step is exported exactly; power x time for the GPU
  failure   a source failing is counted and logged, serving goes on; SIGTERM
            stops it cleanly (exit 0)
  memory    1,000 scrapes grow VmRSS by less than 1 MiB
  errors    bad flag, bad address, address in use: exit 2, clear messages

Usage: exporter_test.py CASE WATTLAB FAKE_NVML FIXTURES
"""

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from prometheus_client.parser import text_string_to_metric_families

CASE, WATTLAB, FAKE_NVML, FIXTURES = sys.argv[1:5]
INTERVAL_S = 0.2


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


class Exporter:
    """One `wattlab exporter` on a private copy of the fixture tree."""

    def __init__(self, tmp, args=(), env_extra=None, sysfs=True):
        self.tmp = tmp
        self.sys = os.path.join(tmp, "tree", "sys")
        if sysfs and not os.path.exists(self.sys):
            shutil.copytree(os.path.join(FIXTURES, "e2e-powercap"), os.path.join(tmp, "tree"))
        env = dict(os.environ)
        env.update({
            "XDG_STATE_HOME": os.path.join(tmp, "state"),
            "WATTLAB_SYSFS_ROOT": self.sys if sysfs else os.path.join(tmp, "empty-sys"),
            "WATTLAB_DEV_ROOT": os.path.join(tmp, "empty-dev"),
            "WATTLAB_NVML_LIBRARY": FAKE_NVML,
            "FAKE_NVML_NO_ENERGY": "1",
            "FAKE_NVML_POWER_MW": "150000",
            "WATTLAB_CPU_TDP_W": "65",
        })
        env.update(env_extra or {})
        os.makedirs(os.path.join(tmp, "empty-sys"), exist_ok=True)
        os.makedirs(os.path.join(tmp, "empty-dev"), exist_ok=True)
        self.err_path = os.path.join(tmp, "exporter.err")
        self.err = open(self.err_path, "w")
        argv = [WATTLAB, "exporter", "--listen", "127.0.0.1:0", "--interval", "%dms" % (INTERVAL_S * 1000)]
        self.proc = subprocess.Popen(argv + list(args), stdout=subprocess.DEVNULL, stderr=self.err, env=env)
        self.port = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/metrics", self.stderr())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                fail("exporter exited with %d before listening:\n%s" % (self.proc.returncode, self.stderr()))
            time.sleep(0.05)
        check(self.port, "exporter did not say where it listens:\n" + self.stderr())

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def scrape_text(self):
        # A connection per scrape, as civetweb closes idle ones (keep-alive off).
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", "/metrics")
        r = conn.getresponse()
        body = r.read().decode()
        conn.close()
        check(r.status == 200, "GET /metrics: HTTP %d" % r.status)
        return body

    def scrape(self):
        """{(sample name, frozenset(labels)): value}, and the families by name."""
        families = {f.name: f for f in text_string_to_metric_families(self.scrape_text())}
        samples = {}
        for f in families.values():
            for s in f.samples:
                samples[(s.name, frozenset(s.labels.items()))] = s.value
        return samples, families

    def value(self, samples, name, **labels):
        key = (name, frozenset(labels.items()))
        check(key in samples, "no sample %s%s; have %s" % (name, labels, sorted(k[0] for k in samples)))
        return samples[key]

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        fail("no VmRSS")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("exporter did not stop within 10 s of SIGTERM")
        self.err.close()
        return rc


def set_uj(path, uj, truncate=False):
    # In place (the source keeps the file open and re-reads it), and without
    # truncating: a counter only grows, so the new text is never shorter and
    # a read at any moment sees a whole number.
    with open(path, "r+") as f:
        f.write("%d\n" % uj)
        if truncate:
            f.truncate()


def read_uj(path):
    with open(path) as f:
        return int(f.read())


def wait_intervals(n):
    time.sleep(n * INTERVAL_S)


def case_parse(tmp):
    e = Exporter(tmp, ["--top", "3"])
    wait_intervals(3)
    samples, families = e.scrape()
    check(families["wattlab_energy_joules"].type == "counter", "energy is not a counter")
    check(families["wattlab_power_watts"].type == "gauge", "power is not a gauge")
    check(families["wattlab_sampler_errors"].type == "counter", "sampler errors is not a counter")
    for comp, dom, src in [("cpu", "package-0", "rapl-powercap"), ("dram", "dram-0", "rapl-powercap"),
                           ("gpu", "gpu-0", "nvml")]:
        e.value(samples, "wattlab_energy_joules_total", component=comp, domain=dom, source=src)
        e.value(samples, "wattlab_power_watts", component=comp, domain=dom, source=src)
    check(e.value(samples, "wattlab_estimated", source="rapl-powercap") == 0, "rapl-powercap marked estimated")
    check(e.value(samples, "wattlab_estimated", source="nvml") == 0, "nvml marked estimated")
    check(e.value(samples, "wattlab_sampler_errors_total") == 0, "sampler errors on a good fixture")
    build = [s for s in families["wattlab_build_info"].samples]
    check(len(build) == 1 and build[0].value == 1 and set(build[0].labels) == {"version", "revision"},
          "build_info: %s" % build)
    # The package counter moves, so processes get CPU energy; --top 3 bounds them.
    pkg = os.path.join(e.sys, "class/powercap/intel-rapl:0/energy_uj")
    base = read_uj(pkg)
    t_end = time.monotonic() + 2
    burn = 0
    while time.monotonic() < t_end:  # this process uses CPU, so it has a share
        for i in range(20000):
            burn += i
        set_uj(pkg, base + int((2 - (t_end - time.monotonic())) * 20e6))
    wait_intervals(2)
    samples, families = e.scrape()
    check(families["wattlab_process_energy_joules"].type == "counter", "process energy is not a counter")
    procs = families["wattlab_process_energy_joules"].samples
    check(0 < len(procs) <= 3, "process series: %d, want 1..3 (--top 3)" % len(procs))
    for s in procs:
        check(set(s.labels) == {"pid", "comm"} and s.labels["pid"].isdigit() and s.value > 0,
              "process sample %s" % (s,))
    check(e.stop() == 0, "exporter exit code after SIGTERM")

    # Without counters, the estimate serves and says so.
    tmp2 = os.path.join(tmp, "estimate")
    os.makedirs(tmp2)
    e = Exporter(tmp2, sysfs=False)
    wait_intervals(2)
    samples, _ = e.scrape()
    check(e.value(samples, "wattlab_estimated", source="estimate") == 1, "estimate not marked estimated")
    e.value(samples, "wattlab_energy_joules_total", component="cpu", domain="cpu", source="estimate")
    check(e.stop() == 0, "exporter exit code after SIGTERM (estimate)")


def case_rate(tmp):
    e = Exporter(tmp)
    pkg = os.path.join(e.sys, "class/powercap/intel-rapl:0/energy_uj")
    wait_intervals(2)
    s0, _ = e.scrape()
    t0 = time.monotonic()
    # A counter step of 7 J: exported exactly, once the exporter has sampled.
    set_uj(pkg, read_uj(pkg) + 7000000)
    time.sleep(5.0)
    s1, _ = e.scrape()
    t1 = time.monotonic()
    lab = dict(component="cpu", domain="package-0", source="rapl-powercap")
    d_pkg = e.value(s1, "wattlab_energy_joules_total", **lab) - e.value(s0, "wattlab_energy_joules_total", **lab)
    check(abs(d_pkg - 7.0) < 1e-6, "package counter rose by %r J, want exactly 7 J" % d_pkg)
    # The GPU: 150 W read as power and integrated, so it rises by 150 W x the
    # time between the scrapes. Each scrape sees the value of the exporter's
    # last update, between 0 and one interval old, so the difference may be
    # off by up to one interval of energy either way, plus the time between
    # our clock reading and the exporter's update (its loop may wake late on
    # a loaded machine; 0.3 s covers the worst seen on a 2-core VM at load
    # 20): tolerance 150 W x (0.2 s + 0.3 s) = 75 J of ~750 J, 10 %. A unit
    # slip (mW as W, a doubled integration) is off by far more.
    gl = dict(component="gpu", domain="gpu-0", source="nvml")
    d_gpu = e.value(s1, "wattlab_energy_joules_total", **gl) - e.value(s0, "wattlab_energy_joules_total", **gl)
    want = 150.0 * (t1 - t0)
    check(abs(d_gpu - want) <= 150.0 * (INTERVAL_S + 0.3),
          "gpu counter rose by %.3f J over %.3f s, want 150 W x time = %.3f J" % (d_gpu, t1 - t0, want))
    # The gauge is the mean over the last interval: exactly the constant 150 W.
    p = e.value(s1, "wattlab_power_watts", **gl)
    check(abs(p - 150.0) < 1e-6, "gpu power gauge %r W, want 150 W" % p)
    # No counter moved in the last interval: the package reads 0 W.
    check(e.value(s1, "wattlab_power_watts", **lab) == 0, "package power should be 0 W with a still counter")
    check(e.stop() == 0, "exporter exit code after SIGTERM")


def case_failure(tmp):
    e = Exporter(tmp)
    pkg = os.path.join(e.sys, "class/powercap/intel-rapl:0/energy_uj")
    good = read_uj(pkg)
    wait_intervals(2)
    with open(pkg, "r+") as f:
        f.write("not a number\n")
    wait_intervals(5)
    check(e.proc.poll() is None, "exporter died when a source failed:\n" + e.stderr())
    s, _ = e.scrape()
    errors = e.value(s, "wattlab_sampler_errors_total")
    check(errors >= 1, "sampler errors %r after a bad energy_uj, want >= 1" % errors)
    check("sampler error" in e.stderr() and "rapl-powercap" in e.stderr(),
          "no log line naming the failing source:\n" + e.stderr())
    # The other sources are still served: the GPU keeps rising.
    gl = dict(component="gpu", domain="gpu-0", source="nvml")
    g0 = e.value(s, "wattlab_energy_joules_total", **gl)
    set_uj(pkg, good + 3000000, truncate=True)  # the source recovers: its gap is covered
    wait_intervals(5)
    s, _ = e.scrape()
    check(e.value(s, "wattlab_energy_joules_total", **gl) > g0, "gpu counter stopped with the failing package")
    lab = dict(component="cpu", domain="package-0", source="rapl-powercap")
    check(abs(e.value(s, "wattlab_energy_joules_total", **lab) - 3.0) < 1e-6,
          "package counter after recovery: %r J, want 3 J" % e.value(s, "wattlab_energy_joules_total", **lab))
    lines = e.stderr().count("sampler error")
    check(lines <= 3, "the failing source was logged %d times in 1 s, want one line per kind of error" % lines)
    rc = e.stop()
    check(rc == 0, "exit code %d after SIGTERM, want 0" % rc)
    check("stopped" in e.stderr(), "no 'stopped' line:\n" + e.stderr())


def case_memory(tmp):
    e = Exporter(tmp, ["--interval", "1s"])
    for _ in range(100):  # warm up: allocator arenas, civetweb's threads, series
        e.scrape_text()
    before = e.rss_kib()
    for _ in range(1000):
        e.scrape_text()
    after = e.rss_kib()
    print("VmRSS %d KiB -> %d KiB after 1000 scrapes (%+d KiB)" % (before, after, after - before))
    check(after - before < 1024, "VmRSS grew by %d KiB over 1000 scrapes, want < 1024 KiB" % (after - before))
    check(e.stop() == 0, "exporter exit code after SIGTERM")


def run(args):
    p = subprocess.run([WATTLAB, "exporter"] + args, capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, WATTLAB_NVML_LIBRARY=FAKE_NVML))
    return p.returncode, p.stderr


def case_errors(tmp):
    rc, err = run(["--bogus"])
    check(rc == 2 and "unknown option --bogus" in err, "bad flag: rc %d, stderr %r" % (rc, err))
    rc, err = run(["--listen", "1.2.3:9464"])
    check(rc == 2 and "not an IPv4 address" in err, "bad address: rc %d, stderr %r" % (rc, err))
    rc, err = run(["--listen", "127.0.0.1:99999"])
    check(rc == 2 and "port must be 0..65535" in err, "bad port: rc %d, stderr %r" % (rc, err))
    rc, err = run(["--interval", "0s"])
    check(rc == 2 and "--interval" in err, "bad interval: rc %d, stderr %r" % (rc, err))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        rc, err = run(["--listen", "127.0.0.1:%d" % port])
        check(rc == 2 and "already in use" in err, "address in use: rc %d, stderr %r" % (rc, err))
    # Another machine's address: warned about, then refused by the kernel.
    rc, err = run(["--listen", "192.0.2.1:9464"])
    check("not a loopback address" in err, "no warning for a non-loopback address: %r" % err)
    check(rc == 2 and "not one of this machine's" in err, "foreign address: rc %d, stderr %r" % (rc, err))


def main():
    cases = {"parse": case_parse, "rate": case_rate, "failure": case_failure, "memory": case_memory,
             "errors": case_errors}
    tmp = tempfile.mkdtemp(prefix="wattlab-exporter-%s-" % CASE)
    try:
        cases[CASE](tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok: exporter " + CASE)


if __name__ == "__main__":
    main()
