# lightstage: `make repro` runs the pipeline, `make test` the tests. Both create
# .venv and install the pinned environment first, once (the stamp file below).
SHELL := /bin/bash
VENV := .venv
STAMP := $(VENV)/.installed
PYTHON ?= python3.11

export PATH := $(abspath $(VENV))/bin:$(PATH)
export DVC_NO_ANALYTICS := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120
export PREFECT_HOME ?= $(abspath .prefect)
export PREFECT_API_URL ?= http://127.0.0.1:4200/api

.PHONY: install repro test check flow ui serve clean-env

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt requirements-nodeps.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet -c constraints.txt -e '.[test]'
	$(VENV)/bin/python -m pip install --quiet --no-deps --require-hashes -r requirements-nodeps.txt
	$(VENV)/bin/python -m pipeline.warm  # head-model cache, ray-casting and closed-form matting kernels
	@touch $@

repro: $(STAMP)
	dvc repro

test: $(STAMP)
	python -m pytest

check: $(STAMP)  # after `make repro`: the data identical to the committed, metrics within their seed spread
	python -m pipeline.check

flow: $(STAMP)
	python -m pipeline.flow run

serve: $(STAMP)
	python -m pipeline.flow serve --cron "$(or $(CRON),0 3 * * *)"

ui: $(STAMP)
	mlflow ui --backend-store-uri sqlite:///$(abspath mlflow.db) --host 127.0.0.1 --port 5000

clean-env:
	rm -rf $(VENV)
