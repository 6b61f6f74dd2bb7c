"""Print a directory holding a working python3.13 (sam build's runtime), or say why there is none.

Looks at $LAMBDA_PYTHON, then python3.13 on PATH (a pyenv shim counts only if it runs), then
every pyenv version 3.13.* and the usual system places. Exit 1 with one line when none runs.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path


def works(python: str) -> bool:
    try:
        out = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2])"],  # noqa: S603
                             capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and out.stdout.strip() == "(3, 13)"


def candidates() -> list[str]:
    root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    pyenv = sorted(glob.glob(f"{root}/versions/3.13*/bin/python3.13"), reverse=True)
    return [c for c in [os.environ.get("LAMBDA_PYTHON"), shutil.which("python3.13"), *pyenv,
                        "/usr/local/bin/python3.13", "/usr/bin/python3.13"] if c]


def main() -> int:
    for python in candidates():
        if works(python):
            # A directory holding only python3.13: prepended to PATH, it changes nothing else
            # (python3 stays the machine's).
            link_dir = Path(__file__).resolve().parents[1] / ".venv-tools" / "python3.13"
            link_dir.mkdir(parents=True, exist_ok=True)
            link = link_dir / "python3.13"
            link.unlink(missing_ok=True)
            link.symlink_to(shutil.which(python) or python)
            print(link_dir)
            return 0
    print("no python3.13 found (LAMBDA_PYTHON, PATH, pyenv versions 3.13.*, /usr/bin): "
          "`pyenv install 3.13` or your system's python3.13 package, then again",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
