#!/usr/bin/env bash
# Container runtime for application hosts: containerd from the distribution, with the systemd cgroup driver.
set -euo pipefail
mkdir -p /etc/containerd
containerd config default > /etc/containerd/config.toml
sed -i 's/SystemdCgroup = false/SystemdCgroup = true/' /etc/containerd/config.toml
systemctl enable containerd
