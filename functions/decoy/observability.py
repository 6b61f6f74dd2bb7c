"""Logger, metrics and opt-in tracer for both functions; numbers are masked on the way out."""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from decoy.outcomes import Metric, Outcome
from decoy.phone import mask_all

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "decoy-number")


def _masked(value: Any) -> Any:
    """Mask the text inside a record's values, keeping numbers numbers (an epoch in ms stays
    valid JSON; masking the serialised line turned it into `********00`)."""
    if isinstance(value, str):
        return mask_all(value)
    if isinstance(value, dict):
        return {mask_all(str(k)): _masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_masked(v) for v in value]
    return value


def _masked_json(record: dict[str, Any]) -> str:
    # Mask at serialisation so messages, extras and tracebacks are all covered; value by
    # value, so every line stays JSON for Logs Insights and the metric filters.
    return json.dumps(_masked(record), default=lambda o: mask_all(str(o)), ensure_ascii=False,
                      separators=(",", ":"))


_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime"}


class MaskNumbers(logging.Filter):
    """Mask phone numbers in a record itself, so every handler (not only ours) sees them masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg, record.args = mask_all(record.getMessage()), None
        for name, value in list(vars(record).items()):
            if name not in _RECORD_ATTRIBUTES and isinstance(value, str):
                setattr(record, name, mask_all(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_all(logging.Formatter().formatException(record.exc_info))
        return True


MASK_NUMBERS = MaskNumbers()


def mask_library_logs() -> None:
    """Libraries' records (botocore, twilio, ...) reach the root handlers: mask there too."""
    for handler in logging.root.handlers:
        if MASK_NUMBERS not in handler.filters:
            handler.addFilter(MASK_NUMBERS)


def json_package_logs() -> None:
    """POWERTOOLS_DEBUG gives powertools' own logger a plain-text handler: make its lines
    JSON through our formatter (numbers masked), like every other line."""
    for handler in logging.getLogger("aws_lambda_powertools").handlers:
        if not isinstance(handler, logging.NullHandler):
            handler.setFormatter(LambdaPowertoolsFormatter(json_serializer=_masked_json))
            if MASK_NUMBERS not in handler.filters:
                handler.addFilter(MASK_NUMBERS)


json_package_logs()  # before our Logger: its construction logs at DEBUG already

logger = Logger(service=SERVICE, json_serializer=_masked_json)
logger.addFilter(MASK_NUMBERS)
mask_library_logs()  # in Lambda the runtime's root handler exists before our import


# Totals (dimension: service) feed the alarms; the per-campaign copy feeds the dashboard;
# a third copy per number label (campaign + label), for LABELLED metrics only: each label
# adds len(LABELLED) CloudWatch metrics, bounded by MAX_NUMBERS_PER_CAMPAIGN (cost:
# docs/campaigns.md "Counts per number").
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "DecoyNumber")  # template default
metrics = Metrics(service=SERVICE, namespace=NAMESPACE)
campaign_metrics = EphemeralMetrics(service=SERVICE, namespace=NAMESPACE)
label_metrics = EphemeralMetrics(service=SERVICE, namespace=NAMESPACE)
LABELLED = frozenset({Metric.Received, Outcome.Scheduled, Outcome.Sent})
_campaign: dict[str, str | None] = {"id": None, "label": None}


def set_campaign(campaign_id: str, label: str | None = None) -> None:
    """Attach this invocation's per-campaign counts to `campaign_id` (and the LABELLED ones
    to the label of the pool's number it concerns, when known)."""
    _campaign["id"], _campaign["label"] = campaign_id, label


def count(name: str, value: float = 1) -> None:
    """One EMF count, as a total and for the current campaign when known."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    campaign_metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    if name in LABELLED:
        label_metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def _flush_campaign_metrics() -> None:
    campaign_id, label = _campaign["id"], _campaign["label"]
    _campaign["id"] = _campaign["label"] = None
    if campaign_id and campaign_metrics.metric_set:
        campaign_metrics.add_dimension(name="campaign", value=campaign_id)
        campaign_metrics.flush_metrics()
    if campaign_id and label and label_metrics.metric_set:
        label_metrics.add_dimension(name="campaign", value=campaign_id)
        label_metrics.add_dimension(name="label", value=label)
        label_metrics.flush_metrics()
    campaign_metrics.clear_metrics()
    label_metrics.clear_metrics()


def tracing_enabled() -> bool:
    """The powertools Tracer runs only when the template's EnableTracer turns it on."""
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "true").strip().lower() not in (
        "true", "1")


def traced(handler: Callable[[dict, Any], Any]) -> Callable[[dict, Any], Any]:
    """X-Ray subsegments via powertools Tracer, when enabled; otherwise the handler as is."""
    if not tracing_enabled():
        return handler
    # The X-Ray SDK costs ~100 ms of cold start (docs/performance.md): loaded only when on.
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE).capture_lambda_handler(handler)


def observed(handler: Callable[[dict, Any], Any]) -> Callable[[dict, Any], Any]:
    """Logger context, metric flush and the opt-in tracer around a Lambda handler."""

    @functools.wraps(handler)
    def wrapper(event: dict, context: Any) -> Any:
        try:
            return handler(event, context)
        finally:
            _flush_campaign_metrics()

    # log_event=False whatever POWERTOOLS_LOGGER_LOG_EVENT says: the event holds the body
    # (base64) and the clear number, which no masking can see.
    return logger.inject_lambda_context(clear_state=True, log_event=False)(
        traced(metrics.log_metrics(wrapper)))
