"""`make run`'s signal handler takes no lock, and a second signal forces the exit (23.5d)."""

from __future__ import annotations

import io
import signal
import sys
import threading

import pytest

from decoy_local.stack import Console, Shutdown

LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


def lock_calls(call) -> list[str]:
    """The lock methods (acquire, __enter__, ...) that `call()` runs, C-level ones included."""
    seen: list[str] = []

    def profile(_frame, event, arg):
        if event == "c_call" and isinstance(getattr(arg, "__self__", None), LOCK_TYPES):
            seen.append(arg.__name__)

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return seen


def test_the_first_signal_only_asks_to_stop_and_takes_no_lock():
    shutdown = Shutdown(force_exit=pytest.fail)

    assert lock_calls(lambda: shutdown.handler(signal.SIGTERM, None)) == []
    assert shutdown.requested


def test_what_the_old_handler_did_takes_a_lock():
    """The handler before issue 23 set a threading.Event: the profile sees its lock."""
    stopping = threading.Event()
    assert lock_calls(stopping.set)


def test_a_second_signal_forces_the_exit_after_removing_the_state_file():
    done: list[object] = []
    shutdown = Shutdown(on_force=lambda: done.append("state removed"),
                        force_exit=done.append)

    shutdown.handler(signal.SIGINT, None)
    assert done == []
    shutdown.handler(signal.SIGINT, None)

    assert done == ["state removed", 128 + signal.SIGINT]


def test_a_failing_cleanup_does_not_keep_the_second_signal_from_exiting():
    exits: list[int] = []

    def cleanup() -> None:
        raise OSError("read-only")

    shutdown = Shutdown(on_force=cleanup, force_exit=exits.append)
    shutdown.handler(signal.SIGTERM, None)
    shutdown.handler(signal.SIGTERM, None)

    assert exits == [128 + signal.SIGTERM]


class Blocked(io.StringIO):
    """A stream whose write blocks until released (a pager nobody reads)."""

    def __init__(self):
        super().__init__()
        self.release = threading.Event()

    def write(self, text: str) -> int:
        self.release.wait(10)
        return super().write(text)


def test_say_gives_up_on_a_stalled_console_while_another_thread_holds_its_lock():
    stream = Blocked()
    console = Console(stream)
    writer = threading.Thread(target=console.write, args=("webhook line",), daemon=True)
    writer.start()

    console.say("stopping...", patience=0.2)

    assert console.wedged
    stream.release.set()
    writer.join(5)


class Closed(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_console_is_marked_broken_and_written_no_more():
    console = Console(Closed())

    console.write("a line")
    console.write("another")

    assert console.broken
