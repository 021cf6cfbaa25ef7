#!/usr/bin/env bash
# Start-up cost of the commands that run no network (they must never load
# libtorch): wall time of `wattlab meters --json`, and the time from starting
# `wattlab measure` to the measured command running (the command prints its
# own start time). Prints the median and range over N runs of each.
# usage: bench/startup.sh [BUILD_DIR] [N]
set -euo pipefail
W=${1:-build}/bin/wattlab
N=${2:-11}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
summary() {  # reads microseconds, one per line
  sort -n | awk '{v[NR]=$1} END {printf "median %.1f ms (min %.1f, max %.1f, n=%d)\n", v[int((NR+1)/2)]/1000, v[1]/1000, v[NR]/1000, NR}'
}
for _ in $(seq "$N"); do
  t0=$(date +%s%N); "$W" meters --json >/dev/null; t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000))
done | summary | sed 's/^/meters --json, whole run: /'
for _ in $(seq "$N"); do
  t0=$(date +%s%N); "$W" measure -o "$tmp/summary" -- date +%s%N >"$tmp/t"; t1=$(cat "$tmp/t")
  echo $(((t1 - t0) / 1000))
done | summary | sed 's/^/measure, start to command running: /'
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
