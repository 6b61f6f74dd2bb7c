"""Shared fixtures: moto AWS built from template.yaml, a fake Twilio API, a Lambda context."""

from __future__ import annotations

import copy
import json
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import responses

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from log_privacy import (  # noqa: E402, F401
    pytest_runtest_makereport,
    pytest_sessionfinish,
    pytest_terminal_summary,
    pytest_testnodedown,
)
from twilio_fakes import ACCOUNT_SID, AUTH_TOKEN, HASH_KEY, FakeTwilioApi  # noqa: E402

from decoy_local.lambda_context import LambdaContext  # noqa: E402
from decoy_local.template import emulated_refs  # noqa: E402

pytest_plugins = ("pytester",)  # tests/unit/test_log_privacy_scan.py runs an inner session


def _share_botocore_loader() -> None:
    """moto gives each test a new boto3 session, and each session re-reads and re-parses the
    service models (JSON, tens of ms per client): share one read-only loader per data path."""
    import botocore.loaders
    import botocore.session

    loaders: dict[str | None, botocore.loaders.Loader] = {}

    def create_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
        if search_path_string not in loaders:
            loaders[search_path_string] = botocore.loaders.create_loader(search_path_string)
        return loaders[search_path_string]

    botocore.session.create_loader = create_loader


_share_botocore_loader()

