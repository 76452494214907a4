"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test creates empty venvs for some sanity tests and bootstraps pip in them
with a script fetched from a host these machines cannot reach. This does the same
job from what is here: pip from the interpreter's own ensurepip wheel, then the
exact pip release ansible-test asked for, from the package index.
It receives get-pip.py's arguments: pip install options and packages.
"""
import subprocess
import sys

# get-pip.py understands these two; `pip install` does not.
GET_PIP_ONLY = {"--no-setuptools", "--no-wheel"}

args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "-q"] + args)
