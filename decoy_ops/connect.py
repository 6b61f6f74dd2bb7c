"""Point Twilio numbers' SMS and voice webhooks at the stack's API (dry run unless applied)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from decoy.offair import SMS_URL, VOICE_URL
from decoy_ops.stack import OpsError

# Numbers are planned, found and changed by decoy.offair (one module for both directions:
# connect puts them on this stack, off-air takes them off the air).


def wanted_settings(sms_url: str, voice_url: str, reject_url: str = "") -> dict[str, str]:
    """What a decoy number needs: both webhooks POSTed to us, and no TwiML App overriding them;
    with `reject_url` (the reject-busy TwiML Bin), its VoiceFallbackUrl: "If Twilio is unable
    to retrieve or execute TwiML from your web server, a request is immediately made to the
    number's Fallback URL" (Twilio docs, "Availability and reliability"), so a call our API
    cannot answer (throttled: 429, failing, down) is rejected, unbilled, not answered by
    Twilio's billed application error. No SMS fallback: a failed SMS webhook is billed all the
    same and nothing else happens (docs/cost.md), so one would change nothing."""
    wanted = {SMS_URL: sms_url, "sms_method": "POST", VOICE_URL: voice_url,
              "voice_method": "POST", "sms_application_sid": "", "voice_application_sid": ""}
    if reject_url:
        wanted.update(voice_fallback_url=reject_url, voice_fallback_method="POST")
    return wanted


def twilio_credentials(ssm: Any, account_sid_parameter: Callable[[], str],
                       auth_token_parameter: Callable[[], str]) -> tuple[str, str]:
    """TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN from the environment, else the stack's SSM secrets."""
    sid, token = os.environ.get("TWILIO_ACCOUNT_SID"), os.environ.get("TWILIO_AUTH_TOKEN")
    if sid and token:
        return sid, token
    names = [account_sid_parameter(), auth_token_parameter()]
    out = ssm.get_parameters(Names=names, WithDecryption=True)
    values = {p["Name"]: p["Value"] for p in out["Parameters"]}
    missing = [n for n in names if n not in values]
    if missing:
        raise OpsError(f"SSM parameter(s) {', '.join(missing)} not found: put the Twilio "
                       "secrets there or set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
                       fr=f"paramètre(s) SSM {', '.join(missing)} introuvable(s) : mettez-y "
                       "les secrets Twilio ou définissez TWILIO_ACCOUNT_SID et "
                       "TWILIO_AUTH_TOKEN")
    return values[names[0]], values[names[1]]


# -- Twilio Usage Triggers: the second breaker, on Twilio's side ------------------------------
# twilio-python: client.usage.triggers.create(callback_url=, trigger_value=, usage_category=,
# recurring="daily", trigger_by=, friendly_name=); update() changes only the callback and the
# name, so a changed threshold is deleted and created again (Usage Trigger REST API docs).
# A recurring trigger fires once per period; `date_fired` says when it last did.
TRIGGER_PREFIX = "decoy-number "
DEFAULT_STACK = "decoy-number"  # samconfig.toml's stack_name
MAX_FRIENDLY_NAME = 64  # Twilio's friendly names: keep ours short enough to stay whole


def trigger_name(stack: str, what: str) -> str:
    """'decoy-number daily sms [decoy-paris]': the stack in the name, so two stacks on one
    account each find their own triggers (before issue 23 every stack used one name)."""
    room = MAX_FRIENDLY_NAME - len(TRIGGER_PREFIX) - len(what) - 3
    return f"{TRIGGER_PREFIX}{what} [{stack[:room]}]"


def threshold_text(value: float) -> str:
    """The threshold exactly, as Twilio's TriggerValue string: 1234567, 1234.5678, 0.00001.
    `{value:g}` sent 1.23457e+06: not the threshold asked for, and never equal to it on the
    next run, so every `connect --apply` deleted and re-created the trigger."""
    number = Decimal(repr(float(value)))
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), "f")


@dataclass(frozen=True)
class Trigger:
    """One daily Usage Trigger we want: Twilio calls the stack's /usage once it is crossed."""

    name: str  # friendly_name, naming the stack (trigger_name)
    usage_category: str
    trigger_by: str  # count | usage | price
    value: float
    recurring: str = "daily"


def wanted_triggers(sms_per_day: int, call_minutes_per_day: int, price_per_day: float, *,
                    stack: str = DEFAULT_STACK) -> list[Trigger]:
    """Daily SMS count (inbound + outbound), inbound call minutes, and the day's total price."""
    return [Trigger(trigger_name(stack, "daily sms"), "sms", "count", float(sms_per_day)),
            Trigger(trigger_name(stack, "daily call minutes"), "calls-inbound", "usage",
                    float(call_minutes_per_day)),
            Trigger(trigger_name(stack, "daily total price"), "totalprice", "price",
                    float(price_per_day))]


def off_air_callback(usage_url: str) -> str:
    """The level-2 triggers' callback: the same signed route, `?level=2` (decoy.offair)."""
    return f"{usage_url}{'&' if '?' in usage_url else '?'}level=2"


