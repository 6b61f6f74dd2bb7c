"""Calls share the SMS quota and budget; a call the shield would not answer is rejected busy
(unbilled); answered calls are bounded per day; retries dedupe on CallSid; unknown To: 404."""

from __future__ import annotations

import pytest
from conftest import NOW, fire_all, schedules
from twilio_fakes import api_event, call_form, parse_twiml, sms_form

from decoy import shield
from decoy.clock import utc_day
from receiver.app import lambda_handler as receive

HARASSER = "+33612345678"
DECOY = "+33939000001"


def budget_used(aws) -> int:
    return shield.budget_used(aws.dynamodb, aws.stack.table_name, utc_day(NOW))


def test_caller_who_then_texts_gets_one_reply_and_spends_one_budget_unit(
        aws, twilio_api, lambda_context, at):
    receive(api_event("/voice", call_form(HARASSER, DECOY)), lambda_context)
    at(NOW + 60)
    receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)

    assert len(schedules(aws)) == 1
    assert budget_used(aws) == 1
    fire_all(aws, lambda_context, NOW + 7200)
    assert [m["To"] for m in twilio_api.sent] == [HARASSER]


def test_texter_who_then_calls_still_hears_the_voicemail_but_gets_no_second_reply(
        aws, lambda_context, at):
    receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)
    at(NOW + 60)
    call = receive(api_event("/voice", call_form(HARASSER, DECOY)), lambda_context)

    assert parse_twiml(call["body"]).find("Say") is not None
    assert len(schedules(aws)) == 1
    assert budget_used(aws) == 1


def rejected_busy(response) -> bool:
    root = parse_twiml(response["body"])
    return [(c.tag, c.get("reason")) for c in root] == [("Reject", "busy")]


def calls_answered(aws) -> int:
    """Today's answered-call units, read from the calls#<day> item the receiver updates."""
    item = aws.dynamodb.get_item(TableName=aws.stack.table_name,
                                 Key=shield.calls_pk(utc_day(NOW))).get("Item", {})
    return int(item["used"]["N"]) if "used" in item else 0


def test_calls_within_the_quota_hear_the_voicemail_and_the_sixth_is_rejected_busy(
        aws, lambda_context, at, aws_calls):
    answers = []
    for i in range(5):
        at(NOW + i)
        answers.append(receive(api_event("/voice", call_form(HARASSER, DECOY)), lambda_context))
    calls = aws_calls()

    sixth = receive(api_event("/voice", call_form(HARASSER, DECOY)), lambda_context)

    assert all(parse_twiml(a["body"]).find("Say") is not None for a in answers)
    assert rejected_busy(sixth)
    assert len(schedules(aws)) == 1
    assert calls_answered(aws) == 5
    assert "scheduler:CreateSchedule" not in calls


def test_a_first_call_costs_one_dynamodb_call_like_a_first_sms(
        aws, lambda_context, at, aws_calls):
    receive(api_event("/sms", sms_form("+33622222222", DECOY)), lambda_context)  # warm up
    calls = aws_calls()

    receive(api_event("/voice", call_form(HARASSER, DECOY)), lambda_context)

    dynamodb = {name: n for name, n in calls.items() if name.startswith("dynamodb:")}
    assert dynamodb == {"dynamodb:TransactWriteItems": 1}  # window + reply + call unit
    assert calls_answered(aws) == 1
    assert budget_used(aws) == 2


def test_once_the_daily_call_allowance_is_spent_every_call_is_rejected_busy(
        aws, lambda_context, at, monkeypatch, aws_calls):
    monkeypatch.setenv("DAILY_ANSWERED_CALL_BUDGET", "2")
    answers = [receive(api_event("/voice", call_form(f"+3361111111{i}", DECOY)), lambda_context)
               for i in range(4)]
    calls = aws_calls()
    fifth = receive(api_event("/voice", call_form("+33611111119", DECOY)), lambda_context)

    assert [rejected_busy(a) for a in answers] == [False, False, True, True]
    assert rejected_busy(fifth)
    assert sum(calls.values()) == 0  # the spent allowance is remembered until UTC midnight
    assert calls_answered(aws) == 2
    assert len(schedules(aws)) == 2  # a rejected call is not answered: no reply either


