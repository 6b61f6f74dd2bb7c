"""Throughput of the local stack: signed webhooks per second over loopback HTTP, end to end.

The stack is `make run`'s (moto server, HTTP API gateway, fake Twilio, the real receiver as
one container), started in this process with the API throttle and the budget lifted. A few
client threads post simulator webhooks; each sender sends 4 messages (1 reply, 3 counted).
The receiver's time is split into signature validation, DynamoDB, Scheduler and the rest.
Run alone: python -m bench.throughput [--webhooks N] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import function_logs
from bench.report import table, title

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "functions") not in sys.path:  # decoy.outcomes, when run as python -m bench
    sys.path.insert(0, str(ROOT / "functions"))

MESSAGES_PER_SENDER = 4
MAX_SECONDS = 300  # hard stop for the sending loop, whatever --webhooks says
OPEN = {"ApiThrottleRateLimit": "100000", "ApiThrottleBurstLimit": "100000",
        "DailyReplyBudget": "10000000", "MaxMessagesPerSender": "5"}


class Clock:
    """Wall time spent in named parts of the receiver (thread-safe accumulators)."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._local = threading.local()

    def add(self, part: str, seconds: float) -> None:
        with self._lock:
            self.seconds[part] += seconds
            self.calls[part] += 1

    def timed(self, part: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.add(part, time.perf_counter() - start)

        return wrapper

    def watch_client(self, client: Any) -> None:
        """AWS call time, per service, from botocore's own before/after events."""
        service = client.meta.service_model.service_name

        def before(**_: Any) -> None:
            self._local.start = time.perf_counter()

        def after(model: Any, **_: Any) -> None:
            elapsed = time.perf_counter() - self._local.start
            self.add(service, elapsed)
            self.add(f"{service}:{model.name}", elapsed)

        client.meta.events.register("before-call.*.*", before)
        client.meta.events.register("after-call.*.*", after)


@contextmanager
def local_stack(state_dir: Path) -> Iterator[Any]:
    from decoy_local.stack import LocalStack, Options

    options = Options(port=0, twilio_port=0, time_scale=1.0, state_dir=state_dir,
                      parameters=dict(OPEN))  # time_scale 1: no reply fires during the run
    with open(os.devnull, "w") as console:
        stack = LocalStack(options, out=console)
        try:
            yield stack.start()
        finally:
            stack.stop()


def instrument(stack: Any, clock: Clock) -> None:
    from twilio.request_validator import RequestValidator

    handlers = stack.functions.handlers
    handlers["ReceiverFunction"] = clock.timed("receiver", handlers["ReceiverFunction"])
    RequestValidator.validate = clock.timed("signature", RequestValidator.validate)
    rt = stack.runtime
    for client in (rt.dynamodb, rt.scheduler, rt.ssm.client):
        clock.watch_client(client)


def workload(n: int, seed: int = 9) -> list[str]:
    """Senders for n webhooks: MESSAGES_PER_SENDER each, in a shuffled (fixed) order."""
    from decoy_local.simulator import mobile_numbers

    senders = mobile_numbers("33", max(1, n // MESSAGES_PER_SENDER))
    order = [s for s in senders for _ in range(MESSAGES_PER_SENDER)][:n]
    random.Random(seed).shuffle(order)
    return order


def blast(sim: Any, senders: list[str], threads: int) -> tuple[float, list[float], Counter[int]]:
    """Post every webhook from `threads` clients; wall time, latencies and HTTP statuses."""
    from decoy_local.simulator import send_sms

    decoy = sim.decoy_number()
    queue = iter(senders)
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    deadline = time.monotonic() + MAX_SECONDS

    def client() -> None:
        while time.monotonic() < deadline:
            with lock:
                sender = next(queue, None)
            if sender is None:
                return
            start = time.perf_counter()
            answer = send_sms(sim, sender, decoy)
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                statuses[answer.status] += 1

    workers = [threading.Thread(target=client, name=f"client-{i}") for i in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start, latencies, statuses


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--webhooks", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args(argv)
    from decoy.outcomes import RECEIVER_OUTCOMES
    from decoy_local.simulator import LocalStack as Simulated

    clock = Clock()
    with tempfile.TemporaryDirectory(prefix="decoy-bench-") as tmp:
        with local_stack(Path(tmp)) as stack:
            instrument(stack, clock)
            sim = Simulated.load(stack.state_file)
            wall, latencies, statuses = blast(sim, workload(args.webhooks), args.threads)
            outcomes = {k: int(v) for k, v in stack.functions.stats()["metrics"].items()
                        if k in RECEIVER_OUTCOMES}
        logs = function_logs.kept(Path(tmp) / "functions.log", "throughput")
    done = len(latencies)
    title(f"Throughput of the local stack: {done} webhooks over loopback HTTP, "
          f"{args.threads} client threads, one receiver container")
    latencies.sort()
    table(["webhooks/s", "p50 ms", "p95 ms", "HTTP statuses", "outcomes"], [[
        f"{done / wall:.0f}", f"{statistics.median(latencies) * 1000:.1f}",
        f"{latencies[int(0.95 * (done - 1))] * 1000:.1f}",
        ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())),
        ", ".join(f"{k} {v}" for k, v in outcomes.items())]])
    receiver = clock.seconds["receiver"]
    parts = [("signature validation", clock.seconds["signature"]),
             ("DynamoDB (calls, incl. moto)", clock.seconds["dynamodb"]),
             ("Scheduler (calls, incl. moto)", clock.seconds["scheduler"]),
             ("SSM (kill switch, secrets)", clock.seconds["ssm"])]
    rest = receiver - sum(seconds for _, seconds in parts)
    print()
    table(["part of the receiver", "ms per webhook", "share of receiver time"],
          [[name, f"{seconds / done * 1000:.2f}", f"{seconds / receiver:.1%}"]
           for name, seconds in [*parts, ("the rest (parsing, shield logic, logs, EMF)",
                                          rest)]])
    operations = sorted((name, seconds) for name, seconds in clock.seconds.items()
                        if ":" in name)
    print("\nper AWS operation (ms per call): " + ", ".join(
        f"{name} {seconds / clock.calls[name] * 1000:.1f}" for name, seconds in operations))
    print(f"receiver busy {receiver / wall:.0%} of the wall time; outside it (HTTP client, "
          f"gateway, event building, waiting for the one container): "
          f"{(sum(latencies) - receiver) / done * 1000:.2f} ms per webhook")
    print(logs.note())


if __name__ == "__main__":
    main()
