"""docs/deploy.md works: every command in it is run (offline ones) or checked (the others)."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

from decoy_local.template import load_template, parameter_defaults

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "deploy.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)
OFFLINE = re.compile(r"\s+#\s*offline\s*$")
TEMPLATE = load_template()
DEFAULTS = parameter_defaults(TEMPLATE)
SAMCONFIG = tomllib.loads((ROOT / "samconfig.toml").read_text())["default"]
STACK_NAME = SAMCONFIG["global"]["parameters"]["stack_name"]
REGION = SAMCONFIG["deploy"]["parameters"]["region"]
# SAM's own bucket stack (`resolve_s3`), which the tear-down may remove.
SAM_MANAGED_STACK = "aws-sam-cli-managed-default"
SECRET_PARAMETERS = ("TwilioAccountSidParameter", "TwilioAuthTokenParameter",
                     "SenderHashKeyParameter")
# SSM names the guide may touch: the template's *Parameter Parameters (secrets, kill switch).
SSM_NAMES = {DEFAULTS[p] for p in TEMPLATE["Parameters"] if p.endswith("Parameter")}
AWS_GLOBAL_OPTIONS = {"--region", "--output", "--query", "--profile", "--no-cli-pager"}
SAM_COMMANDS = {"build", "deploy", "validate", "delete", "logs"}
OPS_COMMANDS = {"connect", "stats", "kill-switch", "preflight"}
RUN_TIMEOUT = 120


@dataclass(frozen=True)
class Command:
    text: str  # the command without its marker comment
    offline: bool  # marked `# offline`: the test runs it

    @property
    def args(self) -> list[str]:
        return shlex.split(self.text)


def blocks(language: str) -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    return [body for lang, body in FENCE.findall(text) if lang == language]


def guide_commands() -> list[Command]:
    commands = []
    for block in blocks("sh"):
        for line in block.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            assert not line.rstrip().endswith("\\"), f"one command per line: {line}"
            offline = bool(OFFLINE.search(line))
            commands.append(Command(OFFLINE.sub("", line).strip(), offline))
    return commands


COMMANDS = guide_commands()
OFFLINE_COMMANDS = [c for c in COMMANDS if c.offline]


# --- where the tools are --------------------------------------------------------------

def python_venv() -> Path:
    return Path(sys.prefix)


def sam_venv() -> Path | None:
    """The SAM CLI venv: the repo's own, or a sibling of the venv running the tests."""
    for candidate in (ROOT / ".venv-sam", python_venv().parent / ".venv-sam"):
        if (candidate / "bin" / "sam").exists():
            return candidate
    return None


def require_sam() -> Path:
    venv = sam_venv()
    if venv is None:
        pytest.skip("no SAM CLI venv (.venv-sam) yet: `make validate` creates it")
    return venv


@functools.cache
def sam_options(command: str) -> frozenset[str]:
    out = subprocess.run([str(require_sam() / "bin" / "sam"), command, "--help"],
                         capture_output=True, text=True, timeout=RUN_TIMEOUT, check=True,
                         env={**os.environ, "SAM_CLI_TELEMETRY": "0"}).stdout
    return frozenset(re.findall(r"--[a-z][a-z0-9-]+", out))


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([a-z][a-z-]*):", text, re.M))


# --- static checks, one per kind of command -------------------------------------------

def options(tokens: list[str]) -> dict[str, list[str]]:
    """['--a', 'x', 'y', '--b'] -> {'--a': ['x', 'y'], '--b': []}."""
    parsed: dict[str, list[str]] = {}
    current = None
    for token in tokens:
        if token.startswith("--"):
            current = token
            parsed[current] = []
        else:
            assert current is not None, f"positional argument {token!r}"
            parsed[current].append(token)
    return parsed


def check_aws(args: list[str]) -> dict[str, list[str]]:
    """Service, operation, parameter names and enum values against botocore's models."""
    service, operation, given = args[1], args[2], options(args[3:])
    model = botocore.session.get_session().get_service_model(service)
    operations = {xform_name(name, "-"): name for name in model.operation_names}
    assert operation in operations, f"aws {service} has no {operation}"
    shape = model.operation_model(operations[operation]).input_shape
    members = {xform_name(name, "-"): member for name, member in
               (shape.members.items() if shape else ())}
    for option, values in given.items():
        if option in AWS_GLOBAL_OPTIONS:
            assert len(values) == 1, f"{option} takes one value"
            continue
        name = option[2:]
        if name.startswith("no-") and name[3:] in members:
            name = name[3:]
        assert name in members, f"aws {service} {operation} has no {option}"
        member = members[name]
        if member.type_name == "boolean":
            assert values == [], f"{option} is a flag"
        elif member.type_name == "list":
            assert values, f"{option} needs values"
        else:
            assert len(values) == 1, f"{option} takes one value"
            if member.enum:
                assert values[0] in member.enum, f"{option} {values[0]} not in {member.enum}"
    for required in shape.required_members if shape else ():
        assert f"--{xform_name(required, '-')}" in given, f"missing --{xform_name(required, '-')}"
    check_project_names(service, given)
    return given


