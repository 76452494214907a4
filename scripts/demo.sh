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
cat > "$inventory" <<INV
[gpu_workers]
$name ansible_connection=containers.podman.podman ansible_python_interpreter=/usr/bin/python3 dlstack_site_become=false
INV

# The example inventory's GPU worker settings; pip in venvs uses the system CA bundle.
.venv/bin/ansible-playbook -i "$inventory" -e @playbooks/inventory/example/group_vars/gpu_workers.yml \
  -e '{"anaconda_env_pip_extra_args": ["--cert", "/etc/ssl/certs/ca-certificates.crt"]}' \
  demo/demo.yml "$@"
echo "[demo] done; remove the container with: podman rm -f $name"
