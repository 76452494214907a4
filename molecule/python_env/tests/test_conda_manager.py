"""The conda manager's installer handling, run with the installer test double from files/."""

import json

testinfra_hosts = ["ansible://python_env_conda"]


def test_conda_manager_state(host):
    # One call into the container for all of it (each call through ansible costs seconds).
    result = host.run(
        "cat /opt/conda/installer-runs.log; echo ---; /opt/conda/bin/conda --version; echo ---; "
        "test -e /opt/conda-wrong-checksum; echo wrong=$?; echo ---; cat /root/dlstack-python-envs.json; "
        "echo ---; cat /etc/profile.d/anaconda_env.sh; echo ---; bash -lc 'echo login=ok'")
    assert result.rc == 0, result.stderr
    runs, version, wrong, facts, profile, login = result.stdout.split("---\n")
    # converge ran the installer; the idempotence run saw conda 24.9.1 and did not run it again.
    assert runs.splitlines() == ["installed conda 24.9.1 (update=0)"]
    assert version.strip() == "conda 24.9.1"
    # The run with a wrong sha256 failed before creating anything.
    assert wrong.strip() == "wrong=1"
    assert json.loads(facts) == {"dlstack_anaconda_home": "/opt/conda", "dlstack_python_envs": {}}
    assert "DLSTACK_ANACONDA_HOME=/opt/conda" in profile
    assert ". /opt/conda/etc/profile.d/conda.sh" in profile
    # The test double has no conda.sh: the guard keeps login shells working.
    assert login.strip() == "login=ok"