def check_project_names(service: str, given: dict[str, list[str]]) -> None:
    """Names the guide shares with template.yaml and samconfig.toml."""
    if service == "ssm":
        for name in given.get("--name", []) + given.get("--names", []):
            assert name in SSM_NAMES, f"{name} is not one of the template's SSM names"
    if "--stack-name" in given:
        assert given["--stack-name"] in ([STACK_NAME], [SAM_MANAGED_STACK])
    for key in re.findall(r"OutputKey=='(\w+)'", " ".join(given.get("--query", []))):
        assert key in TEMPLATE["Outputs"], f"the template has no Output {key}"
    if service == "cloudwatch" and "--namespace" in given:
        assert given["--namespace"] == [DEFAULTS["MetricsNamespace"]]


def check_sam(args: list[str]) -> None:
    command, given = args[1], options(args[2:])
    assert command in SAM_COMMANDS, f"sam {command} is not used by this project"
    if "--stack-name" in given:
        assert given["--stack-name"] == [STACK_NAME]
    if "--name" in given:
        (logical_id,) = given["--name"]
        assert logical_id in TEMPLATE["Resources"], f"the template has no {logical_id}"
    for override in given.get("--parameter-overrides", []):
        assert override.split("=", 1)[0] in TEMPLATE["Parameters"], override
    unknown = set(given) - sam_options(command)
    assert not unknown, f"sam {command} has no {sorted(unknown)}"


def check(command: Command) -> None:
    args = command.args
    program = args[0]
    if program == "make":
        targets = [a for a in args[1:] if "=" not in a]
        assert targets and set(targets) <= makefile_targets(), f"no make target {targets}"
        for variable in (a for a in args[1:] if "=" in a):
            name, value = variable.split("=", 1)
            assert name == "ARGS" and targets == ["ops"], f"unexpected {variable}"
            assert value.split()[0] in OPS_COMMANDS, f"decoy_ops has no {value.split()[0]}"
    elif program == "aws":
        check_aws(args)
    elif program in (".venv-sam/bin/sam", "sam"):
        check_sam(args)
    elif program == ".venv/bin/python":
        assert args[1] == "-m", "run project modules with -m"
        if importlib.util.find_spec(args[2].split(".")[0]) is None:
            pytest.skip(f"{args[2]} is not on this branch yet")
    elif program == "read":
        # -p: the prompt says what it waits for (input hidden, nothing else would)
        assert args[1] == "-rsp" and args[2].strip() and re.fullmatch(r"[A-Z_]+", args[3])
    elif program == "git":
        assert args[1] == "clone"
    elif program != "cd":
        pytest.fail(f"the guide test does not know how to check {program!r}")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.text[:60])
def test_every_guide_command_is_well_formed(command):
    check(command)


# --- offline commands are run ---------------------------------------------------------

def runnable(command: Command) -> list[str]:
    """The command as this machine runs it: the venvs the tests use, never building new ones."""
    args = command.args
    if args[0] == "make":
        venv, sam = python_venv(), require_sam() if "validate" in args else sam_venv()
        extra = [f"VENV={venv}", "-o", f"{venv}/.installed"]
        if sam:
            extra += [f"SAM_VENV={sam}", "-o", f"{sam}/.installed"]
        return [*args, *extra]
    if args[0] == ".venv/bin/python":
        return [sys.executable, *args[1:]]
    if args[0] == ".venv-sam/bin/sam":
        return [str(require_sam() / "bin" / "sam"), *args[1:]]
    pytest.fail(f"no offline runner for {args[0]!r}")


