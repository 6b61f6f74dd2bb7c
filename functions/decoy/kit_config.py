"""The venue kit's texts in the campaigns file: per-language defaults, per-campaign overrides.

The kit itself (PDFs, fonts, layout) lives in decoy_ops/kit.py, outside the Lambda package;
this module only validates the data, so a bad text fails `make campaigns` and cold start
like any other campaign field.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from decoy.settings import ConfigError

# Every text of the kit, and whether it is one string or a list of them (lines, names).
KIT_FIELDS: dict[str, type] = {
    "first_names": list,         # printed on the cards, one per card, in turn
    "poster_title": str,
    "poster_lead": str,          # what the number does
    "poster_steps_heading": str,
    "poster_steps": list,        # how to hand it over
    "poster_qr": str,            # caption beside the QR code (saves the number as a contact)
    "poster_help": str,          # where to find help right now
    "staff_title": str,
    "staff_intro": str,
    "staff_help_heading": str,   # when someone asks for help
    "staff_help": list,
    "staff_number_heading": str,  # how the number works
    "staff_number": list,
    "staff_poster_heading": str,  # where to put the poster and the cards
    "staff_poster": list,
    "staff_call_heading": str,   # who to call: the helplines of the config
    "staff_call_missing": str,   # printed above blank lines when no local helpline is set
}
# What a text may quote: {name} the contact's first name, {number} the decoy number as
# people write it, {delay} the minutes before the reply ("60", "30–60").
PLACEHOLDERS = frozenset({"name", "number", "delay"})
MAX_FIRST_NAMES = 20
MAX_FIRST_NAME_CHARS = 16
MAX_HELPLINES = 4
_HELPLINE_NUMBER = re.compile(r"\+?[0-9][0-9 ]{1,18}\Z")


class Helpline(NamedTuple):
    """A helpline the staff sheet lists: its name and number as dialled locally."""

    name: str
    number: str  # as dialled in the campaign's country: "3919", "112", "0800 30 030"


class Kit(NamedTuple):
    """A campaign's kit texts, resolved: its language's defaults with its own overrides."""

    texts: Mapping[str, Any]
    helplines: tuple[Helpline, ...]

    @property
    def first_names(self) -> tuple[str, ...]:
        return tuple(self.texts["first_names"])

    @property
    def contact_name(self) -> str:
        """The name the poster's QR code saves the number under: the first first name."""
        return self.first_names[0]


def _check_text(value: Any, kind: type, field: str, where: str) -> Any:
    if kind is str:
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: field '{field}' must be a non-empty string")
        items = [value]
    else:
        if (not isinstance(value, list) or not value
                or not all(isinstance(v, str) and v.strip() for v in value)):
            raise ConfigError(f"{where}: field '{field}' must be a non-empty list of strings")
        items = value
    for item in items:
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(item) if name is not None}
        except ValueError as exc:
            raise ConfigError(f"{where}: field '{field}': {exc} (write {{{{ for a brace)") from None
        unknown = sorted(names - PLACEHOLDERS)
        if unknown:
            raise ConfigError(f"{where}: field '{field}' uses {{{unknown[0]}}}; known: "
                              f"{', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))}")
    if field.endswith("first_names"):
        if len(value) > MAX_FIRST_NAMES:
            raise ConfigError(f"{where}: field '{field}' lists {len(value)} names, over "
                              f"{MAX_FIRST_NAMES}")
        too_long = [n for n in value if len(n) > MAX_FIRST_NAME_CHARS or "{" in n]
        if too_long:
            raise ConfigError(f"{where}: field '{field}': {too_long[0]!r} is not a first name "
                              f"of at most {MAX_FIRST_NAME_CHARS} characters")
    return value


def _texts(raw: Any, where: str, prefix: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: field '{prefix.rstrip('.')}' must be an object")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(f"{where}: field '{prefix}{unknown[0]}' is unknown "
                          f"(known: {', '.join(sorted(allowed))})")
    return {name: _check_text(value, KIT_FIELDS[name], prefix + name, where)
            for name, value in raw.items() if name in KIT_FIELDS}


def parse_kit_texts(raw: Any) -> dict[str, dict[str, Any]]:
    """The file's `kit_texts`: {language: texts}; a language block holds every field."""
    if raw is None:
        return {}
    where = "campaigns file"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: field 'kit_texts' must be an object")
    found = {}
    for language, texts in raw.items():
        if not re.fullmatch(r"[a-z]{2,3}(-[A-Z]{2})?", language):
            raise ConfigError(f"{where}: field 'kit_texts.{language}' must be named by a "
                              "language like 'fr' or 'fr-BE'")
        prefix = f"kit_texts.{language}."
        found[language] = _texts(texts, where, prefix, set(KIT_FIELDS) | {"$comment"})
        missing = sorted(set(KIT_FIELDS) - set(found[language]))
        if missing:
            raise ConfigError(f"{where}: field '{prefix}{missing[0]}' is required")
    return found


def _helplines(raw: Any, where: str) -> tuple[Helpline, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or len(raw) > MAX_HELPLINES:
        raise ConfigError(f"{where}: field 'kit.helplines' must be a list of at most "
                          f"{MAX_HELPLINES} {{name, number}} objects")
    lines = []
    for i, entry in enumerate(raw):
        field = f"kit.helplines[{i}]"
        if not isinstance(entry, Mapping) or set(entry) - {"name", "number"}:
            raise ConfigError(f"{where}: field '{field}' must be an object with name and number")
        name, number = entry.get("name"), entry.get("number")
        if not isinstance(name, str) or not 0 < len(name.strip()) <= 60:
            raise ConfigError(f"{where}: field '{field}.name' must be 1-60 characters")
        if not isinstance(number, str) or not _HELPLINE_NUMBER.fullmatch(number):
            raise ConfigError(f"{where}: field '{field}.number' must be a number as dialled "
                              "(digits and spaces, e.g. '3919' or '0800 30 030')")
        lines.append(Helpline(name.strip(), number))
    return tuple(lines)


def parse_kit(raw: Any, where: str, language: str,
              defaults: Mapping[str, Mapping[str, Any]]) -> Kit | None:
    """The campaign's kit: kit_texts[language] (or its base language) with the campaign's
    `kit` overrides; None when neither exists (that campaign has no kit to print)."""
    base = defaults.get(language) or defaults.get(language.split("-")[0])
    if raw is None and base is None:
        return None
    own = _texts(raw if raw is not None else {}, where, "kit.", set(KIT_FIELDS) | {"helplines"})
    texts = {**(base or {}), **own}
    missing = sorted(set(KIT_FIELDS) - set(texts))
    if missing:
        raise ConfigError(f"{where}: field 'kit.{missing[0]}' is required (no kit_texts for "
                          f"language {language})")
    helplines = _helplines((raw or {}).get("helplines"), where)
    return Kit(texts=MappingProxyType(texts), helplines=helplines)
