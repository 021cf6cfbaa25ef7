#!/usr/bin/env bash
# Sets up, builds and runs every test: the main build (with libtorch), the
# room check (and, once switched on, the format check), then the
# modules that do not need libtorch under AddressSanitizer+UBSan, the
# sampler under ThreadSanitizer and the fuzz targets for 30 s each
# (WATTLAB_SKIP_SANITIZERS=1 skips these three).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --all

# The rooms of docs/architecture.md: OS calls only in src/platform/, libtorch
# only in src/workload/, no room including what it may not.
./scripts/check-rooms.py
# clang-format-14 over src include tests bench (fix: scripts/check-format.sh
# --fix). WATTLAB_CHECK_FORMAT=0 skips it, e.g. while editing.
if [[ "${WATTLAB_CHECK_FORMAT:-1}" == 1 ]]; then
  ./scripts/check-format.sh
fi

(cd build && ctest --output-on-failure -j"$(nproc)")

if [[ "${WATTLAB_SKIP_SANITIZERS:-0}" != 1 ]]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Asan -DWATTLAB_WITH_TORCH=OFF >/dev/null
  cmake --build build-asan -j"$(nproc)"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j"$(nproc)" -LE torch)
  cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Tsan -DWATTLAB_WITH_TORCH=OFF >/dev/null
  cmake --build build-tsan -j"$(nproc)" --target meter_test
  (cd build-tsan && ctest --output-on-failure -R '^(Sampler|Meter)')
  # Every libFuzzer target (tests/fuzz/, clang-14, ASan+UBSan) for
  # WATTLAB_FUZZ_SECONDS each (default 30) from its seed corpus; a crash fails.
  ./scripts/fuzz.sh all "${WATTLAB_FUZZ_SECONDS:-30}"
fi
