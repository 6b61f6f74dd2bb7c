"""What importing a handler costs: no settings needed, and only the code that function runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT

PROBE = ("import {function}.app, json, sys; "
         "print(json.dumps(sorted(m for m in {mods!r} if m in sys.modules)))")
HEAVY = ("twilio.rest", "twilio.http", "requests", "aiohttp", "aws_xray_sdk")


def modules_loaded_by_import(function: str) -> list[str]:
    """Import <function>.app as Lambda does (from the task root), fresh interpreter, no env."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    out = subprocess.run([sys.executable, "-c", PROBE.format(function=function, mods=HEAVY)],
                         cwd=ROOT / "functions", env=env, check=True,
                         capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout)


def test_receiver_import_needs_no_environment_and_never_loads_the_twilio_rest_client():
    assert modules_loaded_by_import("receiver") == []


def test_sender_import_needs_no_environment_and_defers_the_twilio_client_to_the_first_send():
    assert modules_loaded_by_import("sender") == []


# Issue 21: INIT is billed (since 2025-08-01). A frozen dataclass generates and compiles its
# methods when its module is imported (~0.4 ms each on python3.13), and powertools'
# parameters package imports every provider (~9 ms): neither belongs in a handler's import.
DATACLASS_PROBE = """
import dataclasses, json, sys
made = []
_process = dataclasses._process_class
def _counting(cls, *args, **kwargs):
    made.append(cls.__module__ + "." + cls.__qualname__)
    return _process(cls, *args, **kwargs)
dataclasses._process_class = _counting
import {function}.app
print(json.dumps({{"ours": [m for m in made if m.split(".")[0] in ("decoy", "{function}")],
                  "parameters": "aws_lambda_powertools.utilities.parameters" in sys.modules}}))
"""


def import_probe(function: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    out = subprocess.run([sys.executable, "-c", DATACLASS_PROBE.format(function=function)],
                         cwd=ROOT / "functions", env=env, check=True,
                         capture_output=True, text=True, timeout=60)
    return json.loads(out.stdout)


def test_receiver_import_builds_no_dataclass_of_ours_and_skips_powertools_parameters():
    assert import_probe("receiver") == {"ours": [], "parameters": False}


def test_sender_import_skips_powertools_parameters():
    # decoy.offair's two records stay dataclasses: the sender is not under the 1.15x target
    assert import_probe("sender")["parameters"] is False
