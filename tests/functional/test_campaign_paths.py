"""Every shipped campaign, through the real handlers: its SMS path and its voice path."""

from __future__ import annotations

import pytest
from conftest import NOW, fire_all, schedule_inputs, schedules
from twilio_fakes import api_event, call_form, parse_twiml, sms_form

from decoy.campaigns import DEFAULT_FILE, load_campaigns
from receiver.app import lambda_handler as receive

CAMPAIGNS = list(load_campaigns(DEFAULT_FILE))
# A mobile sender for each calling code a shipped campaign allows.
MOBILE = {"33": "+33612345678", "32": "+32470123456", "44": "+447700900123"}


def harasser_for(campaign) -> str:
    return MOBILE[campaign.allowed_country_codes[0]]


@pytest.mark.parametrize("campaign", CAMPAIGNS, ids=lambda c: c.id)
def test_sms_to_each_campaign_gets_its_own_reply_from_its_number_after_its_delay(
        campaign, aws, twilio_api, lambda_context, at):
    harasser = harasser_for(campaign)
    response = receive(api_event("/sms", sms_form(harasser, campaign.number)), lambda_context)

    assert response["statusCode"] == 200
    assert len(parse_twiml(response["body"])) == 0  # nothing said to the sender now
    (order,) = schedule_inputs(aws)
    assert order["campaign"] == campaign.id
    delay = campaign.reply_delay(3600, order["sid"])  # an hour, or a moment of its window
    assert fire_all(aws, lambda_context, NOW + delay - 1) == []
    fire_all(aws, lambda_context, NOW + delay)
    (message,) = twilio_api.sent
    assert message["To"] == harasser
    assert message["From"] == campaign.number
    assert message["Body"] == campaign.reply
    assert message["StatusCallback"].endswith(f"/status?campaign={campaign.id}")


@pytest.mark.parametrize("campaign", CAMPAIGNS, ids=lambda c: c.id)
def test_call_to_each_campaign_hears_its_voicemail_then_gets_the_same_delayed_sms(
        campaign, aws, twilio_api, lambda_context, at):
    caller = harasser_for(campaign)
    form = call_form(caller, campaign.number)
    response = receive(api_event("/voice", form), lambda_context)

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/xml"
    root = parse_twiml(response["body"])
    assert [verb.tag for verb in root] == ["Say", "Pause", "Hangup"]
    say = root.find("Say")
    assert say.get("language") == campaign.voicemail.language
    assert say.get("voice") == campaign.voicemail.voice
    assert say.text == campaign.voicemail.say
    (schedule,) = schedules(aws)
    assert schedule["Name"] == f"reply-{form['CallSid']}"
    fire_all(aws, lambda_context, NOW + 3600)
    (message,) = twilio_api.sent
    assert (message["To"], message["From"], message["Body"]) == \
        (caller, campaign.number, campaign.reply)


@pytest.mark.parametrize("campaign", CAMPAIGNS, ids=lambda c: c.id)
def test_each_campaign_refuses_senders_outside_its_own_countries(
        campaign, aws, lambda_context, at):
    outsider = next(n for code, n in MOBILE.items()
                    if code not in campaign.allowed_country_codes)
    sms = receive(api_event("/sms", sms_form(outsider, campaign.number)), lambda_context)
    call = receive(api_event("/voice", call_form(outsider, campaign.number)), lambda_context)

    assert sms["statusCode"] == call["statusCode"] == 200
    # Not answered, so not billed: Twilio hears <Reject> as the first verb.
    assert [c.tag for c in parse_twiml(call["body"])] == ["Reject"]
    assert schedules(aws) == []
