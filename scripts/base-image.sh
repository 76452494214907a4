#!/usr/bin/env bash
# Build the local Debian base images the molecule scenarios start from.
# No registry is reachable, so images come from debootstrap + `podman import`.
# Cached: an image that already exists is not rebuilt (FORCE=1 rebuilds).
# Usage: base-image.sh [bookworm|trixie ...]   (default: bookworm)
set -euo pipefail

mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bookworm)

for suite in "${suites[@]}"; do
  case "$suite" in
    bookworm) tag=localhost/dlstack/debian:12 ;;
    trixie) tag=localhost/dlstack/debian:13 ;;
    *) echo "unknown suite $suite (bookworm or trixie)" >&2; exit 2 ;;
  esac
  if [ "${FORCE:-0}" != 1 ] && podman image exists "$tag"; then
    echo "[base-image] $tag exists (cached)"
    continue
  fi
  root=$(mktemp -d /var/tmp/dlstack-rootfs.XXXXXX)
  trap 'rm -rf "$root"' EXIT
  echo "[base-image] debootstrap $suite into $root"
  debootstrap --variant=minbase --components=main,contrib,non-free,non-free-firmware \
    --include=python3,python3-apt,ca-certificates,procps,iproute2 \
    "$suite" "$root" "$mirror" >"/var/tmp/dlstack-debootstrap-$suite.log" 2>&1 || {
      tail -30 "/var/tmp/dlstack-debootstrap-$suite.log" >&2; exit 1; }
  # Binary and source lines with every component, like the host; security updates too.
  cat > "$root/etc/apt/sources.list" <<SRC
deb $mirror $suite main contrib non-free non-free-firmware
deb-src $mirror $suite main contrib non-free non-free-firmware
deb $mirror $suite-updates main contrib non-free non-free-firmware
deb ${security_mirror} $suite-security main contrib non-free non-free-firmware
SRC
  # Keep images small and apt quiet in containers.
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' > "$root/etc/apt/apt.conf.d/90dlstack-norecommends"
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  echo "[base-image] importing as $tag"
  tar -C "$root" -c . | podman import --change 'CMD ["/bin/sleep", "infinity"]' - "$tag" >/dev/null
  rm -rf "$root"
  trap - EXIT
done
