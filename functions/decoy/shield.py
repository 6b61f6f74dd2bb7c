"""The cost shield: per-sender quota, opt-out and the daily budget, in atomic DynamoDB writes.

Items (one table, key `pk`, TTL attribute `expiration`):
  sender#<hmac>  sids (list of accepted MessageSid/CallSid), reply_sids (set), window_ends,
                 optout_until, expiration
  budget#<day>   used, expiration   (replies scheduled that UTC day)
  calls#<day>    used, expiration   (calls answered that UTC day)
Every condition treats an expired item as absent: TTL deletion can lag by days.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from botocore.exceptions import ClientError

from decoy.clock import next_utc_midnight, utc_day
from decoy.settings import Limits

BUDGET_KEEP_SECONDS = 3 * 86400


class Verdict(Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    OVER_QUOTA = "over_quota"
    OPTED_OUT = "opted_out"
    BUDGET_SPENT = "budget_spent"  # a new sender's first message, refused whole: nothing written
    CALLS_SPENT = "calls_spent"  # today's answered-call allowance is spent: nothing written


@dataclass(frozen=True)
class Decision:
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
        ":max": {"N": str(limits.max_messages_per_sender)},
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
        "AND size(sids) < :max AND NOT contains(sids, :sid))) "
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
                                    and decision.position < limits.max_messages_per_sender):
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


def calls_answered(ddb: Any, table: str, day: str) -> int:
    out = ddb.get_item(TableName=table, Key=calls_pk(day), ProjectionExpression="used")
    return _num(out.get("Item", {}), "used")
