#!/usr/bin/env bash
# `make demo`: start a local Debian 12 container standing in for a GPU worker,
# converge the stack into it (site.yml), show what the state modules read, and
# print the compliance summary with the HTML report's path.
set -euo pipefail
cd "$(dirname "$0")/.."

name=${DEMO_CONTAINER:-dlstack-demo}
image=${DEMO_IMAGE:-localhost/dlstack/debian:12}

if [ "$(podman container inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" != "true" ]; then
  podman rm -f "$name" >/dev/null 2>&1 || true
  echo "[demo] starting container $name from $image"
  podman run -d --name "$name" --network host --hostname "$name" "$image" /bin/sleep infinity >/dev/null
fi

inventory=$(mktemp)
trap 'rm -f "$inventory"' EXIT
# ssh with pipelining (ansible.cfg), as a fleet is reached: one round trip per task, where the
# podman connection makes three (DEMO_CONNECTION=podman keeps that one).
if [ "${DEMO_CONNECTION:-ssh}" = podman ]; then
  node_vars="ansible_connection=containers.podman.podman"
else
  port=${DEMO_SSH_PORT:-2222}
  keydir=.cache/demo-ssh
  if ! podman exec "$name" test -x /usr/sbin/sshd; then
    echo "[demo] installing openssh-server in $name"
    podman exec "$name" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >/dev/null'
  fi
  if [ ! -f "$keydir/id_ed25519" ]; then
    mkdir -p "$keydir"
    ssh-keygen -q -t ed25519 -N "" -C dlstack-demo -f "$keydir/id_ed25519"
  fi
  podman exec -i "$name" sh -c 'umask 077; mkdir -p /root/.ssh /run/sshd; cat > /root/.ssh/authorized_keys' < "$keydir/id_ed25519.pub"
  # The container shares the host's network: sshd listens on loopback only.
  if ! podman exec "$name" sh -c 'test -f /run/sshd.pid && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null'; then
    podman exec "$name" /usr/sbin/sshd -p "$port" -o ListenAddress=127.0.0.1 -o PasswordAuthentication=no \
      -o PidFile=/run/sshd.pid
  fi
  node_vars="ansible_host=127.0.0.1 ansible_port=$port ansible_user=root ansible_ssh_private_key_file=$PWD/$keydir/id_ed25519"
  node_vars="$node_vars ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR'"
fi
cat > "$inventory" <<INV
[gpu_workers]
$name $node_vars ansible_python_interpreter=/usr/bin/python3 dlstack_site_become=false
INV

# The example inventory's GPU worker settings; pip in venvs uses the system CA bundle.
.venv/bin/ansible-playbook -i "$inventory" -e @playbooks/inventory/example/group_vars/gpu_workers.yml \
  -e '{"anaconda_env_pip_extra_args": ["--cert", "/etc/ssl/certs/ca-certificates.crt"]}' \
  demo/demo.yml "$@"
echo "[demo] done; remove the container with: podman rm -f $name"
