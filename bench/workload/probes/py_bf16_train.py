#!/usr/bin/python3
# Python-side training step: fp32 vs bf16 (model converted) vs CPU autocast, alternating
# (issue 11 item 3, docs/benchmarks.md); with a 4th argument, a torch.profiler table.
#   T=THREADS py_bf16_train.py MODEL BATCH ROUNDS [bf16|autocast]
import sys, time, statistics, copy, os
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import torch, torch.nn.functional as F
from py_baseline import build
torch.set_num_threads(int(os.environ.get("T","1"))); torch.set_num_interop_threads(1)
name=sys.argv[1]; B=int(sys.argv[2]); rounds=int(sys.argv[3])
torch.manual_seed(1)
x=torch.randn(B,3,32,32); y=torch.randint(0,10,(B,))
def mk(kind):
    m=build(name).train()
    if kind=="bf16": m=m.to(torch.bfloat16)
    opt=torch.optim.SGD(m.parameters(), lr=0.001, momentum=0.9, weight_decay=5e-4)
    xin = x.to(torch.bfloat16) if kind=="bf16" else x
    def step():
        opt.zero_grad()
        if kind=="autocast":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                out=m(xin)
        else:
            out=m(xin)
        loss=F.cross_entropy(out.float(), y); loss.backward(); opt.step()
    return step
kinds=["fp32","bf16","autocast"]
steps={k:mk(k) for k in kinds}
for k in kinds: steps[k]()
res={k:[] for k in kinds}
for r in range(rounds):
    for k in kinds:
        t=time.perf_counter(); steps[k](); res[k].append(time.perf_counter()-t)
for k in kinds: print(k, "median %.3f s/step"%statistics.median(res[k]), "speed vs fp32 %.3f"%statistics.median(a/b for a,b in zip(res["fp32"],res[k])))
if len(sys.argv)>4:
    from torch.profiler import profile
    for k in ["fp32", sys.argv[4]]:
        with profile() as p: steps[k]()
        print("==",k); print(p.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))
