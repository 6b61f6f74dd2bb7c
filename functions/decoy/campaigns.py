"""Campaigns: a pool of decoy numbers each, loaded from one versioned JSON file and validated."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from decoy.kit_config import Kit, parse_kit, parse_kit_texts
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
# France (calling code 33): since 2025-03-10 operators overwrite or block a sender ID (OADC)
# that is a generic word, digits only, or carries special characters or spaces; the AF2M
# "Charte Business Messaging 2026" (from March 2026, replacing the 2024 charter) keeps it:
# at most 11 characters, exclusively letters and digits, never digits only (af2m.org,
# "Protection des OADC sensibles"; operators' and aggregators' notices of the 2025-03-10
# change name alerte, rdv, paiement, banque, colis; Twilio reports the block as error 30042).
# Sources are the industry association's pages and aggregators, not a regulator's text: the
# word list below is what they cite and some obvious kin, not a complete list.
_FRENCH_SENDER_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9]{1,11}\Z")
_FRENCH_GENERIC_IDS = frozenset({
    "ALERTE", "ALERT", "ALERTES", "INFO", "INFOS", "INFORMATION", "RDV", "RENDEZVOUS",
    "BANQUE", "BANK", "COLIS", "PARCEL", "PAIEMENT", "PAYMENT", "LIVRAISON", "DELIVERY",
    "SMS", "NOTICE", "VERIFY", "VERIF", "CODE", "SECURITE", "SECURITY", "SERVICE", "MESSAGE",
    "NOTIFICATION", "FACTURE", "COMPTE", "CONFIRM", "AVIS"})
_FRANCE = "33"
_QUOTA_FIELDS = {
    "max_messages_per_sender": 1,
    "replies_per_sender": 0,
    "sender_window_seconds": 60,
}
# Every field each object may hold: a typo ('reply_form') fails instead of being ignored.
_KNOWN_FIELDS = {
    "": {"version", "max_reply_segments", "campaigns", "kit_texts", "$comment"},
    "campaign": {"id", "number", "numbers", "language", "reply", "help_reply", "reply_from",
                 "allowed_country_codes", "voicemail", "quotas", "delay_window", "kit",
                 "$comment"},
    "reply_from": {"type", "sid", "id"},
    "voicemail": {"say", "play", "play_seconds", "voice", "language", "listen_seconds"},
    "delay_window": {"min_seconds", "max_seconds"},
}
# A pool's labels are a metric dimension on a few metrics: the cap bounds their count (and
# CloudWatch's bill: docs/campaigns.md "Numbers per venue").
MAX_NUMBERS_PER_CAMPAIGN = 10
ACTIVE, RETIRED = "active", "retired"
SHORTHAND_LABEL = "main"  # the label of a campaign written with one "number"
# EventBridge Scheduler invokes one-time schedules with 60-second precision (Scheduler user
# guide, "Schedule types"): a delay window narrower or earlier than a minute means nothing.
SCHEDULER_PRECISION_SECONDS = 60
MAX_DELAY_SECONDS = 86_400  # ReplyDelaySeconds' MaxValue in template.yaml
BILLED_MINUTE_SECONDS = 60  # Twilio bills an answered call per started minute
# Conservative: text-to-speech reads about 12-16 characters a second; assuming 10 makes the
# estimate longer than the real greeting, so a greeting that passes fits in the minute.
SPOKEN_CHARS_PER_SECOND = 10
# ARCEP reserves French 06/07 numbers for person-to-person use: carriers block A2P from them.
_FRENCH_MOBILE = ("+336", "+337")
REPLY = "reply"
HELP = "help"
# The example numbers campaigns.json ships with: nobody owns them, a deploy must replace them
# (tests/unit/test_campaigns.py keeps this list equal to the shipped file's numbers). Ofcom
# keeps 07700 900000-900999 for drama: never a real UK number.
PLACEHOLDER_NUMBERS = frozenset({"+33939000001", "+33939000002", "+3228000003", "+3228000005",
                                 "+3228000006", "+3228000007", "+447700900004"})
_DRAMA_RANGE = re.compile(r"\+447700900\d{3}\Z")


def is_placeholder(number: str) -> bool:
    """An example number shipped in campaigns.json (or a UK drama number): not deployable."""
    return number in PLACEHOLDER_NUMBERS or bool(_DRAMA_RANGE.fullmatch(number))


class ReplyFrom(NamedTuple):
    """Who the reply comes from: the decoy number, a Messaging Service or a sender ID."""

    kind: str  # "number" | "messaging_service" | "alphanumeric"
    value: str | None = None


class Voicemail(NamedTuple):
    """What a caller hears: a spoken greeting (<Say>) or a recording (<Play>)."""

    say: str | None
    voice: str | None
    language: str
    play: str | None
    listen_seconds: int


class DecoyNumber(NamedTuple):
    """One number of a campaign's pool: the label says where its cards went (a venue)."""

    number: str
    label: str
    status: str = ACTIVE  # a retired number still answers; no new kit prints it

    @property
    def active(self) -> bool:
        return self.status == ACTIVE


