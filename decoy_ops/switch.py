"""The kill switch: one SSM parameter the receiver and the sender read ("on" stops everything)."""

from __future__ import annotations

from typing import Any

from decoy.runtime import KILL_SWITCH_ON


def read(ssm: Any, name: str) -> str | None:
    """The switch's raw value; None when the parameter does not exist."""
    try:
        return str(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    except ssm.exceptions.ParameterNotFound:
        return None


def is_on(value: str | None) -> bool:
    """As the functions read it: a missing or unreadable switch counts as on (fail closed)."""
    return value is None or value.strip().lower() in KILL_SWITCH_ON


def turn(ssm: Any, name: str, on: bool) -> None:
    ssm.put_parameter(Name=name, Value="on" if on else "off", Type="String", Overwrite=True)


def explain(value: str | None) -> str:
    if value is None:
        return "ON (parameter missing: the functions fail closed and send nothing)"
    if is_on(value):
        return ("ON: no reply is scheduled and no pending reply is sent (pending ones are "
                "dropped when they fire)")
    return "off: replies are scheduled and sent normally"
