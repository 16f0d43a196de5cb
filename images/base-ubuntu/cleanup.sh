#!/usr/bin/env bash
# Remove build-time residue so every instance starts clean (apt caches, machine id, cloud-init state, logs).
# Runs as the last provision step; the platforms then run the validate steps on the same machine and capture it.
#
# Deliberately left in place:
# * SSH host keys: validate steps (sshd -t) need them. `cloud-init clean` below makes the next boot a first
#   boot, and cloud-init's ssh module (ssh_deletekeys, on by default, once per instance) deletes the keys and
#   generates new ones on every instance started from the image, so no two instances share a key.
# * /tmp: the builders keep their working files there while the build runs (AWSTOE's default working
#   directory, the scripts Packer and Azure Image Builder upload); Ubuntu's tmpfiles.d (tmp.conf: "D /tmp")
#   empties /tmp at every boot anyway.
set -euo pipefail
apt-get clean
rm -rf /var/lib/apt/lists/* /var/tmp/*
truncate -s 0 /etc/machine-id
cloud-init clean --logs
