"""The fake Twilio API answers the real twilio client as Twilio's Messages and numbers APIs do.

Every test runs on both transports of the one fake: its HTTP server (make run) and the
`responses` adapter the pytest fixtures use.
"""

from __future__ import annotations

import base64
import datetime

import pytest
import responses
from requests.exceptions import ConnectTimeout, ReadTimeout
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from decoy import offair
from decoy_local.fake_twilio import (
    APPLICATION_ERROR,
    DEMO_SMS_URL,
    FakeTwilio,
    TwilioCore,
    attach_responses,
    number_sid,
)
from decoy_local.webhooks import Answer
from decoy_ops import connect

SID, TOKEN = "AC" + "1" * 32, "fake-token"
DECOY = "+33939000001"


@pytest.fixture(params=["http", "responses"])
def fake(request):
    if request.param == "http":
        fake = FakeTwilio(SID, TOKEN).start()
        yield fake
        fake.stop()
        return
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = attach_responses(TwilioCore(SID, TOKEN), mock, "https://api.twilio.com")
        fake.url = "https://api.twilio.com"  # type: ignore[attr-defined]
        yield fake


def client(fake: FakeTwilio, token: str = TOKEN) -> Client:
    c = Client(SID, token)
    c.api.base_url = fake.url
    return c


def test_the_real_client_sends_and_the_outbox_records_the_message(fake):
    message = client(fake).messages.create(to="+33612345678", from_="+33939000001",
                                           body="Bonjour")

    assert message.sid.startswith("SM")
    assert message.status == "queued"
    (recorded,) = fake.messages()
    assert recorded["to"] == "+33612345678"
    assert recorded["from"] == "+33939000001"
    assert recorded["sid"] == message.sid
    assert recorded["num_segments"] == 1


def test_a_wrong_auth_token_gets_twilios_401(fake):
    with pytest.raises(TwilioRestException) as error:
        client(fake, token="wrong").messages.create(to="+33612345678", from_="+3393", body="x")

    assert error.value.status == 401
    assert error.value.code == 20003
    assert fake.messages() == []


@pytest.mark.parametrize(("error", "status", "code"), [(429, 429, 20429), (500, 500, 20500),
                                                       (21610, 400, 21610)])
def test_it_can_be_told_to_fail_the_next_send(fake, error, status, code):
    fake.fail_next(error)

    with pytest.raises(TwilioRestException) as raised:
        client(fake).messages.create(to="+33612345678", from_="+33939000001", body="x")
    client(fake).messages.create(to="+33612345678", from_="+33939000001", body="x")

    assert (raised.value.status, raised.value.code) == (status, code)
    assert len(fake.messages()) == 1


def test_a_carrier_error_is_accepted_then_reported_undelivered(fake):
    fake.fail_next(30007)

    client(fake).messages.create(to="+33612345678", from_="+33939000001", body="x")

    (recorded,) = fake.messages()
    assert (recorded["status"], recorded["error_code"]) == ("undelivered", 30007)


def test_an_unknown_error_is_refused(fake):
    with pytest.raises(ValueError, match="unsupported error"):
        fake.fail_next(12345)


def test_the_ops_command_finds_and_repoints_a_number_the_fake_owns(fake):
    fake.own([DECOY, "+3228000003"])
    wanted = connect.wanted_settings("http://127.0.0.1:3000/sms", "http://127.0.0.1:3000/voice")

    found = offair.find_number(client(fake), DECOY)
    plan = offair.Change("number", DECOY, found.sid, offair.changes(found, wanted))
    offair.apply(client(fake), plan)

    assert found.sid == number_sid(DECOY)
    assert set(plan.changes) == {"sms_url", "voice_url"}
    numbers = {n["phone_number"]: n for n in fake.numbers()}
    assert numbers[DECOY]["sms_url"] == "http://127.0.0.1:3000/sms"
    assert numbers[DECOY]["voice_url"] == "http://127.0.0.1:3000/voice"
    assert numbers[DECOY]["friendly_name"] == DECOY
    assert numbers["+3228000003"]["sms_url"] == DEMO_SMS_URL
    assert offair.changes(offair.find_number(client(fake), DECOY), wanted) == {}


def test_a_number_the_account_does_not_own_is_not_listed(fake):
    fake.own([DECOY])
    assert offair.find_number(client(fake), "+33939000009") is None


def test_the_numbers_api_wants_the_accounts_credentials(fake):
    fake.own([DECOY])

    with pytest.raises(TwilioException) as listing:  # a page it cannot read: not a RestException
        client(fake, token="wrong").incoming_phone_numbers.list(phone_number=DECOY)
    with pytest.raises(TwilioRestException) as updating:
        client(fake, token="wrong").incoming_phone_numbers(number_sid(DECOY)).update(
            sms_url="https://example.invalid/sms")

    assert (listing.value.args[1].status_code, updating.value.status) == (401, 401)
    assert fake.numbers()[0]["sms_url"] == DEMO_SMS_URL


