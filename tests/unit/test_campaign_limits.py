"""Per-campaign quotas and country lists on top of the global cost shield."""

from __future__ import annotations

import re

import pytest

from decoy.campaigns import load_campaigns, parse_campaign
from decoy.settings import ConfigError, Limits

BASE = Limits(max_messages_per_sender=5, replies_per_sender=1, sender_window_seconds=86_400,
              daily_reply_budget=500, reply_delay_seconds=3_600, opt_out_seconds=31_536_000)


def campaign(**extra):
    raw = {"id": "t", "number": "+33939000099", "language": "fr-FR", "reply": "Bonjour",
           "voicemail": {"say": "Bonjour"}, **extra}
    return parse_campaign(raw, 0, max_segments=2)


def test_campaign_quotas_override_only_what_they_name():
    limits = campaign(quotas={"max_messages_per_sender": 3}).limits(BASE)
    assert limits.max_messages_per_sender == 3
    assert limits.replies_per_sender == 1
    assert limits.sender_window_seconds == 86_400


def test_the_daily_budget_stays_global_whatever_a_campaign_says():
    with pytest.raises(ConfigError, match=re.escape("quotas.daily_reply_budget")):
        campaign(quotas={"daily_reply_budget": 10_000})
    assert campaign(quotas={"replies_per_sender": 0}).limits(BASE).daily_reply_budget == 500


@pytest.mark.parametrize(("quotas", "field"), [
    ({"max_messages_per_sender": 0}, "quotas.max_messages_per_sender"),
    ({"sender_window_seconds": 59}, "quotas.sender_window_seconds"),
    ({"replies_per_sender": -1}, "quotas.replies_per_sender"),
    ({"replies_per_sender": True}, "quotas.replies_per_sender"),
])
def test_invalid_quota_names_its_field(quotas, field):
    with pytest.raises(ConfigError, match=re.escape(field)):
        campaign(quotas=quotas)


def test_campaign_country_list_replaces_the_global_one():
    assert campaign(allowed_country_codes=[32]).allowed_codes(("33", "32")) == ("32",)
    assert campaign().allowed_codes(("33", "32")) == ("33", "32")


def test_default_french_campaigns_answer_french_senders_only():
    campaigns = {c.id: c for c in load_campaigns()}
    assert campaigns["fr"].allowed_codes(("33", "32")) == ("33",)
    assert campaigns["nl-be"].allowed_codes(("33", "32")) == ("32",)
