"""Time to first reply: `git clone` -> `make run` -> `make demo` -> the first reply in the outbox.

    python3 bench/first_reply.py            # cold (empty uv and pip caches), then warm
    python3 bench/first_reply.py --warm     # warm only

Standard library only: it runs what a newcomer runs, in a fresh clone of this repository's
HEAD (committed work only) in a temporary directory, with the stack on free ports. It writes
bench/results/first_reply.txt, which docs/local.md quotes (`make docs` refreshes the quote).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "first_reply.txt"
TARGET_SECONDS = 60.0
STEP_TIMEOUT = 300.0  # a step that takes longer than this has failed anyway


def _stamp(started: float, text: str) -> None:
    print(f"  [{time.monotonic() - started:5.1f}s] {text}", flush=True)


def _lines(stream, started: float, prefix: str, seen: list[tuple[float, str]]) -> None:
    for line in stream:
        seen.append((time.monotonic() - started, line.rstrip()))
        _stamp(started, f"{prefix} {line.rstrip()}")


def _wait_for(seen: list[tuple[float, str]], needle: str, process: subprocess.Popen,
              deadline: float) -> float | None:
    while time.monotonic() < deadline:
        for at, line in list(seen):
            if needle in line:
                return at
        if process.poll() is not None:
            time.sleep(0.2)  # let the reader thread drain what the process printed last
            return next((at for at, line in seen if needle in line), None)
        time.sleep(0.1)
    return None


def run_once(cold: bool) -> dict[str, float]:
    """One clean clone to first reply; the phase times in seconds since `git clone` began."""
    with tempfile.TemporaryDirectory(prefix="first-reply-") as scratch:
        work = Path(scratch)
        clone, state = work / "clone", work / "state"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "MAKE"))}
        if cold:  # nothing downloaded before: uv's, pip's and tools/install.py's caches empty
            env.update(UV_CACHE_DIR=str(work / "uv-cache"), PIP_NO_CACHE_DIR="1",
                       DECOY_CACHE_DIR=str(work / "decoy-cache"))
        started = time.monotonic()
        kind = "cold" if cold else "warm"
        print(f"{kind} caches: git clone {ROOT} ...", flush=True)
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True,  # noqa: S603, S607
                       timeout=STEP_TIMEOUT)
        cloned = time.monotonic() - started
        _stamp(started, "cloned; make run (on free ports)")
        seen: list[tuple[float, str]] = []
        stack = subprocess.Popen(  # noqa: S603
            ["make", "--no-print-directory", "run",  # noqa: S607
             f"ARGS=--port 0 --twilio-port 0 --state-dir {state}"],
            cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        threading.Thread(target=_lines, args=(stack.stdout, started, "run |", seen),
                         daemon=True).start()
        try:
            ready = _wait_for(seen, "ready:", stack, time.monotonic() + STEP_TIMEOUT)
            if ready is None:
                raise SystemExit(f"make run never said ready (exit {stack.poll()})")
            demo_seen: list[tuple[float, str]] = []
            demo = subprocess.Popen(  # noqa: S603
                [str(clone / ".venv" / "bin" / "python"), "-m", "decoy_local.simulator",
                 "--state", str(state / "stack.json"), "demo", "--codes"],
                cwd=clone, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                text=True)
            threading.Thread(target=_lines, args=(demo.stdout, started, "demo |", demo_seen),
                             daemon=True).start()
            first = _wait_for(demo_seen, "outbox: to", demo, time.monotonic() + STEP_TIMEOUT)
            demo.wait(timeout=STEP_TIMEOUT)
            if first is None:
                raise SystemExit("no reply reached the outbox")
        finally:
            os.killpg(stack.pid, signal.SIGINT)  # our own `make run`, by its process group
            try:
                stack.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(stack.pid, signal.SIGKILL)
        return {"clone": cloned, "ready": ready, "first_reply": first}


def report(runs: dict[str, dict[str, float]]) -> list[str]:
    lines = [f"{'caches':<6} {'git clone':>10} {'make run ready':>15} {'first reply':>12}  "
             f"target < {TARGET_SECONDS:.0f} s"]
    for kind, t in runs.items():
        mark = "ok" if t["first_reply"] < TARGET_SECONDS else "MISSED"
        lines.append(f"{kind:<6} {t['clone']:>9.1f}s {t['ready']:>14.1f}s "
                     f"{t['first_reply']:>11.1f}s  {mark}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", action="store_true", help="warm caches only")
    parser.add_argument("--no-write", action="store_true", help=f"do not write {RESULTS.name}")
    args = parser.parse_args(argv)
    runs = {}
    if not args.warm:
        runs["cold"] = run_once(cold=True)
    runs["warm"] = run_once(cold=False)
    lines = report(runs)
    print("\n".join(["", *lines]))
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text("\n".join([*lines, f"({os.cpu_count()} cores, load "
                                      f"{os.getloadavg()[0]:.1f}; seconds from `git clone`)"])
                           + "\n", encoding="utf-8")
        print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0 if all(t["first_reply"] < TARGET_SECONDS for t in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
