"""The pip-audit gate fails on a vulnerability and never reports 'nothing audited' as a pass."""

from __future__ import annotations

import importlib.util
from pathlib import Path

GATE = Path(__file__).resolve().parents[2] / ".ci" / "pip_audit_gate.py"
_spec = importlib.util.spec_from_file_location("pip_audit_gate", GATE)
gate = importlib.util.module_from_spec(_spec)  # type: ignore[arg-type]
_spec.loader.exec_module(gate)  # type: ignore[union-attr]

CLEAN = {"name": "twilio", "version": "9.13.0", "vulns": []}
SKIPPED = {"name": "boto3", "skip_reason": "Dependency not found on PyPI"}
VULNERABLE = {"name": "requests", "version": "2.0.0",
              "vulns": [{"id": "PYSEC-2014-13", "fix_versions": ["2.3.0"]}]}


def test_a_known_vulnerability_fails_the_gate():
    code, lines = gate.verdict({"dependencies": [CLEAN, VULNERABLE]}, strict=False)
    assert code == 1
    assert lines == ["pip-audit: requests 2.0.0 is vulnerable: PYSEC-2014-13"]


def test_unreachable_database_warns_and_fails_only_when_strict():
    code, lines = gate.verdict({"dependencies": [SKIPPED]}, strict=False)
    assert code == 0
    assert "1 of 1 dependencies NOT audited" in lines[0]
    assert lines[-1] == "pip-audit: nothing audited"
    assert gate.verdict({"dependencies": [SKIPPED]}, strict=True)[0] == 1


def test_all_audited_and_clean_passes():
    assert gate.verdict({"dependencies": [CLEAN]}, strict=True) == (
        0, ["pip-audit: 1 dependencies audited, no known vulnerability"])