def test_a_zero_call_allowance_rejects_every_call_and_writes_nothing(
        aws, lambda_context, at, monkeypatch):
    monkeypatch.setenv("DAILY_ANSWERED_CALL_BUDGET", "0")
    assert rejected_busy(receive(api_event("/voice", call_form(HARASSER, DECOY)), lambda_context))
    assert calls_answered(aws) == 0
    assert schedules(aws) == []


def test_a_call_with_the_kill_switch_on_is_rejected_busy(aws, lambda_context, at):
    aws.ssm.put_parameter(Name=aws.env["KILL_SWITCH_PARAMETER"], Value="on", Overwrite=True)
    assert rejected_busy(receive(api_event("/voice", call_form(HARASSER, DECOY)), lambda_context))
    assert calls_answered(aws) == 0
    assert schedules(aws) == []


def test_a_call_from_a_caller_who_opted_out_is_rejected_busy(aws, lambda_context, at):
    receive(api_event("/sms", sms_form(HARASSER, DECOY, body="STOP")), lambda_context)
    at(NOW + 60)
    assert rejected_busy(receive(api_event("/voice", call_form(HARASSER, DECOY)), lambda_context))
    assert calls_answered(aws) == 0


@pytest.mark.parametrize("caller", ["+447700900123", "+33139000000", "anonymous", "36665"])
def test_a_call_from_a_disallowed_or_withheld_number_is_rejected_busy_without_aws_calls(
        caller, aws, lambda_context, at, aws_calls):
    receive(api_event("/sms", sms_form("+33622222222", DECOY)), lambda_context)  # warm up
    calls = aws_calls()
    assert rejected_busy(receive(api_event("/voice", call_form(caller, DECOY)), lambda_context))
    assert sum(calls.values()) == 0


def test_a_call_when_the_daily_budget_is_spent_hears_the_voicemail_and_schedules_nothing(
        aws, lambda_context, at, monkeypatch):
    monkeypatch.setenv("DAILY_REPLY_BUDGET", "1")
    receive(api_event("/sms", sms_form("+33611111111", DECOY)), lambda_context)

    call = receive(api_event("/voice", call_form(HARASSER, DECOY)), lambda_context)

    assert parse_twiml(call["body"]).find("Say") is not None
    assert len(schedules(aws)) == 1
    assert budget_used(aws) == 1


def test_twilio_retry_of_the_same_call_sid_schedules_once_and_answers_twice(
        aws, lambda_context, at):
    form = call_form(HARASSER, DECOY)
    first = receive(api_event("/voice", form), lambda_context)
    at(NOW + 15)
    retry = receive(api_event("/voice", form), lambda_context)

    assert first["body"] == retry["body"]
    assert [s["Name"] for s in schedules(aws)] == [f"reply-{form['CallSid']}"]
    assert budget_used(aws) == 1


@pytest.mark.parametrize(("route", "form"), [
    ("/sms", sms_form(HARASSER, "+33939999999")),
    ("/voice", call_form(HARASSER, "+33939999999")),
])
def test_unknown_to_number_gets_404_naming_the_misconfiguration_and_makes_no_aws_call(
        route, form, aws, lambda_context, at, aws_calls):
    receive(api_event("/sms", sms_form("+33622222222", DECOY)), lambda_context)  # warm up
    calls = aws_calls()

    response = receive(api_event(route, form), lambda_context)

    assert response["statusCode"] == 404
    assert "no campaign for To=" in response["body"]
    assert "campaigns.json" in response["body"]
    assert sum(calls.values()) == 0
    assert len(schedules(aws)) == 1
