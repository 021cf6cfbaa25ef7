#!/bin/bash
# wattlab train resnet18 b32: fp32 vs bf16 at 1 and 2 threads, and bf16 with oneDNN's ISA
# capped below AMX (issue 11 item 3, docs/benchmarks.md). WATTLAB=path/to/wattlab.
W=${WATTLAB:-$(dirname "$0")/../../../build/bin/wattlab}
for r in 1 2; do
for T in 1 2; do
for cfg in "fp32|" "bf16|" "bf16|AVX512_CORE_BF16"; do
  prec=${cfg%%|*}; isa=${cfg##*|}
  sps=$(ONEDNN_MAX_CPU_ISA=$isa OMP_WAIT_POLICY=passive $W train --model resnet18 --dataset synthetic:3x32x32:1024 --steps 3 --batch-size 32 --threads $T --warmup-steps 1 --no-eval --idle-seconds 0 --lr 0.001 --precision $prec --json | python3 -c "import json,sys; print(round(json.load(sys.stdin)['samples_per_s'],1))")
  echo "round $r T=$T $prec isa=${isa:-native} $sps samples/s"
done; done; done
