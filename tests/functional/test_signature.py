"""X-Twilio-Signature edge cases: the exact public URL and form Twilio signed, nothing else."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest
from conftest import NOW, schedules
from twilio_fakes import api_event, sign, sms_form

from decoy_local.scheduler import fire_due
from receiver.app import lambda_handler as receive
from sender.app import lambda_handler as send

DECOY = "+33939000001"
DOMAIN = "abc123.execute-api.eu-west-3.amazonaws.com"


def form() -> dict[str, str]:
    return sms_form("+33612345678", DECOY)


def with_body(event: dict, fields: dict[str, str]) -> dict:
    """The same signed event, its body replaced (as a tampering proxy would)."""
    body = urlencode(fields)
    return {**event, "body": base64.b64encode(body.encode()).decode()
            if event["isBase64Encoded"] else body}


def signed_for(url: str, fields: dict[str, str], **delivered) -> dict:
    """An event delivered as `delivered` describes, carrying a signature made for `url`."""
    return api_event("/sms", fields, signature=sign(url, fields), **delivered)


def answer(event: dict, context) -> int:
    response = receive(event, context)
    assert "\n" not in response["body"]
    return response["statusCode"]


def reordered(fields: dict[str, str]) -> dict[str, str]:
    return dict(reversed(fields.items()))


ACCEPTED = {
    "base64 body": lambda f: api_event("/sms", f),
    "plain body": lambda f: api_event("/sms", f, base64_body=False),
    "params reordered in the body": lambda f: with_body(api_event("/sms", f), reordered(f)),
    "named stage": lambda f: api_event("/sms", f, stage="prod"),
    "query string signed as sent": lambda f: api_event("/sms", f, query="a=1&b=2"),
    "signed with the default port": lambda f: signed_for(f"https://{DOMAIN}:443/sms", f),
    "http when the proxy says http": lambda f: {
        **(e := signed_for(f"http://{DOMAIN}/sms", f)),
        "headers": {**e["headers"], "x-forwarded-proto": "http", "x-forwarded-port": "80"}},
}

REFUSED = {
    "missing header": (lambda f: api_event("/sms", f, signature=""),
                       "missing X-Twilio-Signature"),
    "wrong auth token": (lambda f: api_event("/sms", f, token="another-token"),
                         "invalid X-Twilio-Signature"),
    "param added after signing": (
        lambda f: with_body(api_event("/sms", f), {**f, "NumMedia": "1", "MediaUrl0": "x"}),
        "invalid X-Twilio-Signature"),
    "param value changed": (
        lambda f: with_body(api_event("/sms", f), {**f, "From": "+33600000000"}),
        "invalid X-Twilio-Signature"),
    "signed for another path": (
        lambda f: signed_for(f"https://{DOMAIN}/voice", f), "invalid X-Twilio-Signature"),
    "signed for another stage": (
        lambda f: api_event("/sms", f, stage="dev", signature=sign(
            f"https://{DOMAIN}/prod/sms", f)), "invalid X-Twilio-Signature"),
    "query string added": (
        lambda f: signed_for(f"https://{DOMAIN}/sms", f, query="campaign=fr"),
        "invalid X-Twilio-Signature"),
    "query string reordered": (
        lambda f: signed_for(f"https://{DOMAIN}/sms?b=2&a=1", f, query="a=1&b=2"),
        "invalid X-Twilio-Signature"),
    "signed for http, delivered over https": (
        lambda f: signed_for(f"http://{DOMAIN}/sms", f), "invalid X-Twilio-Signature"),
    "signed for another host": (
        lambda f: signed_for("https://evil.example/sms", f), "invalid X-Twilio-Signature"),
}


@pytest.mark.parametrize("build", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_signature_over_the_exact_public_url_is_accepted(build, aws, lambda_context, at):
    assert answer(build(form()), lambda_context) == 200
    assert len(schedules(aws)) == 1


@pytest.mark.parametrize(("build", "reason"), REFUSED.values(), ids=REFUSED.keys())
def test_signature_not_matching_gets_403_and_makes_no_aws_call(
        build, reason, aws, lambda_context, at, aws_calls, telemetry):
    calls = aws_calls()  # before the first request: even the secrets read is counted
    event = build(form())
    calls.clear()
    response = receive(event, lambda_context)

    assert response["statusCode"] == 403
    assert response["body"] == reason
    assert set(calls) <= {"ssm:GetParameters"}  # the auth token itself, cached after
    assert schedules(aws) == []
    assert telemetry.metrics()["ForgedSignature"] == 1


def test_replayed_request_schedules_once_and_sends_once(aws, twilio_api, lambda_context, at):
    event = api_event("/sms", form())

    assert answer(event, lambda_context) == 200
    assert answer(event, lambda_context) == 200  # replay before the reply is due
    assert len(schedules(aws)) == 1
    fire_due(aws.scheduler, aws.stack.schedule_group, NOW + 3600,
             lambda order: send(order, lambda_context))
    at(NOW + 7200)
    assert answer(event, lambda_context) == 200  # replay after the reply went out
    fire_due(aws.scheduler, aws.stack.schedule_group, NOW + 7200 + 3600,
             lambda order: send(order, lambda_context))

    assert len(twilio_api.sent) == 1


def test_replay_late_in_a_long_window_still_sends_once(
        aws, twilio_api, lambda_context, at, monkeypatch):
    monkeypatch.setenv("SENDER_WINDOW_SECONDS", str(30 * 86400))  # longer than 3 days
    event = api_event("/sms", form())
    answer(event, lambda_context)
    fire_due(aws.scheduler, aws.stack.schedule_group, NOW + 3600,
             lambda order: send(order, lambda_context))
    late = at(NOW + 20 * 86400)  # moto never expires items: judged by the stored expiry

    answer(event, lambda_context)
    fire_due(aws.scheduler, aws.stack.schedule_group, late + 3600,
             lambda order: send(order, lambda_context))

    assert len(twilio_api.sent) == 1
