"""The HTML compliance report in a real browser: Debian's headless Chromium, driven by Playwright.

A fleet of 500 hosts x 40 checks is rendered with the compliance playbook's own template
(tests/reliability/playbooks/render_report.yml); the test measures the file and the time to
render and load it, then uses the page as an operator would (drift-only view, search, sort,
a host's drill-down) and asserts what is visible. The same page without JavaScript must still
show every host and open a drill-down. A screenshot is kept in .cache/reports/.
"""

from __future__ import annotations

import json
import shutil
import time

import pytest
from playwright import sync_api as playwright

from conftest import ROOT, ansible_playbook

CHROMIUM = shutil.which("chromium")
HOSTS, CHECKS = 500, 40
CATEGORIES = ["gpu", "package", "library", "cuda", "cudnn", "file", "python", "stack"]
OUT = ROOT / ".cache" / "reports"


def fleet():
    """500 hosts: every 10th drifted (1 to 3 failing checks), hosts 250 and 499 unreachable."""
    hosts = []
    for index in range(HOSTS):
        name = "gpu-worker-%03d.example.com" % index
        if index in (250, 499):
            hosts.append({"host": name, "compliant": False, "checks": [], "started": "", "seconds": 0,
                          "summary": {"total": 0, "passed": 0, "failed": 0},
                          "error": "host unreachable: ssh: connect to host %s port 22: No route to host" % name})
            continue
        failing = set(range(index % 3 + 1)) if index % 10 == 3 else set()
        checks = []
        for number in range(CHECKS):
            bad = number in failing
            checks.append({"category": CATEGORIES[number % len(CATEGORIES)], "name": "check-%02d" % number,
                           "expected": "535.183.01" if number % 2 else {"held": True},
                           "actual": ("530.30.02" if number % 2 else {"held": False}) if bad else (
                               "535.183.01" if number % 2 else {"held": True}),
                           "ok": not bad, "reason": "found 530.30.02, expected 535.183.01" if bad else ""})
        hosts.append({"host": name, "compliant": not failing, "checks": checks, "error": "", "seconds": 1.2,
                      "started": "2026-12-04T21:00:00Z",
                      "summary": {"total": CHECKS, "passed": CHECKS - len(failing), "failed": len(failing)}})
    run = {"run_id": "4711", "started": "2026-12-04T21:00:00Z", "ansible_version": "2.19.14",
           "collection_version": "0.1.0", "inventory": ["production.ini"]}
    return {"hosts": hosts, "run": run}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    data = fleet()
    work = tmp_path_factory.mktemp("report")
    (work / "input.json").write_text(json.dumps(data))
    started = time.monotonic()
    run = ansible_playbook("-e", "report_input=%s" % (work / "input.json"), "-e", "report_output=%s" % (work / "r.html"),
                           ROOT / "tests" / "reliability" / "playbooks" / "render_report.yml")
    render_seconds = time.monotonic() - started
    assert run.returncode == 0, run.stdout[-3000:]
    path = work / "r.html"
    OUT.mkdir(parents=True, exist_ok=True)
    print("report: %d hosts x %d checks, %.0f KB, rendered by ansible-playbook in %.1f s"
          % (HOSTS, CHECKS, path.stat().st_size / 1024, render_seconds))
    return path, data


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("chromium is not installed (scripts/host-setup.sh installs it)")
    with playwright.sync_playwright() as driver:
        # Root in a container host: Chromium's sandbox needs user namespaces it may not get.
        chromium = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def visible_hosts(page):
    return page.locator("#hosts tr.host:visible")


def test_operator_works_through_the_fleet(browser, report):
    path, data = report
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    started = time.monotonic()
    page.goto(path.as_uri(), wait_until="load")
    print("loaded and laid out in %.2f s" % (time.monotonic() - started))
    drifted = [h for h in data["hosts"] if not h["compliant"]]

    # The header: run, versions, inventory and the counts.
    assert "run 4711" in page.locator("#run").inner_text()
    assert "ansible-core 2.19.14" in page.locator("#run").inner_text()
    assert "inventory production.ini" in page.locator("#run").inner_text()
    counts = page.locator("#counts").inner_text().split()
    assert counts[:8] == ["500", "hosts", str(HOSTS - len(drifted)), "compliant",
                          str(len(drifted) - 2), "drifted", "2", "unreachable"]
    # Failures per check, the most failing first (check-00 fails on every drifted host that answered).
    first = page.locator("#failing tbody tr").first.inner_text().split("\t")
    assert first == ["gpu / check-00", str(len(drifted) - 2)]

    # Drifted hosts come first; the drift-only view hides every compliant one.
    assert page.locator("#hosts tr.host").first.get_attribute("data-status") != "compliant"
    page.check("#drift-only")
    assert visible_hosts(page).count() == len(drifted)
    assert page.locator("#shown").inner_text() == "%d of %d host(s) shown" % (len(drifted), HOSTS)

    # Search within the drift view, then the drill-down of the host found.
    page.fill("#search", "gpu-worker-013")
    assert visible_hosts(page).count() == 1
    row = visible_hosts(page).first
    assert row.locator("td").nth(1).inner_text() == "drift"
    row.locator("summary").click()
    drill = row.locator("table.checks")
    assert drill.is_visible()
    bad = drill.locator("tr.drift").first.inner_text()
    # Expected and found side by side, the reason, and the remedy naming the host.
    assert '{"held": true}\t{"held": false}' in bad and "found 530.30.02, expected 535.183.01" in bad
    assert "remedy: Check the GPU and its driver on gpu-worker-013.example.com" in bad
    assert drill.locator("tr.ok").count() == CHECKS - 2
    page.screenshot(path=str(OUT / "compliance-drill-down.png"))

    # Sorting by failures puts the host with the most failed checks first.
    page.fill("#search", "")
    page.uncheck("#drift-only")
    page.click("#hosts th[data-sort=failed]")
    top = visible_hosts(page).first
    assert int(top.get_attribute("data-failed")) == max(h["summary"]["failed"] or 1 for h in drifted)
    page.goto(path.as_uri(), wait_until="load")
    page.screenshot(path=str(OUT / "compliance-500-hosts.png"))
    # One screen wide at 1400 px, whatever the fleet.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    page.close()


def test_report_reads_without_javascript(browser, report):
    path, dummy = report
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(path.as_uri(), wait_until="load")
    assert not page.locator("#controls").is_visible()
    assert visible_hosts(page).count() == HOSTS
    first = visible_hosts(page).first
    first.locator("summary").click()
    assert first.locator("table.checks").is_visible()
    context.close()
