"""The local console's pure parts: language, what a TwiML answer shows, status callbacks."""

from __future__ import annotations

import base64
import json
import re
import threading
from collections import Counter
from urllib.parse import urlencode

import pytest

from decoy_local.console import (
    COLUMNS,
    STATIC,
    ConsoleError,
    WebConsole,
    _guarded,
    answer_of,
    language,
    outcomes,
    row_name,
    status_of_callback,
    strings,
)
from decoy_local.gateway import Gateway
from decoy_local.simulator import LocalStack
from decoy_local.webhooks import loopback_request, status_form


@pytest.mark.parametrize(("query", "accept", "expected"), [
    ({"lang": "fr"}, "en-GB,en", "fr"),
    ({"lang": "EN"}, "fr-FR,fr", "en"),
    ({"lang": "de"}, "fr-BE,fr;q=0.9", "fr"),
    ({}, "nl-BE,nl", "en"),
    ({}, "", "en"),
])
def test_language_is_the_query_then_the_browser_then_english(query, accept, expected):
    assert language(query, {"accept-language": accept}) == expected


def test_both_languages_have_every_string_the_page_uses():
    table = json.loads((STATIC / "strings.json").read_text(encoding="utf-8"))
    page = (STATIC / "console.html").read_text(encoding="utf-8")
    script = (STATIC / "console.js").read_text(encoding="utf-8")

    assert table["en"].keys() == table["fr"].keys()
    for key in [k for k, _ in COLUMNS]:
        assert key in table["en"]
    for key in table["en"]:
        assert f"${key}" in page or f"T.{key}" in script or key.startswith(
            ("col_", "status_", "error_")) or key == "number_retired", key
    assert strings("fr")["kill_heading"] == "Coupe-circuit"


@pytest.mark.parametrize(("twiml", "expected"), [
    ('<?xml version="1.0" encoding="UTF-8"?><Response/>', {"kind": "nothing"}),
    ('<Response><Reject reason="busy"/></Response>', {"kind": "rejected"}),
    ('<Response><Say language="fr-FR">Bonjour, vous &#234;tes bien</Say></Response>',
     {"kind": "voicemail", "text": "Bonjour, vous êtes bien"}),
])
def test_what_the_phone_gets_from_a_twiml_answer(twiml, expected):
    assert answer_of(twiml) == expected


def test_a_status_callback_gives_its_message_and_status_even_base64_encoded():
    form = status_form("delivered", sid="SM" + "a" * 32, sender="+33939000001", to="+33612345678",
                       account_sid="AC1")
    body = base64.b64encode(urlencode(form).encode()).decode()

    assert status_of_callback({"body": body, "isBase64Encoded": True}) == ("SM" + "a" * 32,
                                                                           "delivered")
    assert status_of_callback({"body": "From=%2B33612345678"}) is None


def test_outcomes_leave_out_the_bookkeeping_counts():
    changes = Counter({"Received": 1, "BudgetUsed": 1, "Scheduled": 1, "Counted": 0})

    assert outcomes(changes) == ["Scheduled"]


def test_the_gateway_serves_pages_with_their_query_and_headers():
    seen = []

    def page(query, headers):
        seen.append((query, headers.get("accept-language")))
        return 200, {"Content-Type": "text/html; charset=utf-8"}, b"<p>ok</p>"

    gateway = Gateway({}, pages={"/": page})
    thread = threading.Thread(target=gateway.server.handle_request)
    thread.start()
    try:
        answer = loopback_request(f"{gateway.url}/?lang=fr", headers={"Accept-Language": "fr"})
    finally:
        thread.join(5)
        gateway.server.server_close()

    assert (answer.status, answer.content_type, answer.body) == (200, "text/html", "<p>ok</p>")
    assert seen == [({"lang": "fr"}, "fr")]


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_every_text_colour_of_the_page_passes_wcag_aa_contrast():
    css = (STATIC / "console.css").read_text(encoding="utf-8")
    colour = dict(re.findall(r"--([a-z]+):\s*(#[0-9a-f]{6})", css))
    pairs = [("ink", "paper"), ("muted", "paper"), ("accent", "paper"), ("danger", "paper"),
             ("ok", "paper"), ("ink", "screen"), ("muted", "screen")]
    ratios = {f"{fg} on {bg}": _contrast(colour[fg], colour[bg]) for fg, bg in pairs}
    ratios["white on accent"] = _contrast("#ffffff", colour["accent"])
    ratios["white on danger"] = _contrast("#ffffff", colour["danger"])

    assert {name: round(r, 1) for name, r in ratios.items() if r < 4.5} == {}  # WCAG 1.4.3


