"""Campaigns: one per decoy number, loaded from one versioned JSON file and validated."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from decoy.phone import is_e164
from decoy.segments import count_segments, non_gsm_characters
from decoy.settings import ConfigError, Limits, parse_calling_codes
from decoy.voices import voice_problem

DEFAULT_FILE = Path(__file__).with_name("campaigns.json")
SUPPORTED_VERSION = 1
_CAMPAIGN_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,31}\Z")  # a metric dimension and a URL query
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Z]{2})?\Z")
_MESSAGING_SERVICE_SID = re.compile(r"MG[0-9a-f]{32}\Z")
_ALPHANUMERIC_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}\Z")
_QUOTA_FIELDS = {
    "max_messages_per_sender": 1,
    "replies_per_sender": 0,
    "sender_window_seconds": 60,
}
# Every field each object may hold: a typo ('reply_form') fails instead of being ignored.
_KNOWN_FIELDS = {
    "": {"version", "max_reply_segments", "campaigns", "$comment"},
    "campaign": {"id", "number", "language", "reply", "help_reply", "reply_from",
                 "allowed_country_codes", "voicemail", "quotas", "$comment"},
    "reply_from": {"type", "sid", "id"},
    "voicemail": {"say", "play", "play_seconds", "voice", "language", "listen_seconds"},
}
BILLED_MINUTE_SECONDS = 60  # Twilio bills an answered call per started minute
# Conservative: text-to-speech reads about 12-16 characters a second; assuming 10 makes the
# estimate longer than the real greeting, so a greeting that passes fits in the minute.
SPOKEN_CHARS_PER_SECOND = 10
# ARCEP reserves French 06/07 numbers for person-to-person use: carriers block A2P from them.
_FRENCH_MOBILE = ("+336", "+337")
REPLY = "reply"
HELP = "help"


@dataclass(frozen=True)
class ReplyFrom:
    """Who the reply comes from: the decoy number, a Messaging Service or a sender ID."""

    kind: str  # "number" | "messaging_service" | "alphanumeric"
    value: str | None = None


@dataclass(frozen=True)
class Voicemail:
    say: str | None
    voice: str | None
    language: str
    play: str | None
    listen_seconds: int


@dataclass(frozen=True)
class Campaign:
    id: str
    number: str
    language: str
    reply: str
    reply_from: ReplyFrom
    voicemail: Voicemail
    allowed_country_codes: tuple[str, ...] | None
    quotas: Mapping[str, int]
    help_reply: str | None = None

    def limits(self, base: Limits) -> Limits:
        """The global limits with this campaign's own quota overrides applied."""
        limits = replace(base, **dict(self.quotas))
        if limits.replies_per_sender > limits.max_messages_per_sender:
            raise ConfigError(
                f"campaign '{self.id}': field 'quotas.replies_per_sender' "
                f"({limits.replies_per_sender}) exceeds max_messages_per_sender "
                f"({limits.max_messages_per_sender})"
            )
        return limits

    def allowed_codes(self, default: tuple[str, ...]) -> tuple[str, ...]:
        """This campaign's calling codes; the deployment's AllowedCountryCodes otherwise."""
        return self.allowed_country_codes or default

    def text(self, kind: str = REPLY) -> str:
        """The SMS to send: the reply, or the help reply when asked for and configured."""
        return self.help_reply if kind == HELP and self.help_reply else self.reply


