# The project's interface. Every target that needs the pinned tools bootstraps them (.venv/, node_modules/)
# itself, so a fresh clone needs nothing but what `make prerequisites` checks (the README and CONTRIBUTING.md name it).

PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
READY := $(VENV)/.ready-$(shell $(PYTHON) -c 'import hashlib,sys; print(hashlib.sha256(open("requirements-dev.txt","rb").read()).hexdigest()[:12])')
PACKAGE := yandex_market_returns_client
GENERATED_DIR := generated/$(PACKAGE)
# make vendor: the generated package's name in DEST (a service's own package_name_override).
GENERATED ?= $(PACKAGE)
DEST ?=
DIST ?= dist
BASE_URL ?=
CAMPAIGN_ID ?=
RETURN_ID ?=

# The runtime dependencies' wheels (the lock's versions and the lowest admitted), for tests that install the
# package from loopback alone: downloaded once by make test.
WHEELHOUSE := build/wheelhouse
WHEELHOUSE_READY := $(WHEELHOUSE)/.ready-$(shell cat requirements-dev.txt pyproject.toml tools/wheelhouse.py | $(PYTHON) -c 'import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:12])')

# The third-party spec tools (package.json, locked in package-lock.json) and where they run.
NODE_BIN := $(abspath node_modules)/.bin
NODE_READY := node_modules/.ready-$(shell $(PYTHON) -c 'import hashlib,sys; print(hashlib.sha256(open("package-lock.json","rb").read()).hexdigest()[:12])')
export REDOCLY_TELEMETRY := off
export REDOCLY_SUPPRESS_UPDATE_NOTICE := true
BASE ?=

# The generator's post-hooks call ruff by name: make sure it is the pinned one.
export PATH := $(BIN):$(PATH)

# $(call generate,OUTPUT_DIR): the one way the client is produced from openapi.yaml. The spec also ships
# inside the package as JSON, so that runtime code reads bounds from it with the standard library alone.
generate = $(BIN)/openapi-python-client generate --path openapi.yaml --config generator-config.yaml \
	--custom-template-path templates --meta none --overwrite --fail-on-warning --output-path $(1) \
	&& printf '\043 Marker file for PEP 561\n' > $(1)/py.typed \
	&& $(BIN)/python -c 'import json, sys, yaml; json.dump(yaml.safe_load(open("openapi.yaml")), sys.stdout, indent=1, ensure_ascii=False); print()' > $(1)/openapi.json

.DEFAULT_GOAL := help
.PHONY: help prerequisites check generate check-generated lint lint-spec test bench faults demo docs breaking release-check build publish vendor wheelhouse record lock clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The markers' names hold their inputs' hashes: a changed input is a missing marker, whatever the file dates.
$(READY): | requirements-dev.txt
ifeq ($(origin VENV),command line)
	@echo "$(VENV) is not ready for this requirements-dev.txt; a VENV given on the command line is never rebuilt" >&2; exit 1
else
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@
endif

$(WHEELHOUSE_READY): | $(READY)
	rm -rf $(WHEELHOUSE)
	$(BIN)/python -m tools.wheelhouse $(WHEELHOUSE)
	touch $@

wheelhouse: $(WHEELHOUSE_READY) ## Download the runtime dependencies' wheels into build/wheelhouse/ (make test does)

$(NODE_READY): | package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

prerequisites: ## Check every program and Debian package the targets and tests need; print the apt-get line for what is missing
	$(PYTHON) tools/prerequisites.py

check: check-generated lint ## Main job: regenerate and verify the client (no drift, spec valid, lint, types)

generate: $(READY) ## Regenerate generated/ from openapi.yaml, generator-config.yaml and templates/
	$(call generate,$(GENERATED_DIR))

check-generated: $(READY) ## Regenerate into a temporary folder and fail, naming the files, if generated/ differs
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	{ $(call generate,$$tmp/$(PACKAGE)); } >/dev/null && \
	if diff -r -q -x __pycache__ $(GENERATED_DIR) $$tmp/$(PACKAGE); then \
		echo "generated/ matches a fresh regeneration"; \
	else \
		echo "generated/ has drifted from its inputs: run 'make generate' and commit the result" >&2; exit 1; \
	fi

lint: lint-spec ## Lint the spec (see lint-spec), run ruff, and mypy --strict over generated and hand-written code
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict

lint-spec: $(READY) $(NODE_READY) ## Check openapi.yaml with openapi-spec-validator, Spectral, Redocly and openapi-generator
	$(BIN)/openapi-spec-validator openapi.yaml
	$(NODE_BIN)/spectral lint --ruleset .spectral.yaml --fail-severity=hint openapi.yaml
	$(NODE_BIN)/redocly lint --config redocly.yaml openapi.yaml
	$(BIN)/openapi-generator-cli validate --recommend -i openapi.yaml

