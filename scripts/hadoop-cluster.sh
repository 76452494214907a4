#!/usr/bin/env bash
# The tests' Hadoop cluster: Apache Hadoop daemons from Maven Central's jars in podman
# containers on a project network. One shared way to start it, used by the molecule
# scenarios (molecule/shared/hadoop_cluster.yml) and the reliability tests.
#
#   hadoop-cluster.sh image                 build (or reuse) the node image
#   hadoop-cluster.sh up NAME PREFIX        start cluster NAME on network dlstack-NAME, PREFIX.0/24
#                                           (master PREFIX.2, worker PREFIX.3; gateways .10-.19),
#                                           wait until healthy, create /user, /tmp, /user/dlstack
#   hadoop-cluster.sh client NAME CONTAINER join a gateway container to the cluster's network, if
#                                           there is one, as hadoop-gateway (PREFIX.10), and
#                                           install the jars, launchers and configuration (it
#                                           brings its own Java)
#   hadoop-cluster.sh status NAME           dfsadmin -report, yarn node -list, memory
#   hadoop-cluster.sh down NAME             remove the containers (and the network if unused)
#
# Nodes: dlstack-NAME-master runs the NameNode and the ResourceManager, dlstack-NAME-worker a DataNode and a
# NodeManager. Every container resolves hadoop-master, hadoop-worker and hadoop-gateway
# (PREFIX.10) through /etc/hosts (the CNI network here has no DNS plugin).
# Caches: ~/.m2 (Maven), ~/.cache/dlstack-cdh/hadoop (the jars), the image (tagged by the
# content of molecule/shared/hadoop_cluster; FORCE=1 rebuilds it).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
src=$here/molecule/shared/hadoop_cluster
hadoop_version=$(sed -n 's:.*<hadoop.version>\(.*\)</hadoop.version>.*:\1:p' "$src/pom.xml")
cache=${DLSTACK_CACHE:-$HOME/.cache/dlstack-cdh}/hadoop
# Healthy in about a minute on an idle 2-core machine; much longer when other builds load it.
timeout=${HADOOP_CLUSTER_TIMEOUT:-600}