@pytest.mark.parametrize("command", OFFLINE_COMMANDS, ids=lambda c: c.text[:60])
def test_offline_guide_commands_run(command):
    check(command)
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "functions"), str(ROOT)])}
    env.pop("CAMPAIGNS_FILE", None)
    # The commands come from our own guide, checked above.
    done = subprocess.run(runnable(command), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


# --- what the guide must cover ---------------------------------------------------------

def aws_calls(service: str, operation: str) -> list[dict[str, list[str]]]:
    return [options(c.args[3:]) for c in COMMANDS
            if c.args[:3] == ["aws", service, operation]]


def test_guide_puts_every_secret_parameter_in_ssm_as_a_securestring():
    stored = {call["--name"][0]: call["--type"][0] for call in aws_calls("ssm", "put-parameter")}
    for parameter in SECRET_PARAMETERS:
        assert stored.get(DEFAULTS[parameter]) == "SecureString", parameter


def test_guide_tears_down_what_it_created():
    texts = [c.text for c in COMMANDS]
    assert any(t.startswith(".venv-sam/bin/sam delete") for t in texts)
    (deleted,) = aws_calls("ssm", "delete-parameters")
    assert set(deleted["--names"]) == {DEFAULTS[p] for p in SECRET_PARAMETERS}


def test_guide_builds_then_deploys():
    texts = [c.text for c in COMMANDS]
    assert texts.index("make build") < texts.index(".venv-sam/bin/sam deploy")


def test_guide_runs_the_campaign_check_and_the_ops_command_help():
    offline = [c.text for c in OFFLINE_COMMANDS]
    assert "make campaigns" in offline
    assert 'make ops ARGS="connect --help"' in offline


def test_every_aws_command_names_the_stacks_region():
    for command in COMMANDS:
        args = command.args
        if args[0] == "aws":
            assert options(args[3:]).get("--region") == [REGION], command.text
        elif args[0] == ".venv-sam/bin/sam" and args[1] in ("logs", "delete"):
            assert options(args[2:]).get("--region") == [REGION], command.text


def test_guide_runs_preflight_first_and_again_before_the_first_real_test():
    texts = [c.text.split("  #")[0].strip() for c in COMMANDS]
    runs = [i for i, t in enumerate(texts) if t == "make preflight"]
    assert len(runs) == 2, runs
    assert runs[0] < texts.index("make build")
    assert runs[1] > texts.index('make ops ARGS="connect --apply"')
    guide = GUIDE.read_text(encoding="utf-8")
    assert guide.index("Cap the money") < guide.index("## 4. Put the secrets")
    assert "python3.13" in guide.split("## 2.")[0]


def test_guide_connects_with_a_dry_run_then_applies():
    texts = [c.text for c in COMMANDS]
    assert texts.index('make ops ARGS="connect"') < texts.index('make ops ARGS="connect --apply"')


def test_samconfig_is_complete_for_a_non_guided_deploy():
    deploy = SAMCONFIG["deploy"]["parameters"]
    assert STACK_NAME and deploy["region"] and deploy["capabilities"]
    assert deploy.get("resolve_s3") is True or deploy.get("s3_bucket")
    overrides = sam_overrides(deploy["parameter_overrides"])
    assert set(overrides) <= set(TEMPLATE["Parameters"])
    # The optional secret and the custom domain's URL are there to be found (issue 23).
    assert {"TwilioSharedKeyParameter", "PublicWebhookBaseUrl"} <= set(overrides)
    for name, value in overrides.items():
        assert _bounds_problem(TEMPLATE["Parameters"][name], value) is None, name


def test_the_guide_answers_every_guided_security_prompt_sam_will_ask():
    """`sam deploy --guided` asks "<Function> has no authentication. Is this okay? [y/N]"
    for each API event without Auth (samcli.commands.deploy.auth_utils); Enter aborts."""
    sam = require_sam()
    code = ("import json, sys; from samcli.commands.deploy.auth_utils import auth_per_resource;"
            "from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider;"
            "stacks, _ = SamLocalStackProvider.get_stacks(sys.argv[1]);"
            "print(json.dumps(sorted({n for n, ok in auth_per_resource(stacks) if not ok})))")
    done = subprocess.run([str(sam / "bin" / "python"), "-c", code, str(ROOT / "template.yaml")],
                          capture_output=True, text=True, timeout=RUN_TIMEOUT, check=True,
                          cwd=ROOT, env={**os.environ, "SAM_CLI_TELEMETRY": "0"})
    unauthenticated = json.loads(done.stdout.strip().splitlines()[-1])
    text = " ".join(GUIDE.read_text(encoding="utf-8").split())
    assert unauthenticated, "sam asks about the webhook routes"
    for name in unauthenticated:
        assert f"**`y`** to each `{name} has no authentication. Is this okay? [y/N]`" in text


def sam_overrides(lines: list[str]) -> dict[str, str]:
    """Key=Value items as sam reads them (samcli.cli.types.CfnParameterOverridesType): a
    quoted value loses its quotes, so `Key=""` is the empty string."""
    pairs = (line.split("=", 1) for line in lines)
    return {key: value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else value
            for key, value in pairs}


def _bounds_problem(spec: dict[str, Any], value: str) -> str | None:
    if spec["Type"] == "Number":
        number = float(value)
        if "MinValue" in spec and number < float(spec["MinValue"]):
            return f"{value} < {spec['MinValue']}"
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            return f"{value} > {spec['MaxValue']}"
    pattern = spec.get("AllowedPattern")
    if pattern and not re.fullmatch(pattern, value):
        return f"{value} does not match {pattern}"
    return None


def test_guide_samconfig_overrides_name_real_parameters_within_their_bounds():
    email_block, tuning_block = blocks("toml")
    shipped_overrides = SAMCONFIG["deploy"]["parameters"]["parameter_overrides"]
    for block in (email_block, tuning_block):
        for override in tomllib.loads(block)["parameter_overrides"]:
            name, value = override.split("=", 1)
            assert name in TEMPLATE["Parameters"], name
            assert _bounds_problem(TEMPLATE["Parameters"][name], value) is None, override
    tuning = tomllib.loads(tuning_block)["parameter_overrides"]
    assert set(tuning) <= set(shipped_overrides), "the guide shows samconfig.toml's values"
    # The one line the volunteer adds: their own address, not shipped.
    assert [o.split("=")[0] for o in tomllib.loads(email_block)["parameter_overrides"]] == [
        "AlarmEmail"]
