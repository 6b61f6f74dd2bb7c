"""A deployed stack as `decoy_ops` reads it (CloudFormation outputs on moto), and a runner that
calls `decoy_ops.cli.main` in-process on the handlers' clock: shared by the ops-command tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3

from decoy_ops.cli import main

API = "https://abc123.execute-api.eu-west-3.amazonaws.com"
SMS_URL, VOICE_URL, USAGE_URL = f"{API}/sms", f"{API}/voice", f"{API}/usage"
SECRET_PARAMETERS = ("TwilioAccountSidParameter", "TwilioAuthTokenParameter")


def deploy(aws: Any, extra_outputs: dict[str, str] | None = None,
           extra_parameters: dict[str, dict[str, str]] | None = None) -> dict[str, str]:
    """Create stack `decoy-number` on moto with only the outputs ops reads; return them."""
    outputs = {"TableName": aws.stack.table_name, "DailyReplyBudget": "500",
               "KillSwitchParameterName": aws.env["KILL_SWITCH_PARAMETER"],
               "SmsWebhookUrl": SMS_URL, "VoiceWebhookUrl": VOICE_URL,
               "UsageCallbackUrl": USAGE_URL, "DailyAnsweredCallBudget": "200",
               **(extra_outputs or {})}
    template = {
        "Parameters": {**{name: {"Type": "String"} for name in SECRET_PARAMETERS},
                       **(extra_parameters or {})},
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {k: {"Value": v} for k, v in outputs.items()}}
    boto3.client("cloudformation").create_stack(
        StackName="decoy-number", TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": aws.stack.parameters[k]}
                    for k in SECRET_PARAMETERS])
    return outputs


def runner(capsys: Any, clock: Any) -> Callable[..., tuple[int, str, str]]:
    """`run(*argv)` -> (exit status, stdout, stderr) of `python -m decoy_ops *argv`."""
    def run(*argv: str) -> tuple[int, str, str]:
        status = main(list(argv), now=clock.now)
        out, err = capsys.readouterr()
        return status, out, err
    return run
