#!/usr/bin/env bash
# Starts a real one-node Slurm cluster on this machine for xrbench's tests: munged, slurmctld and
# slurmd (and, with --accounting, MariaDB and slurmdbd), configured for this host's name, CPUs and
# memory. Waits until `sinfo` shows the node idle. Stop it with .ci/slurm/stop.sh.
#
#   .ci/slurm/start.sh [--accounting [--enforce-limits]] [--no-cgroup]
#
#   --accounting      store jobs in MariaDB through slurmdbd, so that `sacct` answers
#   --enforce-limits  refuse unknown accounts and QOS and over-limit requests at submission
#                     (AccountingStorageEnforce, EnforcePartLimits=ALL), as many sites do
#   --no-cgroup       use proctrack/linuxproc + task/none even where cgroup v1 is writable
#
# It refuses to overwrite an /etc/slurm/slurm.conf it did not write (a real cluster's node).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

accounting=0
enforce_limits=0
use_cgroup=auto
for argument in "$@"; do
  case "$argument" in
    --accounting) accounting=1 ;;
    --enforce-limits) enforce_limits=1 ;;
    --no-cgroup) use_cgroup=no ;;
    *) echo "start.sh: unknown argument '$argument' (expected --accounting, --enforce-limits or --no-cgroup)" >&2; exit 2 ;;
  esac
done
if [ "$enforce_limits" = 1 ] && [ "$accounting" = 0 ]; then
  echo "start.sh: --enforce-limits needs --accounting (accounts and QOS live in slurmdbd)" >&2
  exit 2
fi

if [ "$(id -u)" != 0 ]; then
  echo "start.sh: run as root (it starts daemons and writes /etc/slurm)" >&2
  exit 1
fi
for command in munged slurmctld slurmd sinfo; do
  command -v "$command" >/dev/null || { echo "start.sh: $command not found; run .ci/slurm/install.sh first" >&2; exit 1; }
done
if [ "$accounting" = 1 ]; then
  for command in slurmdbd mariadbd; do
    command -v "$command" >/dev/null || { echo "start.sh: $command not found; run .ci/slurm/install.sh --accounting first" >&2; exit 1; }
  done
fi

marker="xrbench-test-cluster"
conf_dir=/etc/slurm
state_dir=/var/lib/slurm
run_dir=/run/slurm
log_dir=/var/log/slurm
if [ -e "$conf_dir/slurm.conf" ] && ! grep -q "$marker" "$conf_dir/slurm.conf"; then
  echo "start.sh: $conf_dir/slurm.conf exists and was not written by this script; refusing to replace it" >&2
  exit 1
fi

# A cluster this script started earlier is stopped first, so the new configuration applies, and
# its saved state is dropped: every start is a fresh cluster (job ids from 1, no jobs recovered).
"$here/stop.sh" --quiet
rm -rf "${state_dir:?}/slurmctld" "${state_dir:?}/slurmd"

started_at=$(date +%s.%N)
host="$(hostname -s)"
node_line="$(slurmd -C | head -n1)"
case "$node_line" in
  NodeName=*) ;;
  *) echo "start.sh: 'slurmd -C' printed '$node_line', not a node line" >&2; exit 1 ;;
esac

# cgroup v1 with writable memory and freezer hierarchies lets Slurm enforce --mem through the
# kernel's OOM killer (state OUT_OF_MEMORY). Without it, only the polling OverMemoryKill applies.
cgroup_v1_writable() {
  local controller probe
  for controller in memory freezer cpuset devices; do
    [ -d "/sys/fs/cgroup/$controller" ] || return 1
    probe="/sys/fs/cgroup/$controller/xrbench-probe-$$"
    mkdir "$probe" 2>/dev/null || return 1
    rmdir "$probe"
  done
}
if [ "$use_cgroup" = auto ] && cgroup_v1_writable; then
  use_cgroup=yes
else
  use_cgroup=no
fi
if [ "$use_cgroup" = yes ]; then
  proctrack=proctrack/cgroup task_plugin=task/cgroup,task/affinity
  job_acct_gather=jobacct_gather/cgroup job_acct_params=NoShared
else
  proctrack=proctrack/linuxproc task_plugin=task/none
  job_acct_gather=jobacct_gather/linux job_acct_params=OverMemoryKill
fi
if [ "$accounting" = 1 ]; then
  accounting_type=accounting_storage/slurmdbd accounting_host="AccountingStorageHost=127.0.0.1"
else
  accounting_type=accounting_storage/none accounting_host=""
fi
if [ "$enforce_limits" = 1 ]; then
  enforce="AccountingStorageEnforce=associations,limits,qos" part_limits=ALL
else
  enforce="# AccountingStorageEnforce is not set: any account or QOS name is accepted" part_limits=NO
fi

mkdir -p "$conf_dir" "$state_dir/slurmctld" "$state_dir/slurmd" "$run_dir" "$log_dir" /run/munge
chown slurm:slurm "$state_dir/slurmctld" "$run_dir" "$log_dir"
chown munge:munge /run/munge
sed -e "s|@XRBENCH_SLURM_MARKER@|$marker|" \
    -e "s|@HOST@|$host|g" \
    -e "s|@NODE_LINE@|$node_line|" \
    -e "s|@STATE@|$state_dir|g" -e "s|@RUN@|$run_dir|g" -e "s|@LOG@|$log_dir|g" \
    -e "s|@PROCTRACK@|$proctrack|" -e "s|@TASKPLUGIN@|$task_plugin|" \
    -e "s|@JOBACCTGATHER@|$job_acct_gather|" -e "s|@JOBACCTPARAMS@|$job_acct_params|" \
    -e "s|@ACCOUNTING@|$accounting_type|" -e "s|@ACCOUNTING_HOST@|$accounting_host|" \
    -e "s|@ENFORCE@|$enforce|" -e "s|@PART_LIMITS@|$part_limits|" \
    "$here/slurm.conf.in" > "$conf_dir/slurm.conf"
if [ "$use_cgroup" = yes ]; then
  sed -e "s|@XRBENCH_SLURM_MARKER@|$marker|" "$here/cgroup.conf.in" > "$conf_dir/cgroup.conf"
else
  rm -f "$conf_dir/cgroup.conf"
fi

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 description=$2 waited=0
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [ "$waited" -ge $((limit * 10)) ]; then
      echo "start.sh: $description did not happen within ${limit}s" >&2
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

# MUNGE authenticates every message between the Slurm daemons and commands.
runuser -u munge -- munged
wait_for 10 "munged answering" bash -c 'munge -n | unmunge'

if [ "$accounting" = 1 ]; then
  "$here/accounting.sh" start "$host"
fi

slurmctld
wait_for 30 "slurmctld answering" scontrol ping
slurmd
node_idle() { sinfo -h -n "$host" -o '%T' | grep -qx idle; }
if ! wait_for 60 "node $host idle" node_idle; then
  sinfo -N -l >&2 || true
  tail -n 20 "$log_dir/slurmctld.log" "$log_dir/slurmd.log" >&2 || true
  exit 1
fi

finished_at=$(date +%s.%N)
elapsed=$(awk -v a="$started_at" -v b="$finished_at" 'BEGIN { printf "%.1f", b - a }')
echo "start.sh: Slurm $(sinfo -V | awk '{print $2}') up on $host in ${elapsed}s" \
     "(cgroup: $use_cgroup, accounting: $accounting_type, limits enforced: $enforce_limits)"
sinfo -N -o '%N %T %c %m %P'
