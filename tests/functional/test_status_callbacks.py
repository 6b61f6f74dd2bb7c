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


@pytest.mark.parametrize("query, sender", [("campaign=nope", "+33939000001"),
                                           ("", "+33100000000"), ("", "")])
def test_status_callback_for_an_unknown_campaign_gets_404(query, sender, aws, lambda_context):
    form = {**status_form("delivered"), "From": sender}
    response = receive(api_event("/status", form, query=query), lambda_context)
    assert response["statusCode"] == 404
    assert "unknown campaign" in response["body"]


@pytest.mark.parametrize("status", ["", "exploded"])
def test_missing_or_unknown_message_status_gets_400(status, aws, lambda_context):
    response = post_status(lambda_context, "fr", status)
    assert response["statusCode"] == 400


def test_a_callback_without_our_query_is_counted_for_the_campaign_that_sent_it(
        aws, lambda_context, capsys, campaigns_file):
    from conftest import campaign_entry

    service = "MG" + "a" * 32
    campaigns_file(campaign_entry("svc", "+33939000077",
                                  reply_from={"type": "messaging_service", "sid": service}),
                   campaign_entry("alpha", "+33939000078",
                                  reply_from={"type": "alphanumeric", "id": "Decoy"}))
    plain = status_form("delivered")  # From = the fr campaign's own number
    via_service = {**status_form("undelivered", "30007"), "From": "+33939000099",
                   "MessagingServiceSid": service}
    alphanumeric = {**status_form("failed", "30450"), "From": "Decoy"}

    answers = [receive(api_event("/status", form), lambda_context)
               for form in (plain, via_service, alphanumeric)]

    assert [a["statusCode"] for a in answers] == [200, 200, 200]
    assert per_campaign(capsys.readouterr().out) == {
        ("fr", "StatusDelivered"): 1, ("svc", "StatusUndelivered"): 1, ("svc", "Error30007"): 1,
        ("alpha", "StatusFailed"): 1, ("alpha", "Error30450"): 1}
