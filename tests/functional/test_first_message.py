"""A sender's first message opens the window and takes the budget in one transaction; every
other case falls back to the counted path without weakening the shield."""

from __future__ import annotations

from conftest import schedules
from twilio_fakes import api_event, call_form, sms_form

from decoy import runtime, shield
from receiver.app import lambda_handler as receive

DECOY = "+33939000001"
SENDER = "+33611223344"


def new_container() -> None:
    """Another warm Lambda container: same secrets and clients, no memory of any sender."""
    rt = runtime.get()
    rt.memory = shield.ShieldMemory()


def table_items(aws, prefix: str) -> list[dict]:
    items = aws.dynamodb.scan(TableName=aws.stack.table_name)["Items"]
    return [item for item in items if item["pk"]["S"].startswith(prefix)]


def budget_used(aws) -> int:
    return sum(int(item["used"]["N"]) for item in table_items(aws, "budget#"))


def test_next_message_on_another_container_is_counted_once_and_not_replied(
        aws, lambda_context, aws_calls):
    receive(api_event("/sms", sms_form(SENDER, DECOY)), lambda_context)
    new_container()
    calls = aws_calls()

    receive(api_event("/sms", sms_form(SENDER, DECOY)), lambda_context)

    assert dict(calls) == {"dynamodb:TransactWriteItems": 1, "dynamodb:UpdateItem": 1}
    (sender,) = table_items(aws, "sender#")
    assert len(sender["sids"]["L"]) == 2
    assert len(sender["reply_sids"]["SS"]) == 1
    assert budget_used(aws) == 1
    assert len(schedules(aws)) == 1


def test_twilio_retry_of_a_first_message_on_another_container_takes_no_second_budget_unit(
        aws, lambda_context, aws_calls):
    form = sms_form(SENDER, DECOY)
    receive(api_event("/sms", form), lambda_context)
    new_container()
    calls = aws_calls()

    receive(api_event("/sms", form), lambda_context)

    assert dict(calls) == {"dynamodb:TransactWriteItems": 1, "scheduler:CreateSchedule": 1}
    assert budget_used(aws) == 1
    assert len(schedules(aws)) == 1


def test_new_sender_when_budget_is_spent_writes_nothing_and_the_next_costs_no_call(
        aws, lambda_context, aws_calls, monkeypatch):
    monkeypatch.setenv("DAILY_REPLY_BUDGET", "1")
    receive(api_event("/sms", sms_form("+33655555555", DECOY)), lambda_context)
    calls = aws_calls()

    receive(api_event("/sms", sms_form(SENDER, DECOY)), lambda_context)
    refused = dict(calls)
    calls.clear()
    receive(api_event("/sms", sms_form("+33666666666", DECOY)), lambda_context)

    assert refused == {"dynamodb:TransactWriteItems": 1}
    assert dict(calls) == {}
    assert len(table_items(aws, "sender#")) == 1  # only the sender who got the budget's reply
    assert budget_used(aws) == 1
    assert len(schedules(aws)) == 1


def test_opted_out_sender_gets_nothing_from_a_container_that_never_saw_the_stop(
        aws, lambda_context, aws_calls):
    receive(api_event("/sms", sms_form(SENDER, DECOY, body="STOP")), lambda_context)
    warm_up = call_form("+33677777777", DECOY)
    receive(api_event("/voice", warm_up), lambda_context)
    new_container()
    calls = aws_calls()

    receive(api_event("/sms", sms_form(SENDER, DECOY)), lambda_context)

    assert dict(calls) == {"dynamodb:TransactWriteItems": 1}
    assert [s["Name"] for s in schedules(aws)] == [f"reply-{warm_up['CallSid']}"]
    assert budget_used(aws) == 1
    (stopped,) = [i for i in table_items(aws, "sender#") if "optout_until" in i]
    assert "sids" not in stopped


def test_a_zero_daily_budget_schedules_no_reply_at_all(aws, lambda_context, monkeypatch):
    monkeypatch.setenv("DAILY_REPLY_BUDGET", "0")

    receive(api_event("/sms", sms_form(SENDER, DECOY)), lambda_context)

    assert schedules(aws) == []
    assert budget_used(aws) == 0