REGION = "eu-west-3"
NOW = 1_795_424_400.0  # 2026-11-23T09:00:00Z
ACCOUNT = "123456789012"
SENDER_ARN = emulated_refs(REGION)["SenderFunction.Arn"]
ROLE_ARN = emulated_refs(REGION)["SchedulerRole.Arn"]
SECRETS = {"TwilioAccountSidParameter": ACCOUNT_SID, "TwilioAuthTokenParameter": AUTH_TOKEN,
           "SenderHashKeyParameter": HASH_KEY}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/integration starts processes (make run's stack, sam, chromium):
    marked `stack`, which `make test-fast` deselects."""
    integration = ROOT / "tests" / "integration"
    for item in items:
        if integration in item.path.parents:
            item.add_marker(pytest.mark.stack)


def pytest_report_header() -> str:
    """Say which clock this run is on: `make test-shifted` moves it (tests/shifted_clock)."""
    import datetime
    import os

    real = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    shift = os.environ.get("DECOY_CLOCK_SHIFT")
    return f"clock: {real}" + (f" (shifted from DECOY_CLOCK_SHIFT={shift})" if shift else "")


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()



@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing", "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "DecoyTest",
        "POWERTOOLS_DEV": "false",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("CAMPAIGNS_FILE", raising=False)
    # An English terminal unless a test says otherwise: decoy_ops speaks the locale's language.
    for key in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    _reset_caches()
    yield
    _reset_caches()


def _reset_caches() -> None:
    from decoy import outbound, runtime

    runtime.get.cache_clear()
    outbound.twilio_client.cache_clear()
    outbound._send_once.cache_clear()
    for module in ("receiver.app", "sender.app"):
        app = sys.modules.get(module)
        if app is not None:
            for attr in ("schedule_target", "delivery"):
                getattr(app, attr, None) and getattr(app, attr).cache_clear()


@dataclass
class Aws:
    dynamodb: Any
    scheduler: Any
    sqs: Any
    ssm: Any
    stack: Any
    env: dict[str, str]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    """moto with the template's own table, schedule group, DLQ and SSM parameters."""
    from decoy_local.template import mocked_stack

    with mocked_stack(REGION, SECRETS) as (clients, stack, env):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        yield Aws(stack=stack, env=env, **clients)


@pytest.fixture
def twilio_api():
    """The real twilio client talks HTTP; `responses` answers as Twilio's Messages API."""
    from decoy import clock

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        # the handlers' clock (the `at` fixture moves it): date_created as the sender sees it
        yield FakeTwilioApi(mock, now=lambda: clock.now())


@pytest.fixture
def aws_calls():
    """Count AWS API calls made by the functions' own clients (after they are built)."""
    from decoy import runtime

    calls: Counter[str] = Counter()

    def attach() -> Counter[str]:
        rt = runtime.get()
        for client in (rt.dynamodb, rt.scheduler, rt.ssm.client):
            client.meta.events.register(
                "before-call.*.*",
                lambda model, **_: calls.update([f"{model.service_model.service_name}:"
                                                 f"{model.name}"]))
        return calls

    return attach


def schedules(aws: Aws) -> list[dict[str, Any]]:
    group = aws.stack.schedule_group
    names = [s["Name"] for s in aws.scheduler.list_schedules(GroupName=group)["Schedules"]]
    return [aws.scheduler.get_schedule(Name=n, GroupName=group) for n in names]


def schedule_inputs(aws: Aws) -> list[dict[str, Any]]:
    return [json.loads(s["Target"]["Input"]) for s in schedules(aws)]


class TestClock:
    """The one clock every in-process handler, the ops command and powertools idempotency read
    in tests: frozen at NOW until a test moves it, whatever the machine's date and hour."""

    def __init__(self, start: float = NOW):
        self.t = start

    def now(self) -> float:
        return self.t

    def move(self, t: float) -> float:
        self.t = t
        return t


@pytest.fixture(autouse=True)
def test_clock(monkeypatch: pytest.MonkeyPatch) -> TestClock:
    """Autouse: no test lets a handler read the real clock (issue 13: a budget written with
    the real day and read at NOW passed only on the day it was written)."""
    import datetime
    import types

    from aws_lambda_powertools.utilities.idempotency.persistence import base, datarecord, dynamodb

    from decoy import clock

    frozen = TestClock()
    monkeypatch.setattr(clock, "now", frozen.now)

    class ClockDatetime(datetime.datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[override]
            return datetime.datetime.fromtimestamp(frozen.t, tz)

    clock_module = types.SimpleNamespace(**{**vars(datetime), "datetime": ClockDatetime})
    for module in (base, datarecord, dynamodb):
        monkeypatch.setattr(module, "dt", clock_module)
    return frozen


@pytest.fixture
def at(test_clock: TestClock) -> Callable[[float], float]:
    """Move the handlers' clock: at(t) makes clock.now() return t (NOW to start with),
    and powertools idempotency's clock too (its records' expiry)."""
    return test_clock.move


def fire_all(aws: Aws, context: Any, now: float) -> list[dict[str, Any]]:
    """What EventBridge Scheduler does at `now`: invoke the sender for every due schedule."""
    from decoy_local.scheduler import fire_due
    from sender.app import lambda_handler as send

    return fire_due(aws.scheduler, aws.stack.schedule_group, now, lambda o: send(o, context))


def campaign_entry(campaign_id: str, number: str, **fields: Any) -> dict[str, Any]:
    """A French campaign for tests; `fields` override or add fields (reply_from, quotas...)."""
    return {"id": campaign_id, "number": number, "language": "fr-FR",
            "allowed_country_codes": ["33"], "reply": f"Reponse de {campaign_id}.",
            "voicemail": {"say": "Bonjour, laissez un message.", "voice": "Polly.Lea"},
            **fields}


@pytest.fixture
def campaigns_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """campaigns_file(*extra): CAMPAIGNS_FILE = the shipped campaigns plus `extra` ones."""
    from decoy.campaigns import DEFAULT_FILE

    def write(*extra: dict[str, Any]) -> Path:
        document = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
        document["campaigns"] += [copy.deepcopy(c) for c in extra]
        path = tmp_path / "campaigns.json"
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
        monkeypatch.setenv("CAMPAIGNS_FILE", str(path))
        return path

    return write

@pytest.fixture
def aws_faults(aws, monkeypatch: pytest.MonkeyPatch):
    """Faults planned per AWS call on the runtime's clients; botocore's backoff not slept."""
    import types

    import botocore.endpoint
    from aws_faults import AwsFaults

    from decoy import runtime

    sleeps: list[float] = []
    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=sleeps.append))
    rt = runtime.get()
    faults = AwsFaults().attach(rt.dynamodb, rt.scheduler, rt.ssm.client)
    faults.sleeps = sleeps  # type: ignore[attr-defined]
    return faults


@dataclass
class Telemetry:
    """What the functions emitted: EMF metric totals (stdout) and structured log records."""

    capsys: Any
    records: list[dict[str, Any]]

    def metrics(self) -> Counter[str]:
        totals: Counter[str] = Counter()
        for line in self.capsys.readouterr().out.splitlines():
            blob = json.loads(line) if line.startswith('{"_aws"') else None
            if blob and blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service"]]:
                for metric in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
                    totals[metric["Name"]] += int(sum(blob[metric["Name"]]))
        return totals

    def messages(self) -> list[str]:
        return [r["message"] for r in self.records]

    def log(self, message: str) -> dict[str, Any]:
        """The last log record with this message (fails when there is none)."""
        (*_, record) = [r for r in self.records if r["message"] == message]
        return record


@pytest.fixture
def telemetry(capsys):
    """Capture metrics and logs exactly as powertools serialises them (masking included)."""
    import logging

    from decoy.observability import logger

    records: list[dict[str, Any]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(json.loads(self.format(record)))

    handler = Keep()
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    yield Telemetry(capsys, records)
    logger.removeHandler(handler)
