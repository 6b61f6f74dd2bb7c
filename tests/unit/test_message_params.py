"""Who the reply comes from: the decoy number, a Messaging Service, or an alphanumeric ID."""

from __future__ import annotations

import pytest

from decoy.campaigns import DEFAULT_FILE, ReplyFrom, load_campaigns
from decoy.outbound import message_params

FR = load_campaigns(DEFAULT_FILE).by_id("fr")
HARASSER = "+33612345678"
SERVICE = "MG" + "a" * 32
CALLBACK = "https://abc123.execute-api.eu-west-3.amazonaws.com/status"


@pytest.mark.parametrize(("reply_from", "identity"), [
    (ReplyFrom("number"), {"from_": FR.number}),
    (ReplyFrom("messaging_service", SERVICE), {"messaging_service_sid": SERVICE}),
    (ReplyFrom("alphanumeric", "Info"), {"from_": "Info"}),
])
def test_each_sender_identity_maps_to_its_twilio_parameter(reply_from, identity):
    params = message_params(FR._replace(reply_from=reply_from), HARASSER, CALLBACK)
    assert params == {"to": HARASSER, "body": FR.reply,
                      "status_callback": f"{CALLBACK}?campaign=fr", **identity}


def test_no_status_callback_when_the_stack_gives_none():
    assert "status_callback" not in message_params(FR, HARASSER, None)


def test_help_order_sends_the_help_text_only_when_the_campaign_has_one():
    assert message_params(FR, HARASSER, None, "help")["body"] == FR.reply
    helpful = FR._replace(help_reply="Numero automatique.")
    assert message_params(helpful, HARASSER, None, "help")["body"] == "Numero automatique."


def test_each_reply_carries_its_validity_period_and_no_obsolete_max_price():
    params = message_params(FR, HARASSER, None, validity_period_seconds=3600)
    assert params["validity_period"] == 3600
    assert "max_price" not in params  # obsolete since 2024-06-03: Twilio ignores it
