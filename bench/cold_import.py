"""Cold import: a fresh `python -c 'import <name>.app'` per function, ratio to `import boto3`.

Two settings, each timed against its own `import boto3`:
  source    the dev interpreter importing <name>.app from functions/ (bytecode cached);
  artifact  python3.13 importing the `sam build` artifact with no bytecode writes, as
            Lambda does (/var/task is read-only), over a python3.13 venv holding only boto3.
Run alone: python -m bench.cold_import [--runs N] (with no argument, it also writes
bench/results/cold_import.txt, which docs/performance.md quotes).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.report import against, median, table, title

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"
BUILD = ROOT / ".aws-sam" / "build"
RUNTIME_VENV = ROOT / ".aws-sam" / "bench-python3.13"
TARGETS = {"receiver": 1.15}  # issue 21: INIT is billed since 2025-08-01
# Modules a function must not load at import: the receiver only verifies signatures.
UNWANTED = ("twilio.rest", "requests", "aws_xray_sdk")
PROBE = ("import {module}, json, sys; "
         "print(json.dumps([m for m in {unwanted!r} if m in sys.modules]))")


@dataclass(frozen=True)
class Case:
    name: str
    python: str
    module: str  # what `-c 'import ...'` imports
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(self, code: str | None = None) -> subprocess.CompletedProcess[str]:
        """A new interpreter with no AWS or powertools settings: imports must not need any."""
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
        return subprocess.run([self.python, "-c", code or f"import {self.module}"],  # noqa: S603
                              cwd=self.cwd, env={**env, **self.env}, check=True,
                              capture_output=True, text=True)

    def time(self) -> float:
        start = time.perf_counter()
        self.run()
        return time.perf_counter() - start

    def unwanted(self) -> list[str]:
        out = self.run(PROBE.format(module=self.module, unwanted=UNWANTED))
        return json.loads(out.stdout)


def source_cases() -> list[Case]:
    python = sys.executable
    return [Case("boto3", python, "boto3", FUNCTIONS),
            Case("receiver", python, "receiver.app", FUNCTIONS),
            Case("sender", python, "sender.app", FUNCTIONS)]


def runtime_python() -> str | None:
    """python3.13 in a venv holding only boto3 (pinned as in requirements-dev.txt)."""
    python = RUNTIME_VENV / "bin" / "python"
    if python.exists():
        return str(python)
    found = os.environ.get("LAMBDA_PYTHON") or shutil.which("python3.13")
    if not found or subprocess.run([found, "-c", "pass"], capture_output=True).returncode:  # noqa: S603
        return None
    pin = re.search(r"^boto3==\S+", (ROOT / "requirements-dev.txt").read_text(), re.M)
    print(f"creating {RUNTIME_VENV.relative_to(ROOT)} (python3.13 + {pin and pin[0]})")
    subprocess.run([found, "-m", "venv", str(RUNTIME_VENV)], check=True)  # noqa: S603
    subprocess.run([str(python), "-m", "pip", "install", "--quiet",  # noqa: S603
                    "--disable-pip-version-check", pin[0] if pin else "boto3"], check=True)
    return str(python)


def artifact_cases() -> list[Case]:
    python = runtime_python()
    if python is None or not (BUILD / "ReceiverFunction").is_dir():
        print("artifact cold import skipped: needs `make build` and python3.13 "
              "(or LAMBDA_PYTHON=/path/to/python3.13)")
        return []
    read_only = {"PYTHONDONTWRITEBYTECODE": "1"}
    cases = [Case("boto3 (3.13)", python, "boto3", BUILD, read_only)]
    for function in ("receiver", "sender"):
        task_root = BUILD / f"{function.capitalize()}Function"
        cases.append(Case(f"{function} artifact", python, f"{function}.app", task_root,
                          {**read_only, "PYTHONPATH": str(task_root)}))
    return cases


def measure(cases: list[Case], runs: int) -> list[list[float]]:
    """Interleaved runs, rotating the order each round so drift hits every case alike."""
    for case in cases:  # warm the page cache (and, for sources, __pycache__) first
        case.run()
    times: list[list[float]] = [[] for _ in cases]
    n = len(cases)
    for i in range(runs):
        for k in [(i + j) % n for j in range(n)]:
            times[k].append(cases[k].time())
    return times


def report(cases: list[Case], runs: int) -> list[list[object]]:
    times = measure(cases, runs)
    rows: list[list[object]] = []
    for case, values in zip(cases, times, strict=True):
        # Each run over the boto3 run of the same round, then the median: robust to drift.
        ratio = median([v / b for v, b in zip(values, times[0], strict=True)])
        kind = case.name.split()[0]
        checked = case is not cases[0]
        rows.append([case.name, f"{median(values) * 1000:.0f}", f"{ratio:.2f}x",
                     against(f"<= {TARGETS[kind]}x", ratio) if kind in TARGETS else "",
                     (", ".join(case.unwanted()) or "none") if checked else ""])
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=41, help="interleaved runs per case")
    args = parser.parse_args(argv)
    rows = report(source_cases(), args.runs)
    artifact = artifact_cases()
    if artifact:
        rows += report(artifact, args.runs)
    title(f"Cold import: median of {args.runs} fresh interpreters per case, ratio to the "
          f"same round's `import boto3` (dev Python {sys.version.split()[0]})")
    table(["import", "median ms", "x boto3", "target", f"loaded of {', '.join(UNWANTED)}"],
          rows)


if __name__ == "__main__":
    from bench.results_file import tee

    # The default run also writes bench/results/cold_import.txt: docs/performance.md quotes it.
    raise SystemExit(tee("cold_import", lambda: main() or 0))
