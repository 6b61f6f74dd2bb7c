"""template.yaml hardening: scoped IAM, encryption at rest, and where failed sends end up."""

from __future__ import annotations

from typing import Any

import pytest

from decoy_local.template import load_template

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]


def statements() -> list[tuple[str, dict[str, Any]]]:
    """Every inline policy statement, with the resource that declares it."""
    found = []
    for name, resource in RESOURCES.items():
        props = resource.get("Properties", {})
        documents = [p.get("PolicyDocument", p) for p in props.get("Policies", [])
                     if isinstance(p, dict)]
        documents += [props[k] for k in ("PolicyDocument", "AssumeRolePolicyDocument")
                      if k in props]
        for document in documents:
            for statement in document["Statement"]:
                if isinstance(statement, dict) and "Fn::If" in statement:
                    statement = statement["Fn::If"][1]  # the branch that adds a statement
                found.append((name, statement))
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize(("resource", "statement"), statements(),
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(statements())])
def test_every_allow_names_its_actions_and_resources(resource, statement):
    if statement["Effect"] == "Deny":
        return  # a deny may be broad: DenyInsecureTransport covers sqs:* for everyone
    for action in as_list(statement["Action"]):
        assert "*" not in action, f"{resource}: {action}"
    for arn in as_list(statement.get("Resource", [])):
        assert arn != "*", f"{resource}: Resource *"


def test_scheduler_role_can_only_be_assumed_for_this_stacks_schedule_group():
    (trust,) = RESOURCES["SchedulerRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]
    assert "${ReplyScheduleGroup}" in trust["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"]


def test_state_is_encrypted_at_rest():
    assert RESOURCES["DecoyTable"]["Properties"]["SSESpecification"] == {"SSEEnabled": True}
    assert RESOURCES["ScheduleDeadLetterQueue"]["Properties"]["SqsManagedSseEnabled"] is True


def test_sender_failures_after_lambda_retries_reach_the_dead_letter_queue():
    # Scheduler invokes Lambda asynchronously: the function's own DLQ gets what fails for good.
    sender = RESOURCES["SenderFunction"]["Properties"]
    assert sender["DeadLetterQueue"] == {
        "Type": "SQS", "TargetArn": {"Fn::GetAtt": "ScheduleDeadLetterQueue.Arn"}}
    assert sender["EventInvokeConfig"]["MaximumRetryAttempts"] == 2


def test_every_checkov_skip_says_why():
    for name, resource in RESOURCES.items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert skip["id"].startswith("CKV_") and len(skip["comment"]) > 40, name


def test_the_receiver_may_write_the_kill_switch_and_no_other_parameter():
    writes = [s for name, s in statements() if name == "ReceiverFunction"
              and "ssm:PutParameter" in as_list(s["Action"])]
    (statement,) = writes
    assert as_list(statement["Action"]) == ["ssm:PutParameter"]
    (arn,) = as_list(statement["Resource"])
    assert arn["Fn::Sub"].endswith(":parameter${KillSwitchParameter}")