def _console() -> WebConsole:
    stack = LocalStack(api_url="http://127.0.0.1:1", twilio_url="http://127.0.0.1:2",
                       aws_url="http://127.0.0.1:3", region="eu-west-3", account_sid="AC1",
                       auth_token="t", time_scale=1.0, reply_delay_seconds=3600,
                       campaigns=[{"id": "fr", "number": "+33939000001",
                                   "allowed_country_codes": ["33"]}],
                       parameters={}, outputs={"KillSwitchParameterName": "/k",
                                               "DailyReplyBudget": "20", "TableName": "t"})
    return WebConsole(stack, ssm=None, dynamodb=None)


@pytest.mark.parametrize(("endpoint", "request_body", "reason"), [
    ("sms", [], "expected a JSON object"),
    ("sms", {"campaign": "fr"}, "from is required"),
    ("sms", {"campaign": "zz", "from": "+33612345678"}, "unknown campaign 'zz'"),
    ("sms", {"from": "+3" + "3" * 40}, "from is longer than 32 characters"),
    ("call", None, "expected a JSON object"),
    ("flood", {"count": 201}, "count must be between 1 and 200"),
    ("flood", {"count": "many"}, "count must be a whole number"),
    ("kill_switch", {"on": "yes"}, "on must be true or false"),
    ("kill_switch", [True], "expected a JSON object"),
])
def test_bad_input_from_the_page_is_refused_with_its_reason_before_any_webhook(
        endpoint, request_body, reason):
    with pytest.raises(ConsoleError, match=re.escape(reason)):  # the gateway answers it 400
        getattr(_console(), endpoint)(request_body)


def test_a_stack_that_does_not_answer_is_a_502_with_its_reason():
    status, answer = _guarded(_console().sms)({"from": "+33612345678"})

    assert status == 502
    assert "is `make run` running?" in answer["message"]


def _pool_console() -> WebConsole:
    console = _console()
    console.stack.campaigns[0]["numbers"] = [
        {"number": "+33939000001", "label": "bar-le-central", "status": "active"},
        {"number": "+33939000002", "label": "cards-2017", "status": "retired"}]
    return console


@pytest.mark.parametrize(("lang", "said", "not_said"), [
    ("fr", "fr · cards-2017 (retiré\u202f: plus distribué)", "retired"),
    ("en", "fr · cards-2017 (retired)", "retiré"),
])
def test_a_retired_number_is_named_in_the_page_language(lang, said, not_said):
    console = _pool_console()
    campaign = console.stack.campaigns[0]
    status, _, body = console.page({"lang": lang}, {})
    page = body.decode()

    assert status == 200
    assert said in page and not_said not in page.split('id="strings"')[0]
    assert row_name(campaign, campaign["numbers"][0], strings(lang)) == "fr · bar-le-central"
    script = (STATIC / "console.js").read_text(encoding="utf-8")
    assert "T.number_retired" in script  # the counters' rows, named by the page too


def test_every_failure_the_page_can_meet_has_a_sentence_in_both_languages():
    console = _console()
    answers = [_guarded(console.sms)({"from": "+33612345678"}),  # the stack does not answer
               _guarded(console.flood)({"count": "many"})]
    console._flooding.acquire()
    answers.append(console.flood({"count": 3}))

    assert [status for status, _ in answers] == [502, 400, 409]
    for _, answer in answers:
        assert answer["message"]  # for a reader of the JSON
        for lang in ("en", "fr"):
            assert strings(lang)[answer["key"]], (lang, answer["key"])
