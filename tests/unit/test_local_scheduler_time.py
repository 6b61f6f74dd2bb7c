"""Time scale: each schedule's own delay is divided, whenever it was created."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from decoy.clock import at_expression
from decoy_local.scheduler import ScaledDelays


def schedule(created: float, delay: float) -> dict:
    return {"CreationDate": datetime.fromtimestamp(created, UTC),
            "ScheduleExpression": at_expression(created + delay)}


def test_a_one_hour_delay_takes_ten_seconds_at_scale_360_however_long_the_stack_ran():
    delays = ScaledDelays(360, real=lambda: 1_000.0)

    assert delays.due(schedule(1_000, 3600)) == 1_010
    assert delays.due(schedule(90_000, 3600)) == 90_010


def test_a_skip_shortens_the_schedules_pending_then_and_not_later_ones():
    now = [1_000.0]
    delays = ScaledDelays(1, real=lambda: now[0])
    pending = schedule(900, 3600)

    now[0] = 1_100.0
    delays.skip(3600)
    later = schedule(1_200, 3600)

    assert delays.due(pending) == 900
    assert delays.due(later) == 4_800


def test_time_scale_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        ScaledDelays(0)


def test_an_offset_clock_moves_the_functions_time_and_keeps_each_delay():
    """--clock-start: moto stamps CreationDate on the real clock, the functions read the
    moved one; a schedule still fires its own (scaled) delay after its creation."""
    real = 1_000.0
    delays = ScaledDelays(10, real=lambda: real, offset=5_000.0)
    created_on_functions_clock = real + 5_000
    detail = {"CreationDate": datetime.fromtimestamp(real, UTC),
              "ScheduleExpression": at_expression(created_on_functions_clock + 3600)}

    assert delays.now() == 6_000
    assert delays.due(detail) == 6_360
