"""A few thousand webhooks from several threads (bench/floodlib.py): the shield's invariants hold.

Each thread is pinned to one of a few emulated Lambda containers (own Runtime, own caches);
the table, schedules and SSM parameters are shared, as in production.
"""

from __future__ import annotations

import pytest
from conftest import NOW

from bench import floodlib
from decoy import observability
from receiver.app import lambda_handler as receive
from sender.app import lambda_handler as send

DECOY = "+33939000001"
THREADS, CONTAINERS = 8, 4
# Threads share powertools' metric set, so one flush can find it empty: harmless here.
pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def quiet(monkeypatch):
    """Warnings only and no EMF, as the bench runs: thousands of lines otherwise."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    level = observability.logger.level
    observability.logger.setLevel("WARNING")
    yield
    observability.logger.setLevel(level)


@pytest.fixture
def flood(aws, twilio_api, lambda_context, at, monkeypatch, quiet):
    def run(mix: floodlib.FloodMix, budget: int) -> floodlib.FloodReport:
        monkeypatch.setenv("DAILY_REPLY_BUDGET", str(budget))
        return floodlib.run(mix, scheduler=aws.scheduler, group=aws.stack.schedule_group,
                            to=DECOY, now=NOW, delay=int(aws.env["REPLY_DELAY_SECONDS"]),
                            budget=budget, receive=receive, send=send, context=lambda_context,
                            sent=twilio_api.sent, threads=THREADS, container_count=CONTAINERS)

    return run


def test_flood_over_budget_schedules_exactly_the_budget_and_sends_each_reply_once(flood):
    mix = floodlib.FloodMix(heavy_messages=1_000, senders=1_000, messages_per_sender=4)

    report = flood(mix, budget=60)

    assert report.plan.eligible_senders > 60
    assert report.violations() == []
    assert report.scheduled == len(report.sent) == 60
    transactions = report.received.aws_calls["dynamodb:TransactWriteItems"]
    # Each reply reserves once; each thread is refused at most once before its container
    # remembers the budget is spent; a retry may race its original.
    assert transactions <= 60 + THREADS + report.plan.composition["retry"]
    assert report.received.calls_per(len(report.plan.arrivals), "dynamodb") < 0.1


def test_flood_under_budget_replies_once_to_every_eligible_sender(flood):
    mix = floodlib.FloodMix(heavy_messages=200, senders=100, messages_per_sender=4)

    report = flood(mix, budget=10_000)

    assert report.violations() == []
    assert report.scheduled == len(report.sent) == report.plan.eligible_senders
    assert report.duplicates_sent == 0


def test_flood_plan_counts_what_the_shield_must_let_through():
    mix = floodlib.FloodMix(heavy_messages=50, senders=100, messages_per_sender=4,
                            disallowed_share=0.2, forged_share=1.0)

    everything_forged = floodlib.plan(mix)

    assert len(everything_forged.arrivals) == mix.total == 450
    assert everything_forged.eligible_senders == 0
    assert floodlib.plan(floodlib.FloodMix(heavy_messages=50, senders=100, messages_per_sender=4,
                                           disallowed_share=0.2, forged_share=0.0,
                                           retry_share=0.0)).eligible_senders == 81


@pytest.fixture
def billed_flood(aws, twilio_api, lambda_context, monkeypatch, quiet):
    def run(name, events, reply_budget: int, call_allowance: int, before=None):
        monkeypatch.setenv("DAILY_REPLY_BUDGET", str(reply_budget))
        monkeypatch.setenv("DAILY_ANSWERED_CALL_BUDGET", str(call_allowance))
        return floodlib.run_billed(
            name, events, scheduler=aws.scheduler, group=aws.stack.schedule_group, to=DECOY,
            delay=int(aws.env["REPLY_DELAY_SECONDS"]), receive=receive, send=send,
            context=lambda_context, sent=twilio_api.sent, threads=THREADS,
            container_count=CONTAINERS, reply_budget=reply_budget,
            call_allowance=call_allowance, before=before)

    return run


def test_a_mixed_flood_of_calls_and_sms_keeps_every_daily_bound(billed_flood):
    events = floodlib.replay_2017(floodlib.Profile2017(calls=600, sms=400, hours=48),
                                  NOW - NOW % floodlib.DAY)

    billing = billed_flood("mixed", events, reply_budget=30, call_allowance=20)

    assert len(billing.days) >= 2
    assert billing.missed() == []
    for day in billing.days:
        assert billing.replies[day] == 30  # the flood spends each day's budget, never more
        assert billing.counts[("answered", day)] == 20
    assert billing.total("answered") + billing.total("rejected") == billing.total("call") == 600
    assert billing.sent == sum(billing.replies.values())


def test_one_caller_hears_the_voicemail_for_the_quota_then_busy_and_the_kill_switch_rejects_all(
        billed_flood, aws):
    start = NOW - NOW % floodlib.DAY
    one = billed_flood("one", floodlib.one_caller(200, start), reply_budget=30,
                       call_allowance=20)
    switch = aws.env["KILL_SWITCH_PARAMETER"]
    killed = billed_flood("killed", floodlib.many_callers(50, start + floodlib.DAY), 30, 20,
                          before=lambda: aws.ssm.put_parameter(Name=switch, Value="on",
                                                               Overwrite=True))

    assert (one.total("answered"), one.total("rejected"), one.sent) == (5, 195, 1)
    assert (killed.total("answered"), killed.sent) == (0, 0)
    assert one.missed() == killed.missed() == []
