"""Receiver: Twilio SMS/voice/status webhooks via API Gateway HTTP API (payload 2.0)."""

from __future__ import annotations

import functools
from typing import Any

from decoy import clock, inbound, runtime, webhook
from decoy.observability import count, logger, observed
from decoy.outcomes import Metric
from decoy.parameters import ParameterError
from decoy.settings import ScheduleTarget, public_webhook_base_url


@functools.cache
def schedule_target() -> ScheduleTarget:
    return ScheduleTarget.from_env()


if runtime.in_lambda():  # INIT phase: a bad setting fails here, naming its variable
    runtime.get()
    schedule_target()
    public_webhook_base_url()


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        request = webhook.parse(event, public_webhook_base_url())
    except webhook.Rejected as rejected:
        count(Metric.BadRequest)  # malformed before any signature check: junk or probing
        return _rejected(rejected)
    try:
        twiml = inbound.answer(request, runtime.get(), schedule_target(), clock.now())
    except webhook.Rejected as rejected:  # counted by inbound (ForgedSignature, UnknownNumber)
        return _rejected(rejected)
    except ParameterError:
        count(Metric.SecretsUnavailable)
        logger.error("secrets unavailable, webhook not verified")
        return webhook.rejection_response(webhook.Rejected(503, "temporarily unavailable"))
    return webhook.twiml_response(twiml)


def _rejected(rejected: webhook.Rejected) -> dict[str, Any]:
    logger.info("webhook rejected", extra={"status": rejected.status, "reason": rejected.reason})
    return webhook.rejection_response(rejected)