test: lint-spec $(NODE_READY) $(WHEELHOUSE_READY) ## Lint the spec, then run the whole test suite (on 2 workers)
	$(BIN)/pytest -n 2

docs: $(NODE_READY) ## Render the HTML reference of openapi.yaml into build/docs/
	$(NODE_BIN)/redocly build-docs --config redocly.yaml --inlineBundle --output build/docs/index.html openapi.yaml

breaking: $(READY) ## List changes to openapi.yaml that break clients of BASE (by default the release it replaces) and fail on any
	@base="$(BASE)"; test -n "$$base" || base=$$($(BIN)/python -m tools.releases base) || exit 1; \
	if test -z "$$base"; then echo "no release before this one to compare with"; exit 0; fi; \
	tmp=$$(mktemp) && trap 'rm -f "$$tmp"' EXIT && git show "$$base:openapi.yaml" > "$$tmp" && \
	$(BIN)/python -m tools.breaking "$$tmp" openapi.yaml --base-name "openapi.yaml at $$base"

release-check: $(READY) ## Fail when what ships changed without a higher info.version, its CHANGELOG entry, or a major bump for a breaking change
	$(BIN)/python -m tools.releases check

bench: $(READY) ## Time a batch against one call after another, side by side, on the fake Market
	PYTHONPATH=generated:src:. $(BIN)/python -m tools.benchmarks

faults: $(READY) ## Replay the faults a service meets on the fake Market and print what the client reported
	PYTHONPATH=generated:src:. $(BIN)/python -m tools.fault_report

demo: $(READY) ## Cancel a few hundred returns with the yandex-market-returns command, on the fake Market
	PYTHONPATH=generated:src:. $(BIN)/python -m tools.demo

build: $(READY) ## Build the wheel and sdist into dist/, check them, and put the released spec (YAML, JSON) beside them
	rm -f "$(DIST)"/$(PACKAGE)-*.whl "$(DIST)"/$(PACKAGE)-*.tar.gz
	$(BIN)/python -m build --no-isolation --outdir "$(DIST)" .
	$(BIN)/twine check --strict "$(DIST)"/$(PACKAGE)-*.whl "$(DIST)"/$(PACKAGE)-*.tar.gz
	cp openapi.yaml "$(DIST)"/openapi.yaml
	cp $(GENERATED_DIR)/openapi.json "$(DIST)"/openapi.json

# Built from `git archive HEAD`, not from the working tree: a file git hides only locally (.git/info/exclude, a
# global ignore) passes the clean-tree check but hatch would ship it.
publish: $(READY) ## Build HEAD and upload its wheel and sdist to TWINE_REPOSITORY_URL (see CONTRIBUTING.md's Publishing)
	$(BIN)/python -m tools.publish check
	$(MAKE) --no-print-directory -s check-generated
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && git archive HEAD | tar -x -C "$$tmp" && \
	$(MAKE) --no-print-directory -s -C "$$tmp" build VENV="$(abspath $(VENV))" DIST="$(abspath $(DIST))"
	$(BIN)/python -m tools.publish upload "$(DIST)"

vendor: ## Copy both packages, the spec and the licence into DEST (make vendor DEST=svc/_vendor [GENERATED=name])
	@test -n "$(DEST)" || { echo "usage: make vendor DEST=<folder> [GENERATED=<package name>]" >&2; exit 2; }
	@$(PYTHON) -m tools.vendor "$(DEST)" --generated "$(GENERATED)"

record: $(READY) ## Record fresh cassettes from a live server: make record BASE_URL=... (YANDEX_MARKET_API_KEY set)
	@test -n "$(BASE_URL)" -a -n "$(CAMPAIGN_ID)" -a -n "$(RETURN_ID)" || \
		{ echo "usage: make record BASE_URL=<server> CAMPAIGN_ID=<id> RETURN_ID=<id>" >&2; exit 2; }
	$(BIN)/python -m tools.recorder --base-url "$(BASE_URL)" --campaign-id "$(CAMPAIGN_ID)" --return-id "$(RETURN_ID)"

lock: ## Re-make requirements-dev.txt from requirements-dev.in in a fresh venv
	rm -rf build/lock && $(PYTHON) -m venv build/lock
	build/lock/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.in
	{ echo "# Full lock of requirements-dev.in, made by 'make lock' in a fresh venv. Do not edit by hand."; \
	  build/lock/bin/python -m pip freeze --all --exclude pip --exclude setuptools --exclude wheel; } > requirements-dev.txt
	rm -rf build/lock

clean: ## Remove the environment and everything built
	rm -rf $(VENV) node_modules build dist .mypy_cache .pytest_cache .ruff_cache
	find . -name __pycache__ -prune -exec rm -rf {} +
