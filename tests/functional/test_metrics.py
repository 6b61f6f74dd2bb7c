"""The EMF counts the alarms and the dashboard read, as the real handlers print them."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from twilio_fakes import api_event, new_sid, sms_form

from receiver.app import lambda_handler as receive
from sender.app import lambda_handler as send

DECOY = "+33939000001"


def emf(capsys) -> dict[tuple[str, ...], Counter]:
    """Metric sums printed since the last call, keyed by dimension names."""
    sums: dict[tuple[str, ...], Counter] = {}
    for line in capsys.readouterr().out.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        record = json.loads(line)
        (directive,) = record["_aws"]["CloudWatchMetrics"]
        (dims,) = directive["Dimensions"]
        key = tuple(f"{d}={record[d]}" for d in dims)
        for metric in directive["Metrics"]:
            sums.setdefault(key, Counter())[metric["Name"]] += sum(record[metric["Name"]])
    return sums


TOTAL = ("service=decoy-number",)
FR = ("campaign=fr", "service=decoy-number")


def test_accepted_sms_counts_received_scheduled_and_one_unit_of_budget(
        aws, lambda_context, capsys):
    form = sms_form("+33612345678", DECOY)
    receive(api_event("/sms", form), lambda_context)
    first = emf(capsys)
    receive(api_event("/sms", form), lambda_context)  # Twilio retries the same MessageSid
    retry = emf(capsys)

    assert first[TOTAL] == Counter(Received=1, Scheduled=1, BudgetUsed=1)
    assert first[FR] == first[TOTAL]
    assert retry[TOTAL] == Counter(Received=1, Duplicate=1)  # no second unit of budget


def test_spent_budget_counts_blocked_budget_and_no_budget_used(
        aws, lambda_context, capsys, monkeypatch):
    monkeypatch.setenv("DAILY_REPLY_BUDGET", "1")
    receive(api_event("/sms", sms_form("+33611111111", DECOY)), lambda_context)
    emf(capsys)
    receive(api_event("/sms", sms_form("+33622222222", DECOY)), lambda_context)
    assert emf(capsys)[FR] == Counter(Received=1, BlockedBudget=1)


@pytest.mark.parametrize("sender, outcome", [
    ("+447700900123", "BlockedCountry"),  # not in the fr campaign's allow-list
    ("TWILIO", "BlockedCountry"),  # alphanumeric sender ID
])
def test_disallowed_senders_are_counted_per_campaign(aws, lambda_context, capsys, sender,
                                                     outcome):
    receive(api_event("/sms", sms_form(sender, DECOY)), lambda_context)
    assert emf(capsys)[FR] == Counter(Received=1, **{outcome: 1})


def test_forged_signature_is_counted_in_total_only(aws, lambda_context, capsys):
    """The campaign of a forged request is whatever the forger claims: not worth a dimension."""
    receive(api_event("/sms", sms_form("+33612345678", DECOY), token="forged"), lambda_context)
    assert emf(capsys) == {TOTAL: Counter(ForgedSignature=1)}


def test_stop_counts_opt_out(aws, lambda_context, capsys):
    receive(api_event("/sms", sms_form("+33612345678", DECOY, body="STOP")), lambda_context)
    assert emf(capsys)[FR] == Counter(Received=1, OptOut=1)


def test_sender_counts_sent_and_send_failed(aws, twilio_api, lambda_context, capsys):
    order = {"v": 1, "campaign": "fr", "to": "+33612345678", "sender_key": "k" * 64}
    send({**order, "sid": new_sid()}, lambda_context)
    twilio_api.fail_next(400, 21211)
    send({**order, "sid": new_sid()}, lambda_context)
    sums = emf(capsys)
    assert sums[FR] == Counter(Sent=1, SendFailed=1, SendError21211=1)
    assert sums[TOTAL] == sums[FR]


def test_a_malformed_request_counts_bad_request_before_any_signature_check(
        aws, lambda_context, capsys):
    event = api_event("/sms", sms_form("+33612345678", DECOY))
    event["headers"]["content-type"] = "application/json"
    assert receive(event, lambda_context)["statusCode"] == 415
    assert emf(capsys) == {TOTAL: Counter(BadRequest=1)}
