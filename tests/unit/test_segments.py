"""SMS segments: GSM-7 vs UCS-2, extension characters, and parts never splitting a character."""

from __future__ import annotations

import pytest

from decoy.segments import count_segments, non_gsm_characters


@pytest.mark.parametrize(("text", "expected"), [
    ("", ("GSM-7", 0, 1)),
    ("a" * 160, ("GSM-7", 160, 1)),
    ("a" * 161, ("GSM-7", 161, 2)),
    ("a" * 306, ("GSM-7", 306, 2)),
    ("a" * 307, ("GSM-7", 307, 3)),
    ("Ça coûte 5 € : à é è ù ì ò Ä Ö Ñ Ü ß", ("UCS-2", 36, 1)),  # û is not GSM-7: € costs one unit
    ("Ça va à é è ù ì ò Ä Ö Ñ Ü ß ¿ ¡ £ ¥ §", ("GSM-7", 37, 1)),
    ("€" * 80, ("GSM-7", 160, 1)),  # extension characters cost two septets
    ("€" * 81, ("GSM-7", 162, 2)),
    ("[]{}^~|\\", ("GSM-7", 16, 1)),
    ("a" * 70, ("GSM-7", 70, 1)),
    ("ê" * 70, ("UCS-2", 70, 1)),
    ("ê" * 71, ("UCS-2", 71, 2)),
    ("ê" * 134, ("UCS-2", 134, 2)),
    ("ê" * 135, ("UCS-2", 135, 3)),
    ("c’est", ("UCS-2", 5, 1)),  # a typographic apostrophe is enough to force UCS-2
    ("🙂" * 35, ("UCS-2", 70, 1)),  # an emoji is two UTF-16 code units
])
def test_encoding_units_and_segments(text, expected):
    assert tuple(count_segments(text)) == expected


def test_an_extension_character_never_straddles_two_parts():
    # 152 plain septets then '€' (2 septets): 154 > 153, so '€' opens the second part.
    text = "a" * 152 + "€" + "a" * 152
    count = count_segments(text)
    assert count.units == 306
    assert count.segments == 3  # a naive units/153 would say 2


def test_a_surrogate_pair_never_straddles_two_parts():
    text = "ê" * 66 + "🙂" + "ê" * 66  # 134 units, but the emoji cannot be cut at 67
    count = count_segments(text)
    assert count.units == 134
    assert count.segments == 3


def test_non_gsm_characters_lists_what_forces_ucs2():
    assert non_gsm_characters("c’est “non” à été") == "’“”"
