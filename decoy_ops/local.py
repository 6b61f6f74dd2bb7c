"""--local: operate the stack `make run` started, named by its state file (.local/stack.json)."""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from decoy_local import simulator
from decoy_local.simulator import STATE_FILE, LocalStack, StackUnavailable
from decoy_local.stack import aws_environment
from decoy_ops.stack import OpsError, Stack

# A profile or real Twilio credentials in the shell must not override the local stack's own.
NOT_LOCAL = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")


def load(path: Path = STATE_FILE) -> LocalStack:
    """The running local stack; OpsError when the file is missing or its stack has stopped."""
    try:
        running = LocalStack.load(path)
    except StackUnavailable as exc:
        raise OpsError(str(exc)) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:  # not a stack.json of this version
        raise OpsError(f"{path}: not a local stack's state file ({exc!r}): restart `make run`"
                       ) from None
    try:  # a live pid is not enough: it may have been reused after a kill -9
        local_stats(running)
    except StackUnavailable:
        raise OpsError(f"{path} is stale: nothing answers at {running.api_url} (the stack that "
                       "wrote it has stopped): start it again with `make run`") from None
    return running


def local_stats(running: LocalStack) -> dict[str, Any]:
    """GET /_local/stats: the functions' counts since the stack started, the kill switch."""
    return simulator.stats(running)


def use(local: LocalStack, path: Path,
        environ: MutableMapping[str, str] = os.environ) -> Stack:
    """Point AWS clients at its moto (fake credentials); its names stand in for CloudFormation."""
    for name in NOT_LOCAL:
        environ.pop(name, None)
    environ.update(aws_environment(local.aws_url, local.region))
    return Stack.known(str(path), local.outputs, local.parameters)
