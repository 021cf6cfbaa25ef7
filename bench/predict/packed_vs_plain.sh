#!/usr/bin/env bash
# The operator-level model's inference predictions for the two ways a
# convolution runs (issue 11, docs/analysis.md): a zoo model (weights packed
# once, the calibration's packed times) against the same network as a
# TorchScript file (libtorch's choice per call, the calibration's plain
# times). For resnet18 and vgg16 at batch 1 and 16, 2 threads: predicted and
# measured time per sample (`wattlab predict`, then `wattlab infer`).
#
#   bench/predict/packed_vs_plain.sh DB [BIN]
#
# DB: a database with a study and a calibration of this machine at 2 threads
# (`wattlab study` gives the quick one; `wattlab calibrate --db DB --threads 2`
# the default shapes, which include batch 1). Run on a quiet machine.
set -euo pipefail
db="${1:?usage: packed_vs_plain.sh DB [BIN]}"
bin="${2:-$(dirname "$0")/../../build/bin/wattlab}"
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$here/../workload" "$tmp" <<'PY' 2>/dev/null
import sys
sys.path.insert(0, sys.argv[1])
import torch
from py_baseline import build
for name in ["resnet18", "vgg16"]:
    torch.jit.trace(build(name).eval(), torch.randn(1, 3, 32, 32)).save("%s/%s.pt" % (sys.argv[2], name))
PY
echo "| model | batch | TorchScript (plain): predicted / measured ms, error | zoo (packed): predicted / measured ms, error |"
echo "|---|---|---|---|"
for name in resnet18 vgg16; do
  for b in 1 16; do
    "$bin" predict --db "$db" --torchscript "$tmp/$name.pt" --input 3x32x32 --batch-size "$b" --threads 2 \
      --json > "$tmp/p_ts.json"
    "$bin" predict --db "$db" --model "$name" --batch-size "$b" --threads 2 --json > "$tmp/p_zoo.json"
    "$bin" infer --torchscript "$tmp/$name.pt" --input 3x32x32 --batch-size "$b" --threads 2 \
      --samples $((b * 40)) --json > "$tmp/i_ts.json" 2>/dev/null
    "$bin" infer --model "$name" --batch-size "$b" --threads 2 --samples $((b * 40)) --json \
      > "$tmp/i_zoo.json" 2>/dev/null
    /usr/bin/python3 - "$tmp" "$name" "$b" <<'PY'
import json, sys
d = sys.argv[1]
def load(f): return json.load(open("%s/%s" % (d, f)))
row = ["| %s | %s" % (sys.argv[2], sys.argv[3])]
for p, i in (("p_ts.json", "i_ts.json"), ("p_zoo.json", "i_zoo.json")):
    pred = load(p)["op_model"]["time_per_sample_s"] * 1e3
    run = load(i)
    meas = 1e3 / run["samples_per_s"]
    row.append("%.2f / %.2f, %+.1f%% (%s)" % (pred, meas, 100 * (pred / meas - 1), run["conv_weights"]["in_force"]))
print(" | ".join(row) + " |")
PY
  done
done
