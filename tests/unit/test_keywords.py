"""STOP and HELP keywords, as Twilio and its Advanced Opt-Out flag them; status metric names."""

from __future__ import annotations

import pytest

from decoy.inbound import is_help, is_stop
from decoy.outcomes import metric_name


@pytest.mark.parametrize("body", [
    "STOP", "stop", "Stop", " stop ", "Stop.", "STOP!", "arret", "ARRÊT", "Arrêt !", "arrête",
    "STOPP", "stopp", "Unsubscribe", "STOPALL", "stop all", "Cancel", "END", "quit", "optout",
])
def test_single_word_opt_out_keywords_are_stop_in_any_case_and_accent(body):
    assert is_stop(body)


@pytest.mark.parametrize("body", [
    "", "salut", "stop please now", "Stop it", "non stop", "arrêtez de m'écrire", "STOP STOP",
    "stopper", "help", "aide",
])
def test_messages_that_merely_contain_stop_are_not_opt_outs(body):
    assert not is_stop(body)


@pytest.mark.parametrize(("body", "opt_out_type"), [
    ("Arrêtez de m'écrire", "STOP"),  # Advanced Opt-Out: the deployer's own keyword
    ("n'importe quoi", "stop"),
    ("salut", " STOP "),
])
def test_advanced_opt_out_type_stop_is_a_stop_whatever_the_body(body, opt_out_type):
    assert is_stop(body, opt_out_type)


@pytest.mark.parametrize("opt_out_type", ["START", "HELP", "", "unknown"])
def test_other_opt_out_types_are_not_a_stop(opt_out_type):
    assert not is_stop("salut", opt_out_type)


@pytest.mark.parametrize(("body", "opt_out_type", "expected"), [
    ("HELP", "", True), ("aide", "", True), ("Aide !", "", True), ("info", "", True),
    ("hulp", "", True), ("au secours je", "HELP", True), ("help me please", "", False),
    ("salut", "", False), ("STOP", "", False),
])
def test_help_keywords(body, opt_out_type, expected):
    assert is_help(body, opt_out_type) is expected


@pytest.mark.parametrize(("status", "name"), [
    ("delivered", "StatusDelivered"), ("undelivered", "StatusUndelivered"),
    ("failed", "StatusFailed"), ("partially_delivered", "StatusPartiallyDelivered"),
])
def test_status_metric_names(status, name):
    assert metric_name("Status", status) == name
