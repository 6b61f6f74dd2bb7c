"""Every validator matches the whole value: a trailing newline is another value, refused."""

from __future__ import annotations

import pytest

from decoy import campaigns, inbound, phone, schedule, settings, voices

SID = "SM" + "0" * 32


@pytest.mark.parametrize("pattern, valid", [
    (phone._E164, "+33612345678"),
    (schedule._SID, SID),
    (schedule._SCHEDULE_NAME, f"reply-{SID}"),
    (settings._CALLING_CODE, "33"),
    (campaigns._CAMPAIGN_ID, "fr"),
    (campaigns._LANGUAGE, "fr-FR"),
    (campaigns._MESSAGING_SERVICE_SID, "MG" + "0" * 32),
    (campaigns._ALPHANUMERIC_ID, "Decoy"),
    (inbound._ERROR_CODE, "30007"),
    (voices._GOOGLE, "Google.fr-FR-Standard-A"),
])
def test_a_trailing_newline_is_refused(pattern, valid):
    assert pattern.fullmatch(valid)
    assert not pattern.fullmatch(valid + "\n")
    assert not pattern.match(valid + "\n")  # `$` would match before the newline


def test_a_sender_with_a_trailing_newline_is_not_e164():
    assert phone.is_e164("+33612345678")
    assert not phone.is_e164("+33612345678\n")
    assert phone.sender_rejection("+33612345678\n", ["33"]) is not None


def test_a_sid_with_a_trailing_newline_is_not_a_sid_nor_a_schedule_name():
    assert not schedule.is_message_sid(SID + "\n")
    with pytest.raises(ValueError):
        schedule.schedule_name(SID + "\n")