class Campaigns:
    """The loaded campaigns, looked up by the Twilio number that was called or texted."""

    def __init__(self, campaigns: list[Campaign]):
        self._by_number = {c.number: c for c in campaigns}
        self._by_id = {c.id: c for c in campaigns}

    def __iter__(self):
        return iter(self._by_id.values())

    def for_number(self, to_number: str) -> Campaign | None:
        return self._by_number.get(to_number)

    def by_id(self, campaign_id: str) -> Campaign | None:
        return self._by_id.get(campaign_id)

    def for_reply_sender(self, from_: str, messaging_service_sid: str = "") -> Campaign | None:
        """The one campaign whose replies come from this sender (a status callback's own
        From / MessagingServiceSid); None when no campaign or several match."""
        found = [c for c in self if (
            (c.reply_from.kind == "messaging_service" and messaging_service_sid
             and c.reply_from.value == messaging_service_sid)
            or (c.reply_from.kind == "number" and from_ and c.number == from_)
            or (c.reply_from.kind == "alphanumeric" and from_ and c.reply_from.value == from_))]
        return found[0] if len(found) == 1 else None

    def check_limits(self, base: Limits) -> None:
        """Fail at cold start when a campaign's quotas contradict the deployment's limits."""
        for campaign in self:
            campaign.limits(base)