log() { printf '[hadoop-cluster] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

content_hash() {
  (cd "$src" && find . -type f ! -name '*.md' -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-12
}
image_tag() { echo "localhost/dlstack/hadoop:$hadoop_version-$(content_hash)"; }

# The jars of pom.xml's dependencies, resolved once into the cache.
jars() {
  local lib
  lib=$cache/$hadoop_version-$(sha256sum "$src/pom.xml" | cut -c1-12)/lib
  if [ ! -f "$lib/.complete" ]; then
    command -v mvn >/dev/null || die "mvn is needed to fetch the Hadoop jars (apt-get install maven)"
    log "resolving Hadoop $hadoop_version jars into $lib"
    rm -rf "$lib" && mkdir -p "$lib"
    mvn -B -q -f "$src/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$lib" >&2 || die "mvn dependency:copy-dependencies failed"
    touch "$lib/.complete"
  fi
  echo "$lib"
}

cmd_image() {
  local tag lib ctx start
  start=$(date +%s)
  tag=$(image_tag)
  if [ "${FORCE:-0}" != 1 ] && podman image exists "$tag"; then
    echo "$tag"; return
  fi
  lib=$(jars)
  ctx=$(mktemp -d /var/tmp/dlstack-hadoop-image.XXXXXX)
  # shellcheck disable=SC2064
  trap "rm -rf '$ctx'" RETURN
  cp -r "$src/bin" "$src/conf" "$src/Containerfile" "$ctx/"
  mkdir "$ctx/lib" && cp "$lib"/*.jar "$ctx/lib/"
  log "building $tag"
  podman build -q --network host -t "$tag" -f "$ctx/Containerfile" "$ctx" >&2 || die "image build failed"
  log "built $tag in $(($(date +%s) - start))s (the jars from Maven included)"
  echo "$tag"
}

check_name() {
  [[ ${1:-} =~ ^[a-z0-9][a-z0-9_-]*$ ]] || die "cluster NAME must be lower-case letters, digits, - and _ (got '${1:-}')"
}
check_prefix() {
  [[ ${1:-} =~ ^10\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "PREFIX must be the first three octets of a 10.x.y.0/24 network (got '${1:-}')"
}

hosts_args() {
  local prefix=$1
  echo "--add-host=hadoop-master:$prefix.2 --add-host=hadoop-worker:$prefix.3 --add-host=hadoop-gateway:$prefix.10"
}

# Run a client command on the master as user $1 (hdfs is the superuser).
on_master() { local user=$1; shift; podman exec -u "$user" "dlstack-$name-master" "$@"; }

# The daemons' own log lines first (a grep costs nothing), then the real check: every client
# JVM started here competes with the daemons for the two cores.
started() {
  podman exec "dlstack-$name-master" grep -q 'NameNode RPC up' /var/log/hadoop/namenode.log \
    && podman exec "dlstack-$name-master" grep -q 'Transitioned to active state' /var/log/hadoop/resourcemanager.log \
    && podman exec "dlstack-$name-worker" grep -q 'Successfully sent block report' /var/log/hadoop/datanode.log \
    && podman exec "dlstack-$name-worker" grep -q 'Registered with ResourceManager' /var/log/hadoop/nodemanager.log
}

# Each answer is read whole before grep looks at it: `grep -q` in a pipe exits at the first
# match, and under pipefail the client killed by SIGPIPE would count as a failed check.
healthy() {
  local report nodes
  report=$(on_master hdfs hdfs dfsadmin -D ipc.client.connect.max.retries=1 -report -live 2>/dev/null) || return 1
  nodes=$(on_master yarn yarn node -D ipc.client.connect.max.retries=1 -list 2>/dev/null) || return 1
  grep -q '^Live datanodes (1)' <<<"$report" \
    && grep -Eq 'hadoop-worker:[0-9]+[[:space:]]+RUNNING' <<<"$nodes"
}

network_up() {
  local net=dlstack-$name subnet=$prefix.0/24 have
  if have=$(podman network inspect "$net" --format '{{range .Subnets}}{{.Subnet}}{{end}}' 2>/dev/null); then
    [ "$have" = "$subnet" ] || die "network $net exists with subnet $have, not $subnet"
  else
    podman network create --subnet "$subnet" "$net" >/dev/null
  fi
}

cmd_up() {
  name=$1 prefix=$2
  check_name "$name"; check_prefix "$prefix"
  local tag start now node ip
  # The image is built once per machine (cmd_image logs how long); the health time counts from after it.
  tag=$(cmd_image)
  start=$(date +%s)
  network_up
  for node in master worker; do
    [ "$node" = master ] && ip=$prefix.2 || ip=$prefix.3
    if [ "$(podman inspect -f '{{.State.Running}} {{.ImageName}}' "dlstack-$name-$node" 2>/dev/null)" = "true $tag" ]; then
      continue
    fi
    podman rm -f "dlstack-$name-$node" >/dev/null 2>&1 || true
    # shellcheck disable=SC2046
    podman run -d --name "dlstack-$name-$node" --hostname "hadoop-$node" --network "dlstack-$name" --ip "$ip" \
      $(hosts_args "$prefix") --label dlstack.hadoop-cluster="$name" \
      "$tag" /opt/hadoop/bin/hadoop-node "$node" >/dev/null
  done
  log "waiting for HDFS (1 live DataNode) and YARN (1 RUNNING NodeManager)"
  while :; do
    for node in master worker; do
      [ "$(podman inspect -f '{{.State.Running}}' "dlstack-$name-$node")" = true ] \
        || { podman logs --tail 40 "dlstack-$name-$node" >&2; die "$name-$node stopped"; }
    done
    ! { started && healthy; } || break
    now=$(date +%s)
    [ $((now - start)) -lt "$timeout" ] || { cmd_status >&2 || true; die "not healthy after ${timeout}s"; }
    sleep 3
  done
  # The layout of a real cluster's HDFS: /user belongs to hdfs:supergroup, homes to their users.
  on_master hdfs hdfs dfs -mkdir -p /tmp /user/dlstack
  on_master hdfs hdfs dfs -chmod 1777 /tmp
  on_master hdfs hdfs dfs -chown hdfs:supergroup /user
  on_master hdfs hdfs dfs -chmod 755 /user
  on_master hdfs hdfs dfs -chown dlstack:dlstack /user/dlstack
  now=$(date +%s)
  log "cluster $name healthy after $((now - start))s (Hadoop $hadoop_version, image $tag);" \
    "daemons' CPU time $(daemon_cpu)s (on a loaded machine the wall time is mostly waiting for a core)"
  podman stats --no-stream --format '{{.Name}} {{.MemUsage}}' "dlstack-$name-master" "dlstack-$name-worker" >&2 || true
}

# CPU seconds the daemons have used so far (user + system, all four JVMs).
daemon_cpu() {
  local node
  for node in master worker; do
    podman exec "dlstack-$name-$node" sh -c \
      'for p in $(pgrep -f "^/usr/lib/jvm/.*/java"); do cut -d" " -f14,15 /proc/$p/stat; done'
  done | awk '{t += $1 + $2} END {printf "%.1f", t / 100}'
}

cmd_client() {
  name=$1 local_container=$2
  check_name "$name"
  local lib
  lib=$(jars)
  local networks subnet
  networks=$(podman inspect -f '{{range $net, $v := .NetworkSettings.Networks}}{{$net}} {{end}}' "$local_container")
  # Without the cluster's network (no cluster up) the client is installed all the same.
  if [[ " $networks " != *" dlstack-$name "* ]] \
     && subnet=$(podman network inspect "dlstack-$name" --format '{{range .Subnets}}{{.Subnet}}{{end}}' 2>/dev/null); then
    podman network connect --ip "${subnet%.0/24}.10" "dlstack-$name" "$local_container"
  fi
  podman exec "$local_container" mkdir -p /opt/hadoop/share/hadoop/lib /opt/hadoop/bin /etc/hadoop/conf /var/log/hadoop
  podman cp "$lib/." "$local_container:/opt/hadoop/share/hadoop/lib/"
  podman cp "$src/bin/hadoop" "$local_container:/opt/hadoop/bin/hadoop"
  podman cp "$src/conf/." "$local_container:/etc/hadoop/conf/"
  # The job user of the cluster (the same uid as on the nodes) and the three commands.
  podman exec "$local_container" sh -ec '
    rm -f /opt/hadoop/share/hadoop/lib/.complete; chmod 1777 /var/log/hadoop
    ln -sfn hadoop /opt/hadoop/bin/hdfs; ln -sfn hadoop /opt/hadoop/bin/yarn
    for c in hadoop hdfs yarn; do ln -sfn /opt/hadoop/bin/$c /usr/local/bin/$c; done
    id dlstack >/dev/null 2>&1 || useradd -m -u 2000 -U dlstack'
  log "gateway $local_container: hadoop, hdfs, yarn ($hadoop_version) with the $name configuration"
}

cmd_status() {
  on_master hdfs hdfs dfsadmin -report
  on_master yarn yarn node -list -all
  podman stats --no-stream --format '{{.Name}} {{.MemUsage}}' "dlstack-$name-master" "dlstack-$name-worker"
}

cmd_down() {
  name=$1
  check_name "$name"
  podman stop -t 20 "dlstack-$name-master" "dlstack-$name-worker" >/dev/null 2>&1 || true
  podman rm -f "dlstack-$name-master" "dlstack-$name-worker" >/dev/null 2>&1 || true
  # Molecule's gateway may still be attached: the network goes with the last container.
  if podman network exists "dlstack-$name" \
     && [ -z "$(podman ps -a --filter network="dlstack-$name" -q)" ]; then
    podman network rm "dlstack-$name" >/dev/null
  fi
}

case ${1:-} in
  image) cmd_image ;;
  jars) jars ;;
  up) [ $# -eq 3 ] || die "usage: $0 up NAME PREFIX"; cmd_up "$2" "$3" ;;
  client) [ $# -eq 3 ] || die "usage: $0 client NAME CONTAINER"; cmd_client "$2" "$3" ;;
  status) [ $# -eq 2 ] || die "usage: $0 status NAME"; name=$2; check_name "$name"; cmd_status ;;
  down) [ $# -eq 2 ] || die "usage: $0 down NAME"; cmd_down "$2" ;;
  *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac
