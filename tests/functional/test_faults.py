"""The fault matrix (docs/faults.md): AWS and Twilio failures through the real handlers.

AWS faults replace HTTP attempts under botocore (its retries stay real); Twilio faults are
answers or dropped connections of the fake Messages API used by the real twilio client.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field

import pytest
from aws_faults import THROTTLED, error, timeout
from conftest import NOW, schedules
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ConnectTimeout, ReadTimeout
from twilio_fakes import HASH_KEY, api_event, call_form, new_sid, sms_form

from decoy import runtime, shield
from decoy.clock import utc_day
from decoy.outbound import SendInProgress
from decoy.phone import sender_key
from decoy_local.scheduler import fire_due, sqs_dead_letter
from decoy_local.template import load_template
from receiver.app import lambda_handler as receive
from sender.app import lambda_handler as send

HARASSER = "+33612345678"
DECOY = "+33939000001"
ALL_ATTEMPTS = runtime.BOTO_CONFIG.retries["total_max_attempts"]  # 3: botocore retries twice
# Scheduler invokes Lambda asynchronously: Lambda retries a failed event, then the DLQ.
LAMBDA_ASYNC_RETRIES = load_template()["Resources"]["SenderFunction"]["Properties"][
    "EventInvokeConfig"]["MaximumRetryAttempts"]


def one_line(body: str) -> bool:
    return "\n" not in body and "Traceback" not in body


def budget_used(aws) -> int:
    return shield.budget_used(aws.dynamodb, aws.stack.table_name, utc_day(NOW))


# --- receiver: what the webhook answers when DynamoDB, Scheduler or SSM fail ----------------


@dataclass(frozen=True)
class ReceiverFault:
    call: str
    fault: object
    times: int
    outcome: str  # the metric counted for the webhook
    scheduled: int  # schedules that exist afterwards
    attempts: int  # HTTP attempts botocore made for `call`
    log: str | None = None  # the warning that says why
    error: str | None = None  # the error code that warning names
    budget: int = 0  # daily budget units used afterwards
    status: int = 200
    route: str = "/sms"
    extra: dict = field(default_factory=dict)
    # False: a container that has seen this sender (its counter path: UpdateItem, then the
    # budget transaction). True: a sender's first message (one window+budget transaction).
    first_message: bool = False


RECEIVER_FAULTS = {
    "dynamodb throttled once": ReceiverFault(
        "dynamodb:UpdateItem", THROTTLED["dynamodb"], 1, "Scheduled", 1, 2, budget=1),
    "dynamodb throttled on every attempt": ReceiverFault(
        "dynamodb:UpdateItem", THROTTLED["dynamodb"], ALL_ATTEMPTS, "StoreFailed", 0, 3,
        "counter write failed, nothing scheduled",
        error="ProvisionedThroughputExceededException"),
    "dynamodb 500 on every attempt": ReceiverFault(
        "dynamodb:UpdateItem", error(500, "InternalServerError"), ALL_ATTEMPTS, "StoreFailed",
        0, 3, "counter write failed, nothing scheduled", error="InternalServerError"),
    "dynamodb unreachable (connect timeout)": ReceiverFault(
        "dynamodb:UpdateItem", timeout(), ALL_ATTEMPTS, "StoreFailed", 0, 3,
        "counter write failed, nothing scheduled", error="ConnectTimeoutError"),
    "dynamodb counted it but the answer timed out": ReceiverFault(
        "dynamodb:UpdateItem", timeout(applied=True), 1, "Scheduled", 1, 2, budget=1),
    "dynamodb ConditionalCheckFailed with no item (window restarted)": ReceiverFault(
        "dynamodb:UpdateItem", error(400, "ConditionalCheckFailedException"), 1, "Scheduled",
        1, 1, budget=1),
    "budget transaction throttled": ReceiverFault(
        "dynamodb:TransactWriteItems", error(
            400, "TransactionCanceledException",
            CancellationReasons=[{"Code": "ThrottlingError"}, {"Code": "None"}]),
        1, "StoreFailed", 0, 1, "counter write failed, nothing scheduled",
        error="TransactionCanceledException"),
    "budget transaction conflict": ReceiverFault(
        "dynamodb:TransactWriteItems", error(
            400, "TransactionCanceledException",
            CancellationReasons=[{"Code": "TransactionConflict"}, {"Code": "None"}]),
        1, "StoreFailed", 0, 1, "counter write failed, nothing scheduled"),
    "budget spent (ConditionalCheckFailed on the budget)": ReceiverFault(
        "dynamodb:TransactWriteItems", error(
            400, "TransactionCanceledException",
            CancellationReasons=[{"Code": "ConditionalCheckFailed"}, {"Code": "None"}]),
        1, "BlockedBudget", 0, 1),
    "budget reserved but the answer timed out": ReceiverFault(
        "dynamodb:TransactWriteItems", timeout(applied=True), 1, "Scheduled", 1, 2, budget=1),
    "scheduler ConflictException (schedule exists)": ReceiverFault(
        "scheduler:CreateSchedule", error(409, "ConflictException"), 1, "Duplicate", 0, 1,
        budget=1),
    "scheduler throttled once": ReceiverFault(
        "scheduler:CreateSchedule", THROTTLED["scheduler"], 1, "Scheduled", 1, 2, budget=1),
    "scheduler throttled on every attempt": ReceiverFault(
        "scheduler:CreateSchedule", THROTTLED["scheduler"], ALL_ATTEMPTS, "ScheduleFailed", 0,
        3, "schedule failed, nothing will be sent", budget=1, error="ThrottlingException"),
    "scheduler ServiceQuotaExceeded": ReceiverFault(
        "scheduler:CreateSchedule", error(402, "ServiceQuotaExceededException"), 1,
        "ScheduleFailed", 0, 1, "schedule failed, nothing will be sent", budget=1,
        error="ServiceQuotaExceededException"),
    "scheduler created it but the answer timed out": ReceiverFault(
        "scheduler:CreateSchedule", timeout(applied=True), 1, "Duplicate", 1, 2, budget=1),
    "scheduler unreachable (connect timeout)": ReceiverFault(
        "scheduler:CreateSchedule", timeout(), ALL_ATTEMPTS, "ScheduleFailed", 0, 3,
        "schedule failed, nothing will be sent", budget=1, error="ConnectTimeoutError"),
    "kill switch unreadable (SSM throttled)": ReceiverFault(
        "ssm:GetParameter", THROTTLED["ssm"], ALL_ATTEMPTS, "KillSwitch", 0, 3,
        "kill switch unreadable, failing closed"),
    "voice call while dynamodb is throttled": ReceiverFault(
        "dynamodb:UpdateItem", THROTTLED["dynamodb"], ALL_ATTEMPTS, "StoreFailed", 0, 3,
        "counter write failed, nothing scheduled", route="/voice"),
    "STOP while dynamodb is throttled (queued in Scheduler)": ReceiverFault(
        "dynamodb:UpdateItem", THROTTLED["dynamodb"], ALL_ATTEMPTS, "OptOutQueued", 1, 3,
        "opt-out not recorded, queued for the sender",
        error="ProvisionedThroughputExceededException", extra={"Body": "STOP"}),
    "first message: transaction throttled once": ReceiverFault(
        "dynamodb:TransactWriteItems", THROTTLED["dynamodb"], 1, "Scheduled", 1, 2, budget=1,
        first_message=True),
    "first message: transaction throttled on every attempt": ReceiverFault(
        "dynamodb:TransactWriteItems", THROTTLED["dynamodb"], ALL_ATTEMPTS, "StoreFailed", 0, 3,
        "counter write failed, nothing scheduled",
        error="ProvisionedThroughputExceededException", first_message=True),
    "first message: dynamodb unreachable (connect timeout)": ReceiverFault(
        "dynamodb:TransactWriteItems", timeout(), ALL_ATTEMPTS, "StoreFailed", 0, 3,
        "counter write failed, nothing scheduled", error="ConnectTimeoutError",
        first_message=True),
    "first message: written but the answer timed out": ReceiverFault(
        "dynamodb:TransactWriteItems", timeout(applied=True), 1, "Scheduled", 1, 2, budget=1,
        first_message=True),
    "first message: transaction conflict (falls back to the counter path)": ReceiverFault(
        "dynamodb:TransactWriteItems", error(
            400, "TransactionCanceledException",
            CancellationReasons=[{"Code": "TransactionConflict"}, {"Code": "None"}]),
        1, "Scheduled", 1, 2, budget=1, first_message=True),
    "first message: budget spent (ConditionalCheckFailed on the budget)": ReceiverFault(
        "dynamodb:TransactWriteItems", error(
            400, "TransactionCanceledException",
            CancellationReasons=[{"Code": "None"}, {"Code": "ConditionalCheckFailed"}]),
        1, "BlockedBudget", 0, 1, first_message=True),
}


def webhook(route: str, **extra: str) -> dict:
    if route == "/voice":
        return api_event("/voice", call_form(HARASSER, DECOY))
    return api_event("/sms", sms_form(HARASSER, DECOY, **extra))


@pytest.mark.parametrize("row", RECEIVER_FAULTS.values(), ids=RECEIVER_FAULTS.keys())
def test_receiver_fault_answers_and_schedules_at_most_once(
        row, aws, aws_faults, telemetry, lambda_context, at):
    if not row.first_message:
        runtime.get().memory.live.add(sender_key(HARASSER, HASH_KEY.encode()), NOW + 3600)
    aws_faults.fail(row.call, row.fault, row.times)

    response = receive(webhook(row.route, **row.extra), lambda_context)

    assert response["statusCode"] == row.status
    assert one_line(response["body"])
    if row.route == "/voice":
        # Fail closed on cost: a call we cannot count is not answered, so not billed.
        assert '<Reject reason="busy"/>' in response["body"]
    assert len(schedules(aws)) == row.scheduled
    assert aws_faults.attempts[row.call] == row.attempts
    assert telemetry.metrics()[row.outcome] == 1
    if row.log:
        assert telemetry.log(row.log)["level"] == "WARNING"
    if row.error:
        assert telemetry.log(row.log)["error"] == row.error
    assert budget_used(aws) == row.budget


def test_secrets_unavailable_answers_503_and_touches_no_table(
        aws, aws_faults, telemetry, lambda_context, at):
    aws_faults.fail("ssm:GetParameters", THROTTLED["ssm"], ALL_ATTEMPTS)

    response = receive(webhook("/sms"), lambda_context)

    assert response["statusCode"] == 503
    assert response["body"] == "temporarily unavailable"
    assert telemetry.log("secrets unavailable, webhook not verified")["level"] == "ERROR"
    assert telemetry.metrics()["SecretsUnavailable"] == 1
    assert aws_faults.attempts["dynamodb:UpdateItem"] == 0
    assert aws_faults.attempts["dynamodb:TransactWriteItems"] == 0
    assert schedules(aws) == []


def test_ssm_internal_error_on_secrets_answers_503(aws, aws_faults, lambda_context, at):
    # powertools swallows InternalServerError and returns no value at all for the batch
    aws_faults.fail("ssm:GetParameters", error(500, "InternalServerError"), ALL_ATTEMPTS)

    response = receive(webhook("/sms"), lambda_context)

    assert response["statusCode"] == 503
    assert schedules(aws) == []


def test_an_ambiguous_budget_write_never_lets_a_second_reply_past_the_budget(
        aws, aws_faults, lambda_context, at, monkeypatch):
    monkeypatch.setenv("DAILY_REPLY_BUDGET", "1")
    runtime.get.cache_clear()
    aws_faults.attach(runtime.get().dynamodb, runtime.get().scheduler,
                      runtime.get().ssm.client)
    aws_faults.fail("dynamodb:TransactWriteItems", timeout(applied=True))

    receive(webhook("/sms"), lambda_context)
    receive(api_event("/sms", sms_form("+33698765432", DECOY)), lambda_context)

    assert budget_used(aws) == 1
    assert [json.loads(s["Target"]["Input"])["to"] for s in schedules(aws)] == [HARASSER]


# --- sender: Twilio and AWS failures when a schedule fires ----------------------------------


def order(sid: str | None = None) -> dict:
    return {"v": 1, "campaign": "fr", "to": HARASSER,
            "sender_key": sender_key(HARASSER, b"test-hash-key-for-hmac"), "sid": sid or new_sid()}


@dataclass
class Fired:
    invocations: int
    dead_letters: list[dict]


def fire(aws, lambda_context, reply: dict) -> Fired:
    """Schedule `reply`, then let Scheduler + Lambda async retries + the DLQ do their part."""
    aws.scheduler.create_schedule(
        Name=f"reply-{reply['sid']}", GroupName=aws.stack.schedule_group,
        ScheduleExpression="at(2026-11-23T10:00:00)", FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": "arn:aws:lambda:eu-west-3:123456789012:function:decoy-sender",
                "RoleArn": "arn:aws:iam::123456789012:role/decoy-scheduler",
                "Input": json.dumps(reply)})
    invocations = []

    def invoke(event: dict) -> dict:
        invocations.append(event)
        return send(event, lambda_context)

    fire_due(aws.scheduler, aws.stack.schedule_group, NOW + 3600, invoke,
             sqs_dead_letter(aws.sqs, aws.stack.dlq_url), retries=LAMBDA_ASYNC_RETRIES,
             pause=lambda _: None)
    messages = aws.sqs.receive_message(QueueUrl=aws.stack.dlq_url, MaxNumberOfMessages=10,
                                       MessageAttributeNames=["All"]).get("Messages", [])
    return Fired(len(invocations), messages)


@dataclass(frozen=True)
class TwilioFault:
    # ("status", status, code[, created]), ("garble", body[, created]) or
    # ("drop", exception, accepted): created/accepted = Twilio made the message first
    fault: tuple
    times: int
    outcome: str | None  # the last invocation's outcome metric (None when it ended in the DLQ)
    invocations: int
    sent: int  # messages Twilio accepted
    dead_letter: bool = False
    retried: int = 0  # SendRetried metric
    list_failure: int | None = None  # the Messages list (the lookup) answers this status
    lookups: int = 0  # Messages list calls made


TWILIO_FAULTS = {
    "429 once": TwilioFault(("status", 429, 20429), 1, "Sent", 2, 1, retried=1),
    "429 on every attempt": TwilioFault(("status", 429, 20429), 3, None, 3, 0, True, 3),
    "500 once, before creating it": TwilioFault(("status", 500, 20500), 1, "Sent", 2, 1,
                                                retried=1, lookups=1),
    "503 on every attempt, nothing created": TwilioFault(("status", 503, None), 3, None, 3, 0,
                                                         True, 3, lookups=3),
    "502 after Twilio created it": TwilioFault(("status", 502, None, True), 1, "Sent", 1, 1,
                                               lookups=1),
    "504 after Twilio created it, the lookup fails": TwilioFault(
        ("status", 504, None, True), 1, "SendUncertain", 1, 1, list_failure=500, lookups=1),
    "500 before creating it, the lookup fails": TwilioFault(
        ("status", 500, 20500), 1, "SendUncertain", 1, 0, list_failure=503, lookups=1),
    "2xx with an HTML body after creating it": TwilioFault(
        ("garble", "<html>ok</html>", True), 1, "Sent", 1, 1, lookups=1),
    "2xx with cut JSON after creating it": TwilioFault(("garble", '{"sid": "SM', True), 1,
                                                       "Sent", 1, 1, lookups=1),
    "2xx with an empty body, nothing created": TwilioFault(("garble", "", False), 1, "Sent",
                                                           2, 1, retried=1, lookups=1),
    # JSON that is not a message object: twilio raises AttributeError (issue 23.5a).
    "201 with JSON null after creating it": TwilioFault(("garble", "null", True), 1, "Sent",
                                                        1, 1, lookups=1),
    "201 with JSON [] after creating it": TwilioFault(("garble", "[]", True), 1, "Sent", 1, 1,
                                                      lookups=1),
    "2xx with JSON \"OK\", nothing created": TwilioFault(("garble", '"OK"', False), 1, "Sent",
                                                         2, 1, retried=1, lookups=1),
    "21211 invalid To": TwilioFault(("status", 400, 21211), 1, "SendFailed", 1, 0),
    "21610 opted out": TwilioFault(("status", 400, 21610), 1, "SendFailed", 1, 0),
    "21408 no geo permission": TwilioFault(("status", 400, 21408), 1, "SendFailed", 1, 0),
    "connect timeout once": TwilioFault(("drop", ConnectTimeout, False), 1, "Sent", 2, 1,
                                        retried=1),
    "connect timeout on every attempt": TwilioFault(("drop", ConnectTimeout, False), 3, None,
                                                    3, 0, True, 3),
    "read timeout after Twilio accepted": TwilioFault(("drop", ReadTimeout, True), 1,
                                                      "Sent", 1, 1, lookups=1),
    "read timeout, Twilio never created it": TwilioFault(("drop", ReadTimeout, False), 1,
                                                         "Sent", 2, 1, retried=1, lookups=1),
    "connection reset after Twilio accepted": TwilioFault(
        ("drop", RequestsConnectionError, True), 1, "Sent", 1, 1, lookups=1),
    "connection reset after Twilio accepted, the lookup fails": TwilioFault(
        ("drop", RequestsConnectionError, True), 1, "SendUncertain", 1, 1, list_failure=500,
        lookups=1),
}


@pytest.mark.parametrize("row", TWILIO_FAULTS.values(), ids=TWILIO_FAULTS.keys())
def test_twilio_fault_is_retried_or_recorded_and_never_sent_twice(
        row, aws, twilio_api, telemetry, lambda_context, at):
    kind, first, *rest = row.fault
    if kind == "status":
        twilio_api.fail_next(first, code=rest[0], times=row.times,
                             created=bool(rest[1:] and rest[1]))
    elif kind == "garble":
        twilio_api.garble_next(first, times=row.times, created=rest[0])
    else:
        twilio_api.drop_next(first("injected"), accepted=rest[0], times=row.times)
    if row.list_failure:
        twilio_api.fail_list_next(row.list_failure)
    reply = order()

    fired = fire(aws, lambda_context, reply)

    assert fired.invocations == row.invocations
    assert len(twilio_api.sent) == row.sent
    assert twilio_api.lists == row.lookups
    assert len(fired.dead_letters) == int(row.dead_letter)
    metrics = telemetry.metrics()
    assert metrics["SendRetried"] == row.retried
    if row.dead_letter:
        (letter,) = fired.dead_letters
        assert json.loads(letter["Body"])["sid"] == reply["sid"]
        assert letter["MessageAttributes"]["ErrorCode"]["StringValue"] == "TransientSendError"
        assert telemetry.log("reply not sent, left to the retries")["level"] == "WARNING"
    else:
        assert metrics[row.outcome] == 1
        assert telemetry.log("reply handled")["outcome"] == row.outcome
    # Scheduler delivers at least once: a late duplicate never sends a second message.
    send(reply, lambda_context)
    assert len(twilio_api.sent) == (1 if row.dead_letter else row.sent)


def test_twilio_21610_records_the_opt_out_so_later_messages_get_nothing(
        aws, twilio_api, lambda_context, at):
    twilio_api.fail_next(400, 21610)
    reply = order()
    fire(aws, lambda_context, reply)
    at(NOW + 86400 * 2)  # a new window: only the opt-out can stop a reply now

    receive(webhook("/sms"), lambda_context)

    assert shield.is_opted_out(aws.dynamodb, aws.stack.table_name, reply["sender_key"],
                               NOW + 86400 * 2)
    assert schedules(aws) == []


def test_twilio_unreachable_connection_refused_is_retried_then_dead_lettered(
        aws, lambda_context, at, monkeypatch):
    with socket.socket() as probe:  # a loopback port with nobody listening: refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("TWILIO_API_BASE_URL", f"http://127.0.0.1:{port}")

    fired = fire(aws, lambda_context, order())

    assert fired.invocations == 1 + LAMBDA_ASYNC_RETRIES
    assert len(fired.dead_letters) == 1


@dataclass(frozen=True)
class SenderAwsFault:
    call: str
    fault: object
    times: int
    invocations: int
    outcome: str
    log: str  # the line that says what happened to the first invocation
    error: str | None = None


SENDER_AWS_FAULTS = {
    "opt-out check throttled": SenderAwsFault(
        "dynamodb:GetItem", THROTTLED["dynamodb"], ALL_ATTEMPTS, 2, "Sent",
        "reply not sent, left to the retries", "ProvisionedThroughputExceededException"),
    "idempotency record not written before the send": SenderAwsFault(
        "dynamodb:PutItem", THROTTLED["dynamodb"], ALL_ATTEMPTS, 2, "Sent",
        "reply not sent, left to the retries", "IdempotencyPersistenceLayerError"),
    "idempotency record not completed after the send": SenderAwsFault(
        "dynamodb:UpdateItem", THROTTLED["dynamodb"], ALL_ATTEMPTS, 1, "SendUnrecorded",
        "reply handled but its idempotency record stays in progress"),
    "kill switch unreadable": SenderAwsFault(
        "ssm:GetParameter", THROTTLED["ssm"], ALL_ATTEMPTS, 2, "Sent",
        "reply not sent, left to the retries", "TransientSendError"),
    "secrets unreadable": SenderAwsFault(
        "ssm:GetParameters", THROTTLED["ssm"], ALL_ATTEMPTS, 2, "Sent",
        "secrets unavailable, reply left to the retries"),
}


@pytest.mark.parametrize("row", SENDER_AWS_FAULTS.values(), ids=SENDER_AWS_FAULTS.keys())
def test_sender_aws_fault_is_retried_and_sends_at_most_once(
        row, aws, aws_faults, twilio_api, telemetry, lambda_context, at):
    aws_faults.fail(row.call, row.fault, row.times)

    fired = fire(aws, lambda_context, order())

    assert fired.invocations == row.invocations
    assert fired.dead_letters == []
    assert len(twilio_api.sent) == 1
    metrics = telemetry.metrics()
    assert metrics[row.outcome] == 1
    assert metrics["SendRetried"] == row.invocations - 1
    assert telemetry.log(row.log)["level"] in ("WARNING", "ERROR")
    if row.error:
        assert telemetry.log(row.log)["error"] == row.error


def test_a_sender_invoked_again_while_sending_does_not_send_twice(
        aws, twilio_api, lambda_context, at):
    reply = order()
    concurrent = []

    def second_invocation() -> None:
        try:
            send(reply, lambda_context)
        except SendInProgress as exc:  # raised: Lambda retries it later, when it is done
            concurrent.append(exc)

    twilio_api.during_next_send(second_invocation)

    first = send(reply, lambda_context)

    assert first["outcome"] == "Sent"
    assert len(concurrent) == 1
    assert len(twilio_api.sent) == 1
    assert send(reply, lambda_context)["outcome"] == "AlreadyHandled"  # the retry, later


def test_a_record_that_could_not_be_deleted_after_a_429_ends_in_the_dlq_not_in_silence(
        aws, aws_faults, twilio_api, telemetry, lambda_context, at):
    twilio_api.fail_next(429, 20429)  # nothing created
    aws_faults.fail("dynamodb:DeleteItem", THROTTLED["dynamodb"], ALL_ATTEMPTS)

    fired = fire(aws, lambda_context, order())

    assert twilio_api.sent == []
    assert fired.invocations == 1 + LAMBDA_ASYNC_RETRIES
    (letter,) = fired.dead_letters  # the lost order is visible: the DLQ alarm fires
    assert letter["MessageAttributes"]["ErrorCode"]["StringValue"] == "SendInProgress"
    assert telemetry.metrics()["SendInProgress"] == LAMBDA_ASYNC_RETRIES
