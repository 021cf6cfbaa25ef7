#!/usr/bin/python3
# Where batch-1 inference time goes in libtorch 1.13's convolutions (issue 11,
# src/workload/zoo/packing.h, docs/benchmarks.md). Python side, alternating
# rounds, speed of each variant relative to plain eager PyTorch:
#   eager_rule_packed  weights reordered once, only where libtorch already picks oneDNN
#   onednn_dense       every convolution on oneDNN, weights reordered each call
#   onednn_packed      every convolution on oneDNN, weights reordered once
#   wattlab_rule       onednn_packed except 1x1 stride-1 convs at batch < 16 on one
#                      thread (what wattlab infer does by default)
# The largest difference between the variants' logits and eager's is printed too.
#   T=THREADS py_conv_paths.py MODEL BATCH [CALLS_PER_ROUND] [ROUNDS]
import copy, os, statistics, sys, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import torch
import torch.nn as nn
from py_baseline import build

T = int(os.environ.get("T", "2"))
torch.set_num_threads(T)
torch.set_num_interop_threads(1)
torch.manual_seed(1)
name, batch = sys.argv[1], int(sys.argv[2])
n = int(sys.argv[3]) if len(sys.argv) > 3 else (30 if batch == 1 else 3)
rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 6
model = build(name).eval()
x = torch.randn(batch, 3, 32, 32)


class OneDnn(nn.Module):
    def __init__(self, c, packed):
        super().__init__()
        self.c = c
        w = c.weight.detach()
        self.w = torch._C._nn.mkldnn_reorder_conv2d_weight(w.to_mkldnn(), c.padding, c.stride, c.dilation,
                                                           c.groups) if packed else w
        self.b = c.bias.detach() if c.bias is not None else None

    def forward(self, x):
        return torch.mkldnn_convolution(x, self.w, self.b, self.c.padding, self.c.stride, self.c.dilation,
                                        self.c.groups)


def libtorch_picks_onednn(c, shape, small_clause=True):
    """libtorch 1.13's use_mkldnn (aten/src/ATen/native/Convolution.cpp) for fp32 CPU input."""
    k = c.weight.shape
    strided = any(s != 1 for s in c.stride)
    dilated = any(d != 1 for d in c.dilation)
    first = strided or dilated or shape[0] >= 16 or k[-1] != 1 or k[-2] != 1 or T > 1
    second = (c.groups > 1 or (k[-1] > 3 and k[-2] > 3) or shape[0] > 1
              or shape[0] * shape[1] * shape[2] * shape[3] > 20480)
    return first and (second or not small_clause)


def replace(m, rule, packed):
    m = copy.deepcopy(m)
    shapes, hooks = {}, []
    for nm, mod in m.named_modules():
        if isinstance(mod, nn.Conv2d):
            hooks.append(mod.register_forward_pre_hook(
                lambda mod, inp, nm=nm: shapes.__setitem__(nm, list(inp[0].shape))))
    with torch.no_grad():
        m(x)
    for h in hooks:
        h.remove()
    for nm, mod in list(m.named_modules()):
        for cn, ch in list(mod.named_children()):
            full = (nm + "." if nm else "") + cn
            if isinstance(ch, nn.Conv2d) and rule(ch, shapes[full]):
                setattr(mod, cn, OneDnn(ch, packed))
    return m


variants = {
    "eager": model,
    "eager_rule_packed": replace(model, lambda c, s: libtorch_picks_onednn(c, s), True),
    "onednn_dense": replace(model, lambda c, s: True, False),
    "onednn_packed": replace(model, lambda c, s: True, True),
    "wattlab_rule": replace(model, lambda c, s: libtorch_picks_onednn(c, s, small_clause=False), True),
}
res = {k: [] for k in variants}
with torch.inference_mode():
    ref = model(x)
    diff = {k: (m(x) - ref).abs().max().item() for k, m in variants.items()}
    for m in variants.values():
        for _ in range(3):
            m(x)
    for _ in range(rounds):
        for k, m in variants.items():
            t = time.perf_counter()
            for _ in range(n):
                m(x)
            res[k].append(time.perf_counter() - t)
print("%s batch %d, %d threads, %d rounds of %d calls" % (name, batch, T, rounds, n))
for k, v in res.items():
    print("  %-18s %8.3f ms a batch  speed vs eager %.3f  max |logit diff| %.1e" % (
        k, statistics.median(v) / n * 1e3, statistics.median(b / t for b, t in zip(res["eager"], v)), diff[k]))
