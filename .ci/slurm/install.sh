#!/usr/bin/env bash
# Installs Debian's Slurm (controller, node daemon, client commands) and MUNGE for the one-node
# test cluster; with --accounting also slurmdbd and MariaDB. Idempotent: installed packages are
# not fetched again. Needs root (CI and the sandbox run as root).
#
#   .ci/slurm/install.sh [--accounting]
set -euo pipefail

accounting=0
for argument in "$@"; do
  case "$argument" in
    --accounting) accounting=1 ;;
    *) echo "install.sh: unknown argument '$argument' (expected --accounting)" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" != 0 ]; then
  echo "install.sh: run as root (it installs Debian packages and writes /etc/slurm)" >&2
  exit 1
fi

packages=(munge slurmctld slurmd slurm-client)
if [ "$accounting" = 1 ]; then
  packages+=(slurmdbd mariadb-server)
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Packages' own service starts are not wanted (start.sh starts the daemons); without systemd,
  # invoke-rc.d refuses them anyway.
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The munge package creates a key on install; make sure one exists with the right owner.
if [ ! -s /etc/munge/munge.key ]; then
  mungekey --create --keyfile=/etc/munge/munge.key
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
echo "install.sh: $(slurmctld -V) and $(munged -V 2>&1 | head -n1) installed"
