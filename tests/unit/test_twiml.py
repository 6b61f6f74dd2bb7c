"""Voice TwiML: valid XML, the campaign's language and voice, a pause, a hang-up, no recording."""

from __future__ import annotations

import pytest
from twilio_fakes import parse_twiml

from decoy import twiml
from decoy.campaigns import DEFAULT_FILE, Voicemail, load_campaigns

CAMPAIGNS = list(load_campaigns(DEFAULT_FILE))


@pytest.mark.parametrize("campaign", CAMPAIGNS, ids=lambda c: c.id)
def test_every_shipped_voicemail_is_valid_twiml_in_its_language(campaign):
    root = parse_twiml(twiml.voicemail(campaign.voicemail))
    assert [child.tag for child in root] == ["Say", "Pause", "Hangup"]
    say = root.find("Say")
    assert say.get("language") == campaign.voicemail.language
    assert say.get("language").split("-")[0] == campaign.language.split("-")[0]
    assert say.get("voice") == campaign.voicemail.voice
    assert say.text == campaign.voicemail.say
    assert root.find("Pause").get("length") == str(campaign.voicemail.listen_seconds)


def test_no_voicemail_ever_records_the_caller():
    for campaign in CAMPAIGNS:
        assert "<Record" not in twiml.voicemail(campaign.voicemail)


def test_text_with_xml_characters_is_escaped():
    greeting = Voicemail(say='Tom & Jerry <"ici">', voice=None, language="fr-FR", play=None,
                         listen_seconds=3)
    root = parse_twiml(twiml.voicemail(greeting))
    say = root.find("Say")
    assert say.text == 'Tom & Jerry <"ici">'
    assert say.get("voice") is None


def test_audio_greeting_is_played():
    greeting = Voicemail(say=None, voice=None, language="fr-FR",
                         play="https://example.org/greeting.mp3?a=1&b=2", listen_seconds=5)
    root = parse_twiml(twiml.voicemail(greeting))
    assert [child.tag for child in root] == ["Play", "Pause", "Hangup"]
    assert root.find("Play").text == "https://example.org/greeting.mp3?a=1&b=2"


def test_empty_answer_is_valid_twiml():
    root = parse_twiml(twiml.EMPTY)
    assert len(root) == 0
