"""What EventBridge Scheduler does and moto does not: fire due schedules, then delete them."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from decoy.phone import mask_all

FIRST_RETRY_PAUSE = 0.1  # seconds; doubled at each retry (the real scheduler backs off too)


def due_time(expression: str) -> float:
    """Epoch seconds of an `at(yyyy-mm-ddThh:mm:ss)` expression read in UTC."""
    if not (expression.startswith("at(") and expression.endswith(")")):
        raise ValueError(f"not a one-time expression: {expression}")
    moment = datetime.strptime(expression[3:-1], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return moment.timestamp()


def scheduled_time(detail: dict[str, Any]) -> float:
    """When a GetSchedule answer says the schedule fires (epoch seconds)."""
    return due_time(detail["ScheduleExpression"])


def fire_due(scheduler: Any, group: str, now: float, invoke: Callable[[dict], Any],
             dead_letter: Callable[[dict, Exception], None] | None = None, *,
             retries: int = 0, pause: Callable[[float], None] = time.sleep,
             due: Callable[[dict[str, Any]], float] = scheduled_time) -> list[dict]:
    """Invoke `invoke(input)` for every schedule of `group` due at `now`, then delete it.

    `due(get_schedule answer)` says when a schedule fires, in `now`'s time base. Scheduler
    invokes Lambda asynchronously, so a function that raises is invoked `retries` more
    times (the function's EventInvokeConfig.MaximumRetryAttempts), pausing between
    attempts; a failure that remains goes to `dead_letter` (the function's DLQ). The
    schedule is deleted either way, as ActionAfterCompletion=DELETE does.
    """
    fired = []
    paginator = scheduler.get_paginator("list_schedules")
    for page in paginator.paginate(GroupName=group):
        for summary in page["Schedules"]:
            try:
                detail = scheduler.get_schedule(Name=summary["Name"], GroupName=group)
            except ClientError as exc:  # deleted since listed (a STOP cancelled the reply)
                if _not_found(exc):
                    continue
                raise
            if due(detail) > now:
                continue
            order = json.loads(detail["Target"]["Input"])
            try:
                _invoke_with_retries(invoke, order, retries, pause)
            except Exception as exc:  # the scheduler records any target failure
                if dead_letter is None:
                    raise
                dead_letter(order, exc)
            try:
                scheduler.delete_schedule(Name=summary["Name"], GroupName=group)
            except ClientError as exc:
                if not _not_found(exc):
                    raise
            fired.append(order)
    return fired


def _not_found(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException"


def _invoke_with_retries(invoke: Callable[[dict], Any], order: dict, retries: int,
                         pause: Callable[[float], None]) -> Any:
    for attempt in range(retries + 1):
        try:
            return invoke(order)
        except Exception:
            if attempt == retries:
                raise
            pause(FIRST_RETRY_PAUSE * 2 ** attempt)
    return None  # not reached: the last attempt returns or raises


class ScaledDelays:
    """The local scheduler's time: every schedule's delay divided by `scale`, minus skips.

    A schedule created at C for time T fires at C + (T - C) / scale: with scale 360 the
    one-hour reply delay takes 10 s however long the stack has been up. The functions
    keep this clock unscaled, so quotas, windows and the daily budget are not sped up.
    `offset` (seconds) sets that clock apart from the real one (--clock-start), so a run
    can start on any day and hour; moto stamps CreationDate with the real clock.
    """

    def __init__(self, scale: float = 1.0, real: Callable[[], float] = time.time,
                 offset: float = 0.0):
        if scale <= 0:
            raise ValueError("time scale must be positive")
        self.scale = scale
        self.offset = offset
        self._real = real
        self._skips: list[tuple[float, float]] = []  # (time of the skip, seconds skipped)
        self._lock = threading.Lock()

    def now(self) -> float:
        """The functions' clock: the real one moved by `offset`."""
        return self._real() + self.offset

    def due(self, detail: dict[str, Any]) -> float:
        """When a schedule (GetSchedule answer) fires, on this clock."""
        created = detail["CreationDate"].timestamp() + self.offset
        with self._lock:
            skipped = sum(seconds for at, seconds in self._skips if at >= created)
        return created + (scheduled_time(detail) - created - skipped) / self.scale

    def skip(self, seconds: float) -> None:
        """Schedules pending now act as if `seconds` of their delay had already passed."""
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        with self._lock:
            self._skips.append((self.now(), seconds))


class SchedulerLoop(threading.Thread):
    """Fire due schedules every `interval` real seconds, or at once when woken."""

    def __init__(self, tick: Callable[[float], Any], clock: ScaledDelays,
                 interval: float = 0.5, on_error: Callable[[Exception], None] | None = None):
        super().__init__(name="scheduler-loop", daemon=True)
        self._tick = tick
        self.clock = clock
        self._interval = interval
        self._on_error = on_error
        self._wake = threading.Event()
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()  # a wake() during the tick below makes the next one immediate
            try:
                self._tick(self.clock.now())
            except Exception as exc:  # keep firing later schedules; the stack reports it
                if self._on_error is None:
                    raise
                self._on_error(exc)
            self._wake.wait(self._interval)

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self.is_alive():
            self.join(timeout)

def sqs_dead_letter(sqs: Any, queue_url: str) -> Callable[[dict, Exception], None]:
    """The sender's dead-letter queue: the failed event, with the error as attributes."""

    def dead_letter(order: dict, exc: Exception) -> None:
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(order), MessageAttributes={
            "ErrorCode": {"DataType": "String", "StringValue": type(exc).__name__},
            "ErrorMessage": {"DataType": "String", "StringValue": mask_all(str(exc))[:256] or "-"},
        })

    return dead_letter
