"""SMS segment count: each segment of a reply is billed."""

from __future__ import annotations

from typing import NamedTuple

# GSM 03.38 basic character set and its extension table (extension chars cost two septets).
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


class SegmentCount(NamedTuple):
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def count_segments(text: str) -> SegmentCount:
    """How many SMS segments `text` is billed as, and in which encoding."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text):
        units = sum(2 if ch in _GSM_EXTENDED else 1 for ch in text)
        single, part = 160, 153
        encoding = "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
        encoding = "UCS-2"
    segments = 1 if units <= single else -(-units // part)
    return SegmentCount(encoding, units, segments)


def non_gsm_characters(text: str) -> str:
    """The characters that force UCS-2, to help an editor fix a reply text."""
    return "".join(sorted({ch for ch in text if ch not in _GSM_BASIC and ch not in _GSM_EXTENDED}))
