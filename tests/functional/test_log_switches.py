"""Whatever powertools' switches say (event logging, debug), every line the handlers print
is JSON, with no clear number and no message body.

The switches are read when powertools and our logger are imported, so the handlers run in a
fresh interpreter with them on: a webhook, then its reply fired against the fake Twilio API.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HARASSER = "+33612345678"
BODY = "salut, tu es libre ce soir ?"
EPOCH_MS = "1795424400000"  # requestContext.timeEpoch: 13 digits, looks like a number

SCRIPT = textwrap.dedent(f"""
    import json, sys
    sys.path[:0] = [{str(ROOT / 'functions')!r}, {str(ROOT)!r}, {str(ROOT / 'tests')!r}]
    import responses
    from conftest import REGION, SECRETS, NOW
    from decoy import clock
    from decoy_local.lambda_context import LambdaContext
    from decoy_local.template import mocked_stack
    from twilio_fakes import FakeTwilioApi, api_event, sms_form
    import os
    clock.now = lambda: NOW
    with mocked_stack(REGION, SECRETS) as (clients, stack, env):
        os.environ.update(env)
        from receiver.app import lambda_handler as receive
        from sender.app import lambda_handler as send
        from decoy.observability import logger
        logger.info("epoch", extra={{"at_ms": {EPOCH_MS}, "note": "t={EPOCH_MS}"}})
        receive(api_event("/sms", sms_form({HARASSER!r}, "+33939000001", {BODY!r})),
                LambdaContext())
        group = stack.schedule_group
        (name,) = [s["Name"] for s in clients["scheduler"].list_schedules(
            GroupName=group)["Schedules"]]
        order = json.loads(clients["scheduler"].get_schedule(
            Name=name, GroupName=group)["Target"]["Input"])
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            api = FakeTwilioApi(mock)
            send(order, LambdaContext())
            send(order, LambdaContext())  # a duplicate: the idempotency debug lines too
        assert len(api.sent) == 1, api.sent
""")


def run_with_switches_on() -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "POWERTOOLS_LOGGER_LOG_EVENT": "true", "POWERTOOLS_DEBUG": "true",
           "POWERTOOLS_LOG_LEVEL": "DEBUG", "POWERTOOLS_DEV": "false",
           "POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "eu-west-3",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    env.pop("AWS_ENDPOINT_URL", None)
    # -W: Python's own import-time warning (powertools announcing POWERTOOLS_DEBUG) is printed
    # before any of our code runs, and holds no data; everything after it is checked.
    return subprocess.run([sys.executable, "-W", "ignore::UserWarning", "-c", SCRIPT],
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def test_event_logging_and_debug_switches_on_every_line_is_private_json():
    done = run_with_switches_on()
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(lines) > 5  # the debug switch did make powertools talk
    for line in lines:
        record = json.loads(line)  # every line is JSON (Logs Insights, metric filters)
        assert isinstance(record, dict)
        assert HARASSER not in line and HARASSER[1:] not in line
        assert BODY not in line and "%2B33612345678" not in line
    assert "Event received" not in done.stdout + done.stderr  # never the event
    # numbers that are not phone numbers stay numbers: an epoch in ms is not masked
    (epoch,) = [json.loads(line) for line in lines if '"message":"epoch"' in line]
    assert epoch["at_ms"] == int(EPOCH_MS)
