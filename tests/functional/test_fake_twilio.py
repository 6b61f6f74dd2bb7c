"""The fake Twilio API answers the real twilio client as Twilio's Messages and numbers APIs do."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from decoy_local.fake_twilio import DEMO_SMS_URL, FakeTwilio, number_sid
from decoy_ops import connect

SID, TOKEN = "AC" + "1" * 32, "fake-token"
DECOY = "+33939000001"


@pytest.fixture
def fake():
    fake = FakeTwilio(SID, TOKEN).start()
    yield fake
    fake.stop()


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

    found = connect.find_number(client(fake), DECOY)
    plan = connect.plan_for(found, DECOY, wanted)
    connect.apply(client(fake), plan)

    assert found.sid == number_sid(DECOY)
    assert set(plan.changes) == {"sms_url", "voice_url"}
    numbers = {n["phone_number"]: n for n in fake.numbers()}
    assert numbers[DECOY]["sms_url"] == "http://127.0.0.1:3000/sms"
    assert numbers[DECOY]["voice_url"] == "http://127.0.0.1:3000/voice"
    assert numbers[DECOY]["friendly_name"] == DECOY
    assert numbers["+3228000003"]["sms_url"] == DEMO_SMS_URL
    assert connect.plan_for(connect.find_number(client(fake), DECOY), DECOY,
                            wanted).changes == {}


def test_a_number_the_account_does_not_own_is_not_listed(fake):
    fake.own([DECOY])
    assert connect.find_number(client(fake), "+33939000009") is None


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
