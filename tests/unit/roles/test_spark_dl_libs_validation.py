# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The spark_dl_libs role refuses bad library entries before it changes anything.

Runs the whole role in check mode on localhost through ``playbooks/run_role.yml``
(the same runner as the GPU stack roles' bad-input cases) and asserts it fails in
validation with a clear message and nothing changed.
"""

from __future__ import annotations

import re

import pytest

from ansible_collections.dlstack.cdh.tests.unit.roles.test_gpu_stack_roles import ANSIBLE_PLAYBOOK, HERE, _run

pytestmark = pytest.mark.skipif(ANSIBLE_PLAYBOOK is None, reason="ansible-playbook is not installed")

SHA = "a" * 64


@pytest.mark.parametrize("library", [
    # An empty key next to the real one used to pass validation, then jars.yml (which selects
    # entries by the key being defined) ran get_url with an empty URL or stat'ed an empty path.
    pytest.param({"name": "x.jar", "url": "", "path": "/x.jar", "sha256": SHA}, id="empty-url-beside-path"),
    pytest.param({"name": "x.jar", "url": "https://example.invalid/x.jar", "path": "", "sha256": SHA},
                 id="empty-path-beside-url"),
    pytest.param({"name": "x.jar", "url": None, "path": "/x.jar", "sha256": SHA}, id="null-url-beside-path"),
    pytest.param({"name": "x.jar", "sha256": SHA}, id="neither-url-nor-path"),
])
def test_library_needs_exactly_one_non_empty_source(tmp_path, library):
    extra = {
        "test_role": "spark_dl_libs",
        "spark_dl_libs_libraries": [library],
        "spark_dl_libs_cache_dir": str(tmp_path / "cache"),
    }
    result = _run(tmp_path, HERE / "playbooks" / "run_role.yml", extra, "--check")
    output = re.sub(r"\s+", " ", result.stdout + result.stderr)
    assert result.returncode != 0, output
    assert "Validate | Libraries, HDFS directories and settings" in output
    assert "expected exactly one of url and path in each entry, the other key left out" in output, output
    recap = re.search(r"localhost\s*:\s*ok=\d+\s+changed=(\d+)", result.stdout)
    assert recap and recap.group(1) == "0", result.stdout
    assert not (tmp_path / "cache").exists()
