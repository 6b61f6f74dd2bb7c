"""Calls share the SMS quota and budget; retries dedupe on CallSid; unknown numbers get 404."""

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


def test_calls_count_against_the_per_sender_quota(aws, lambda_context, at, aws_calls):
    for i in range(5):
        at(NOW + i)
        receive(api_event("/voice", call_form(HARASSER, DECOY)), lambda_context)
    calls = aws_calls()

    sixth = receive(api_event("/voice", call_form(HARASSER, DECOY)), lambda_context)

    assert parse_twiml(sixth["body"]).find("Say") is not None  # the voicemail never changes
    assert len(schedules(aws)) == 1
    assert "scheduler:CreateSchedule" not in calls


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


def test_withheld_caller_id_hears_the_voicemail_and_nothing_is_scheduled(
        aws, lambda_context, at):
    call = receive(api_event("/voice", call_form("anonymous", DECOY)), lambda_context)
    assert call["statusCode"] == 200
    assert parse_twiml(call["body"]).find("Say") is not None
    assert schedules(aws) == []


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
