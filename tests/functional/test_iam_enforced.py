"""The functional path on moto with IAM enforced, each function under its own role's policies.

Each function's role comes from SAM's transformed template (what CloudFormation creates).
moto authorizes a request made with an assumed role's credentials against that role's
policies, but checks actions only, against resource `*` (FACTS.md). So the roles' policies
are installed with their resources widened to `*` (a missing *action* fails the path),
every call the functions make is recorded, and each recorded call's resource is checked
against the role's real statements, resolved to this stack's ARNs (a resource outside the
scoping fails too). The actions a role grants that the path never used fail the
least-privilege test, unless AWS itself uses them on the function's behalf (listed below).
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from conftest import ACCOUNT, NOW, REGION, _reset_caches, schedules
from sam_template import pseudo_parameters, resolve, transformed
from twilio_fakes import HASH_KEY, api_event, call_form, new_sid, sms_form, status_form, usage_form

from decoy.phone import sender_key
from decoy_local.scheduler import fire_due
from receiver.app import lambda_handler as receive
from sender.app import lambda_handler as send

HARASSER = "+33612345678"
CALLER = "+33612345679"
DECOY = "+33939000001"
ROLES = {"ReceiverFunction": "ReceiverFunctionRole", "SenderFunction": "SenderFunctionRole"}
# Granted actions no function code calls: AWS uses them, or IAM checks them inside a call.
USED_BY_AWS = {
    "SenderFunctionRole": {"sqs:SendMessage": "Lambda's async DLQ (DeadLetterQueue)"},
    "ReceiverFunctionRole": {"iam:PassRole": "checked by scheduler:CreateSchedule (RoleArn)"},
}


@dataclass
class Call:
    action: str  # "dynamodb:PutItem"
    resources: list[str]


@dataclass
class RoleUnderTest:
    name: str
    statements: list[dict[str, Any]]  # resolved to this stack's ARNs
    credentials: dict[str, str]
    calls: list[Call] = field(default_factory=list)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def stack_refs(aws: Any) -> dict[str, Any]:
    template = transformed()
    refs: dict[str, Any] = {**pseudo_parameters(REGION, ACCOUNT), **aws.stack.parameters,
                            "AWS::NoValue": None}
    refs.update({
        "DecoyTable": aws.stack.table_name,
        "DecoyTable.Arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{aws.stack.table_name}",
        "ReplyScheduleGroup": aws.stack.schedule_group,
        "ScheduleDeadLetterQueue.Arn": aws.stack.dlq_arn,
        "SchedulerRole.Arn": aws.env["SCHEDULER_ROLE_ARN"],
        "SenderFunction.Arn": aws.env["SENDER_FUNCTION_ARN"],
        "KillSwitch": aws.env["KILL_SWITCH_PARAMETER"],
    })
    refs.update({f"Condition::{name}": False for name in template.get("Conditions", {})})
    return refs


def role_statements(role: str, refs: dict[str, Any]) -> list[dict[str, Any]]:
    resource = transformed()["Resources"][role]["Properties"]
    found = []
    for policy in resource.get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            resolved = resolve(statement, refs)
            if resolved is not None:
                found.append(resolved)
    return found


# moto authorizes a transaction as one action; AWS item by item (checked on the calls).
MOTO_TRANSACTION_ACTIONS = ["dynamodb:TransactWriteItems", "dynamodb:TransactGetItems"]


def widened(statements: list[dict[str, Any]]) -> dict[str, Any]:
    """The same actions on resource `*`: what moto can enforce."""
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": s["Effect"], "Action": s["Action"], "Resource": "*"} for s in statements]
        + [{"Effect": "Allow", "Action": MOTO_TRANSACTION_ACTIONS, "Resource": "*"}]}


def install(aws: Any, role: str, statements: list[dict[str, Any]]) -> dict[str, str]:
    """Create the role in moto with its widened policy; its assumed-role credentials."""
    iam = boto3.client("iam", region_name=REGION)
    trust = transformed()["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=role, PolicyName="actions",
                        PolicyDocument=json.dumps(widened(statements)))
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=arn, RoleSessionName=role)["Credentials"]
    return {"AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            # botocore reads AWS_SECURITY_TOKEN first (conftest sets both)
            "AWS_SESSION_TOKEN": creds["SessionToken"], "AWS_SECURITY_TOKEN": creds["SessionToken"]}


# IAM authorizes a DynamoDB transaction item by item, with these actions (DynamoDB
# Developer Guide, "Using IAM with DynamoDB transactions").
TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                    "ConditionCheck": "ConditionCheckItem"}


def calls_of(service: str, operation: str, params: dict[str, Any]) -> list[Call]:
    """The IAM actions and ARNs one API call is authorized against."""
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return [Call(f"dynamodb:{TRANSACT_ACTIONS.get(kind, 'GetItem')}",
                     [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{body['TableName']}"])
                for item in params["TransactItems"] for kind, body in item.items()]
    return [Call(f"{service}:{operation}", call_resources(service, params))]


def call_resources(service: str, params: dict[str, Any]) -> list[str]:
    """The ARNs one API call acts on, as IAM would evaluate them."""
    if service == "dynamodb":
        return [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{params['TableName']}"]
    if service == "scheduler":
        group = params.get("GroupName", "default")
        return [f"arn:aws:scheduler:{REGION}:{ACCOUNT}:schedule/{group}/{params['Name']}"]
    if service == "ssm":
        names = params.get("Names") or [params["Name"]]
        return [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{n}" for n in names]
    raise AssertionError(f"no ARN rule for {service}: add one")


def allows(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    return any(s["Effect"] == "Allow"
               and any(fnmatch.fnmatchcase(action, a) for a in as_list(s["Action"]))
               and any(fnmatch.fnmatchcase(resource, r) for r in as_list(s["Resource"]))
               for s in statements)


@pytest.fixture
def iam(aws, monkeypatch):
    """run(role, fn, *args): fn under that role's credentials with IAM enforced."""
    from moto.iam.access_control import IAMRequestBase

    # moto signs its check over the path without the query string, so a request with one
    # (DeleteSchedule's clientToken) fails as SignatureDoesNotMatch: the key and the
    # policies are still checked, the signature is not.
    monkeypatch.setattr(IAMRequestBase, "check_signature", lambda self: None)
    refs = stack_refs(aws)
    roles = {}
    for function, role in ROLES.items():
        statements = role_statements(role, refs)
        roles[function] = RoleUnderTest(role, statements, install(aws, role, statements))

    def run(function: str, handler: Callable[..., Any], *args: Any) -> Any:
        role = roles[function]
        for key, value in role.credentials.items():
            monkeypatch.setenv(key, value)
        _reset_caches()  # a fresh container: clients built with this role's credentials,
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # not the session's cached ones
        try:
            with enforced(), recording(role):
                return handler(*args)
        finally:
            for key in role.credentials:
                monkeypatch.setenv(key, "testing")
            _reset_caches()
            boto3.DEFAULT_SESSION = None

    run.roles = roles  # type: ignore[attr-defined]
    return run


