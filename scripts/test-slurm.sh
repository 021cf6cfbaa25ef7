#!/usr/bin/env bash
# The cluster test (issue 16): a real Slurm on this machine runs a small study
# as a job array of four shards, and the merged study must hold every planned
# run exactly once.
#
# It installs Debian's slurmctld, slurmd, slurm-client and munge (idempotent,
# as scripts/setup.sh does), then starts munged, slurmctld and slurmd itself
# (no systemd needed): a generated slurm.conf (proctrack/linuxproc, task/none,
# no cgroup plugin, this host as the only node at 127.0.0.1, free ports), a
# fresh munge key, and every state, spool, log, pid and socket file in one
# temporary folder, so nothing clashes with a Slurm or munge the machine
# already runs. It submits `sbatch --array=1-4 --exclusive` (exclusive: the
# shards never share the node, so none disturbs another's measurement),
# waits, merges the shard databases with `wattlab merge`, compares the merged
# study with `wattlab study --dry-run`'s plan, and stops the daemons by their
# pids on exit, failure included.
#
# Where Slurm cannot start here (not root, packages not installable, a daemon
# that does not come up) it says why and skips (exit 0); with CI=true a skip
# is a failure (exit 1). A failure of the job, the merge or the check always
# fails.
#
#   scripts/test-slurm.sh            uses build/bin/wattlab (WATTLAB_BUILD_DIR),
#                                    built by scripts/setup.sh if missing
#   WATTLAB_SLURM_TIMEOUT_S=N        how long the job may take (default 600)
#   WATTLAB_SLURM_KEEP=1             keep the temporary folder (printed)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

START=$SECONDS
say() { echo "test-slurm [$((SECONDS - START)) s]: $*" >&2; }
fail() {
  echo "test-slurm: FAILED: $*" >&2
  exit 1
}
skip() {
  if [[ "${CI:-}" == true ]]; then
    echo "test-slurm: FAILED: Slurm cannot run here, and CI=true does not allow a skip: $*" >&2
    exit 1
  fi
  echo "test-slurm: SKIPPED: $*" >&2
  exit 0
}

[[ $(id -u) -eq 0 ]] ||
  skip "slurmd must run as root to start jobs (and the packages need root to install); run as root"

# --- packages ---------------------------------------------------------------
PACKAGES=(slurmctld slurmd slurm-client munge)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  # No systemd here: the packages' own start of the daemons fails or is
  # refused by policy-rc.d; this script starts its own below.
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 \
    "${missing[@]}" >/dev/null; }; then
    skip "apt-get install ${missing[*]} failed (no network or no Debian archive?)"
  fi
fi
for b in munged slurmctld slurmd sbatch squeue sinfo scontrol; do
  command -v "$b" >/dev/null || skip "$b is not on PATH after installing ${PACKAGES[*]}"
done

BUILD_DIR=${WATTLAB_BUILD_DIR:-build}
WATTLAB=$ROOT/$BUILD_DIR/bin/wattlab
if [[ ! -x $WATTLAB ]]; then
  say "no $WATTLAB: building it (scripts/setup.sh)"
  ./scripts/setup.sh
fi
PY=/usr/bin/python3
[[ -x $PY ]] || PY=$(command -v python3) || fail "python3 is needed for the check (scripts/setup.sh --all)"

