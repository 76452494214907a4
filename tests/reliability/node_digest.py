"""What "the node changed" means, for the reliability tests and the gpu_stack scenario's planted drift."""

# What "the node changed" means: every path outside the pseudo filesystems with its
# type, size, mode, owner and mtime, plus dpkg's view of every package. Ansible's own
# remote temp dir is excluded: the connection needs it whatever the playbook does; so are
# apt's binary caches, which python-apt regenerates whenever package state is only read,
# /var/log/apt, where apt logs its solver's plan even for a simulated install, and apt's
# package lists, a cache of the repositories that check mode fetches on a node without any
# (roles/_common/tasks/package_lists.yml); the packages installed are dpkg's, listed below.
# Regenerating those caches also bumps /var/cache/apt's own mtime, so that directory is
# listed without it (its entries, e.g. downloaded archives, still count).
DIGEST_SCRIPT = r"""
set -e
find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp \
  -o -path /var/tmp -o -path /root/.ansible -o -path /var/cache/apt/pkgcache.bin \
  -o -path /var/cache/apt/srcpkgcache.bin -o -path /var/log/apt -o -path /var/lib/apt/lists \) -prune -o -printf '%p %y %s %m %u %T@\n' \
  | sed 's|^\(/var/cache/apt d [0-9]* [0-9]* [a-z]*\) .*|\1|' | LC_ALL=C sort > /run/dlstack-digest.files
dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\n' | LC_ALL=C sort > /run/dlstack-digest.packages
sha256sum /run/dlstack-digest.files /run/dlstack-digest.packages | awk '{print $1}' | tr '\n' ' '
"""
