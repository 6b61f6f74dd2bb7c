"""`make run` stops on SIGTERM/SIGINT whatever its stdout does (issue 23.5d).

Its console is a pipe here: closed by the reader (`make run | head`), or full and never read
(a stalled pager). Before issue 23 the first left `.local/stack.json` behind (the
"stopping..." line raised BrokenPipeError before the stack was stopped) and the second
never stopped (the main thread blocked in that write, or on the console lock a webhook's
thread held inside its own blocked write).
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from local_stack_process import CLOCK_START, STARTUP_SECONDS

from decoy_local import ROOT
from decoy_local.simulator import LocalStack, StackUnavailable, send_sms, wait_for

pytestmark = pytest.mark.stack
STOP_SECONDS = 30  # generous on a busy 2-core machine; the stop itself takes about 1 s


def start(state_dir: Path) -> tuple[subprocess.Popen, Path]:
    process = subprocess.Popen(
        [sys.executable, "-m", "decoy_local.stack", "--port", "0", "--twilio-port", "0",
         "--time-scale", "1", "--clock-start", CLOCK_START, "--state-dir", str(state_dir)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    state = state_dir / "stack.json"

    def ready() -> bool:
        assert process.poll() is None, "the stack exited before it was ready"
        try:
            LocalStack.load(state)
        except (StackUnavailable, ValueError):
            return False
        return True

    try:
        assert wait_for(ready, STARTUP_SECONDS), "the stack never wrote its state file"
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process, state


def stopped(process: subprocess.Popen, signum: int = signal.SIGTERM) -> int | None:
    """Send `signum`; the exit status, or None when it is still running after STOP_SECONDS
    (then it is killed, so no test leaves a stack behind)."""
    process.send_signal(signum)
    try:
        return process.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None


def fill(pipe_of: int) -> int:
    """Fill the stack's stdout pipe to the brim from this side (it is never read)."""
    fd = os.open(f"/proc/{pipe_of}/fd/1", os.O_WRONLY | os.O_NONBLOCK)
    written = 0
    try:
        while True:
            try:
                written += os.write(fd, b"x" * 4096)
            except BlockingIOError:
                try:
                    written += os.write(fd, b"x")
                except OSError as exc:
                    assert exc.errno == errno.EAGAIN
                    return written
    finally:
        os.close(fd)


def test_a_closed_console_pipe_still_stops_cleanly_and_removes_the_state_file(tmp_path):
    process, state = start(tmp_path)
    process.stdout.close()  # the reader went away (`make run | head`)

    status = stopped(process)

    assert status is not None, "still running after SIGTERM"
    assert not state.exists(), "stack.json left behind"


def test_a_console_nobody_reads_does_not_keep_the_stack_from_stopping(tmp_path):
    process, state = start(tmp_path)
    loaded = LocalStack.load(state)
    assert fill(process.pid) > 0
    # A webhook whose console line blocks in the full pipe, holding the console's lock.
    # The stack stops under it: its connection is cut (RemoteDisconnected), as expected.
    def webhook() -> None:
        with contextlib.suppress(OSError):
            send_sms(loaded, "+33612345678", loaded.decoy_number())

    threading.Thread(target=webhook, daemon=True).start()

    status = stopped(process)

    process.stdout.close()
    assert status is not None, "still running after SIGTERM"
    assert not state.exists(), "stack.json left behind"
