"""`make bench`: every benchmark in turn (each also runs alone: python -m bench.<name> --help)."""

from __future__ import annotations

import importlib
import sys

# package_size first: cold_import measures the artifacts `make build` just produced.
BENCHES = ("package_size", "cold_import", "warm_path", "throughput")


def main() -> None:
    for name in BENCHES:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            print(f"\n== {name}: skipped ({exc})")
            continue
        module.main([])
        sys.stdout.flush()


if __name__ == "__main__":
    main()
