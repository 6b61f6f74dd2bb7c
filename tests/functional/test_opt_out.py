"""STOP (any keyword, or Advanced Opt-Out's OptOutType) and Twilio's 21610: never again."""

from __future__ import annotations

import pytest
from conftest import NOW, campaign_entry, fire_all, schedule_inputs, schedules
from twilio_fakes import HASH_KEY, api_event, call_form, sms_form

from decoy import shield
from decoy.phone import sender_key
from receiver.app import lambda_handler as receive
from sender.app import lambda_handler as send

HARASSER = "+33612345678"
DECOY = "+33939000001"


def opted_out(aws, number: str, now: float) -> bool:
    key = sender_key(number, HASH_KEY.encode())
    return shield.is_opted_out(aws.dynamodb, aws.stack.table_name, key, now)


@pytest.mark.parametrize("body", ["STOP", "Arrêt"])  # every keyword: tests/unit/test_keywords
def test_stop_cancels_the_pending_reply_and_the_sender_refuses_an_order_fired_anyway(
        body, aws, twilio_api, lambda_context, at):
    receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)
    (pending,) = schedule_inputs(aws)  # the order as the scheduler would deliver it
    at(NOW + 300)

    response = receive(api_event("/sms", sms_form(HARASSER, DECOY, body=body)),
                       lambda_context)

    assert response["statusCode"] == 200
    assert schedules(aws) == []  # the pending schedule was deleted
    assert opted_out(aws, HARASSER, NOW + 300)
    # A schedule created before the STOP (e.g. the delete raced it) still fires: re-checked.
    assert send(pending, lambda_context)["outcome"] == "OptedOut"
    assert twilio_api.sent == []


def test_advanced_opt_out_type_stop_is_honoured_whatever_the_body(
        aws, twilio_api, lambda_context, at):
    receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)
    receive(api_event("/sms", sms_form(HARASSER, DECOY, body="Laissez-moi tranquille",
                                       OptOutType="STOP")), lambda_context)
    assert schedules(aws) == []
    fire_all(aws, lambda_context, NOW + 7200)
    assert twilio_api.sent == []


def test_after_stop_nothing_is_ever_scheduled_for_that_sender_by_sms_or_call(
        aws, lambda_context, at):
    receive(api_event("/sms", sms_form(HARASSER, DECOY, body="STOP")), lambda_context)
    window = int(aws.env["SENDER_WINDOW_SECONDS"])
    for t in (NOW + 60, NOW + window + 60):  # in this window and in the next
        at(t)
        receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)
        receive(api_event("/voice", call_form(HARASSER, DECOY)), lambda_context)
    assert schedules(aws) == []


def test_stop_from_one_sender_leaves_other_senders_replies_pending(aws, lambda_context, at):
    receive(api_event("/sms", sms_form("+33611111111", DECOY)), lambda_context)
    receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)
    receive(api_event("/sms", sms_form(HARASSER, DECOY, body="stop")), lambda_context)
    assert [o["to"] for o in schedule_inputs(aws)] == ["+33611111111"]


def test_twilio_21610_at_send_records_the_sender_as_opted_out(
        aws, twilio_api, lambda_context, at):
    receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)
    (order,) = schedule_inputs(aws)
    twilio_api.fail_next(400, 21610)
    at(NOW + 3600)

    result = send(order, lambda_context)

    assert (result["outcome"], result["error_code"]) == ("SendFailed", 21610)
    assert twilio_api.sent == []
    assert opted_out(aws, HARASSER, NOW + 3600)
    window = int(aws.env["SENDER_WINDOW_SECONDS"])
    at(NOW + window + 60)  # a new window: a plain sender would get a reply again
    receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)
    assert [o["sid"] for o in schedule_inputs(aws)] == [order["sid"]]  # only the fired one


def test_help_without_a_help_text_is_an_ordinary_message(aws, twilio_api, lambda_context, at):
    receive(api_event("/sms", sms_form(HARASSER, DECOY, body="AIDE")), lambda_context)
    fire_all(aws, lambda_context, NOW + 3600)
    (message,) = twilio_api.sent
    assert message["Body"].startswith("Bonjour ! Si vous lisez ce message")


def test_help_on_a_campaign_with_a_help_text_gets_it_within_the_normal_quota(
        aws, twilio_api, lambda_context, at, campaigns_file):
    number = "+33939000013"
    campaigns_file(campaign_entry("helpful", number, help_reply="Numero automatique, sans suite."))
    receive(api_event("/sms", sms_form(HARASSER, number, body="HELP")), lambda_context)
    receive(api_event("/sms", sms_form("+33611111111", number, body="salut",
                                       OptOutType="")), lambda_context)
    receive(api_event("/sms", sms_form(HARASSER, number, body="aide")), lambda_context)

    assert len(schedules(aws)) == 2  # the second HELP is over the one-reply quota
    fire_all(aws, lambda_context, NOW + 3600)
    bodies = {m["To"]: m["Body"] for m in twilio_api.sent}
    assert bodies == {HARASSER: "Numero automatique, sans suite.",
                      "+33611111111": "Reponse de helpful."}


def test_stop_after_the_reply_was_sent_is_recorded_without_error(
        aws, twilio_api, lambda_context, at):
    receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)
    fire_all(aws, lambda_context, NOW + 3600)
    at(NOW + 3700)  # the usual case: he reads the reply, then texts STOP

    response = receive(api_event("/sms", sms_form(HARASSER, DECOY, body="STOP")),
                       lambda_context)

    assert response["statusCode"] == 200
    assert opted_out(aws, HARASSER, NOW + 3700)
    assert len(twilio_api.sent) == 1


