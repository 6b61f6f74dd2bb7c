"""Every template Parameter that reaches an AWS API fits that API's real range (botocore's models).

CloudFormation checks a Parameter's MinValue/MaxValue/AllowedValues at deploy; the service
then refuses a value outside *its* range and the stack rolls back. So each Parameter's
bounds must sit inside the bounds of every API field it feeds. The walk is over SAM's
transformed template (what CloudFormation creates), nested stacks included, and over the
environment variables the functions pass on to AWS calls. A Number Parameter found in a
place this file does not map fails the test: map it, or say why it reaches no AWS field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from sam_template import nested_templates, transform

from decoy_local.template import load_template

# (CloudFormation type, property path) -> (service, API operation, input member path).
# Property paths join keys with "."; list items are skipped (no index).
PROPERTY_FIELDS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("AWS::Lambda::EventInvokeConfig", "MaximumEventAgeInSeconds"):
        ("lambda", "PutFunctionEventInvokeConfig", "MaximumEventAgeInSeconds"),
    ("AWS::Lambda::EventInvokeConfig", "MaximumRetryAttempts"):
        ("lambda", "PutFunctionEventInvokeConfig", "MaximumRetryAttempts"),
    ("AWS::Lambda::Function", "ReservedConcurrentExecutions"):
        ("lambda", "PutFunctionConcurrency", "ReservedConcurrentExecutions"),
    ("AWS::Lambda::Function", "Timeout"): ("lambda", "CreateFunction", "Timeout"),
    ("AWS::Lambda::Function", "MemorySize"): ("lambda", "CreateFunction", "MemorySize"),
    ("AWS::Logs::LogGroup", "RetentionInDays"): ("logs", "PutRetentionPolicy", "retentionInDays"),
    ("AWS::ApiGatewayV2::Stage", "DefaultRouteSettings.ThrottlingRateLimit"):
        ("apigatewayv2", "CreateStage", "DefaultRouteSettings.ThrottlingRateLimit"),
    ("AWS::ApiGatewayV2::Stage", "DefaultRouteSettings.ThrottlingBurstLimit"):
        ("apigatewayv2", "CreateStage", "DefaultRouteSettings.ThrottlingBurstLimit"),
    # A route's own throttle (a map keyed by route key: "*" walks into the map's values).
    ("AWS::ApiGatewayV2::Stage", "RouteSettings.POST /usage.ThrottlingRateLimit"):
        ("apigatewayv2", "CreateStage", "RouteSettings.*.ThrottlingRateLimit"),
    ("AWS::ApiGatewayV2::Stage", "RouteSettings.POST /usage.ThrottlingBurstLimit"):
        ("apigatewayv2", "CreateStage", "RouteSettings.*.ThrottlingBurstLimit"),
    ("AWS::CloudWatch::Alarm", "Threshold"): ("cloudwatch", "PutMetricAlarm", "Threshold"),
    ("AWS::CloudWatch::Alarm", "Period"): ("cloudwatch", "PutMetricAlarm", "Period"),
    ("AWS::CloudWatch::Alarm", "EvaluationPeriods"):
        ("cloudwatch", "PutMetricAlarm", "EvaluationPeriods"),
    ("AWS::CloudWatch::Alarm", "DatapointsToAlarm"):
        ("cloudwatch", "PutMetricAlarm", "DatapointsToAlarm"),
    ("AWS::SQS::Queue", "MessageRetentionPeriod"): ("sqs", "SetQueueAttributes", "Attributes"),
}
# Number Parameters written into text, not into an API field (type, property path): why.
NOT_API_FIELDS = {
    ("AWS::CloudWatch::Dashboard", "DashboardBody.BudgetDivisor"):
        "a divisor inside the dashboard's JSON text (1 when the budget is 0)",
}
# SQS attributes are a string map in the API; their ranges are in its documentation only.
DOCUMENTED_RANGES = {("sqs", "SetQueueAttributes", "Attributes"): (60, 1_209_600)}

# Environment variable -> the AWS API field the function passes it to (functions/decoy/).
ENV_FIELDS: dict[str, tuple[str, str, str]] = {
    "SCHEDULE_RETRY_ATTEMPTS":
        ("scheduler", "CreateSchedule", "Target.RetryPolicy.MaximumRetryAttempts"),
    "SCHEDULE_MAX_EVENT_AGE_SECONDS":
        ("scheduler", "CreateSchedule", "Target.RetryPolicy.MaximumEventAgeInSeconds"),
}
# Environment variables read by our own code only (quotas, delays, caches): no AWS range.
APP_ONLY_ENV = {
    "REPLY_DELAY_SECONDS": "when the reply is due: an at() date, any future time",
    "MAX_MESSAGES_PER_SENDER": "a counter compared in a DynamoDB condition",
    "SENDER_WINDOW_SECONDS": "added to now for a TTL attribute (any epoch)",
    "REPLIES_PER_SENDER_PER_WINDOW": "a counter compared in a DynamoDB condition",
    "DAILY_REPLY_BUDGET": "a counter compared in a DynamoDB condition",
    "OPT_OUT_SECONDS": "added to now for a TTL attribute (any epoch)",
    "KILL_SWITCH_CACHE_SECONDS": "powertools' cache max_age, in process",
    "DAILY_ANSWERED_CALL_BUDGET": "a counter compared in a DynamoDB condition",
    "REPLY_VALIDITY_PERIOD_SECONDS": "Twilio's ValidityPeriod (1-36000, the Parameter's range)",
}


# SAM writes some Parameters' values in place of their Ref: each Parameter gets a unique
# sentinel value for the transform, and a sentinel found in the output is that Parameter.
SENTINEL_BASE = 970_000_000


def sentinels(source: dict[str, Any]) -> dict[str, str]:
    return {name: str(SENTINEL_BASE + i) for i, name in enumerate(source.get("Parameters", {}))
            if parameter_bounds(source["Parameters"][name]) != (None, None, None)
            or source["Parameters"][name].get("Type") == "Number"}


def traced(source: dict[str, Any]) -> dict[str, Any]:
    """The transformed template, each sentinel value turned back into a Ref to its Parameter."""
    back = {value: name for name, value in sentinels(source).items()}

    def untrace(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: untrace(v) for k, v in value.items()}
        if isinstance(value, list):
            return [untrace(v) for v in value]
        if not isinstance(value, bool) and str(value) in back:
            return {"Ref": back[str(value)]}
        return value

    return untrace(transform(source, sentinels(source)))


def refs(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(property path, referenced name) for every Ref inside `value`, through Fn::If."""
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            yield path, value["Ref"]
            return
        for key, item in value.items():
            inner = path if key.startswith("Fn::") else (f"{path}.{key}" if path else key)
            yield from refs(item, inner)
    elif isinstance(value, list):
        for item in value:
            yield from refs(item, path)


