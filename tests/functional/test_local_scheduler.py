"""The local scheduler loop fires a real receiver's schedule as EventBridge Scheduler would."""

from __future__ import annotations

import json

from conftest import schedules
from twilio_fakes import api_event, sms_form

from decoy_local.scheduler import fire_due
from receiver.app import lambda_handler as receive

FAR_FUTURE = 4_000_000_000.0


class Flaky:
    """A target failing its first `failures` invocations."""

    def __init__(self, failures: int):
        self.failures = failures
        self.calls: list[dict] = []

    def __call__(self, order: dict) -> str:
        self.calls.append(order)
        if len(self.calls) <= self.failures:
            raise RuntimeError("target failed")
        return "ok"


def scheduled_order(aws, lambda_context) -> dict:
    receive(api_event("/sms", sms_form("+33612345678", "+33939000001")), lambda_context)
    (detail,) = schedules(aws)
    return json.loads(detail["Target"]["Input"])


def test_a_failing_sender_is_retried_as_lambda_async_invocation_does_then_dead_lettered(
        aws, lambda_context):
    order = scheduled_order(aws, lambda_context)
    target, pauses, dead = Flaky(failures=99), [], []

    fired = fire_due(aws.scheduler, aws.stack.schedule_group, FAR_FUTURE, target,
                     lambda o, exc: dead.append((o, str(exc))), retries=2, pause=pauses.append)

    assert len(target.calls) == 1 + 2
    assert pauses == [0.1, 0.2]
    assert dead == [(order, "target failed")]
    assert fired == [order]
    assert schedules(aws) == []


def test_a_target_recovering_within_the_retries_is_not_dead_lettered(aws, lambda_context):
    scheduled_order(aws, lambda_context)
    target, dead = Flaky(failures=2), []

    fire_due(aws.scheduler, aws.stack.schedule_group, FAR_FUTURE, target,
             lambda o, exc: dead.append(o), retries=2, pause=lambda _: None)

    assert len(target.calls) == 3
    assert dead == []


def test_without_retry_a_failure_goes_straight_to_the_dead_letter(aws, lambda_context):
    scheduled_order(aws, lambda_context)
    target, dead = Flaky(failures=1), []

    fire_due(aws.scheduler, aws.stack.schedule_group, FAR_FUTURE, target,
             lambda o, exc: dead.append(o))

    assert len(target.calls) == 1
    assert len(dead) == 1


class Vanishing:
    """The scheduler client, except that `gone` is deleted between listing and reading it, as
    when the receiver's STOP (or a queued STOP the sender records) cancels a pending reply."""

    def __init__(self, scheduler, group: str, gone: str):
        self._scheduler, self._group, self._gone = scheduler, group, gone

    def __getattr__(self, name):
        return getattr(self._scheduler, name)

    def get_schedule(self, **kwargs):
        if kwargs["Name"] == self._gone:
            self._scheduler.delete_schedule(Name=self._gone, GroupName=self._group)
        return self._scheduler.get_schedule(**kwargs)


def test_a_schedule_deleted_between_listing_and_reading_is_skipped(aws, lambda_context, at):
    """Issue 23.5e: fire_due raised ResourceNotFoundException and the loop lost the tick."""
    for sender in ("+33612345678", "+33612345679"):
        receive(api_event("/sms", sms_form(sender, "+33939000001")), lambda_context)
    group = aws.stack.schedule_group
    first, _ = (s["Name"] for s in aws.scheduler.list_schedules(GroupName=group)
                     ["Schedules"])
    fired: list[dict] = []

    done = fire_due(Vanishing(aws.scheduler, group, gone=first), group, FAR_FUTURE,
                    fired.append)

    assert done == fired and len(fired) == 1
    assert schedules(aws) == []
