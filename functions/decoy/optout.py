"""A STOP that DynamoDB could not record is queued in Scheduler, never lost.

The receiver records an opt-out in DynamoDB. When that write fails (throttled, down), it
creates instead a one-time schedule named after the sender's key, `optout-<key>`: Scheduler
is another service, so it usually still works. The schedule is both
- a queue: it fires a minute later and the sender Lambda records the opt-out (Lambda
  retries, then the DLQ), cancels the replies still pending, then deletes the schedule;
- a marker: until then, the sender refuses to send to that key (one GetSchedule per reply;
  when it cannot tell, it raises and Lambda retries: never a reply it could not confirm).
ActionAfterCompletion is NONE so the marker outlives a failed recording. Its Input holds
the keyed hash only, no number.
"""

from __future__ import annotations

import json
import re
from typing import Any

from botocore.exceptions import ClientError

from decoy import shield
from decoy.observability import count, logger
from decoy.outcomes import Metric, Outcome
from decoy.schedule import cancel_reply, create_one_time, is_message_sid
from decoy.settings import ScheduleTarget

KIND = "opt_out"
PREFIX = "optout-"
QUEUE_DELAY_SECONDS = 60
_SENDER_KEY = re.compile(r"[0-9a-f]{64}\Z")


def marker_name(sender_key: str) -> str:
    """The schedule's name: one per sender (a repeated STOP finds it there), <= 64 chars."""
    if not _SENDER_KEY.fullmatch(sender_key):
        raise ValueError("not a sender key")
    return PREFIX + sender_key[:64 - len(PREFIX)]


def queue_opt_out(scheduler: Any, target: ScheduleTarget, sender_key: str, sid: str,
                  now: float) -> None:
    """Create the sender's opt-out schedule; an existing one (a repeated STOP) is enough."""
    # ActionAfterCompletion NONE: the marker outlives a failed recording (see above).
    create_one_time(scheduler, target, marker_name(sender_key),
                    json.dumps({"v": 1, "kind": KIND, "sender_key": sender_key, "sid": sid},
                               separators=(",", ":")),
                    now + QUEUE_DELAY_SECONDS, after_completion="NONE")


def opt_out_pending(scheduler: Any, group: str, sender_key: str) -> bool:
    """True while a queued opt-out for this sender waits to be recorded. Raises ClientError
    when Scheduler cannot tell: the caller must then not send."""
    if not _SENDER_KEY.fullmatch(sender_key):
        return False  # the receiver queues HMAC keys only: none can wait for this one
    try:
        scheduler.get_schedule(Name=marker_name(sender_key), GroupName=group)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ResourceNotFoundException":
            return False
        raise
    return True


def is_opt_out_order(event: Any) -> bool:
    return isinstance(event, dict) and event.get("kind") == KIND


def record_queued_opt_out(event: dict[str, Any], ddb: Any, scheduler: Any, table: str,
                          group: str, now: float, opt_out_seconds: int) -> dict[str, Any]:
    """The queued STOP fires: record it, cancel pending replies, then remove the marker.
    Any AWS failure raises (Lambda retries, then the DLQ); each step is idempotent."""
    key, sid = str(event.get("sender_key", "")), str(event.get("sid", ""))
    if not _SENDER_KEY.fullmatch(key) or not is_message_sid(sid):
        logger.error("invalid opt-out order dropped")
        count(Metric.SendDropped)
        return {"outcome": Outcome.InvalidOrder}
    pending = shield.record_opt_out(ddb, table, key, now, opt_out_seconds)
    cancelled = sum(cancel_reply(scheduler, group, s) for s in pending)
    try:  # only once recorded: the sender reads the marker, then DynamoDB (outbound._deliver)
        scheduler.delete_schedule(Name=marker_name(key), GroupName=group)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
    count(Outcome.OptOutRecorded)
    logger.info("queued opt-out recorded", extra={"cancelled": cancelled})
    return {"outcome": Outcome.OptOutRecorded, "cancelled": cancelled}
