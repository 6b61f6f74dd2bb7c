"""Campaign validation: every bad or missing field fails with the campaign's and field's name."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from decoy.campaigns import (
    DEFAULT_FILE,
    MAX_NUMBERS_PER_CAMPAIGN,
    DelayWindow,
    describe,
    load_campaigns,
    main,
    parse_campaigns,
)
from decoy.segments import count_segments
from decoy.settings import ConfigError, Limits

VALID: dict[str, Any] = {
    "id": "test",
    "number": "+33939000009",
    "language": "fr-FR",
    "reply_from": {"type": "number"},
    "allowed_country_codes": ["33"],
    "reply": "Bonjour ! Un message court.",
    "voicemail": {"say": "Bonjour, laissez un message.", "voice": "Polly.Lea"},
}
LIMITS = Limits(max_messages_per_sender=5, replies_per_sender=1, sender_window_seconds=86400,
                daily_reply_budget=500, reply_delay_seconds=3600, opt_out_seconds=31536000)


def document(*campaigns: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"version": 1, "max_reply_segments": 2, "campaigns": list(campaigns), **top}


def changed(path: str, value: Any) -> dict[str, Any]:
    """VALID with one field set (dotted path) or deleted (value=...)."""
    campaign = copy.deepcopy(VALID)
    *parents, leaf = path.split(".")
    target = campaign
    for part in parents:
        target = target[part]
    if value is ...:
        del target[leaf]
    else:
        target[leaf] = value
    return campaign


def error_for(campaign: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_campaigns(document(campaign))
    return str(caught.value)


LONG_GSM = "a" * 307  # 3 segments of 153
LONG_UCS2 = "Salut “toi” " + "é" * 140  # curly quotes force UCS-2: 3 segments of 67


@pytest.mark.parametrize(("path", "value", "field"), [
    ("number", ..., "'numbers' is required (or the one-number shorthand 'number'"),
    ("number", "0939000009", "'number' must be an E.164"),
    ("number", 33939000009, "'number' must be a str"),
    ("language", ..., "'language' is required"),
    ("language", "french", "'language' must look like"),
    ("reply", ..., "'reply' is required"),
    ("reply", "", "'reply' is required"),
    ("reply", LONG_GSM, "'reply' is 3 SMS segments in GSM-7"),
    ("reply", LONG_UCS2, "'reply' is 3 SMS segments in UCS-2"),
    ("help_reply", LONG_GSM, "'help_reply' is 3 SMS segments"),
    ("reply_from", "number", "'reply_from' must be an object"),
    ("reply_from.type", "pigeon", "'reply_from.type' must be number, messaging_service"),
    ("reply_from", {"type": "messaging_service"}, "'reply_from.sid' is required"),
    ("reply_from", {"type": "messaging_service", "sid": "MG123"}, "'reply_from.sid'"),
    ("reply_from", {"type": "alphanumeric"}, "'reply_from.id' is required"),
    ("reply_from", {"type": "alphanumeric", "id": "TOOLONGSENDER"}, "'reply_from.id'"),
    ("reply_from", {"type": "alphanumeric", "id": "0123456"}, "'reply_from.id'"),
    ("reply_from", {"type": "alphanumeric", "id": "Info!"}, "'reply_from.id'"),
    ("allowed_country_codes", "33", "'allowed_country_codes' must be a list"),
    ("allowed_country_codes", ["33", "abc"], "'allowed_country_codes'"),
    ("allowed_country_codes", [], "'allowed_country_codes' must list at least one"),
    ("voicemail", ..., "'voicemail' is required"),
    ("voicemail", "hello", "'voicemail' must be an object"),
    ("voicemail", {"voice": "Polly.Lea"}, "'voicemail' needs exactly one of 'say' or 'play'"),
    ("voicemail.play", "https://example.org/a.mp3", "exactly one of 'say' or 'play'"),
    ("voicemail", {"play": "http://example.org/a.mp3"}, "'voicemail.play' must be an https"),
    ("voicemail.listen_seconds", 0, "'voicemail.listen_seconds' must be 1-60"),
    ("voicemail.listen_seconds", 61, "'voicemail.listen_seconds' must be 1-60"),
    ("voicemail.listen_seconds", True, "'voicemail.listen_seconds' must be 1-60"),
    ("voicemail.listen_seconds", 59, "over the one billed minute (60 s)"),
    ("voicemail.say", "Bonjour. " * 70, "'voicemail.say' lasts about 63 s + listen_seconds 2 s"),
    ("voicemail", {"play": "https://example.org/a.mp3"}, "'voicemail.play_seconds'"),
    ("voicemail", {"play": "https://example.org/a.mp3", "play_seconds": 55,
                   "listen_seconds": 6}, "'voicemail.play_seconds' lasts about 55 s"),
    ("voicemail.play_seconds", 10, "'voicemail.play_seconds' only goes with 'play'"),
    ("voicemail.voice", "Polly.Lotte", "'voicemail.voice': Polly.Lotte speaks nl-NL, not fr-FR"),
    ("voicemail.voice", "Polly.Nobody", "'voicemail.voice': Polly.Nobody is not a known"),
    ("voicemail.voice", "Google.en-GB-Standard-A", "speaks en-GB, not fr-FR"),
    ("voicemail.voice", "robot", "'voicemail.voice': robot is not man, woman"),
    ("voicemail.language", "nl-NL", "'voicemail.voice': Polly.Lea speaks fr-FR, not nl-NL"),
    ("voicemail.language", "dutch", "'voicemail.language' must look like"),
    ("reply_form", {"type": "number"}, "field 'reply_form' is unknown"),
    ("reply_from.sender", "Info", "field 'reply_from.sender' is unknown"),
    ("voicemail.text", "Bonjour", "field 'voicemail.text' is unknown"),
    ("quotas", [], "'quotas' must be an object"),
    ("quotas", {"daily_reply_budget": 10}, "'quotas.daily_reply_budget' is unknown"),
    ("quotas", {"max_messages_per_sender": 0}, "'quotas.max_messages_per_sender' must be"),
    ("quotas", {"sender_window_seconds": 59}, "'quotas.sender_window_seconds' must be"),
    ("quotas", {"replies_per_sender": -1}, "'quotas.replies_per_sender' must be"),
    ("quotas", {"max_messages_per_sender": 2, "replies_per_sender": 3},
     "'quotas.replies_per_sender' exceeds"),
])
def test_bad_or_missing_field_names_the_campaign_and_the_field(path, value, field):
    message = error_for(changed(path, value))
    assert message.startswith("campaign 'test': field ")
    assert field in message


def test_reply_from_a_french_mobile_number_is_refused_with_the_reason():
    message = error_for(changed("number", "+33612345678"))
    assert message.startswith("campaign 'test': field 'reply_from'")
    assert "06/07" in message


def test_a_french_mobile_decoy_may_reply_through_an_alphanumeric_sender():
    campaign = changed("number", "+33612345678")
    campaign["reply_from"] = {"type": "alphanumeric", "id": "AntiRelou"}
    (parsed,) = parse_campaigns(document(campaign))
    assert parsed.reply_from.value == "AntiRelou"


def test_bad_id_is_named_by_position_in_the_list():
    message = error_for(changed("id", "Bad Id!"))
    assert message.startswith("campaign #0: field 'id'")
    message = error_for(changed("id", ...))
    assert message == "campaign #0: field 'id' is required"


@pytest.mark.parametrize("attr", ["id", "number"])
def test_an_id_or_number_used_twice_is_refused(attr):
    other = changed("id", "other")
    other["number"] = "+33939000008"
    other[attr] = VALID[attr]
    with pytest.raises(ConfigError, match=rf"field '{attr}' .* is used twice"):
        parse_campaigns(document(VALID, other))


@pytest.mark.parametrize(("top", "message"), [
    ({"version": 2}, "field 'version' must be 1"),
    ({"max_reply_segments": 0}, "field 'max_reply_segments'"),
    ({"campaigns": []}, "field 'campaigns' must be a non-empty list"),
    ({"max_reply_segment": 3}, "field 'max_reply_segment' is unknown"),
])
def test_bad_file_level_field_is_named(top, message):
    with pytest.raises(ConfigError, match=message):
        parse_campaigns({**document(VALID), **top})


def test_campaign_quota_contradicting_the_deployment_limits_fails_at_load():
    campaigns = parse_campaigns(document(changed("quotas", {"replies_per_sender": 6})))
    with pytest.raises(ConfigError, match=r"campaign 'test': field 'quotas\.replies_per_sender'"):
        campaigns.check_limits(LIMITS)


def test_campaign_quotas_override_only_their_own_fields():
    (campaign,) = parse_campaigns(document(changed("quotas", {"max_messages_per_sender": 3})))
    limits = campaign.limits(LIMITS)
    assert limits.max_messages_per_sender == 3
    assert limits.daily_reply_budget == LIMITS.daily_reply_budget


def test_voicemail_language_defaults_to_the_campaign_language():
    (campaign,) = parse_campaigns(document(VALID))
    assert campaign.voicemail.language == "fr-FR"
    assert campaign.voicemail.listen_seconds == 2


def test_help_text_is_used_only_when_configured():
    (plain,) = parse_campaigns(document(VALID))
    assert plain.text("help") == plain.reply
    (helpful,) = parse_campaigns(document(changed("help_reply", "Numero automatique.")))
    assert helpful.text("help") == "Numero automatique."
    assert helpful.text("reply") == helpful.reply


def test_unreadable_campaigns_file_names_the_file(tmp_path):
    path = tmp_path / "campaigns.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ConfigError, match=str(path)):
        load_campaigns(path)


def test_campaigns_file_env_variable_is_honoured(tmp_path, monkeypatch):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(document(VALID)), encoding="utf-8")
    monkeypatch.setenv("CAMPAIGNS_FILE", str(path))
    assert [c.id for c in load_campaigns()] == ["test"]


# --- the shipped file ------------------------------------------------------------------

SHIPPED = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))


def test_shipped_campaigns_are_valid_and_cover_the_required_languages():
    campaigns = load_campaigns(DEFAULT_FILE)
    assert {c.id for c in campaigns} >= {"fr", "fr-inclusive", "nl-be", "en"}
    assert {c.language[:2] for c in campaigns} >= {"fr", "nl", "en"}
    campaigns.check_limits(LIMITS)


def test_shipped_french_reply_is_the_one_quoted_in_the_press():
    (fr,) = [c for c in SHIPPED["campaigns"] if c["id"] == "fr"]
    assert fr["reply"].startswith("Bonjour ! Si vous lisez ce message, c'est que vous avez mis "
                                  "une femme mal à l'aise.")
    assert fr["reply"].endswith("Apprenez à respecter la liberté des femmes et leurs décisions. "
                                "Merci")


def test_inclusive_variant_does_not_speak_only_of_women():
    (inclusive,) = [c for c in SHIPPED["campaigns"] if c["id"] == "fr-inclusive"]
    assert "femme" not in inclusive["reply"]


@pytest.mark.parametrize("raw", SHIPPED["campaigns"], ids=lambda c: c["id"])
def test_every_shipped_reply_fits_two_gsm7_segments(raw):
    count = count_segments(raw["reply"])
    assert count.encoding == "GSM-7"
    assert count.segments <= 2


def test_config_check_prints_each_campaign_segments_and_encoding(capsys):
    assert main([str(DEFAULT_FILE)]) == 0
    out = [line for line in capsys.readouterr().out.splitlines() if "segment(s)" in line]
    assert len(out) == len(SHIPPED["campaigns"])
    for line, raw in zip(out, SHIPPED["campaigns"], strict=True):
        count = count_segments(raw["reply"])
        assert line.split()[0] == raw["id"]
        assert f"{count.encoding}" in line
        assert f"{count.segments} segment(s)" in line


def test_config_check_fails_with_the_error_on_stderr(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document(changed("reply", LONG_GSM))), encoding="utf-8")
    assert main([str(path)]) == 1
    assert "campaign 'test': field 'reply' is 3 SMS segments" in capsys.readouterr().err


def test_describe_lists_the_help_text_and_the_sender():
    campaign = changed("help_reply", "Aide")
    campaign["reply_from"] = {"type": "alphanumeric", "id": "AntiRelou"}
    (parsed,) = parse_campaigns(document(campaign))
    lines = describe(parsed)[:2]
    assert [line.split()[3] for line in lines] == ["reply", "help_reply"]
    assert all(line.endswith("from alphanumeric=AntiRelou") for line in lines)


def test_every_shipped_greeting_and_pause_fits_in_one_billed_minute():
    from decoy.campaigns import BILLED_MINUTE_SECONDS, speech_seconds

    for campaign in load_campaigns():
        greeting = campaign.voicemail
        assert speech_seconds(greeting.say or "") + greeting.listen_seconds \
            <= BILLED_MINUTE_SECONDS, campaign.id


# --- a pool of numbers per campaign ----------------------------------------------------------

POOL = [{"number": "+33939000021", "label": "bar-le-central", "status": "active"},
        {"number": "+33939000022", "label": "campus"},
        {"number": "+33939000023", "label": "cards-2017", "status": "retired"}]


def pooled(numbers: Any = POOL, **fields: Any) -> dict[str, Any]:
    campaign = {k: v for k, v in copy.deepcopy(VALID).items() if k != "number"}
    return {**campaign, "numbers": copy.deepcopy(numbers), **fields}


def test_a_pool_holds_labelled_numbers_each_active_or_retired():
    (campaign,) = parse_campaigns(document(pooled()))
    assert [(n.label, n.status) for n in campaign.numbers] == [
        ("bar-le-central", "active"), ("campus", "active"), ("cards-2017", "retired")]
    assert [n.number for n in campaign.active_numbers] == ["+33939000021", "+33939000022"]
    assert campaign.number == "+33939000021"  # the first active one
    assert campaign.label_of("+33939000023") == "cards-2017"
    assert campaign.label_of("+33939000099") is None


def test_every_number_of_a_pool_finds_its_campaign_retired_ones_too():
    campaigns = parse_campaigns(document(pooled()))
    for number in ("+33939000021", "+33939000022", "+33939000023"):
        assert campaigns.for_number(number).id == "test"
    assert campaigns.numbers() == ["+33939000021", "+33939000022", "+33939000023"]
    assert campaigns.for_reply_sender("+33939000023").id == "test"


def test_one_number_shorthand_is_a_pool_of_one_labelled_main():
    (campaign,) = parse_campaigns(document(VALID))
    assert [(n.number, n.label, n.status) for n in campaign.numbers] == [
        ("+33939000009", "main", "active")]


def test_a_campaign_whose_numbers_are_all_retired_still_answers_them():
    (campaign,) = parse_campaigns(document(pooled([{**POOL[2]}])))
    assert campaign.active_numbers == ()
    assert campaign.number == "+33939000023"


@pytest.mark.parametrize(("numbers", "field"), [
    ([], "'numbers' must be a non-empty list"),
    ("+33939000021", "'numbers' must be a non-empty list"),
    ([{"number": f"+3393900{i:04d}", "label": f"n{i}"}
      for i in range(MAX_NUMBERS_PER_CAMPAIGN + 1)],
     f"'numbers' holds {MAX_NUMBERS_PER_CAMPAIGN + 1} numbers, over the cap"),
    (["+33939000021"], "'numbers[0]' must be an object"),
    ([{"number": "+33939000021"}], "'numbers[0].label' is required"),
    ([{"label": "bar"}], "'numbers[0].number' is required"),
    ([{"number": "0939000021", "label": "bar"}], "'numbers[0].number' must be an E.164"),
    ([{"number": "+33939000021", "label": "Bar Central"}], "'numbers[0].label' must be 1-32"),
    ([{"number": "+33939000021", "label": "bar", "status": "burnt"}],
     "'numbers[0].status' must be active or retired"),
    ([{"number": "+33939000021", "label": "bar", "venue": "x"}],
     "'numbers[0].venue' is unknown"),
    ([{"number": "+33939000021", "label": "bar"}, {"number": "+33939000022", "label": "bar"}],
     "'numbers[1].label' bar is used twice"),
    ([{"number": "+33939000021", "label": "a"}, {"number": "+33939000021", "label": "b"}],
     "'numbers[1].number' +33939000021 is used twice"),
])
def test_a_bad_pool_names_the_campaign_and_the_field(numbers, field):
    message = error_for(pooled(numbers))
    assert message.startswith("campaign 'test': field ")
    assert field in message


def test_number_and_numbers_together_or_neither_are_refused():
    assert "field 'numbers' is required" in error_for(pooled(number="+33939000021"))
    assert "field 'numbers' is required" in error_for(changed("number", ...))


def test_a_number_in_two_campaigns_pools_is_refused():
    other = pooled(id="other", numbers=[{"number": "+33939000031", "label": "x"},
                                        {"number": "+33939000022", "label": "y"}])
    with pytest.raises(ConfigError, match=r"campaign 'other': field 'numbers\[1\]\.number' "
                                          r"\+33939000022 is used twice"):
        parse_campaigns(document(pooled(), other))


def test_a_french_mobile_anywhere_in_the_pool_cannot_reply_as_itself():
    numbers = [*POOL, {"number": "+33612345678", "label": "mobile"}]
    assert "French mobile +33612345678" in error_for(pooled(numbers))


# --- the delay window ----------------------------------------------------------------------


@pytest.mark.parametrize(("window", "field"), [
    ("1800-3600", "'delay_window' must be an object"),
    ({"min_seconds": 1800}, "'delay_window.max_seconds' is required"),
    ({"min_seconds": 1800, "max_seconds": "3600"}, "'delay_window.max_seconds' must be a int"),
    ({"min_seconds": 1800, "max_seconds": 3600, "jitter": 5}, "'delay_window.jitter' is unknown"),
    ({"min_seconds": 30, "max_seconds": 3600}, "'delay_window.min_seconds' must be 60-86400"),
    ({"min_seconds": 1800, "max_seconds": 1830}, "'delay_window.max_seconds' must be at least"),
    ({"min_seconds": 1800, "max_seconds": 90000}, "and at most 86400"),
])
def test_a_bad_delay_window_names_the_field(window, field):
    message = error_for(changed("delay_window", window))
    assert message.startswith("campaign 'test': field ")
    assert field in message


def test_a_delay_window_must_end_before_the_sender_window():
    raw = changed("delay_window", {"min_seconds": 1800, "max_seconds": 3600})
    raw["quotas"] = {"sender_window_seconds": 3600}
    assert "shorter than quotas.sender_window_seconds (3600)" in error_for(raw)
    (campaign,) = parse_campaigns(document(changed(
        "delay_window", {"min_seconds": 1800, "max_seconds": 3600})))
    short = LIMITS._replace(sender_window_seconds=3000)
    with pytest.raises(ConfigError, match=r"field 'delay_window\.max_seconds' \(3600\) must be "
                                          r"shorter than the sender window \(3000 s\)"):
        campaign.limits(short)


def test_the_delay_is_drawn_in_the_window_evenly_and_the_same_for_one_message():
    (campaign,) = parse_campaigns(document(changed(
        "delay_window", {"min_seconds": 1800, "max_seconds": 3600})))
    delays = [campaign.reply_delay(3600, f"SM{i:032x}") for i in range(2000)]
    assert min(delays) >= 1800 and max(delays) <= 3600
    assert min(delays) < 1850 and max(delays) > 3550  # the whole window is used
    quarters = [sum(1800 + 450 * q <= d < 1800 + 450 * (q + 1) for d in delays)
                for q in range(4)]
    assert all(400 < n < 600 for n in quarters), quarters
    sid = "SM" + "a" * 32
    assert campaign.reply_delay(3600, sid) == campaign.reply_delay(3600, sid)


def test_without_a_window_the_delay_is_the_deployment_one():
    (campaign,) = parse_campaigns(document(VALID))
    assert campaign.delay_window is None
    assert campaign.reply_delay(3600, "SM" + "a" * 32) == 3600


# --- the kit's texts -----------------------------------------------------------------------

KIT_TEXTS = SHIPPED["kit_texts"]


def with_kit(kit: Any, **top: Any) -> dict[str, Any]:
    return document(changed("kit", kit), kit_texts=KIT_TEXTS, **top)


def kit_error(doc: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_campaigns(doc)
    return str(caught.value)


@pytest.mark.parametrize(("kit", "field"), [
    ([], "'kit' must be an object"),
    ({"poster_titel": "x"}, "field 'kit.poster_titel' is unknown"),
    ({"poster_title": ""}, "field 'kit.poster_title' must be a non-empty string"),
    ({"poster_steps": "one step"}, "field 'kit.poster_steps' must be a non-empty list"),
    ({"poster_lead": "Envoyez {nom}"}, "field 'kit.poster_lead' uses {nom}; known:"),
    ({"poster_lead": "Accolade {"}, "field 'kit.poster_lead': Single '{'"),
    ({"first_names": ["Anne-Marie-Louise-Hortense"]}, "'kit.first_names': 'Anne-Marie"),
    ({"first_names": ["Ana"] * 21}, "'kit.first_names' lists 21 names"),
    ({"helplines": [{"name": "Urgences"}]}, "'kit.helplines[0].number' must be a number"),
    ({"helplines": [{"name": "", "number": "112"}]}, "'kit.helplines[0].name' must be 1-60"),
    ({"helplines": [{"name": "X", "number": "112", "url": "x"}]},
     "'kit.helplines[0]' must be an object with name and number"),
    ({"helplines": [{"name": "X", "number": "112"}] * 5}, "'kit.helplines' must be a list"),
])
def test_a_bad_kit_text_names_the_campaign_and_the_field(kit, field):
    message = kit_error(with_kit(kit))
    assert message.startswith("campaign 'test': field ")
    assert field in message


def test_kit_texts_of_a_language_must_hold_every_field():
    texts = {k: v for k, v in KIT_TEXTS["fr"].items() if k != "poster_qr"}
    message = kit_error(document(VALID, kit_texts={"fr": texts}))
    assert message == "campaigns file: field 'kit_texts.fr.poster_qr' is required"
    message = kit_error(document(VALID, kit_texts={"french": KIT_TEXTS["fr"]}))
    assert "field 'kit_texts.french' must be named by a language" in message


def test_a_campaign_kit_without_texts_for_its_language_names_the_missing_field():
    message = kit_error(document(changed("kit", {"poster_title": "Titre"})))
    assert message.startswith("campaign 'test': field 'kit.")
    assert "is required (no kit_texts for language fr-FR)" in message


def test_a_campaign_gets_its_language_kit_with_its_own_overrides():
    (campaign,) = parse_campaigns(with_kit({"first_names": ["Alex"],
                                            "helplines": [{"name": "Urgences", "number": "112"}]}))
    assert campaign.kit.first_names == ("Alex",)
    assert campaign.kit.contact_name == "Alex"
    assert campaign.kit.texts["poster_title"] == KIT_TEXTS["fr"]["poster_title"]
    assert [(h.name, h.number) for h in campaign.kit.helplines] == [("Urgences", "112")]
    (bare,) = parse_campaigns(document(changed("language", "de-DE") | {
        "voicemail": {"say": "Hallo.", "voice": "Polly.Vicki"}}, kit_texts=KIT_TEXTS))
    assert bare.kit is None  # no German texts: no kit, and `make kit` says so


def test_the_shipped_file_shows_a_pool_with_a_retired_number_and_a_delay_window():
    campaigns = load_campaigns(DEFAULT_FILE)
    pools = [c for c in campaigns if len(c.numbers) > 1]
    assert pools and any(not n.active for c in pools for n in c.numbers)
    assert DelayWindow(1800, 3600) in {c.delay_window for c in campaigns}  # Belgium, 2017
    assert all(len(c.numbers) <= MAX_NUMBERS_PER_CAMPAIGN for c in campaigns)


def test_the_shipped_kit_texts_cover_french_dutch_and_english():
    campaigns = load_campaigns(DEFAULT_FILE)
    assert set(SHIPPED["kit_texts"]) == {"fr", "nl", "en"}
    assert all(c.kit is not None for c in campaigns)


# Helplines printed on the staff sheets: only numbers checked to exist and to be what the
# name says (a wrong number on a help sheet is worse than a blank line to fill in).
KNOWN_HELPLINES = {
    "112": "the EU-wide emergency number",
    "3919": "France: Violences Femmes Info (free, anonymous, 24/7)",
    "1712": "Flanders: helpline for violence, abuse and child abuse",
    "999": "UK emergency number",
}


def test_every_shipped_helpline_is_a_known_real_number():
    for campaign in load_campaigns(DEFAULT_FILE):
        for line in campaign.kit.helplines:
            assert line.number in KNOWN_HELPLINES, (campaign.id, line)


# -- French alphanumeric sender IDs (issue 23.4) ----------------------------------------------
# Since 2025-03-10 French operators overwrite or block sender IDs (OADC) that are generic words,
# digits only, or carry special characters or spaces; the AF2M's "Charte Business Messaging
# 2026" (applies from March 2026, replacing the 2024 charter) keeps the OADC rule: 11
# characters at most, letters and digits only, never digits only (af2m.org, "Protection des
# OADC sensibles"). Twilio reports such a block as error 30042.

def french_sender(sender_id: str, codes: list[str] | None = None) -> dict[str, Any]:
    campaign = changed("number", "+33612345678")
    campaign["reply_from"] = {"type": "alphanumeric", "id": sender_id}
    if codes is None:
        del campaign["allowed_country_codes"]
    else:
        campaign["allowed_country_codes"] = codes
    return campaign


@pytest.mark.parametrize(("sender_id", "rule"), [
    ("Info", "generic word"), ("INFO", "generic word"), ("alerte", "generic word"),
    ("Rdv", "generic word"), ("Banque", "generic word"), ("Colis", "generic word"),
    ("Anti Relou", "letters and digits only"), ("Asso 33", "letters and digits only"),
])
@pytest.mark.parametrize("codes", [["33"], ["32", "33"], None],
                         ids=["France", "Belgium and France", "deployment default"])
def test_a_sender_id_french_operators_block_is_refused_naming_the_rule(sender_id, rule, codes):
    message = error_for(french_sender(sender_id, codes))

    assert message.startswith("campaign 'test': field 'reply_from.id'")
    assert rule in message and "France" in message and "AF2M" in message


def test_a_branded_sender_id_is_accepted_for_france():
    (parsed,) = parse_campaigns(document(french_sender("AntiRelou", ["33"])))
    assert parsed.reply_from.value == "AntiRelou"


def test_outside_france_the_generic_rule_does_not_apply():
    campaign = french_sender("Info", ["44"])
    campaign["number"] = "+447700900123"
    (parsed,) = parse_campaigns(document(campaign))
    assert parsed.reply_from.value == "Info"


def test_the_shipped_campaigns_and_the_guides_example_pass_the_french_rules():
    from pathlib import Path

    load_campaigns(DEFAULT_FILE)
    guide = (Path(DEFAULT_FILE).parents[2] / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert '"id": "Info"' not in guide
    example = french_sender("AntiRelou", ["33"])
    parse_campaigns(document(example))
    assert '"id": "AntiRelou"' in " ".join(guide.split())


def test_the_docs_state_the_monthly_cost_of_the_per_number_metrics():
    from decoy.observability import LABELLED

    doc = (DEFAULT_FILE.parents[2] / "docs" / "campaigns.md").read_text(encoding="utf-8")
    numbers = len(load_campaigns(DEFAULT_FILE).numbers())
    per_metric = 0.30  # USD per custom metric per month, CloudWatch's first tier
    shipped = numbers * len(LABELLED)
    capped = MAX_NUMBERS_PER_CAMPAIGN * len(LABELLED)
    assert f"| the shipped campaigns | {numbers} | {shipped} | ${shipped * per_metric:.2f} |" in doc
    assert f"| one campaign at the cap | {MAX_NUMBERS_PER_CAMPAIGN} | {capped} | " \
           f"${capped * per_metric:.2f} |" in doc


def test_every_shipped_number_is_a_known_placeholder_and_make_campaigns_warns(capsys):
    from decoy.campaigns import PLACEHOLDER_NUMBERS, is_placeholder

    shipped = load_campaigns(DEFAULT_FILE).numbers()
    assert set(shipped) == set(PLACEHOLDER_NUMBERS)  # a new example number joins the list
    assert is_placeholder("+447700900123") and not is_placeholder("+33939123456")
    assert main([str(DEFAULT_FILE)]) == 0
    err = capsys.readouterr().err
    assert f"warning: {len(shipped)} example number(s) shipped with the project" in err
    assert "`make preflight` refuses them" in err


def test_make_campaigns_does_not_warn_about_bought_numbers(tmp_path, capsys):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(document(changed("number", "+33939123456"))), encoding="utf-8")
    assert main([str(path)]) == 0
    assert "warning" not in capsys.readouterr().err
