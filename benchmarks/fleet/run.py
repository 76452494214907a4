"""Fleet benchmark: compliance.yml (one module round trip per host) against a naive
playbook asking the same questions with one command/stat task per check.

Starts N containers from the local Debian 12 image (podman, no network), runs both
playbooks with forks=N through the podman connection, and reports wall time,
seconds per host and module round trips per host. Run as root after `make setup`:

    .venv/bin/python benchmarks/fleet/run.py --sizes 20 50

Results go to stdout and benchmarks/results/fleet.json (ignored by git).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
VENV_BIN = ROOT / ".venv" / "bin"
# Actions that run on the controller, not on the host: no round trip.
CONTROLLER_ACTIONS = {"ansible.builtin.set_fact", "ansible.builtin.set_stats", "ansible.builtin.assert",
                      "ansible.builtin.debug", "set_fact", "set_stats", "assert", "debug"}


def podman(*args, check=True):
    return subprocess.run(["podman", *args], check=check, capture_output=True, text=True)


def start_fleet(size, image):
    names = ["dlstack-fleet-%02d" % i for i in range(size)]
    for name in names:
        podman("rm", "-f", name, check=False)
        podman("run", "-d", "--name", name, "--network", "none", image, "/bin/sleep", "infinity")
    return names


def stop_fleet(names):
    if names:
        podman("rm", "-f", "-t", "0", *names, check=False)


def run_playbook(playbook, inventory, forks, report_dir):
    env = dict(os.environ,
               ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               DLSTACK_COMPLIANCE_REPORT_DIR=str(report_dir))
    cmd = [str(VENV_BIN / "ansible-playbook"), "-i", str(inventory), "-f", str(forks),
           "-e", "@%s" % (HERE / "expectations.yml"), str(playbook)]
    start = time.monotonic()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit("%s did not produce JSON output (rc %d)" % (playbook.name, proc.returncode))
    return elapsed, proc.returncode, data


def round_trips(data, hosts):
    """Module executions on each host, loops counted per item; controller-side actions
    and tasks delegated to the controller (the report writers) are not round trips."""
    counts = dict.fromkeys(hosts, 0)
    for play in data["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if host not in counts or result.get("skipped"):
                    continue
                action = result.get("action") or task["task"].get("action", "")
                if action in CONTROLLER_ACTIONS or "_ansible_delegated_vars" in result:
                    continue
                counts[host] += len(result["results"]) if "results" in result else 1
    return counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--image", default="localhost/dlstack/debian:12")
    args = parser.parse_args()

    rows = []
    for size in args.sizes:
        names = start_fleet(size, args.image)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                inventory = pathlib.Path(tmp) / "hosts.ini"
                inventory.write_text("[gpu_workers]\n" + "".join(
                    "%s ansible_connection=containers.podman.podman ansible_python_interpreter=/usr/bin/python3\n" % n
                    for n in names))
                for label, playbook in (("compliance.yml", ROOT / "playbooks" / "compliance.yml"),
                                        ("naive (one task per check)", HERE / "naive.yml")):
                    elapsed, rc, data = run_playbook(playbook, inventory, size, pathlib.Path(tmp) / "report")
                    trips = round_trips(data, names)
                    failed = sum(1 for s in data["stats"].values() if s.get("failures") or s.get("unreachable"))
                    rows.append({"hosts": size, "playbook": label, "wall_s": round(elapsed, 1),
                                 "per_host_s": round(elapsed / size, 2), "rc": rc, "failed_hosts": failed,
                                 "round_trips_per_host": sorted(set(trips.values()))})
                    print("N=%-3d %-28s %7.1f s  %5.2f s/host  round trips/host %s  rc=%d failed hosts=%d" % (
                        size, label, elapsed, elapsed / size, rows[-1]["round_trips_per_host"], rc, failed), flush=True)
            compliance, naive = rows[-2], rows[-1]
            print("N=%-3d speed-up: %.1fx" % (size, naive["wall_s"] / compliance["wall_s"]), flush=True)
        finally:
            stop_fleet(names)

    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "fleet.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
