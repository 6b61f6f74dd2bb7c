"""`make bench`: every benchmark in turn, each in its own interpreter (python -m bench.<name>)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# package_size first: cold_import then measures the artifacts `make build` just produced.
BENCHES = ("package_size", "cold_import", "warm_path", "throughput")


def main() -> int:
    failed = []
    for name in BENCHES:
        # A fresh process each: no bench inherits another's caches, clients or environment.
        run = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=ROOT, check=False)  # noqa: S603
        if run.returncode:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
