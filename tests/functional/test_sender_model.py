"""Model-based: for any sequence of Twilio answers to one order and any number of
deliveries of it (Scheduler is at-least-once, Lambda retries a raised error twice, then the
DLQ), the real sender sends at most one SMS, and an order left without its SMS is visible:
a dead letter, or a counted metric that an alarm watches (infra/observability.yaml).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest
from aws_faults import THROTTLED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ConnectTimeout, ReadTimeout
from test_faults import ALL_ATTEMPTS, LAMBDA_ASYNC_RETRIES
from twilio_fakes import new_sid

from decoy.phone import sender_key
from decoy_local.template import load_template
from sender.app import lambda_handler as send

MODEL = settings(max_examples=int(os.environ.get("SENDER_MODEL_EXAMPLES", "60")),
                 deadline=None, database=None, derandomize=bool(os.environ.get("CI")),
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])
# What Twilio may answer to one create: (name, how the fake plays it).
CREATE_ANSWERS = {
    "created": lambda api: api.succeed_next(),
    "429": lambda api: api.fail_next(429, 20429),
    "500, nothing created": lambda api: api.fail_next(500, 20500),
    "502 after creating it": lambda api: api.fail_next(502, None, created=True),
    "503 after creating it": lambda api: api.fail_next(503, 20503, created=True),
    "200 HTML after creating it": lambda api: api.garble_next(created=True),
    "201 cut JSON after creating it": lambda api: api.garble_next('{"sid":', 201, created=True),
    "200 empty, nothing created": lambda api: api.garble_next("", created=False),
    # JSON that is not a message object: twilio's MessageInstance raises AttributeError.
    "201 JSON null after creating it": lambda api: api.garble_next("null", 201, created=True),
    "201 JSON [] after creating it": lambda api: api.garble_next("[]", 201, created=True),
    "200 JSON \"OK\", nothing created": lambda api: api.garble_next('"OK"', created=False),
    "read timeout, nothing created": lambda api: api.drop_next(ReadTimeout("x")),
    "read timeout after creating it": lambda api: api.drop_next(ReadTimeout("x"),
                                                                accepted=True),
    "reset after creating it": lambda api: api.drop_next(RequestsConnectionError("x"),
                                                         accepted=True),
    "connect timeout": lambda api: api.drop_next(ConnectTimeout("x")),
    "21211 invalid To": lambda api: api.fail_next(400, 21211),
    "21610 opted out": lambda api: api.fail_next(400, 21610),
}
LIST_ANSWERS = {"listed": None, "500": 500, "429": 429, "reset": RequestsConnectionError("x")}
AWS_FAULTS = ("dynamodb:DeleteItem", "dynamodb:UpdateItem", "dynamodb:PutItem",
              "dynamodb:GetItem")
# Counted, and watched by an alarm: the SenderFailures alarm (SendFailed, SendUncertain,
# SendUnrecorded) or the DLQ alarm.
VISIBLE = ("SendFailed", "SendUncertain", "SendUnrecorded")
_numbers = itertools.count(10_000_000)


def test_the_visible_metrics_are_the_ones_the_sender_failures_alarm_watches():
    stack = load_template(Path(__file__).resolve().parents[2] / "infra" / "observability.yaml")
    alarm = stack["Resources"]["SenderFailuresAlarm"]["Properties"]["Metrics"]
    watched = {m["MetricStat"]["Metric"]["MetricName"] for m in alarm if "MetricStat" in m}
    assert set(VISIBLE) <= watched


@MODEL
@given(creates=st.lists(st.sampled_from(sorted(CREATE_ANSWERS)), max_size=6),
       lists=st.lists(st.sampled_from(sorted(LIST_ANSWERS)), max_size=4),
       faults=st.lists(st.sampled_from(AWS_FAULTS), max_size=2),
       deliveries=st.integers(1, 3))
def test_one_order_gets_at_most_one_sms_and_a_lost_one_is_visible(
        creates, lists, faults, deliveries, aws, twilio_api, aws_faults, telemetry,
        lambda_context, at):
    # `aws` before `twilio_api`: moto's own `responses` mock, started later, would hide the
    # fake Twilio API (every call would then fail to resolve api.twilio.com).
    to = f"+336{next(_numbers)}"
    order = {"v": 1, "campaign": "fr", "to": to, "sid": new_sid(),
             "sender_key": sender_key(to, b"test-hash-key-for-hmac")}
    twilio_api.failures.clear()
    twilio_api.list_failures.clear()
    aws_faults.plans.clear()
    telemetry.metrics()  # drop what earlier examples emitted
    for name in creates:
        CREATE_ANSWERS[name](twilio_api)
    for name in lists:
        twilio_api.fail_list_next(LIST_ANSWERS[name])
    for call in faults:
        aws_faults.fail(call, THROTTLED["dynamodb"], ALL_ATTEMPTS)

    dead_letters = 0
    for _ in range(deliveries):  # each delivery: one invocation and Lambda's retries
        for _attempt in range(1 + LAMBDA_ASYNC_RETRIES):
            try:
                send(order, lambda_context)
                break
            except Exception:  # noqa: S112 - Lambda retries whatever the handler raised
                continue
        else:
            dead_letters += 1

    sms = [m for m in twilio_api.sent if m["To"] == to]
    assert len(sms) <= 1, (creates, lists, faults)
    if creates[:1] in ([], ["created"]) and not faults:
        assert len(sms) == 1  # the model reaches the fake: a clean answer sends the SMS
    if not sms:
        metrics = telemetry.metrics()
        assert dead_letters or any(metrics[name] for name in VISIBLE), (creates, lists, faults,
                                                                        metrics)


def order_for(to: str) -> dict:
    return {"v": 1, "campaign": "fr", "to": to, "sid": new_sid(),
            "sender_key": sender_key(to, b"test-hash-key-for-hmac")}


def deliver_with_lambda_retries(order: dict, context) -> None:
    for _attempt in range(1 + LAMBDA_ASYNC_RETRIES):
        try:
            send(order, context)
            return
        except Exception:  # noqa: S112 - Lambda retries whatever the handler raised
            continue


@pytest.mark.parametrize("body", ["null", "[]", '"OK"', "201", "true", "{}"])
@pytest.mark.parametrize("created", [True, False], ids=["created", "not created"])
def test_a_2xx_json_answer_that_is_not_a_message_is_settled_by_asking_twilio(
        body, created, aws, twilio_api, telemetry, lambda_context, at):
    """Issue 23.5a: twilio's MessageInstance raised AttributeError on such a payload, which
    the sender did not treat as ambiguous: the error escaped, Lambda retried, and a message
    Twilio had created was sent a second time."""
    to = f"+336{next(_numbers)}"
    twilio_api.garble_next(body, 201, created=created)

    deliver_with_lambda_retries(order_for(to), lambda_context)

    assert len([m for m in twilio_api.sent if m["To"] == to]) == 1
    metrics = telemetry.metrics()
    assert metrics["Sent"] == 1
    assert metrics["SendResolved" if created else "SendRetried"] == 1
