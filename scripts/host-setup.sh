#!/usr/bin/env bash
# Prepare a fresh Debian 12 host (as root) for the collection's tests:
# apt components the stack needs, podman + runc + debootstrap, and the two
# containers.conf settings this kind of hybrid-cgroup host requires.
# Idempotent: every step checks before it changes anything.
set -euo pipefail

log() { printf '[host-setup] %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
  echo "host-setup.sh must run as root (podman is used rootful)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# 1. apt: contrib/non-free and deb-src next to main (the containers get their own).
sources=/etc/apt/sources.list.d/debian.sources
if [ -f "$sources" ] && ! grep -q 'non-free' "$sources"; then
  log "enabling contrib non-free non-free-firmware and deb-src in $sources"
  sed -i -E 's/^Components: main$/Components: main contrib non-free non-free-firmware/; s/^Types: deb$/Types: deb deb-src/' "$sources"
  rm -f /var/lib/dlstack-apt-updated
fi

needed=()
# libnvidia-ml1 (non-free) lets the unit tests load the real NVML library too; maven and the JDK
# resolve the test Hadoop cluster's jars (scripts/hadoop-cluster.sh); chromium is the browser the
# HTML compliance report is tested in (tests/reliability/test_compliance_report_browser.py).
for pkg in podman runc debootstrap uidmap slirp4netns fuse-overlayfs rsync make git shellcheck libnvidia-ml1 maven default-jdk-headless chromium fonts-dejavu-core; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || needed+=("$pkg")
done
if [ ${#needed[@]} -gt 0 ]; then
  if [ ! -f /var/lib/dlstack-apt-updated ]; then
    apt-get update -qq && touch /var/lib/dlstack-apt-updated
  fi
  log "installing ${needed[*]}"
  apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
fi

# 2. containers.conf: crun fails on this host's hybrid cgroups; runc works.
conf=/etc/containers/containers.conf
mkdir -p /etc/containers
if ! grep -qs '^runtime = "runc"' "$conf"; then
  log "writing $conf (runtime runc, default_ulimits)"
  cat > "$conf" <<'CONF'
# Written by dlstack.cdh scripts/host-setup.sh
[containers]
default_ulimits = ["nofile=1024:20000", "nproc=1000:1000"]

[engine]
runtime = "runc"
CONF
fi

podman info --format '{{.Host.OCIRuntime.Name}}' >/dev/null
log "podman $(podman --version | awk '{print $3}') ready (runtime $(podman info --format '{{.Host.OCIRuntime.Name}}'))"