@contextlib.contextmanager
def enforced() -> Iterator[None]:
    """moto authorizes every request from here on, as set_initial_no_auth_action_count(0)
    does around a function (moto/core/responses.py), here around a with-block."""
    from moto import settings
    from moto.core.responses import ActionAuthenticatorMixin

    saved = settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0
    try:
        yield
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count = saved


@contextlib.contextmanager
def recording(role: RoleUnderTest) -> Iterator[None]:
    """Record each AWS call the function's own clients make (built lazily, inside)."""
    from decoy import runtime

    rt = runtime.get()

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        role.calls += calls_of(model.service_model.signing_name, model.name, params)

    for client in (rt.dynamodb, rt.scheduler, rt.ssm.client):
        client.meta.events.register("provide-client-params.*.*", record)
    yield


def functional_path(aws: Any, run: Callable[..., Any], context: Any, twilio_api: Any,
                    at: Callable[[float], float]) -> None:
    """SMS, call, STOP, a failed then retried send, a status callback and a queued STOP,
    each handler under its own role."""
    sms = run("ReceiverFunction", receive, api_event("/sms", sms_form(HARASSER, DECOY)), context)
    assert sms["statusCode"] == 200, sms["body"]
    call = run("ReceiverFunction", receive, api_event("/voice", call_form(CALLER, DECOY)),
               context)
    assert call["statusCode"] == 200, call["body"]
    assert len(schedules(aws)) == 2
    at(NOW + 60)
    stop = run("ReceiverFunction", receive,
               api_event("/sms", sms_form(CALLER, DECOY, body="STOP")), context)
    assert stop["statusCode"] == 200, stop["body"]
    assert len(schedules(aws)) == 1  # the caller's pending reply was deleted
    at(NOW + 3600)
    outcomes = []
    twilio_api.fail_next(500)  # the first try fails: Lambda's async retry sends it
    fire_due(aws.scheduler, aws.stack.schedule_group, NOW + 3600,
             lambda order: outcomes.append(run("SenderFunction", send, order, context)),
             retries=2, pause=lambda _seconds: None)
    assert [o.get("outcome") for o in outcomes] == ["Sent"], outcomes
    assert len(twilio_api.sent) == 1
    status = run("ReceiverFunction", receive,
                 api_event("/status", status_form("delivered"), query="campaign=fr"), context)
    assert status["statusCode"] == 200, status["body"]
    # A STOP DynamoDB could not record, queued in Scheduler (decoy.optout): the sender
    # records it, cancels what is pending and deletes the queued schedule.
    queued = run("SenderFunction", send, {"v": 1, "kind": "opt_out", "sid": new_sid(),
                                          "sender_key": sender_key(HARASSER, HASH_KEY.encode())},
                 context)
    assert queued["outcome"] == "OptOutRecorded", queued

    usage = run("ReceiverFunction", receive, api_event("/usage", usage_form()), context)
    assert usage["statusCode"] == 200, usage["body"]  # the kill switch is now on

    # Level 2 (issue 22): the receiver records the firing and queues the off-air order;
    # the sender takes every number off the air through Twilio, each under its own role.
    twilio_api.own([DECOY])
    level_two = run("ReceiverFunction", receive, api_event(
        "/usage", usage_form("UT" + "c" * 32, category="totalprice", trigger_by="price",
                             value="244", current="251.3"), query="level=2"), context)
    assert level_two["statusCode"] == 200, level_two["body"]
    off_air = []
    fire_due(aws.scheduler, aws.stack.schedule_group, NOW + 3600 + 120,
             lambda order: off_air.append(run("SenderFunction", send, order, context)),
             retries=0, pause=lambda _seconds: None)
    assert len(off_air) == 1, off_air
    assert twilio_api.number(DECOY)["sms_url"] == ""  # off the air


