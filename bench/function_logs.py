"""Where the functions' own output goes during a bench: their powertools Logger lines and EMF
metrics (printed to stdout) land in a file named at the end of the run, so the terminal shows
only the bench's figures. The functions are not changed: the bench repoints the streams."""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / ".local" / "bench"  # git-ignored; one file per bench, rewritten each run


@dataclass
class Captured:
    path: Path

    def lines(self) -> int:
        with self.path.open("rb") as f:
            return sum(1 for _ in f)

    def note(self) -> str:
        """The line a bench prints at its end."""
        try:
            where = self.path.relative_to(ROOT)
        except ValueError:
            where = self.path
        return f"the functions' logs: {self.lines():,} lines in {where}"


def _stream_handlers(*streams: object) -> list[logging.StreamHandler]:
    """Handlers writing to one of `streams`, on every logger (powertools' Logger keeps the
    sys.stdout it found at import, so redirecting sys.stdout alone does not move it)."""
    wanted = {id(s) for s in streams}
    loggers = [logging.getLogger(), *(
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger))]
    return [h for lg in loggers for h in lg.handlers
            if type(h) is logging.StreamHandler and id(h.stream) in wanted]


@contextlib.contextmanager
def captured(name: str, directory: Path = LOGS) -> Iterator[Captured]:
    """Inside: sys.stdout, the loggers' terminal handlers and logging's last resort write to
    <directory>/<name>-logs.jsonl. The bench prints its figures (and `note()`) after."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-logs.jsonl"
    sys.stdout.flush()
    with path.open("w", encoding="utf-8") as out:
        terminal = (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__)
        moved = [(h, h.setStream(out)) for h in _stream_handlers(*terminal)]
        last_resort = logging.lastResort
        logging.lastResort = _handler(out)
        try:
            with contextlib.redirect_stdout(out):
                yield Captured(path)
        finally:
            logging.lastResort = last_resort
            for handler, stream in moved:
                handler.setStream(stream)
            for handler in _stream_handlers(out):  # created inside (a lazy import): terminal
                handler.setStream(sys.stdout)


def _handler(out: IO[str]) -> logging.Handler:
    handler = logging.StreamHandler(out)
    handler.setLevel(logging.WARNING)
    return handler


def kept(source: Path, name: str, directory: Path = LOGS) -> Captured:
    """A log file a bench's local stack wrote in a temporary directory, kept as
    <directory>/<name>-logs.jsonl (`make run`'s stack writes its functions' logs to a file)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}-logs.jsonl"
    shutil.copyfile(source, path)
    return Captured(path)