# --- temporary folder, cleanup ----------------------------------------------
T=$(mktemp -d /tmp/wattlab-slurm.XXXXXX)
chmod 0755 "$T" # the job's user (root here) and munged's directory checks
PIDS=()
JOB=
cleanup() {
  local rc=$?
  # A job still running (a timeout, an interrupt) goes first: its slurmstepd
  # would outlive slurmd.
  if [[ -n ${JOB:-} ]] && [[ -n $(squeue -h -j "$JOB" -o '%i' 2>/dev/null) ]]; then
    scancel "$JOB" 2>/dev/null || true
    for _ in $(seq 20); do [[ -z $(squeue -h -j "$JOB" -o '%i' 2>/dev/null) ]] && break; sleep 0.5; done
  fi
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill "${PIDS[i]}" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [[ "${WATTLAB_SLURM_KEEP:-0}" == 1 || $rc -ne 0 ]]; then
    echo "test-slurm: files kept in $T" >&2
  else
    rm -rf "$T"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

show_logs() {
  echo "--- squeue ---" >&2
  squeue -a -o '%.18i %.9P %.8j %.2t %.10M %.6D %R' >&2 || true
  echo "--- sinfo ---" >&2
  sinfo -N -l >&2 || true
  for f in "$T"/log/*.log "$T"/job-*.out; do
    [[ -f $f ]] || continue
    echo "--- $f (last 40 lines) ---" >&2
    tail -n 40 "$f" >&2
  done
}

# --- munged -----------------------------------------------------------------
mkdir -p "$T/munge" "$T/log" "$T/state" "$T/spool" "$T/run" "$T/work"
chmod 0700 "$T/munge"
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$T/munge/munge.key"
SOCKET=$T/munge/munge.socket
say "starting munged (socket $SOCKET)"
munged --foreground --force --socket="$SOCKET" --key-file="$T/munge/munge.key" \
  --pid-file="$T/run/munged.pid" --log-file="$T/log/munged.log" --seed-file="$T/munge/munged.seed" \
  >>"$T/log/munged.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do [[ -S $SOCKET ]] && break; sleep 0.1; done
if ! munge --socket="$SOCKET" -n </dev/null | unmunge --socket="$SOCKET" >/dev/null 2>&1; then
  show_logs
  skip "munged did not start (log above)"
fi

# --- slurm.conf -------------------------------------------------------------
read -r CTLD_PORT SLURMD_PORT < <("$PY" -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
NODE=$(hostname -s)
CPUS=$(nproc)
export SLURM_CONF=$T/slurm.conf
cat >"$SLURM_CONF" <<EOF
# Generated by scripts/test-slurm.sh: one node, this host, no cgroups.
ClusterName=wattlabtest
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$SOCKET
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool/slurmd-%n
SlurmctldPidFile=$T/run/slurmctld.pid
SlurmdPidFile=$T/run/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
MinJobAge=600
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS State=UNKNOWN
PartitionName=test Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

say "starting slurmctld (port $CTLD_PORT) and slurmd (port $SLURMD_PORT) for node $NODE, $CPUS CPU(s)"
slurmctld -D -f "$SLURM_CONF" >>"$T/log/slurmctld.out.log" 2>&1 &
PIDS+=($!)
slurmd -D -f "$SLURM_CONF" -N "$NODE" >>"$T/log/slurmd.out.log" 2>&1 &
PIDS+=($!)
up=0
for _ in $(seq 60); do
  state=$(sinfo -h -n "$NODE" -o '%t' 2>/dev/null || true)
  [[ $state == idle ]] && up=1 && break
  for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || break 2; done
  sleep 0.5
done
if ((!up)); then
  show_logs
  skip "Slurm did not bring node $NODE up within 30 s (node state '${state:-none}'; logs above)"
fi
say "Slurm is up: node $NODE idle"

# --- the study: six tiny runs over four shards --------------------------------
# LeNet on synthetic data, a few steps each: 3 batch sizes x 2 repetitions =
# 6 runs, so the round-robin deal gives shards of 2, 2, 1 and 1 runs.
SPEC=$T/slurm-test.toml
cat >"$SPEC" <<'TOML'
name = "slurm-test"
description = "scripts/test-slurm.sh: a tiny study sharded over a Slurm job array"
seed = 7
repetitions = 2
warmup_steps = 1
cooldown_s = 0
idle_s = 1
idle_every_s = 600
dataset = "synthetic:1x28x28:256"

[[sweep]]
name = "lenet"
models = ["lenet"]
batch_sizes = [8, 16, 32]
threads = [1]
phases = ["train", "infer"]
profile_steps = 3
infer_samples = 64
TOML
# --shard 1/1: the whole plan, even where this script itself runs in a job array.
"$WATTLAB" study --spec "$SPEC" --shard 1/1 --db "$T/plan.db" --no-report --dry-run >"$T/plan.txt" ||
  fail "wattlab study --dry-run refused the test's spec"
rm -f "$T/plan.db"*

mkdir -p "$T/shards"
cat >"$T/shard.sbatch" <<EOF2
#!/bin/bash
# One shard of the study: wattlab reads K/N from SLURM_ARRAY_TASK_* and
# writes shard-<task id>.db (--db's %a).
export OMP_WAIT_POLICY=passive
cd "$T/shards"
exec "$WATTLAB" study --spec "$SPEC" --db "$T/shards/shard-%a.db" --no-report
EOF2
cd "$T/work"
JOB=$(sbatch --parsable --array=1-4 --exclusive --job-name=wattlab-shard -o "$T/job-%a.out" "$T/shard.sbatch") ||
  {
    show_logs
    fail "sbatch refused the job array"
  }
JOB=${JOB%%;*}
TIMEOUT_S=${WATTLAB_SLURM_TIMEOUT_S:-600}
say "submitted job array $JOB (4 shards, exclusive); waiting up to $TIMEOUT_S s"
deadline=$((SECONDS + TIMEOUT_S))
while [[ -n $(squeue -h -j "$JOB" -o '%i' 2>/dev/null) ]]; do
  if ((SECONDS > deadline)); then
    show_logs
    scancel "$JOB" 2>/dev/null || true
    fail "job array $JOB did not finish within $TIMEOUT_S s (WATTLAB_SLURM_TIMEOUT_S)"
  fi
  sleep 2
done
# Every task completed with exit code 0 (MinJobAge keeps their records).
states=$(scontrol -o show job "$JOB" | sed -n 's/.*ArrayTaskId=\([0-9]*\) .*JobState=\([A-Z_]*\) .*ExitCode=\([0-9:]*\).*/\1 \2 \3/p' | sort -n)
say "array tasks (id state exit): $(echo "$states" | tr '\n' ',' | sed 's/,$//')"
if [[ $(echo "$states" | grep -c ' COMPLETED 0:0$') -ne 4 ]]; then
  show_logs
  fail "not every array task of $JOB completed with exit code 0: $states"
fi

# --- merge and check ------------------------------------------------------------
shopt -s nullglob
shards=("$T"/shards/shard-*.db)
shopt -u nullglob
((${#shards[@]} == 4)) || {
  show_logs
  fail "expected 4 shard databases (shard-1.db ... shard-4.db), found ${#shards[@]}: ${shards[*]:-none}"
}
say "merging ${#shards[@]} shards"
"$WATTLAB" merge "$T/merged.db" "${shards[@]}" || fail "wattlab merge failed"
# Merging again adds nothing (idempotent), so the check below also covers it.
"$WATTLAB" merge "$T/merged.db" "${shards[@]}" >/dev/null || fail "a second wattlab merge of the same shards failed"

"$PY" - "$T/plan.txt" "$T/merged.db" <<'PYEOF' || fail "the merged study does not hold the plan (above)"
import re, sqlite3, sys
plan_txt, db = sys.argv[1], sys.argv[2]
# The dry run's table: "run  config  rep  model ...", one row per planned run.
planned = []
for line in open(plan_txt):
    m = re.match(r"\s*(\d+)\s+(\S+)\s+(\d+)\s+(\S+)\s", line)
    if m:
        planned.append((int(m[1]), m[2], int(m[3]), m[4]))
if len(planned) != 6:
    sys.exit(f"expected 6 planned runs in the dry run, parsed {len(planned)}: {open(plan_txt).read()}")
con = sqlite3.connect(db)
rows = con.execute("SELECT run_id, config_id, repetition, model FROM runs WHERE study='slurm-test'").fetchall()
bad = []
if sorted(rows) != sorted(planned):
    bad.append(f"runs differ from the plan:\n  planned {sorted(planned)}\n  merged  {sorted(rows)}")
dups = con.execute("SELECT run_id, phase, window, count(*) FROM windows WHERE study='slurm-test' "
                   "GROUP BY run_id, phase, window HAVING count(*) > 1").fetchall()
if dups:
    bad.append(f"windows stored more than once: {dups}")
for (run_id, *_rest) in planned:
    phases = {p for (p,) in con.execute(
        "SELECT DISTINCT phase FROM windows WHERE study='slurm-test' AND run_id=?", (run_id,))}
    if not {"train", "infer"} <= phases:
        bad.append(f"run {run_id}: phases {sorted(phases)}, expected train and infer")
unfinished = con.execute("SELECT run_id FROM runs WHERE study='slurm-test' AND finished_at IS NULL").fetchall()
if unfinished:
    bad.append(f"runs not finished: {unfinished}")
failed = con.execute("SELECT run_id, message FROM failed_runs WHERE study='slurm-test'").fetchall()
if failed:
    bad.append(f"failed runs: {failed}")
tables = {t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
if "study_shards" not in tables:
    bad.append("no study_shards table: the merged database does not say which shards it holds")
else:
    shards = sorted(con.execute("SELECT shard_k, shard_n FROM study_shards WHERE study='slurm-test'").fetchall())
    if shards != [(1, 4), (2, 4), (3, 4), (4, 4)]:
        bad.append(f"shards recorded {shards}, expected 1/4 .. 4/4 once each")
if bad:
    sys.exit("\n".join(bad))
print(f"merged study holds all {len(planned)} planned runs exactly once")
PYEOF
say "passed: 4 shards on Slurm $(sinfo -V | awk '{print $2}'), merged study complete"
