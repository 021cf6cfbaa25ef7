#!/usr/bin/env bash
# Installs wattlab's dependencies from Debian's archive and builds it into
# build/. Idempotent: a second run only rebuilds what changed.
#
#   scripts/setup.sh         what the main job needs (scripts/run.sh): the
#                            packages to build and run `wattlab` and its
#                            libtorch plugin, and those two targets only
#   scripts/setup.sh --all   everything (scripts/test.sh, CI): also the
#                            test-only packages (GoogleTest, Google Benchmark,
#                            chromium, clang-format, the Python extension's
#                            build packages) and every target, tests included
#
# It says what it is doing as it goes (each step on stderr, with its time),
# so a first run on a fresh machine is never a silent wait. Recommended
# packages are installed too: the build was developed and CI'd with them
# (libtorch-dev's recommends among them), so a fresh machine gets the same set.
set -euo pipefail
cd "$(dirname "$0")/.."

ALL=0
case "${1:-}" in
  --all) ALL=1 ;;
  "") ;;
  *) echo "usage: scripts/setup.sh [--all]" >&2; exit 2 ;;
esac

START=$SECONDS
say() { echo "setup [$((SECONDS - START)) s]: $*" >&2; }

# The main job: build (compiler, cmake, the headers and libraries
# CMakeLists.txt finds as REQUIRED), libtorch for the plugin and its fast
# BLAS, and the default study's data set.
MAIN_PACKAGES=(
  build-essential cmake pkg-config git
  libtorch-dev libopenblas0-openmp
  dataset-fashion-mnist
  libsqlite3-dev libtomlplusplus-dev nlohmann-json3-dev zlib1g-dev libcli11-dev
  libeigen3-dev libboost-math-dev
)
# Only the tests, benchmarks and checks need these: GoogleTest, Google
# Benchmark, the Python extension and its tests (pybind11, python3-torch as
# the side-by-side baseline), clang-format for the format check, chromium for
# the report's browser test.
TEST_PACKAGES=(
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-torch clang-format-14
  pybind11-dev python3-dev python3-venv python3-pip python3-setuptools python3-wheel
  chromium
  # issue 16: the Prometheus exporter (prometheus-cpp, pull mode) and its test's parser
  prometheus-cpp-dev python3-prometheus-client
)
PACKAGES=("${MAIN_PACKAGES[@]}")
((ALL)) && PACKAGES+=("${TEST_PACKAGES[@]}")

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  say "installing ${#missing[@]} Debian package(s) and their dependencies: ${missing[*]}"
  say "apt-get update"
  $SUDO apt-get update -qq
  # apt's own progress lines (one per package unpacked and set up) show it is moving.
  say "apt-get install (several minutes on a fresh machine: libtorch alone is ~1 GB installed)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -o Dpkg::Use-Pty=0 "${missing[@]}" |
    grep --line-buffered -E '^(Unpacking|Setting up) ' | sed -u 's/^/setup:   /' >&2 || true
  # The pipeline hides apt's exit status: check what it was asked to install.
  for p in "${missing[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      { echo "setup: $p did not install; run: $SUDO apt-get install $p" >&2; exit 1; }
  done
  say "packages installed"
else
  say "every needed Debian package is installed ($((${#PACKAGES[@]})) checked)"
fi

BUILD_DIR=${WATTLAB_BUILD_DIR:-build}
JOBS=${WATTLAB_JOBS:-$(nproc)}
if ((ALL)); then
  TESTS=ON
  TARGETS=()
else
  # Keep a tree that test.sh configured with its tests as it is (no reconfigure
  # churn); either way only the binary and the plugin are built here.
  TESTS=$(sed -n 's/^WATTLAB_BUILD_TESTS:BOOL=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)
  TESTS=${TESTS:-OFF}
  TARGETS=(--target wattlab wattlab_torch)
fi
say "configuring $BUILD_DIR (tests $TESTS)"
# The Python extension (wattlab._native) is built for Debian's interpreter,
# which has python3-torch; the python3 first on PATH may be another one.
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWATTLAB_BUILD_TESTS="$TESTS" \
  -DPython3_EXECUTABLE=/usr/bin/python3 >/dev/null
if ((ALL)); then
  say "building everything with $JOBS job(s)"
else
  say "building wattlab and its libtorch plugin with $JOBS job(s) (the first build takes a few minutes)"
fi
cmake --build "$BUILD_DIR" -j"$JOBS" "${TARGETS[@]}"
say "build done: $BUILD_DIR/bin/wattlab"
