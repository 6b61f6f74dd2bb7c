"""`make bench`: every benchmark in turn, each in its own interpreter (python -m bench.<name>)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# package_size first: cold_import then measures the artifacts `make build` just produced.
BENCHES = ("package_size", "cold_import", "warm_path", "throughput")


def main() -> int:
    failed = []
    for i, name in enumerate(BENCHES, 1):
        print(f"[bench {i}/{len(BENCHES)}] {name}: measuring...", flush=True)
        started = time.monotonic()
        # A fresh process each: no bench inherits another's caches, clients or environment.
        run = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=ROOT, check=False)  # noqa: S603
        print(f"[bench {i}/{len(BENCHES)}] {name}: {time.monotonic() - started:.0f} s"
              + (f", exit {run.returncode}" if run.returncode else ""), flush=True)
        if run.returncode:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
