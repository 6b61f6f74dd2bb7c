"""Phone numbers are masked in the log output itself: message, extras, tracebacks, libraries."""

from __future__ import annotations

import io
import json
import logging

import pytest

from decoy.observability import MASK_NUMBERS, logger

NUMBER = "+33612345678"
MASKED = "+33*******78"


@pytest.fixture
def output():
    """What the functions' logger writes, through its real JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_number_in_message_is_masked(output):
    logger.info("reply for %s scheduled", NUMBER)
    (line,) = lines(output)
    assert line["message"] == f"reply for {MASKED} scheduled"
    assert NUMBER not in output.getvalue()


def test_number_in_extra_is_masked(output):
    logger.info("handled", extra={"sender": NUMBER, "nested": {"to": NUMBER}})
    (line,) = lines(output)
    assert line["sender"] == MASKED
    assert line["nested"] == {"to": MASKED}


def test_number_in_exception_traceback_is_masked(output):
    try:
        raise ValueError(f"cannot send to {NUMBER}")
    except ValueError:
        logger.exception("send failed")
    (line,) = lines(output)
    assert MASKED in line["exception"]
    assert NUMBER not in output.getvalue()


def test_national_and_bare_formats_are_masked_too(output):
    logger.info("numbers", extra={"national": "06 12 34 56 78", "bare": "33612345678"})
    assert "12 34 56" not in output.getvalue()
    assert "33612345678" not in output.getvalue()


def test_records_are_masked_for_every_handler_not_only_ours(caplog):
    """pytest's own handler (like the Lambda runtime's) sees the masked record."""
    with caplog.at_level(logging.INFO):
        logger.info("from %s", NUMBER, extra={"sender": NUMBER})
    (record,) = [r for r in caplog.records if r.name == logger.name]
    assert record.getMessage() == f"from {MASKED}"
    assert record.sender == MASKED


def test_library_records_are_masked_by_the_root_handler_filter():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MASK_NUMBERS)
    library = logging.getLogger("some.library")
    library.addHandler(handler)
    try:
        library.warning("POST Messages.json To=%s", NUMBER)
        try:
            raise RuntimeError(NUMBER)
        except RuntimeError:
            library.exception("failed")
    finally:
        library.removeHandler(handler)
    assert NUMBER not in stream.getvalue()
    assert stream.getvalue().count(MASKED) == 2


def test_numbers_that_are_numbers_stay_json_numbers(output):
    logger.info("timed", extra={"at_ms": 1795424400000, "sender": NUMBER})
    (line,) = lines(output)  # the line is still JSON
    assert line["at_ms"] == 1795424400000
    assert line["sender"] == MASKED


# Issue 23.5c: with the root logger at DEBUG (Lambda's ApplicationLogLevel=DEBUG) urllib3
# logs each request line, the sender's lookup included: `GET /2010-04-01/Accounts/AC.../
# Messages.json?To=%2B336...` (urllib3 2.x connectionpool: '%s://%s:%s "%s %s %s" %s %s').
@pytest.mark.parametrize("encoded", [
    "%2B33612345678", "%2b33612345678",  # the + percent-encoded, either case
    "%252B33612345678",  # encoded twice (a URL logged inside a URL)
    "33612345678",  # no plus at all
])
def test_percent_encoded_numbers_in_a_library_request_line_are_masked(encoded):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MASK_NUMBERS)
    pool = logging.getLogger("urllib3.connectionpool")
    pool.addHandler(handler)
    old_level = pool.level
    pool.setLevel(logging.DEBUG)
    try:
        pool.debug('%s://%s:%s "%s %s %s" %s %s', "https", "api.twilio.com", 443, "GET",
                   f"/2010-04-01/Accounts/AC{'0' * 32}/Messages.json?To={encoded}"
                   "&PageSize=20", "HTTP/1.1", 200, None)
    finally:
        pool.removeHandler(handler)
        pool.setLevel(old_level)
    line = stream.getvalue()
    assert "612345678" not in line and "1234567" not in line, line
    assert "Messages.json?To=" in line and line.count("78") >= 1


def test_mask_all_handles_encoded_forms_and_leaves_other_text():
    from decoy.phone import mask_all

    assert mask_all("To=%2B33612345678&From=%2B33939000001") == \
        "To=+33*******78&From=+33*******01"
    assert mask_all("PageSize=20&DateSent=2026-11-23") == "PageSize=20&DateSent=2026-11-23"
    assert mask_all(f"AC{'0' * 32}") == f"AC{'0' * 32}"  # a SID is not a number
