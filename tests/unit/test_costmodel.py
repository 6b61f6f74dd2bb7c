"""The cost model behind docs/cost.md and `make bench-flood`'s worst case."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from decoy.campaigns import load_campaigns
from decoy.segments import count_segments
from decoy_local.template import load_template, parameter_defaults
from decoy_ops.costmodel import (
    Day,
    Defaults,
    Prices,
    Usage,
    day_bound,
    day_cost,
    main,
    markdown_table,
    scenarios,
    throttle_cap,
    usage_thresholds,
    worst_case_day,
)


def test_model_defaults_are_the_template_defaults():
    template = parameter_defaults(load_template())
    assert Defaults() == Defaults(daily_reply_budget=int(template["DailyReplyBudget"]),
                                  api_rate_per_second=int(template["ApiThrottleRateLimit"]),
                                  api_burst=int(template["ApiThrottleBurstLimit"]),
                                  daily_answered_calls=int(template["DailyAnsweredCallBudget"]))


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


def test_zero_budgets_bound_the_day_to_aws_and_inbound_only():
    worst = worst_case_day(100_000, Defaults(daily_reply_budget=0, daily_answered_calls=0))
    assert worst.twilio_replies == worst.twilio_calls == 0
    assert worst.total == pytest.approx(worst.twilio_inbound + worst.aws_total)


def test_aws_grows_with_the_webhooks_that_reach_it():
    small, large = (day_cost(Day(inbound_sms=n, replies=0)).aws_total for n in (1_000, 1_000_000))
    assert 0 < small < large


def test_table_has_one_row_per_scenario():
    assert markdown_table().count("\n| ") == len(scenarios())


def test_answered_calls_are_billed_per_minute_and_rejected_calls_not_at_all():
    day = day_cost(Day(inbound_sms=0, replies=0, inbound_calls=10_000, answered_calls=200))
    assert day.twilio_calls == pytest.approx(200 * Prices().twilio_call_minute_in_eur)


def test_the_worst_case_includes_calls_keyword_replies_and_inbound_in_one_total():
    worst = worst_case_day(throttle_cap(), inbound_calls=1_000_000)
    assert worst.twilio_calls == pytest.approx(200 * 0.01)  # the allowance, not the flood
    assert worst.total == pytest.approx(worst.twilio_inbound + worst.twilio_keyword_replies
                                        + worst.twilio_replies + worst.twilio_calls
                                        + worst.aws_total)
    keyword_billed = Prices(twilio_keyword_reply_eur=0.076)
    assert day_bound(1_000, prices=keyword_billed) - day_bound(1_000) == pytest.approx(76.0)


def test_usage_triggers_sit_above_a_normal_day_of_the_budgets():
    limits = usage_thresholds()
    assert limits.sms_per_day > 500 * Usage().segments_per_reply
    assert limits.call_minutes_per_day > Defaults().daily_answered_calls
    normal = day_cost(Day(inbound_sms=500, replies=500, answered_calls=200))
    assert limits.price_per_day_usd * Prices().eur_per_usd > normal.total - normal.aws_total


def test_docs_cost_md_shows_exactly_what_the_model_prints():
    out = io.StringIO()
    with redirect_stdout(out):
        main()
    doc = (Path(__file__).resolve().parents[2] / "docs" / "cost.md").read_text(encoding="utf-8")
    missing = [line for line in out.getvalue().splitlines() if line and line not in doc]
    assert missing == [], "docs/cost.md disagrees with `make cost` (decoy_ops/costmodel.py)"


def test_the_bound_is_threshold_plus_lag_times_rate_times_numbers_plus_the_configured_part():
    """Issue 22: one finite number that includes inbound SMS and failed-webhook calls."""
    from decoy.campaigns import load_campaigns
    from decoy_ops.costmodel import SHIPPED_NUMBERS, Breakers, breaker_bound, usage_thresholds

    assert len(load_campaigns().numbers()) == SHIPPED_NUMBERS
    bound = breaker_bound()
    limits = usage_thresholds()
    assert limits.off_air_price_per_day_usd > limits.price_per_day_usd  # above level 1
    assert bound.threshold == pytest.approx(limits.off_air_price_per_day_usd * 0.92)
    assert bound.overshoot == pytest.approx(62 * 60 * 10 * 7 * 0.0075)
    assert bound.configured == pytest.approx(worst_case_day(throttle_cap()).bounded_by_config)
    slower = breaker_bound(breakers=Breakers(lag_minutes=240))
    assert slower.total > bound.total
    without_bin = breaker_bound(breakers=Breakers(reject_bin=False))
    assert without_bin.overshoot == pytest.approx(bound.overshoot * 0.01 / 0.0075)
    # what the model said before: a throttle-capped flood; now any rate is bounded
    assert bound.total < worst_case_day(throttle_cap()).total
