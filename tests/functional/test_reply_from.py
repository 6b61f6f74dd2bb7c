"""Who the reply comes from, as Twilio's Messages API receives it, for each kind of sender."""

from __future__ import annotations

import pytest
from conftest import NOW, campaign_entry, fire_all
from twilio_fakes import api_event, sms_form

from receiver.app import lambda_handler as receive

HARASSER = "+33612345678"
SERVICE = "MG" + "0123456789abcdef" * 2


@pytest.mark.parametrize(("number", "reply_from", "expected"), [
    ("+33939000011", {"type": "number"}, {"From": "+33939000011"}),
    ("+33939000012", {"type": "messaging_service", "sid": SERVICE},
     {"MessagingServiceSid": SERVICE}),
    # A French mobile decoy (what a harasser expects) replying through a sender ID.
    ("+33612000013", {"type": "alphanumeric", "id": "AntiRelou"},
     {"From": "AntiRelou"}),
], ids=["number", "messaging_service", "alphanumeric"])
def test_reply_reaches_twilio_from_the_campaigns_sender(
        number, reply_from, expected, aws, twilio_api, lambda_context, at,
        campaigns_file):
    campaigns_file(campaign_entry("sender-test", number, reply_from=reply_from))
    receive(api_event("/sms", sms_form(HARASSER, number)), lambda_context)

    fire_all(aws, lambda_context, NOW + 3600)

    (message,) = twilio_api.sent
    assert message["To"] == HARASSER
    assert message["Body"] == "Reponse de sender-test."
    identity = {k: message[k] for k in ("From", "MessagingServiceSid") if k in message}
    assert identity == expected
    assert message["StatusCallback"].endswith("/status?campaign=sender-test")
