"""Makefile.config as the caffe_build role renders it for builds molecule cannot run here.

The molecule scenario builds CPU_ONLY with the system Python; a CUDA/cuDNN
build and a conda Python need a GPU toolkit and a conda prefix this machine
does not have. These cases render the role's own template with its own vars
files through ansible-playbook (the same template and variables the role uses,
with the Python probe's result given as the fact the role would set) and check
the lines Caffe's Makefile reads.
"""

from __future__ import annotations

import json
import re

from .test_caffe_build_validation import ROLE_DIR, run_playbook


def render(tmp_path, variables):
    dest = tmp_path / "Makefile.config"
    playbook = tmp_path / "render.yml"
    playbook.write_text(
        "- hosts: localhost\n"
        "  connection: local\n"
        "  gather_facts: true\n"
        "  gather_subset: [min]\n"
        "  vars_files:\n"
        "    - %(role)s/defaults/main.yml\n"
        "    - %(role)s/vars/Debian.yml\n"
        "    - %(role)s/vars/main.yml\n"
        "  tasks:\n"
        "    - name: Render the role's Makefile.config template\n"
        "      ansible.builtin.template:\n"
        "        src: %(role)s/templates/Makefile.config.j2\n"
        "        dest: %(dest)s\n"
        "        mode: '0644'\n" % {"role": ROLE_DIR, "dest": dest}
    )
    rc, output = run_playbook(tmp_path, playbook, variables, check=False)
    assert rc == 0, output
    return dest.read_text()


def value(config, key):
    match = re.search(r"^%s\s*:=\s*(.*)$" % re.escape(key), config, re.MULTILINE)
    return match.group(1).strip() if match else None


CONDA_PY = {
    "version": "3.10",
    "include": "/opt/conda/envs/pycaffe/include/python3.10",
    "libdir": "/opt/conda/envs/pycaffe/lib",
    "ldversion": "3.10",
    "purelib": "/opt/conda/envs/pycaffe/lib/python3.10/site-packages",
    "prefix": "/opt/conda/envs/pycaffe",
    "numpy_include": "/opt/conda/envs/pycaffe/lib/python3.10/site-packages/numpy/core/include",
}


def test_cudnn_build_with_conda_python(tmp_path):
    config = render(
        tmp_path,
        {
            "caffe_build_cpu_only": False,
            "caffe_build_use_cudnn": True,
            "dlstack_cuda_home": "/usr/local/cuda-11.8",
            "_caffe_build_cuda_caps": ["7.0", "8.6"],
            "dlstack_anaconda_home": "/opt/conda",
            "dlstack_python_envs": {"pycaffe": {"python": "/opt/conda/envs/pycaffe/bin/python", "manager": "conda"}},
            "_caffe_build_py": CONDA_PY,
            "_caffe_build_opencv_version": "4.6.0",
        },
    )
    assert value(config, "CPU_ONLY") is None
    assert value(config, "USE_CUDNN") == "1"
    assert value(config, "CUDA_DIR") == "/usr/local/cuda-11.8"
    assert value(config, "CUDA_ARCH") == (
        "-gencode arch=compute_70,code=sm_70 -gencode arch=compute_86,code=sm_86 "
        "-gencode arch=compute_86,code=compute_86"
    )
    assert value(config, "ANACONDA_HOME") == "/opt/conda"
    assert value(config, "PYTHON_LIBRARIES") == "boost_python310 python3.10"
    assert value(config, "PYTHON_LIB") == "/opt/conda/envs/pycaffe/lib"
    assert "/opt/conda/envs/pycaffe/include/python3.10" in config
    assert CONDA_PY["numpy_include"] in config


def test_cpu_build_atlas_without_opencv_leveldb(tmp_path):
    config = render(
        tmp_path,
        {
            "caffe_build_blas": "atlas",
            "caffe_build_use_opencv": False,
            "caffe_build_use_leveldb": False,
            "caffe_build_with_python_layer": True,
            "_caffe_build_py": dict(CONDA_PY, version="3.11", ldversion="3.11", include="/usr/include/python3.11"),
        },
    )
    assert value(config, "CPU_ONLY") == "1"
    assert value(config, "CUDA_DIR") is None
    assert value(config, "BLAS") == "atlas"
    assert re.fullmatch(r"/usr/lib/[a-z0-9_]+-linux-gnu[a-z]*/atlas", value(config, "BLAS_LIB"))
    assert value(config, "USE_OPENCV") == "0"
    assert value(config, "OPENCV_VERSION") is None
    assert value(config, "USE_LEVELDB") == "0"
    assert value(config, "WITH_PYTHON_LAYER") == "1"
    assert "/usr/include/opencv4" not in config
    # No conda prefix given: the Python is not a conda one.
    assert value(config, "ANACONDA_HOME") is None
    assert value(config, "PYTHON_LIBRARIES") == "boost_python311 python3.11"


def test_caffeonspark_adds_the_jni_headers(tmp_path):
    config = render(
        tmp_path,
        {
            "caffe_build_caffeonspark": True,
            "caffe_build_java_home": "/usr/lib/jvm/java-17-openjdk-amd64",
            "_caffe_build_py": json.loads(json.dumps(CONDA_PY)),
            "_caffe_build_opencv_version": "3.4.6",
        },
    )
    include_dirs = value(config, "INCLUDE_DIRS").split()
    assert "/usr/lib/jvm/java-17-openjdk-amd64/include" in include_dirs
    assert "/usr/lib/jvm/java-17-openjdk-amd64/include/linux" in include_dirs
    assert value(config, "OPENCV_VERSION") == "3"
