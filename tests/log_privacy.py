"""Pytest plugin: every test's captured logs and output must hold no clear number and no body.

tests/conftest.py imports the hooks below, so every test (including tests added later) is
checked: the stdout, stderr and log records pytest captured for it are scanned after its
teardown; a hit turns that test into an error. The bodies and sender numbers of every signed
webhook the tests build (twilio_fakes.api_event calls `remember`) are searched for verbatim;
any other E.164-looking number is a hit too, except the campaigns' own public decoy numbers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CAMPAIGNS_FILE = Path(__file__).resolve().parents[1] / "functions" / "decoy" / "campaigns.json"
MIN_BODY_LENGTH = 8  # shorter bodies ("STOP", "salut") are ordinary words, not evidence
# An unmasked number: +E.164, or its URL-encoded form; masked ones have '*' in the middle.
_E164 = re.compile(r"(?<![\w*])(?:\+|%2[Bb])[1-9]\d{7,14}(?!\d)")


def public_numbers() -> frozenset[str]:
    """The decoy numbers themselves: published on purpose, so allowed in output."""
    campaigns = json.loads(CAMPAIGNS_FILE.read_text(encoding="utf-8"))["campaigns"]
    return frozenset(n["number"] for c in campaigns
                     for n in c.get("numbers", [{"number": c.get("number")}]))


@dataclass
class PrivateData:
    """What the tests sent as Twilio would: the numbers and bodies that must never leak."""

    numbers: set[str] = field(default_factory=set)
    bodies: set[str] = field(default_factory=set)
    allowed: frozenset[str] = field(default_factory=public_numbers)

    def remember(self, form: dict[str, str]) -> None:
        for name in ("From", "Caller"):
            number = form.get(name, "")
            if re.fullmatch(r"\+?\d{8,15}", number) and number not in self.allowed:
                self.numbers.add(number)
        body = form.get("Body", "")
        # A bare alphanumeric token (a fuzzed 'CA0000...') can be a substring of a logged SID.
        if len(body.strip()) >= MIN_BODY_LENGTH and not body.isalnum():
            self.bodies.add(body)

    def leaks(self, text: str) -> list[str]:
        """What `text` reveals, masked for the report: clear numbers and known bodies."""
        hits = {m.group(0) for m in _E164.finditer(text)
                if m.group(0).replace("%2B", "+").replace("%2b", "+") not in self.allowed}
        for number in self.numbers:
            digits = number.lstrip("+")
            if re.search(rf"(?<!\d){re.escape(digits)}(?!\d)", text):
                hits.add(number)
        found = [_masked(hit) for hit in sorted(hits)]
        found += [f"message body {body[:3]!r}..." for body in sorted(self.bodies) if body in text]
        return found


def _masked(number: str) -> str:
    return number[:3] + "*" * max(len(number) - 5, 0) + number[-2:]


@dataclass
class Scan:
    tests: int = 0
    characters: int = 0
    failures: list[str] = field(default_factory=list)


PRIVATE = PrivateData()
SCAN = Scan()


def remember(form: dict[str, str]) -> None:
    """Called for every webhook form a test builds."""
    PRIVATE.remember(form)


def leaks_in_sections(sections: Iterable[tuple[str, str]]) -> list[str]:
    return [f"{title}: {hit}" for title, text in sections for hit in PRIVATE.leaks(text)]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if report.when != "teardown":
        return
    sections = [(t, c) for t, c in report.sections if t.startswith("Captured")]
    SCAN.tests += 1
    SCAN.characters += sum(len(c) for _, c in sections)
    hits = leaks_in_sections(sections)
    if hits and report.passed:
        SCAN.failures.append(item.nodeid)
        report.outcome = "failed"
        report.longrepr = ("log privacy: captured output reveals private data "
                           "(numbers must be masked, bodies never logged):\n  "
                           + "\n  ".join(dict.fromkeys(hits)))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under pytest-xdist each worker scans its own tests: hand the counts to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["log_privacy"] = {
            "tests": SCAN.tests, "characters": SCAN.characters, "failures": SCAN.failures,
            "numbers": sorted(PRIVATE.numbers), "bodies": sorted(PRIVATE.bodies)}


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: the controller adds up the workers'
def pytest_testnodedown(node, error) -> None:
    scanned = getattr(node, "workeroutput", {}).get("log_privacy")
    if scanned:
        SCAN.tests += scanned["tests"]
        SCAN.characters += scanned["characters"]
        SCAN.failures += scanned["failures"]
        PRIVATE.numbers.update(scanned["numbers"])
        PRIVATE.bodies.update(scanned["bodies"])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if SCAN.tests:
        terminalreporter.write_line(
            f"log privacy: {SCAN.tests} tests, {SCAN.characters:,} characters of captured "
            f"logs/output scanned for {len(PRIVATE.numbers)} sender numbers and "
            f"{len(PRIVATE.bodies)} bodies: {len(SCAN.failures)} leaking test(s)")
