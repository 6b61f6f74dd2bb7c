"""The cost shield through the real handlers on moto: kill switch, daily budget, sender filter."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from conftest import NOW, schedules
from twilio_fakes import api_event, new_sid, sms_form

from decoy import runtime, shield
from decoy.clock import next_utc_midnight, utc_day
from decoy.settings import Settings
from decoy_local.scheduler import fire_due
from receiver.app import lambda_handler as receive
from sender.app import lambda_handler as send

DECOY = "+33939000001"
SENDERS = [f"+3361000{i:04d}" for i in range(20)]


@pytest.fixture
def sms(aws, lambda_context, at):
    """sms(sender) posts one signed SMS webhook from `sender` to the decoy number."""

    def post(sender: str) -> dict:
        return receive(api_event("/sms", sms_form(sender, DECOY)), lambda_context)

    return post


def fire(aws, context, now: float) -> list[str]:
    """Fire every schedule due at `now`; the sender's outcome for each."""
    outcomes: list[str] = []
    fire_due(aws.scheduler, aws.stack.schedule_group, now,
             lambda order: outcomes.append(send(order, context)["outcome"]))
    return outcomes


def kill_switch(aws, value: str) -> None:
    aws.ssm.put_parameter(Name=aws.env["KILL_SWITCH_PARAMETER"], Value=value, Type="String",
                          Overwrite=True)


