"""Warm path: handler CPU time and AWS calls per webhook, by outcome, on moto (in process).

CPU is the receiver's own (parsing, signature, shield logic, botocore serialising and parsing),
with moto's emulation of each AWS call subtracted. Logs are written, to a file named at the end.
Run alone: python -m bench.warm_path [--senders N]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import function_logs
from bench.report import against, table, title

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT / "tests", ROOT / "functions", ROOT):  # the handlers and the test doubles
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from twilio_fakes import ACCOUNT_SID, AUTH_TOKEN, HASH_KEY, api_event, sms_form  # noqa: E402

from decoy.outcomes import Metric, Outcome  # noqa: E402
from decoy_local.lambda_context import LambdaContext  # noqa: E402

REGION = "eu-west-3"
DECOY = "+33939000001"
FORGED_TOKEN = "not-the-auth-token"  # noqa: S105
# Target AWS calls per webhook (issue 9).
TARGETS = {Outcome.Scheduled: "<= 2", Outcome.Duplicate: "<= 1", Outcome.BlockedQuota: "<= 1",
           Outcome.BlockedBudget: "0", Metric.ForgedSignature: "0"}
BASE_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
            "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_NAMESPACE": "DecoyBench"}


@dataclass
class Sample:
    cpu: list[float] = field(default_factory=list)
    calls: list[Counter[str]] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)


CONTEXT = LambdaContext(function_name="receiver")


@contextlib.contextmanager
def moto_stack(env: dict[str, str]) -> Iterator[dict[str, Any]]:
    """moto with the template's table, schedule group, DLQ and SSM, and the functions' env."""
    from decoy_local.template import mocked_stack

    os.environ.update({**BASE_ENV, **env})
    secrets = {"TwilioAccountSidParameter": ACCOUNT_SID, "TwilioAuthTokenParameter": AUTH_TOKEN,
               "SenderHashKeyParameter": HASH_KEY}
    with mocked_stack(REGION, secrets) as (clients, stack, functions_env):
        os.environ.update(functions_env)
        os.environ.update(env)
        yield {"clients": clients, "stack": stack}


class Meter:
    """Counts the receiver's AWS calls and the CPU moto spends emulating them."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.emulation_cpu = 0.0
        from moto.core.botocore_stubber import BotocoreStubber

        original = BotocoreStubber.__call__
        meter = self

        def timed(stubber: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return original(stubber, *args, **kwargs)
            finally:
                meter.emulation_cpu += time.process_time() - start

        BotocoreStubber.__call__ = timed  # type: ignore[method-assign]

    def attach(self, rt: Any) -> None:
        for client in (rt.dynamodb, rt.scheduler, rt.ssm.client):
            client.meta.events.register(
                "before-call.*.*", lambda model, **_: self.calls.update(
                    [f"{model.service_model.service_name}:{model.name}"]))


def senders(n: int, start: int) -> list[str]:
    return [f"+336{start + i:08d}" for i in range(n)]


class Outcomes(logging.Handler):
    """Reads each webhook's outcome from the receiver's own log line."""

    def __init__(self) -> None:
        super().__init__()
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.last = getattr(record, "outcome", None) or self.last


def run(receive: Callable[..., dict], meter: Meter, outcomes: Outcomes, event: dict,
        samples: dict[str, Sample], scenario: str) -> str:
    """One webhook through the handler; file its CPU and AWS calls under `scenario`."""
    meter.calls.clear()
    outcomes.last = Metric.ForgedSignature  # the only path that logs no outcome
    emulation = meter.emulation_cpu
    start = time.process_time()
    receive(event, CONTEXT)
    cpu = time.process_time() - start - (meter.emulation_cpu - emulation)
    sample = samples.setdefault(scenario, Sample())
    sample.cpu.append(cpu)
    sample.calls.append(Counter(meter.calls))
    sample.outcomes[outcomes.last] += 1
    return outcomes.last


def fresh_receiver(meter: Meter) -> Callable[..., dict]:
    """A new container: empty caches, clients built on the first webhook."""
    from decoy import runtime
    from receiver import app

    runtime.get.cache_clear()
    app.schedule_target.cache_clear()
    rt = runtime.get()
    rt.secrets(), rt.kill_switch_on()  # warm: read once per container (then cached)
    meter.attach(rt)
    return app.lambda_handler


def shield_open(n: int, meter: Meter, outcomes: Outcomes, samples: dict[str, Sample]) -> None:
    from decoy import runtime, shield

    with moto_stack({"DAILY_REPLY_BUDGET": str(10 * n)}):
        receive = fresh_receiver(meter)

        def each(forms: list[dict[str, str]], scenario: str, **kw: Any) -> None:
            for form in forms:
                run(receive, meter, outcomes, api_event("/sms", form, **kw), samples, scenario)

        numbers = senders(n, 0)
        firsts = [sms_form(s, DECOY) for s in numbers]
        seconds = [sms_form(s, DECOY) for s in numbers]
        each(firsts, "1st message: reply scheduled")
        each(seconds, "2nd message: counted, no reply")
        each(seconds, "Twilio retry of the 2nd message")
        each(firsts, "Twilio retry of the 1st message")
        for _ in range(3):
            each([sms_form(s, DECOY) for s in numbers], "3rd-5th message: counted")
        each([sms_form(s, DECOY) for s in numbers], "6th message: over quota, first refusal")
        each([sms_form(s, DECOY) for s in numbers], "7th+ message: over quota, known")
        each([sms_form(s, DECOY) for s in numbers], "forged signature", token=FORGED_TOKEN)
        others = senders(n, n)
        each([sms_form(s, DECOY) for s in others], "1st message: reply scheduled")
        rt = runtime.get()
        rt.memory = shield.ShieldMemory()
        each([sms_form(s, DECOY) for s in others], "2nd message, on another container")


def budget_spent(n: int, meter: Meter, outcomes: Outcomes, samples: dict[str, Sample]) -> None:
    from decoy.clock import now, utc_day

    budget = 10
    with moto_stack({"DAILY_REPLY_BUDGET": str(budget)}) as aws:
        aws["clients"]["dynamodb"].put_item(
            TableName=os.environ["TABLE_NAME"],
            Item={"pk": {"S": f"budget#{utc_day(now())}"}, "used": {"N": str(budget)}})
        receive = fresh_receiver(meter)
        numbers = senders(n + 1, 10 * n)
        run(receive, meter, outcomes, api_event("/sms", sms_form(numbers[0], DECOY)), samples,
            "new sender, budget spent: first refusal")
        for number in numbers[1:]:
            run(receive, meter, outcomes, api_event("/sms", sms_form(number, DECOY)), samples,
                "new sender, budget spent: known")


def calls_summary(calls: list[Counter[str]]) -> tuple[float, int, str]:
    total: Counter[str] = Counter()
    for c in calls:
        total.update(c)
    mean = sum(total.values()) / len(calls)
    worst = max(sum(c.values()) for c in calls)
    kinds = ", ".join(f"{name.split(':')[1]} {count / len(calls):.2g}"
                      for name, count in total.most_common())
    return mean, worst, kinds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=100, help="senders per scenario")
    args = parser.parse_args(argv)
    meter, outcomes = Meter(), Outcomes()
    from decoy.observability import logger

    logger.addHandler(outcomes)
    samples: dict[str, Sample] = {}
    with function_logs.captured("warm-path") as logs:  # still serialised and written
        shield_open(args.senders, meter, outcomes, samples)
        budget_spent(args.senders, meter, outcomes, samples)
    forged = statistics.median(samples["forged signature"].cpu)
    title(f"Warm path: {args.senders} senders per scenario, receiver CPU per webhook "
          f"(moto's emulation subtracted), AWS calls per webhook")
    rows = []
    for scenario, sample in samples.items():
        mean, worst, kinds = calls_summary(sample.calls)
        outcome = "/".join(sample.outcomes)
        cpu = statistics.median(sample.cpu)
        rows.append([scenario, outcome, len(sample.cpu), f"{mean:.2f}", worst,
                     against(TARGETS.get(outcome, ""), worst), f"{cpu * 1e6:.0f}",
                     f"{cpu / forged:.2f}x", kinds])
    table(["scenario", "outcome", "n", "calls", "max", "target", "CPU us", "x forged",
           "calls by API (per webhook)"], rows)
    print(logs.note())


if __name__ == "__main__":
    main()
