"""Sender: invoked by a one-time EventBridge Scheduler schedule with a ReplyOrder as event."""

from __future__ import annotations

import functools
from typing import Any

from decoy import clock, offair, optout, outbound, runtime
from decoy.observability import count, logger, observed
from decoy.outcomes import Metric, Outcome
from decoy.parameters import ParameterError
from decoy.schedule import ReplyOrder
from decoy.settings import Delivery


@functools.cache
def delivery() -> Delivery:
    return Delivery.from_env()


if runtime.in_lambda():  # INIT phase: a bad setting fails here, naming its variable
    runtime.get()
    delivery()


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if optout.is_opt_out_order(event):  # a STOP the receiver could not record (decoy.optout)
        rt = runtime.get()
        return optout.record_queued_opt_out(
            event, rt.dynamodb, rt.scheduler, rt.settings.table_name,
            delivery().schedule_group_name, clock.now(), rt.settings.limits.opt_out_seconds)
    if offair.is_off_air_order(event):  # a level-2 Usage Trigger fired (decoy.offair)
        return _off_air(event)
    try:
        order = ReplyOrder.from_event(event)
    except ValueError as exc:
        # A malformed order can never succeed: drop it (no retry) and say so.
        logger.error("invalid reply order dropped", extra={"reason": str(exc)})
        count(Metric.SendDropped)
        return {"outcome": Outcome.InvalidOrder}
    rt = runtime.get()
    try:
        secrets = rt.secrets(shared_key=False)  # it checks no webhook signature
    except ParameterError:
        # Nothing sent yet: raising lets Lambda's async retries try again, then the DLQ.
        logger.error("secrets unavailable, reply left to the retries")
        count(Metric.SendRetried)
        raise
    return outbound.deliver(order, rt, secrets, delivery(), clock.now())


def _off_air(event: dict[str, Any]) -> dict[str, Any]:
    """Take every number of every campaign (active and retired: retired ones still answer)
    off the air, with the stack's own credentials; failures raise (retries, then the DLQ)."""
    rt = runtime.get()
    try:
        secrets = rt.secrets(shared_key=False)
    except ParameterError:
        count(Metric.OffAirFailed)
        logger.error("secrets unavailable, numbers NOT taken off the air",
                     extra={"by_hand": offair.BY_HAND})
        raise
    settings = delivery()
    return offair.run_order(
        event, lambda: outbound.twilio_client(secrets.account_sid, secrets.auth_token,
                                              settings.twilio_api_base_url),
        rt.campaigns.numbers(), settings.voice_reject_url)
