"""One vocabulary: every outcome and metric name is spelled once, in decoy.outcomes, and each
has a plain sentence in French and English."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from decoy import outcomes
from decoy.outcomes import (
    ANSWERED_CALL,
    LANGUAGES,
    RECEIVER_OUTCOMES,
    SENTENCES,
    Metric,
    Outcome,
    error_metric,
    is_metric,
    send_error_metric,
    sentence,
    status_metric,
)

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("functions", "decoy_local", "decoy_ops", "bench", "tools")
HOME = ROOT / "functions" / "decoy" / "outcomes.py"
PROTOCOL_WORDS = re.compile(r"twiml|e\.?164|webhook|http|dynamodb|scheduler|sms\b|api|sid\b",
                            re.I)
NAMES = [*Outcome, *Metric]


def spelled_names() -> list[tuple[str, int, str]]:
    """(file, line, name) of each string literal equal to an outcome or metric name."""
    found = []
    for folder in SCANNED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == HOME:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                        and is_metric(node.value):
                    found.append((path.relative_to(ROOT).as_posix(), node.lineno, node.value))
    return found


def test_no_module_but_outcomes_spells_an_outcome_or_metric_name():
    assert spelled_names() == []


def test_the_scan_would_see_a_spelled_name():
    source = 'count("BlockedQuota"); x = {"StatusDelivered": 1}; y = "Error30007"'
    names = [n.value for n in ast.walk(ast.parse(source))
             if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    assert sorted(n for n in names if is_metric(n)) == ["BlockedQuota", "Error30007",
                                                        "StatusDelivered"]


def test_names_are_their_own_values_and_unique():
    assert [str(n) for n in NAMES] == [n.name for n in NAMES]
    assert len({str(n) for n in NAMES}) == len(NAMES)


@pytest.mark.parametrize("name", NAMES, ids=str)
def test_every_name_has_a_plain_sentence_in_both_languages(name):
    assert name in SENTENCES
    en, fr = name.sentence("en"), name.sentence("fr")
    for text in (en, fr):
        assert text[:1].isupper() and text.endswith("."), text
        assert str(name) not in text
        assert not PROTOCOL_WORDS.search(text), text
    assert en != fr


def test_sentences_are_the_ones_people_read():
    assert Outcome.BlockedCountry.sentence("fr") == (
        "Ce numéro n'est pas dans les pays autorisés\u202f: aucune réponse ne sera envoyée.")
    assert Outcome.BlockedCountry.sentence("en") == (
        "This number is not in the allowed countries: no reply will be sent.")
    assert sentence("StatusDelivered", "fr").startswith("État de remise")
    assert sentence("Error30007") == "A reply was not delivered (error 30007)."
    assert sentence("NotAMetric") == "NotAMetric"
    assert set(LANGUAGES) == {"en", "fr"}


def test_french_sentences_never_break_a_line_before_a_colon():
    from decoy.outcomes import french_typography

    for name in NAMES:
        text = name.sentence("fr")
        assert " :" not in text and " ?" not in text and "« " not in text, text
    assert french_typography("Compté : « occupé » ! ok ?") == \
        "Compté\u202f: «\u202foccupé\u202f»\u202f! ok\u202f?"


def test_families_build_the_names_the_dashboard_watches():
    assert status_metric("partially_delivered") == "StatusPartiallyDelivered"
    assert error_metric("30450") == "Error30450"
    assert send_error_metric(21408) == "SendError21408"
    assert all(is_metric(status_metric(s)) for s in outcomes.DELIVERY_STATUSES)
    assert not is_metric("StatusCallback")  # a Twilio parameter, not a delivery status


def test_answered_calls_and_receiver_outcomes_are_outcomes():
    assert ANSWERED_CALL <= set(RECEIVER_OUTCOMES) <= set(Outcome)
    assert Outcome.BlockedCallAllowance in RECEIVER_OUTCOMES
    assert Outcome.BlockedCallAllowance not in ANSWERED_CALL


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_count_has_a_short_row_name_in_plain_words(lang):
    from decoy.outcomes import LABELS, label

    names = [*NAMES, status_metric("partially_delivered"), error_metric(30007),
             send_error_metric(21610)]
    assert set(LABELS) == set(NAMES)
    for name in names:
        row = label(name, lang)
        assert row and len(row) <= 48 and not is_metric(row), (name, row)
        assert not PROTOCOL_WORDS.search(row), (name, row)
        assert not re.search(r"[ \u00a0][:;!?]", row), (name, row)  # French typography
    assert label(status_metric("partially_delivered"), "fr") == "réponses remises en partie"
    assert sentence(status_metric("delivered"), "fr").endswith("\u202f: remise.")
