#!/usr/bin/env bash
# Installs wattlab's build and run dependencies from Debian's archive and
# builds it into build/. Idempotent: a second run only rebuilds what changed.
# Recommended packages are installed too: the build was developed and CI'd
# with them (libtorch-dev's recommends among them), so a fresh machine gets
# the same set.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config git
  libtorch-dev libopenblas0-openmp python3-torch
  dataset-fashion-mnist
  libsqlite3-dev libtomlplusplus-dev nlohmann-json3-dev zlib1g-dev libcli11-dev
  libeigen3-dev libboost-math-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 clang-format-14
  pybind11-dev python3-dev python3-venv python3-pip python3-setuptools python3-wheel
  chromium
  # issue 16: the Prometheus exporter (prometheus-cpp, pull mode) and its test's parser
  prometheus-cpp-dev python3-prometheus-client
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

BUILD_DIR=${WATTLAB_BUILD_DIR:-build}
# The Python extension (wattlab._native) is built for Debian's interpreter,
# which has python3-torch; the python3 first on PATH may be another one.
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DWATTLAB_BUILD_TESTS=ON \
  -DPython3_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
