# The index of habits: `make help` lists every target.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
AUDIT_VENV := .venv-audit
REQS := requirements.txt requirements-dev.txt $(wildcard functions/*/requirements.txt)

.DEFAULT_GOAL := help
.PHONY: help run demo test test-shifted lint format build validate audit bench bench-flood campaigns ops screenshots clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: $(REQS)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(SAM_VENV)/.installed: requirements-sam.txt
	$(PY) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-sam.txt
	touch $@

$(AUDIT_VENV)/.installed: requirements-audit.txt
	$(PY) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-audit.txt
	touch $@

run: $(VENV)/.installed  ## the whole service locally: moto, handlers, scheduler loop, fake Twilio
	$(BIN)/python -m decoy_local.stack $(ARGS)

demo: $(VENV)/.installed  ## send signed webhooks to a running `make run`
	$(BIN)/python -m decoy_local.simulator demo $(ARGS)

test: $(VENV)/.installed  ## unit, functional and integration tests
	$(BIN)/python -m pytest

screenshots: $(VENV)/.installed  ## docs/console*.png: the browser test, saving the page (needs chromium)
	CONSOLE_SCREENSHOTS=docs $(BIN)/python -m pytest tests/integration/test_console_browser.py

# The suite must pass on any day and hour: run it with this process tree's clock moved
# (tests/shifted_clock/sitecustomize.py, time-machine), by default to a leap day's last seconds.
SHIFT_TO ?= 2028-02-29T23:59:50Z
test-shifted: $(VENV)/.installed  ## the suite again, its clock moved to SHIFT_TO (a leap day's last seconds)
	DECOY_CLOCK_SHIFT=$(SHIFT_TO) PYTHONPATH=tests/shifted_clock $(BIN)/python -m pytest \
	  -W "ignore:Module already imported so cannot be rewritten:pytest.PytestAssertRewriteWarning" $(ARGS)

lint: $(VENV)/.installed  ## ruff on everything
	$(BIN)/ruff check .

format: $(VENV)/.installed  ## ruff format + import sort
	$(BIN)/ruff check --fix --select I .
	$(BIN)/ruff format .

campaigns: $(VENV)/.installed  ## validate campaigns.json (or ARGS=file) and print each reply's SMS segments
	PYTHONPATH=functions $(BIN)/python -m decoy.campaigns $(ARGS)

validate: $(SAM_VENV)/.installed  ## sam validate --lint, cfn-lint on the nested ops stack
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --lint
	$(SAM_VENV)/bin/cfn-lint infra/observability.yaml

# bandit: every severity, medium+ confidence (low-confidence hits are name-based guesses;
# ruff's S rules already cover those); a false positive is waived in place with `# nosec Bxxx`.
audit: $(SAM_VENV)/.installed $(AUDIT_VENV)/.installed  ## security gates: cfn-lint, checkov, bandit, pip-audit
	$(SAM_VENV)/bin/cfn-lint template.yaml
	$(AUDIT_VENV)/bin/checkov -f template.yaml --framework cloudformation --quiet --compact --skip-download
	$(AUDIT_VENV)/bin/bandit -q -r functions decoy_local -x tests --severity-level low --confidence-level medium
	$(AUDIT_VENV)/bin/python .ci/pip_audit_gate.py -r requirements.txt -r requirements-dev.txt

build: $(SAM_VENV)/.installed  ## sam build for python3.13/arm64 (no Docker needed)
	SAM_CLI_TELEMETRY=0 PYENV_VERSION=$${PYENV_VERSION:-3.11.7:3.13.0} $(SAM_VENV)/bin/sam build

bench: $(VENV)/.installed build  ## benchmarks: print ratios measured in one run
	PYENV_VERSION=$${PYENV_VERSION:-3.11.7:3.13.0} $(BIN)/python -m bench

bench-flood: $(VENV)/.installed  ## 100,000-webhook flood on moto: the cost shield's figures
	$(BIN)/python bench/flood.py

ops: $(VENV)/.installed  ## operate the deployed stack: ARGS="connect|stats|kill-switch on|off|status"
	$(BIN)/python -m decoy_ops $(ARGS)

clean:  ## remove venvs and build output
	rm -rf $(VENV) $(SAM_VENV) $(AUDIT_VENV) .aws-sam
