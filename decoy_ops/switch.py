"""The kill switch as `decoy_ops kill-switch` shows it; reading and turning it are shared with
the local console (decoy.controls)."""

from __future__ import annotations

from decoy.controls import kill_switch_is_on as is_on
from decoy.controls import read_kill_switch as read
from decoy.controls import turn_kill_switch as turn

__all__ = ["explain", "is_on", "read", "turn"]


def explain(value: str | None) -> str:
    if value is None:
        return "ON (parameter missing: the functions fail closed and send nothing)"
    if is_on(value):
        return ("ON: no reply is scheduled and no pending reply is sent (pending ones are "
                "dropped when they fire)")
    return "off: replies are scheduled and sent normally"
