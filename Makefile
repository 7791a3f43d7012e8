# Thin aliases; every step is visible here. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell sha256sum requirements.lock | cut -c1-12)
HOST   ?= 127.0.0.1:8000

.PHONY: run test install graphviz chromium lint typecheck check worker beat lock schema clean

$(STAMP): requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP) graphviz

# Graphviz's `dot` renders diagrams; install it with apt when we are root, else say how.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	  else echo "Graphviz 'dot' is missing: install it with 'sudo apt-get install graphviz' (or your OS's package)."; fi; }

# Browser tests drive Debian's Chromium through Playwright; never download a browser build.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Chromium is missing: install it with 'sudo apt-get install chromium'."; fi; }

# seed_library also loads the ATLAS names shipped in threats/library/atlas-derived.json; an upstream
# export beside the checkout, when present, adds the descriptions (optional).
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_library
	@if [ -f ../shared/reference/ATLAS.yaml ]; then $(PY) manage.py import_atlas ../shared/reference/ATLAS.yaml; \
	  else echo "ATLAS names and tactics come from the shipped threats/library/atlas-derived.json (no upstream export at ../shared/reference/ATLAS.yaml)."; fi
	$(PY) manage.py load_demo
	$(PY) manage.py runserver $(HOST)

test: install chromium
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

typecheck: $(STAMP)
	$(VENV)/bin/mypy workbench threats mitigations

check: lint typecheck
	$(PY) manage.py makemigrations --check --dry-run

worker: install
	$(VENV)/bin/celery -A workbench worker -l info

beat: install
	$(VENV)/bin/celery -A workbench beat -l info

# Regenerate the committed OpenAPI schema after changing an API view or serializer
# (tests/api/test_openapi_drift.py fails until the file matches the code).
schema: $(STAMP)
	$(PY) manage.py spectacular --api-version v1 --validate --file docs/openapi.yaml

# Regenerate the hashed lock after changing pyproject.toml (uv is only needed for this).
lock:
	@test -x .venv-tools/bin/uv || { $(PYTHON) -m venv .venv-tools && .venv-tools/bin/pip install -q uv; }
	.venv-tools/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
	  --no-header -o requirements.lock

clean:
	rm -rf $(VENV) .venv-tools .pytest_cache .mypy_cache .ruff_cache
