"""Typed settings read once from the environment; a bad value names its variable."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

_CALLING_CODE = re.compile(r"[1-9]\d{0,2}\Z")
MAX_VALIDITY_PERIOD_SECONDS = 36_000  # Twilio Messages API: ValidityPeriod is 1-36000


class ConfigError(ValueError):
    """A setting or campaign field is missing or invalid (raised at cold start)."""


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"environment variable {name} is required")
    return value


def _positive_int(env: Mapping[str, str], name: str, minimum: int = 1) -> int:
    raw = _required(env, name)
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name}={raw!r} is not an integer") from None
    if value < minimum:
        raise ConfigError(f"environment variable {name}={value} must be >= {minimum}")
    return value


def parse_calling_codes(raw: str, field: str) -> tuple[str, ...]:
    """'33, 32' -> ('33', '32'); each must be a 1-3 digit ITU calling code."""
    codes = tuple(code.strip().lstrip("+") for code in raw.split(",") if code.strip())
    if not codes:
        raise ConfigError(f"{field} must list at least one calling code")
    for code in codes:
        if not _CALLING_CODE.fullmatch(code):
            raise ConfigError(f"{field}: {code!r} is not a calling code (1-3 digits)")
    return codes


# scheme://host[:port][/path], no credentials, query or fragment: what Twilio is given.
# Patterns, not compiled: only used when the option is set (re caches them on first use).
_BASE_URL = r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?"


def public_webhook_base_url(env: Mapping[str, str] | None = None) -> str | None:
    """PUBLIC_WEBHOOK_BASE_URL (template Parameter PublicWebhookBaseUrl), or None when empty.

    The URL Twilio calls, up to the route (https://sms.example.org/decoy): behind an API
    mapping key the event cannot tell it (AWS: "rawPath won't provide the API mapping
    value", API Gateway Developer Guide, payload format 2.0), so the deployer says it.
    """
    env = os.environ if env is None else env
    raw = env.get("PUBLIC_WEBHOOK_BASE_URL", "").strip()
    if not raw:
        return None
    url = raw.rstrip("/")
    if not re.fullmatch(_BASE_URL, url) or urlsplit(url).hostname is None:
        raise ConfigError(f"environment variable PUBLIC_WEBHOOK_BASE_URL={raw!r} must be "
                          "http(s)://host[:port][/path], without credentials, query or fragment")
    return url


class Limits(NamedTuple):
    """The cost shield: per-sender quota and the global daily budget."""

    max_messages_per_sender: int
    replies_per_sender: int
    sender_window_seconds: int
    daily_reply_budget: int
    reply_delay_seconds: int
    opt_out_seconds: int


class Settings(NamedTuple):
    """What both functions need."""

    table_name: str
    limits: Limits
    allowed_country_codes: tuple[str, ...]
    account_sid_parameter: str
    auth_token_parameter: str
    hash_key_parameter: str
    kill_switch_parameter: str
    kill_switch_cache_seconds: int
    daily_answered_calls: int  # calls answered per UTC day, all callers together
    # SSM name of a Twilio webhook SharedKey secret (receiver only); None = never read.
    shared_key_parameter: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        limits = Limits(
            max_messages_per_sender=_positive_int(env, "MAX_MESSAGES_PER_SENDER"),
            replies_per_sender=_positive_int(env, "REPLIES_PER_SENDER_PER_WINDOW", minimum=0),
            sender_window_seconds=_positive_int(env, "SENDER_WINDOW_SECONDS", minimum=60),
            daily_reply_budget=_positive_int(env, "DAILY_REPLY_BUDGET", minimum=0),
            reply_delay_seconds=_positive_int(env, "REPLY_DELAY_SECONDS", minimum=0),
            opt_out_seconds=_positive_int(env, "OPT_OUT_SECONDS", minimum=60),
        )
        if limits.replies_per_sender > limits.max_messages_per_sender:
            raise ConfigError(
                "REPLIES_PER_SENDER_PER_WINDOW must not exceed MAX_MESSAGES_PER_SENDER"
            )
        return cls(
            table_name=_required(env, "TABLE_NAME"),
            limits=limits,
            allowed_country_codes=parse_calling_codes(
                _required(env, "ALLOWED_COUNTRY_CODES"), "ALLOWED_COUNTRY_CODES"
            ),
            account_sid_parameter=_required(env, "TWILIO_ACCOUNT_SID_PARAMETER"),
            auth_token_parameter=_required(env, "TWILIO_AUTH_TOKEN_PARAMETER"),
            hash_key_parameter=_required(env, "SENDER_HASH_KEY_PARAMETER"),
            kill_switch_parameter=_required(env, "KILL_SWITCH_PARAMETER"),
            kill_switch_cache_seconds=_positive_int(env, "KILL_SWITCH_CACHE_SECONDS", minimum=0),
            daily_answered_calls=_positive_int(env, "DAILY_ANSWERED_CALL_BUDGET", minimum=0),
            shared_key_parameter=env.get("TWILIO_SHARED_KEY_PARAMETER", "").strip() or None,
        )


class ScheduleTarget(NamedTuple):
    """Where the receiver points each one-time schedule (receiver only)."""

    group_name: str
    sender_arn: str
    role_arn: str
    dead_letter_arn: str
    kms_key_arn: str | None
    retry_attempts: int
    max_event_age_seconds: int

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ScheduleTarget:
        env = os.environ if env is None else env
        return cls(
            group_name=_required(env, "SCHEDULE_GROUP_NAME"),
            sender_arn=_required(env, "SENDER_FUNCTION_ARN"),
            role_arn=_required(env, "SCHEDULER_ROLE_ARN"),
            dead_letter_arn=_required(env, "SCHEDULE_DLQ_ARN"),
            kms_key_arn=env.get("SCHEDULE_KMS_KEY_ARN", "").strip() or None,
            retry_attempts=_positive_int(env, "SCHEDULE_RETRY_ATTEMPTS", minimum=0),
            max_event_age_seconds=_positive_int(env, "SCHEDULE_MAX_EVENT_AGE_SECONDS", minimum=60),
        )


class Delivery(NamedTuple):
    """How the sender reaches Twilio (sender only)."""

    status_callback_url: str | None
    twilio_api_base_url: str | None
    validity_period_seconds: int  # Twilio's ValidityPeriod: 1-36000 s in its queue
    schedule_group_name: str  # where a queued opt-out waits (decoy.optout)
    # The reject-busy TwiML Bin (template Parameter VoiceRejectUrl): level 2 points the
    # numbers' voice URL at it (decoy.offair); "" = none, their voice URL is emptied.
    voice_reject_url: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Delivery:
        env = os.environ if env is None else env
        validity = _positive_int(env, "REPLY_VALIDITY_PERIOD_SECONDS")
        if validity > MAX_VALIDITY_PERIOD_SECONDS:
            raise ConfigError(f"environment variable REPLY_VALIDITY_PERIOD_SECONDS={validity} "
                              f"must be <= {MAX_VALIDITY_PERIOD_SECONDS} (Twilio's maximum)")
        return cls(
            status_callback_url=env.get("STATUS_CALLBACK_URL", "").strip() or None,
            twilio_api_base_url=env.get("TWILIO_API_BASE_URL", "").strip() or None,
            validity_period_seconds=validity,
            schedule_group_name=_required(env, "SCHEDULE_GROUP_NAME"),
            voice_reject_url=voice_reject_url(env),
        )


def voice_reject_url(env: Mapping[str, str] | None = None) -> str:
    """VOICE_REJECT_URL: an https URL (a TwiML Bin, https://handler.twilio.com/twiml/EH...),
    or "" (none configured)."""
    env = os.environ if env is None else env
    raw = env.get("VOICE_REJECT_URL", "").strip()
    if raw and (not re.fullmatch(_REJECT_URL, raw) or urlsplit(raw).hostname is None):
        raise ConfigError(f"environment variable VOICE_REJECT_URL={raw!r} must be an "
                          "http(s) URL without credentials or fragment (a TwiML Bin's URL)")
    return raw


_REJECT_URL = r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?"
