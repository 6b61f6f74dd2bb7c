"""The cost model behind docs/cost.md and `make bench-flood`'s worst case."""

from __future__ import annotations

import pytest

from decoy.campaigns import load_campaigns
from decoy.segments import count_segments
from decoy_local.costmodel import (
    Day,
    Defaults,
    Usage,
    day_cost,
    markdown_table,
    scenarios,
    throttle_cap,
    worst_case_day,
)
from decoy_local.template import load_template, parameter_defaults


def test_model_defaults_are_the_template_defaults():
    template = parameter_defaults(load_template())
    assert Defaults() == Defaults(daily_reply_budget=int(template["DailyReplyBudget"]),
                                  api_rate_per_second=int(template["ApiThrottleRateLimit"]),
                                  api_burst=int(template["ApiThrottleBurstLimit"]))


def test_every_default_reply_fits_the_segments_the_model_charges():
    for campaign in load_campaigns():
        assert count_segments(campaign.reply).segments <= Usage().segments_per_reply


def test_a_day_of_the_default_budget_costs_76_euros_of_replies():
    assert day_cost(Day(inbound_sms=0, replies=500)).twilio_replies == pytest.approx(76.0)


def test_one_answered_sms_costs_what_the_2017_number_paid():
    cost = day_cost(Day(inbound_sms=1, replies=1))
    assert cost.twilio_inbound + cost.twilio_replies == pytest.approx(0.1595)  # "16 centimes"


def test_inbound_sms_are_billed_whatever_the_shield_decides():
    assert day_cost(Day(inbound_sms=1_000_000, replies=0)).twilio_inbound == pytest.approx(7_500)


def test_worst_case_spends_the_budget_and_caps_aws_at_the_throttle():
    cap = throttle_cap()
    assert cap == 20 * 86_400 + 50
    at_cap, beyond = worst_case_day(cap), worst_case_day(10 * cap)
    assert at_cap.twilio_replies == beyond.twilio_replies == pytest.approx(76.0)
    assert at_cap.aws == beyond.aws
    assert beyond.twilio_inbound == pytest.approx(10 * at_cap.twilio_inbound)
    assert 76 < at_cap.bounded_by_config < 100


def test_a_zero_budget_bounds_the_day_to_aws_and_inbound_only():
    worst = worst_case_day(100_000, Defaults(daily_reply_budget=0))
    assert worst.twilio_replies == 0
    assert worst.total == pytest.approx(worst.twilio_inbound + worst.aws_total)


def test_aws_grows_with_the_webhooks_that_reach_it():
    small, large = (day_cost(Day(inbound_sms=n, replies=0)).aws_total for n in (1_000, 1_000_000))
    assert 0 < small < large


def test_table_has_one_row_per_scenario():
    assert markdown_table().count("\n| ") == len(scenarios())
