"""HDFS identity against the real test cluster (scripts/hadoop-cluster.sh): permissions on, /user owned by
hdfs:supergroup, /user/dlstack by dlstack.

root without rights is refused with a message naming the user and the path, and nothing is left in HDFS
(no file, no <name>._COPYING_); the configured HDFS user succeeds and owns what it wrote; a second run
changes nothing. The compliance playbook publishes its three reports to a report host's directory and,
through hdfs_file, to HDFS as the HDFS user.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import BIN, CONNECTION, ROOT, ansible_env, ansible_playbook

CLUSTER = "reliability"
PREFIX = "10.89.13"
SCRIPT = ROOT / "scripts" / "hadoop-cluster.sh"
GATEWAY = "dlstack-rel-hdfs-gateway"


def sh(*argv, check=True):
    return subprocess.run(list(map(str, argv)), check=check, capture_output=True, text=True)


@pytest.fixture(scope="module")
def cluster():
    up = sh(SCRIPT, "up", CLUSTER, PREFIX, check=False)
    assert up.returncode == 0, up.stderr[-4000:]
    try:
        yield
    finally:
        sh("podman", "rm", "-f", "-t", "0", GATEWAY, check=False)
        sh(SCRIPT, "down", CLUSTER, check=False)


@pytest.fixture(scope="module")
def gateway(cluster):
    """A gateway of the cluster: the node image has the same client, launchers and configuration."""
    image = sh(SCRIPT, "image").stdout.strip()
    sh("podman", "rm", "-f", "-t", "0", GATEWAY, check=False)
    sh("podman", "run", "-d", "--name", GATEWAY, "--hostname", "hadoop-gateway", "--network", "dlstack-" + CLUSTER,
       "--ip", PREFIX + ".10", "--add-host", "hadoop-master:%s.2" % PREFIX, "--add-host", "hadoop-worker:%s.3" % PREFIX,
       image, "sleep", "infinity")
    # A 300 KB jar-like file to upload (more than one packet, less than a block).
    sh("podman", "exec", GATEWAY, "sh", "-c", "head -c 300000 /dev/urandom > /root/udfs.jar")
    return GATEWAY


@pytest.fixture(scope="module")
def inventory(gateway, tmp_path_factory):
    path = tmp_path_factory.mktemp("hdfs") / "gateway.ini"
    path.write_text("[gateways]\n%s %s\n" % (gateway, CONNECTION))
    return path


def hdfs_file(inventory, **args):
    """One hdfs_file run on the gateway as root; (rc, result dict)."""
    env = ansible_env(ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    run = subprocess.run([str(BIN / "ansible"), "all", "-i", str(inventory), "-m", "dlstack.cdh.hdfs_file",
                          "-a", json.dumps(args)], cwd=str(ROOT), env=env, capture_output=True, text=True, check=False)
    out = json.loads(run.stdout[run.stdout.index("{"):])
    (result,) = [task["hosts"][GATEWAY] for play in out["plays"] for task in play["tasks"]]
    return run.returncode, result


def hdfs(*args, user="hdfs"):
    """`hdfs dfs` on the gateway as an HDFS user (hdfs is the superuser)."""
    return sh("podman", "exec", "-e", "HADOOP_USER_NAME=" + user, GATEWAY, "hdfs", "dfs", *args, check=False)


def test_root_without_rights_is_refused_and_nothing_is_written(inventory):
    assert hdfs("-mkdir", "-p", "/user/dlstack/rel", user="dlstack").returncode == 0

    rc, result = hdfs_file(inventory, path="/user/dlstack/rel/udfs.jar", src="/root/udfs.jar", mode="0644")
    assert rc != 0 and result.get("failed")
    assert result["msg"].startswith("HDFS refused to upload /user/dlstack/rel/udfs.jar for user root: "), result["msg"]
    assert 'inode="/user/dlstack/rel":dlstack:dlstack:drwxr-xr-x' in result["msg"]
    listing = hdfs("-ls", "-R", "/user/dlstack/rel")
    assert listing.returncode == 0 and listing.stdout == "", listing.stdout  # no file, no udfs.jar._COPYING_

    rc, result = hdfs_file(inventory, path="jars", state="directory")
    assert rc != 0
    assert "HDFS refused to create directory jars for user root" in result["msg"], result["msg"]
    assert 'inode="/user":hdfs:supergroup:drwxr-xr-x' in result["msg"]
    assert "No such file or directory" in hdfs("-ls", "-d", "/user/root").stderr


def test_configured_user_uploads_and_a_second_run_changes_nothing(inventory, gateway):
    args = dict(path="rel/udfs.jar", src="/root/udfs.jar", mode="0644", hdfs_user="dlstack")
    rc, result = hdfs_file(inventory, **args)
    assert rc == 0, result
    assert result["changed"] is True
    fields = hdfs("-ls", "-d", "/user/dlstack/rel/udfs.jar").stdout.split()
    assert fields[0] == "-rw-r--r--" and fields[2] == "dlstack" and fields[4] == "300000", fields
    local = sh("podman", "exec", gateway, "sha256sum", "/root/udfs.jar").stdout.split()[0]
    stored = sh("podman", "exec", gateway, "sh", "-c", "hdfs dfs -cat /user/dlstack/rel/udfs.jar | sha256sum").stdout.split()[0]
    assert stored == local == result["checksum"]

    rc, again = hdfs_file(inventory, **args)
    assert rc == 0 and again["changed"] is False and again["actions"] == [], again


@pytest.mark.parametrize("path,client_lines", [
    # Nothing listens there: refused, or rejected by the network's firewall.
    ("hdfs://hadoop-master:8029/user/dlstack/jars", ("java.net.ConnectException", "java.net.NoRouteToHostException")),
    ("hdfs://no-such-namenode:8020/user/dlstack/jars", ("java.net.UnknownHostException: no-such-namenode",)),
])
def test_unreachable_namenode_is_named_and_nothing_changes(inventory, path, client_lines):
    rc, result = hdfs_file(inventory, path=path, state="directory", hdfs_user="dlstack")
    assert rc != 0 and result.get("failed")
    assert result["msg"].startswith("Cannot reach the NameNode for %s: " % path), result["msg"]
    assert any(line in result["msg"] for line in client_lines) and "fs.defaultFS" in result["msg"]
    assert result.get("actions", []) == []


def test_compliance_reports_are_published_to_a_report_host_and_to_hdfs(inventory, gateway, tmp_path):
    report = tmp_path / "report"
    settings = {"dlstack_compliance_publish_host": gateway, "dlstack_compliance_publish_dir": "/srv/reports",
                "dlstack_compliance_publish_hdfs_host": gateway,
                "dlstack_compliance_publish_hdfs_dir": "/user/dlstack/compliance",
                "dlstack_compliance_publish_hdfs_user": "dlstack"}
    run = ansible_playbook("-i", inventory, "--check", "-e", "@%s" % (ROOT / "benchmarks" / "fleet" / "expectations.yml"),
                           "-e", json.dumps(settings), ROOT / "playbooks" / "compliance.yml",
                           env={"DLSTACK_COMPLIANCE_REPORT_DIR": str(report)})
    # Whether the gateway itself drifts does not matter here: the reports are published before
    # the drifted hosts fail.
    assert "TASK [Compliance | Put the reports in HDFS]" in run.stdout, run.stdout[-3000:]
    run_id = json.loads((report / "compliance.json").read_text())["run"]["run_id"]
    for name in ("compliance.json", "compliance.junit.xml", "compliance.html"):
        local = (report / name).read_text()
        on_host = sh("podman", "exec", gateway, "cat", "/srv/reports/%s/%s" % (run_id, name))
        assert on_host.returncode == 0 and on_host.stdout == local, name
        path = "/user/dlstack/compliance/%s/%s" % (run_id, name)
        assert hdfs("-cat", path, user="dlstack").stdout == local, name
        assert hdfs("-ls", path).stdout.split()[2] == "dlstack", name
    # The staging copy on the HDFS client host is gone.
    assert sh("podman", "exec", gateway, "test", "-e", "/tmp/dlstack-compliance-" + run_id, check=False).returncode == 1
