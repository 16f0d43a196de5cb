#!/usr/bin/env bash
# Remove build-time residue so every instance starts clean (machine id, logs, cloud-init state, SSH host keys).
set -euo pipefail
apt-get clean
rm -rf /var/lib/apt/lists/* /tmp/* /var/tmp/*
truncate -s 0 /etc/machine-id
rm -f /etc/ssh/ssh_host_*
cloud-init clean --logs
