# The index of habits: `make help` lists every target.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
AUDIT_VENV := .venv-audit
# Each venv installs a hash-checked lock (locks/*.txt, `make lock` regenerates them from the
# requirements files) with uv, which tools/install.py bootstraps from python3 alone.
INSTALL := $(PY) tools/install.py

.DEFAULT_GOAL := help
.PHONY: help run demo test test-fast test-shifted lint format build validate audit bench bench-flood bench-first-reply campaigns cost kit ops lock docs screenshots clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# A requirements file newer than its lock: tools/install.py regenerates the lock if it is stale.
$(VENV)/.installed: locks/dev.txt requirements-dev.txt requirements.txt
	@$(INSTALL) $(VENV) $<

# `make run` (and demo, ops) needs only locks/run.txt, a subset of locks/dev.txt: faster.
$(VENV)/.run-installed: locks/run.txt
	@$(INSTALL) $(VENV) $<

$(SAM_VENV)/.installed: locks/sam.txt requirements-sam.txt
	@$(INSTALL) $(SAM_VENV) $<

$(AUDIT_VENV)/.installed: locks/audit.txt requirements-audit.txt requirements.txt
	@$(INSTALL) $(AUDIT_VENV) $<

lock:  ## regenerate the hash-checked locks/*.txt from requirements*.txt (uv pip compile)
	$(INSTALL) --lock

run: $(VENV)/.run-installed  ## the whole service locally: moto, handlers, scheduler loop, fake Twilio
	$(BIN)/python -m decoy_local.stack $(ARGS)

demo: $(VENV)/.run-installed  ## send signed webhooks to a running `make run`
	$(BIN)/python -m decoy_local.simulator demo $(ARGS)

# pytest-xdist: TEST_WORKERS processes, each test file in one of them (--dist loadfile: a module's
# fixtures, e.g. one `make run` stack, are built once); TEST_WORKERS=0 runs in this process.
TEST_WORKERS ?= 2
XDIST = -n $(TEST_WORKERS) --dist loadfile

# .venv-sam: tests/integration/test_deploy_guide.py checks the guide's sam commands with it.
test: $(VENV)/.installed $(SAM_VENV)/.installed  ## unit, functional and integration tests
	$(BIN)/python -m pytest $(XDIST) $(ARGS)

# The inner loop: the suite minus what starts processes (tests/integration: make run's stack,
# sam, chromium), marked `stack` by tests/conftest.py. `make test` runs everything.
test-fast: $(VENV)/.installed  ## the suite without the subprocess stack, sam or the browser (inner loop)
	$(BIN)/python -m pytest $(XDIST) -m "not stack" $(ARGS)

screenshots: $(VENV)/.installed  ## docs/console*.png: the browser test, saving the page (needs chromium)
	CONSOLE_SCREENSHOTS=docs $(BIN)/python -m pytest tests/integration/test_console_browser.py

# The suite must pass on any day and hour: run it with this process tree's clock moved
# (tests/shifted_clock/sitecustomize.py, time-machine), by default to a leap day's last seconds.
SHIFT_TO ?= 2028-02-29T23:59:50Z
test-shifted: $(VENV)/.installed  ## the suite again, its clock moved to SHIFT_TO (a leap day's last seconds)
	DECOY_CLOCK_SHIFT=$(SHIFT_TO) PYTHONPATH=tests/shifted_clock $(BIN)/python -m pytest $(XDIST) \
	  -W "ignore:Module already imported so cannot be rewritten:pytest.PytestAssertRewriteWarning" $(ARGS)

lint: $(VENV)/.installed  ## ruff on everything
	$(BIN)/ruff check .

format: $(VENV)/.installed  ## ruff format + import sort
	$(BIN)/ruff check --fix --select I .
	$(BIN)/ruff format .

campaigns: $(VENV)/.installed  ## validate campaigns.json (or ARGS=file) and print each reply's SMS segments
	PYTHONPATH=functions $(BIN)/python -m decoy.campaigns $(ARGS)

kit: $(VENV)/.run-installed  ## the venue kit: cards, poster, staff sheet per active number (kit/*.pdf; ARGS=--help)
	$(BIN)/python -m decoy_ops.kit $(ARGS)

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

# sam build needs python3.13 on PATH: tools/python313.py finds one (LAMBDA_PYTHON, PATH, pyenv).
build: $(SAM_VENV)/.installed  ## sam build for python3.13/arm64 (no Docker needed)
	@py313=$$($(PY) tools/python313.py) || { echo "make build: cannot build without python3.13" >&2; exit 1; }; \
	echo "sam build with $$py313/python3.13"; \
	PATH="$$py313:$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build

bench: $(VENV)/.installed $(SAM_VENV)/.installed  ## benchmarks: print ratios measured in one run
	@if py313=$$($(PY) tools/python313.py); then $(MAKE) --no-print-directory build; else \
	  echo "WARNING: no python3.13: no sam build, the package-size and artifact rows are skipped"; fi
	@py313=$$($(PY) tools/python313.py 2>/dev/null); \
	LAMBDA_PYTHON=$${py313:+$$py313/python3.13} $(BIN)/python -m bench

bench-flood: $(VENV)/.installed  ## 100,000 SMS, call floods and the 2017 replay on moto: what is answered, sent, billed
	$(BIN)/python bench/flood.py

bench-first-reply:  ## git clone -> make run -> make demo -> first reply, cold and warm caches
	$(PY) bench/first_reply.py $(ARGS)

docs: $(VENV)/.installed  ## refresh the docs' generated blocks: a real make run + make demo, results files
	$(BIN)/python tools/docs.py $(ARGS)

cost: $(VENV)/.run-installed  ## the cost model's tables and worst case per day (docs/cost.md shows them)
	$(BIN)/python -m decoy_ops.costmodel $(ARGS)

preflight: $(VENV)/.run-installed  ## before and after a deploy: one line per check (ARGS=--local: make run's stack)
	$(BIN)/python -m decoy_ops preflight $(ARGS)

ops: $(VENV)/.run-installed  ## operate the deployed stack: ARGS="connect|stats|kill-switch on|off|status|off-air|preflight|kit"
	$(BIN)/python -m decoy_ops $(ARGS)

clean:  ## remove venvs and build output
	rm -rf $(VENV) $(SAM_VENV) $(AUDIT_VENV) .venv-tools .aws-sam
