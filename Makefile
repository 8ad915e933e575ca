# Development tasks for the tunnelops.cloudflare collection. `make help` lists them.
# Everything runs from the virtualenv .venv, which the first target that needs it builds from
# requirements-dev.txt (and rebuilds when that file changes). The Molecule targets need root (rootful podman).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV := $(ROOT)/.venv
BIN := $(VENV)/bin
VENV_STAMP := $(VENV)/.requirements-dev.stamp
PYTHON ?= $(shell command -v python3.11 || command -v python3)
BUILD := $(ROOT)/.build
DIST := $(BUILD)/dist
COLLECTION_LINK := $(BUILD)/collections/ansible_collections/tunnelops/cloudflare
SCENARIOS = $(sort $(notdir $(patsubst %/,%,$(dir $(wildcard extensions/molecule/*/molecule.yml)))))

export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(ROOT)/ansible.cfg
export ANSIBLE_COLLECTIONS_PATH := $(BUILD)/collections
export ANSIBLE_ROLES_PATH := $(ROOT)/roles

.PHONY: help venv collections lint ruff yamllint ansible-lint sanity unit integration build ee molecule \
	podman image test demo bench clean distclean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{ printf "  %-13s %s\n", $$1, $$2 }'

$(VENV_STAMP): requirements-dev.txt requirements.txt
	[[ -x $(BIN)/python ]] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(VENV_STAMP) ## Build .venv from requirements-dev.txt when missing or out of date

collections: $(VENV_STAMP) ## Unpack containers.podman, ansible.posix, community.general from PyPI's ansible wheel
	scripts/install-collections.sh

lint: ruff yamllint ansible-lint ## ruff, yamllint and ansible-lint (production profile, offline)

ruff: $(VENV_STAMP) ## ruff check and ruff format --check
	ruff check .
	ruff format --check .

yamllint: $(VENV_STAMP) ## yamllint over the whole tree
	yamllint --strict .

ansible-lint: collections ## ansible-lint --profile production --offline over the whole tree
	ansible-lint --profile production --offline

sanity: $(VENV_STAMP) ## ansible-test sanity on a copy under .build/sanity (ARGS= passes options)
	scripts/sanity.sh $(ARGS)

unit: collections ## pytest tests/unit
	scripts/pytest-step.sh tests/unit $(ARGS)

integration: collections ## pytest tests/integration
	scripts/pytest-step.sh tests/integration $(ARGS)

build: collections ## Build the collection artifact into .build/dist, check it, install it and ansible-doc each module
	scripts/build-collection.sh

ee: collections ## Write an execution environment build context into .build/ee (ansible-builder create, no image build)
	scripts/ee-context.sh

podman: ## Install and configure rootful podman for Molecule (needs root)
	scripts/podman-setup.sh

image: podman ## Build the Debian 12 systemd image for Molecule (cached)
	scripts/build-image.sh bookworm

molecule: collections image ## Run every Molecule scenario under extensions/molecule (S=name runs one)
	scripts/molecule.sh $(S)

test: ## Every check, cheapest first, continuing past failures; ends with a summary line
	scripts/make-test.sh

demo: collections ## Run scripts/demo.sh, the end-to-end demonstration
	scripts/demo.sh

bench: collections ## Run bench/run.sh when the benchmarks exist
	if [[ -x bench/run.sh ]]; then bench/run.sh; else echo "bench: no bench/run.sh in this checkout"; fi

clean: ## Remove build output (.build); keeps .venv and the download cache
	rm -rf $(BUILD) .pytest_cache .ruff_cache

distclean: clean ## Also remove .venv and .cache
	rm -rf $(VENV) .cache
