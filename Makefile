# Common commands. `make test` is what CI runs (through .ci/run).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= $(shell command -v pyenv >/dev/null 2>&1 && pyenv which python3 2>/dev/null || command -v python3)

.PHONY: install dev test unit lint format docs docs-serve tools docker-up docker-down golden rendered chart-cache gen charts bench bench-check render clean

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e . --config-settings editable_mode=compat
	touch $@

$(VENV)/.installed-docs: $(VENV)/.installed
	$(PY) -m pip install -q --disable-pip-version-check -e '.[docs]' --config-settings editable_mode=compat
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]' --config-settings editable_mode=compat
	touch $@

install: $(VENV)/.installed  ## the function and its runtime dependencies

dev: $(VENV)/.installed-test tools  ## plus test dependencies and the real tools the tests run

tools:
	scripts/install-tools.sh

test: dev  ## every test, end-to-end ones included
	$(PY) -m pytest

unit: $(VENV)/.installed-test  ## the fast tests only
	$(PY) -m pytest -m "not e2e and not docker"

docs: $(VENV)/.installed-test  ## build the documentation site into site/ (strict: a broken link or a missing page fails)
	$(PY) scripts/gen_docs.py --check
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

docs-serve: $(VENV)/.installed-docs  ## the site on http://127.0.0.1:8000, rebuilt on every change
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs serve

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-test
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

render: install  ## the stack of the default config
	$(VENV)/bin/observability-fn render function-config/observability.yaml

golden: $(VENV)/.installed  ## regenerate tests/golden after a deliberate output change (review the diff)
	scripts/update-golden.sh

chart-cache: $(VENV)/.installed  ## lay out the chart releases tests/rendered names, from fetched upstream repositories (MIRRORS=dir)
	$(PY) scripts/chart-cache.py $(if $(MIRRORS),--mirrors $(MIRRORS))

rendered: $(VENV)/.installed tools  ## re-render tests/rendered through helm after `make golden` (CHARTS=dir, default .charts)
	$(PY) scripts/update-rendered.py $(if $(CHARTS),--charts $(CHARTS))
	$(PY) scripts/gen_chart_crd_schemas.py $(if $(CHARTS),--charts $(CHARTS))

gen: $(VENV)/.installed  ## regenerate every derived data file from third_party/upstream
	$(PY) scripts/gen_flux_metrics.py
	$(PY) scripts/gen_chart_paths.py
	$(PY) scripts/gen_crd_schemas.py
	$(PY) scripts/gen_operator_data.py

charts: $(VENV)/.installed-test  ## learn the published chart releases from fetched upstream repositories (MIRRORS=dir)
	$(PY) scripts/update-charts.py $(if $(MIRRORS),--mirrors $(MIRRORS)); status=$$?; \
	$(PY) scripts/charts_table.py --write; exit $$status

bench: $(VENV)/.installed  ## time the function against kpt's floor (see bench/README.md)
	$(PY) bench/run.py

bench-check:  ## compare the latest benchmark with the targets (exit 1 on a miss)
	$(PY) bench/check.py

docker-up:
	scripts/docker.sh up base image

docker-down:
	scripts/docker.sh down

clean:
	rm -rf $(VENV) .tools dist build *.egg-info
