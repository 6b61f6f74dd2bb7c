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
