# dualreport — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# checkov pins packaging<24, which pytest 9 refuses: it gets a venv of its own.
CHECKOV_VENV := .venv-checkov
CARGO_TEST := cargo nextest run --workspace --no-fail-fast

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "} {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}'

.PHONY: build
build: ## Build every service binary (debug)
	cargo build --workspace --bins

.PHONY: run
run: build ## Start the whole suite on SQLite and print where it listens and a dev token
	./scripts/run.sh

.PHONY: demo
demo: build ## With `make run` going: fill it with a believable city (idempotent) and print what to try
	$${CARGO_TARGET_DIR:-target}/debug/demo --config config/dev.toml

.PHONY: run-city
run-city: build ## Start a small city on SQLite: three district suites and the city tier over them
	./scripts/run-city.sh

.PHONY: demo-city
demo-city: build ## With `make run-city` going: seed each district (idempotent); the city ingests them
	@for i in 0 1 2; do \
	  base=$$((50051 + 100 * i)); \
	  echo "seeding district $$i (registry :$$base)"; \
	  $${CARGO_TARGET_DIR:-target}/debug/demo --config config/dev.toml --district-layout $$i --members 100 \
	    --registry-url http://127.0.0.1:$$base --volunteering-url http://127.0.0.1:$$((base + 1)) \
	    --scoring-url http://127.0.0.1:$$((base + 2)) --feedback-url http://127.0.0.1:$$((base + 3)) > /dev/null || exit 1; \
	done
	@echo "seeded: the city ingests each district within a second; README \"Running a city locally\" shows what to call"

$(VENV)/.installed: tests/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
	touch $@

$(CHECKOV_VENV)/.installed: tests/checkov-requirements.txt
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/checkov-requirements.txt
	touch $@

.PHONY: venv
venv: $(VENV)/.installed $(CHECKOV_VENV)/.installed ## Python tools: buf, grpcio client, pytest, Helm library, kubernetes-validate, checkov

.PHONY: python-client
python-client: venv ## The Python client wheel (messages, type stubs, gRPC stubs) from proto/, into target/python/
	PY=$(PY) ./scripts/python-client.sh

.PHONY: test
test: build venv python-client ## Every test: Rust on SQLite and a throwaway PostgreSQL, the Python grpcio smoke tests, the chart checks
	./scripts/with-postgres.sh $(CARGO_TEST)
	./scripts/check-client-crate.sh
	$(PY) -m pytest -q tests/smoke
	CHECKOV=$(CHECKOV_VENV)/bin/checkov $(PY) -m pytest -q tests/chart

.PHONY: chart-test
chart-test: build venv ## Only the chart checks: lint, render, schemas, checkov, kustomize drift
	CHECKOV=$(CHECKOV_VENV)/bin/checkov $(PY) -m pytest -q tests/chart

.PHONY: k8s
k8s: venv ## Regenerate k8s/ (kustomize base and district overlays) from the chart
	$(PY) tests/chart/dualreport_chart.py k8s

.PHONY: test-sqlite
test-sqlite: build ## Rust tests on SQLite only (quick loop)
	cargo nextest run --workspace -E 'not test(/postgres::/)'

.PHONY: bench
bench: ## Benchmarks (release build) at a district's size on PostgreSQL and SQLite, each figure beside a baseline of the same run
	cargo build --release --workspace --bins
	./scripts/with-postgres.sh env DUALREPORT_BIN_DIR=$${CARGO_TARGET_DIR:-$(CURDIR)/target}/release cargo bench -p e2e --bench district
	./scripts/with-postgres.sh env DUALREPORT_BIN_DIR=$${CARGO_TARGET_DIR:-$(CURDIR)/target}/release cargo bench -p e2e --bench city
	cargo bench -p registry --bench registry
	DUALREPORT_BIN_DIR=$${CARGO_TARGET_DIR:-$(CURDIR)/target}/release cargo bench -p scoring --bench scoring

.PHONY: lint
lint: venv ## buf lint and breaking (against the last release tag), the domain rule table, rustfmt, clippy with warnings denied
	cd proto && ../$(VENV)/bin/buf lint
	@tag=$$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null || true); \
	if [ -n "$$tag" ]; then \
	  echo "buf breaking against $$tag"; \
	  $(VENV)/bin/buf breaking proto --against ".git#tag=$$tag,subdir=proto"; \
	else \
	  echo "buf breaking: no release tag (v*) yet, nothing to compare against"; \
	fi
	python3 scripts/check-rule-table.py
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

.PHONY: fmt
fmt: ## Format the Rust code
	cargo fmt --all

.PHONY: clean
clean: ## Remove build output, local data and the Python venv
	cargo clean
	rm -rf data $(VENV) $(CHECKOV_VENV)
