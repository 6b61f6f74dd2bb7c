"""The cost shield: per-sender quota, opt-out and the daily budget, in atomic DynamoDB writes.

Items (one table, key `pk`, TTL attribute `expiration`):
  sender#<hmac>  sids (list of accepted MessageSid/CallSid), reply_sids (set), window_ends,
                 optout_until, expiration
  budget#<day>   used, expiration   (replies scheduled that UTC day)
  calls#<day>    used, expiration   (calls answered that UTC day)
Every condition treats an expired item as absent: TTL deletion can lag by days.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from enum import Enum
from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.exceptions import BotoCoreError, ClientError

from decoy.clock import next_utc_midnight, utc_day
from decoy.observability import count, logger
from decoy.outcomes import Metric, Outcome
from decoy.phone import sender_rejection
from decoy.settings import Limits

if TYPE_CHECKING:
    from decoy.campaigns import Campaign
    from decoy.runtime import Runtime

BUDGET_KEEP_SECONDS = 3 * 86400
BLOCKED_CACHE_SIZE = 10_000


class Verdict(Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    OVER_QUOTA = "over_quota"
    OPTED_OUT = "opted_out"
    BUDGET_SPENT = "budget_spent"  # a new sender's first message, refused whole: nothing written
    CALLS_SPENT = "calls_spent"  # today's answered-call allowance is spent: nothing written


class Decision(NamedTuple):
    """What the one conditional write decided for one inbound message."""

    verdict: Verdict
    position: int = 0  # 1-based rank of this message in the sender's window
    reply_reserved: bool = False  # the budget was already reserved for this sid
    window_ends: int = 0

    def reply_due(self, limits: Limits) -> bool:
        return self.verdict in (Verdict.ACCEPTED, Verdict.DUPLICATE) and \
            1 <= self.position <= limits.replies_per_sender


def sender_pk(key: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"sender#{key}"}}


def budget_pk(day: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"budget#{day}"}}


def calls_pk(day: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"calls#{day}"}}


def _reply_sids(item: dict[str, Any]) -> list[str]:
    return item.get("reply_sids", {}).get("SS", [])


def _num(item: dict[str, Any], name: str) -> int:
    return int(item[name]["N"]) if name in item else 0


def classify(old: dict[str, Any] | None, sid: str, now: float) -> Decision | None:
    """Why the conditional write was refused, from the item it saw; None = expired/absent."""
    if not old:
        return None
    if _num(old, "optout_until") > now:
        return Decision(Verdict.OPTED_OUT, window_ends=_num(old, "optout_until"))
    window_ends = _num(old, "window_ends")
    if window_ends <= now:
        return None
    sids = [v["S"] for v in old.get("sids", {}).get("L", [])]
    if sid in sids:
        reserved = sid in _reply_sids(old)
        return Decision(Verdict.DUPLICATE, sids.index(sid) + 1, reserved, window_ends)
    return Decision(Verdict.OVER_QUOTA, len(sids), window_ends=window_ends)


# The quota rule, stated once: a sender's window takes a new message while it holds fewer
# than MaxMessagesPerSender of them. _ROOM says it to DynamoDB, room_left() to Python (for
# an item a refused write returned), both from the same bound.
_ROOM = "size(sids) < :max"


def _room_values(limits: Limits) -> dict[str, dict[str, str]]:
    return {":max": {"N": str(limits.max_messages_per_sender)}}


def room_left(held: int, limits: Limits) -> bool:
    """_ROOM for a window holding `held` messages."""
    return held < limits.max_messages_per_sender


# A sender item that may be (re)started: absent, window over (TTL lags), and not opted out.
_WINDOW_CLOSED = ("(attribute_not_exists(window_ends) OR window_ends <= :now) "
                  "AND (attribute_not_exists(optout_until) OR optout_until <= :now)")


def _is_conditional_failure(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] == "ConditionalCheckFailedException"


def record_message(ddb: Any, table: str, key: str, sid: str, now: float,
                   limits: Limits) -> Decision:
    """Count one inbound message in one atomic conditional write; decide its fate."""
    for _ in range(2):  # a lost race to restart an expired window costs one more update
        try:
            return _append_message(ddb, table, key, sid, now, limits)
        except ClientError as exc:
            if not _is_conditional_failure(exc):
                raise
            decision = classify(exc.response.get("Item"), sid, now)
        if decision is not None:
            return decision
        if _restart_window(ddb, table, key, sid, now, limits):
            return Decision(Verdict.ACCEPTED, 1,
                            window_ends=int(now) + limits.sender_window_seconds)
    # Still undecided after two rounds (never seen): fail closed, schedule nothing.
    return Decision(Verdict.OVER_QUOTA)


def _append_message(ddb: Any, table: str, key: str, sid: str, now: float,
                    limits: Limits) -> Decision:
    window_ends = int(now) + limits.sender_window_seconds
    values = {
        ":now": {"N": str(int(now))},
        **_room_values(limits),
        ":sid": {"S": sid},
        ":sids": {"L": [{"S": sid}]},
        ":empty": {"L": []},
        ":ends": {"N": str(window_ends)},
    }
    out = ddb.update_item(
        TableName=table,
        Key=sender_pk(key),
        UpdateExpression="SET sids = list_append(if_not_exists(sids, :empty), :sids), "
        "window_ends = if_not_exists(window_ends, :ends), "
        "expiration = if_not_exists(expiration, :ends)",
        ConditionExpression="(attribute_not_exists(pk) OR (window_ends > :now "
        f"AND {_ROOM} AND NOT contains(sids, :sid))) "
        "AND (attribute_not_exists(optout_until) OR optout_until <= :now)",
        ExpressionAttributeValues=values,
        ReturnValues="ALL_NEW",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    item = out["Attributes"]
    return Decision(Verdict.ACCEPTED, len(item["sids"]["L"]), window_ends=_num(item, "window_ends"))


def _restart_window(ddb: Any, table: str, key: str, sid: str, now: float,
                    limits: Limits) -> bool:
    """The sender's window has expired (item not yet deleted by TTL): start a new one.

    False when a concurrent message restarted it first: the caller then appends to it.
    """
    window_ends = int(now) + limits.sender_window_seconds
    try:
        ddb.put_item(
            TableName=table,
            Item={**sender_pk(key), "sids": {"L": [{"S": sid}]},
                  "window_ends": {"N": str(window_ends)}, "expiration": {"N": str(window_ends)}},
            ConditionExpression=_WINDOW_CLOSED,
            ExpressionAttributeValues={":now": {"N": str(int(now))}},
        )
    except ClientError as exc:
        if not _is_conditional_failure(exc):
            raise
        return False
    return True


def _day_unit(table: str, key: dict[str, Any], now: float, limit: int) -> dict[str, Any]:
    """The transaction item taking one unit of a daily counter, refused once it is spent."""
    return {"Update": {
        "TableName": table,
        "Key": key,
        "UpdateExpression": "ADD used :one SET expiration = :keep",
        "ConditionExpression": "attribute_not_exists(used) OR used < :limit",
        "ExpressionAttributeValues": {
            ":one": {"N": "1"}, ":limit": {"N": str(limit)},
            ":keep": {"N": str(next_utc_midnight(now) + BUDGET_KEEP_SECONDS)},
        },
    }}


def _budget_unit(table: str, now: float, budget: int) -> dict[str, Any]:
    """One unit of today's reply budget."""
    return _day_unit(table, budget_pk(utc_day(now)), now, budget)


