"""`make run` as a subprocess on free ports, for the integration tests: start, wait, stop."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from decoy_local import ROOT
from decoy_local.simulator import LocalStack, StackUnavailable, mobile_numbers, wait_for

CLOCK_START = "2026-11-23T09:00:00Z"  # the stack's clock: no test can cross UTC midnight
STARTUP_SECONDS = 60  # generous: a cold import of moto on a busy 2-core machine


class Running:
    """A running local stack: its process, console file, state file and loaded state."""

    def __init__(self, process: subprocess.Popen, console: Path, state: Path):
        self.process, self.console, self.state = process, console, state
        self.stack: LocalStack | None = None
        self.numbers_used: list[str] = []

    def numbers(self, count: int) -> list[str]:
        numbers = mobile_numbers("33", count)
        self.numbers_used.extend(numbers)
        return numbers

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start(state_dir: Path, budget: int) -> Running:
    """The stack at time scale 1 (nothing fires unless a test skips the delay), with
    DailyReplyBudget=budget, a kill switch read at once, on the CLOCK_START clock."""
    console = state_dir / "console.txt"
    with console.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "decoy_local.stack", "--port", "0", "--twilio-port", "0",
             "--time-scale", "1", "--param", f"DailyReplyBudget={budget}",
             "--param", "KillSwitchCacheSeconds=0",  # a kill switch turned on acts at once
             "--clock-start", CLOCK_START, "--state-dir", str(state_dir)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    run = Running(process, console, state_dir / "stack.json")

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError("the stack exited:\n" + console.read_text())
        try:
            run.stack = LocalStack.load(run.state)
        except (StackUnavailable, ValueError):
            return False
        return True

    try:
        assert wait_for(ready, STARTUP_SECONDS), "no state file:\n" + console.read_text()
    except BaseException:
        run.stop()
        raise
    return run
