"""Level 2, "off the air": the stack's numbers stop reaching it, so Twilio stops billing them.

Level 1 (the kill switch) stops what inbound traffic would cause: replies, answered calls.
It cannot stop Twilio from billing each inbound SMS, which it does whenever it requests an
SMS URL: "if Twilio makes a request to your SMS URL then you will be billed ... you can
always disable the SMS URL on your phone number (either manually or automatically via the
REST API) and Twilio will stop making requests to your application" (Twilio support article
223181528, "Billing for incoming SMS messages"; also article 223135287: "To prevent all
incoming messages and corresponding charges, remove the webhook URL"). Sure: Twilio's own
support pages (help.twilio.com, same ids), not the API reference.

So level 2 empties every campaign number's SmsUrl (and SmsFallbackUrl in the same update:
Twilio refuses a fallback without a primary URL, errors 21405/21406), points its VoiceUrl at
the reject-busy TwiML Bin that does not depend on the stack (a number with an empty voice URL
is "out of service" and not charged, article 223180548, but a caller notices: the Bin's
<Reject reason="busy"/> is also "blocked at no charge to you" and gives nothing away), and,
where a Messaging Service governs a number's SMS (the Service's inbound_request_url, unless
use_inbound_webhook_on_number), empties the Service's inbound URL. A Service that also holds
numbers outside this stack is refused and said so: emptying it would cut someone else's
traffic. Every call goes through Twilio's API with the stack's own credentials.

What pulls it: a level-2 Usage Trigger (`decoy_ops connect` installs it, callback
`/usage?level=2`). The receiver, which must not load twilio.rest (its cold import is a
tracked figure), records the firing once (a DynamoDB marker: a retried callback changes
nothing twice) and queues an `off_air` order in Scheduler for a minute later; the sender,
which carries Twilio's REST client, applies it (Lambda retries, then the DLQ; OffAirFailed
alarms with the command to run by hand). `decoy_ops off-air --apply` does the same by hand;
`decoy_ops connect --apply` puts the numbers back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from decoy.clock import utc_day
from decoy.observability import count, logger
from decoy.outcomes import Metric
from decoy.schedule import create_one_time
from decoy.settings import ScheduleTarget

KIND = "off_air"
LEVEL_PARAMETER = "level"  # the level-2 triggers' callback: <UsageCallbackUrl>?level=2
LEVEL = "2"
QUEUE_DELAY_SECONDS = 60  # Scheduler invokes with 60 s precision: off the air within ~2 min
MARKER_SECONDS = 2 * 86_400
BY_HAND = "python -m decoy_ops off-air --apply"
_TRIGGER_SID = re.compile(r"UT[0-9a-fA-F]{32}\Z")

# IncomingPhoneNumber fields (twilio-python's update() arguments).
SMS_URL, SMS_FALLBACK_URL = "sms_url", "sms_fallback_url"
VOICE_URL, VOICE_FALLBACK_URL = "voice_url", "voice_fallback_url"
# Messaging Service fields.
INBOUND_URL, INBOUND_FALLBACK_URL = "inbound_request_url", "fallback_url"


def off_air_settings(reject_url: str) -> dict[str, str]:
    """A number off the air: no SMS URL (no request, no inbound charge), calls rejected by
    the Bin (or out of service when no Bin is configured)."""
    return {SMS_URL: "", SMS_FALLBACK_URL: "", VOICE_URL: reject_url,
            VOICE_FALLBACK_URL: reject_url}


def is_off_air(resource: Any) -> bool:
    """A number whose SMS reach nobody (Twilio requests no URL, so bills no inbound SMS)."""
    return not (getattr(resource, SMS_URL, "") or "")


@dataclass(frozen=True)
class Change:
    """What one number or Messaging Service needs; `refused` says why it is left alone."""

    what: str  # "number" | "service"
    name: str  # the E.164 number, or the Service's name
    sid: str | None  # None: a number the account does not own
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)  # field: (now, wanted)
    refused: str = ""
    refused_fr: str = ""  # the same reason in French (decoy_ops --lang fr)


def changes(resource: Any, wanted: dict[str, str]) -> dict[str, tuple[str, str]]:
    """The fields of `resource` that differ from `wanted` (pure)."""
    return {name: (getattr(resource, name) or "", value) for name, value in wanted.items()
            if (getattr(resource, name) or "") != value}


def find_number(client: Any, number: str) -> Any | None:
    """The account's IncomingPhoneNumber for `number` (Twilio's filter also matches parts)."""
    found = client.incoming_phone_numbers.list(phone_number=number, limit=20)
    return next((r for r in found if r.phone_number == number), None)


@dataclass(frozen=True)
class Service:
    """A Messaging Service holding some of this stack's numbers."""

    sid: str
    name: str
    resource: Any
    governs: bool  # its inbound URL, not the numbers' own, decides where their SMS go
    ours: tuple[str, ...]
    others: tuple[str, ...]  # numbers it holds that are not this stack's


