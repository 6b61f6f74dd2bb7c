"""A bench run with its default arguments also writes what it printed to bench/results/NAME.txt,
which the docs quote (`make docs` refreshes the quotes; a test checks they match the file)."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


class _Tee(io.TextIOBase):
    def __init__(self, stream: io.TextIOBase):
        self.stream, self.copy = stream, io.StringIO()

    def write(self, text: str) -> int:
        self.copy.write(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()


def tee(name: str, main: Callable[[], int]) -> int:
    """Run a bench's main; with no arguments given and success, keep its output."""
    default_run = not sys.argv[1:]
    tee = _Tee(sys.stdout)
    sys.stdout = tee
    try:
        code = main()
    finally:
        sys.stdout = tee.stream
    if default_run and code == 0:
        RESULTS.mkdir(exist_ok=True)
        context = (f"({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end "
                   f"of the run)\n")  # a shared machine's figures depend on its load
        (RESULTS / f"{name}.txt").write_text(tee.copy.getvalue() + context, encoding="utf-8")
        print(f"wrote {(RESULTS / f'{name}.txt').relative_to(RESULTS.parents[1])}")
    return code
