"""The Python package (python/wattlab) end to end, run by ctest with
/usr/bin/python3 and Debian's python3-torch:

* under `wattlab measure --json` a real PyTorch loop's two epoch windows
  come back as two windows with their samples (the protocol path);
* without a parent the same script measures in-process through the built
  wattlab._native (asserted by its __file__);
* the decorator, begin/end_window and str() of a window.

Environment (set by tests/python/CMakeLists.txt): WATTLAB_BINARY,
WATTLAB_NATIVE (the built extension), WATTLAB_BUILD_DIR, WATTLAB_REPO.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

BINARY = os.environ["WATTLAB_BINARY"]
NATIVE = os.environ["WATTLAB_NATIVE"]
REPO = os.environ["WATTLAB_REPO"]
SCRIPT = os.path.join(REPO, "tests", "python", "train_two_epochs.py")


def child_env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(REPO, "python")
    env.pop("WATTLAB_CONTROL", None)
    # Not a rank of a job unless a test says so (one meter per node).
    env.pop("SLURM_LOCALID", None)
    env.pop("LOCAL_RANK", None)
    env.update(extra)
    return env


class PythonPackage(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="wattlab-py-")
        self.state = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def test_torch_loop_under_measure_gives_two_epoch_windows(self):
        out = os.path.join(self.state, "script.json")
        timeline = os.path.join(self.state, "timeline.csv")
        r = subprocess.run(
            [BINARY, "measure", "--json", "--interval", "10ms", "--timeline", timeline, "--",
             "/usr/bin/python3", SCRIPT, "--steps", "40", "--json-out", out],
            env=child_env(XDG_STATE_HOME=self.state), capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        summary = json.loads(r.stderr[r.stderr.index("{"):])
        names = [w["name"] for w in summary["windows"]]
        self.assertEqual(names, ["epoch 1", "epoch 2", "predict"])
        for w in summary["windows"][:2]:
            self.assertEqual(w["samples"], 40 * 32)
            self.assertFalse(w["closed_at_exit"])
            self.assertGreater(w["duration_s"], 0)
            self.assertGreaterEqual(w["energy_j"], 0)
            for k in ("energy_per_sample_j", "sources", "estimated", "start_unix_s", "meter_samples", "domains"):
                self.assertIn(k, w)
        self.assertEqual(summary["control_warnings"], [])
        # The windows lie inside the whole command's window, in order.
        self.assertLess(summary["windows"][0]["start_s"], summary["windows"][1]["start_s"])
        with open(out) as f:
            script = json.load(f)
        self.assertEqual(script["mode"], "control")
        self.assertIsNone(script["windows"][0]["energy_j"])  # the parent measures
        self.assertGreater(script["windows"][0]["duration_s"], 0)
        with open(timeline) as f:
            header = f.readline().strip().split(",")
            rows = [line.rstrip("\n").split(",") for line in f]
        self.assertEqual(header[0], "t_s")
        self.assertEqual(header[-2:], ["unix_s", "windows"])
        # Each sample names exactly the windows whose span holds it.
        spans = [(w["name"], w["start_s"], w["start_s"] + w["duration_s"]) for w in summary["windows"]]
        for row in rows:
            t = float(row[0])
            expected = [n for n, a, b in spans if a <= t <= b]
            self.assertEqual(row[-1].split(";") if row[-1] else [], expected, row)
        if spans[0][2] - spans[0][1] > 0.05:  # long enough for several 10 ms samples
            self.assertTrue(any(row[-1] == "epoch 1" for row in rows), spans)
        # unix_s is t_s on the wall clock.
        start_unix = summary["windows"][0]["start_unix_s"] - summary["windows"][0]["start_s"]
        for row in rows:
            self.assertAlmostEqual(float(row[-2]), start_unix + float(row[0]), delta=1e-3)

    def test_torch_loop_without_parent_measures_in_process(self):
        out = os.path.join(self.state, "script.json")
        r = subprocess.run(
            ["/usr/bin/python3", SCRIPT, "--expect-native", NATIVE, "--json-out", out],
            env=child_env(), capture_output=True, text=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("wattlab._native: " + NATIVE, r.stdout)
        with open(out) as f:
            script = json.load(f)
        self.assertEqual(script["mode"], "native")
        self.assertEqual([w["name"] for w in script["windows"]], ["epoch 1", "epoch 2", "predict"])
        for w in script["windows"]:
            self.assertGreater(w["duration_s"], 0)
            self.assertIsNotNone(w["energy_j"])
            self.assertGreaterEqual(w["energy_j"], 0)
        self.assertEqual(script["windows"][0]["samples"], 128)

    def test_api_in_process(self):
        code = r"""
