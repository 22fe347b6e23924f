#!/usr/bin/env bash
# The accounting half of the test cluster: MariaDB plus slurmdbd, so that `sacct` answers.
# Called by start.sh --accounting (before slurmctld starts) and by stop.sh.
#
#   .ci/slurm/accounting.sh start HOST
#   .ci/slurm/accounting.sh stop
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
marker="xrbench-test-cluster"
mysql_run=/run/mysqld
mysql_pid="$mysql_run/mysqld.pid"
dbd_pid=/run/slurm/slurmdbd.pid

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 description=$2 waited=0
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [ "$waited" -ge $((limit * 10)) ]; then
      echo "accounting.sh: $description did not happen within ${limit}s" >&2
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
}

case "${1:-}" in
  start)
    host="${2:?accounting.sh start HOST}"
    if [ -e /etc/slurm/slurmdbd.conf ] && ! grep -q "$marker" /etc/slurm/slurmdbd.conf; then
      echo "accounting.sh: /etc/slurm/slurmdbd.conf exists and was not written by xrbench; refusing to replace it" >&2
      exit 1
    fi
    mkdir -p "$mysql_run" /run/slurm
    chown mysql:mysql "$mysql_run"
    if [ ! -d /var/lib/mysql/mysql ]; then
      mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
    fi
    # Only the Unix socket: nothing listens on the network.
    mariadbd --user=mysql --datadir=/var/lib/mysql --socket="$mysql_run/mysqld.sock" \
      --pid-file="$mysql_pid" --skip-networking \
      --innodb-buffer-pool-size=256M --innodb-lock-wait-timeout=900 \
      >>/var/log/slurm/mariadb.log 2>&1 &
    wait_for 60 "MariaDB answering" mariadb -e 'SELECT 1'
    # A fresh local test database on every start (as start.sh drops slurmctld's state); the
    # password only has to match slurmdbd.conf.
    mariadb <<'SQL'
DROP DATABASE IF EXISTS slurm_acct_db;
CREATE DATABASE slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'xrbench-test';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
SQL
    sed -e "s|@XRBENCH_SLURM_MARKER@|$marker|" -e "s|@HOST@|$host|g" \
      "$here/slurmdbd.conf.in" > /etc/slurm/slurmdbd.conf
    chown slurm:slurm /etc/slurm/slurmdbd.conf
    chmod 0600 /etc/slurm/slurmdbd.conf
    slurmdbd
    wait_for 60 "slurmdbd answering" sacctmgr -n list cluster
    # slurmctld registers with the cluster record; create it once.
    if ! sacctmgr -n -P list cluster format=Cluster | grep -qx xrbench; then
      sacctmgr -i add cluster xrbench >/dev/null
    fi
    ;;
  stop)
    for pid_file in "$dbd_pid" "$mysql_pid"; do
      [ -s "$pid_file" ] || continue
      pid=$(cat "$pid_file")
      kill -TERM "$pid" 2>/dev/null || true
      waited=0
      while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 300 ]; do sleep 0.1; waited=$((waited + 1)); done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
      rm -f "$pid_file"
    done
    ;;
  *)
    echo "accounting.sh: expected 'start HOST' or 'stop'" >&2
    exit 2
    ;;
esac
