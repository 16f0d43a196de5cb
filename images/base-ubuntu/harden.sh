#!/usr/bin/env bash
# CIS-inspired hardening for Ubuntu 24.04 build instances. Idempotent; runs as root under set -euo pipefail.
set -euo pipefail

# Kernel network hardening.
cat > /etc/sysctl.d/60-golden-images.conf <<'SYSCTL'
net.ipv4.conf.all.accept_redirects = 0
net.ipv4.conf.default.accept_redirects = 0
net.ipv4.conf.all.send_redirects = 0
net.ipv4.conf.all.log_martians = 1
net.ipv4.tcp_syncookies = 1
kernel.randomize_va_space = 2
fs.suid_dumpable = 0
SYSCTL
sysctl --system >/dev/null

# Disable unused filesystems.
for fs in cramfs freevxfs jffs2 hfs hfsplus udf; do
  echo "install ${fs} /bin/false" > "/etc/modprobe.d/golden-${fs}.conf"
done

# Time sync and audit on by default.
systemctl enable --now chrony auditd

# No password logins; root locked.
passwd -l root
