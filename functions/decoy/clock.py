"""Time helpers: UTC days and the scheduler's at() expression."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> float:
    """Epoch seconds; the one clock the handlers read (tests move it)."""
    return time.time()


def utc_day(now: float) -> str:
    """The UTC day an epoch second falls in, as 'YYYY-MM-DD' (the budget's key)."""
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")


def next_utc_midnight(now: float) -> int:
    """Epoch second at which the UTC day containing `now` ends."""
    return (int(now) // 86400 + 1) * 86400


def at_expression(epoch: float) -> str:
    """EventBridge Scheduler one-time expression, to be read with timezone UTC."""
    return "at(" + datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%S") + ")"
