"""The tool packages depend one way: decoy_ops (operating a stack, deployed or `make run`'s)
may import decoy_local; decoy_local (the local stack and its console) never imports decoy_ops.
Shared adapters (the kill switch, the day's budget) live in functions/decoy (decoy.controls)."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGES = ("decoy_local", "decoy_ops")


def imported_packages(source: Path) -> set[str]:
    """Top-level packages a module imports anywhere (module level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"), str(source))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def directions(root: Path = ROOT) -> dict[tuple[str, str], list[str]]:
    """(importer, imported): the files of `importer` that import `imported`."""
    edges: dict[tuple[str, str], list[str]] = {}
    for package in PACKAGES:
        for source in sorted((root / package).rglob("*.py")):
            for other in imported_packages(source) & set(PACKAGES) - {package}:
                edges.setdefault((package, other), []).append(str(source.relative_to(root)))
    return edges


def test_the_tool_packages_never_import_each_other_both_ways():
    edges = directions()
    assert len(edges) <= 1, f"decoy_local and decoy_ops import each other: {edges}"


def test_decoy_local_does_not_import_decoy_ops():
    assert ("decoy_local", "decoy_ops") not in directions()


def test_the_check_sees_imports_inside_functions(tmp_path: Path):
    for package, code in [("decoy_local", "def f():\n    from decoy_ops import switch\n"),
                          ("decoy_ops", "import decoy_local.simulator as s\n")]:
        (tmp_path / package).mkdir()
        (tmp_path / package / "m.py").write_text(code)
    assert set(directions(tmp_path)) == {("decoy_local", "decoy_ops"), ("decoy_ops", "decoy_local")}
