"""The hash-checked locks the Makefile installs agree with the requirements files they come from."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCKS = {"locks/dev.txt": "requirements-dev.txt", "locks/run.txt": "locks/run.in",
         "locks/sam.txt": "requirements-sam.txt",
         "locks/audit.txt": "requirements-audit.txt", "locks/uv.txt": "locks/uv.in"}


def pins(path: Path) -> dict[str, str]:
    """name: version of every `name[extra]==version` in a requirements file and its -r files."""
    found: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#")[0].strip()
        if line.startswith("-r "):
            found.update(pins(path.parent / line[3:].strip()))
        elif "==" in line:
            name, version = line.split("==")
            found[re.sub(r"\[.*\]", "", name).strip().lower()] = version.split(";")[0].strip()
    return found


def locked(path: Path) -> dict[str, list[str]]:
    """name: [versions] in a lock (a universal lock may pin a package twice, under markers)."""
    found: dict[str, list[str]] = {}
    for name, version in re.findall(r"^([A-Za-z0-9][\w.-]*)==(\S+)", path.read_text(), re.M):
        found.setdefault(name.lower(), []).append(version)
    return found


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_pin_of_the_requirements_is_in_its_lock_at_that_version(lock):
    wanted = pins(ROOT / LOCKS[lock])
    have = locked(ROOT / lock)
    stale = {name: (version, have.get(name)) for name, version in wanted.items()
             if version not in have.get(name, [])}
    assert not stale, f"{lock} is stale ({stale}): run `make lock`"


@pytest.mark.parametrize("lock", sorted(LOCKS))
def test_every_locked_package_carries_its_hashes(lock):
    entries = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / lock).read_text(encoding="utf-8"))
    unhashed = [e.split()[0] for e in entries if "==" in e.split("\n")[0]
                and "--hash=sha256:" not in e]
    assert not unhashed


def test_the_makefile_installs_every_venv_from_a_lock():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for venv, lock in ((".venv", "dev"), (".venv-sam", "sam"), (".venv-audit", "audit")):
        assert f"locks/{lock}.txt" in makefile, venv
    assert "pip install" not in makefile  # tools/install.py decides uv or pip
