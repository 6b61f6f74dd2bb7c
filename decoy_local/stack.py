"""`make run`: the whole service on this machine, in one process (Ctrl-C stops it).

moto server (AWS, with the template's own resources), the real receiver behind a local
HTTP API, a scheduler loop firing due schedules into the real sender, a fake Twilio API.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import errno
import io
import json
import logging
import os
import secrets
import signal
import sys
import threading
import time
import traceback
import uuid
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import parse_qsl

import boto3

from decoy.phone import mask, mask_all
from decoy_local import ROOT
from decoy_local.console import install as install_console
from decoy_local.fake_twilio import REJECT_BIN_PATH, FakeTwilio, OutboxMessage
from decoy_local.gateway import Gateway, TokenBucket
from decoy_local.lambda_context import LambdaContext
from decoy_local.scheduler import ScaledDelays, SchedulerLoop, fire_due, sqs_dead_letter
from decoy_local.template import (
    function_environment,
    http_api_route_throttling,
    http_api_routes,
    http_api_throttling,
    load_template,
    provision,
    with_parameters,
)

REGION = "eu-west-3"
ACCOUNT = "123456789012"  # moto's default account
DEFAULT_PORT = 3000
DEFAULT_TWILIO_PORT = 3001
DEFAULT_TIME_SCALE = 360.0  # the one-hour reply delay passes in 10 s
# Template defaults, except a small budget so that `make demo`'s flood shows the cost shield.
LOCAL_PARAMETERS = {"DailyReplyBudget": "20"}
STATE_DIR = ROOT / ".local"
FUNCTION_IDS = ("ReceiverFunction", "SenderFunction")


@dataclass
class Options:
    port: int = DEFAULT_PORT
    twilio_port: int = DEFAULT_TWILIO_PORT
    moto_port: int = 0
    time_scale: float = DEFAULT_TIME_SCALE
    parameters: dict[str, str] = field(default_factory=lambda: dict(LOCAL_PARAMETERS))
    state_dir: Path = STATE_DIR
    json_logs: bool = False
    poll_seconds: float = 0.5
    clock_start: float | None = None  # epoch the functions' clock starts at (None: real time)


@dataclass
class Invocation:
    result: Any
    counted: list[str]  # the EMF metric names the invocation emitted (its outcomes)
    campaign: str | None
    error: Exception | None


class Console:
    """Readable lines for a human; numbers are always masked by the caller.

    Its stream may go away (`make run | head`: BrokenPipeError) or stall (a pager nobody
    reads: a write blocks, holding the lock). Then `broken` / `wedged` say so, and the stop
    path never waits on it (see `say`).
    """

    def __init__(self, stream: TextIO):
        self._stream = stream  # kept: handlers run with sys.stdout redirected
        self._lock = threading.Lock()
        self.broken = False  # the reader closed the pipe: nothing more is written
        self.wedged = False  # a write did not finish within `say`'s patience

    def line(self, kind: str, text: str) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        self.write(f"{stamp}  {kind:<8} {text}")

    def write(self, text: str) -> None:
        with self._lock:
            if self.broken:
                return
            try:
                self._stream.write(text + "\n")
                self._stream.flush()
            except BrokenPipeError:
                self.broken = True
                self._silence()

    def say(self, text: str, patience: float = 1.0) -> None:
        """Write, but wait at most `patience` seconds (for the lock and the write): the stop
        path must not hang on a console nobody reads."""
        writer = threading.Thread(target=self.write, args=(text,), daemon=True,
                                  name="console-say")
        writer.start()
        writer.join(patience)
        if writer.is_alive():
            self.wedged = True

    def _silence(self) -> None:
        """Point the dead pipe's descriptor at /dev/null, so that the interpreter's last flush
        does not raise again (Python docs, signal module: "Note on SIGPIPE")."""
        with contextlib.suppress(AttributeError, OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)


class Shutdown:
    """What SIGINT and SIGTERM do. The first asks the main loop to stop; the second forces the
    exit at once (state file removed, best effort). A handler runs in the main thread between
    two bytecodes, maybe while that thread holds a lock (an Event's, the console's, a
    stream's): it only counts and, the second time, exits. It takes no lock (threading.Event
    .set() takes its Condition's lock: with it, `make run` once waited for ever)."""

    def __init__(self, on_force: Callable[[], None] = lambda: None,
                 force_exit: Callable[[int], None] = os._exit):
        self.signals = 0
        self._on_force = on_force
        self._force_exit = force_exit

    def handler(self, signum: int, _frame: Any) -> None:
        self.signals += 1
        if self.signals > 1:
            with contextlib.suppress(Exception):
                self._on_force()
            self._force_exit(128 + signum)

    @property
    def requested(self) -> bool:
        return self.signals > 0

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.handler)


