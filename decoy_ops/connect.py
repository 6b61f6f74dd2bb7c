"""Point Twilio numbers' SMS and voice webhooks at the stack's API (dry run unless applied)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from decoy_ops.stack import OpsError

# Field names of Twilio's IncomingPhoneNumber resource (and of its update() arguments).
SMS_URL, VOICE_URL = "sms_url", "voice_url"


def wanted_settings(sms_url: str, voice_url: str) -> dict[str, str]:
    """What a decoy number needs: both webhooks POSTed to us, and no TwiML App overriding them."""
    return {SMS_URL: sms_url, "sms_method": "POST", VOICE_URL: voice_url, "voice_method": "POST",
            "sms_application_sid": "", "voice_application_sid": ""}


@dataclass(frozen=True)
class Plan:
    """The changes one number needs; `sid` is None when the account does not own the number."""

    number: str
    sid: str | None
    changes: dict[str, tuple[str, str]] = field(default_factory=dict)  # field: (now, wanted)


def plan_for(resource: Any | None, number: str, wanted: dict[str, str]) -> Plan:
    """Compare a number's current settings with the wanted ones (pure, no API call)."""
    if resource is None:
        return Plan(number, None)
    changes = {name: (getattr(resource, name) or "", value) for name, value in wanted.items()
               if (getattr(resource, name) or "") != value}
    return Plan(number, resource.sid, changes)


def find_number(client: Any, number: str) -> Any | None:
    """The account's IncomingPhoneNumber for `number` (Twilio's filter also matches parts)."""
    found = client.incoming_phone_numbers.list(phone_number=number, limit=20)
    return next((r for r in found if r.phone_number == number), None)


def apply(client: Any, plan: Plan) -> None:
    client.incoming_phone_numbers(plan.sid).update(
        **{name: wanted for name, (_, wanted) in plan.changes.items()})


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
                       "secrets there or set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
    return values[names[0]], values[names[1]]


def describe(plan: Plan) -> list[str]:
    """Lines telling the operator what is (or would be) changed for one number."""
    if plan.sid is None:
        return [f"{plan.number}: not a number of this Twilio account"]
    if not plan.changes:
        return [f"{plan.number} ({plan.sid}): already pointed at this stack"]
    return [f"{plan.number} ({plan.sid}):"] + [
        f"  {name}: {now or '(empty)'} -> {wanted or '(empty)'}"
        for name, (now, wanted) in plan.changes.items()]
