"""SMS segment count: each segment of a reply is billed."""

from __future__ import annotations

from typing import NamedTuple

# GSM 03.38 basic character set and its extension table (extension chars cost two septets).
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")
# (single-message capacity, capacity of each part of a concatenated message), in units.
_CAPACITY = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


class SegmentCount(NamedTuple):
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def _unit_costs(text: str) -> tuple[str, list[int]]:
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text):
        return "GSM-7", [2 if ch in _GSM_EXTENDED else 1 for ch in text]
    return "UCS-2", [len(ch.encode("utf-16-le")) // 2 for ch in text]


def count_segments(text: str) -> SegmentCount:
    """How many SMS segments `text` is billed as, and in which encoding.

    A character is never split across two parts: an extension character (escape + char)
    or a UTF-16 surrogate pair that would straddle a boundary starts the next part.
    """
    encoding, costs = _unit_costs(text)
    single, part = _CAPACITY[encoding]
    units = sum(costs)
    if units <= single:
        return SegmentCount(encoding, units, 1)
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return SegmentCount(encoding, units, segments)


def non_gsm_characters(text: str) -> str:
    """The characters that force UCS-2, to help an editor fix a reply text."""
    return "".join(sorted({ch for ch in text if ch not in _GSM_BASIC and ch not in _GSM_EXTENDED}))