def services_holding(client: Any, numbers: list[str]) -> list[Service]:
    """The account's Messaging Services that hold any of `numbers` (Messaging Services API:
    a Service's PhoneNumbers; use_inbound_webhook_on_number = the number's webhook governs)."""
    found = []
    for service in client.messaging.v1.services.list(limit=100):
        held = [p.phone_number for p in
                client.messaging.v1.services(service.sid).phone_numbers.list(limit=400)]
        ours = tuple(n for n in held if n in numbers)
        if ours:
            found.append(Service(service.sid, service.friendly_name or service.sid, service,
                                 not service.use_inbound_webhook_on_number, ours,
                                 tuple(n for n in held if n not in numbers)))
    return found


def plan(client: Any, numbers: list[str], number_wanted: dict[str, str],
         service_wanted: dict[str, str]) -> list[Change]:
    """Compare every number (and every Service governing one) with the wanted settings."""
    found = []
    for number in numbers:
        resource = find_number(client, number)
        found.append(Change("number", number, None) if resource is None else
                     Change("number", number, resource.sid, changes(resource, number_wanted)))
    for service in services_holding(client, numbers):
        if not service.governs:
            continue  # the numbers' own SMS URLs decide, planned above
        if service.others:
            found.append(Change("service", service.name, service.sid, refused=(
                f"it also serves {len(service.others)} number(s) outside this stack: left "
                f"alone, so SMS to {', '.join(service.ours)} still reach its inbound URL"),
                refused_fr=(
                f"il sert aussi {len(service.others)} numéro(s) hors de cette pile : laissé "
                f"tel quel, les SMS vers {', '.join(service.ours)} arrivent donc toujours à "
                "son URL entrante")))
            continue
        found.append(Change("service", service.name, service.sid,
                            changes(service.resource, service_wanted)))
    return found


def apply(client: Any, change: Change) -> None:
    wanted = {name: value for name, (_, value) in change.changes.items()}
    if change.what == "service":
        client.messaging.v1.services(change.sid).update(**wanted)
    else:
        client.incoming_phone_numbers(change.sid).update(**wanted)


def plan_off_air(client: Any, numbers: list[str], reject_url: str) -> list[Change]:
    return plan(client, numbers, off_air_settings(reject_url),
                {INBOUND_URL: "", INBOUND_FALLBACK_URL: ""})


def describe(change: Change, done: str = "already off the air", lang: str = "en") -> list[str]:
    """Lines telling the operator what is (or would be) changed; `done`: nothing to do (in
    the reader's language). French (`lang="fr"`): the caller applies the typography; field
    names stay Twilio's."""
    fr = lang == "fr"
    what = "Messaging Service " if change.what == "service" else ""
    colon, empty = (" :", "(vide)") if fr else (":", "(empty)")
    if change.sid is None:
        return [f"{change.name} : pas un numéro de ce compte Twilio" if fr else
                f"{change.name}: not a number of this Twilio account"]
    if change.refused:
        return [f"{what}{change.name} ({change.sid}) : REFUSÉ, "
                f"{change.refused_fr or change.refused}" if fr else
                f"{what}{change.name} ({change.sid}): REFUSED, {change.refused}"]
    if not change.changes:
        return [f"{what}{change.name} ({change.sid}){colon} {done}"]
    return [f"{what}{change.name} ({change.sid}){colon}"] + [
        f"  {name}{colon} {now or empty} -> {wanted or empty}"
        for name, (now, wanted) in change.changes.items()]


