"""Package size: each function's artifact after `sam build` (`make build`), zipped and unzipped.

Run alone (after `make build`): python -m bench.package_size [--build-dir .aws-sam/build]
"""

from __future__ import annotations

import argparse
import io
import zipfile
from collections import Counter
from pathlib import Path

from bench.report import table, title

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ("ReceiverFunction", "SenderFunction")
MB = 1_000_000
LAMBDA_UNZIPPED_LIMIT = 250 * MB  # function code and layers, unzipped
NEVER_SHIPPED = ("boto3", "botocore", "aws_xray_sdk", "aiohttp")  # runtime-provided or unused


def zipped_size(artifact: Path) -> int:
    """What `sam deploy` uploads: the artifact deflated into one zip (built in memory)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(artifact.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(artifact))
    return buffer.tell()


def by_top_level(artifact: Path) -> Counter[str]:
    sizes: Counter[str] = Counter()
    for path in artifact.rglob("*"):
        if path.is_file():
            top = path.relative_to(artifact).parts[0]
            sizes[top.split("-")[0] if top.endswith(".dist-info") else top] += path.stat().st_size
    return sizes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", type=Path, default=ROOT / ".aws-sam" / "build")
    args = parser.parse_args(argv)
    title("Package size of each function's artifact")
    rows, contents = [], []
    for function in FUNCTIONS:
        artifact = args.build_dir / function
        if not artifact.is_dir():
            print(f"{artifact} missing: run `make build` first")
            return
        sizes = by_top_level(artifact)
        unzipped = sum(sizes.values())
        shipped = [name for name in NEVER_SHIPPED if (artifact / name).exists()]
        rows.append([function, f"{unzipped / MB:.2f}", f"{zipped_size(artifact) / MB:.2f}",
                     f"{unzipped / LAMBDA_UNZIPPED_LIMIT:.1%}", ", ".join(shipped) or "none"])
        biggest = ", ".join(f"{name} {size / MB:.1f}" for name, size in sizes.most_common(4))
        contents.append([function, biggest])
    table(["function", "unzipped MB", "zipped MB", "of 250 MB limit",
           "runtime/unused libs shipped"], rows)
    print()
    table(["function", "largest parts (MB, unzipped)"], contents)


if __name__ == "__main__":
    main()
