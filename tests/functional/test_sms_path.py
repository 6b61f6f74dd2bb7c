"""The core SMS path through the real handlers: signed webhook -> schedule -> fire -> one SMS."""

from __future__ import annotations

import json

from conftest import NOW, ROLE_ARN, SENDER_ARN, fire_all, schedules
from twilio_fakes import api_event, new_sid, sms_form

from decoy_local.scheduler import due_time
from receiver.app import lambda_handler as receive
from sender.app import lambda_handler as send

HARASSER = "+33612345678"
DECOY = "+33939000001"


def test_signed_sms_schedules_one_reply_an_hour_later_and_firing_it_sends_once(
        aws, twilio_api, lambda_context, at):
    form = sms_form(HARASSER, DECOY)
    response = receive(api_event("/sms", form), lambda_context)

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/xml"
    assert response["body"].endswith("<Response/>")
    (schedule,) = schedules(aws)
    assert schedule["Name"] == f"reply-{form['MessageSid']}"
    assert schedule["ScheduleExpression"] == "at(2026-11-23T10:00:00)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["Target"]["Arn"] == SENDER_ARN
    assert schedule["Target"]["RoleArn"] == ROLE_ARN
    assert schedule["Target"]["DeadLetterConfig"]["Arn"] == aws.stack.dlq_arn
    assert schedule["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 3
    order = json.loads(schedule["Target"]["Input"])
    assert order["to"] == HARASSER and order["campaign"] == "fr"
    assert HARASSER not in json.dumps(order["sender_key"])

    assert fire_all(aws, lambda_context, NOW + 3599) == []  # not due yet
    assert twilio_api.sent == []
    fired = fire_all(aws, lambda_context, due_time(schedule["ScheduleExpression"]))

    assert len(fired) == 1
    (message,) = twilio_api.sent
    assert message["To"] == HARASSER
    assert message["From"] == DECOY
    assert message["Body"].startswith("Bonjour ! Si vous lisez ce message")
    assert message["StatusCallback"].endswith("/status?campaign=fr")
    assert schedules(aws) == []  # deleted after completion, as ActionAfterCompletion=DELETE


def test_base64_and_plain_bodies_are_both_accepted(aws, lambda_context, at):
    plain = receive(api_event("/sms", sms_form("+33611111111", DECOY), base64_body=False),
                    lambda_context)
    encoded = receive(api_event("/sms", sms_form("+33622222222", DECOY)), lambda_context)
    assert plain["statusCode"] == encoded["statusCode"] == 200
    assert len(schedules(aws)) == 2


def test_second_message_in_window_schedules_no_second_reply(aws, lambda_context, at):
    receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)
    at(NOW + 600)
    response = receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)
    assert response["statusCode"] == 200
    assert len(schedules(aws)) == 1


def test_sixth_message_from_one_sender_schedules_nothing(aws, lambda_context, at, aws_calls):
    for i in range(5):
        at(NOW + i)
        receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)
    item = aws.dynamodb.scan(TableName=aws.stack.table_name)["Items"]
    (sender,) = [i for i in item if i["pk"]["S"].startswith("sender#")]
    assert len(sender["sids"]["L"]) == 5
    from decoy import runtime, shield
    runtime.get().memory.blocked = shield.BlockedSenders()  # a cold container: no memory of it
    calls = aws_calls()

    sixth = receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)

    assert sixth["body"].endswith("<Response/>")
    assert len(schedules(aws)) == 1
    assert dict(calls) == {"dynamodb:UpdateItem": 1}  # the refused conditional write only
    sender = aws.dynamodb.get_item(TableName=aws.stack.table_name, Key={"pk": sender["pk"]})
    assert len(sender["Item"]["sids"]["L"]) == 5


def test_forged_signature_gets_403_and_makes_no_aws_call(aws, lambda_context, at, aws_calls):
    receive(api_event("/sms", sms_form("+33633333333", DECOY)), lambda_context)  # warm up
    calls = aws_calls()
    forged = api_event("/sms", sms_form(HARASSER, DECOY), token="not-the-auth-token")

    response = receive(forged, lambda_context)

    assert response["statusCode"] == 403
    assert "signature" in response["body"].lower()
    assert sum(calls.values()) == 0
    assert len(schedules(aws)) == 1


def test_twilio_retry_of_same_message_sid_schedules_nothing_new(aws, lambda_context, at):
    form = sms_form(HARASSER, DECOY)
    receive(api_event("/sms", form), lambda_context)
    at(NOW + 15)
    retry = receive(api_event("/sms", form), lambda_context)
    assert retry["statusCode"] == 200
    assert [s["Name"] for s in schedules(aws)] == [f"reply-{form['MessageSid']}"]


def test_expired_counter_counts_as_new_even_if_ttl_has_not_deleted_it(
        aws, twilio_api, lambda_context, at):
    receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)
    fire_all(aws, lambda_context, NOW + 3600)
    window = int(aws.env["SENDER_WINDOW_SECONDS"])
    at(NOW + window + 1)  # moto's TTL never deletes: the old item is still there

    receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)

    assert len(schedules(aws)) == 1
    fire_all(aws, lambda_context, NOW + window + 3601)
    assert [m["To"] for m in twilio_api.sent] == [HARASSER, HARASSER]


def test_aws_calls_per_webhook(aws, lambda_context, at, aws_calls):
    """Warm container: accepted, duplicate, over-quota and forged webhooks."""
    receive(api_event("/sms", sms_form("+33644444444", DECOY)), lambda_context)  # warm up
    calls = aws_calls()

    def measure(event) -> dict[str, int]:
        calls.clear()
        receive(event, lambda_context)
        return dict(calls)

    first = sms_form(HARASSER, DECOY)
    assert measure(api_event("/sms", first)) == {  # window opened + budget taken in one write
        "dynamodb:TransactWriteItems": 1, "scheduler:CreateSchedule": 1}
    assert measure(api_event("/sms", sms_form(HARASSER, DECOY))) == {"dynamodb:UpdateItem": 1}
    assert measure(api_event("/sms", first)) == {"dynamodb:UpdateItem": 1,
                                                 "scheduler:CreateSchedule": 1}
    for _ in range(3):
        measure(api_event("/sms", sms_form(HARASSER, DECOY)))
    assert measure(api_event("/sms", sms_form(HARASSER, DECOY))) == {"dynamodb:UpdateItem": 1}
    assert measure(api_event("/sms", sms_form(HARASSER, DECOY))) == {}  # blocked in memory
    assert measure(api_event("/sms", sms_form(HARASSER, DECOY), token="forged")) == {}


def test_a_sender_invoked_twice_for_one_schedule_sends_once(aws, twilio_api, lambda_context):
    order = {"v": 1, "campaign": "fr", "to": HARASSER, "sender_key": "k" * 64,
             "sid": new_sid()}
    first = send(order, lambda_context)
    second = send(order, lambda_context)
    assert first["outcome"] == "Sent"
    assert second["outcome"] == "AlreadyHandled"
    assert len(twilio_api.sent) == 1


def test_the_reply_asks_twilio_to_drop_it_if_still_queued_after_the_validity_period(
        aws, twilio_api, lambda_context, at):
    receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)
    fire_all(aws, lambda_context, NOW + 3600)

    (message,) = twilio_api.sent
    assert message["ValidityPeriod"] == aws.env["REPLY_VALIDITY_PERIOD_SECONDS"] == "3600"
    assert "MaxPrice" not in message
