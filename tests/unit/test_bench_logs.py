"""A bench's terminal shows its figures: the functions' log lines and EMF prints go to a file
that the bench names at the end (bench/function_logs.py)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from bench import function_logs


def test_the_functions_logs_and_prints_go_to_the_file_and_the_handlers_come_back(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    # As powertools' Logger does: a handler holding the sys.stdout of import time.
    handler = logging.StreamHandler(sys.stdout)
    logger = logging.getLogger("bench-logs-test")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with function_logs.captured("demo", tmp_path) as logs:
            logger.warning('{"level":"WARNING","message":"reply not sent"}')
            print('{"_aws":{"CloudWatchMetrics":[]}}')  # an EMF flush prints
        assert handler.stream is sys.stdout
        logger.warning("after")
    finally:
        logger.removeHandler(handler)
    assert logs.path == tmp_path / "demo-logs.jsonl"
    assert logs.path.read_text().splitlines() == [
        '{"level":"WARNING","message":"reply not sent"}', '{"_aws":{"CloudWatchMetrics":[]}}']
    assert capsys.readouterr().out == "after\n"
    assert logs.note() == f"the functions' logs: 2 lines in {logs.path}"
