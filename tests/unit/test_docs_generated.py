"""The docs' figures and transcripts come from commands: each generated block equals its source."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from decoy.campaigns import load_campaigns
from decoy_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("docs_tool", ROOT / "tools" / "docs.py")
docs_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(docs_tool)
DOCS = docs_tool.DOCS
FENCE = re.compile(r"```[a-z]*\n(.*?)```", re.S)


def test_there_are_generated_blocks_where_figures_and_transcripts_drifted():
    sources = {path.relative_to(ROOT).as_posix(): [s for s, _ in docs_tool.blocks(
        path.read_text(encoding="utf-8"))] for path in DOCS}
    assert "file docs/transcripts/make-demo.txt" in sources["README.md"]
    assert "file bench/results/flood.txt" in sources["README.md"]
    assert "file docs/transcripts/make-run.txt" in sources["docs/local.md"]
    assert "template access-log-fields" in sources["docs/privacy.md"]
    assert "file bench/results/flood.txt" in sources["docs/cost.md"]


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_generated_block_equals_what_its_source_gives_now(path):
    text = path.read_text(encoding="utf-8")
    _, changed = docs_tool.refresh(text)

    assert not changed, f"{path.name}: {changed} drifted from their source: run `make docs`"


def test_the_transcripts_show_every_campaign_the_stack_runs():
    run = (ROOT / "docs" / "transcripts" / "make-run.txt").read_text(encoding="utf-8")
    line = next(line for line in run.splitlines() if line.strip().startswith("campaigns"))
    assert line.split(None, 1)[1] == ", ".join(f"{c.id} {c.number}" for c in load_campaigns())


def test_the_access_log_holds_no_source_ip_or_query():
    fields = docs_tool.produce("template access-log-fields")
    assert "$context.identity" not in fields and "rawQueryString" not in fields


def commands_in_docs() -> list[tuple[str, str]]:
    """(doc, line) for each line of a code block, and each `backticked` command in the text."""
    found = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        for block in FENCE.findall(text):
            found += [(path.name, line) for line in block.splitlines()]
        found += [(path.name, span) for span in re.findall(r"`([^`\n]+)`", FENCE.sub("", text))]
    return found


def test_docs_give_python_commands_that_work_from_a_clean_clone():
    bare = [(doc, line) for doc, line in commands_in_docs()
            if re.search(r"(?<![/\w])python3? -m decoy_(ops|local)", line)]
    assert not bare, "use `make ops ARGS=...` or `.venv/bin/python -m ...`: " + repr(bare)


def test_the_dlq_example_fails_exactly_the_senders_attempts():
    retries = int(load_template()["Resources"]["SenderFunction"]["Properties"]
                  ["EventInvokeConfig"]["MaximumRetryAttempts"])
    examples = [line for _, line in commands_in_docs() if "fail 500 --times" in line]
    assert examples
    for line in examples:
        assert re.search(r"--times (\d+)", line)[1] == str(retries + 1), line


# Paths the docs name that are made at run time or live inside an installed package.
NOT_IN_REPO = {".local/stack.json", "stack.json", "twilio/__init__.py", "request_validator.py",
               ".py", "functions.log", ".local/functions.log"}
SEARCHED = ["", "docs", "functions", "functions/decoy", "tests", "tests/unit", "tests/functional",
            "tests/integration", "bench"]


def test_docs_cite_only_files_in_the_repo():
    missing = []
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        # A path (a/b.py) or a project document (FACTS.md): what a reader would look for.
        for name in set(re.findall(r"(?<![\w/.])(?:[\w.-]+/)+[\w.-]+\.(?:py|md|json|yaml|toml|txt)"
                                   r"\b|\b[A-Z]+\.md\b", text)):
            if name in NOT_IN_REPO or name.startswith(("twilio.com", "aws.")):
                continue
            if not any((ROOT / base / name).exists() for base in SEARCHED):
                missing.append(f"{path.name}: {name}")
    assert not missing
