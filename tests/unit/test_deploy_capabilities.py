"""The capabilities a deploy acknowledges are exactly those SAM's transformed template needs."""

from __future__ import annotations

import re
import tomllib

from sam_template import ROOT, required_capabilities

from decoy_local.template import load_template

GUIDE = ROOT / "docs" / "deploy.md"


def samconfig_capabilities() -> set[str]:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    value = config["default"]["deploy"]["parameters"]["capabilities"]
    return set(value.split() if isinstance(value, str) else value)


def test_the_template_needs_iam_and_auto_expand_for_its_nested_application():
    assert required_capabilities(load_template()) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}


def test_samconfig_grants_exactly_the_capabilities_the_template_needs():
    assert samconfig_capabilities() == required_capabilities(load_template())


def test_the_guide_names_exactly_the_capabilities_the_template_needs():
    named = set(re.findall(r"CAPABILITY_[A-Z_]+", GUIDE.read_text(encoding="utf-8")))
    assert named == required_capabilities(load_template())


def test_a_named_role_would_need_named_iam():
    template = load_template()
    template["Resources"]["SchedulerRole"]["Properties"]["RoleName"] = "decoy-scheduler"
    assert "CAPABILITY_NAMED_IAM" in required_capabilities(template)
