# Two commands do all the set-up on a fresh machine: `make gate` and `make test`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= auto

.PHONY: install gate test lint serve clean images report

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing the harness into $(VENV) ..."
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# INCOMPLETE (nothing failed, something not proven here) exits 0: a fresh machine cannot prove
# what needs containers or the full load durations; the summary says what and how
# The reference repository tree is the second target: `make gate PROJECT_ROOT=` leaves it out
# (its file checks then skip), `make gate PROJECT_ROOT=../my-repo` checks another.
PROJECT_ROOT ?= reference_app/project
# what people, not programs, answer for (kind: attestation); `make gate ATTESTATIONS=` leaves
# it out, and those requirements are then not proven
ATTESTATIONS ?= $(if $(PROJECT_ROOT),$(PROJECT_ROOT)/attestations.toml)
# a repository that writes its production env file at deploy time (the reference one does) has
# it written to a temporary file for the configuration audit, removed after the run
ENV_SCRIPT := $(if $(PROJECT_ROOT),$(wildcard $(PROJECT_ROOT)/scripts/production-env.sh))
GATE_COMMAND ?= gate
gate: $(STAMP)  ## run the compliance gate against the embedded reference app and its repository
	@env_file=$$(mktemp -u /tmp/harness-production-env.XXXXXX); \
	$(if $(ENV_SCRIPT),$(ENV_SCRIPT) $$env_file >/dev/null || exit 2;) \
	$(VENV)/bin/harness $(GATE_COMMAND) --allow-incomplete $(if $(PROJECT_ROOT),--project-root $(PROJECT_ROOT)) $(if $(ATTESTATIONS),--attestations $(ATTESTATIONS)) $(if $(ENV_SCRIPT),--param audit_env_file=$$env_file) $(GATE_ARGS); \
	status=$$?; rm -f $$env_file; exit $$status

# the same gate with the load scenarios at the spec's durations (about 92 min of load), its
# run history kept in reports/history/; for a cron job or a CI schedule (docs/docs/history.md)
.PHONY: nightly
nightly: $(STAMP)  ## the gate with the full-duration load scenarios, endurance included
	@$(MAKE) --no-print-directory gate GATE_COMMAND=nightly

# the last gate run's headline, and its Allure HTML report in reports/allure/ (Allure 3 from npm,
# installed on first use into $HARNESS_ALLURE_HOME; without Node it says so and goes on)
report: $(STAMP)  ## the HTML reports of the last `make gate`
	$(VENV)/bin/harness report $(REPORT_ARGS)

test: $(STAMP)  ## the whole test suite, in parallel
	$(PY) -m pytest -n $(PYTEST_WORKERS) --durations=40 $(TEST_ARGS)

images: $(STAMP)  ## local images for the container stacks (debootstrap + Debian packages)
	$(PY) -m harness.stacks build $(IMAGES_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo

# this project's documentation site (docs/mkdocs.yml); `make test` builds it strictly too
DOCS_SITE ?= site
.PHONY: docs
docs: $(STAMP)  ## the documentation site, built with --strict into $(DOCS_SITE)/ (git-ignored)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict -f docs/mkdocs.yml -d $(abspath $(DOCS_SITE))
	@echo "site: $(abspath $(DOCS_SITE))/index.html"

serve: $(STAMP)  ## the reference app on http://127.0.0.1:8000
	$(PY) -m reference_app serve

# the run history (reports/history/) stays: it is what the next run's trend is judged against
clean:
	find reports -maxdepth 1 -type f ! -name README.md ! -name .gitkeep -delete
	rm -rf reports/allure reports/allure-results site .mypy_cache .ruff_cache .pytest_cache