def test_connects_usage_triggers_are_created_kept_and_replaced_through_the_real_client(fake):
    c = client(fake)
    url = "http://127.0.0.1:3000/usage"
    wanted = connect.wanted_triggers(2500, 250, 122)

    for plan in connect.plan_triggers(c.usage.triggers.list(), wanted, url):
        connect.apply_trigger(c, plan, url)
    again = connect.plan_triggers(c.usage.triggers.list(), wanted, url)
    changed = connect.plan_triggers(c.usage.triggers.list(),
                                    connect.wanted_triggers(900, 250, 122), url)
    for plan in changed:
        connect.apply_trigger(c, plan, url)

    assert [p.action for p in again] == ["keep", "keep", "keep"]
    assert [p.action for p in changed] == ["replace", "keep", "keep"]
    triggers = sorted((t["usage_category"], t["trigger_by"], t["recurring"], t["trigger_value"])
                      for t in fake.triggers())
    assert triggers == [("calls-inbound", "usage", "daily", "250"),
                        ("sms", "count", "daily", "900"), ("totalprice", "price", "daily", "122")]
    assert {t["callback_url"] for t in fake.triggers()} == {url}


def test_it_can_create_the_message_then_answer_a_5xx_and_list_it(fake):
    fake.fail_next(502, created=True)

    with pytest.raises(TwilioRestException) as raised:
        client(fake).messages.create(to="+33612345678", from_=DECOY, body="x")

    assert raised.value.status == 502
    (listed,) = client(fake).messages.list(to="+33612345678", from_=DECOY, limit=20)
    assert listed.sid == fake.messages()[0]["sid"]
    assert listed.body == "x"
    assert client(fake).messages.list(to="+33600000000", limit=20) == []


@pytest.mark.parametrize(("error", "raised"), [
    ("garbage", ValueError), ("reset", ConnectionError)])
def test_it_can_create_the_message_then_answer_garbage_or_drop_the_connection(
        fake, error, raised):
    import requests

    fake.fail_next(error, created=True)

    with pytest.raises((raised, requests.exceptions.ConnectionError)):
        client(fake).messages.create(to="+33612345678", from_=DECOY, body="x")

    assert len(fake.messages()) == 1


def test_the_real_sender_sends_once_when_the_fake_created_it_then_answered_504(fake):
    from decoy import outbound

    fake.fail_next(504, created=True)
    params = {"to": "+33612345678", "from_": DECOY, "body": "Bonjour"}
    import time

    result = outbound._send(client(fake), params, time.time())

    assert result["outcome"] == "Sent"
    assert result["message_sid"] == fake.messages()[0]["sid"]
    assert len(fake.messages()) == 1


def test_a_timeout_after_creating_it_is_bounded_and_created_false_leaves_no_message(fake):
    fake.fail_next("timeout", created=False, seconds=0)
    fake.fail_next(503)  # nothing created

    for _ in range(2):
        with pytest.raises((TwilioRestException, ConnectionError, OSError)):
            client(fake).messages.create(to="+33612345678", from_=DECOY, body="x")

    assert fake.messages() == []
    with pytest.raises(ValueError):
        fake.fail_next(21211, created=True)  # a 4xx never comes after a creation


def test_a_garbled_answer_carries_the_chosen_body_and_the_message_exists(fake):
    fake.garble_next('{"sid": "SM', 201)

    with pytest.raises(ValueError):
        client(fake).messages.create(to="+33612345678", from_=DECOY, body="x")

    assert len(fake.messages()) == len(fake.sent) == 1
    assert fake.attempts == 1


def test_a_dropped_connection_before_or_after_creating_it(fake):
    fake.drop_next(ConnectTimeout("x"))
    fake.drop_next(ReadTimeout("x"), accepted=True)

    for _ in range(2):
        with pytest.raises(OSError):
            client(fake).messages.create(to="+33612345678", from_=DECOY, body="x")

    assert len(fake.messages()) == 1


def test_a_send_during_another_one_and_a_failing_list_then_a_normal_one(fake):
    fake.during_next_send(lambda: client(fake).messages.create(to="+33611111111",
                                                               from_=DECOY, body="first"))
    fake.fail_list_next(503)

    client(fake).messages.create(to="+33612345678", from_=DECOY, body="second")
    with pytest.raises(TwilioException):
        client(fake).messages.list(to="+33612345678", limit=20)

    assert [m["body"] for m in fake.messages()] == ["first", "second"]
    assert [m.body for m in client(fake).messages.list(limit=20)] == ["second", "first"]
    assert client(fake).messages.list(date_sent_after=datetime.datetime(2026, 1, 1),
                                      limit=20) == []  # queued: no date_sent yet
    assert fake.lists == 3


