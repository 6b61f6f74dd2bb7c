"""The fake Twilio API answers the real twilio client as Twilio's Messages API does."""

from __future__ import annotations

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from decoy_local.fake_twilio import FakeTwilio

SID, TOKEN = "AC" + "1" * 32, "fake-token"


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
