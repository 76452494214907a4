# dlstack.cdh: two commands do everything on a fresh Debian 12 machine (as root).
#   make demo   set up, start a local container, read its GPU/library state
#   make test   set up, then sanity, unit tests, ansible-lint and molecule
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
COLLECTION_LINK := ansible_collections/dlstack/cdh
# ansible-test needs a real ansible_collections/<ns>/<name> directory, not a link,
# and outside this git checkout (inside it, git would hide the ignored copy).
TEST_TREE := /var/tmp/dlstack-cdh-$(shell echo $(CURDIR) | md5sum | cut -c1-8)/ansible_collections/dlstack/cdh
# Scenarios `make test` runs, longest first, MOLECULE_JOBS at a time (see
# scripts/molecule-run.sh); override to run a subset. spark_dl_libs follows caffe in the
# second slot, beside tf_hadoop: their clusters have names and subnets of their own.
MOLECULE_SCENARIOS ?= tf_hadoop caffe spark_dl_libs gpu_stack python_env cdsw_engine cml_runtime default
export MOLECULE_JOBS ?= 2

.PHONY: help host image venv link setup demo test test-tree pip-bootstrap sanity units lint changelog molecule reliability collection ee-context clean

help:
	@echo "make demo | make test   (see README.md); parts: host image venv link sanity units lint molecule"

host:
	bash scripts/host-setup.sh

image: host
	bash scripts/base-image.sh bookworm

# The venv is rebuilt when requirements.txt changes. ansible-test installs each
# sanity test's pinned requirements into venvs of its own.
$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

venv: $(VENV)/.installed

# An installed copy of this collection in ~/.ansible/collections (molecule's prerun
# makes one) would shadow the checkout for ansible-lint: it is removed.
SHADOW := $(HOME)/.ansible/collections/ansible_collections/dlstack/cdh
link:
	@mkdir -p $(dir $(COLLECTION_LINK))
	@test -L $(COLLECTION_LINK) || ln -sfn ../.. $(COLLECTION_LINK)
	@if [ -e $(SHADOW) ]; then echo "removing $(SHADOW): it shadows this checkout"; rm -rf $(SHADOW); fi

setup: image venv link

demo: setup
	bash scripts/demo.sh

test: setup sanity units lint changelog molecule reliability ee-context
	@echo "make test: all stages passed"

# A copy of the tracked (and untracked, not ignored) files, as ansible-test wants.
# Laid anew each time: rsync --files-from never deletes a file the tree no longer has.
test-tree:
	@rm -rf $(TEST_TREE) && mkdir -p $(TEST_TREE)
	@git ls-files -co --exclude-standard -z | rsync -a --from0 --files-from=- ./ $(TEST_TREE)/

# ansible-test bootstraps pip in its venvs with a script it cannot download here.
pip-bootstrap: venv
	@v=$$($(BIN)/python -c 'import re, ansible_test, os; p = os.path.join(os.path.dirname(ansible_test.__file__), "_internal/python_requirements.py"); print(re.search(r"pip=.([0-9.]+).", open(p).read()).group(1))'); \
	  dest=$$HOME/.ansible/test/cache/get_pip_$${v//./_}.py; mkdir -p $$(dirname $$dest); \
	  cmp -s scripts/offline-get-pip.py $$dest || cp scripts/offline-get-pip.py $$dest

sanity: venv test-tree pip-bootstrap
	cd $(TEST_TREE) && $(BIN)/ansible-test sanity --python 3.11 --color no

units: venv test-tree
	cd $(TEST_TREE) && $(BIN)/ansible-test units --python 3.11 --color no $(UNITS)

lint: venv link
	$(BIN)/ansible-lint --profile production

# Fragments lint clean and a trial release renders without raw markup, announcing every role and playbook.
changelog: venv
	bash scripts/changelog-check.sh

molecule: setup
	bash scripts/molecule-run.sh $(MOLECULE_SCENARIOS)

# Real playbooks against real containers: check-mode purity, interrupted converge,
# bad inputs, the compliance reports (tests/reliability).
reliability: setup
	$(BIN)/pytest -v -p no:cacheprovider tests/reliability $(RELIABILITY_ARGS)

# The built tarball must hold the collection, its LICENSE, and none of the
# development files galaxy.yml's build_ignore lists (demo/ copies CA certificates).
COLLECTION_TARBALL = dlstack-cdh-$(shell sed -n 's/^version: *//p' galaxy.yml).tar.gz
COLLECTION_FORBIDDEN := ^(\.ansible-lint|\.yamllint|\.gitignore|ansible\.cfg|Makefile|requirements\.txt|(\.ansible|\.cache|\.ci|\.config|\.venv|ansible_collections|benchmarks|demo|molecule|scripts|tests)(/.*)?)$$|\.log$$|(^|/)demo\.yml$$
collection: venv
	rm -f $(COLLECTION_TARBALL)
	$(BIN)/ansible-galaxy collection build --force --output-path .
	@mkdir -p .cache && tar -tzf $(COLLECTION_TARBALL) | sed 's#/$$##' > .cache/collection-files.txt
	@for f in MANIFEST.json FILES.json LICENSE README.md playbooks/site.yml; do \
	  grep -qx "$$f" .cache/collection-files.txt || { echo "$(COLLECTION_TARBALL) lacks $$f"; exit 1; }; done
	@if grep -E '$(COLLECTION_FORBIDDEN)' .cache/collection-files.txt; then \
	  echo "$(COLLECTION_TARBALL) holds the development files above (galaxy.yml build_ignore)"; exit 1; fi
	@echo "$(COLLECTION_TARBALL): $$(wc -l < .cache/collection-files.txt) entries, no development files"

# Proves the execution environment definition resolves (build context only: no
# base image can be pulled here).
ee-context: collection
	cp dlstack-cdh-*.tar.gz execution-environment/
	rm -rf .cache/ee-context
	cd execution-environment && $(BIN)/ansible-builder create --file execution-environment.yml --context $(CURDIR)/.cache/ee-context
	grep -q 'ansible-galaxy collection install /tmp/dlstack-collections' .cache/ee-context/Containerfile
	test -n "$$(ls .cache/ee-context/_build/collections/dlstack-cdh-*.tar.gz)"
	rm -f execution-environment/dlstack-cdh-*.tar.gz

clean:
	rm -rf .cache $(COLLECTION_LINK) tests/output
