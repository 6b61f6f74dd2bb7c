"""Where the deployed stack's names come from: explicit flags first, else its CloudFormation."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from decoy_ops import ROOT

SAMCONFIG = ROOT / "samconfig.toml"


class OpsError(Exception):
    """A one-line reason the command cannot go on (printed, exit status 1); `fr`: the same
    reason in French, printed under `--lang fr` (typography applied by the printer)."""

    def __init__(self, message: str, fr: str = ""):
        super().__init__(message)
        self.fr = fr


def samconfig_defaults(path: Path = SAMCONFIG) -> dict[str, str | None]:
    """The stack name and region `sam deploy` uses (samconfig.toml, environment `default`)."""
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8")).get("default", {})
    except FileNotFoundError:
        return {"stack_name": None, "region": None}
    return {
        "stack_name": config.get("global", {}).get("parameters", {}).get("stack_name"),
        "region": config.get("deploy", {}).get("parameters", {}).get("region"),
    }


class Stack:
    """The deployed stack's Outputs and Parameters, read once, and only if a flag is missing."""

    def __init__(self, name: str | None, cloudformation: Callable[[], Any]):
        self.name = name
        self._cloudformation = cloudformation
        self._described: dict[str, Any] | None = None

    @classmethod
    def known(cls, name: str, outputs: dict[str, str], parameters: dict[str, str]) -> Stack:
        """A stack whose outputs and parameters are known without CloudFormation (--local)."""
        stack = cls(name, lambda: None)
        stack._described = {
            "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
            "Parameters": [{"ParameterKey": k, "ParameterValue": v}
                           for k, v in parameters.items()]}
        return stack

    def _describe(self) -> dict[str, Any]:
        if self._described is None:
            if not self.name:
                raise OpsError("no stack name: pass --stack-name or the explicit flags",
                               fr="pas de nom de pile : passez --stack-name ou les options "
                               "explicites")
            try:
                (stack,) = self._cloudformation().describe_stacks(
                    StackName=self.name)["Stacks"]
            except (ClientError, BotoCoreError) as exc:
                raise OpsError(f"cannot read stack {self.name!r}: {exc}",
                               fr=f"impossible de lire la pile {self.name!r} : {exc}"
                               ) from None
            self._described = stack
        return self._described

    def output(self, key: str, flag: str) -> str:
        outputs = {o["OutputKey"]: o["OutputValue"] for o in self._describe().get("Outputs", [])}
        if key not in outputs:
            raise OpsError(f"stack {self.name!r} has no output {key}: pass {flag}",
                           fr=f"la pile {self.name!r} n'a pas de sortie {key} : passez {flag}")
        return outputs[key]

    def parameter(self, key: str, flag: str) -> str:
        params = {p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue", ""))
                  for p in self._describe().get("Parameters", [])}
        if key not in params:
            raise OpsError(f"stack {self.name!r} has no parameter {key}: pass {flag}",
                           fr=f"la pile {self.name!r} n'a pas de paramètre {key} : passez "
                           f"{flag}")
        return params[key]


def resolve(explicit: str | None, lookup: Callable[[], str]) -> str:
    """The flag's value when given, else what the stack says."""
    return explicit if explicit is not None else lookup()
