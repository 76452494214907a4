"""Every role documents its variables: argument specs match defaults, README matches specs."""

from __future__ import annotations

import importlib.util
import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(p for p in (ROOT / "roles").iterdir() if p.is_dir()) if (ROOT / "roles").is_dir() else []


def _load(path):
    return yaml.safe_load(path.read_text()) if path.is_file() else None


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_role_has_argument_specs_for_every_default(role):
    specs = _load(role / "meta" / "argument_specs.yml")
    assert specs, "%s has no meta/argument_specs.yml" % role.name
    options = specs["argument_specs"]["main"].get("options", {})
    defaults = _load(role / "defaults" / "main.yml") or {}
    assert sorted(defaults) == sorted(k for k in options if k in defaults), "defaults without a spec"
    undocumented = sorted(set(defaults) - set(options))
    assert not undocumented, "%s: defaults missing from argument_specs: %s" % (role.name, undocumented)
    unset = sorted(k for k, v in options.items() if k not in defaults and not v.get("required"))
    assert not unset, "%s: optional spec keys without a default in defaults/main.yml: %s" % (role.name, unset)


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_role_variables_are_prefixed_and_described(role):
    specs = _load(role / "meta" / "argument_specs.yml")["argument_specs"]
    for entry in specs.values():
        for name, option in entry.get("options", {}).items():
            assert name.startswith(role.name + "_"), "%s: %s is not prefixed with the role name" % (role.name, name)
            assert option.get("description"), "%s: %s has no description" % (role.name, name)


def _role_docs():
    spec = importlib.util.spec_from_file_location("role_docs", ROOT / "scripts" / "role_docs.py")
    role_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(role_docs)
    return role_docs


def test_readme_role_tables_are_generated_from_the_specs():
    role_docs = _role_docs()
    new, old = role_docs.updated_readme(ROOT)
    assert new == old, "README.md role variables are out of date: run scripts/role_docs.py"


def test_example_group_vars_list_every_role_variable():
    role_docs = _role_docs()
    path = ROOT / "playbooks" / "inventory" / "example" / "group_vars" / "all.yml"
    assert path.read_text() == role_docs.render_group_vars(ROOT), "run scripts/role_docs.py"


@pytest.mark.parametrize("role", ROLES, ids=[r.name for r in ROLES])
def test_role_readme_variables_are_generated_from_the_specs(role):
    readme = role / "README.md"
    assert readme.is_file(), "%s has no README.md" % role.name
    new, old = _role_docs().updated_role_readme(role)
    assert new == old, "%s variables are out of date: run scripts/role_docs.py" % readme.relative_to(ROOT)
    assert readme.read_text().startswith("# dlstack.cdh.%s\n" % role.name)


@pytest.mark.parametrize("text, expected", [
    ("C(/usr/local/cuda) and O(cuda_versions)", "`/usr/local/cuda` and `cuda_versions`"),
    ("O(nvidia_driver_force=true), V(distro)", "`nvidia_driver_force=true`, `distro`"),
    ("I(cuda_home) B(never) E(PATH) M(dlstack.cdh.hdfs_file) RV(changed)",
     "*cuda_home* **never** `PATH` `dlstack.cdh.hdfs_file` `changed`"),
    ("U(https://docs.nvidia.com/cuda/) L(the matrix, https://docs.nvidia.com/deeplearning/cudnn/)",
     "<https://docs.nvidia.com/cuda/> [the matrix](https://docs.nvidia.com/deeplearning/cudnn/)"),
    (r"C($(hadoop classpath --glob\)) stays one span", "`$(hadoop classpath --glob)` stays one span"),
    ("not markup: OS(x), f(C), CUDA(12)", "not markup: OS(x), f(C), CUDA(12)"),
])
def test_role_docs_render_ansible_markup_as_markdown(text, expected):
    assert _role_docs().markdown(text) == expected


def test_role_docs_mark_only_required_options_as_required():
    role_docs = _role_docs()
    assert role_docs._default({"required": True}) == "*required*"
    assert role_docs._default({"type": "str"}) == "*computed*"
    assert role_docs._default({"default": ""}) == '`""`'
    group_vars = role_docs.render_group_vars(ROOT)
    # tensorflow_hadoop_cuda_home is optional and has no default in its spec.
    assert "# tensorflow_hadoop_cuda_home:  (optional; computed by the role when unset)" in group_vars
    required = [line.split(":")[0][2:] for line in group_vars.splitlines() if line.endswith("(required)")]
    for role in ROLES:
        options = _load(role / "meta" / "argument_specs.yml")["argument_specs"]["main"].get("options", {})
        for name in required:
            if name in options:
                assert options[name].get("required"), "%s is marked required but is optional" % name