# --- a STOP while DynamoDB fails: queued in Scheduler, never lost (decoy.optout) ------------

STOP_BODIES = ["STOP", "ARRÊT", "Arrête", "arret", "STOPP", "stop all", "Unsubscribe",
               "cancel", "END", "quit", "REVOKE", "optout"]


@pytest.mark.parametrize("body", STOP_BODIES)
def test_a_stop_dynamodb_cannot_record_is_queued_and_no_reply_goes_out_meanwhile(
        body, aws, aws_faults, twilio_api, telemetry, lambda_context, at):
    from aws_faults import THROTTLED

    from decoy import inbound, runtime

    assert inbound.is_stop(body)
    receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)  # reply due +1 h
    at(NOW + 3590)
    aws_faults.fail("dynamodb:UpdateItem", THROTTLED["dynamodb"], 3)  # every botocore try

    response = receive(api_event("/sms", sms_form(HARASSER, DECOY, body=body)),
                       lambda_context)

    assert response["statusCode"] == 200
    assert telemetry.metrics()["OptOutQueued"] == 1
    assert not opted_out(aws, HARASSER, NOW + 3590)  # not recorded yet...
    # another container:
    runtime.get().memory.blocked.discard(sender_key(HARASSER, HASH_KEY.encode()))
    # ...the reply fires first (due at +3600, the queued STOP at +3650): refused
    (reply,) = fire_all(aws, lambda_context, NOW + 3600)
    assert reply["sid"] != ""
    assert twilio_api.sent == []
    # the queued STOP fires: recorded for good, its marker gone
    fire_all(aws, lambda_context, NOW + 3700)
    assert opted_out(aws, HARASSER, NOW + 3700)
    assert schedules(aws) == []
    at(NOW + 86400 * 2)  # a new window: only the opt-out stops a reply now
    receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)
    assert schedules(aws) == []
    assert twilio_api.sent == []


def test_the_sender_refuses_a_reply_when_it_cannot_tell_whether_a_stop_is_queued(
        aws, aws_faults, twilio_api, lambda_context, at):
    from aws_faults import THROTTLED
    from botocore.exceptions import ClientError

    receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)
    (order,) = schedule_inputs(aws)
    aws_faults.fail("scheduler:GetSchedule", THROTTLED["scheduler"], 3)

    with pytest.raises(ClientError):  # raised: Lambda retries it; nothing sent meanwhile
        send(order, lambda_context)
    assert twilio_api.sent == []
    assert send(order, lambda_context)["outcome"] == "Sent"


def test_a_stop_neither_dynamodb_nor_scheduler_can_take_is_counted_and_logged_as_lost(
        aws, aws_faults, telemetry, lambda_context, at):
    from aws_faults import THROTTLED

    aws_faults.fail("dynamodb:UpdateItem", THROTTLED["dynamodb"], 3)
    aws_faults.fail("scheduler:CreateSchedule", THROTTLED["scheduler"], 3)

    response = receive(api_event("/sms", sms_form(HARASSER, DECOY, body="STOP")),
                       lambda_context)

    assert response["statusCode"] == 200
    assert telemetry.metrics()["OptOutFailed"] == 1  # the fail-closed alarm watches it
    assert telemetry.log("opt-out lost: neither recorded nor queued")["level"] == "ERROR"


def test_a_queued_stop_recorded_between_the_senders_two_checks_still_stops_the_reply(
        aws, twilio_api, lambda_context, at):
    """Issue 23.5b. A STOP queued during a DynamoDB outage fires (record the opt-out, then
    delete the marker) while the sender is checking. Whichever check the sender makes first,
    the STOP is recorded right after it: the sender must still refuse. With DynamoDB's
    opt-out read first and the marker second, both were missed and the reply went out."""
    from decoy import optout, runtime
    from decoy.settings import ScheduleTarget

    receive(api_event("/sms", sms_form(HARASSER, DECOY)), lambda_context)
    (order,) = schedule_inputs(aws)
    key = sender_key(HARASSER, HASH_KEY.encode())
    at(NOW + 300)
    optout.queue_opt_out(aws.scheduler, ScheduleTarget.from_env(), key, "SM" + "f" * 32,
                         NOW + 300)
    queued = {"v": 1, "kind": "opt_out", "sender_key": key, "sid": "SM" + "f" * 32}
    rt, fired = runtime.get(), []

    def the_queued_stop_fires(model, **_):
        name = f"{model.service_model.service_name}:{model.name}"
        if not fired and name in ("dynamodb:GetItem", "scheduler:GetSchedule"):
            fired.append(name)
            optout.record_queued_opt_out(queued, aws.dynamodb, aws.scheduler,
                                         aws.stack.table_name, aws.stack.schedule_group,
                                         NOW + 300, rt.settings.limits.opt_out_seconds)

    for client in (rt.dynamodb, rt.scheduler):
        client.meta.events.register("after-call.*.*", the_queued_stop_fires)

    result = send(order, lambda_context)

    assert fired, "the sender made neither check"
    assert (result["outcome"], twilio_api.sent) == ("OptedOut", [])
    assert opted_out(aws, HARASSER, NOW + 300)
