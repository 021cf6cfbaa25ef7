#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ (clang-14, ASan+UBSan, in
# build-fuzz/) and runs one target, or all of them one after the other, for
# SECONDS each.
#
#   scripts/fuzz.sh TARGET SECONDS     e.g. scripts/fuzz.sh csv 60
#   scripts/fuzz.sh all SECONDS
#   scripts/fuzz.sh list
#
# A tests/fuzz/TARGET.dict, where there is one, is libFuzzer's dictionary
# (tokens of the format: TOML keys, inf, nan).
# Each run starts from a copy of the target's seeds (tests/fuzz/corpus/TARGET/)
# merged into a working corpus kept in build-fuzz/corpus/TARGET/, so later runs
# go on where earlier ones stopped; the checked-in seeds are never written.
# A crashing input lands in build-fuzz/crashes/TARGET/ and the script exits 1.
# The libFuzzer log of each run is in build-fuzz/logs/, and one line per run
# (target, seconds, executions, corpus size, result) is appended to
# build-fuzz/fuzz-runs.tsv: docs/reliability.md's table is summed from it.
#
# Environment: WATTLAB_FUZZ_BUILD_DIR (default build-fuzz), WATTLAB_FUZZ_JOBS
# (build parallelism, default nproc). Installs clang-14 and libclang-rt-14-dev
# (libFuzzer and the sanitizer runtimes) with apt-get when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(csv protocol flags sysfs spec placement idx cifar)

usage() {
  echo "usage: scripts/fuzz.sh TARGET|all SECONDS   (targets: ${TARGETS[*]})" >&2
  exit 2
}

if [[ "${1:-}" == list ]]; then
  printf '%s\n' "${TARGETS[@]}"
  exit 0
fi
[[ $# -eq 2 ]] || usage
what=$1
seconds=$2
[[ "$seconds" =~ ^[0-9]+$ && "$seconds" -gt 0 ]] || usage
if [[ "$what" == all ]]; then
  run=("${TARGETS[@]}")
else
  found=0
  for t in "${TARGETS[@]}"; do [[ "$t" == "$what" ]] && found=1; done
  [[ $found == 1 ]] || usage
  run=("$what")
fi

# libFuzzer ships in libclang-rt-14-dev.
if ! command -v clang++-14 >/dev/null || ! dpkg -s libclang-rt-14-dev >/dev/null 2>&1; then
  echo "fuzz.sh: installing clang-14 and libclang-rt-14-dev" >&2
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo=sudo
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y clang-14 libclang-rt-14-dev
fi

build=${WATTLAB_FUZZ_BUILD_DIR:-build-fuzz}
# WATTLAB_FUZZ_NO_BUILD=1: run what is built (a long campaign while the tree changes).
if [[ "${WATTLAB_FUZZ_NO_BUILD:-0}" != 1 ]]; then
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$build" -DWATTLAB_FUZZ=ON -DWATTLAB_WITH_TORCH=OFF -DWATTLAB_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  "${launcher[@]}" >/dev/null
cmake --build "$build" -j"${WATTLAB_FUZZ_JOBS:-$(nproc)}" --target "${run[@]/%/_fuzz}"
fi

mkdir -p "$build/logs"
status=0
for t in "${run[@]}"; do
  corpus="$build/corpus/$t"
  crashes="$build/crashes/$t"
  mkdir -p "$corpus" "$crashes"
  [[ -d "tests/fuzz/corpus/$t" ]] && cp -n "tests/fuzz/corpus/$t"/* "$corpus"/ 2>/dev/null || true
  log="$build/logs/$t-$(date -u +%Y%m%dT%H%M%SZ).log"
  echo "fuzz.sh: $t for ${seconds}s (log $log)" >&2
  dict=()
  [[ -f "tests/fuzz/$t.dict" ]] && dict=(-dict="tests/fuzz/$t.dict")
  rc=0
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/fuzz/${t}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$crashes/" "${dict[@]}" "$corpus" >"$log" 2>&1 || rc=$?
  # A crashed run prints no "Done" line: its seconds stay "?".
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
  secs=$( (grep -o 'Done [0-9]* runs in [0-9]* second' "$log" || true) | tail -1 | awk '{print $5}')
  corp=$(ls "$corpus" | wc -l)
  result=ok
  if [[ $rc -ne 0 ]]; then
    result="crash (exit $rc)"
    status=1
    tail -40 "$log" >&2
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "${secs:-?}" "${execs:-?}" "$corp" "$result" \
    | tee -a "$build/fuzz-runs.tsv"
done
exit $status
