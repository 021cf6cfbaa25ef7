#!/usr/bin/python3
# A/B of wattlab infer variants against Python, alternating, with page faults
# (perf stat). Issue 11 item 3, docs/benchmarks.md. Needs perf; WATTLAB=path/to/wattlab.
#   ab_infer.py MODEL BATCH SAMPLES THREADS ROUNDS NAME=[VAR:VALUE,...] ...
# e.g. ab_infer.py resnet18 32 192 2 8 base= tun=GLIBC_TUNABLES:glibc.malloc.mmap_threshold=33554432
import json, os, subprocess, sys, statistics
HERE = os.path.dirname(os.path.abspath(__file__))
W = os.environ.get("WATTLAB", os.path.join(HERE, "../../../build/bin/wattlab")); PY = os.path.join(HERE, "../py_baseline.py")
m, b, n, t, rounds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
variants = {"py": None}
for v in sys.argv[6:]:
    name, _, envs = v.partition("=")
    variants[name] = dict(e.split(":", 1) for e in envs.split(",") if e) if envs else {}
def run(name):
    env = dict(os.environ); env.setdefault("OMP_WAIT_POLICY", "passive")
    if variants[name] is None:
        cmd = ["/usr/bin/python3", PY, "infer", "--model", m, "--batch", b, "--threads", t, "--samples", n, "--warmup", "3"]
    else:
        env.update(variants[name])
        cmd = [W, "infer", "--model", m, "--batch-size", b, "--samples", n, "--threads", t, "--warmup-batches", "3", "--idle-seconds", "0", "--json"]
    cmd = ["perf", "stat", "-x,", "-e", "page-faults,task-clock"] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode: sys.exit(p.stderr)
    j = json.loads(p.stdout)
    st = {l.split(",")[2]: float(l.split(",")[0]) for l in p.stderr.splitlines() if l.count(",") > 3 and l.split(",")[0].replace(".","").isdigit()}
    return j["samples_per_s"], st.get("page-faults", 0)
res = {k: [] for k in variants}
names = list(variants)
for r in range(rounds):
    order = names if r % 2 == 0 else names[::-1]
    for k in order:
        res[k].append(run(k))
    print("round", r, " ".join("%s %.1f/s pf %d" % (k, res[k][-1][0], res[k][-1][1]) for k in names), flush=True)
for k in names:
    print(k, "median %.2f samples/s" % statistics.median(x[0] for x in res[k]),
          "median ratio vs py %.3f" % statistics.median(a[0] / p[0] for a, p in zip(res[k], res["py"])),
          "pf median %d" % statistics.median(x[1] for x in res[k]))
