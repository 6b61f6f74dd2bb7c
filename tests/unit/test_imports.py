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
