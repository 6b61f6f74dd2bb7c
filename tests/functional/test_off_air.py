"""Level 2, "off the air" (issue 22): a level-2 Usage Trigger's signed callback takes every
number off the air through Twilio's API, once; `connect --apply` puts them back and re-arms
the triggers; a call our API cannot answer falls back to the reject-busy Bin, unbilled.

Twilio: an SMS is billed when Twilio requests an SMS URL, none is requested when the number
has none (support article 223181528); a number's VoiceFallbackUrl is requested when its voice
URL fails ("Availability and reliability"); a trigger fires once per period.
"""

from __future__ import annotations

import re

import pytest
import responses
from aws_faults import error
from conftest import NOW, fire_all, schedule_inputs, schedules
from ops_stack import SMS_URL, VOICE_URL, deploy, runner
from twilio.base.exceptions import TwilioException
from twilio_fakes import FakeTwilioApi, api_event, usage_form

from decoy.campaigns import load_campaigns
from decoy_local.fake_twilio import REJECT_BUSY, Reply, TwilioCore
from decoy_local.webhooks import Answer
from receiver.app import lambda_handler as receive
from sender.app import lambda_handler as send

DECOY = "+33939000001"
BIN = "https://handler.twilio.com/twiml/EH" + "0" * 32


@pytest.fixture
def twilio(monkeypatch):
    """Every campaign number (pools, retired ones too) on one fake Twilio account."""
    monkeypatch.setenv("VOICE_REJECT_URL", BIN)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeTwilioApi(mock, numbers=load_campaigns().numbers())
        for number in load_campaigns().numbers():  # connected, with the Bin as fallback
            fake.number(number).update(sms_url=SMS_URL, voice_url=VOICE_URL,
                                       voice_fallback_url=BIN)
        yield fake


def level_two(sid: str | None = None) -> dict:
    return api_event("/usage", usage_form(sid, category="totalprice", trigger_by="price",
                                          value="244", current="251.3"), query="level=2")


def kill_switch(aws) -> str:
    return aws.ssm.get_parameter(Name=aws.env["KILL_SWITCH_PARAMETER"])["Parameter"]["Value"]


def answers_like_twilio(fake: TwilioCore, failing: set[str] = frozenset()) -> list[str]:
    """fake.post as Twilio's outgoing webhooks see the world: the Bin rejects, our API
    answers 200 TwiML unless its URL is in `failing` (then 429, as the stage throttle)."""
    posted: list[str] = []

    def post(url, form, token, timeout):
        posted.append(url)
        if url == BIN:
            return Answer(200, "text/xml", REJECT_BUSY)
        if url in failing:
            return Answer(429, "application/json", '{"message":"Too Many Requests"}')
        return Answer(200, "text/xml", "<Response/>")

    fake.post = post
    return posted


def test_a_level_two_trigger_takes_every_number_off_the_air_once(
        aws, twilio, lambda_context, at, telemetry):
    sid = "UT" + "a" * 32
    response = receive(level_two(sid), lambda_context)

    assert response["statusCode"] == 200
    assert kill_switch(aws) == "on"  # level 2 implies level 1
    assert schedule_inputs(aws) == [{"v": 1, "kind": "off_air", "trigger": sid}]
    assert twilio.updates == []  # the receiver never calls Twilio (no twilio.rest there)

    again = receive(level_two(sid), lambda_context)  # Twilio retries the callback
    assert again["statusCode"] == 200 and len(schedules(aws)) == 1

    fire_all(aws, lambda_context, NOW + 120)
    numbers = load_campaigns().numbers()
    assert len(numbers) == 7  # active and retired pool numbers: retired ones still answer
    for number in numbers:
        resource = twilio.number(number)
        assert (resource["sms_url"], resource["sms_fallback_url"]) == ("", "")
        assert (resource["voice_url"], resource["voice_fallback_url"]) == (BIN, BIN)
    metrics = telemetry.metrics()
    assert metrics["OffAirRequested"] == metrics["OffAir"] == 1
    assert "OffAirFailed" not in metrics

    posted = answers_like_twilio(twilio)
    assert twilio.text(DECOY, "+33612345678", "salut") is None  # no URL: nothing requested
    call = twilio.call(DECOY, "+33612345678")
    assert (call.answered_by, call.billed) == ("voice_url", False)  # the Bin rejects it
    assert posted == [BIN]
    assert twilio.usage["sms-inbound"] == twilio.usage["calls-inbound"] == 0

    at(NOW + 600)  # a late retry, after the order ran and its schedule was deleted
    assert receive(level_two(sid), lambda_context)["statusCode"] == 200
    assert schedules(aws) == []  # recorded once: nothing changes twice


