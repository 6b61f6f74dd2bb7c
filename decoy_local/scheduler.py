"""What EventBridge Scheduler does and moto does not: fire due schedules, then delete them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError


def due_time(expression: str) -> float:
    """Epoch seconds of an `at(yyyy-mm-ddThh:mm:ss)` expression read in UTC."""
    if not (expression.startswith("at(") and expression.endswith(")")):
        raise ValueError(f"not a one-time expression: {expression}")
    moment = datetime.strptime(expression[3:-1], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return moment.timestamp()


def fire_due(scheduler: Any, group: str, now: float, invoke: Callable[[dict], Any],
             dead_letter: Callable[[dict, Exception], None] | None = None) -> list[dict]:
    """Invoke `invoke(input)` for every schedule of `group` due at `now`, then delete it.

    A failing invocation goes to `dead_letter` (the DLQ) and the schedule is deleted too,
    as ActionAfterCompletion=DELETE does once retries are exhausted.
    """
    fired = []
    paginator = scheduler.get_paginator("list_schedules")
    for page in paginator.paginate(GroupName=group):
        for summary in page["Schedules"]:
            detail = scheduler.get_schedule(Name=summary["Name"], GroupName=group)
            if due_time(detail["ScheduleExpression"]) > now:
                continue
            order = json.loads(detail["Target"]["Input"])
            try:
                invoke(order)
            except Exception as exc:  # the scheduler records any target failure
                if dead_letter is None:
                    raise
                dead_letter(order, exc)
            try:
                scheduler.delete_schedule(Name=summary["Name"], GroupName=group)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
            fired.append(order)
    return fired


def with_async_retries(invoke: Callable[[dict], Any], retries: int = 2) -> Callable[[dict], Any]:
    """Lambda's asynchronous invocation (how Scheduler calls the sender): an event whose
    invocation raises is retried `retries` times, then the last error goes on (to the DLQ)."""

    def invoke_async(order: dict) -> Any:
        for attempt in range(retries + 1):
            try:
                return invoke(order)
            except Exception:  # the function failed: Lambda retries the same event
                if attempt == retries:
                    raise
        return None

    return invoke_async


def sqs_dead_letter(sqs: Any, queue_url: str) -> Callable[[dict, Exception], None]:
    """The sender's dead-letter queue: the failed event, with the error as attributes."""

    def dead_letter(order: dict, exc: Exception) -> None:
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(order), MessageAttributes={
            "ErrorCode": {"DataType": "String", "StringValue": type(exc).__name__},
            "ErrorMessage": {"DataType": "String", "StringValue": str(exc)[:256] or "-"},
        })

    return dead_letter
