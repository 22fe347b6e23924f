#!/usr/bin/env bash
# Stops the test cluster that .ci/slurm/start.sh started: slurmd, slurmctld, slurmdbd, MariaDB and
# munged, each by the pid file it wrote, never by process name. Safe to run when nothing is up.
#
#   .ci/slurm/stop.sh [--quiet]
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
quiet=0
[ "${1:-}" = --quiet ] && quiet=1

say() { [ "$quiet" = 1 ] || echo "stop.sh: $*"; }

stop_pid_file() { # stop_pid_file NAME PIDFILE
  local name=$1 pid_file=$2 pid waited=0
  [ -s "$pid_file" ] || return 0
  pid=$(cat "$pid_file")
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$pid_file"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge 150 ]; then
      say "$name ($pid) did not stop within 15 s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$pid_file"
  say "$name stopped"
}

# Jobs first: a batch step (slurmstepd and its children) outlives slurmd, so cancel every job and
# wait until none is running or completing (KillWait is 5 s in the test configuration).
if [ -s /run/slurm/slurmctld.pid ] && kill -0 "$(cat /run/slurm/slurmctld.pid)" 2>/dev/null \
   && scontrol ping >/dev/null 2>&1; then
  jobs=$(squeue -h -o %A 2>/dev/null | sort -u)
  if [ -n "$jobs" ]; then
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null
    for _ in $(seq 1 150); do
      [ -z "$(squeue -h -t RUNNING,COMPLETING,SUSPENDED -o %A 2>/dev/null)" ] && break
      sleep 0.1
    done
    say "cancelled jobs: $(echo $jobs)"
  fi
fi
stop_pid_file slurmd /run/slurm/slurmd.pid
stop_pid_file slurmctld /run/slurm/slurmctld.pid
stop_pid_file slurmdbd /run/slurm/slurmdbd.pid
if [ -x "$here/accounting.sh" ]; then
  "$here/accounting.sh" stop
fi
stop_pid_file munged /run/munge/munged.pid
exit 0
