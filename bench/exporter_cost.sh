#!/usr/bin/env bash
# CPU cost of `wattlab exporter` at a given interval (default 1s): the
# exporter's own CPU time (utime + stime of /proc/PID/stat, all its threads:
# sampler, main loop, civetweb) over DURATION seconds (default 60), with one
# scrape of /metrics every 15 s as Prometheus would make. Prints the CPU
# seconds, the share of one core, the CPU per interval, and the machine's
# load and process count (the exporter reads every /proc/PID/stat each
# interval for the top-N attribution, so its cost grows with the processes).
# Extra arguments go to the exporter (e.g. --top 0).
# usage: bench/exporter_cost.sh [BUILD_DIR] [DURATION_S] [INTERVAL] [EXPORTER ARGS...]
set -euo pipefail
W=${1:-build}/bin/wattlab
DURATION=${2:-60}
INTERVAL=${3:-1s}
shift $(($# < 3 ? $# : 3))
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
"$W" exporter --listen 127.0.0.1:0 --interval "$INTERVAL" "$@" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do
  port=$(sed -n 's|.*listening on http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$tmp/err")
  [[ -n $port ]] && break
  sleep 0.1
done
[[ -n $port ]] || { cat "$tmp/err" >&2; exit 1; }
scrape() { /usr/bin/python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1]).read()" \
  "http://127.0.0.1:$port/metrics"; }
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$pid/stat"; }  # utime + stime
sleep 2  # past start-up (detection, first reading)
scrape
t0=$(date +%s%N); c0=$(cpu_ticks)
end=$((t0 + DURATION * 1000000000))
while (($(date +%s%N) < end)); do
  left=$(((end - $(date +%s%N)) / 1000000000))
  sleep $((left < 15 ? (left > 0 ? left : 0) : 15))
  scrape
done
t1=$(date +%s%N); c1=$(cpu_ticks)
hz=$(getconf CLK_TCK)
awk -v c="$((c1 - c0))" -v hz="$hz" -v ns="$((t1 - t0))" -v iv="$INTERVAL" '
  function secs(d) { if (d ~ /ms$/) return substr(d, 1, length(d) - 2) / 1000; if (d ~ /s$/) return substr(d, 1, length(d) - 1); return d }
  BEGIN { cpu = c / hz; wall = ns / 1e9; n = wall / secs(iv)
    printf "exporter CPU: %.2f s over %.1f s wall = %.3f%% of one core, %.2f ms per %s interval (tick %d ms)\n", cpu, wall, 100 * cpu / wall, 1000 * cpu / n, iv, 1000 / hz }'
echo "sources: $(sed -n 's/.*(sources: \([^;]*\);.*/\1/p' "$tmp/err"); args: ${*:-none}"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(ls -d /proc/[0-9]* | wc -l) processes"
