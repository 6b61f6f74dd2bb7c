"""Create a venv from a hash-locked file with uv (bootstrapped from python3 alone), else pip.

    python3 tools/install.py VENV LOCK     # e.g. .venv locks/dev.txt; stamps VENV/.installed
    python3 tools/install.py --lock        # regenerate locks/*.txt from requirements*.txt

Standard library only: it runs before any venv exists. uv is the pinned release of
locks/uv.txt, downloaded by pip with --require-hashes into .venv-tools/bin/uv; when it cannot
be had, pip installs the same lock (--require-hashes), slower, with a warning.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / ".venv-tools"
UV_LOCK = ROOT / "locks" / "uv.txt"
# lock file: the requirements it is compiled from (what `make lock` regenerates).
LOCKS = {"locks/dev.txt": "requirements-dev.txt", "locks/run.txt": "locks/run.in",
         "locks/sam.txt": "requirements-sam.txt", "locks/audit.txt": "requirements-audit.txt",
         "locks/uv.txt": "locks/uv.in"}
# `make run` installs only locks/run.txt: a subset of locks/dev.txt (same versions), added to
# .venv with `uv pip install` (never removing the rest) and stamped apart.
SUBSETS = {"locks/run.txt": ("locks/dev.txt", ".run-installed")}
# Resolved for every platform and for the machine's python3 (3.11) and up: one lock everywhere.
COMPILE = ["pip", "compile", "--universal", "--python-version", "3.11", "--generate-hashes",
           "--quiet"]
STARTED = time.monotonic()
# uv's wheel, kept for the next clone on this machine (DECOY_CACHE_DIR moves it: the bench's
# cold run points it at an empty directory).
WHEEL_CACHE = Path(os.environ.get("DECOY_CACHE_DIR") or Path(
    os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "decoy-number") / "wheels"


def say(text: str) -> None:
    print(f"[install {time.monotonic() - STARTED:4.1f}s] {text}", file=sys.stderr, flush=True)


def uv_version_pinned(lock: Path = UV_LOCK) -> str:
    source = lock if lock.exists() else lock.with_suffix(".in")  # before the first `make lock`
    match = re.search(r"^uv==(\S+)", source.read_text(encoding="utf-8"), re.M)
    if match is None:
        raise SystemExit(f"{lock}: no uv==VERSION line")
    return match.group(1)


def _version_of(uv: str | Path) -> str | None:
    try:
        out = subprocess.run([str(uv), "--version"], capture_output=True, text=True,  # noqa: S603
                             timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    parts = out.split()
    return parts[1] if len(parts) > 1 else None


def _run(command: list[str], **kwargs: object) -> bool:
    try:
        return subprocess.run(command, check=False, **kwargs).returncode == 0  # noqa: S603
    except OSError:
        return False


def _progress(command: list[str]) -> bool:
    """Run uv, passing its progress lines on but not its list of every package installed."""
    try:
        process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)  # noqa: S603
    except OSError:
        return False
    for line in process.stderr or ():
        if not line.startswith((" + ", " - ", " ~ ")):
            sys.stderr.write("    " + line)
            sys.stderr.flush()
    return process.wait() == 0


def _extract_uv(wheel: Path, target: Path) -> None:
    """The uv binary out of its (already hash-checked) wheel: uv-X.data/scripts/uv."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if re.fullmatch(r"[^/]+\.data/scripts/uv", n))
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(name) as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out)
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _cached_wheel(version: str) -> Path | None:
    """A uv wheel kept from an earlier download whose sha256 is one of locks/uv.txt's."""
    allowed = set(re.findall(r"--hash=sha256:([0-9a-f]{64})", UV_LOCK.read_text(encoding="utf-8")))
    for wheel in sorted(WHEEL_CACHE.glob(f"uv-{version}-*.whl")):
        if hashlib.sha256(wheel.read_bytes()).hexdigest() in allowed:
            return wheel
    return None


def find_uv() -> Path | None:
    """The pinned uv: .venv-tools/bin/uv, else one on PATH of that version, else download it."""
    version = uv_version_pinned()
    local = TOOLS / "bin" / "uv"
    if _version_of(local) == version:
        return local
    on_path = shutil.which("uv")
    if on_path and _version_of(on_path) == version:
        return Path(on_path)
    cached = _cached_wheel(version)
    if cached is not None:  # another clone on this machine downloaded it: hash checked again
        _extract_uv(cached, local)
        if _version_of(local) == version:
            say(f"uv {version} ready in {local.relative_to(ROOT)} (wheel from {cached.parent})")
            return local
    say(f"uv {version}: downloading its wheel with pip (about 17 MB, hash-checked against "
        f"{UV_LOCK.relative_to(ROOT)})...")
    with tempfile.TemporaryDirectory() as scratch:
        if _run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                 "--only-binary=:all:", "--require-hashes", "--disable-pip-version-check",
                 "-r", str(UV_LOCK), "-d", scratch]):
            wheels = list(Path(scratch).glob("uv-*.whl"))
            if wheels:
                _extract_uv(wheels[0], local)
                with contextlib.suppress(OSError):
                    WHEEL_CACHE.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(wheels[0], WHEEL_CACHE / wheels[0].name)
    if _version_of(local) == version:
        say(f"uv {version} ready in {local.relative_to(ROOT)}")
        return local
    say(f"pip download did not work here: installing uv into a venv, {TOOLS.relative_to(ROOT)}...")
    if (_run([sys.executable, "-m", "venv", str(TOOLS)])
            and _run([str(TOOLS / "bin" / "python"), "-m", "pip", "install", "--quiet",
                      "--disable-pip-version-check", "--require-hashes", "-r", str(UV_LOCK)])
            and _version_of(local) == version):
        say(f"uv {version} ready in {local.relative_to(ROOT)}")
        return local
    return None


