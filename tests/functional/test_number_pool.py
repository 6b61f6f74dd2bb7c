"""A campaign's pool of numbers through the real handlers: the reply comes from the number
that was texted, old orders still send, the delay window, and the per-number counts."""

from __future__ import annotations

import pytest
from conftest import NOW, campaign_entry, fire_all, schedule_inputs, schedules
from emf import emitted_metrics, per_label
from twilio_fakes import HASH_KEY, api_event, call_form, new_sid, sms_form

from decoy.campaigns import load_campaigns
from decoy.clock import at_expression
from decoy.observability import LABELLED
from decoy.phone import sender_key
from receiver.app import lambda_handler as receive
from sender.app import lambda_handler as send

POOL = [{"number": "+33939000041", "label": "bar-le-central"},
        {"number": "+33939000042", "label": "campus"},
        {"number": "+33939000043", "label": "cards-2017", "status": "retired"}]
SENDERS = ["+33612345601", "+33612345602", "+33612345603"]


@pytest.fixture
def pool(campaigns_file):
    entry = campaign_entry("pool", POOL[0]["number"], numbers=POOL)
    del entry["number"]
    campaigns_file(entry)
    return load_campaigns().by_id("pool")


def test_each_reply_comes_from_the_pool_number_that_was_texted_retired_ones_too(
        pool, aws, twilio_api, lambda_context, at):
    for sender, entry in zip(SENDERS, POOL, strict=True):
        assert receive(api_event("/sms", sms_form(sender, entry["number"])),
                       lambda_context)["statusCode"] == 200
    assert sorted(o["number"] for o in schedule_inputs(aws)) == [n["number"] for n in POOL]

    fire_all(aws, lambda_context, NOW + 3600)

    assert sorted((m["To"], m["From"]) for m in twilio_api.sent) == [
        (s, n["number"]) for s, n in zip(SENDERS, POOL, strict=True)]
    assert {m["Body"] for m in twilio_api.sent} == {"Reponse de pool."}


def test_a_caller_of_a_pool_number_gets_the_sms_from_that_number(
        pool, aws, twilio_api, lambda_context, at):
    receive(api_event("/voice", call_form(SENDERS[0], POOL[1]["number"])), lambda_context)
    fire_all(aws, lambda_context, NOW + 3600)
    (message,) = twilio_api.sent
    assert message["From"] == POOL[1]["number"]


def test_an_order_scheduled_before_pools_existed_is_still_sent_from_the_campaigns_number(
        pool, aws, twilio_api, lambda_context, at):
    old_shape = {"v": 1, "campaign": "pool", "to": SENDERS[0],
                 "sender_key": sender_key(SENDERS[0], HASH_KEY.encode()), "sid": new_sid("SM")}
    at(NOW + 3600)
    assert send(old_shape, lambda_context)["outcome"] == "Sent"
    (message,) = twilio_api.sent
    assert (message["To"], message["From"]) == (SENDERS[0], pool.number)


def test_an_order_naming_a_number_no_longer_in_the_pool_is_sent_from_the_campaigns_number(
        pool, aws, twilio_api, lambda_context, at):
    order = {"v": 1, "campaign": "pool", "to": SENDERS[0], "number": "+33939000099",
             "sender_key": sender_key(SENDERS[0], HASH_KEY.encode()), "sid": new_sid("SM")}
    at(NOW + 3600)
    send(order, lambda_context)
    (message,) = twilio_api.sent
    assert message["From"] == POOL[0]["number"]


def test_a_delay_window_schedules_each_reply_at_a_moment_of_the_window(
        aws, twilio_api, lambda_context, at, campaigns_file):
    campaigns_file(campaign_entry("window", "+33939000051",
                                  delay_window={"min_seconds": 1800, "max_seconds": 3600}))
    campaign = load_campaigns().by_id("window")
    forms = [sms_form(f"+336123456{i:02d}", "+33939000051") for i in range(12)]
    for form in forms:
        receive(api_event("/sms", form), lambda_context)

    by_name = {s["Name"]: s["ScheduleExpression"] for s in schedules(aws)}
    delays = [campaign.reply_delay(3600, f["MessageSid"]) for f in forms]
    for form, delay in zip(forms, delays, strict=True):
        assert 1800 <= delay <= 3600
        assert by_name[f"reply-{form['MessageSid']}"] == at_expression(NOW + delay)
    assert len(set(delays)) > 6  # spread over the window, not one fixed moment
    assert fire_all(aws, lambda_context, NOW + 1799) == []
    fire_all(aws, lambda_context, NOW + 3600)
    assert len(twilio_api.sent) == 12


def test_counts_per_number_label_cover_a_few_metrics_only(
        pool, aws, twilio_api, lambda_context, at, capsys):
    receive(api_event("/sms", sms_form(SENDERS[0], POOL[1]["number"])), lambda_context)
    receive(api_event("/sms", sms_form(SENDERS[1], POOL[2]["number"])), lambda_context)
    fire_all(aws, lambda_context, NOW + 3600)
    out = capsys.readouterr().out

    assert per_label(out) == {
        ("pool", "campus", "Received"): 1, ("pool", "campus", "Scheduled"): 1,
        ("pool", "campus", "Sent"): 1,
        ("pool", "cards-2017", "Received"): 1, ("pool", "cards-2017", "Scheduled"): 1,
        ("pool", "cards-2017", "Sent"): 1}
    labelled = {name for blob in emitted_metrics(out) if "label" in blob["dimensions"]
                for name in blob["metrics"]}
    assert labelled <= set(LABELLED)
    assert {tuple(sorted(b["dimensions"])) for b in emitted_metrics(out)} == {
        ("service",), ("campaign", "service"), ("campaign", "label", "service")}
