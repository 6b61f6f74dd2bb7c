"""The shifted-clock run (make test-shifted) really runs on the day it asks for."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from conftest import ROOT

SHIFT = os.environ.get("DECOY_CLOCK_SHIFT")


@pytest.mark.skipif(not SHIFT, reason="only in the shifted-clock run (make test-shifted)")
def test_this_process_and_its_children_read_the_shifted_clock():
    target = datetime.fromisoformat(str(SHIFT).replace("Z", "+00:00")).timestamp()
    child = subprocess.run([sys.executable, "-c", "import time; print(time.time())"],
                           capture_output=True, text=True, check=True, timeout=60)
    # The clock ticks on from the target: within the run's length (generously an hour).
    for seen in (time.time(), float(child.stdout)):
        assert target <= seen < target + 3600, datetime.fromtimestamp(seen, UTC)


def test_the_shift_hook_moves_a_python_process_to_the_day_it_names():
    env = {**os.environ, "DECOY_CLOCK_SHIFT": "2028-02-29T23:59:50Z",
           "PYTHONPATH": str(ROOT / "tests" / "shifted_clock")}
    child = subprocess.run(
        [sys.executable, "-c", "from datetime import datetime, UTC; "
                               "print(datetime.now(UTC).date())"],
        capture_output=True, text=True, check=True, timeout=60, env=env)
    assert child.stdout.strip() in ("2028-02-29", "2028-03-01")
