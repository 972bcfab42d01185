# chatbot-analytics: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export CHATBATCH_HOME ?= $(CURDIR)/data

DEMO_START ?= 2026-11-01
DEMO_DAYS ?= 14
DEMO_CONVERSATIONS ?= 400
DEMO_SEED ?= 42
DEMO_DIRTY_RATE ?= 0.01
SOURCE ?= v1

CI_HOME := $(CURDIR)/build/ci-home
DOCS_PORT ?= 8080

.PHONY: help venv demo demo-dates test checks lint dbt-ci pytest clean bench docs docs-generate test-spark venv-spark

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@echo "==> creating $(VENV) and installing pinned dependencies"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $@

venv: $(STAMP) ## create .venv with the pinned dependencies

SPARK_STAMP := $(VENV)/.installed-spark
venv-spark: $(SPARK_STAMP) ## add the [spark] extra (dbt-spark, pyspark) to .venv

$(SPARK_STAMP): $(STAMP)
	@echo "==> installing the [spark] extra (dbt-spark, pyspark)"
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev,spark]'
	@touch $@

demo: $(STAMP) ## generate 14 days of sample exports (SOURCE=v1|langfuse|otel), run the nightly batch once per day
	@case "$(SOURCE)" in v1|langfuse|otel) ;; *) echo "SOURCE must be v1, langfuse or otel"; exit 2;; esac
	@echo "==> generating $(DEMO_DAYS) days of $(SOURCE) exports into $(CHATBATCH_HOME)/landing"
	$(BIN)/chatbatch generate --start $(DEMO_START) --days $(DEMO_DAYS) \
		--conversations-per-day $(DEMO_CONVERSATIONS) --seed $(DEMO_SEED) \
		--dirty-rate $(DEMO_DIRTY_RATE) --format $(SOURCE)
	@mkdir -p $(CHATBATCH_HOME)
	@case "$(SOURCE)" in \
		langfuse) printf '%s\n' 'sources: [langfuse]' 'langfuse:' \
			'  feedback_scores: {thumbs: [user-feedback, user-sentiment], csat: [csat], comment: [comment]}' \
			'  categorical_values: {positive: 1, negative: -1}' > $(CHATBATCH_HOME)/sources.yml ;; \
		otel) printf '%s\n' 'sources: [otel]' 'otel:' \
			'  feedback_evaluations: {thumbs: [user-feedback], csat: [csat], comment: [comment]}' \
			> $(CHATBATCH_HOME)/sources.yml ;; \
		*) if [ -f $(CHATBATCH_HOME)/sources.yml ]; then echo 'sources: [chatbot]' > $(CHATBATCH_HOME)/sources.yml; fi ;; \
	esac
	@for day in $$($(MAKE) -s --no-print-directory demo-dates); do \
		echo "==> nightly batch for $$day"; \
		$(BIN)/chatbatch nightly --date $$day || exit $$?; \
	done
	@echo "==> run history"
	$(BIN)/chatbatch status --last 30
	@echo "==> summary"
	$(BIN)/chatbatch summary
	@echo "Analysts: open $(CHATBATCH_HOME)/analytics.duckdb read-only (e.g. duckdb -readonly)."

demo-dates: # the export dates of the landing area (v1 partitions, Langfuse manifests, OTel rotations)
	@{ ls -d $(CHATBATCH_HOME)/landing/*/export_date=* 2>/dev/null | sed 's/.*export_date=//'; \
	   ls $(CHATBATCH_HOME)/landing/langfuse/*/manifests/*.json $(CHATBATCH_HOME)/landing/otel/*/*-*T*.json* \
	      2>/dev/null | sed -E 's|.*[/-]([0-9]{4}-[0-9]{2}-[0-9]{2})T[^/]*$$|\1|'; } | sort -u

lint: $(STAMP) ## ruff and sqlfluff
	$(BIN)/ruff check scripts tests deploy
	$(BIN)/ruff format --check scripts tests deploy
	mkdir -p $(CI_HOME)/lint
	CHATBATCH_HOME=$(CI_HOME)/lint $(BIN)/sqlfluff lint models tests/dbt

dbt-ci: $(STAMP) ## dbt build (ci target) on freshly generated data
	rm -rf $(CI_HOME) && mkdir -p $(CI_HOME)
	CHATBATCH_HOME=$(CI_HOME) $(BIN)/chatbatch generate --start 2026-11-01 --days 5 \
		--conversations-per-day 150 --seed 7 --dirty-rate 0.02
	CHATBATCH_HOME=$(CI_HOME) DBT_TARGET=ci $(BIN)/chatbatch nightly --date 2026-11-10

PYTEST_ARGS ?= -n 2 --dist loadscope --durations=15
pytest: $(STAMP) ## the Python test suite (real dbt and DuckDB, on 2 workers; PYTEST_ARGS= for one)
	$(BIN)/pytest $(PYTEST_ARGS)

docs-generate: $(STAMP) ## write the dbt docs site to target/ (on the CI warehouse)
	test -f $(CI_HOME)/warehouse.duckdb || $(MAKE) dbt-ci
	CHATBATCH_HOME=$(CI_HOME) DBT_TARGET=ci $(BIN)/dbt docs generate --profiles-dir profiles --quiet
	@echo "dbt docs written to target/ (index.html, manifest.json, catalog.json)"

docs: docs-generate ## build and serve the dbt docs site on http://localhost:$(DOCS_PORT)
	$(BIN)/dbt docs serve --profiles-dir profiles --port $(DOCS_PORT) --no-browser

test: $(STAMP) ## everything CI runs: lint, dbt-ci and docs-generate in turn, beside pytest
	$(MAKE) --no-print-directory -j2 --output-sync=target checks pytest

# lint, dbt-ci, docs-generate one after the other: make test runs them beside pytest, which
# uses none of their files (pytest builds in temp homes; they write build/ci-home, target/, logs/)
checks: $(STAMP)
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory dbt-ci
	$(MAKE) --no-print-directory docs-generate

clean: ## remove generated state (keeps .venv)
	rm -rf build target logs data

test-spark: $(SPARK_STAMP) ## build the project on Spark (local PySpark) and on DuckDB, compare every mart
	@command -v java >/dev/null || [ -n "$$JAVA_HOME" ] || { \
		echo "make test-spark: Spark needs Java 17 (java on PATH or JAVA_HOME);" \
			"e.g. apt-get install openjdk-17-jre-headless" >&2; exit 2; }
	$(BIN)/python -m chatbatch_dev.spark_compare --home $(CURDIR)/build/spark

bench: $(STAMP) ## the benchmark (SCALE=small|standard|large, FORMATS=v1,langfuse,otel; docs/benchmark.md)
	$(BIN)/chatbatch bench --scale $(or $(SCALE),small) --formats $(or $(FORMATS),v1)
