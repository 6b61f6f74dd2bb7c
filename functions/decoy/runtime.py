"""What a warm container keeps: settings, campaigns, AWS clients, secrets and small caches."""

from __future__ import annotations

import functools
import os
from typing import Any, NamedTuple

import boto3
from botocore.config import Config

from decoy import clock
from decoy.campaigns import Campaigns, load_campaigns
from decoy.observability import logger
from decoy.parameters import ParameterError, ParameterStore
from decoy.settings import Settings
from decoy.shield import ShieldMemory

# One config for every client: fail fast (the webhook must answer quickly), and let
# botocore's standard retry mode handle throttling instead of hand-written loops.
# total_max_attempts counts the first try (botocore's max_attempts counts retries only).
BOTO_CONFIG = Config(connect_timeout=2, read_timeout=3,
                     retries={"mode": "standard", "total_max_attempts": 3})
SECRETS_MAX_AGE = 900
KILL_SWITCH_ON = {"on", "true", "1", "yes"}


class Secrets(NamedTuple):
    """The SSM secrets one invocation needs (never logged)."""

    account_sid: str
    auth_token: str
    hash_key: bytes
    shared_key: str | None = None  # Twilio webhook SharedKey secret, when the option is on


class Runtime:
    """What a warm container keeps between invocations."""

    def __init__(self, settings: Settings, campaigns: Campaigns, dynamodb: Any, scheduler: Any,
                 ssm: ParameterStore) -> None:
        self.settings = settings
        self.campaigns = campaigns
        self.dynamodb = dynamodb
        self.scheduler = scheduler
        self.ssm = ssm
        self.memory = ShieldMemory()  # the shield's, per container
        self.shared_key_absent_until = 0.0  # epoch: the optional SharedKey is known absent

    def secrets(self, *, shared_key: bool = True) -> Secrets:
        """The three secrets (and the optional SharedKey), or ParameterError whatever way
        SSM failed. One GetParameters call, then the cache; an absent SharedKey parameter
        means the option is off, remembered as long as the cache lasts.
        shared_key=False: the caller checks no webhook (the sender), do not read it."""
        s, now = self.settings, clock.now()
        required = (s.account_sid_parameter, s.auth_token_parameter, s.hash_key_parameter)
        optional = s.shared_key_parameter if shared_key and now >= self.shared_key_absent_until \
            else None
        names = [name for name in (*required, optional) if name]
        values = self.ssm.get_many(names, max_age=SECRETS_MAX_AGE, decrypt=True)
        if any(name not in values for name in required):
            raise ParameterError("secrets unavailable: a secret parameter is missing")
        if optional and optional not in values:
            self.shared_key_absent_until = now + SECRETS_MAX_AGE
        return Secrets(
            account_sid=values[s.account_sid_parameter],
            auth_token=values[s.auth_token_parameter],
            hash_key=values[s.hash_key_parameter].encode("utf-8"),
            shared_key=values[optional] if optional and optional in values else None,
        )

    def kill_switch_on(self, max_age: int | None = None, *, fail_closed: bool = True) -> bool:
        """True when the operator stopped everything, or when we cannot tell (fail closed);
        with fail_closed=False an unreadable switch raises ParameterError instead."""
        age = self.settings.kill_switch_cache_seconds if max_age is None else max_age
        try:
            value = self.ssm.get(self.settings.kill_switch_parameter, max_age=age)
        except ParameterError:
            if not fail_closed:
                raise
            logger.warning("kill switch unreadable, failing closed")
            return True
        return value.strip().lower() in KILL_SWITCH_ON


def aws_client(service: str) -> Any:
    """A boto3 client with the shared config (AWS_ENDPOINT_URL points it at moto locally)."""
    return boto3.client(service, config=BOTO_CONFIG)  # type: ignore[call-overload]


def in_lambda() -> bool:
    """True inside the Lambda runtime (not in tests, benches or the local stack)."""
    return "AWS_LAMBDA_FUNCTION_NAME" in os.environ


@functools.cache
def get() -> Runtime:
    """The container's runtime, built on first use: a bad setting fails this cold start."""
    settings, campaigns = Settings.from_env(), load_campaigns()
    campaigns.check_limits(settings.limits)
    return Runtime(
        settings=settings,
        campaigns=campaigns,
        dynamodb=aws_client("dynamodb"),
        scheduler=aws_client("scheduler"),
        ssm=ParameterStore(aws_client("ssm")),
    )