class Functions:
    """The Lambda functions in this process: one invocation at a time, as one container.

    Each invocation's stdout is captured: its EMF metric lines become the local stats
    (the same counts CloudWatch would get), anything else is passed to the console.
    """

    def __init__(self, handlers: dict[str, Callable[[dict, Any], Any]], console: Console):
        self.handlers = handlers
        self._console = console
        self._lock = threading.Lock()
        self.totals: Counter[str] = Counter()
        self.by_campaign: dict[str, Counter[str]] = {}
        self.by_label: dict[str, dict[str, Counter[str]]] = {}  # campaign: label: counts
        self.by_function: dict[str, Counter[str]] = {}  # who counted it: receiver or sender

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Invocation:
        name = f"decoy-{logical_id}"
        context = LambdaContext(function_name=name, aws_request_id=str(uuid.uuid4()),
                                invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:"
                                                     f"function:{name}")
        captured = io.StringIO()
        result, error = None, None
        with self._lock:
            with contextlib.redirect_stdout(captured):
                try:
                    result = self.handlers[logical_id](event, context)
                except Exception as exc:  # reported to the caller, as Lambda reports failures
                    error = exc
            counted, campaign = self._record(captured.getvalue())
            self.by_function.setdefault(logical_id, Counter()).update(counted)
        return Invocation(result, counted, campaign, error)

    def _record(self, output: str) -> tuple[list[str], str | None]:
        counted: list[str] = []
        campaign = None
        for line in output.splitlines():
            emf = _emf(line)
            if emf is None:
                if line.strip():
                    self._console.write(line)
                continue
            record_campaign, label, values = emf
            if record_campaign is None:
                self.totals.update(values)
                counted.extend(values)
            elif label is not None:
                self.by_label.setdefault(record_campaign, {}).setdefault(
                    label, Counter()).update(values)
            else:
                campaign = record_campaign
                self.by_campaign.setdefault(campaign, Counter()).update(values)
        return counted, campaign

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"metrics": dict(self.totals),
                    "campaigns": {c: dict(v) for c, v in self.by_campaign.items()},
                    "labels": {c: {label: dict(v) for label, v in labels.items()}
                               for c, labels in self.by_label.items()},
                    "functions": {f: dict(v) for f, v in self.by_function.items()}}


def _emf(line: str) -> tuple[str | None, str | None, dict[str, float]] | None:
    """(campaign and label dimensions or None, {metric: value}) of an EMF line; None if not
    EMF."""
    if not line.startswith("{"):
        return None
    try:
        record = json.loads(line)
        definitions = record["_aws"]["CloudWatchMetrics"]
    except (ValueError, KeyError, TypeError):
        return None
    values: dict[str, float] = {}
    for definition in definitions:
        for metric in definition["Metrics"]:
            raw = record.get(metric["Name"], 0)
            values[metric["Name"]] = sum(raw) if isinstance(raw, list) else raw
    return record.get("campaign"), record.get("label"), values


