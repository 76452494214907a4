# Copyright: dlstack.cdh contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Median wall time of dlstack.cdh.nvidia_gpu_info on its nvidia-smi path.

There is no GPU on the machines this runs on, so ``nvidia-smi`` is a small
stand-in script put first on PATH that prints a real 8x H100 --query-gpu capture
(tests/unit/plugins/modules/fixtures/nvidia_gpu_info/smi_8x_h100.csv) and exits 0.
What is timed is the whole module process as Ansible runs it on a node: Python
start-up, AnsibleModule, the procfs/sysfs reads, running nvidia-smi and parsing
its CSV (``method: nvidia_smi``), i.e. ``python3 nvidia_gpu_info.py args.json``
with the collection importable. A real nvidia-smi adds its own time (typically
tens to hundreds of ms with persistence mode off), which this does not measure.

Usage: .venv/bin/python benchmarks/gpu_info_bench.py [--runs N] [--python PATH]
Run `make venv link` first (the module imports ansible and ansible_collections.dlstack.cdh).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULE = os.path.join(ROOT, "plugins", "modules", "nvidia_gpu_info.py")
FIXTURE = os.path.join(ROOT, "tests", "unit", "plugins", "modules", "fixtures", "nvidia_gpu_info", "smi_8x_h100.csv")


def fake_nvidia_smi(directory):
    with open(FIXTURE) as handle:
        csv_text = "".join(line for line in handle if not line.startswith("#"))
    data = os.path.join(directory, "query-gpu.csv")
    with open(data, "w") as handle:
        handle.write(csv_text)
    script = os.path.join(directory, "nvidia-smi")
    with open(script, "w") as handle:
        handle.write("#!/bin/sh\n# stand-in for nvidia-smi (no GPU here): replays a real 8-GPU capture\nexec cat '%s'\n" % data)
    os.chmod(script, 0o755)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    venv_python = os.path.join(ROOT, ".venv", "bin", "python")
    parser.add_argument("--python", default=venv_python if os.path.exists(venv_python) else sys.executable)
    options = parser.parse_args()
    if not os.path.isdir(os.path.join(ROOT, "ansible_collections", "dlstack", "cdh")):
        sys.exit("run `make link` first: ansible_collections/dlstack/cdh is missing")

    work = tempfile.mkdtemp(prefix="gpu-info-bench-")
    try:
        bindir = os.path.join(work, "bin")
        os.mkdir(bindir)
        fake_nvidia_smi(bindir)
        args = os.path.join(work, "args.json")
        with open(args, "w") as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": {"method": "nvidia_smi"}}, handle)
        env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""), PYTHONPATH=ROOT)
        argv = [options.python, MODULE, args]

        first = json.loads(subprocess.run(argv, env=env, check=True, stdout=subprocess.PIPE).stdout)
        if first.get("status") != "ok" or first.get("gpu_count") != 8 or first.get("source") != "nvidia-smi":
            sys.exit("unexpected module result: %s" % json.dumps(first)[:500])

        times = []
        for _run in range(options.runs):
            start = time.perf_counter()
            subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - start)
    finally:
        shutil.rmtree(work)

    print("nvidia_gpu_info (method=nvidia_smi, fake nvidia-smi replaying a real 8x H100 capture)")
    print("runs=%d  median=%.1f ms  min=%.1f ms  max=%.1f ms" % (
        options.runs, statistics.median(times) * 1000, min(times) * 1000, max(times) * 1000))


if __name__ == "__main__":
    main()