class DelayWindow(NamedTuple):
    """The reply goes out at a moment between min and max seconds after receipt."""

    min_seconds: int
    max_seconds: int

    def delay_for(self, key: str) -> int:
        """A delay in the window, spread evenly over keys (a MessageSid): the same key always
        gets the same delay, so a Twilio retry and its schedule agree."""
        span = self.max_seconds - self.min_seconds + 1
        draw = int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")
        return self.min_seconds + draw % span


class Campaign(NamedTuple):
    """One campaign of the versioned file: its numbers, texts, sender and quotas."""

    id: str
    numbers: tuple[DecoyNumber, ...]
    language: str
    reply: str
    reply_from: ReplyFrom
    voicemail: Voicemail
    allowed_country_codes: tuple[str, ...] | None
    quotas: Mapping[str, int]
    help_reply: str | None = None
    delay_window: DelayWindow | None = None
    kit: Kit | None = None

    @property
    def number(self) -> str:
        """The campaign's first active number (its first number when all are retired)."""
        return next((n.number for n in self.numbers if n.active), self.numbers[0].number)

    @property
    def active_numbers(self) -> tuple[DecoyNumber, ...]:
        return tuple(n for n in self.numbers if n.active)

    def label_of(self, number: str) -> str | None:
        """The label of one of this pool's numbers (None when it is not in the pool)."""
        return next((n.label for n in self.numbers if n.number == number), None)

    def reply_delay(self, default_seconds: int, key: str) -> int:
        """Seconds from receipt to reply: the delay window's pick for `key`, else the
        deployment's ReplyDelaySeconds."""
        if self.delay_window is None:
            return default_seconds
        return self.delay_window.delay_for(key)

    def limits(self, base: Limits) -> Limits:
        """The global limits with this campaign's own quota overrides applied."""
        limits = base._replace(**dict(self.quotas))
        if limits.replies_per_sender > limits.max_messages_per_sender:
            raise ConfigError(
                f"campaign '{self.id}': field 'quotas.replies_per_sender' "
                f"({limits.replies_per_sender}) exceeds max_messages_per_sender "
                f"({limits.max_messages_per_sender})"
            )
        window = self.delay_window
        if window is not None and window.max_seconds >= limits.sender_window_seconds:
            raise ConfigError(
                f"campaign '{self.id}': field 'delay_window.max_seconds' ({window.max_seconds}) "
                f"must be shorter than the sender window ({limits.sender_window_seconds} s)")
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
        # Every number of every pool, retired ones too: a retired number answers until it is
        # released in Twilio.
        self._by_number = {n.number: c for c in campaigns for n in c.numbers}
        self._by_id = {c.id: c for c in campaigns}

    def __iter__(self):
        return iter(self._by_id.values())

    def for_number(self, to_number: str) -> Campaign | None:
        return self._by_number.get(to_number)

    def by_id(self, campaign_id: str) -> Campaign | None:
        return self._by_id.get(campaign_id)

    def numbers(self) -> list[str]:
        """Every decoy number of every campaign (active and retired), in file order."""
        return list(self._by_number)

    def for_reply_sender(self, from_: str, messaging_service_sid: str = "") -> Campaign | None:
        """The one campaign whose replies come from this sender (a status callback's own
        From / MessagingServiceSid); None when no campaign or several match."""
        found = [c for c in self if (
            (c.reply_from.kind == "messaging_service" and messaging_service_sid
             and c.reply_from.value == messaging_service_sid)
            or (c.reply_from.kind == "number" and from_ and c.label_of(from_) is not None)
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


def _check_french_sender_id(sender_id: str, where: str) -> None:
    """Refuse a sender ID French operators would block or overwrite (see _FRENCH_SENDER_ID);
    a campaign without allowed_country_codes takes the deployment's, France by default."""
    rule = ""
    if not _FRENCH_SENDER_ID.fullmatch(sender_id):
        rule = "letters and digits only, at least one letter, no space or special character"
    elif sender_id.upper() in _FRENCH_GENERIC_IDS:
        rule = "not a generic word (alerte, info, rdv, banque, colis...): use the name of the " \
               "organisation"
    if rule:
        raise ConfigError(
            f"{where}: field 'reply_from.id' {sender_id!r} would be blocked or overwritten in "
            f"France (operators since 2025-03-10, AF2M business messaging charter): {rule}")


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


def _pool(raw: Mapping[str, Any], where: str) -> tuple[tuple[DecoyNumber, ...], list[str]]:
    """The campaign's numbers and, for each, the field that named it (for error messages).
    `"number": "+33..."` is the one-number shorthand (label 'main')."""
    if ("number" in raw) == ("numbers" in raw):
        raise ConfigError(f"{where}: field 'numbers' is required (or the one-number "
                          "shorthand 'number', not both)")
    if "number" in raw:
        number = _field(raw, "number", where)
        if not is_e164(number):
            raise ConfigError(f"{where}: field 'number' must be an E.164 number like "
                              "+33900000000")
        return (DecoyNumber(number, SHORTHAND_LABEL),), ["number"]
    entries = raw["numbers"]
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{where}: field 'numbers' must be a non-empty list")
    if len(entries) > MAX_NUMBERS_PER_CAMPAIGN:
        raise ConfigError(f"{where}: field 'numbers' holds {len(entries)} numbers, over the cap "
                          f"of {MAX_NUMBERS_PER_CAMPAIGN} per campaign (one metric each)")
    pool, names, labels = [], [], set()
    for i, entry in enumerate(entries):
        name = f"numbers[{i}]"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{where}: field '{name}' must be an object")
        unknown = sorted(set(entry) - {"number", "label", "status"})
        if unknown:
            raise ConfigError(f"{where}: field '{name}.{unknown[0]}' is unknown "
                              "(known: label, number, status)")
        number = _field(entry, f"{name}.number", where)
        if not is_e164(number):
            raise ConfigError(f"{where}: field '{name}.number' must be an E.164 number like "
                              "+33900000000")
        label = _field(entry, f"{name}.label", where)
        if not _CAMPAIGN_ID.fullmatch(label):
            raise ConfigError(f"{where}: field '{name}.label' must be 1-32 of a-z, 0-9 and '-'")
        if label in labels:
            raise ConfigError(f"{where}: field '{name}.label' {label} is used twice")
        labels.add(label)
        status = entry.get("status", ACTIVE)
        if status not in (ACTIVE, RETIRED):
            raise ConfigError(f"{where}: field '{name}.status' must be active or retired")
        pool.append(DecoyNumber(number, label, status))
        names.append(f"{name}.number")
    return tuple(pool), names


def _delay_window(raw: Any, where: str, quotas: Mapping[str, int]) -> DelayWindow | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: field 'delay_window' must be an object")
    _no_unknown_fields(raw, "delay_window", where)
    low = _field(raw, "delay_window.min_seconds", where, kind=int)
    high = _field(raw, "delay_window.max_seconds", where, kind=int)
    if not SCHEDULER_PRECISION_SECONDS <= low <= MAX_DELAY_SECONDS:
        raise ConfigError(f"{where}: field 'delay_window.min_seconds' must be "
                          f"{SCHEDULER_PRECISION_SECONDS}-{MAX_DELAY_SECONDS}")
    if not low + SCHEDULER_PRECISION_SECONDS <= high <= MAX_DELAY_SECONDS:
        raise ConfigError(
            f"{where}: field 'delay_window.max_seconds' must be at least min_seconds + "
            f"{SCHEDULER_PRECISION_SECONDS} (Scheduler fires within a minute) and at most "
            f"{MAX_DELAY_SECONDS}")
    window = quotas.get("sender_window_seconds")
    if window is not None and high >= window:
        raise ConfigError(f"{where}: field 'delay_window.max_seconds' ({high}) must be shorter "
                          f"than quotas.sender_window_seconds ({window})")
    return DelayWindow(low, high)


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


def parse_campaign(raw: Any, index: int, max_segments: int,
                   kit_texts: Mapping[str, Mapping[str, Any]] | None = None) -> Campaign:
    where = f"campaign #{index}"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: must be an object")
    campaign_id = _field(raw, "id", where)
    if not _CAMPAIGN_ID.fullmatch(campaign_id):
        raise ConfigError(f"{where}: field 'id' must be 1-32 of a-z, 0-9 and '-'")
    where = f"campaign '{campaign_id}'"
    _no_unknown_fields(raw, "campaign", where)
    numbers, _ = _pool(raw, where)
    language = _field(raw, "language", where)
    if not _LANGUAGE.fullmatch(language):
        raise ConfigError(f"{where}: field 'language' must look like 'fr-FR'")
    reply = _sms_text(raw, "reply", where, max_segments, required=True)
    help_reply = _sms_text(raw, "help_reply", where, max_segments, required=False)
    reply_from = _reply_from(raw.get("reply_from", {"type": "number"}), where)
    french_mobile = next((n.number for n in numbers if n.number.startswith(_FRENCH_MOBILE)),
                         None)
    if reply_from.kind == "number" and french_mobile:
        raise ConfigError(
            f"{where}: field 'reply_from' is the French mobile {french_mobile}: carriers block "
            "automated SMS from 06/07 numbers; use a messaging_service or alphanumeric sender"
        )
    codes = _field(raw, "allowed_country_codes", where, kind=list, required=False)
    allowed = None
    if codes is not None:
        allowed = parse_calling_codes(",".join(map(str, codes)),
                                      f"{where}: field 'allowed_country_codes'")
    if reply_from.kind == "alphanumeric" and (allowed is None or _FRANCE in allowed):
        _check_french_sender_id(reply_from.value, where)
    quotas = _quotas(raw.get("quotas"), where)
    return Campaign(
        id=campaign_id,
        numbers=numbers,
        language=language,
        reply=reply,
        reply_from=reply_from,
        voicemail=_voicemail(raw.get("voicemail"), where, language),
        allowed_country_codes=allowed,
        quotas=quotas,
        help_reply=help_reply,
        delay_window=_delay_window(raw.get("delay_window"), where, quotas),
        kit=parse_kit(raw.get("kit"), where, language, kit_texts or {}),
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
    kit_texts = parse_kit_texts(document.get("kit_texts"))
    campaigns = [parse_campaign(raw, i, max_segments, kit_texts)
                 for i, raw in enumerate(raw_list)]
    ids: set[str] = set()
    numbers: set[str] = set()
    for raw, campaign in zip(raw_list, campaigns, strict=True):
        if campaign.id in ids:
            raise ConfigError(f"campaign '{campaign.id}': field 'id' {campaign.id} is used twice")
        ids.add(campaign.id)
        _, fields = _pool(raw, f"campaign '{campaign.id}'")
        for entry, field in zip(campaign.numbers, fields, strict=True):
            if entry.number in numbers:
                raise ConfigError(f"campaign '{campaign.id}': field '{field}' {entry.number} "
                                  "is used twice")
            numbers.add(entry.number)
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
    for entry in campaign.numbers:
        lines.append(f"{campaign.id:14} {entry.number:15} {entry.status:7} label {entry.label}")
    if campaign.delay_window:
        lines.append(f"{campaign.id:14} reply after {campaign.delay_window.min_seconds}-"
                     f"{campaign.delay_window.max_seconds} s (random in the window)")
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
    examples = [n for n in campaigns.numbers() if is_placeholder(n)]
    if examples:
        print(f"warning: {len(examples)} example number(s) shipped with the project "
              f"({', '.join(examples)}): fine for `make run`, but a deploy needs numbers you "
              "bought (docs/deploy.md, section 2); `make preflight` refuses them",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
