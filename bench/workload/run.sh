#!/usr/bin/env bash
# Workload benchmark: wattlab's engine vs the same loops in /usr/bin/python3
# (python3-torch), side by side, alternating. Results: docs/benchmarks.md.
#
#   bench/workload/run.sh [BUILD_DIR] [extra compare.py flags, e.g. --reps 3 --quick]
#
# One command per comparison (compare.py --suite; each alternates the sides,
# 5 repetitions by default, and prints medians and ratios):
#   bench/workload/run.sh build --suite epoch   # LeNet epoch: train window and whole process
#   bench/workload/run.sh build --suite infer   # lenet/resnet18/mobilenetv2/vgg16 at batch 1 and 32
#   bench/workload/run.sh build                 # the broad comparison (--suite full)
# Run them on a quiet machine: the load average is printed first.
#
# BUILD_DIR (default build) must hold bin/wattlab and bin/libwattlab_torch.so.
set -euo pipefail
cd "$(dirname "$0")/../.."
build="${1:-build}"
shift || true
if [[ ! -x "$build/bin/wattlab" || ! -f "$build/bin/libwattlab_torch.so" ]]; then
  echo "run.sh: $build/bin/wattlab or libwattlab_torch.so missing; build first (cmake --build $build --target wattlab wattlab_torch)" >&2
  exit 2
fi
out="${WATTLAB_BENCH_OUT:-$build/bench-workload.json}"
echo "# $(date -u +%FT%TZ) $(uname -n) $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
exec /usr/bin/python3 bench/workload/compare.py --wattlab "$build/bin/wattlab" --out "$out" "$@"
