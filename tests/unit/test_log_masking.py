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
