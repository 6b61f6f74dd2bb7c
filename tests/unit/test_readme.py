"""The README's configuration table lists every template Parameter with its default."""

from __future__ import annotations

import re
from pathlib import Path

from decoy_local.template import load_template

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_starts_with_the_two_commands():
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    commands = [line.split("#")[0].strip() for line in blocks[0].splitlines()]
    assert commands == ["make run", "make test"]


def test_configuration_table_covers_every_template_parameter():
    text = README.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(\w+)`(?: / `(\w+)`)?", text, re.M))
    names = {name for pair in documented for name in pair if name}
    assert set(load_template()["Parameters"]) <= names
