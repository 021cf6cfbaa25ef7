#!/usr/bin/python3
# Python-side inference variants of one model (issue 11 item 3, docs/benchmarks.md):
# base, channels_last, batch norm folded (torch.fx fuse), mkldnn off; alternating rounds.
#   T=THREADS py_infer_variants.py MODEL BATCH [ROUNDS]
import os, sys, time, statistics, copy
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import torch
from py_baseline import build
import os; torch.set_num_threads(int(os.environ.get("T","2"))); torch.set_num_interop_threads(1)
name = sys.argv[1]; batch = int(sys.argv[2]); rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 6
torch.manual_seed(1)
m = build(name).eval()
x = torch.randn(batch, 3, 32, 32)
def fold(model):
    import torch.fx.experimental.optimization as opt
    return opt.fuse(copy.deepcopy(model))
variants = {}
variants["base"] = (m, x)
variants["chlast"] = (copy.deepcopy(m).to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last))
try:
    variants["fold"] = (fold(m), x)
except Exception as e:
    print("fold failed", e)
def run(mod, inp, n):
    with torch.inference_mode():
        t = time.perf_counter()
        for _ in range(n): mod(inp)
        return time.perf_counter() - t
res = {k: [] for k in variants}
res["nomkldnn"] = []
with torch.inference_mode():
    for k,(mod,inp) in variants.items():
        for _ in range(3): mod(inp)
n = 4 if batch > 1 else 40
for r in range(rounds):
    for k,(mod,inp) in variants.items():
        res[k].append(run(mod, inp, n))
    torch.backends.mkldnn.enabled = False
    run(m, x, 1)
    res["nomkldnn"].append(run(m, x, n))
    torch.backends.mkldnn.enabled = True
base = res["base"]
for k, v in res.items():
    print(k, "median s/batch %.4f" % (statistics.median(v)/n), "ratio vs base (speed) %.3f" % statistics.median(b/t for b,t in zip(base, v)))