def take_off_air(client: Any, numbers: list[str], reject_url: str,
                 say: Callable[[str], None] | None = None) -> dict[str, int]:
    """Plan, then apply: every number (and governing Service) off the air. Idempotent: what
    is already off the air is not touched. Twilio errors propagate (the caller retries)."""
    found = plan_off_air(client, numbers, reject_url)
    for change in found:
        for line in describe(change) if say else ():
            say(line)
        if change.sid and change.changes and not change.refused:
            apply(client, change)
    return {"changed": sum(1 for c in found if c.sid and c.changes and not c.refused),
            "unchanged": sum(1 for c in found if c.sid and not c.changes and not c.refused),
            "refused": sum(1 for c in found if c.refused),
            "not_owned": sum(1 for c in found if c.sid is None)}


# -- the receiver: a level-2 trigger fired ---------------------------------------------------

def is_level_two(query: dict[str, str]) -> bool:
    return query.get(LEVEL_PARAMETER) == LEVEL


def order_name(trigger_sid: str) -> str:
    """The off-air order's schedule name: one per trigger (a retried callback finds it)."""
    if not _TRIGGER_SID.fullmatch(trigger_sid):
        raise ValueError("not a usage trigger sid")
    return f"offair-{trigger_sid}"


def request_off_air(dynamodb: Any, table: str, scheduler: Any, target: ScheduleTarget,
                    trigger_sid: str, now: float) -> bool:
    """Record this firing once and queue the off-air order; False when it was already
    recorded (a retried callback: nothing changes twice). Raises ClientError/BotoCoreError
    when it could not be queued (the marker is then removed, so a retry can queue it)."""
    key = f"offair#{trigger_sid}#{utc_day(now)}"
    marked = True
    try:
        dynamodb.put_item(TableName=table, Item={
            "pk": {"S": key}, "expiration": {"N": str(int(now) + MARKER_SECONDS)}},
            ConditionExpression="attribute_not_exists(pk) OR expiration < :now",
            ExpressionAttributeValues={":now": {"N": str(int(now))}})
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        # DynamoDB failing must not keep the numbers on the air: queue it unmarked (taking
        # them off twice is harmless; the schedule's name still dedupes a pending order).
        logger.warning("off-air marker not written, order queued anyway",
                       extra={"error": exc.response["Error"]["Code"]})
        marked = False
    except BotoCoreError as exc:
        logger.warning("off-air marker not written, order queued anyway",
                       extra={"error": type(exc).__name__})
        marked = False
    order = json.dumps({"v": 1, "kind": KIND, "trigger": trigger_sid}, separators=(",", ":"))
    try:
        create_one_time(scheduler, target, order_name(trigger_sid), order,
                        now + QUEUE_DELAY_SECONDS)
    except (ClientError, BotoCoreError):
        try:
            if marked:
                dynamodb.delete_item(TableName=table, Key={"pk": {"S": key}})
        except (ClientError, BotoCoreError):
            logger.error("off-air marker left behind: a retried callback will not queue it")
        raise
    return True


# -- the sender: the off-air order ------------------------------------------------------------

def is_off_air_order(event: Any) -> bool:
    return isinstance(event, dict) and event.get("kind") == KIND


def run_order(event: dict[str, Any], client_for: Callable[[], Any], numbers: list[str],
              reject_url: str) -> dict[str, Any]:
    """The queued order fires in the sender: take every number off the air. A Twilio failure
    is counted (OffAirFailed: the alarm names BY_HAND) and raised: Lambda retries, then the
    DLQ."""
    from twilio.base.exceptions import TwilioException

    trigger = str(event.get("trigger", ""))
    logger.set_correlation_id(trigger or None)
    try:
        result = take_off_air(client_for(), numbers, reject_url)
    except (TwilioException, OSError, ValueError) as exc:
        count(Metric.OffAirFailed)
        logger.error("numbers NOT taken off the air: retried, else do it by hand",
                     extra={"error": type(exc).__name__, "by_hand": BY_HAND})
        raise
    count(Metric.OffAir)
    if result["refused"]:
        count(Metric.OffAirRefused)
        logger.error("a Messaging Service serving other numbers was left on the air",
                     extra={**result, "by_hand": "python -m decoy_ops off-air"})
    logger.warning("numbers taken off the air", extra={**result, "trigger": trigger,
                                                       "reject_url_set": bool(reject_url)})
    return {"outcome": Metric.OffAir, **result}