def test_a_messaging_service_governing_the_numbers_is_emptied_a_shared_one_refused(
        aws, twilio, lambda_context, at, telemetry):
    ours = twilio.add_service([DECOY], inbound_request_url=SMS_URL)
    shared = twilio.add_service(["+3228000003", "+32470000000"], inbound_request_url=SMS_URL)
    deferring = twilio.add_service(["+447700900004"], use_inbound_webhook_on_number=True,
                                   inbound_request_url="https://example.org/other")
    assert twilio.sms_urls(DECOY) == (SMS_URL, "")  # the Service governs, not the number

    receive(level_two(), lambda_context)
    fire_all(aws, lambda_context, NOW + 120)

    assert twilio.service(ours)["inbound_request_url"] == ""
    assert twilio.sms_urls(DECOY) == ("", "")
    assert twilio.service(shared)["inbound_request_url"] == SMS_URL  # refused: not only ours
    assert twilio.service(deferring)["inbound_request_url"] == "https://example.org/other"
    assert twilio.sms_urls("+447700900004") == ("", "")  # its own number's URL governs
    metrics = telemetry.metrics()
    assert metrics["OffAir"] == metrics["OffAirRefused"] == 1
    assert telemetry.log("a Messaging Service serving other numbers was left on the air")


def test_when_twilio_fails_the_order_is_retried_then_alarmed_with_the_command(
        aws, twilio, lambda_context, at, telemetry):
    receive(level_two(), lambda_context)
    (order,) = schedule_inputs(aws)
    answer = twilio.handle

    def numbers_unavailable(method, path, query, form, authorization=""):
        if "IncomingPhoneNumbers" in path:
            return Reply(503, '{"code": 20503, "message": "Service Unavailable"}')
        return answer(method, path, query, form, authorization)

    twilio.handle = numbers_unavailable
    with pytest.raises(TwilioException):  # Lambda retries it, then the DLQ
        send(order, lambda_context)
    assert telemetry.metrics()["OffAirFailed"] == 1
    assert telemetry.log("numbers NOT taken off the air: retried, else do it by hand")[
        "by_hand"] == "python -m decoy_ops off-air --apply"


def test_when_the_order_cannot_be_queued_the_callback_says_what_to_run_by_hand(
        aws, aws_faults, twilio, lambda_context, at, telemetry):
    aws_faults.fail("scheduler:CreateSchedule", error(500, "InternalServerException"), 3)

    response = receive(level_two("UT" + "b" * 32), lambda_context)

    assert response["statusCode"] == 503
    assert "python -m decoy_ops off-air --apply" in response["body"]
    assert telemetry.metrics()["OffAirFailed"] == 1
    assert kill_switch(aws) == "on"
    # the marker was removed: Twilio's retry (or the next firing) can queue it
    assert receive(level_two("UT" + "b" * 32), lambda_context)["statusCode"] == 200
    assert len(schedules(aws)) == 1


@pytest.fixture
def stack(aws):
    return deploy(aws, {"VoiceRejectUrl": BIN})


@pytest.fixture
def ops(capsys, test_clock):
    return runner(capsys, test_clock)