def off_air_triggers(sms_per_day: int, price_per_day: float, *,
                     stack: str = DEFAULT_STACK) -> list[Trigger]:
    """Level 2, "off the air": the same daily categories at higher thresholds; their callback
    (off_air_callback) takes every number off the air."""
    return [Trigger(trigger_name(stack, "off-air daily sms"), "sms", "count",
                    float(sms_per_day)),
            Trigger(trigger_name(stack, "off-air daily total price"), "totalprice", "price",
                    float(price_per_day))]


@dataclass(frozen=True)
class TriggerPlan:
    """keep | create | update (callback only) | replace (delete + create) | delete (a duplicate)."""

    action: str
    trigger: Trigger
    sid: str | None = None
    current: str = ""
    fired: str = ""  # when the trigger being replaced last fired ('' = not fired)


def _value(raw: Any) -> float | None:
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


def _ours(resource: Any, trigger: Trigger, callback_url: str) -> bool:
    """This stack's trigger: its own name, or one calling this stack's callback URL for the same
    category (a trigger named before names carried the stack). A trigger of another stack
    (another callback, another name) is never touched."""
    return resource.friendly_name == trigger.name or (
        resource.callback_url == callback_url and resource.usage_category ==
        trigger.usage_category and resource.trigger_by == trigger.trigger_by)


def plan_triggers(existing: list[Any], wanted: list[Trigger], callback_url: str
                  ) -> list[TriggerPlan]:
    """Compare the account's Usage Triggers with the wanted ones (pure, no API call).

    Re-created (delete + create) only when the threshold, category, unit or period changed,
    or when it already fired (silent until its period ends: re-creating re-arms it, and it
    fires again at once if usage is still over); a callback or name is updated in place."""
    plans = []
    for trigger in wanted:
        mine = [r for r in existing if _ours(r, trigger, callback_url)]
        if not mine:
            plans.append(TriggerPlan("create", trigger))
            continue
        first, *extra = mine
        current = (f"{first.usage_category} {first.trigger_by} >= {first.trigger_value} "
                   f"{first.recurring or 'once'} -> {first.callback_url}")
        same = (first.usage_category, first.trigger_by, first.recurring or "") == \
            (trigger.usage_category, trigger.trigger_by, trigger.recurring) and \
            _value(first.trigger_value) == trigger.value
        fired = getattr(first, "date_fired", None)
        if not same or fired:
            action = "replace"
        elif (first.callback_url, (first.callback_method or "POST").upper(),
              first.friendly_name) != (callback_url, "POST", trigger.name):
            action = "update"
        else:
            action = "keep"
        plans.append(TriggerPlan(action, trigger, first.sid, current,
                                 str(fired) if fired and action == "replace" else ""))
        plans += [TriggerPlan("delete", trigger, r.sid) for r in extra]
    return plans


def apply_trigger(client: Any, plan: TriggerPlan, callback_url: str) -> None:
    trigger = plan.trigger
    if plan.action in ("replace", "delete"):
        client.usage.triggers(plan.sid).delete()
    if plan.action == "update":
        client.usage.triggers(plan.sid).update(callback_url=callback_url, callback_method="POST",
                                               friendly_name=trigger.name)
    if plan.action in ("create", "replace"):
        client.usage.triggers.create(
            callback_url=callback_url, callback_method="POST", friendly_name=trigger.name,
            trigger_value=threshold_text(trigger.value), usage_category=trigger.usage_category,
            recurring=trigger.recurring, trigger_by=trigger.trigger_by)


# What describe_trigger says of each plan, in English and French (the caller applies the
# French typography); names, categories and units stay Twilio's codes.
_TRIGGER_HEADS = {"en": "usage trigger '{name}'", "fr": "alerte de dépense '{name}'"}
_TRIGGER_LINES = {
    "keep": ("already {wanted}", "déjà en place, {wanted}"),
    "create": ("create {wanted}", "à créer, {wanted}"),
    "delete": ("delete this duplicate", "doublon à supprimer"),
    "fired": ("fired {fired}, re-created to re-arm it: {wanted}",
              "déclenchée le {fired}, recréée pour la réarmer : {wanted}"),
    "update": ("{current} -> {wanted}", "{current} -> {wanted}"),
}


def describe_trigger(plan: TriggerPlan, callback_url: str, lang: str = "en") -> str:
    """One line per trigger plan, in English or French (`lang="fr"`)."""
    t = plan.trigger
    wanted = (f"{t.usage_category} {t.trigger_by} >= {threshold_text(t.value)} {t.recurring} "
              f"-> {callback_url}")
    fr = lang == "fr"
    head = _TRIGGER_HEADS["fr" if fr else "en"].format(name=t.name) + (
        f" ({plan.sid})" if plan.sid else "")
    kind = plan.action if plan.action in ("keep", "create", "delete") else \
        "fired" if plan.fired else "update"
    line = _TRIGGER_LINES[kind][fr].format(wanted=wanted, fired=plan.fired,
                                           current=plan.current)
    return f"{head}{' : ' if fr else ': '}{line}"
