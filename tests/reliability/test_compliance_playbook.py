"""compliance.yml against a real container: reports, Tower stats, check-mode purity, drift fails the host."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from conftest import ROOT, ansible_playbook

EXPECTATIONS = ROOT / "benchmarks" / "fleet" / "expectations.yml"


def run_compliance(node, tmp_path, *extra):
    report = tmp_path / "report"
    run = ansible_playbook("-i", node.inventory(tmp_path), "--check", "-e", "@%s" % EXPECTATIONS, *extra,
                           ROOT / "playbooks" / "compliance.yml", env={"DLSTACK_COMPLIANCE_REPORT_DIR": str(report)})
    return run, report


def recap(stdout, host):
    match = re.search(r"^%s\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)" % re.escape(host), stdout, re.M)
    assert match, stdout[-3000:]
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups())))


def test_compliant_node_passes_in_check_mode_and_changes_nothing(node, tmp_path):
    ansible_playbook("-i", node.inventory(tmp_path), ROOT / "tests" / "reliability" / "playbooks" / "ping.yml")
    before = node.digest()
    run, report = run_compliance(node, tmp_path)
    assert run.returncode == 0, run.stdout[-4000:]
    counts = recap(run.stdout, node.name)
    assert (counts["changed"], counts["unreachable"], counts["failed"]) == (0, 0, 0)
    assert node.digest() == before

    data = json.loads((report / "compliance.json").read_text())
    assert data["compliant"] is True
    [host] = data["hosts"]
    assert host["host"] == node.name and host["summary"]["failed"] == 0 and host["summary"]["total"] >= 25

    junit = ET.parse(str(report / "compliance.junit.xml")).getroot()
    assert junit.get("failures") == "0"
    assert int(junit.get("tests")) == host["summary"]["total"]
    html = (report / "compliance.html").read_text()
    assert "1 host(s), <span class=\"\">0 not compliant</span>" in html


def test_drift_fails_the_host_and_is_highlighted(node, tmp_path):
    run, report = run_compliance(node, tmp_path, "-e", json.dumps({
        "dlstack_compliance_packages": [{"name": "libc6", "version": "2.99"}, {"name": "python3", "held": True}],
    }))
    assert run.returncode == 2
    assert recap(run.stdout, node.name)["failed"] == 1
    assert "libc6 2.36" in run.stdout and "is installed, 2.99 is wanted" in run.stdout

    data = json.loads((report / "compliance.json").read_text())
    [host] = data["hosts"]
    reasons = sorted(c["reason"] for c in host["checks"] if not c["ok"])
    assert len(reasons) == 2 and reasons[1] == "python3 is not held"
    junit = ET.parse(str(report / "compliance.junit.xml")).getroot()
    failures = [f.get("message") for f in junit.iter("failure")]
    assert sorted(failures) == reasons
    html = (report / "compliance.html").read_text()
    assert html.count('class="drift"') == 3  # the host's result cell and its two failed checks