def test_by_hand_off_air_then_status_then_connect_puts_them_back_and_rearms(
        stack, ops, twilio, aws):
    assert ops("connect", "--apply")[0] == 0  # both levels' triggers, the Bin as fallback
    assert all(n["voice_fallback_url"] == BIN for n in twilio.numbers())
    assert "numbers: on the air (7 number(s)" in ops("kill-switch", "status")[1]

    status, out, _ = ops("off-air")
    assert status == 0 and "would go off the air" in out and twilio.number(DECOY)["sms_url"]
    status, out, _ = ops("off-air", "--apply")
    assert status == 0 and "applied: 7 number(s)" in out
    assert ops("off-air", "--apply")[1].endswith("every number is already off the air\n")
    assert "numbers: OFF THE AIR, 7 of 7" in ops("kill-switch", "status")[1]

    answers_like_twilio(twilio)
    fired = [t["sid"] for t in twilio.triggers() if t["callback_url"].endswith("level=2")]
    assert all(twilio.fire_trigger(sid) is not None for sid in fired)
    assert all(twilio.fire_trigger(sid) is None for sid in fired)  # once per period

    status, out, _ = ops("connect", "--apply")

    assert status == 0
    assert "(7 back on the air)" in out
    assert "re-armed 2 usage trigger(s) that had already fired" in out
    assert "numbers: on the air" in ops("kill-switch", "status")[1]
    for number in load_campaigns().numbers():
        resource = twilio.number(number)
        assert (resource["sms_url"], resource["voice_url"], resource["voice_fallback_url"]) == (
            SMS_URL, VOICE_URL, BIN)
    rearmed = [t for t in twilio.triggers() if t["callback_url"].endswith("level=2")]
    assert len(rearmed) == 2 and not any(t.get("date_fired") for t in rearmed)


def test_connect_puts_a_governing_services_inbound_url_back_and_refuses_a_shared_one(
        stack, ops, twilio):
    ours = twilio.add_service([DECOY], inbound_request_url="")
    shared = twilio.add_service(["+3228000003", "+32470000000"], inbound_request_url="")

    status, out, _ = ops("connect", "--apply", "--no-usage-triggers")

    assert status == 0
    assert twilio.service(ours)["inbound_request_url"] == SMS_URL
    assert twilio.service(shared)["inbound_request_url"] == ""
    assert "REFUSED, it also serves 1 number(s) outside this stack" in out


def test_a_call_flood_above_the_stage_throttle_is_rejected_by_the_fallback_not_answered():
    """The stage throttle answers 429 past its burst; Twilio then requests the fallback."""
    fake = TwilioCore("AC" + "1" * 32, "token")
    fake.own([DECOY])
    fake.number(DECOY).update(voice_url=VOICE_URL, voice_fallback_url=BIN)
    bucket = {"tokens": 5}

    def post(url, form, token, timeout):
        if url == BIN:
            return Answer(200, "text/xml", REJECT_BUSY)
        if bucket["tokens"] == 0:  # API Gateway: {"message":"Too Many Requests"}
            return Answer(429, "application/json", '{"message":"Too Many Requests"}')
        bucket["tokens"] -= 1
        return Answer(200, "text/xml", "<Response><Say>Bonjour</Say></Response>")

    fake.post = post
    results = [fake.call(DECOY, f"+336123456{i:02d}") for i in range(60)]

    assert [r.answered_by for r in results].count("voice_url") == 5
    assert [r.answered_by for r in results].count("voice_fallback_url") == 55
    assert sum(r.billed for r in results) == 5 == fake.usage["calls-inbound"]

    fake.number(DECOY)["voice_fallback_url"] = ""  # without the Bin: Twilio's own answer
    unbinned = [fake.call(DECOY, "+33612345699") for _ in range(3)]
    assert {r.answered_by for r in unbinned} == {"twilio"} and all(r.billed for r in unbinned)


