"""The powertools Tracer is wired on both functions but loads the X-Ray SDK only when enabled."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from decoy import observability

ROOT = Path(__file__).resolve().parents[2]


def handler(event, context):
    return {"ok": event["n"]}


def test_tracer_off_leaves_the_handler_untouched(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    assert observability.traced(handler) is handler


def test_tracer_on_wraps_the_handler_and_still_answers(monkeypatch, lambda_context):
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "false")
    monkeypatch.setenv("AWS_XRAY_CONTEXT_MISSING", "IGNORE_ERROR")  # no X-Ray daemon here
    wrapped = observability.traced(handler)
    assert wrapped is not handler
    assert wrapped({"n": 7}, lambda_context) == {"ok": 7}


def test_template_switch_drives_the_tracer_in_both_functions():
    from decoy_local.template import load_template

    template = load_template()
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["POWERTOOLS_TRACE_DISABLED"] == {"Fn::If": ["TracerOn", "false", "true"]}
    assert template["Parameters"]["EnableTracer"]["Default"] == "false"


def test_enabled_tracer_is_the_only_way_the_receiver_loads_the_xray_sdk():
    code = "import receiver.app, sys; print('aws_xray_sdk' in sys.modules)"
    cwd = ROOT / "functions"
    off = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                         env={"POWERTOOLS_TRACE_DISABLED": "true", "PATH": ""}, check=True)
    on = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                        env={"POWERTOOLS_TRACE_DISABLED": "false", "PATH": "",
                             "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR"}, check=True)
    assert (off.stdout.strip(), on.stdout.strip()) == ("False", "True")
