"""template.yaml as CloudFormation receives it: transformed offline by SAM's own translator."""

from __future__ import annotations

import copy
import functools
import json
import os
import re
from pathlib import Path
from typing import Any

from decoy_local.template import load_template

ROOT = Path(__file__).resolve().parents[1]
REGION = "eu-west-3"
ACCOUNT = "123456789012"
PARTITION = "aws"
# What `sam package` writes in place of local paths (cfn-lint substitutes the same way).
PACKAGED_CODE = "s3://packaged-bucket/code.zip"
PACKAGED_TEMPLATE = "https://s3.eu-west-3.amazonaws.com/packaged-bucket/nested.template"

IAM_TYPES = {"AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group", "AWS::IAM::Policy",
             "AWS::IAM::ManagedPolicy", "AWS::IAM::InstanceProfile", "AWS::IAM::AccessKey",
             "AWS::IAM::UserToGroupAddition", "AWS::IAM::RolePolicy", "AWS::IAM::UserPolicy",
             "AWS::IAM::GroupPolicy"}
# A custom name on one of these needs CAPABILITY_NAMED_IAM (CloudFormation CreateStack docs).
IAM_NAME_PROPERTIES = ("RoleName", "UserName", "GroupName", "ManagedPolicyName",
                       "InstanceProfileName")
SAM_TRANSFORM = "AWS::Serverless-2016-10-31"


class _NoManagedPolicies:
    """The translator's policy loader, offline: managed policy names are left as given."""

    def load(self) -> dict[str, str]:
        return {}


def packaged(template: dict[str, Any]) -> dict[str, Any]:
    """The template as `sam package` leaves it: local CodeUri / Location replaced by URIs."""
    template = copy.deepcopy(template)
    function_globals = template.get("Globals", {}).get("Function", {})
    if "CodeUri" in function_globals:
        function_globals["CodeUri"] = PACKAGED_CODE
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function" and "CodeUri" in props:
            props["CodeUri"] = PACKAGED_CODE
        if resource["Type"] == "AWS::Serverless::Application" and isinstance(
                props.get("Location"), str):
            props["Location"] = PACKAGED_TEMPLATE
    return template


def transform(template: dict[str, Any],
              parameter_values: dict[str, str] | None = None) -> dict[str, Any]:
    """SAM's translator on `template` (no network: no SAR application, no managed policy).

    Like `sam deploy`, the translator writes some Parameters' values in place of their Ref
    (EventInvokeConfig, for one): `parameter_values` are those values (default: Defaults).
    """
    from samtranslator.translator.transform import transform as sam_transform

    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    return sam_transform(packaged(template), dict(parameter_values or {}), _NoManagedPolicies())


@functools.cache
def _transformed_json() -> str:
    return json.dumps(transform(load_template()))


def transformed() -> dict[str, Any]:
    """template.yaml transformed (a fresh copy each call)."""
    return json.loads(_transformed_json())


def nested_templates(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Logical ID -> the local template of each nested application (its Location)."""
    found = {}
    for name, resource in template["Resources"].items():
        location = resource.get("Properties", {}).get("Location")
        if resource["Type"] == "AWS::Serverless::Application" and isinstance(location, str):
            found[name] = load_template(ROOT / location)
    return found


def _uses_fn_transform(value: Any) -> bool:
    if isinstance(value, dict):
        return "Fn::Transform" in value or any(_uses_fn_transform(v) for v in value.values())
    if isinstance(value, list):
        return any(_uses_fn_transform(v) for v in value)
    return False


def required_capabilities(source: dict[str, Any]) -> set[str]:
    """The capabilities CloudFormation needs to deploy `source` (a SAM template) by change set.

    IAM resources need CAPABILITY_IAM, custom-named ones CAPABILITY_NAMED_IAM; nested
    applications (nested stacks after the transform) and macros need CAPABILITY_AUTO_EXPAND
    (CloudFormation CreateChangeSet "Capabilities"; SAM "Deploying nested applications").
    Nested templates count too: the parent's change set acknowledges for them.
    """
    needed: set[str] = set()
    transforms = source.get("Transform", [])
    transforms = [transforms] if isinstance(transforms, str) else transforms
    if set(transforms) - {SAM_TRANSFORM} or _uses_fn_transform(source):
        needed.add("CAPABILITY_AUTO_EXPAND")
    output = transform(source) if SAM_TRANSFORM in transforms else source
    for resource in output["Resources"].values():
        if resource["Type"] in IAM_TYPES:
            props = resource.get("Properties", {})
            named = any(k in props for k in IAM_NAME_PROPERTIES)
            needed.add("CAPABILITY_NAMED_IAM" if named else "CAPABILITY_IAM")
        if resource["Type"] == "AWS::CloudFormation::Stack":
            needed.add("CAPABILITY_AUTO_EXPAND")
    for nested in nested_templates(source).values():
        needed |= required_capabilities(nested)
    if "CAPABILITY_NAMED_IAM" in needed:
        needed.discard("CAPABILITY_IAM")  # NAMED_IAM covers it
    return needed


# --- resolving the transformed template's references to concrete values -------------

def pseudo_parameters(region: str = REGION, account: str = ACCOUNT) -> dict[str, str]:
    return {"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "decoy-number"}


def resolve(value: Any, refs: dict[str, Any]) -> Any:
    """Resolve Ref / Fn::GetAtt / Fn::Sub / Fn::If (conditions given as 'Condition::X')."""
    if isinstance(value, list):
        return [resolve(v, refs) for v in value]
    if not isinstance(value, dict):
        return value
    if "Ref" in value:
        return refs[value["Ref"]]
    if "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return refs[target if isinstance(target, str) else ".".join(target)]
    if "Fn::Sub" in value:
        text = value["Fn::Sub"]
        return re.sub(r"\$\{([^}]+)\}", lambda m: str(refs[m.group(1)]), text)
    if "Fn::If" in value:
        name, when_true, when_false = value["Fn::If"]
        return resolve(when_true if refs[f"Condition::{name}"] else when_false, refs)
    return {k: resolve(v, refs) for k, v in value.items()}
