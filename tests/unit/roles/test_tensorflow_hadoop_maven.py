# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""tensorflow_hadoop's Maven steps on the paths the tf_hadoop scenario does not take.

The role's own task files run in a real ``ansible-playbook`` on localhost, under tmp_path. Maven
is a script that answers as Maven 3.8 does when an artifact is missing (its ``[ERROR] Failed to
execute goal ... Could not find artifact ...`` line), or writes the jar it is asked to copy.
"""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.dlstack.cdh.tests.unit.roles.test_common_role import _play
from ansible_collections.dlstack.cdh.tests.unit.roles.test_gpu_stack_roles import ANSIBLE_PLAYBOOK

pytestmark = pytest.mark.skipif(ANSIBLE_PLAYBOOK is None, reason="ansible-playbook is not installed")


MISSING = ("[ERROR] Failed to execute goal org.apache.maven.plugins:maven-dependency-plugin:3.6.1:{goal} (default-cli) "
           "on project standalone-pom: Couldn't download artifact: Could not find artifact {artifact} in central (<url>)")


def _missing(tmp_path, goal, artifact):
    """A Maven that fails as Maven does for a missing artifact."""
    answer = tmp_path / "maven-answer.txt"
    answer.write_text(MISSING.format(goal=goal, artifact=artifact) + "\n")
    return _maven(tmp_path, "cat %s\nexit 1\n" % answer)


def _maven(tmp_path, body):
    mvn = tmp_path / "mvn"
    mvn.write_text("#!/bin/sh\n" + body)
    mvn.chmod(0o755)
    return str(mvn)


def _role_play(tmp_path, tasks_from, extra):
    """One of the role's task files, with its defaults and vars."""
    tasks = """\
    - name: The role's tasks
      ansible.builtin.include_role:
        name: dlstack.cdh.tensorflow_hadoop
        tasks_from: %s
        public: true
    - name: Result
      ansible.builtin.copy:
        dest: "{{ out_dir }}/result.json"
        mode: "0644"
        content: "{{ {'jar': _tensorflow_hadoop_jar | default(''), 'version': _tensorflow_hadoop_build_hadoop_version} | to_json }}"
""" % tasks_from
    base = {
        "tensorflow_hadoop_work_dir": str(tmp_path / "work"), "tensorflow_hadoop_install_build_packages": False,
        "_tensorflow_hadoop_java_home": "/usr", "_tensorflow_hadoop_hadoop_version": "3.5.0",
    }
    base.update(extra)
    return _play(tmp_path, tasks, base)


@pytest.mark.parametrize("reported, policy, built", [
    ("3.1.1.7.1.7.0-551", "apache_base", "3.1.1"),
    ("3.0.0-cdh6.3.2", "apache_base", "3.0.0"),
    ("3.5.0", "apache_base", "3.5.0"),
    ("3.1.1.7.1.7.0-551", "as_reported", "3.1.1.7.1.7.0-551"),
])
def test_vendor_versions_build_against_their_apache_base_unless_asked(tmp_path, reported, policy, built):
    mvn = _maven(tmp_path, 'echo "$@" >> %s/argv\n' % tmp_path)
    rc, output, data = _role_play(tmp_path, "maven", {
        "_tensorflow_hadoop_hadoop_version": reported, "tensorflow_hadoop_hadoop_version_policy": policy,
        "tensorflow_hadoop_maven_command": mvn})
    assert rc == 0, output
    assert data["version"] == built
    assert "-Dartifact=org.apache.hadoop:hadoop-common:%s:pom" % built in (tmp_path / "argv").read_text()


def test_a_hadoop_version_the_repository_lacks_is_refused_naming_the_variables(tmp_path):
    artifact = "org.apache.hadoop:hadoop-common:pom:3.1.1.7.1.7.0-551"
    mvn = _missing(tmp_path, "get", artifact)
    rc, output, recorded = _role_play(tmp_path, "maven", {
        "_tensorflow_hadoop_hadoop_version": "3.1.1.7.1.7.0-551", "tensorflow_hadoop_hadoop_version_policy": "as_reported",
        "tensorflow_hadoop_maven_command": mvn})
    assert rc != 0 and recorded is None  # the play stopped before its last task
    assert "Maven could not resolve org.apache.hadoop:hadoop-common:3.1.1.7.1.7.0-551" in output
    assert "Set tensorflow_hadoop_hadoop_version" in output and "tensorflow_hadoop_maven_mirror_url" in output
    assert "Could not find artifact %s" % artifact in output


def test_released_jar_is_resolved_and_its_sha256_checked(tmp_path):
    copy = 'for a; do case $a in -DoutputDirectory=*) printf released > "${a#*=}/tensorflow-hadoop-1.15.0.jar";; esac; done\n'
    mvn = _maven(tmp_path, copy)
    good = hashlib.sha256(b"released").hexdigest()
    rc, output, data = _role_play(tmp_path, "released", {
        "tensorflow_hadoop_maven_command": mvn, "tensorflow_hadoop_maven_artifact_sha256": good.upper()})
    assert rc == 0, output
    assert data["jar"] == str(tmp_path / "work" / "released" / "tensorflow-hadoop-1.15.0.jar")

    second = tmp_path / "second"
    second.mkdir()
    rc, output, recorded = _role_play(second, "released", {
        "tensorflow_hadoop_maven_command": mvn, "tensorflow_hadoop_maven_artifact_sha256": "0" * 64})
    assert rc != 0 and recorded is None  # the play stopped before its last task
    assert "not tensorflow_hadoop_maven_artifact_sha256 %s" % ("0" * 64) in output


def test_an_artifact_the_repository_lacks_is_refused_naming_it(tmp_path):
    artifact = "org.tensorflow:tensorflow-hadoop:jar:9.9.9"
    mvn = _missing(tmp_path, "copy", artifact)
    rc, output, recorded = _role_play(tmp_path, "released", {
        "tensorflow_hadoop_maven_command": mvn, "tensorflow_hadoop_maven_artifact": "org.tensorflow:tensorflow-hadoop:9.9.9"})
    assert rc != 0 and recorded is None  # the play stopped before its last task
    assert "tensorflow_hadoop_maven_artifact org.tensorflow:tensorflow-hadoop:9.9.9 could not be resolved" in output
    assert "Could not find artifact %s" % artifact in output
