#!/usr/bin/env bash
# Issue 12's held-out check of the operator-level model: five zoo models
# (a depthwise one: mobilenetv2; two grouped ones: resnext29_2x64d,
# regnetx_200mf; senet18, googlenet) are left out of a study of the other
# eleven reference models (the default study's settings: batch 16, 2
# threads, 2 repetitions, a 5-step training profile, 64 inference samples,
# calibrate = "quick"); each is then predicted with `wattlab predict` and run
# with `wattlab infer` / `wattlab train` at the same settings. Prints, per
# model and phase: predicted and measured time per sample, the error, whether
# the measurement falls inside the 95% interval, and the median interval
# half-width; then the counts over all ten.
#
#   bench/predict/heldout.sh [--bin PATH] [--dir DIR] [--db FILE]
#
# --db reuses a database that already holds such a study (skips running it).
# Takes about as long as the default study (minutes on 2 cores). Run it on a
# quiet machine for figures worth recording.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=./build/bin/wattlab
DIR=
DB=
while (($#)); do
  case "$1" in
    --bin) BIN=$2; shift ;;
    --dir) DIR=$2; shift ;;
    --db) DB=$2; shift ;;
    *) echo "usage: $0 [--bin PATH] [--dir DIR] [--db FILE]" >&2; exit 2 ;;
  esac
  shift
done
[[ -n "$DIR" ]] || DIR=$(mktemp -d /tmp/wattlab-heldout.XXXXXX)
mkdir -p "$DIR"
HELD=(mobilenetv2 resnext29_2x64d regnetx_200mf senet18 googlenet)
if [[ -z "$DB" ]]; then
  DB=$DIR/heldout.db
  cat > "$DIR/heldout.toml" <<'TOML'
name = "heldout"
description = "the default study's reference sweep without five models, for issue 12's held-out check"
seed = 2024
repetitions = 2
warmup_steps = 1
cooldown_s = 0.5
idle_s = 5
dataset = "fashion-mnist"
calibrate = "quick"

[[sweep]]
name = "reference models minus five"
models = ["simple_dla", "dpn26", "densenet121", "efficientnet_b0", "lenet", "mobilenet", "pnasnet",
          "preact_resnet18", "resnet18", "shufflenetv2", "vgg16"]
batch_sizes = [16]
threads = [2]
phases = ["train", "infer"]
profile_steps = 5
epochs = 1
infer_samples = 64
TOML
  "$BIN" study --spec "$DIR/heldout.toml" --db "$DB" --no-report
fi
"$BIN" analyze --db "$DB" > "$DIR/analyze.txt"
sed -n '/^Operator-level model/,/^$/p' "$DIR/analyze.txt"

OUT=$DIR/heldout.jsonl
: > "$OUT"
for m in "${HELD[@]}"; do
  for phase in infer train; do
    pred=$("$BIN" predict --db "$DB" --model "$m" --phase "$phase" --batch-size 16 --threads 2 --json)
    if [[ $phase == infer ]]; then
      meas=$("$BIN" infer --model "$m" --batch-size 16 --samples 64 --threads 2 --idle-seconds 0 --json)
    else
      meas=$("$BIN" train --model "$m" --batch-size 16 --steps 5 --threads 2 --no-eval --idle-seconds 0 --json)
    fi
    /usr/bin/python3 - "$m" "$phase" "$OUT" <<PY
import json, sys
m, phase, out = sys.argv[1:4]
p = json.loads('''$pred''')["op_model"]
w = json.loads('''$meas''')["phases"][phase]
meas = w["duration_s"] / w["samples"]
row = {"model": m, "phase": phase, "predicted_s": p["time_per_sample_s"], "low_s": p["time_per_sample_low_s"],
       "high_s": p["time_per_sample_high_s"], "measured_s": meas}
open(out, "a").write(json.dumps(row) + "\n")
PY
  done
done
/usr/bin/python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"{'model':18} {'phase':6} {'predicted s':>12} {'measured s':>12} {'error %':>8} {'inside 95%':>10} {'half-width %':>12}")
inside, halves, errs = 0, [], []
for r in rows:
    err = 100 * (r["predicted_s"] - r["measured_s"]) / r["measured_s"]
    ok = r["low_s"] <= r["measured_s"] <= r["high_s"]
    half = 100 * (r["high_s"] - r["low_s"]) / 2 / r["predicted_s"]
    inside += ok; halves.append(half); errs.append(abs(err))
    print(f"{r['model']:18} {r['phase']:6} {r['predicted_s']:12.4g} {r['measured_s']:12.4g} {err:8.1f} {str(ok):>10} {half:12.1f}")
print(f"inside the 95% interval: {inside} of {len(rows)}; median half-width {statistics.median(halves):.1f}%; "
      f"mean |error| {statistics.mean(errs):.1f}%")
PY
echo "database: $DB; files: $DIR"