def literal_numbers(value: Any, path: str = "") -> Iterator[tuple[str, float]]:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield path, float(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not key.startswith("Fn::") and key != "Ref":
                yield from literal_numbers(item, f"{path}.{key}" if path else key)


def api_range(service: str, operation: str, member_path: str) -> dict[str, Any]:
    """min, max and allowed values of one API input field, from botocore's service model."""
    if (service, operation, member_path) in DOCUMENTED_RANGES:
        low, high = DOCUMENTED_RANGES[service, operation, member_path]
        return {"min": low, "max": high, "values": None}
    model = botocore.session.get_session().get_service_model(service)
    shape = model.operation_model(operation).input_shape
    for name in member_path.split("."):
        shape = shape.value if name == "*" else shape.members[name]
    assert shape.type_name in ("integer", "long", "double", "float"), member_path
    values = None
    # Some fields list their values in prose only, e.g. CloudWatch Logs' retentionInDays.
    listed = re.search(r"Possible values are: ([0-9, and]+)", shape.documentation or "")
    if listed:
        values = {float(v) for v in re.findall(r"\d+", listed.group(1))}
    return {"min": shape.metadata.get("min"), "max": shape.metadata.get("max"), "values": values}


def parameter_bounds(spec: dict[str, Any]) -> tuple[float | None, float | None, set[float] | None]:
    allowed = spec.get("AllowedValues")
    if allowed is not None and spec.get("Type") == "Number":
        numbers = {float(v) for v in allowed if str(v) != ""}
        return min(numbers), max(numbers), numbers
    low, high = spec.get("MinValue"), spec.get("MaxValue")
    if spec.get("Type") == "String" and spec.get("AllowedPattern") == "^[0-9]*$":
        low = 0  # digits only (empty = unset, AWS::NoValue)
    return (None if low is None else float(low), None if high is None else float(high), None)


def problems_with(name: str, spec: dict[str, Any], where: str,
                  field: tuple[str, str, str]) -> list[str]:
    low, high, allowed = parameter_bounds(spec)
    bounds = api_range(*field)
    at = f"{name} -> {where} ({'.'.join(field[1:])})"
    found = []
    if bounds["min"] is not None and (low is None or low < bounds["min"]):
        found.append(f"{at}: AWS minimum is {bounds['min']}, the Parameter allows {low}")
    if bounds["max"] is not None and (high is None or high > bounds["max"]):
        found.append(f"{at}: AWS maximum is {bounds['max']}, the Parameter allows {high}")
    if bounds["values"] is not None and not (allowed and allowed <= bounds["values"]):
        found.append(f"{at}: AWS accepts only {sorted(bounds['values'])}, "
                     f"the Parameter allows {sorted(allowed) if allowed else 'any number'}")
    return found


def literal_problems(where: str, value: float, field: tuple[str, str, str]) -> list[str]:
    bounds = api_range(*field)
    if (bounds["min"] is not None and value < bounds["min"]) or \
            (bounds["max"] is not None and value > bounds["max"]) or \
            (bounds["values"] is not None and value not in bounds["values"]):
        return [f"{where} = {value}: outside {bounds}"]
    return []


def check_template(source: dict[str, Any], output: dict[str, Any], label: str) -> list[str]:
    """Problems of one (source, transformed) template pair; nested stacks are checked too."""
    parameters = source.get("Parameters", {})
    found: list[str] = []
    for logical_id, resource in output["Resources"].items():
        rtype, props = resource["Type"], resource.get("Properties", {})
        where = f"{label}{logical_id}"
        if rtype == "AWS::CloudFormation::Stack":
            continue  # below, with the nested template's own Parameters
        for path, value in literal_numbers(props):
            if (rtype, path) in PROPERTY_FIELDS:
                found += literal_problems(f"{where}.{path}", value, PROPERTY_FIELDS[rtype, path])
        for path, name in refs(props):
            if name not in parameters:
                continue  # a resource or a pseudo parameter
            spec = parameters[name]
            env = path.removeprefix("Environment.Variables.")
            if rtype == "AWS::Lambda::Function" and env != path:
                if env in ENV_FIELDS:
                    found += problems_with(name, spec, f"{where} env {env}", ENV_FIELDS[env])
                elif env not in APP_ONLY_ENV and spec.get("Type") == "Number":
                    found.append(f"{name} -> {where} env {env}: unmapped (ENV_FIELDS or "
                                 "APP_ONLY_ENV)")
            elif (rtype, path) in PROPERTY_FIELDS:
                found += problems_with(name, spec, f"{where}.{path}", PROPERTY_FIELDS[rtype, path])
            elif spec.get("Type") == "Number" and (rtype, path) not in NOT_API_FIELDS:
                found.append(f"{name} -> {where}.{path} ({rtype}): unmapped (PROPERTY_FIELDS)")
    for logical_id, nested in nested_templates(source).items():
        given = output["Resources"][logical_id]["Properties"].get("Parameters", {})
        for nested_name, value in given.items():
            for _, name in refs(value):
                if name in parameters and nested_name in nested.get("Parameters", {}):
                    found += nested_parameter_problems(
                        name, parameters[name], nested["Parameters"][nested_name],
                        f"{label}{logical_id}.{nested_name}")
        found += check_template(nested, nested, f"{label}{logical_id}/")
    return found


def nested_parameter_problems(name: str, outer: dict[str, Any], inner: dict[str, Any],
                              where: str) -> list[str]:
    """A nested stack's Parameter refuses what its own bounds refuse: ours must fit inside."""
    low, high, allowed = parameter_bounds(outer)
    in_low, in_high, in_allowed = parameter_bounds(inner)
    found = []
    if in_low is not None and (low is None or low < in_low):
        found.append(f"{name} -> {where}: nested MinValue {in_low}, ours allows {low}")
    if in_high is not None and (high is None or high > in_high):
        found.append(f"{name} -> {where}: nested MaxValue {in_high}, ours allows {high}")
    if in_allowed is not None and not (allowed and allowed <= in_allowed):
        found.append(f"{name} -> {where}: nested AllowedValues {sorted(in_allowed)}")
    return found


def test_every_parameter_reaching_an_aws_field_fits_its_range():
    assert check_template(load_template(), traced(load_template()), "") == []


def test_a_parameter_wider_than_lambdas_event_age_is_caught():
    source = load_template()
    source["Parameters"]["ScheduleMaxEventAgeSeconds"]["MaxValue"] = 86400
    problems = check_template(source, traced(source), "")
    assert any("MaximumEventAgeInSeconds" in p and "21600" in p for p in problems), problems


def test_an_unmapped_number_parameter_is_reported():
    source = load_template()
    source["Parameters"]["QueueRetention"] = {"Type": "Number", "Default": 60}
    source["Resources"]["ScheduleDeadLetterQueue"]["Properties"]["VisibilityTimeout"] = {
        "Ref": "QueueRetention"}
    problems = check_template(source, traced(source), "")
    assert problems == ["QueueRetention -> ScheduleDeadLetterQueue.VisibilityTimeout "
                        "(AWS::SQS::Queue): unmapped (PROPERTY_FIELDS)"]


@pytest.mark.parametrize("field", sorted(set(PROPERTY_FIELDS.values()) | set(ENV_FIELDS.values())))
def test_every_mapped_field_exists_in_botocore(field):
    api_range(*field)
