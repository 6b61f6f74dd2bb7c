"""The operator's controls, shared by the tools (decoy_ops, the local console): the kill switch
(one SSM parameter the receiver and the sender read, "on" stops everything) and the day's budget
use (the budget#<day> item the receiver updates). Adapters taking clients as arguments."""

from __future__ import annotations

from typing import Any

from decoy import shield
from decoy.clock import utc_day
from decoy.runtime import KILL_SWITCH_ON


def read_kill_switch(ssm: Any, name: str) -> str | None:
    """The switch's raw value; None when the parameter does not exist."""
    try:
        return str(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return None


def kill_switch_is_on(value: str | None) -> bool:
    """As the functions read it: a missing or unreadable switch counts as on (fail closed)."""
    return value is None or value.strip().lower() in KILL_SWITCH_ON


def turn_kill_switch(ssm: Any, name: str, on: bool) -> None:
    ssm.put_parameter(Name=name, Value="on" if on else "off", Type="String", Overwrite=True)


def budget_used_today(dynamodb: Any, table: str, now: float) -> int:
    """Replies reserved today, read from the same budget#<day> item the receiver updates."""
    return shield.budget_used(dynamodb, table, utc_day(now))
