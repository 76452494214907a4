"""Verify the Caffe the caffe_build role built and installed in the container."""

import json
import re

import pytest

testinfra_hosts = ["ansible://all"]

PREFIX = "/opt/caffe"
MULTIARCH_LIB = "/usr/lib/x86_64-linux-gnu"


@pytest.fixture(scope="module")
def makefile_config(host):
    return host.file("/opt/caffe-build/src/Makefile.config").content_string


def _real_path(host, path):
    # Debian 12 is merged-/usr: the cache lists /lib/<triplet>/..., the same file.
    return host.run("readlink -f %s", path).stdout.strip()


def _config_value(config, key):
    match = re.search(r"^%s\s*:=\s*(.*)$" % re.escape(key), config, re.MULTILINE)
    assert match, "%s not in Makefile.config" % key
    return match.group(1).strip()


@pytest.fixture(scope="module")
def libraries(host):
    # Written in converge by dlstack.cdh.shared_library_info.
    return json.loads(host.file("/root/caffe-libraries.json").content_string)


def test_shared_library_info_finds_libcaffe(host, libraries):
    assert "libcaffe" not in libraries["missing"]
    found = libraries["libraries"]["libcaffe"]
    assert any(entry["name"] == "libcaffe.so.1.0.0" for entry in found), found
    for entry in found:
        assert _real_path(host, entry["path"]).startswith(MULTIARCH_LIB + "/")
        assert entry["real_path"] and host.file(entry["real_path"]).exists
    binary = libraries["binaries"]["/opt/caffe/bin/caffe.bin"]
    assert binary["ok"] is True
    assert binary["missing"] == []


def test_libcaffe_in_the_ld_cache(host):
    # The cache, not just the file: the dynamic linker resolves libcaffe by soname.
    listed = host.run("ldconfig -p").stdout
    entries = re.findall(r"^\s*(libcaffe\.so\S*) \(.*\) => (\S+)$", listed, re.MULTILINE)
    assert entries, listed
    for _name, path in entries:
        assert _real_path(host, path).startswith(MULTIARCH_LIB + "/")
        assert host.file(path).exists
    assert not host.file("/etc/ld.so.conf.d/caffe.conf").exists


def test_caffe_binary_links_the_installed_libcaffe(host):
    ldd = host.run("ldd %s/bin/caffe.bin" % PREFIX)
    assert ldd.rc == 0
    assert "not found" not in ldd.stdout
    # caffe.bin's RUNPATH ($ORIGIN/../lib) finds the installed tree's copy.
    match = re.search(r"libcaffe\.so\S* => (\S+)", ldd.stdout)
    assert match, ldd.stdout
    assert _real_path(host, match.group(1)) == "%s/lib/libcaffe.so.1.0.0" % PREFIX
    assert "libopenblas" in ldd.stdout


def test_caffe_times_lenet(host):
    result = host.run("caffe time -model %s/examples/mnist/lenet.prototxt -iterations 2" % PREFIX)
    assert result.rc == 0, result.stderr
    assert "Use CPU." in result.stderr
    assert re.search(r"Average Forward pass: [0-9.]+ ms", result.stderr), result.stderr


def test_pycaffe_imports_and_runs_a_net(host):
    script = (
        "import json, caffe; caffe.set_mode_cpu(); "
        "net = caffe.Net('%s/examples/mnist/lenet.prototxt', caffe.TEST); "
        "out = net.forward(); "
        "print(json.dumps({'file': caffe.__file__, 'blobs': list(net.blobs), "
        "'prob_shape': list(out['prob'].shape)}))" % PREFIX
    )
    result = host.run("python3 -c %s", script)
    assert result.rc == 0, result.stderr
    info = json.loads(result.stdout.strip().splitlines()[-1])
    assert info["file"].startswith(PREFIX + "/python/caffe/")
    assert info["prob_shape"] == [64, 10]
    assert "conv1" in info["blobs"]


def test_makefile_config(makefile_config):
    assert _config_value(makefile_config, "CPU_ONLY") == "1"
    assert "USE_CUDNN" not in makefile_config
    assert "CUDA_ARCH" not in makefile_config
    assert _config_value(makefile_config, "BLAS") == "open"
    assert _config_value(makefile_config, "BLAS_INCLUDE") == "/usr/include/x86_64-linux-gnu/openblas-pthread"
    assert _config_value(makefile_config, "USE_OPENCV") == "1"
    assert _config_value(makefile_config, "OPENCV_VERSION") == "3"
    assert _config_value(makefile_config, "USE_LEVELDB") == "1"
    assert _config_value(makefile_config, "USE_LMDB") == "1"
    assert _config_value(makefile_config, "PYTHON_LIBRARIES") == "boost_python311 python3.11"
    assert "/usr/include/python3.11" in _config_value(makefile_config, "PYTHON_INCLUDE")
    include_dirs = _config_value(makefile_config, "INCLUDE_DIRS").split()
    assert "/usr/include/hdf5/serial" in include_dirs
    assert "/usr/include/opencv4" in include_dirs
    assert "ANACONDA_HOME" not in makefile_config


def test_sources_are_patched(host):
    io_cpp = host.file("/opt/caffe-build/src/src/caffe/util/io.cpp").content_string
    assert "coded_input->SetTotalBytesLimit(kProtoReadBytesLimit);" in io_cpp
    assert "CV_LOAD_IMAGE_COLOR" not in io_cpp
    assert "cv::IMREAD_COLOR" in io_cpp


def test_cpu_solver(host):
    solver = host.file("%s/examples/mnist/lenet_solver_cpu.prototxt" % PREFIX)
    assert solver.exists
    assert re.search(r"^solver_mode: CPU$", solver.content_string, re.MULTILINE)
    assert 'net: "%s/examples/mnist/lenet_train_test.prototxt"' % PREFIX in solver.content_string
    assert host.file("%s/examples/mnist/lenet_train_test.prototxt" % PREFIX).exists
