"""ScheduleKmsKeyArn set: the receiver, which calls CreateSchedule, may use that key, nothing more.

EventBridge Scheduler User Guide, "Encryption at rest" > "Managing KMS keys": the principal
that creates a schedule needs kms:DescribeKey, kms:GenerateDataKey and kms:Decrypt; the
schedule's execution role needs kms:Decrypt; grants are not supported. "Using
identity-based policies" > Example: CreateSchedule adds the conditions kms:ViaService =
scheduler.<region>.amazonaws.com and kms:EncryptionContext:aws:scheduler:schedule:arn =
the schedule's ARN.
"""

from __future__ import annotations

from typing import Any

from sam_template import pseudo_parameters, resolve, transformed

KEY = "arn:aws:kms:eu-west-3:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
CONTEXT_KEY = "kms:EncryptionContext:aws:scheduler:schedule:arn"


def role_statements(role: str, key_set: bool) -> list[dict[str, Any]]:
    """The role's statements as deployed with or without a ScheduleKmsKeyArn."""
    template = transformed()
    refs = {**pseudo_parameters(), "ScheduleKmsKeyArn": KEY if key_set else "",
            "ReplyScheduleGroup": "decoy-group", "Condition::HasScheduleKmsKey": key_set,
            "DecoyTable.Arn": "table", "SchedulerRole.Arn": "role", "SenderFunction.Arn": "fn",
            "ScheduleDeadLetterQueue.Arn": "queue", "AWS::NoValue": None,
            **{name: f"/{name}" for name in template["Parameters"] if name.endswith("Parameter")}}
    found = []
    for policy in template["Resources"][role]["Properties"]["Policies"]:
        for statement in policy["PolicyDocument"]["Statement"]:
            resolved = resolve(statement, refs)
            if resolved is not None:
                found.append(resolved)
    return found


def kms_statements(role: str, key_set: bool) -> list[dict[str, Any]]:
    return [s for s in role_statements(role, key_set)
            if any(str(a).startswith("kms:") for a in
                   (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))]


def test_with_a_key_the_schedule_creator_gets_exactly_what_scheduler_documents():
    (statement,) = kms_statements("ReceiverFunctionRole", key_set=True)

    assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:DescribeKey",
                                           "kms:GenerateDataKey"]
    assert statement["Resource"] == KEY
    assert statement["Condition"] == {"StringLike": {
        "kms:ViaService": "scheduler.eu-west-3.amazonaws.com",
        CONTEXT_KEY: "arn:aws:scheduler:eu-west-3:123456789012:schedule/decoy-group/*"}}


def test_without_a_key_no_role_gets_any_kms_permission():
    for role in ("ReceiverFunctionRole", "SenderFunctionRole", "SchedulerRole"):
        assert kms_statements(role, key_set=False) == [], role


def test_with_a_key_the_scheduler_role_may_decrypt_only_this_groups_payloads():
    # "Managing KMS keys": the execution role needs kms:Decrypt to deliver the payload.
    (statement,) = kms_statements("SchedulerRole", key_set=True)
    assert statement["Action"] == "kms:Decrypt" and statement["Resource"] == KEY
    assert statement["Condition"] == {"StringLike": {
        CONTEXT_KEY: "arn:aws:scheduler:eu-west-3:123456789012:schedule/decoy-group/*"}}


def test_the_sender_never_touches_the_key():
    assert kms_statements("SenderFunctionRole", key_set=True) == []
