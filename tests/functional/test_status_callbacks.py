"""POST /status: Twilio's delivery callbacks, signed, counted per campaign; nothing stored."""

from __future__ import annotations

import pytest
from emf import emitted_metrics, per_campaign
from twilio_fakes import api_event, status_form

from receiver.app import lambda_handler as receive


def post_status(context, campaign: str, status: str, error: str = "", **kwargs):
    return receive(api_event("/status", status_form(status, error),
                             query=f"campaign={campaign}", **kwargs), context)


def test_delivery_statuses_and_error_codes_are_counted_per_campaign(
        aws, lambda_context, capsys, aws_calls):
    post_status(lambda_context, "fr", "sent")  # warm up: secrets read once
    calls = aws_calls()
    capsys.readouterr()

    answers = [post_status(lambda_context, "fr", "delivered"),
               post_status(lambda_context, "fr", "delivered"),
               post_status(lambda_context, "fr", "undelivered", "30007"),
               post_status(lambda_context, "nl-be", "failed", "30450"),
               post_status(lambda_context, "en", "partially_delivered")]

    assert {a["statusCode"] for a in answers} == {200}
    counts = per_campaign(capsys.readouterr().out)
    assert counts == {
        ("fr", "StatusDelivered"): 2, ("fr", "StatusUndelivered"): 1, ("fr", "Error30007"): 1,
        ("nl-be", "StatusFailed"): 1, ("nl-be", "Error30450"): 1,
        ("en", "StatusPartiallyDelivered"): 1,
    }
    assert sum(calls.values()) == 0  # counted in metrics only: no DynamoDB, no number stored


def test_totals_without_the_campaign_dimension_feed_the_alarms(aws, lambda_context, capsys):
    post_status(lambda_context, "fr", "undelivered", "30007")
    blobs = emitted_metrics(capsys.readouterr().out)
    (total,) = [b for b in blobs if "campaign" not in b["dimensions"]]
    assert total["dimensions"] == {"service": "decoy-number"}
    assert set(total["metrics"]) == {"StatusUndelivered", "Error30007"}


def test_forged_status_callback_gets_403_and_counts_nothing(aws, lambda_context, capsys):
    response = post_status(lambda_context, "fr", "failed", "30007", token="forged")
    assert response["statusCode"] == 403
    counts = {name for b in emitted_metrics(capsys.readouterr().out) for name in b["metrics"]}
    assert counts == {"ForgedSignature"}


def test_campaign_changed_after_signing_is_a_forgery(aws, lambda_context):
    event = api_event("/status", status_form("delivered"), query="campaign=fr")
    event["rawQueryString"] = "campaign=en"
    assert receive(event, lambda_context)["statusCode"] == 403


@pytest.mark.parametrize("query", ["campaign=nope", ""])
def test_status_callback_for_an_unknown_campaign_gets_404(query, aws, lambda_context):
    response = receive(api_event("/status", status_form("delivered"), query=query),
                       lambda_context)
    assert response["statusCode"] == 404
    assert "unknown campaign" in response["body"]


@pytest.mark.parametrize("status", ["", "exploded"])
def test_missing_or_unknown_message_status_gets_400(status, aws, lambda_context):
    response = post_status(lambda_context, "fr", status)
    assert response["statusCode"] == 400