def metrics(capsys) -> Counter[str]:
    """The service-wide EMF counts printed so far (the per-campaign copies left out)."""
    counts: Counter[str] = Counter()
    for line in capsys.readouterr().out.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        record = json.loads(line)
        if record["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]:
            for metric in record["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                value = record[metric["Name"]]
                counts[metric["Name"]] += int(sum(value) if isinstance(value, list) else value)
    return counts


def empty_twiml(response: dict) -> bool:
    return response["statusCode"] == 200 and response["body"].endswith("<Response/>")


# Kill switch

def test_kill_switch_on_schedules_nothing_and_writes_nothing(
        aws, sms, aws_calls, monkeypatch, capsys):
    monkeypatch.setenv("KILL_SWITCH_CACHE_SECONDS", "0")
    sms(SENDERS[0])
    kill_switch(aws, "on")
    calls = aws_calls()

    response = sms(SENDERS[1])

    assert empty_twiml(response)
    assert len(schedules(aws)) == 1
    assert dict(calls) == {"ssm:GetParameter": 1}  # the switch itself, no write
    assert metrics(capsys)["KillSwitch"] == 1


def test_warm_receiver_sees_the_kill_switch_once_its_cache_expires(aws, sms):
    sms(SENDERS[0])
    kill_switch(aws, "on")
    sms(SENDERS[1])  # within KillSwitchCacheSeconds: the cached "off" still holds
    runtime.get().ssm.clear_cache()  # the cache expiring

    sms(SENDERS[2])

    assert len(schedules(aws)) == 2


def test_warm_receiver_reads_the_kill_switch_again_when_the_clock_passes_its_cache(aws, sms, at):
    cache = runtime.get().settings.kill_switch_cache_seconds
    sms(SENDERS[0])  # reads "off" at NOW
    kill_switch(aws, "on")
    at(NOW + cache - 1)
    sms(SENDERS[1])  # the cached "off" still holds
    at(NOW + cache)

    sms(SENDERS[2])  # read again: "on"

    assert len(schedules(aws)) == 2


def test_kill_switch_stops_a_reply_already_scheduled_at_send_time(
        aws, twilio_api, lambda_context, sms):
    sms(SENDERS[0])  # the receiver now caches "off" in this same process
    kill_switch(aws, "on")

    outcomes = fire(aws, lambda_context, NOW + 3600)

    assert outcomes == ["KillSwitch"]
    assert twilio_api.sent == []


def test_kill_switch_back_off_lets_new_replies_through(aws, twilio_api, lambda_context, sms,
                                                       monkeypatch):
    monkeypatch.setenv("KILL_SWITCH_CACHE_SECONDS", "0")
    kill_switch(aws, "on")
    sms(SENDERS[0])
    kill_switch(aws, "off")

    sms(SENDERS[1])

    assert fire(aws, lambda_context, NOW + 3600) == ["Sent"]
    assert [m["To"] for m in twilio_api.sent] == [SENDERS[1]]


# Daily budget

def test_spent_budget_schedules_nothing_and_costs_no_aws_call_after_the_first_refusal(
        aws, sms, aws_calls, monkeypatch, capsys):
    monkeypatch.setenv("DAILY_REPLY_BUDGET", "2")
    sms(SENDERS[0])
    sms(SENDERS[1])
    calls = aws_calls()

    refused = sms(SENDERS[2])

    assert empty_twiml(refused)
    assert dict(calls) == {"dynamodb:TransactWriteItems": 1}  # first-message transaction refused
    calls.clear()
    for sender in SENDERS[3:10]:
        assert empty_twiml(sms(sender))
    assert dict(calls) == {}  # the container remembers the budget is spent
    assert len(schedules(aws)) == 2
    assert metrics(capsys)["BlockedBudget"] == 8


def test_budget_resets_at_the_next_utc_midnight(aws, sms, at, monkeypatch):
    monkeypatch.setenv("DAILY_REPLY_BUDGET", "1")
    sms(SENDERS[0])
    sms(SENDERS[1])  # refused: today's budget is spent
    midnight = next_utc_midnight(NOW)
    at(midnight - 1)
    sms(SENDERS[2])  # still today
    assert len(schedules(aws)) == 1

    at(midnight)
    sms(SENDERS[3])

    assert len(schedules(aws)) == 2
    table = aws.stack.table_name
    assert shield.budget_used(aws.dynamodb, table, utc_day(NOW)) == 1
    assert shield.budget_used(aws.dynamodb, table, utc_day(midnight)) == 1


def test_zero_budget_never_schedules_a_reply(aws, sms, monkeypatch):
    monkeypatch.setenv("DAILY_REPLY_BUDGET", "0")

    sms(SENDERS[0])

    assert schedules(aws) == []
    assert shield.budget_used(aws.dynamodb, aws.stack.table_name, utc_day(NOW)) == 0


def test_retry_racing_its_original_keeps_the_reservation_when_the_budget_is_exactly_spent(aws):
    ddb, table = aws.dynamodb, aws.stack.table_name
    limits = Settings.from_env().limits
    sid, other = new_sid(), new_sid()
    shield.record_message(ddb, table, "key-a", sid, NOW, limits)
    shield.record_message(ddb, table, "key-b", other, NOW, limits)

    assert shield.reserve_reply(ddb, table, "key-a", sid, NOW, budget=1)
    assert shield.reserve_reply(ddb, table, "key-a", sid, NOW, budget=1)  # the retry
    assert not shield.reserve_reply(ddb, table, "key-b", other, NOW, budget=1)
    assert shield.budget_used(ddb, table, utc_day(NOW)) == 1


def test_message_losing_the_race_to_restart_an_expired_window_is_counted_second(aws):
    ddb, table = aws.dynamodb, aws.stack.table_name
    limits = Settings.from_env().limits
    shield.record_message(ddb, table, "key", new_sid(), NOW, limits)
    later = NOW + limits.sender_window_seconds + 1  # expired, TTL has not deleted it
    winner, loser = new_sid(), new_sid()

    def winner_first(**_) -> None:  # the other message restarts the window in between
        ddb.meta.events.unregister("before-call.dynamodb.PutItem", winner_first)
        assert shield.record_message(ddb, table, "key", winner, later, limits).position == 1

    ddb.meta.events.register("before-call.dynamodb.PutItem", winner_first)
    decision = shield.record_message(ddb, table, "key", loser, later, limits)

    assert decision.verdict is shield.Verdict.ACCEPTED
    assert decision.position == 2


# Sender filter (SMS-pumping defense)

@pytest.mark.parametrize("sender", [
    "+447700900123",  # UK mobile: calling code not allowed for the "fr" campaign
    "+2348031234567",  # Nigeria: a classic SMS-pumping destination
    "+33140000000",  # French landline
    "36180",  # short code
    "PROMO",  # alphanumeric sender ID
    "+3361234",  # too short for E.164
])
def test_disallowed_sender_gets_empty_twiml_and_costs_no_aws_call(
        aws, sms, aws_calls, sender, capsys):
    sms(SENDERS[0])  # warm: secrets and kill switch cached
    calls = aws_calls()

    response = sms(sender)

    assert empty_twiml(response)
    assert sum(calls.values()) == 0
    assert len(schedules(aws)) == 1
    assert metrics(capsys)["BlockedCountry"] == 1
