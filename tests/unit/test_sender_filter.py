"""The SMS-pumping filter: which senders may ever get a reply (decided before any write)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from decoy.phone import calling_code, sender_rejection

FR_BE = ("33", "32")


@pytest.mark.parametrize("number", ["+33612345678", "+33712345678", "+32470123456",
                                    "+32491234567"])
def test_french_and_belgian_mobiles_may_get_a_reply(number):
    assert sender_rejection(number, FR_BE) is None


@pytest.mark.parametrize(("number", "reason"), [
    ("+447700900123", "calling code not in the allow-list"),
    ("+2348031234567", "calling code not in the allow-list"),
    ("+33140000000", "not a mobile range"),  # Paris landline
    ("+33912345678", "not a mobile range"),  # 09 platform number
    ("+3221234567", "not a mobile range"),  # Brussels landline
    ("36180", "not an E.164 number"),  # short code
    ("PROMO", "not an E.164 number"),  # alphanumeric sender ID
    ("+3361234", "not an E.164 number"),  # too short
    ("+33 6 12 34 56 78", "not an E.164 number"),  # national formatting
    ("0612345678", "not an E.164 number"),
    ("+0612345678", "not an E.164 number"),
    ("", "not an E.164 number"),
])
def test_disallowed_senders_are_refused_with_a_reason(number, reason):
    assert sender_rejection(number, FR_BE).startswith(reason)


def test_longest_allowed_calling_code_wins():
    assert calling_code("+352621123456", ("35", "352")) == "352"
    assert sender_rejection("+352621123456", ("352",)) is None


def test_a_calling_code_without_known_mobile_ranges_gets_the_shape_check_only():
    assert sender_rejection("+436641234567", ("43",)) is None


@given(st.text(max_size=20))
def test_nothing_but_an_e164_number_is_ever_allowed(text):
    if not re.fullmatch(r"\+[1-9]\d{7,14}", text):
        assert sender_rejection(text, ("1", "33", "32")) is not None