import wattlab
assert wattlab.mode() == "native", wattlab.mode()
with wattlab.window("a", samples=3) as w:
    sum(range(100000))
s = str(w)
assert s.startswith("Window(name='a', duration_s="), s
assert "energy_j=" in s and "samples=3" in s, s
assert w.energy_j is not None and w.duration_s > 0 and w.time == w.duration_s

b = wattlab.begin_window("outer")
c = wattlab.begin_window("inner")
assert wattlab.end_window("outer") is b     # overlapping, not nested
assert wattlab.end_window("inner") is c
assert b.duration_s >= 0 and c.energy_j is not None

@wattlab.track
def work(n):
    return sum(range(n))
assert work(1000) == 499500
assert work.last_window.name.endswith("work"), work.last_window

@wattlab.track(name="named")
def other():
    return 1
other()
assert other.last_window.name == "named"
try:
    wattlab.end_window("never begun")
    raise SystemExit("no error")
except ValueError:
    pass
print("ok")
"""
        r = subprocess.run(["/usr/bin/python3", "-c", code], env=child_env(), capture_output=True, text=True,
                           timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout, "ok\n")

    def test_in_process_local_rank_above_0_reports_its_share_not_node_energy(self):
        # One meter per node (docs/scale.md): torchrun's LOCAL_RANK=1 reads no
        # energy; LOCAL_RANK=0 meters the node as a lone process does.
        code = r"""
import json, sys, wattlab
with wattlab.window("work", samples=1) as w:
    sum(range(3000000))
print(json.dumps({"energy_j": w.energy_j, "local_rank": w.local_rank, "by": w.node_metered_by,
                  "share": w.attributed_share, "sources": w.sources, "details": w.details}))
"""
        out = {}
        for rank in ("0", "1"):
            r = subprocess.run(["/usr/bin/python3", "-c", code], env=child_env(LOCAL_RANK=rank),
                               capture_output=True, text=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            out[rank] = json.loads(r.stdout)
        one = out["1"]
        self.assertIsNone(one["energy_j"])
        self.assertEqual(one["local_rank"], 1)
        self.assertEqual(one["by"], "local rank 0")
        self.assertEqual(one["sources"], [])
        self.assertEqual(one["details"]["domains"], [])
        self.assertIsNone(one["details"]["attributed_energy_j"])
        self.assertIsNone(one["details"]["energy_per_sample_j"])
        self.assertIsNotNone(one["share"])
        self.assertGreater(one["share"], 0)  # a busy loop of its own
        zero = out["0"]
        self.assertEqual(zero["local_rank"], 0)
        self.assertIsNone(zero["by"])
        self.assertIsNotNone(zero["energy_j"])
        self.assertGreater(zero["energy_j"], 0)
        self.assertNotEqual(zero["sources"], [])
        self.assertIsNotNone(zero["details"]["attributed_energy_j"])

    def test_api_under_a_parent_speaks_the_protocol(self):
        code = r"""
import wattlab
assert wattlab.mode() == "control"
wattlab.begin_window("outer")
with wattlab.window("inner", samples=5) as w:
    w.add_samples(2)
print(w)
wattlab.end_window("outer")
"""
        r = subprocess.run([BINARY, "measure", "--json", "--", "/usr/bin/python3", "-c", code],
                           env=child_env(XDG_STATE_HOME=self.state), capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("Window(name='inner', duration_s="), r.stdout)
        self.assertIn("energy_j=None, samples=7", r.stdout)
        summary = json.loads(r.stderr[r.stderr.index("{"):])
        self.assertEqual([(w["name"], w.get("samples")) for w in summary["windows"]],
                         [("outer", None), ("inner", 7)])


if __name__ == "__main__":
    unittest.main(verbosity=2)
