#!/usr/bin/env bash
# Sets up wattlab (only what the main job needs: its Debian packages, the
# wattlab binary and its libtorch plugin; no test binaries or test-only
# packages, which scripts/test.sh adds) and runs the main job: the built-in
# pilot study on this machine. Extra arguments go to `wattlab study`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec ./build/bin/wattlab study "$@"
