#!/usr/bin/env bash
# Sets up wattlab (Debian packages + build) and runs the main job: the
# built-in pilot study on this machine. Extra arguments go to `wattlab study`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec ./build/bin/wattlab study "$@"