def test_the_older_status_and_code_form_of_fail_next_still_reads_as_such(fake):
    fake.fail_next(400, 21408)
    fake.fail_next(502, None, created=True)

    statuses = []
    for _ in range(2):
        with pytest.raises(TwilioRestException) as raised:
            client(fake).messages.create(to="+33612345678", from_=DECOY, body="x")
        statuses.append((raised.value.status, raised.value.code))

    assert statuses == [(400, 21408), (502, None)]
    assert len(fake.messages()) == 1


def test_a_status_callback_can_lose_its_query_string():
    fake = TwilioCore(SID, TOKEN)
    fake.callback_without_query_next()
    form = {"To": "+33612345678", "From": DECOY, "Body": "x",
            "StatusCallback": "https://api.example/status?campaign=fr"}

    for _ in range(2):
        fake.handle("POST", f"/2010-04-01/Accounts/{SID}/Messages.json", {}, form,
                    "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode())

    assert [url for url, _ in fake.callbacks] == ["https://api.example/status",
                                                  "https://api.example/status?campaign=fr"]
    assert fake.callbacks[0][1]["MessageStatus"] == "delivered"


@pytest.mark.parametrize(("voice", "fallback", "answered_by"), [
    (200, None, "voice_url"),
    (429, 200, "voice_fallback_url"),
    (503, 200, "voice_fallback_url"),
    (None, 200, "voice_fallback_url"),  # the voice URL timed out or refused the connection
    (404, 200, "voice_fallback_url"),
    ("not TwiML", 200, "voice_fallback_url"),
    (503, 500, "twilio"),
    (503, None, "twilio"),
])
def test_a_call_falls_back_when_the_voice_url_fails(voice, fallback, answered_by):
    fake = TwilioCore(SID, TOKEN)
    fake.own([DECOY])
    fake.number(DECOY).update(voice_url="http://127.0.0.1:1/voice",
                              voice_fallback_url="http://127.0.0.1:1/reject" if fallback else "")
    answers = {"http://127.0.0.1:1/voice": voice, "http://127.0.0.1:1/reject": fallback}
    posted = []

    def post(url, form, token, timeout):
        posted.append((url, form["To"], token))
        if answers[url] is None:
            raise TimeoutError(url)
        if answers[url] == "not TwiML":
            return Answer(200, "text/html", "<html>OK</html>")
        return Answer(answers[url], "text/xml", f"<Response>{url}</Response>")

    fake.post = post
    result = fake.call(DECOY, "+33612345678")

    assert result.answered_by == answered_by
    assert result.twiml == (APPLICATION_ERROR if answered_by == "twilio"
                            else f"<Response>{fake.number(DECOY)[answered_by]}</Response>")
    assert {(to, token) for _, to, token in posted} == {(DECOY, TOKEN)}


def test_a_number_without_a_voice_url_is_out_of_service_and_fires_no_webhook():
    fake = TwilioCore(SID, TOKEN)
    fake.own([DECOY])
    fake.number(DECOY).update(voice_url="", sms_url="")
    fake.post = lambda *a, **k: pytest.fail("no webhook expected")

    assert fake.call(DECOY, "+33612345678").answered_by == "nobody"
    assert fake.text(DECOY, "+33612345678", "salut") is None


def test_a_fired_usage_trigger_posts_its_signed_callback():
    fake = TwilioCore(SID, TOKEN)
    sid = fake.add_trigger(callback_url="http://127.0.0.1:1/usage", usage_category="sms",
                           trigger_by="count", trigger_value="2500")
    posted = []
    fake.post = lambda url, form, token, timeout: posted.append((url, form, token)) or Answer(
        200, "text/plain", "")

    fake.fire_trigger(sid)

    ((url, form, token),) = posted
    assert (url, form["UsageTriggerSid"], form["TriggerValue"]) == (
        "http://127.0.0.1:1/usage", sid, "2500")
    assert token == TOKEN  # post() signs with the account's token


def test_twilio_refuses_a_voice_fallback_without_a_voice_url(fake):
    fake.own([DECOY])

    with pytest.raises(TwilioRestException) as raised:
        client(fake).incoming_phone_numbers(number_sid(DECOY)).update(
            voice_url="", voice_fallback_url="http://127.0.0.1:1/reject")

    assert (raised.value.status, raised.value.code) == (400, 21405)
    assert fake.number(DECOY)["voice_url"] != ""
