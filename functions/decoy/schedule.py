"""One-time EventBridge Scheduler schedules: one per reply, named by its dedupe key."""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from decoy.campaigns import HELP, REPLY
from decoy.clock import at_expression
from decoy.phone import is_e164
from decoy.settings import ScheduleTarget

_SID = re.compile(r"(SM|MM|CA)[0-9a-f]{32}\Z")
_SCHEDULE_NAME = re.compile(r"[0-9a-zA-Z\-_.]{1,64}\Z")
INPUT_VERSION = 1
TEXTS = (REPLY, HELP)  # which of the campaign's texts the order sends


def is_message_sid(sid: str) -> bool:
    """Twilio MessageSid / CallSid: SM, MM or CA followed by 32 lowercase hex digits."""
    return bool(_SID.fullmatch(sid))


def schedule_name(sid: str) -> str:
    """Deterministic dedupe key: a retried webhook maps to the same schedule name."""
    name = f"reply-{sid}"
    if not _SCHEDULE_NAME.fullmatch(name):  # moto does not validate names; AWS does
        raise ValueError(f"invalid schedule name {name!r}")
    return name


class ReplyOrder(NamedTuple):
    """The schedule's Input: what the sender needs to send one reply, and nothing else."""

    campaign: str
    to: str
    sender_key: str
    sid: str
    v: int = INPUT_VERSION
    text: str = REPLY
    # The decoy number that was texted or called: the reply comes from it when the campaign
    # replies from its number. "" in orders scheduled before pools existed (still sent).
    number: str = ""

    def to_json(self) -> str:
        return json.dumps(self._asdict(), separators=(",", ":"))

    @classmethod
    def from_event(cls, event: Any) -> ReplyOrder:
        if not isinstance(event, dict) or event.get("v") != INPUT_VERSION:
            raise ValueError("not a reply order (missing or unknown version)")
        try:
            order = cls(campaign=str(event["campaign"]), to=str(event["to"]),
                        sender_key=str(event["sender_key"]), sid=str(event["sid"]),
                        text=str(event.get("text", REPLY)), number=str(event.get("number", "")))
        except KeyError as exc:
            raise ValueError(f"reply order lacks {exc.args[0]}") from None
        if not is_message_sid(order.sid):
            raise ValueError("reply order has an invalid sid")
        if order.text not in TEXTS:
            raise ValueError("reply order has an unknown text")
        if order.number and not is_e164(order.number):
            raise ValueError("reply order has an invalid number")
        return order


def create_one_time(scheduler: Any, target: ScheduleTarget, name: str, input_json: str,
                    due_at: float, after_completion: str = "DELETE") -> bool:
    """Create a one-time schedule invoking the sender with `input_json` at `due_at` (UTC,
    no flexible window, retries then the DLQ); False when `name` exists already."""
    params: dict[str, Any] = {
        "Name": name,
        "GroupName": target.group_name,
        "ScheduleExpression": at_expression(due_at),
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": after_completion,
        "State": "ENABLED",
        "Target": {
            "Arn": target.sender_arn,
            "RoleArn": target.role_arn,
            "Input": input_json,
            "RetryPolicy": {
                "MaximumRetryAttempts": target.retry_attempts,
                "MaximumEventAgeInSeconds": target.max_event_age_seconds,
            },
            "DeadLetterConfig": {"Arn": target.dead_letter_arn},
        },
    }
    if target.kms_key_arn:
        params["KmsKeyArn"] = target.kms_key_arn
    try:
        scheduler.create_schedule(**params)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConflictException":
            return False
        raise
    return True


def schedule_reply(scheduler: Any, target: ScheduleTarget, order: ReplyOrder,
                   due_at: float) -> bool:
    """Create the reply's one-time schedule; False when it already exists (a retried webhook)."""
    return create_one_time(scheduler, target, schedule_name(order.sid), order.to_json(), due_at)


def cancel_reply(scheduler: Any, group_name: str, sid: str) -> bool:
    """Delete a pending reply's schedule; False when it is already gone."""
    try:
        scheduler.delete_schedule(Name=schedule_name(sid), GroupName=group_name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return False
        raise
    return True