class LocalStack:
    """Everything `make run` starts; `start()` then `stop()`."""

    def __init__(self, options: Options, out: TextIO | None = None):
        self.options = options
        self.console = Console(out or sys.stdout)
        self.secrets = {"account_sid": "AC" + secrets.token_hex(16),
                        "auth_token": secrets.token_hex(16),
                        "hash_key": secrets.token_urlsafe(32)}
        offset = 0.0 if options.clock_start is None else options.clock_start - time.time()
        self.clock = ScaledDelays(options.time_scale, offset=offset)
        self._stoppers: list[Callable[[], None]] = []
        self.state_file = options.state_dir / "stack.json"

    # -- start -------------------------------------------------------------------------

    def start(self) -> LocalStack:
        from moto.server import ThreadedMotoServer

        opts = self.options
        opts.state_dir.mkdir(parents=True, exist_ok=True)
        template = with_parameters(load_template(), opts.parameters)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request lines
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=opts.moto_port, verbose=False)
        moto.start()
        self._stoppers.append(moto.stop)
        self.aws_url = "http://{}:{}".format(*moto.get_host_and_port())
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):  # a profile could name real creds
            os.environ.pop(name, None)
        os.environ.update(aws_environment(self.aws_url))
        self.clients = {name: boto3.client(name) for name in ("dynamodb", "scheduler", "sqs",
                                                               "ssm")}
        self.stack = provision(self.clients, {
            "TwilioAccountSidParameter": self.secrets["account_sid"],
            "TwilioAuthTokenParameter": self.secrets["auth_token"],
            "SenderHashKeyParameter": self.secrets["hash_key"]}, template=template)

        with _binding("--twilio-port", opts.twilio_port):
            self.twilio = FakeTwilio(self.secrets["account_sid"], self.secrets["auth_token"],
                                     port=opts.twilio_port, on_message=self._outbox_line)
        self._stoppers.append(self.twilio.stop)
        with _binding("--port", opts.port):
            self.gateway = Gateway(
                {route: self._route_target(logical_id)
                 for route, logical_id in http_api_routes(template).items()},
                port=opts.port, throttle=TokenBucket(*http_api_throttling(template)),
                route_throttles={route: TokenBucket(*limits) for route, limits
                                 in http_api_route_throttling(template).items()},
                controls={"GET /_local/stats": lambda _: (200, self.stats()),
                          "POST /_local/skip": self._skip})
        self._stoppers.append(self.gateway.stop)

        os.environ.update(self._function_environment(template))
        # Lambda's own retries of the sender (Scheduler invokes it asynchronously).
        self.sender_retries = int(template["Resources"]["SenderFunction"]["Properties"]
                                  ["EventInvokeConfig"]["MaximumRetryAttempts"])
        self._use_clock()
        self.functions = Functions(_load_handlers(self._functions_log()), self.console)
        self.runtime = _cold_start()
        self.twilio.own(self.runtime.campaigns.numbers())  # every pool, retired numbers too

        self.twilio.start()
        self.gateway.start()
        self.loop = SchedulerLoop(self._tick, self.clock, opts.poll_seconds,
                                  on_error=self._loop_error)
        self._stoppers.append(self.loop.stop)
        self.loop.start()
        self._write_state()
        self.web = install_console(self.gateway, self.state_file, self.clients)
        self._banner()
        return self

    @property
    def reject_url(self) -> str:
        """Parameter VoiceRejectUrl's local value: the TwiML Bin the fake Twilio serves, so
        that `connect --local --apply` sets the voice fallback by itself."""
        return f"{self.twilio.url}{REJECT_BIN_PATH}"

    def _use_clock(self) -> None:
        """The handlers read this stack's clock (moved by --clock-start), as tests set theirs."""
        from decoy import clock

        real_now = clock.now
        clock.now = self.clock.now
        self._stoppers.append(lambda: setattr(clock, "now", real_now))

    def _function_environment(self, template: dict[str, Any]) -> dict[str, str]:
        refs = {"SenderFunction.Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:decoy-sender",
                "SchedulerRole.Arn": f"arn:aws:iam::{ACCOUNT}:role/decoy-scheduler",
                "DecoyApi": "local", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                "AWS::URLSuffix": "amazonaws.com", "AWS::Partition": "aws"}
        env: dict[str, str] = {}
        for logical_id in FUNCTION_IDS:  # both run in this process: their variables must agree
            for key, value in function_environment(template, self.stack, logical_id,
                                                   refs).items():
                if env.get(key, value) != value:
                    raise RuntimeError(f"{key} differs between the functions: cannot share a "
                                       "process")
                env[key] = value
        env["STATUS_CALLBACK_URL"] = f"{self.gateway.url}/status"
        env["TWILIO_API_BASE_URL"] = self.twilio.url
        env["VOICE_REJECT_URL"] = self.reject_url  # the fake serves the reject-busy Bin
        return env

    def _functions_log(self) -> TextIO | None:
        if self.options.json_logs:
            return None
        log = (self.options.state_dir / "functions.log").open("w", encoding="utf-8")
        self._stoppers.append(log.close)
        return log

    # -- what runs ---------------------------------------------------------------------

    def _route_target(self, logical_id: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def target(event: dict[str, Any]) -> dict[str, Any]:
            invocation = self.functions.invoke(logical_id, event)
            self._webhook_line(event, invocation)
            if invocation.error is not None:
                raise invocation.error
            return invocation.result

        return target

    def _tick(self, now: float) -> None:
        fire_due(self.clients["scheduler"], self.stack.schedule_group, now, self._fire,
                 self._dead_letter, retries=self.sender_retries, due=self.clock.due)

    def _fire(self, order: dict[str, Any]) -> Any:
        invocation = self.functions.invoke("SenderFunction", order)
        outcome = " ".join(invocation.counted) or "-"
        if invocation.error is not None:
            outcome += f" ({type(invocation.error).__name__}: {invocation.error})"
        self.console.line("sender", f"{order.get('campaign', '-'):<12} to   "
                          f"{_mask(str(order.get('to', '')))}  {mask_all(outcome)}")
        if invocation.error is not None:
            raise invocation.error
        return invocation.result

    def _dead_letter(self, order: dict[str, Any], error: Exception) -> None:
        message = mask_all(str(error))
        sqs_dead_letter(self.clients["sqs"], self.stack.dlq_url)(order, error)
        self.console.line("DLQ", f"{order.get('campaign', '-'):<12} to   "
                          f"{_mask(str(order.get('to', '')))}  retries exhausted: {message}")

    def _loop_error(self, error: Exception) -> None:
        self.console.line("error", mask_all("scheduler loop: " + "".join(
            traceback.format_exception_only(error)).strip()))

    def _skip(self, request: Any) -> tuple[int, Any]:
        seconds = float((request or {}).get("seconds", 0))
        if seconds < 0:
            return 400, {"message": "seconds must be >= 0"}
        self.clock.skip(seconds)
        self.loop.wake()
        self.console.line("skip", f"pending schedules: {seconds:g} s of their delay skipped")
        return 200, {"skipped_seconds": seconds}

    def stats(self) -> dict[str, Any]:
        """The functions' metric counts, pending schedules, dead letters, outbox size."""
        paginator = self.clients["scheduler"].get_paginator("list_schedules")
        pending = sum(len(page["Schedules"]) for page in
                      paginator.paginate(GroupName=self.stack.schedule_group))
        attributes = self.clients["sqs"].get_queue_attributes(
            QueueUrl=self.stack.dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
        from decoy.runtime import KILL_SWITCH_ON

        try:
            value = self.clients["ssm"].get_parameter(
                Name=self.stack.parameters["KillSwitchParameter"])["Parameter"]["Value"]
        except Exception:  # missing or unreadable: the functions fail closed (on)
            value = "on"
        kill_switch = "on" if value.strip().lower() in KILL_SWITCH_ON else "off"
        return {**self.functions.stats(), "pending_schedules": pending,
                "kill_switch": kill_switch,
                "dead_letters": int(attributes["Attributes"]["ApproximateNumberOfMessages"]),
                "outbox": len(self.twilio.outbox), "time_scale": self.clock.scale}

    # -- console -----------------------------------------------------------------------

    def _webhook_line(self, event: dict[str, Any], invocation: Invocation) -> None:
        path = event.get("rawPath", "")
        form = _form(event)
        who = (f"to   {_mask(form.get('To', ''))}  {form.get('MessageStatus', '')}"
               if path == "/status" else f"from {_mask(form.get('From', ''))}")
        if invocation.error is not None:
            detail = "500 " + mask_all("".join(traceback.format_exception(invocation.error)))
        else:
            status = invocation.result.get("statusCode", 200)
            detail = f"{status} " + (" ".join(invocation.counted) if status < 400 else
                                     mask_all(str(invocation.result.get("body", ""))))
        self.console.line(path, f"{invocation.campaign or '-':<12} {who}  {detail}")

    def _outbox_line(self, message: OutboxMessage) -> None:
        text = message.body if len(message.body) <= 60 else message.body[:59] + "…"
        status = f"  {message.status} ({message.error_code})" if message.error_code else ""
        self.console.line("outbox", f"{message.campaign or '-':<12} to   {_mask(message.to)}  "
                          f"«{text}» {message.num_segments} segment(s){status}")

    def _banner(self) -> None:
        scale = self.clock.scale
        delay = int(self.stack.parameters["ReplyDelaySeconds"])
        overrides = ", ".join(f"{k}={v}" for k, v in self.options.parameters.items())
        logs = ("on this console" if self.options.json_logs else
                _relative(self.options.state_dir / "functions.log"))
        campaigns = ", ".join(f"{c.id} {c.number}" for c in self.runtime.campaigns)
        w = self.console.write
        w("decoy number: local stack (Ctrl-C stops it)")
        w(f"  webhooks   {self.gateway.url}  POST /sms /voice /status /usage "
          "(API Gateway HTTP API v2)")
        w(f"  console    {self.gateway.url}/  in a browser: text the decoy, watch the outbox")
        w(f"  Twilio     {self.twilio.url}  fake REST API; outbox: GET /_local/outbox, "
          "numbers: GET /_local/numbers")
        w(f"  AWS        {self.aws_url}  moto: {self.stack.table_name}, "
          f"{self.stack.schedule_group}, DLQ")
        if self.clock.offset:
            started = datetime.fromtimestamp(self.clock.now(), UTC).isoformat(timespec="seconds")
            w(f"  clock      the functions' clock reads {started} (--clock-start)")
        w(f"  delays     time scale {scale:g}: the {delay} s reply delay takes "
          f"{delay / scale:g} s (--time-scale)")
        w(f"  campaigns  {campaigns}")
        w(f"  template   {_relative(ROOT / 'template.yaml')} defaults"
          + (f", overridden: {overrides}" if overrides else ""))
        w(f"  logs       functions' JSON logs {logs}; stats: GET /_local/stats")
        w("ready: in another terminal, `make demo` "
          "(or .venv/bin/python -m decoy_local.simulator --help)")

    def _write_state(self) -> None:
        settings = self.runtime.settings
        parameters = self.stack.parameters
        # The deployed stack's Outputs of the same names: what `decoy_ops --local` reads.
        outputs = {"SmsWebhookUrl": f"{self.gateway.url}/sms",
                   "VoiceWebhookUrl": f"{self.gateway.url}/voice",
                   "StatusCallbackUrl": f"{self.gateway.url}/status",
                   "UsageCallbackUrl": f"{self.gateway.url}/usage",
                   "VoiceRejectUrl": self.reject_url,
                   "DailyAnsweredCallBudget": parameters["DailyAnsweredCallBudget"],
                   "TableName": self.stack.table_name,
                   "ScheduleGroupName": self.stack.schedule_group,
                   "DeadLetterQueueUrl": self.stack.dlq_url,
                   "KillSwitchParameterName": parameters["KillSwitchParameter"],
                   "DailyReplyBudget": parameters["DailyReplyBudget"]}
        state = {
            "pid": os.getpid(), "api_url": self.gateway.url, "twilio_url": self.twilio.url,
            "aws_url": self.aws_url, "region": REGION, "time_scale": self.clock.scale,
            "clock_offset": self.clock.offset,
            "reply_delay_seconds": int(self.stack.parameters["ReplyDelaySeconds"]),
            "parameters": parameters, "outputs": outputs,
            "account_sid": self.secrets["account_sid"],
            "auth_token": self.secrets["auth_token"],
            "campaigns": [{"id": c.id, "number": c.number,
                           "numbers": [{"number": n.number, "label": n.label,
                                        "status": n.status} for n in c.numbers],
                           "allowed_country_codes":
                               list(c.allowed_codes(settings.allowed_country_codes))}
                          for c in self.runtime.campaigns],
        }
        # The auth token lets the simulator sign: readable by this user only.
        fd = os.open(self.state_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(state, out, indent=2)
        self._stoppers.append(self._remove_state)

    def _remove_state(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # leave another stack's file alone
            if json.loads(self.state_file.read_text())["pid"] == os.getpid():
                self.state_file.unlink()

    # -- stop --------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop the loop, then the servers, then moto; remove the state file."""
        while self._stoppers:  # last started, first stopped
            stopper = self._stoppers.pop()
            with contextlib.suppress(Exception):  # stop everything else even if one fails
                stopper()


class PortInUse(OSError):
    """A port of the stack is taken (by another `make run`?): says which one."""


@contextlib.contextmanager
def _binding(flag: str, port: int) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        raise PortInUse(f"port {port} ({flag}) is already in use, maybe by another `make run`: "
                        f"stop it, or pass {flag} with another port (0 picks a free one)"
                        ) from None


def _port(text: str) -> int:
    """argparse type: a TCP port, 0 meaning any free one."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port: 0-65535 (0 = any free port)")
    return port


def aws_environment(endpoint: str, region: str = REGION) -> dict[str, str]:
    """Fake credentials and the moto endpoint: nothing here can reach a real AWS account."""
    # moto accepts any credentials; these reach no real account.
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local",  # nosec B105
            "AWS_DEFAULT_REGION": region, "AWS_REGION": region,
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_DEV": "false"}


def _load_handlers(log: TextIO | None) -> dict[str, Callable[[dict, Any], Any]]:
    """Import the real handlers (after the environment is set: powertools reads it)."""
    from decoy.observability import logger
    from receiver.app import lambda_handler as receive
    from sender.app import lambda_handler as send

    if log is not None:
        logger.registered_handler.setStream(log)  # type: ignore[attr-defined]
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    return {"ReceiverFunction": receive, "SenderFunction": send}


def _cold_start() -> Any:
    """Build what a cold start builds, so that a bad setting stops `make run` at once."""
    from decoy import runtime
    from receiver.app import schedule_target
    from sender.app import delivery

    schedule_target()
    delivery()
    return runtime.get()


def _form(event: dict[str, Any]) -> dict[str, str]:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    return dict(parse_qsl(body, keep_blank_values=True))


def _mask(number: str) -> str:
    return mask(number) if number else "-"


def _relative(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)


def _epoch(text: str) -> float:
    """--clock-start's value: epoch seconds, or an ISO 8601 time (UTC unless it says)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither epoch seconds nor an ISO 8601 time such as "
            "2028-02-29T23:59:50Z") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m decoy_local.stack",
        description="Run the decoy number service locally: moto (AWS), the real handlers "
                    "behind a local HTTP API, a scheduler loop and a fake Twilio API.")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT,
                        help=f"webhook (HTTP API) port; 0 = any free port [{DEFAULT_PORT}]")
    parser.add_argument("--twilio-port", type=_port, default=DEFAULT_TWILIO_PORT,
                        help=f"fake Twilio API port [{DEFAULT_TWILIO_PORT}]")
    parser.add_argument("--moto-port", type=_port, default=0, help="moto server port [any free]")
    parser.add_argument("--time-scale", type=float,
                        default=float(os.environ.get("TIME_SCALE", DEFAULT_TIME_SCALE)),
                        help="divide every schedule's delay by this: 360 makes the 1 h reply "
                             "delay last 10 s "
                             f"[env TIME_SCALE or {DEFAULT_TIME_SCALE:g}]")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="override a template Parameter, as samconfig.toml's "
                             "parameter_overrides (repeatable) [" +
                             " ".join(f"{k}={v}" for k, v in LOCAL_PARAMETERS.items()) + "]")
    parser.add_argument("--state-dir", type=Path, default=STATE_DIR,
                        help="where stack.json (for the simulator) and functions.log go "
                             f"[{_relative(STATE_DIR)}]")
    parser.add_argument("--clock-start", type=_epoch, metavar="WHEN",
                        help="start the functions' clock at WHEN (ISO 8601 UTC such as "
                             "2028-02-29T23:59:50Z, or epoch seconds) instead of now; it "
                             "then runs at real speed [now]")
    parser.add_argument("--json-logs", action="store_true",
                        help="print the functions' JSON logs on the console too")
    args = parser.parse_args(argv)
    if args.time_scale <= 0:
        parser.error("--time-scale must be positive")
    parameters = dict(LOCAL_PARAMETERS)
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--param {item}: expected NAME=VALUE")
        parameters[name.strip()] = value.strip()
    return Options(port=args.port, twilio_port=args.twilio_port, moto_port=args.moto_port,
                   time_scale=args.time_scale, parameters=parameters,
                   state_dir=args.state_dir.resolve(), json_logs=args.json_logs,
                   clock_start=args.clock_start)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    stack = LocalStack(options)
    shutdown = Shutdown(on_force=stack._remove_state)
    shutdown.install()
    # A first run after an install compiles every module's bytecode: tell why it takes a while.
    stack.console.write("starting: moto (AWS), the handlers, the scheduler loop, the fake "
                        "Twilio API...")
    try:
        stack.start()
    except PortInUse as exc:
        stack.stop()
        print(f"cannot start: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        stack.stop()
        print(f"cannot start: {exc} (a port in use? another `make run`? see --port, "
              "--twilio-port)", file=sys.stderr)
        return 1
    except ValueError as exc:  # a bad --param, setting or campaign (ConfigError)
        stack.stop()
        print(f"cannot start: {exc}", file=sys.stderr)
        return 2
    except BaseException:
        stack.stop()
        raise
    try:
        # Polled, not an Event: the signal handler must take no lock (see Shutdown). A console
        # whose reader went away stops the stack too, as SIGPIPE would stop a plain command.
        while not (shutdown.requested or stack.console.broken):
            time.sleep(0.2)
        stack.console.say("stopping...")
        started = time.monotonic()
    finally:
        stack.stop()  # whatever happened above: the state file must not outlive the stack
    stack.console.say(f"stopped in {time.monotonic() - started:.1f} s")
    status = 1 if stack.console.broken else 0
    if stack.console.wedged:
        # A thread is still blocked writing to the stalled stream and holds its buffer's
        # lock: the interpreter's final flush would wait for it (or abort). Nothing is left
        # to clean up.
        os._exit(status)
    return status


if __name__ == "__main__":
    sys.exit(main())