def test_each_role_allows_exactly_what_the_functional_path_does(
        aws, iam, lambda_context, twilio_api, at):
    functional_path(aws, iam, lambda_context, twilio_api, at)  # a missing action fails here

    for role in iam.roles.values():
        outside = [(c.action, r) for c in role.calls for r in c.resources
                   if not allows(role.statements, c.action, r)]
        assert outside == [], f"{role.name} calls outside its policy's resources"
        granted = {a for s in role.statements if s["Effect"] == "Allow"
                   for a in as_list(s["Action"])}
        used = {c.action for c in role.calls} | set(USED_BY_AWS.get(role.name, {}))
        assert granted - used == set(), f"{role.name} grants actions nothing uses"
        assert used - granted == set(), f"{role.name} uses actions it lacks"


def test_a_missing_action_is_refused_by_moto(aws, iam, lambda_context, twilio_api, at):
    iam_client = boto3.client("iam", region_name=REGION)
    role = iam.roles["ReceiverFunction"]
    narrowed = [{**s, "Action": [a for a in as_list(s["Action"])
                                 if a != "scheduler:CreateSchedule"]} for s in role.statements]
    narrowed = [s for s in narrowed if s["Action"]]
    iam_client.put_role_policy(RoleName=role.name, PolicyName="actions",
                               PolicyDocument=json.dumps(widened(narrowed)))

    response = iam("ReceiverFunction", receive, api_event("/sms", sms_form(HARASSER, DECOY)),
                   lambda_context)

    assert response["statusCode"] == 200  # Twilio gets its answer; the reply is lost
    assert schedules(aws) == []