def _call_unit(table: str, now: float, allowance: int) -> dict[str, Any]:
    """One unit of today's answered-call allowance."""
    return _day_unit(table, calls_pk(utc_day(now)), now, allowance)


def record_first_message(ddb: Any, table: str, key: str, sid: str, now: float,
                         limits: Limits, call_allowance: int | None = None,
                         take_reply: bool = True) -> Decision | None:
    """Open a sender's window and take its reply's budget unit in one transaction.

    For a call, `call_allowance` adds today's answered-call unit to the same transaction
    (`take_reply=False` when the reply budget is known spent: the call may still be answered).
    A sender's first message or call then costs one DynamoDB call. None when the sender's
    window is open with room left (or the transaction met a conflict): count it with
    record_message.
    """
    window_ends = int(now) + limits.sender_window_seconds
    item = {**sender_pk(key), "sids": {"L": [{"S": sid}]}, "window_ends": {"N": str(window_ends)},
            "expiration": {"N": str(window_ends)}}
    if take_reply:
        item["reply_sids"] = {"SS": [sid]}
    units = [_budget_unit(table, now, limits.daily_reply_budget)] if take_reply else []
    if call_allowance is not None:
        units.append(_call_unit(table, now, call_allowance))
    try:
        ddb.transact_write_items(TransactItems=[
            {"Put": {
                "TableName": table,
                "Item": item,
                "ConditionExpression": _WINDOW_CLOSED,
                "ExpressionAttributeValues": {":now": {"N": str(int(now))}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }},
            *units,
        ])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = exc.response.get("CancellationReasons", [])
        codes = [r.get("Code", "None") for r in reasons]
        if codes[:1] == ["ConditionalCheckFailed"]:  # the sender's window is open, or opted out
            decision = classify(reasons[0].get("Item"), sid, now)
            if decision is None or (decision.verdict is Verdict.OVER_QUOTA
                                    and room_left(decision.position, limits)):
                return None
            return decision
        if codes[:1] == ["None"] and len(codes) == 1 + len(units):
            if call_allowance is not None and codes[-1] == "ConditionalCheckFailed":
                return Decision(Verdict.CALLS_SPENT)
            if take_reply and codes[1] == "ConditionalCheckFailed":
                return Decision(Verdict.BUDGET_SPENT)
        return None
    return Decision(Verdict.ACCEPTED, 1, reply_reserved=take_reply, window_ends=window_ends)


def take_call_unit(ddb: Any, table: str, now: float, allowance: int) -> bool:
    """Take one unit of today's answered-call allowance (one conditional write)."""
    if allowance <= 0:
        return False
    update = _call_unit(table, now, allowance)["Update"]
    try:
        ddb.update_item(**update)
    except ClientError as exc:
        if not _is_conditional_failure(exc):
            raise
        return False
    return True


def reserve_reply(ddb: Any, table: str, key: str, sid: str, now: float, budget: int) -> bool:
    """Take one unit of today's budget for this sid, atomically; False when it is spent."""
    if budget <= 0:  # the budget condition lets a first unit through when the item is absent
        return False
    try:
        ddb.transact_write_items(TransactItems=[
            _budget_unit(table, now, budget),
            {"Update": {
                "TableName": table,
                "Key": sender_pk(key),
                "UpdateExpression": "ADD reply_sids :sidset",
                "ConditionExpression": "attribute_exists(pk) AND NOT contains(reply_sids, :sid)",
                "ExpressionAttributeValues": {":sidset": {"SS": [sid]}, ":sid": {"S": sid}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }},
        ])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = exc.response.get("CancellationReasons", [])
        # Checked first: a retry racing its original on the day's last unit must still
        # see the reservation the original holds, not a spent budget.
        if len(reasons) > 1 and sid in _reply_sids(reasons[1].get("Item", {})):
            return True  # this sid already holds its reservation (a retried webhook)
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            return False
        raise
    return True


def record_opt_out(ddb: Any, table: str, key: str, now: float, opt_out_seconds: int) -> list[str]:
    """Mark a sender opted out; return the sids whose replies may still be pending."""
    until = int(now) + opt_out_seconds
    out = ddb.update_item(
        TableName=table,
        Key=sender_pk(key),
        UpdateExpression="SET optout_until = :until, expiration = :until",
        ExpressionAttributeValues={":until": {"N": str(until)}},
        ReturnValues="ALL_OLD",
    )
    return sorted(_reply_sids(out.get("Attributes", {})))


def is_opted_out(ddb: Any, table: str, key: str, now: float) -> bool:
    out = ddb.get_item(TableName=table, Key=sender_pk(key), ConsistentRead=True,
                       ProjectionExpression="optout_until")
    return _num(out.get("Item", {}), "optout_until") > now


def budget_used(ddb: Any, table: str, day: str) -> int:
    out = ddb.get_item(TableName=table, Key=budget_pk(day), ProjectionExpression="used")
    return _num(out.get("Item", {}), "used")


# -- what one container remembers, and the two admission decisions -----------------------

class BlockedSenders:
    """Senders known to be over quota or opted out, until their window ends (bounded LRU).

    Locked because a local server (make run, the flood bench) may share one runtime
    between threads; a Lambda container never does, and the lock costs it nothing.
    """

    def __init__(self, size: int = BLOCKED_CACHE_SIZE):
        self._until: OrderedDict[str, float] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def add(self, key: str, until: float) -> None:
        with self._lock:
            self._until[key] = until
            self._until.move_to_end(key)
            while len(self._until) > self._size:
                self._until.popitem(last=False)

    def blocked(self, key: str, now: float) -> bool:
        with self._lock:
            until = self._until.get(key)
            if until is None:
                return False
            if until <= now:
                del self._until[key]
                return False
            return True

    def discard(self, key: str) -> None:
        with self._lock:
            self._until.pop(key, None)


class LiveSenders(BlockedSenders):
    """Senders this container saw with an open window: their next message is not their first."""

    def seen(self, key: str, now: float) -> bool:
        return self.blocked(key, now)


class ShieldMemory:
    """What one warm container knows, saving DynamoDB calls; never needed to be right."""

    def __init__(self) -> None:
        self.blocked = BlockedSenders()
        self.live = LiveSenders()
        self.budget_spent_until = 0.0  # epoch: the daily reply budget is known spent until then
        self.calls_spent_until = 0.0  # epoch: today's answered-call allowance is known spent

    def budget_spent(self, now: float) -> None:
        self.budget_spent_until = max(self.budget_spent_until, next_utc_midnight(now))

    def calls_spent(self, now: float) -> None:
        self.calls_spent_until = max(self.calls_spent_until, next_utc_midnight(now))

    def remember(self, key: str, decision: Decision) -> Decision | Outcome:
        """The sender's window as one write decided it: blocked (an Outcome), or live."""
        if decision.verdict in (Verdict.OVER_QUOTA, Verdict.OPTED_OUT):
            self.blocked.add(key, decision.window_ends)
            return (Outcome.BlockedQuota if decision.verdict is Verdict.OVER_QUOTA
                    else Outcome.OptedOut)
        self.live.add(key, decision.window_ends)
        return decision


def _refused(rt: Runtime, campaign: Campaign, sender: str) -> Outcome | None:
    """The checks that cost no DynamoDB call: a sender we never answer, the kill switch."""
    if sender_rejection(sender, campaign.allowed_codes(rt.settings.allowed_country_codes)):
        return Outcome.BlockedCountry
    if rt.kill_switch_on():
        return Outcome.KillSwitch
    return None


def _takes_reply(limits: Limits) -> bool:
    """A first message takes its reply's budget unit in its opening transaction."""
    return bool(limits.replies_per_sender and limits.daily_reply_budget > 0)


def admit_message(rt: Runtime, campaign: Campaign, sender: str, key: str, sid: str,
                  now: float) -> Outcome:
    """The shield's verdict for one message: Outcome.Scheduled means its reply is due and its
    budget unit taken (the caller schedules it); any other outcome schedules nothing.

    A sender's first message costs one DynamoDB transaction (window + budget unit).
    """
    refused = _refused(rt, campaign, sender)
    if refused:
        return refused
    memory, limits = rt.memory, campaign.limits(rt.settings.limits)
    if now < memory.budget_spent_until:
        return Outcome.BlockedBudget
    if memory.blocked.blocked(key, now):
        return Outcome.BlockedQuota
    ddb, table = rt.dynamodb, rt.settings.table_name
    try:
        first = None
        if _takes_reply(limits) and not memory.live.seen(key, now):  # most likely the first
            first = record_first_message(ddb, table, key, sid, now, limits)
            if first and first.verdict is Verdict.BUDGET_SPENT:
                memory.budget_spent(now)
                return Outcome.BlockedBudget
        decision = _counted(rt, key, sid, now, limits, first)
        if isinstance(decision, Outcome):
            return decision
        return _reply_admitted(rt, key, sid, now, limits, decision)
    except (ClientError, BotoCoreError) as exc:
        return _store_failed(exc)


def admit_call(rt: Runtime, campaign: Campaign, sender: str, key: str, sid: str,
               now: float) -> Outcome:
    """The shield's verdict for one call: like a message's (the caller gets the same delayed
    SMS within the same quotas), and it also needs a unit of today's answered-call allowance,
    taken in the sender's first transaction where possible. Outcome.Scheduled: reply due.
    """
    refused = _refused(rt, campaign, sender)
    if refused:
        return refused
    memory, limits = rt.memory, campaign.limits(rt.settings.limits)
    allowance: int | None = rt.settings.daily_answered_calls
    if allowance == 0 or now < memory.calls_spent_until:
        return Outcome.BlockedCallAllowance
    if memory.blocked.blocked(key, now):
        return Outcome.BlockedQuota
    ddb, table = rt.dynamodb, rt.settings.table_name
    try:
        first = None
        if not memory.live.seen(key, now):  # most likely the first: one transaction
            take_reply = _takes_reply(limits) and now >= memory.budget_spent_until
            first = record_first_message(ddb, table, key, sid, now, limits, allowance,
                                         take_reply)
            verdict = first.verdict if first else None
            if verdict is Verdict.CALLS_SPENT:
                memory.calls_spent(now)
                return Outcome.BlockedCallAllowance
            if verdict is Verdict.BUDGET_SPENT:
                memory.budget_spent(now)
                first = None  # the call may still be answered: count it below
            if verdict is Verdict.ACCEPTED:
                allowance = None  # the call's unit was taken in the same transaction
        decision = _counted(rt, key, sid, now, limits, first)
        if isinstance(decision, Outcome):
            return decision
        # A retried CallSid takes a unit again: its first attempt may have been refused one,
        # and counting a rare retry twice errs on the side of the bill.
        if allowance is not None and not take_call_unit(ddb, table, now, allowance):
            memory.calls_spent(now)
            return Outcome.BlockedCallAllowance
        return _reply_admitted(rt, key, sid, now, limits, decision)
    except (ClientError, BotoCoreError) as exc:
        return _store_failed(exc)


def _counted(rt: Runtime, key: str, sid: str, now: float, limits: Limits,
             first: Decision | None) -> Decision | Outcome:
    """Count the message in the sender's window (unless its first transaction did)."""
    if first is not None and first.verdict is Verdict.ACCEPTED and first.reply_reserved:
        count(Metric.BudgetUsed)  # taken with the window, in the same transaction
    decision = first or record_message(rt.dynamodb, rt.settings.table_name, key, sid, now,
                                       limits)
    return rt.memory.remember(key, decision)


def _reply_admitted(rt: Runtime, key: str, sid: str, now: float, limits: Limits,
                    decision: Decision) -> Outcome:
    """The reply decision: due (one per sender per window) and within today's budget."""
    if not decision.reply_due(limits):
        return Outcome.Duplicate if decision.verdict is Verdict.DUPLICATE else Outcome.Counted
    if not decision.reply_reserved:
        memory = rt.memory
        if now < memory.budget_spent_until or not reserve_reply(
                rt.dynamodb, rt.settings.table_name, key, sid, now, limits.daily_reply_budget):
            memory.budget_spent(now)
            return Outcome.BlockedBudget
        count(Metric.BudgetUsed)  # one unit of today's budget: the alarms sum it, no extra call
    return Outcome.Scheduled


def _store_failed(exc: Exception) -> Outcome:
    logger.warning("counter write failed, nothing scheduled", extra={"error": aws_error(exc)})
    return Outcome.StoreFailed


def aws_error(exc: Exception) -> str:
    """The AWS error code of a failed call, for a log line."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "ClientError"))
    return type(exc).__name__
