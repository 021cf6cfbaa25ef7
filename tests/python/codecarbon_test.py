"""CodeCarbon-compatible output read back by Python's csv module:
`wattlab measure --codecarbon-csv FILE` (one row per command, appended) and
`wattlab runs --codecarbon` (one row per stored window), both with exactly
CodeCarbon 3.3.0's 38-column header (tests/fixtures/codecarbon/
emissions_header.csv); a file with another header is refused, not mixed.

argv: WATTLAB REPORT_FIXTURE_TOOL FIXTURES_DIR
"""

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

WATTLAB, TOOL, FIXTURES = sys.argv[1:4]
with open(os.path.join(FIXTURES, "codecarbon", "emissions_header.csv"), newline="") as f:
    HEADER = next(csv.reader(f))


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


class CodeCarbon(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="wattlab-cc-")
        shutil.copytree(os.path.join(FIXTURES, "e2e-powercap"), os.path.join(self.dir, "tree"))
        self.sys = os.path.join(self.dir, "tree", "sys")
        self.pkg = os.path.join(self.sys, "class/powercap/intel-rapl:0/energy_uj")
        self.dram = os.path.join(self.sys, "class/powercap/intel-rapl:0:0/energy_uj")
        self.env = dict(os.environ, XDG_STATE_HOME=self.dir)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def measure(self, csv_path, pkg_uj, dram_uj, extra=()):
        shell = f"echo {pkg_uj} > '{self.pkg}'; echo {dram_uj} > '{self.dram}'"
        return subprocess.run([WATTLAB, "measure", "--json", "--sysfs-root", self.sys, "--codecarbon-csv", csv_path,
                               *extra, "--", "sh", "-c", shell],
                              env=self.env, capture_output=True, text=True, timeout=120)

    def test_measure_rows_append_under_one_header(self):
        path = os.path.join(self.dir, "emissions.csv")
        r1 = self.measure(path, 1005000000, 502000000)  # 5 J package, 2 J dram
        self.assertEqual(r1.returncode, 0, r1.stderr)
        r2 = self.measure(path, 1041000000, 502000000, ["--intensity", "100", "--pue", "1.5"])  # 36 J
        self.assertEqual(r2.returncode, 0, r2.stderr)
        header, rows = read(path)
        self.assertEqual(header, HEADER)
        self.assertEqual(len(header), 38)
        self.assertEqual(len(rows), 2)
        a, b = rows
        self.assertRegex(a["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
        self.assertAlmostEqual(float(a["energy_consumed"]), 7 / 3.6e6, delta=1e-15)
        self.assertAlmostEqual(float(a["cpu_energy"]), 5 / 3.6e6, delta=1e-15)
        self.assertAlmostEqual(float(a["ram_energy"]), 2 / 3.6e6, delta=1e-15)
        self.assertEqual(a["gpu_energy"], "")
        self.assertAlmostEqual(float(a["emissions"]), 7 / 3.6e6 * 475 / 1000, delta=1e-15)
        j = json.loads(a and r1.stderr[r1.stderr.index("{"):])
        self.assertAlmostEqual(float(a["duration"]), j["duration_s"], places=9)
        self.assertAlmostEqual(float(a["cpu_power"]), 5 / j["duration_s"], places=6)
        self.assertAlmostEqual(float(a["emissions_rate"]), float(a["emissions"]) / j["duration_s"], delta=1e-15)
        self.assertEqual(a["project_name"], "wattlab")
        self.assertEqual(a["tracking_mode"], "machine")
        self.assertEqual(a["pue"], "1")
        for empty in ("water_consumed", "country_name", "longitude", "python_version", "codecarbon_version", "wue"):
            self.assertEqual(a[empty], "", empty)
        self.assertAlmostEqual(float(b["energy_consumed"]), 36 / 3.6e6, delta=1e-15)
        self.assertAlmostEqual(float(b["emissions"]), 36 / 3.6e6 * 100 * 1.5 / 1000, delta=1e-15)
        self.assertEqual(b["pue"], "1.5")

    def test_another_header_is_refused_before_measuring(self):
        path = os.path.join(self.dir, "other.csv")
        with open(path, "w") as f:
            f.write("timestamp,energy\n2024,1\n")
        r = self.measure(path, 1005000000, 502000000)
        self.assertEqual(r.returncode, 125, r.stderr)
        self.assertIn("another header than CodeCarbon 3.3.0's emissions.csv", r.stderr)
        with open(self.pkg) as f:
            self.assertEqual(f.read().strip(), "1000000000")  # the command never ran
        with open(path) as f:
            self.assertEqual(f.read(), "timestamp,energy\n2024,1\n")

    def test_runs_one_row_per_window(self):
        db = os.path.join(self.dir, "study.db")
        subprocess.run([TOOL, "--db", db], check=True, timeout=120)
        rows_json = json.loads(subprocess.run([WATTLAB, "runs", "--db", db, "--json"], capture_output=True,
                                              text=True, check=True).stdout)
        r = subprocess.run([WATTLAB, "runs", "--db", db, "--codecarbon"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = os.path.join(self.dir, "runs.csv")
        with open(out, "w") as f:
            f.write(r.stdout)
        header, rows = read(out)
        self.assertEqual(header, HEADER)
        self.assertEqual(len(rows), len(rows_json))
        for cc, rr in zip(rows, rows_json):
            self.assertEqual(cc["project_name"], rr["study"])
            self.assertEqual(cc["run_id"], f'{rr["run_id"]}/{rr["phase"]}/{rr["window"]}')
            self.assertAlmostEqual(float(cc["energy_consumed"]), rr["energy_j"] / 3.6e6, delta=1e-12)
            self.assertAlmostEqual(float(cc["duration"]), rr["duration_s"], places=9)
        # -o appends under the same header; another header is refused.
        appended = os.path.join(self.dir, "append.csv")
        for _ in range(2):
            a = subprocess.run([WATTLAB, "runs", "--db", db, "--codecarbon", "-o", appended], capture_output=True,
                               text=True)
            self.assertEqual(a.returncode, 0, a.stderr)
        header, rows2 = read(appended)
        self.assertEqual(header, HEADER)
        self.assertEqual(len(rows2), 2 * len(rows))
        bad = os.path.join(self.dir, "bad.csv")
        with open(bad, "w") as f:
            f.write("a,b\n")
        b = subprocess.run([WATTLAB, "runs", "--db", db, "--codecarbon", "-o", bad], capture_output=True, text=True)
        self.assertEqual(b.returncode, 1, b.stderr)
        self.assertIn("another header", b.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
