#!/usr/bin/python3
"""Side-by-side workload benchmark: wattlab's engine (through the real
`wattlab train|infer --json`) against the same loop in /usr/bin/python3 with
Debian's python3-torch (py_baseline.py), same model, batch, threads and
libtorch, alternating sides run by run so machine noise hits both alike.

Prints a Markdown report and writes every raw run as JSON (--out).

Suites (--suite), one command each (bench/workload/run.sh BUILD --suite S):
  full   the broad comparison (training and inference throughput, a whole
         epoch, bf16, reference BLAS): the figures of docs/benchmarks.md
  epoch  issue 11's training check: LeNet, one Fashion-MNIST epoch, batch 64,
         SGD lr 0.01 momentum 0.9, 2 threads, default settings on both sides;
         wattlab's train window against Python's training loop, and both whole
         processes (interpreter / binary start to exit); medians and ratios
  infer  issue 11's inference check: throughput of lenet, resnet18,
         mobilenetv2 and vgg16 at batch 1 and 32; medians and ratios
Sides alternate run by run (which goes first flips every repetition).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"


ENV = dict(os.environ)


def run_json(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit("failed (%d): %s\n%s%s" % (p.returncode, " ".join(cmd), p.stdout, p.stderr))
    return json.loads(p.stdout), wall


def ours_train(a, m, batch, steps, warmup, precision="fp32"):
    j, _ = run_json([a.wattlab, "train", "--model", m, "--dataset", "synthetic:3x32x32:%d" % a.train_samples,
                     "--steps", str(steps), "--batch-size", str(batch), "--threads", str(a.threads),
                     "--warmup-steps", str(warmup), "--no-eval", "--idle-seconds", "0", "--lr", "0.001",
                     "--precision", precision, "--json"])
    return {"samples_per_s": j["samples_per_s"], "params": j["model"]["params"], "macs": j["model"]["macs"],
            "versions": j["versions"]}


def py_train(a, m, batch, steps, warmup):
    j, _ = run_json([PY, os.path.join(HERE, "py_baseline.py"), "train", "--model", m, "--batch", str(batch),
                     "--threads", str(a.threads), "--steps", str(steps), "--warmup", str(warmup),
                     "--train-samples", str(a.train_samples)])
    return j


def ours_infer(a, m, batch, samples, precision="fp32"):
    j, _ = run_json([a.wattlab, "infer", "--model", m, "--batch-size", str(batch), "--samples", str(samples),
                     "--threads", str(a.threads), "--warmup-batches", "5", "--idle-seconds", "0",
                     "--precision", precision, "--conv-weights", a.conv_weights, "--json"])
    return {"samples_per_s": j["samples_per_s"], "params": j["model"]["params"], "macs": j["model"]["macs"],
            "latency_p50_ms": j["latency_ms"]["p50"]}


def py_infer(a, m, batch, samples):
    j, _ = run_json([PY, os.path.join(HERE, "py_baseline.py"), "infer", "--model", m, "--batch", str(batch),
                     "--threads", str(a.threads), "--samples", str(samples), "--warmup", "5"])
    return j


def median_ratio(pairs, key):
    return statistics.median(r["ours"][key] / r["py"][key] for r in pairs)


def alternate(rep, run_ours, run_py, label=""):
    pair = {}
    for side in (["ours", "py"] if rep % 2 == 0 else ["py", "ours"]):
        t0 = time.perf_counter()
        pair[side] = run_ours() if side == "ours" else run_py()
        print("  rep %d %s %s: %.1f s" % (rep + 1, label, side, time.perf_counter() - t0), file=sys.stderr, flush=True)
    return pair


def suite_epoch(a):
    """LeNet, one epoch: wattlab's train window and whole process vs Python's loop and whole process."""
    lr, momentum, wd, batch = 0.01, 0.9, 5e-4, 64
    steps = ["--steps", "20"] if a.quick else ["--epochs", "1"]

    def ours():
        # Default settings otherwise: the OpenMP wait policy wattlab chooses, the
        # idle baseline it reuses or measures (part of the whole process).
        cmd = [a.wattlab, "train", "--model", "lenet", "--batch-size", str(batch), "--optimizer", "sgd",
               "--lr", str(lr), "--momentum", str(momentum), "--weight-decay", str(wd),
               "--threads", str(a.threads), "--no-eval", "--warmup-steps", "0", "--json"] + steps
        j, wall = run_json(cmd)
        return {"train_s": j["phases"]["train"]["duration_s"], "process_s": wall,
                "samples": j["samples"], "omp": j.get("omp_wait_policy", {}).get("policy", "?"),
                "idle": j["meter"].get("idle_baseline", "?")}

    def py():
        cmd = [PY, os.path.join(HERE, "py_baseline.py"), "epoch", "--threads", str(a.threads), "--batch",
               str(batch), "--lr", str(lr), "--momentum", str(momentum), "--weight-decay", str(wd)]
        if a.quick:
            cmd += ["--max-samples", str(20 * batch)]
        j, wall = run_json(cmd)
        return {"train_s": j["train_s"], "process_s": wall, "samples": j["samples"]}

    runs = [alternate(rep, ours, py, "lenet epoch") for rep in range(a.reps)]
    print("## LeNet, one Fashion-MNIST epoch: wattlab train vs Python (same libtorch), %d threads, "
          "batch %d, SGD lr %g momentum %g weight decay %g, %d alternating repetitions, OMP_WAIT_POLICY %s\n"
          % (a.threads, batch, lr, momentum, wd, a.reps, a.omp_wait_policy or "as each side defaults"))
    if a.quick:
        print("(--quick: 20 steps on both sides, after loading the whole data set: the figures check the script only)\n")
    print("| | wattlab median s | python median s | median ratio wattlab/python |")
    print("|---|---|---|---|")
    for key, label in (("train_s", "training (train window / loop)"), ("process_s", "whole process")):
        o = statistics.median(r["ours"][key] for r in runs)
        y = statistics.median(r["py"][key] for r in runs)
        print("| %s | %.2f | %.2f | %.3f |" % (label, o, y, median_ratio(runs, key)))
    print("\nwattlab's OpenMP wait policy per run: %s; idle baseline: %s" % (
        ", ".join(r["ours"]["omp"] for r in runs), ", ".join(r["ours"]["idle"] for r in runs)))
    print("done when (issue 11): both ratios <= 1")
    return {"epoch_issue11": runs}


def suite_infer(a):
    """Inference throughput, batch 1 and 32, four models."""
    models = ["lenet", "resnet18", "mobilenetv2", "vgg16"]

    def samples(m, b):
        if a.quick:
            return 64 if b == 32 else 16
        small = m == "lenet"
        return (8192 if small else 256) if b == 32 else (4000 if small else 128)

    raw = {}
    for rep in range(a.reps):
        for m in models:
            for b in (1, 32):
                n = samples(m, b)
                raw.setdefault("%s/b%d" % (m, b), []).append(
                    alternate(rep, lambda: ours_infer(a, m, b, n), lambda: py_infer(a, m, b, n), "%s/b%d" % (m, b)))
    print("## Inference throughput: wattlab infer vs Python (same libtorch), %d threads, %d alternating "
          "repetitions, OMP_WAIT_POLICY %s, wattlab --conv-weights %s\n" % (
              a.threads, a.reps, a.omp_wait_policy or "as each side defaults", a.conv_weights))
    print("| model/batch | params (ours / py) | wattlab median samples/s | python median samples/s | "
          "median ratio wattlab/python | goal |")
    print("|---|---|---|---|---|---|")
    for k, runs in raw.items():
        o = statistics.median(r["ours"]["samples_per_s"] for r in runs)
        y = statistics.median(r["py"]["samples_per_s"] for r in runs)
        ratio = median_ratio(runs, "samples_per_s")
        goal = 1.1 if k.endswith("/b1") else 0.97
        print("| %s | %d / %d | %.1f | %.1f | %.3f | >= %.2f %s |" % (
            k, runs[0]["ours"]["params"], runs[0]["py"]["params"], o, y, ratio, goal,
            "met" if ratio >= goal else "NOT met"))
    return {"infer_issue11": raw}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--wattlab", required=True)
    p.add_argument("--threads", type=int, default=None, help="default: every core for full, 2 otherwise")
    p.add_argument("--reps", type=int, default=None, help="repetitions (default 3 for full, 5 otherwise)")
    p.add_argument("--suite", choices=["full", "epoch", "infer"], default="full")
    p.add_argument("--train-samples", type=int, default=4096)
    p.add_argument("--quick", action="store_true", help="tiny sizes, to check the script runs")
    p.add_argument("--out", default="")
    p.add_argument("--conv-weights", choices=["packed", "plain"], default="packed",
                   help="wattlab infer's --conv-weights (default packed, its default; plain: libtorch's "
                        "choice per call, the kernels Python runs)")
    p.add_argument("--omp-wait-policy", default="",
                   help="OMP_WAIT_POLICY given to both sides alike (default: unset, each side's own default)")
    a = p.parse_args()
    if a.threads is None:
        a.threads = os.cpu_count() if a.suite == "full" else 2
    if a.reps is None:
        a.reps = 3 if a.suite == "full" else 5
    if a.omp_wait_policy:
        ENV["OMP_WAIT_POLICY"] = a.omp_wait_policy
    else:
        ENV.pop("OMP_WAIT_POLICY", None)
    if a.suite != "full":
        t_start = time.time()
        raw = suite_epoch(a) if a.suite == "epoch" else suite_infer(a)
        raw["elapsed_s"] = time.time() - t_start
        print("\nelapsed %.0f s" % raw["elapsed_s"])
        if a.out:
            with open(a.out, "w") as f:
                json.dump(raw, f, indent=1)
        return
    q = a.quick
    train_cfg = [("lenet", 128, 8 if q else 60, 3), ("mobilenetv2", 32, 2 if q else 5, 2),
                 ("resnet18", 32, 2 if q else 4, 2)]
    infer_cfg = [("lenet", 1, 100 if q else 3000), ("mlp:depth=3,width=256", 1, 100 if q else 3000),
                 ("mobilenetv2", 32, 32 if q else 256), ("resnet18", 32, 32 if q else 256)]
    raw = {"threads": a.threads, "reps": a.reps, "train": {}, "infer": {}, "epoch": [], "peak": None}
    t_start = time.time()

    peak, _ = run_json([PY, os.path.join(HERE, "py_baseline.py"), "peak", "--threads", str(a.threads),
                        "--seconds", "0.5" if q else "2"])
    raw["peak"] = peak
    for rep in range(a.reps):
        ours_first = rep % 2 == 0
        for m, b, steps, w in train_cfg:
            pair = {}
            for side in (["ours", "py"] if ours_first else ["py", "ours"]):
                pair[side] = ours_train(a, m, b, steps, w) if side == "ours" else py_train(a, m, b, steps, w)
            raw["train"].setdefault("%s/b%d" % (m, b), []).append(pair)
        for m, b, n in infer_cfg:
            pair = {}
            for side in (["ours", "py"] if ours_first else ["py", "ours"]):
                pair[side] = ours_infer(a, m, b, n) if side == "ours" else py_infer(a, m, b, n)
            raw["infer"].setdefault("%s/b%d" % (m, b), []).append(pair)
    # A whole LeNet epoch on Fashion-MNIST, process start to exit, data loading included.
    for rep in range(1 if q else 2):
        pair = {}
        for side in (["ours", "py"] if rep % 2 == 0 else ["py", "ours"]):
            if side == "ours":
                cmd = [a.wattlab, "train", "--model", "lenet", "--epochs", "1", "--batch-size", "128", "--threads",
                       str(a.threads), "--no-eval", "--idle-seconds", "0", "--warmup-steps", "0", "--json"]
                if q:
                    cmd[cmd.index("--epochs"):cmd.index("--epochs") + 2] = ["--steps", "20"]
            else:
                cmd = [PY, os.path.join(HERE, "py_baseline.py"), "epoch", "--threads", str(a.threads), "--batch", "128"]
            _, wall = run_json(cmd)
            pair[side] = wall
        raw["epoch"].append(pair)
    # What bf16 changes (ours only; the Python loop would run the same kernels).
    raw["bf16"] = {
        "resnet18/b32 train": ours_train(a, "resnet18", 32, 2 if q else 4, 1, "bf16")["samples_per_s"],
        "resnet18/b32 infer": ours_infer(a, "resnet18", 32, 32 if q else 128, "bf16")["samples_per_s"],
    }
    # What libopenblas0-openmp changes: the same runs with the reference BLAS
    # (Debian's libblas3) put first on the library path for these processes only.
    saved = dict(ENV)
    ENV["LD_LIBRARY_PATH"] = "/usr/lib/x86_64-linux-gnu/blas"
    ref_peak, _ = run_json([PY, os.path.join(HERE, "py_baseline.py"), "peak", "--threads", str(a.threads),
                            "--seconds", "0.5"])
    ref_train = ours_train(a, "lenet", 128, 8 if q else 30, 2)
    ref_mlp = ours_infer(a, "mlp:depth=3,width=256", 1, 100 if q else 1000)
    ENV.clear()
    ENV.update(saved)
    raw["reference_blas"] = {"peak": ref_peak, "lenet/b128 train": ref_train["samples_per_s"],
                             "mlp/b1 infer": ref_mlp["samples_per_s"], "versions": ref_train["versions"]}
    raw["elapsed_s"] = time.time() - t_start

    # ---- report ----
    pk = raw["peak"]
    print("## Workload engine vs Python (same libtorch), %d threads, %d alternating repetitions, OMP_WAIT_POLICY=%s\n"
          % (a.threads, a.reps, a.omp_wait_policy or "unset"))
    print("matmul peak (1024x1024 mm): fp32 %.1f GMAC/s, bf16 %.1f GMAC/s; BLAS loaded: %s\n" %
          (pk["fp32_gmacs"], pk["bf16_gmacs"], ", ".join(pk["blas_libraries"]) or "none"))
    first = next(iter(raw["train"].values()))[0]["ours"]
    print("wattlab engine versions: %s\n" % json.dumps(first["versions"]))
    print("| training | params (ours / py) | ours samples/s | python samples/s | median ratio | ours GMAC/s (3x fwd) | % of fp32 peak |")
    print("|---|---|---|---|---|---|---|")
    for k, runs in raw["train"].items():
        o = statistics.median(r["ours"]["samples_per_s"] for r in runs)
        y = statistics.median(r["py"]["samples_per_s"] for r in runs)
        ratio = statistics.median(r["ours"]["samples_per_s"] / r["py"]["samples_per_s"] for r in runs)
        gm = 3 * runs[0]["ours"]["macs"] * o / 1e9
        print("| %s | %d / %d | %.1f | %.1f | %.3f | %.2f | %.1f%% |" % (
            k, runs[0]["ours"]["params"], runs[0]["py"]["params"], o, y, ratio, gm, 100 * gm / pk["fp32_gmacs"]))
    print()
    print("| inference | params (ours / py) | ours samples/s | python samples/s | median ratio | p50 ms ours / py | ours GMAC/s | % of fp32 peak |")
    print("|---|---|---|---|---|---|---|---|")
    for k, runs in raw["infer"].items():
        o = statistics.median(r["ours"]["samples_per_s"] for r in runs)
        y = statistics.median(r["py"]["samples_per_s"] for r in runs)
        ratio = statistics.median(r["ours"]["samples_per_s"] / r["py"]["samples_per_s"] for r in runs)
        p50 = statistics.median(r["ours"]["latency_p50_ms"] for r in runs)
        p50_py = statistics.median(r["py"]["latency_p50_ms"] for r in runs)
        gm = runs[0]["ours"]["macs"] * o / 1e9
        print("| %s | %d / %d | %.1f | %.1f | %.3f | %.3f / %.3f | %.2f | %.1f%% |" % (
            k, runs[0]["ours"]["params"], runs[0]["py"]["params"], o, y, ratio, p50, p50_py, gm,
            100 * gm / pk["fp32_gmacs"]))
    print()
    ep = raw["epoch"]
    print("LeNet, one Fashion-MNIST epoch (60,000 samples, batch 128), process start to exit incl. data loading:")
    for i, e in enumerate(ep):
        print("  run %d: ours %.2f s, python %.2f s, ratio (python/ours) %.3f" % (i + 1, e["ours"], e["py"], e["py"] / e["ours"]))
    print("\nbf16 (ours): resnet18/b32 train %.1f samples/s, infer %.1f samples/s" % (
        raw["bf16"]["resnet18/b32 train"], raw["bf16"]["resnet18/b32 infer"]))
    rb = raw["reference_blas"]
    lenet_o = statistics.median(r["ours"]["samples_per_s"] for r in raw["train"]["lenet/b128"])
    mlp_o = statistics.median(r["ours"]["samples_per_s"] for r in raw["infer"]["mlp:depth=3,width=256/b1"])
    print("\nreference BLAS instead of openblas-openmp (LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/blas; sgemm_ from %s):"
          % rb["versions"]["blas"])
    print("  fp32 mm %.2f GMAC/s (openblas %.1f); lenet/b128 train %.1f samples/s (openblas %.1f); "
          "mlp/b1 infer %.1f samples/s (openblas %.1f)" % (rb["peak"]["fp32_gmacs"], pk["fp32_gmacs"],
                                                           rb["lenet/b128 train"], lenet_o, rb["mlp/b1 infer"], mlp_o))
    print("\nelapsed %.0f s" % raw["elapsed_s"])
    if a.out:
        with open(a.out, "w") as f:
            json.dump(raw, f, indent=1)


if __name__ == "__main__":
    main()