def _pins(path: Path) -> dict[str, str]:
    """name: version of every `name[extra]==version` in a requirements file and its -r files."""
    found: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#")[0].strip()
        if line.startswith("-r "):
            found.update(_pins(path.parent / line[3:].strip()))
        elif "==" in line:
            name, version = line.split("==", 1)
            found[re.sub(r"\[.*\]", "", name).strip().lower()] = version.split(";")[0].strip()
    return found


def _locked(lock: Path) -> set[str]:
    return {entry.lower() for entry in re.findall(r"^([A-Za-z0-9][\w.-]*==\S+)",
                                                   lock.read_text(encoding="utf-8"), re.M)}


def stale_pins(lock: Path) -> list[str]:
    """The requirements' pins its lock does not hold at that version ([] when up to date);
    for a subset lock, also what it holds that its full lock does not."""
    name = str(lock.relative_to(ROOT))
    locked = _locked(lock)
    stale = [f"{n}=={v}" for n, v in _pins(ROOT / LOCKS[name]).items()
             if f"{n}=={v}" not in locked]
    if name in SUBSETS:
        stale += sorted(locked - _locked(ROOT / SUBSETS[name][0]))
    return stale


def install(venv: Path, lock: Path) -> int:
    name = str(lock.relative_to(ROOT))
    full, stamp_name = SUBSETS.get(name, (None, ".installed"))
    stamp = venv / stamp_name
    for checked in [full, name] if full else [name]:
        stale = stale_pins(ROOT / checked) if checked in LOCKS else []
        if stale:
            say(f"{checked} is stale ({', '.join(stale)}): regenerating it (commit it)")
            if regenerate_locks([checked]):
                return 1
    if full and (venv / ".installed").exists():  # the full set is there: it holds this one
        stamp.touch()
        return 0
    count = len(re.findall(r"^[A-Za-z0-9][^\s=]*==", lock.read_text(encoding="utf-8"), re.M))
    uv = None if os.environ.get("DECOY_NO_UV") else find_uv()
    python = venv / "bin" / "python"
    if uv is not None:
        if not python.exists():
            say(f"{venv.name}: creating it (uv venv, {Path(sys.executable).name})")
            if not _run([str(uv), "venv", "--quiet", "--python", sys.executable, str(venv)]):
                return 1
        say(f"{venv.name}: installing {count} locked packages from {lock.relative_to(ROOT)} "
            f"(uv pip {'install' if full else 'sync'} --require-hashes)...")
        verb = "install" if full else "sync"  # a subset adds; a full lock is exact
        sync = [str(uv), "pip", verb, "--python", str(python), "--require-hashes",
                *(["--no-deps", "-r"] if full else []), str(lock)]
        # From uv's cache alone when it holds everything (1.6 s instead of 6.6 s here), else
        # from the index, with uv's progress lines.
        ok = _run([*sync, "--offline", "--quiet"], stderr=subprocess.DEVNULL) or _progress(sync)
    else:
        why = "DECOY_NO_UV is set" if os.environ.get("DECOY_NO_UV") else \
            "uv cannot be had (no pip download, no venv)"
        say(f"WARNING: {why}: installing with pip, which is several times slower "
            "(about 80 s for .venv)")
        if not python.exists() and not _run([sys.executable, "-m", "venv", str(venv)]):
            return 1
        say(f"{venv.name}: installing {count} locked packages from {lock.relative_to(ROOT)} "
            "(pip --require-hashes)...")
        ok = _run([str(python), "-m", "pip", "install", "--disable-pip-version-check",
                   "--progress-bar", "off", "--require-hashes", "-r", str(lock)])
    if not ok:
        say(f"{venv.name}: install failed (see above)")
        return 1
    stamp.touch()
    say(f"{venv.name}: ready")
    return 0


def regenerate_locks(which: list[str] | None = None) -> int:
    uv = find_uv()
    if uv is None:
        say("uv cannot be had: `make lock` needs it")
        return 1
    for lock, source in LOCKS.items():
        if which is not None and lock not in which:
            continue
        say(f"{lock} <- {source}")
        constraints = ["-c", SUBSETS[lock][0]] if lock in SUBSETS else []
        if not _run([str(uv), *COMPILE, source, *constraints, "-o", lock], cwd=ROOT,
                    env={**os.environ, "UV_CUSTOM_COMPILE_COMMAND": "make lock"}):
            return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tools/install.py", description=__doc__.splitlines()[0])
    parser.add_argument("venv", nargs="?", type=Path)
    parser.add_argument("lockfile", nargs="?", type=Path)
    parser.add_argument("--lock", action="store_true", help="regenerate locks/*.txt")
    args = parser.parse_args(argv)
    if args.lock:
        return regenerate_locks()
    if args.venv is None or args.lockfile is None:
        parser.error("VENV and LOCK, or --lock")
    return install(args.venv.resolve(), args.lockfile.resolve())


if __name__ == "__main__":
    sys.exit(main())
