#!/usr/bin/env bash
# How long the README's first command takes on a fresh Debian 12: a
# debootstrap chroot (Debian's `debootstrap` package) with this repository
# copied in, then `./scripts/run.sh ARGS` in it, timed in two parts (setup:
# packages + build; the study) and in total.
#
#   sudo bench/fresh-machine.sh [--keep] [--dir DIR] [--mirror URL] [-- RUN_ARGS...]
#
# Needs root, network access to the mirror and ~6 GB free under DIR (default
# /var/tmp/wattlab-fresh). Run it on a QUIET machine: it builds with every
# core, and other builds make both the build and the study slower than a
# user would see. The chroot is removed afterwards unless --keep.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

DIR=/var/tmp/wattlab-fresh
MIRROR=http://deb.debian.org/debian
KEEP=0
RUN_ARGS=()
while (($#)); do
  case "$1" in
    --keep) KEEP=1 ;;
    --dir) DIR=$2; shift ;;
    --mirror) MIRROR=$2; shift ;;
    --) shift; RUN_ARGS=("$@"); break ;;
    *) echo "usage: $0 [--keep] [--dir DIR] [--mirror URL] [-- RUN_ARGS...]" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) -eq 0 ]] || { echo "fresh-machine: run as root (debootstrap and chroot need it)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "fresh-machine: apt-get install debootstrap" >&2; exit 1; }
[[ -e $DIR ]] && { echo "fresh-machine: $DIR exists; remove it or pass --dir" >&2; exit 1; }

load=$(cut -d' ' -f1 /proc/loadavg)
echo "fresh-machine: load average now $load on $(nproc) cores (figures are only meaningful on a quiet machine)"

ROOT=$DIR/root
mkdir -p "$ROOT"
cleanup() {
  for m in dev/pts dev proc sys; do umount -l "$ROOT/$m" 2>/dev/null || true; done
  if ((KEEP)); then echo "fresh-machine: kept $ROOT"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT

t0=$SECONDS
echo "fresh-machine: debootstrap bookworm (not counted: it stands in for installing Debian)"
debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >/dev/null
# A fresh Debian 12 install has sudo-less root, ca-certificates and the main
# archive; run.sh installs everything else itself.
echo "deb $MIRROR bookworm main" >"$ROOT/etc/apt/sources.list"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
for m in proc sys dev dev/pts; do mount --bind "/$m" "$ROOT/$m"; done
t_boot=$((SECONDS - t0))

# The repository as a clone would have it: tracked files only, no build trees.
mkdir -p "$ROOT/src/wattlab"
git -C "$REPO" archive --format=tar HEAD | tar -x -C "$ROOT/src/wattlab"

echo "fresh-machine: ./scripts/run.sh ${RUN_ARGS[*]} in the chroot"
t1=$SECONDS
chroot "$ROOT" /bin/bash -c "cd /src/wattlab && ./scripts/setup.sh"
t_setup=$((SECONDS - t1))
t2=$SECONDS
# Quoted one by one; none at all when RUN_ARGS is empty (printf would give '').
args=""
((${#RUN_ARGS[@]})) && args=$(printf '%q ' "${RUN_ARGS[@]}")
chroot "$ROOT" /bin/bash -c "cd /tmp && /src/wattlab/build/bin/wattlab study $args"
t_study=$((SECONDS - t2))

fmt() { printf '%d min %02d s' $(($1 / 60)) $(($1 % 60)); }
echo
echo "## Fresh Debian 12 (debootstrap chroot), $(date -u +%Y-%m-%d), $(nproc) cores, load at start $load"
echo "debootstrap (not counted):        $(fmt $t_boot)"
echo "scripts/setup.sh (packages+build): $(fmt $t_setup)"
echo "wattlab study ${RUN_ARGS[*]}:      $(fmt $t_study)"
echo "README's first command in total:  $(fmt $((t_setup + t_study)))"
