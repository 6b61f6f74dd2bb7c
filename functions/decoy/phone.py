"""Phone numbers: who may get a reply, the keyed hash we store, the mask we log."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

_E164 = re.compile(r"\+[1-9]\d{7,14}\Z")
# A number, its + written as is or percent-encoded (%2B, %252B: URLs that libraries log at
# DEBUG, e.g. urllib3's request line "GET .../Messages.json?To=%2B336..."), or a French
# national form with spaces or dots.
_PHONE_LIKE = re.compile(
    r"(?<![\w+\-%])((?:\+|%(?:25)?2[Bb])?\d{8,15}|0\d(?:[ .]\d\d){4})(?![\w\-])")
_ENCODED_PLUS = re.compile(r"\A%(?:25)?2[Bb]")

# National significant number prefixes of mobile ranges, for the calling codes we know.
# Unknown codes only get the E.164 shape check; deployers extend this when they add one.
MOBILE_PREFIXES: dict[str, tuple[str, ...]] = {
    "1": ("",),  # NANP: mobile and fixed share ranges
    "31": ("6",),
    "32": ("45", "46", "47", "48", "49"),
    "33": ("6", "7"),
    "34": ("6", "7"),
    "39": ("3",),
    "41": ("75", "76", "77", "78", "79"),
    "44": ("7",),
    "49": ("15", "16", "17"),
    "352": ("6",),
    "353": ("8",),
}


def calling_code(number: str, allowed: Iterable[str]) -> str | None:
    """The allowed calling code `number` starts with (longest match), if any."""
    digits = number[1:]
    for code in sorted(allowed, key=len, reverse=True):
        if digits.startswith(code):
            return code
    return None


def sender_rejection(number: str, allowed: Iterable[str]) -> str | None:
    """Why `number` may not get a reply (None when it may): the SMS-pumping filter."""
    if not _E164.fullmatch(number):
        return "not an E.164 number (short code, alphanumeric ID or malformed)"
    code = calling_code(number, allowed)
    if code is None:
        return "calling code not in the allow-list"
    national = number[1 + len(code):]
    if not national.startswith(MOBILE_PREFIXES.get(code, ("",))):
        return "not a mobile range"
    return None


def international(typed: str, calling_code: str) -> str | None:
    """A number as a person types it, in international form: '06 12 34 56 78' read in France
    ('33') -> '+33612345678'; '0033 6...' and '+33 (0)6...' too. None when it is not one."""
    digits = re.sub(r"[\s.\-/()]", "", typed.replace("(0)", ""))
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    elif re.fullmatch(r"0\d{6,13}", digits):
        digits = f"+{calling_code}{digits[1:]}"
    return digits if _E164.fullmatch(digits) else None


def is_e164(number: str) -> bool:
    return bool(_E164.fullmatch(number))


def sender_key(number: str, key: bytes) -> str:
    """Keyed hash (HMAC-SHA256, hex) of a number: the only form a number is stored in."""
    return hmac.new(key, number.encode("utf-8"), hashlib.sha256).hexdigest()


def mask(number: str) -> str:
    """'+33612345678' -> '+33*******78': country code and last two digits at most."""
    if len(number) < 6:
        return "***"
    head = number[:3] if number.startswith("+") else ""
    return head + "*" * (len(number) - len(head) - 2) + number[-2:]


def mask_all(text: str) -> str:
    """Mask every phone-looking run of digits in free text, percent-encoded ones too."""
    return _PHONE_LIKE.sub(
        lambda m: mask(_ENCODED_PLUS.sub("+", re.sub(r"[ .]", "", m.group(0)))), text)
