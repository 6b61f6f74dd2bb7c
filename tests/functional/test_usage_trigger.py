"""POST /usage: a signed Twilio Usage Trigger turns the kill switch on and raises the alarm."""

from __future__ import annotations

import pytest
from aws_faults import error
from conftest import NOW, schedules
from twilio_fakes import api_event, call_form, parse_twiml, sms_form, usage_form

from receiver.app import lambda_handler as receive

DECOY = "+33939000001"


def kill_switch(aws) -> str:
    return aws.ssm.get_parameter(Name=aws.env["KILL_SWITCH_PARAMETER"])["Parameter"]["Value"]


def test_a_fired_usage_trigger_turns_the_kill_switch_on_and_everything_stops(
        aws, lambda_context, at, telemetry):
    receive(api_event("/sms", sms_form("+33611111111", DECOY)), lambda_context)  # warm: cached
    assert kill_switch(aws) == "off"

    response = receive(api_event("/usage", usage_form()), lambda_context)

    assert response["statusCode"] == 200
    assert kill_switch(aws) == "on"
    assert telemetry.metrics()["UsageTriggerFired"] == 1
    at(NOW + 1)  # this container re-reads the switch at once, whatever its cache
    sms = receive(api_event("/sms", sms_form("+33622222222", DECOY)), lambda_context)
    call = receive(api_event("/voice", call_form("+33633333333", DECOY)), lambda_context)
    assert sms["statusCode"] == 200
    assert [c.tag for c in parse_twiml(call["body"])] == ["Reject"]
    assert len(schedules(aws)) == 1  # only the message before the trigger


def test_a_forged_usage_callback_gets_403_and_leaves_the_switch_off(aws, lambda_context, at):
    response = receive(api_event("/usage", usage_form(), token="not-the-token"), lambda_context)
    assert response["statusCode"] == 403
    assert kill_switch(aws) == "off"


@pytest.mark.parametrize("sid", ["", "SM" + "0" * 32, "UT123"])
def test_a_usage_callback_without_a_trigger_sid_gets_400(sid, aws, lambda_context, at):
    response = receive(api_event("/usage", usage_form(sid=sid or None) | (
        {"UsageTriggerSid": sid} if not sid else {})), lambda_context)
    assert response["statusCode"] == 400
    assert kill_switch(aws) == "off"


def test_when_the_switch_cannot_be_written_the_callback_answers_503_and_still_alarms(
        aws_faults, lambda_context, at, telemetry, aws):
    aws_faults.fail("ssm:PutParameter", error(400, "AccessDeniedException"), 3)

    response = receive(api_event("/usage", usage_form()), lambda_context)

    assert response["statusCode"] == 503
    assert "by hand" in response["body"]
    metrics = telemetry.metrics()
    assert metrics["UsageTriggerFired"] == metrics["KillSwitchFailed"] == 1
    assert telemetry.log("usage trigger fired, kill switch NOT turned on")["level"] == "ERROR"