def test_with_dynamodb_failing_the_order_is_still_queued(
        aws, aws_faults, twilio, lambda_context, at, telemetry):
    """Fail closed on cost: a DynamoDB outage must not keep the numbers on the air."""
    aws_faults.fail("dynamodb:PutItem", error(500, "InternalServerError"), 3)

    response = receive(level_two("UT" + "c" * 32), lambda_context)

    assert response["statusCode"] == 200
    assert [i["kind"] for i in schedule_inputs(aws)] == ["off_air"]
    assert telemetry.metrics()["OffAirRequested"] == 1


def test_connect_and_off_air_summaries_speak_french(stack, ops, twilio):
    status, out, _ = ops("off-air", "--lang", "fr")
    assert status == 0
    assert out.splitlines()[-1] == ("essai à blanc\u202f: 7 numéro(s) ou Messaging Service(s) "
                                    "seraient débranchés\u202f; relancez avec --apply")
    assert ops("off-air", "--apply", "--lang", "fr")[1].splitlines()[-1] == (
        "fait\u202f: 7 numéro(s) ou Messaging Service(s) débranché(s)\u202f; `connect --apply` "
        "les rebranche")
    assert ops("off-air", "--apply", "--lang", "fr")[1].endswith(
        "tous les numéros sont déjà débranchés\n")

    status, out, _ = ops("connect", "--apply", "--lang", "fr")
    assert status == 0
    assert "fait\u202f: 7 numéro(s) dirigé(s) vers cette pile (7 rebranché(s)), 5 alerte(s) de " \
           "dépense modifiée(s)" in out


def test_off_air_and_the_rearming_connect_speak_french_on_every_line(
        stack, ops, twilio, monkeypatch):
    """--lang fr: the change lines, a refused shared Service, the re-armed line, the warning
    without a Bin; field names and Twilio's codes stay as they are."""
    english = re.compile(r"\b(will|would|missing|re-armed|already|REFUSED|serves|empty|warning|"
                         r"fired|usage trigger|applied|dry run|not)\b", re.I)
    assert ops("connect", "--apply")[0] == 0
    twilio.add_service(["+3228000003", "+32470000000"], inbound_request_url=SMS_URL)

    status, out, _ = ops("off-air", "--apply", "--lang", "fr")
    assert status == 1  # the shared Service is refused
    assert f"  sms_url\u202f: {SMS_URL} -> (vide)" in out.splitlines()
    assert re.search(r"^Messaging Service .+ \(MG\w+\)\u202f: REFUSÉ, il sert aussi 1 "
                     r"numéro\(s\) hors de cette pile\u202f: laissé tel quel", out, re.M)
    assert not english.search(out), english.search(out)
    again = ops("off-air", "--lang", "fr")[1]
    assert re.search(r"^\+\d+ \(PN\w+\)\u202f: déjà débranché$", again, re.M)
    assert not english.search(again), english.search(again)

    answers_like_twilio(twilio)
    for sid in [t["sid"] for t in twilio.triggers() if t["callback_url"].endswith("level=2")]:
        twilio.fire_trigger(sid)
    status, out, _ = ops("connect", "--apply", "--lang", "fr", "--no-usage-triggers")
    assert status == 0 and "réarmée" not in out  # no trigger planned, none re-armed
    status, out, _ = ops("connect", "--apply", "--lang", "fr")
    assert status == 0
    assert re.search(r"^alerte de dépense .*\u202f: déclenchée le .+, recréée pour la "
                     r"réarmer\u202f: sms count >= 5000 daily -> ", out, re.M)
    assert ("2 alerte(s) de dépense déjà déclenchée(s) réarmée(s) (Twilio déclenche une alerte "
            "une fois par période)\u202f: chacune se redéclenche aussitôt") in out
    assert not english.search(out), english.search(out)

    monkeypatch.delenv("VOICE_REJECT_URL")
    status, out, _ = ops("off-air", "--lang", "fr", "--voice-reject-url", "")
    assert out.startswith("avertissement\u202f: pas de VoiceRejectUrl\u202f: l'URL vocale des "
                          "numéros est vidée")
    assert not english.search(out), english.search(out)
