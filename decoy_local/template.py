"""Create the template's own stateful resources on an emulated AWS (moto), from template.yaml."""

from __future__ import annotations

import contextlib
import copy
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"


class _CfnLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser: 5x faster
    """YAML loader that keeps CloudFormation short-form tags as {'Fn': value} dicts."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as a dict of its own (a copy: callers may change it)."""
    stat = path.stat()
    return copy.deepcopy(_parsed(path.resolve(), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=8)  # each test builds a stack from it: parse once per version
def _parsed(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    # What yaml.load does, with _CfnLoader: a SafeLoader (plus CloudFormation tags).
    loader = _CfnLoader(path.read_text(encoding="utf-8"))
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    """Each template Parameter's default, as the strings CloudFormation would pass."""
    return {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}


def with_parameters(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    """A copy of the template whose Parameters default to `overrides`, as parameter_overrides do.

    Checked like CloudFormation checks them: known name, AllowedValues, AllowedPattern,
    and MinValue/MaxValue for Number parameters.
    """
    params = template["Parameters"]
    for name, value in overrides.items():
        spec = params.get(name)
        if spec is None:
            raise ValueError(f"unknown template Parameter {name}")
        _check_parameter(name, spec, str(value))
    return {**template, "Parameters": {
        name: {**spec, "Default": str(overrides[name])} if name in overrides else spec
        for name, spec in params.items()}}


def _check_parameter(name: str, spec: dict[str, Any], value: str) -> None:
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(v) for v in allowed]:
        raise ValueError(f"{name}={value!r}: not one of {allowed}")
    pattern = spec.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise ValueError(f"{name}={value!r}: does not match {pattern}")
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{name}={value!r}: not a number") from None
        if "MinValue" in spec and number < float(spec["MinValue"]):
            raise ValueError(f"{name}={value}: below MinValue {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise ValueError(f"{name}={value}: above MaxValue {spec['MaxValue']}")


def resources_of_type(template: dict[str, Any], cfn_type: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == cfn_type}


@dataclass(frozen=True)
class Stack:
    """Names and ARNs of what `provision` created, as the functions' environment needs them."""

    table_name: str
    schedule_group: str
    dlq_url: str
    dlq_arn: str
    parameters: dict[str, str]


def _create_table(dynamodb: Any, name: str, props: dict[str, Any]) -> None:
    dynamodb.create_table(TableName=name, KeySchema=props["KeySchema"],
                          AttributeDefinitions=props["AttributeDefinitions"],
                          BillingMode=props["BillingMode"])
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)


def provision(clients: dict[str, Any], secrets: dict[str, str], prefix: str = "decoy",
              template: dict[str, Any] | None = None) -> Stack:
    """Create table(s), schedule group, DLQ and SSM parameters the way template.yaml declares.

    `clients` maps service name to a boto3 client; `secrets` maps the template's secret
    Parameters (TwilioAccountSidParameter, ...) to local values.
    """
    template = template or load_template()
    defaults = parameter_defaults(template)
    tables = resources_of_type(template, "AWS::DynamoDB::Table")
    (table_logical, table_res), = tables.items()
    table_name = f"{prefix}-{table_logical}"
    _create_table(clients["dynamodb"], table_name, table_res["Properties"])
    (group_logical, _), = resources_of_type(template, "AWS::Scheduler::ScheduleGroup").items()
    group = f"{prefix}-{group_logical}"
    clients["scheduler"].create_schedule_group(Name=group)
    (queue_logical, _), = resources_of_type(template, "AWS::SQS::Queue").items()
    dlq_url = clients["sqs"].create_queue(QueueName=f"{prefix}-{queue_logical}")["QueueUrl"]
    dlq_arn = clients["sqs"].get_queue_attributes(
        QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    ssm = clients["ssm"]
    for param_name, value in secrets.items():
        ssm.put_parameter(Name=defaults[param_name], Value=value, Type="SecureString",
                          Overwrite=True)
    for res in resources_of_type(template, "AWS::SSM::Parameter").values():
        props = res["Properties"]
        name = props["Name"]
        if isinstance(name, dict) and "Ref" in name:
            name = defaults[name["Ref"]]
        ssm.put_parameter(Name=name, Value=props["Value"], Type=props["Type"], Overwrite=True)
    return Stack(table_name=table_name, schedule_group=group, dlq_url=dlq_url, dlq_arn=dlq_arn,
                 parameters=defaults)


def function_environment(template: dict[str, Any], stack: Stack, logical_id: str,
                         refs: dict[str, str]) -> dict[str, str]:
    """Resolve a function's environment (Globals + its own) against the local stack.

    `refs` gives values for logical IDs and attributes moto cannot derive (function ARNs,
    roles), e.g. {"SenderFunction.Arn": "...", "SchedulerRole.Arn": "..."}.
    """
    values = {**stack.parameters, "DecoyTable": stack.table_name,
              "ReplyScheduleGroup": stack.schedule_group,
              "ScheduleDeadLetterQueue.Arn": stack.dlq_arn, **refs}
    for res in resources_of_type(template, "AWS::SSM::Parameter"):
        values[res] = _resolve(template["Resources"][res]["Properties"]["Name"], values)
    env = dict(template.get("Globals", {}).get("Function", {}).get("Environment", {})
               .get("Variables", {}))
    env.update(template["Resources"][logical_id]["Properties"].get("Environment", {})
               .get("Variables", {}))
    conditions = template.get("Conditions", {})
    for name in conditions:
        values[f"Condition::{name}"] = str(_condition(conditions[name], values, conditions))
    return {key: str(_resolve(value, values)) for key, value in env.items()}


def _condition(expr: Any, values: dict[str, str], conditions: dict[str, Any]) -> bool:
    """Evaluate a template Condition (Fn::Equals/Not/And/Or, Condition) on the values."""
    if "Condition" in expr:
        return _condition(conditions[expr["Condition"]], values, conditions)
    if "Fn::Equals" in expr:
        left, right = (str(_resolve(v, values)) for v in expr["Fn::Equals"])
        return left == right
    if "Fn::Not" in expr:
        return not _condition(expr["Fn::Not"][0], values, conditions)
    if "Fn::And" in expr:
        return all(_condition(e, values, conditions) for e in expr["Fn::And"])
    if "Fn::Or" in expr:
        return any(_condition(e, values, conditions) for e in expr["Fn::Or"])
    raise ValueError(f"unsupported condition {expr}")


def _resolve(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, dict) and "Ref" in value:
        return values[value["Ref"]]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return values[target if isinstance(target, str) else ".".join(target)]
    if isinstance(value, dict) and "Fn::If" in value:
        name, when_true, when_false = value["Fn::If"]
        return _resolve(when_true if values[f"Condition::{name}"] == "True" else when_false,
                        values)
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"]
        for key, val in values.items():
            text = text.replace("${" + key + "}", str(val))
        return text
    return value


def http_api_routes(template: dict[str, Any]) -> dict[str, str]:
    """Route key ('POST /sms') -> logical ID of the function behind it, from HttpApi events."""
    routes = {}
    for logical_id, res in resources_of_type(template, "AWS::Serverless::Function").items():
        for event in res["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                props = event["Properties"]
                routes[f"{props['Method'].upper()} {props['Path']}"] = logical_id
    return routes


def http_api_throttling(template: dict[str, Any]) -> tuple[float, int]:
    """The HTTP API's default route throttling (rate per second, burst), resolved."""
    (_, api), = resources_of_type(template, "AWS::Serverless::HttpApi").items()
    settings = api["Properties"].get("DefaultRouteSettings", {})
    values = parameter_defaults(template)
    return (float(_resolve(settings["ThrottlingRateLimit"], values)),
            int(_resolve(settings["ThrottlingBurstLimit"], values)))


def http_api_route_throttling(template: dict[str, Any]) -> dict[str, tuple[float, int]]:
    """Route key -> its own throttling (rate per second, burst), from the HttpApi events'
    RouteSettings (SAM puts them in the stage's RouteSettings; they override the stage's
    defaults for that route)."""
    values = parameter_defaults(template)
    found = {}
    for res in resources_of_type(template, "AWS::Serverless::Function").values():
        for event in res["Properties"].get("Events", {}).values():
            settings = event["Properties"].get("RouteSettings") or {}
            if event["Type"] == "HttpApi" and "ThrottlingRateLimit" in settings:
                props = event["Properties"]
                found[f"{props['Method'].upper()} {props['Path']}"] = (
                    float(_resolve(settings["ThrottlingRateLimit"], values)),
                    int(_resolve(settings["ThrottlingBurstLimit"], values)))
    return found


EMULATED_ACCOUNT = "123456789012"
EMULATED_SERVICES = ("dynamodb", "scheduler", "sqs", "ssm")


def emulated_refs(region: str, account: str = EMULATED_ACCOUNT) -> dict[str, str]:
    """Values moto cannot derive for the template's references: function/role ARNs, API id."""
    return {"SenderFunction.Arn": f"arn:aws:lambda:{region}:{account}:function:decoy-sender",
            "SchedulerRole.Arn": f"arn:aws:iam::{account}:role/decoy-scheduler",
            "DecoyApi": "abc123", "AWS::Region": region, "AWS::URLSuffix": "amazonaws.com",
            "AWS::AccountId": account}


def functions_environment(template: dict[str, Any], stack: Stack,
                          refs: dict[str, str]) -> dict[str, str]:
    """Both functions' environment variables, resolved against the emulated stack."""
    return {**function_environment(template, stack, "ReceiverFunction", refs),
            **function_environment(template, stack, "SenderFunction", refs)}


@contextlib.contextmanager
def mocked_stack(region: str, secrets: dict[str, str]
                 ) -> Iterator[tuple[dict[str, Any], Stack, dict[str, str]]]:
    """In-process moto (mock_aws) holding the template's resources: (clients, stack, env)."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        clients = {name: boto3.client(name, region_name=region) for name in EMULATED_SERVICES}
        template = load_template()
        stack = provision(clients, secrets, template=template)
        yield clients, stack, functions_environment(template, stack, emulated_refs(region))
