"""Plain-text tables for the bench modules (stdout only: benches print, they never assert)."""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence

ROOT_NOTE = "measured in one run on this machine"
_NUMBER = re.compile(r"^[-+<=x ]*[0-9.,]+ ?(%|x|ms|us|MB)?$|^$")


def title(text: str) -> None:
    print(f"\n== {text} ({ROOT_NOTE})")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print rows under headers, each column as wide as its widest cell."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    numeric = [all(_NUMBER.match(row[i]) for row in cells[1:]) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.rjust(w) if numeric[i] else c.ljust(w)
                        for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def against(target: str, value: float) -> str:
    """'<= 2' for 1.5 -> '<= 2 ok'; for 3 -> '<= 2 MISSED': a row over its target shows it."""
    if not target:
        return ""
    limit = float(target.replace("<=", "").replace("x", "").strip())
    return f"{target} {'ok' if value <= limit else 'MISSED'}"


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
