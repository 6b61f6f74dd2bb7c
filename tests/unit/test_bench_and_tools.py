"""`make bench` marks rows that miss their target; the build finds python3.13 or says why not."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import first_reply
from bench.report import against

ROOT = Path(__file__).resolve().parents[2]


def tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_row_over_its_target_is_marked():
    assert against("<= 2", 2) == "<= 2 ok"
    assert against("<= 2", 3) == "<= 2 MISSED"
    assert against("<= 1.15x", 1.2) == "<= 1.15x MISSED"
    assert against("0", 0) == "0 ok"
    assert against("", 5) == ""


def test_first_reply_report_marks_a_run_over_a_minute():
    lines = first_reply.report({"cold": {"clone": 0.2, "ready": 40.0, "first_reply": 61.0},
                                "warm": {"clone": 0.2, "ready": 20.0, "first_reply": 35.0}})
    assert lines[1].endswith("MISSED") and lines[2].endswith("ok")


@pytest.mark.skipif(Path("/usr/bin/python3.13").exists() or Path("/usr/local/bin/python3.13")
                    .exists(), reason="a system python3.13 is always found")
def test_without_python313_the_finder_says_so_in_one_line(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path), "PYENV_ROOT": str(tmp_path),
           "LAMBDA_PYTHON": sys.executable}  # a python, but not 3.13
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "python313.py")], env=env,
                         capture_output=True, text=True, timeout=60, check=False)

    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr.startswith("no python3.13 found") and len(out.stderr.splitlines()) == 1


def test_every_lock_is_up_to_date_as_the_installer_checks_it():
    install = tool("install")
    for lock in install.LOCKS:
        assert install.stale_pins(ROOT / lock) == [], lock


@pytest.mark.parametrize("bench", ["flood", "throughput", "warm_path"])  # the entry points
def test_a_bench_run_as_make_bench_runs_it_can_import_the_functions_package(bench):
    # `python -m bench.<name>` from the repository: only the root is on sys.path, and the
    # throughput bench once failed at its first `from decoy...` (inside main()).
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    code = f"import bench.{bench}, decoy.outcomes, decoy_local.template"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=120,
                   capture_output=True)
