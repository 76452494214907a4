"""compliance.yml against a real container: reports, Tower stats, check-mode purity, drift fails the host."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from lxml import etree

from conftest import CONNECTION, ROOT, ansible_playbook

EXPECTATIONS = ROOT / "benchmarks" / "fleet" / "expectations.yml"
JUNIT_SCHEMA = etree.XMLSchema(etree.parse(str(ROOT / "tests" / "reliability" / "schemas" / "junit-jenkins-xunit.xsd")))
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")


def valid_junit(path):
    """The JUnit report, after a real XML schema validator has accepted it."""
    document = etree.parse(str(path))
    assert JUNIT_SCHEMA.validate(document), JUNIT_SCHEMA.error_log
    return ET.parse(str(path)).getroot()


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

    assert data["run"]["ansible_version"].startswith("2.19") and data["run"]["collection_version"] != "unknown"
    assert (data["run"]["hosts"], data["run"]["compliant"], data["run"]["unreachable"]) == (1, 1, 0)

    junit = valid_junit(report / "compliance.junit.xml")
    assert junit.get("failures") == "0" and junit.get("errors") == "0"
    assert int(junit.get("tests")) == host["summary"]["total"]
    [suite] = junit.iter("testsuite")
    assert suite.get("hostname") == node.name and TIMESTAMP.match(suite.get("timestamp")), suite.attrib
    assert 0 < float(suite.get("time")) < 60
    html = (report / "compliance.html").read_text()
    assert "<title>dlstack.cdh compliance: 0 of 1 host(s) not compliant</title>" in html
    assert 'data-host="%s" data-status="compliant"' % node.name in html


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
    junit = valid_junit(report / "compliance.junit.xml")
    failures = [f.get("message") for f in junit.iter("failure")]
    assert sorted(failures) == reasons
    html = (report / "compliance.html").read_text()
    assert 'data-host="%s" data-status="drift" data-failed="2"' % node.name in html
    assert html.count('<tr class="drift">') == 2  # the drill-down's two failed checks, with their reasons
    assert all(reason.replace('"', "&#34;") in html or reason in html for reason in reasons)


def test_unreachable_host_is_an_error_case_its_suite_counts(node, tmp_path):
    inventory = node.inventory(tmp_path)
    inventory.write_text(inventory.read_text() + "dlstack-rel-gone %s\n" % CONNECTION)
    report = tmp_path / "report"
    run = ansible_playbook("-i", inventory, "--check", "-e", "@%s" % EXPECTATIONS, ROOT / "playbooks" / "compliance.yml",
                           env={"DLSTACK_COMPLIANCE_REPORT_DIR": str(report)})
    assert run.returncode != 0
    assert recap(run.stdout, "dlstack-rel-gone")["unreachable"] == 1
    junit = valid_junit(report / "compliance.junit.xml")
    suites = {suite.get("name"): suite for suite in junit.iter("testsuite")}
    gone = suites["dlstack-rel-gone"]
    assert (gone.get("tests"), gone.get("errors"), gone.get("failures")) == ("1", "1", "0")
    assert [case.get("name") for case in gone.iter("testcase")] == ["gather state"]
    assert junit.get("errors") == "1"
    assert int(junit.get("tests")) == int(suites[node.name].get("tests")) + 1
    data = json.loads((report / "compliance.json").read_text())
    assert data["run"]["unreachable"] == 1 and data["compliant"] is False