def _field(obj: Mapping[str, Any], name: str, where: str, kind: type = str,
           required: bool = True) -> Any:
    """obj's field `name` (dotted for nested objects: 'voicemail.say' reads obj['say'])."""
    key = name.rsplit(".", 1)[-1]
    if key not in obj or obj[key] in (None, ""):
        if required:
            raise ConfigError(f"{where}: field '{name}' is required")
        return None
    value = obj[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: field '{name}' must be a {kind.__name__}")
    return value


def _no_unknown_fields(obj: Mapping[str, Any], kind: str, where: str) -> None:
    unknown = sorted(set(obj) - _KNOWN_FIELDS[kind])
    if unknown:
        prefix = f"{kind}." if kind not in ("", "campaign") else ""
        raise ConfigError(f"{where}: field '{prefix}{unknown[0]}' is unknown "
                          f"(known: {', '.join(sorted(_KNOWN_FIELDS[kind]))})")


def _reply_from(raw: Any, where: str) -> ReplyFrom:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: field 'reply_from' must be an object")
    _no_unknown_fields(raw, "reply_from", where)
    kind = _field(raw, "reply_from.type", where)
    if kind == "number":
        return ReplyFrom("number")
    if kind == "messaging_service":
        sid = _field(raw, "reply_from.sid", where)
        if not _MESSAGING_SERVICE_SID.fullmatch(sid):
            raise ConfigError(f"{where}: field 'reply_from.sid' must look like MG + 32 hex digits")
        return ReplyFrom(kind, sid)
    if kind == "alphanumeric":
        sender_id = _field(raw, "reply_from.id", where)
        if not _ALPHANUMERIC_ID.fullmatch(sender_id):
            raise ConfigError(
                f"{where}: field 'reply_from.id' must be 1-11 letters, digits or spaces, "
                "with at least one letter"
            )
        return ReplyFrom(kind, sender_id)
    raise ConfigError(
        f"{where}: field 'reply_from.type' must be number, messaging_service or alphanumeric"
    )


def _voicemail(raw: Any, where: str, language: str) -> Voicemail:
    if raw is None:
        raise ConfigError(f"{where}: field 'voicemail' is required")
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: field 'voicemail' must be an object")
    _no_unknown_fields(raw, "voicemail", where)
    say = _field(raw, "voicemail.say", where, required=False)
    play = _field(raw, "voicemail.play", where, required=False)
    if bool(say) == bool(play):
        raise ConfigError(f"{where}: field 'voicemail' needs exactly one of 'say' or 'play'")
    if play and not play.startswith("https://"):
        raise ConfigError(f"{where}: field 'voicemail.play' must be an https:// URL")
    listen = raw.get("listen_seconds", 2)
    if not isinstance(listen, int) or isinstance(listen, bool) or not 0 < listen <= 60:
        raise ConfigError(f"{where}: field 'voicemail.listen_seconds' must be 1-60")
    _fits_one_minute(raw, say, play, listen, where)
    voice = _field(raw, "voicemail.voice", where, required=False)
    spoken = _field(raw, "voicemail.language", where, required=False) or language
    if not _LANGUAGE.fullmatch(spoken):
        raise ConfigError(f"{where}: field 'voicemail.language' must look like 'fr-FR'")
    problem = voice and voice_problem(voice, spoken)
    if problem:
        raise ConfigError(f"{where}: field 'voicemail.voice': {problem}")
    return Voicemail(say=say, voice=voice, language=spoken, play=play, listen_seconds=listen)


def speech_seconds(text: str) -> int:
    """A conservative (long) estimate of how long <Say> takes to read `text`."""
    return -(-len(text) // SPOKEN_CHARS_PER_SECOND)


def _fits_one_minute(raw: Mapping[str, Any], say: str | None, play: str | None, listen: int,
                     where: str) -> None:
    """Greeting + pause within the one billed minute; `play` declares its length."""
    if play:
        length = raw.get("play_seconds")
        if not isinstance(length, int) or isinstance(length, bool) or not 0 < length < 60:
            raise ConfigError(f"{where}: field 'voicemail.play_seconds' (the recording's "
                              "length) must be 1-59 when 'voicemail.play' is used")
        name = "voicemail.play_seconds"
    else:
        if "play_seconds" in raw:
            raise ConfigError(f"{where}: field 'voicemail.play_seconds' only goes with 'play'")
        length, name = speech_seconds(say or ""), "voicemail.say"
    if length + listen > BILLED_MINUTE_SECONDS:
        raise ConfigError(
            f"{where}: field '{name}' lasts about {length} s + listen_seconds {listen} s = "
            f"{length + listen} s, over the one billed minute ({BILLED_MINUTE_SECONDS} s)")


def _quotas(raw: Any, where: str) -> dict[str, int]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: field 'quotas' must be an object")
    quotas = {}
    for name, value in raw.items():
        if name not in _QUOTA_FIELDS:
            raise ConfigError(
                f"{where}: field 'quotas.{name}' is unknown (known: {', '.join(_QUOTA_FIELDS)})"
            )
        if not isinstance(value, int) or isinstance(value, bool) or value < _QUOTA_FIELDS[name]:
            raise ConfigError(
                f"{where}: field 'quotas.{name}' must be an integer >= {_QUOTA_FIELDS[name]}"
            )
        quotas[name] = value
    if quotas.get("replies_per_sender", 0) > quotas.get("max_messages_per_sender", 10**9):
        raise ConfigError(
            f"{where}: field 'quotas.replies_per_sender' exceeds quotas.max_messages_per_sender"
        )
    return quotas


def _sms_text(raw: Mapping[str, Any], name: str, where: str, max_segments: int,
              required: bool) -> str | None:
    text = _field(raw, name, where, required=required)
    if text is None:
        return None
    count = count_segments(text)
    if count.segments > max_segments:
        hint = f" (characters forcing UCS-2: {non_gsm_characters(text)!r})" \
            if count.encoding == "UCS-2" else ""
        raise ConfigError(
            f"{where}: field '{name}' is {count.segments} SMS segments in {count.encoding}, "
            f"over the limit of {max_segments}{hint}"
        )
    return text


def parse_campaign(raw: Any, index: int, max_segments: int) -> Campaign:
    where = f"campaign #{index}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: must be an object")
    campaign_id = _field(raw, "id", where)
    if not _CAMPAIGN_ID.fullmatch(campaign_id):
        raise ConfigError(f"{where}: field 'id' must be 1-32 of a-z, 0-9 and '-'")
    where = f"campaign '{campaign_id}'"
    _no_unknown_fields(raw, "campaign", where)
    number = _field(raw, "number", where)
    if not is_e164(number):
        raise ConfigError(f"{where}: field 'number' must be an E.164 number like +33900000000")
    language = _field(raw, "language", where)
    if not _LANGUAGE.fullmatch(language):
        raise ConfigError(f"{where}: field 'language' must look like 'fr-FR'")
    reply = _sms_text(raw, "reply", where, max_segments, required=True)
    help_reply = _sms_text(raw, "help_reply", where, max_segments, required=False)
    reply_from = _reply_from(raw.get("reply_from", {"type": "number"}), where)
    if reply_from.kind == "number" and number.startswith(_FRENCH_MOBILE):
        raise ConfigError(
            f"{where}: field 'reply_from' is the French mobile {number}: carriers block "
            "automated SMS from 06/07 numbers; use a messaging_service or alphanumeric sender"
        )
    codes = _field(raw, "allowed_country_codes", where, kind=list, required=False)
    allowed = None
    if codes is not None:
        allowed = parse_calling_codes(",".join(map(str, codes)),
                                      f"{where}: field 'allowed_country_codes'")
    return Campaign(
        id=campaign_id,
        number=number,
        language=language,
        reply=reply,
        reply_from=reply_from,
        voicemail=_voicemail(raw.get("voicemail"), where, language),
        allowed_country_codes=allowed,
        quotas=_quotas(raw.get("quotas"), where),
        help_reply=help_reply,
    )


def parse_campaigns(document: Any) -> Campaigns:
    """Validate a whole campaigns document; the first error names campaign and field."""
    if not isinstance(document, Mapping):
        raise ConfigError("campaigns file: must be a JSON object")
    if document.get("version") != SUPPORTED_VERSION:
        raise ConfigError(f"campaigns file: field 'version' must be {SUPPORTED_VERSION}")
    _no_unknown_fields(document, "", "campaigns file")
    max_segments = document.get("max_reply_segments", 2)
    if not isinstance(max_segments, int) or isinstance(max_segments, bool) or max_segments < 1:
        raise ConfigError("campaigns file: field 'max_reply_segments' must be an integer >= 1")
    raw_list = document.get("campaigns")
    if not isinstance(raw_list, list) or not raw_list:
        raise ConfigError("campaigns file: field 'campaigns' must be a non-empty list")
    campaigns = [parse_campaign(raw, i, max_segments) for i, raw in enumerate(raw_list)]
    for attr in ("id", "number"):
        seen: set[str] = set()
        for campaign in campaigns:
            value = getattr(campaign, attr)
            if value in seen:
                raise ConfigError(f"campaign '{campaign.id}': field '{attr}' {value} is used twice")
            seen.add(value)
    return Campaigns(campaigns)


def load_campaigns(path: str | os.PathLike[str] | None = None) -> Campaigns:
    """Load CAMPAIGNS_FILE (or the packaged default); raise ConfigError when invalid."""
    path = Path(path or os.environ.get("CAMPAIGNS_FILE") or DEFAULT_FILE)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"campaigns file {path}: {exc}") from None
    return parse_campaigns(document)


def describe(campaign: Campaign) -> list[str]:
    """One line per SMS text of a campaign: encoding, units and billed segments."""
    sender = campaign.reply_from.kind + (f"={campaign.reply_from.value}"
                                         if campaign.reply_from.value else "")
    texts = [("reply", campaign.reply)]
    if campaign.help_reply:
        texts.append(("help_reply", campaign.help_reply))
    lines = []
    for name, text in texts:
        seg = count_segments(text)
        lines.append(f"{campaign.id:14} {campaign.number:15} {campaign.language:6} {name:10} "
                      f"{seg.encoding:5} {seg.units:4} units  {seg.segments} segment(s)  "
                      f"from {sender}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """`python -m decoy.campaigns [FILE]`: validate and print each reply's segment count."""
    args = sys.argv[1:] if argv is None else argv
    try:
        campaigns = load_campaigns(args[0] if args else None)
    except ConfigError as exc:
        print(f"invalid: {exc}", file=sys.stderr)
        return 1
    for campaign in campaigns:
        print("\n".join(describe(campaign)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
