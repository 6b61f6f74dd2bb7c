"""The flood: signed webhooks from several threads through the real handlers on moto.

Shared by bench/flood.py (100,000 webhooks) and tests/functional/test_flood.py (a few
thousand). Each worker thread is one emulated Lambda container with its own Runtime
(its own caches), several threads may share a container, and the AWS state is shared,
as in production. Test doubles come from tests/twilio_fakes.py (on sys.path).
"""

from __future__ import annotations

import contextlib
import itertools
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from twilio_fakes import api_event, sms_form

from decoy import runtime
from decoy.outbound import SendInProgress
from decoy_local.scheduler import fire_due

HEAVY_SENDER = "+33700000001"
# Senders the SMS-pumping filter must refuse: foreign mobiles, a French landline,
# short codes and alphanumeric sender IDs.
DISALLOWED_SHAPES = ("+447700{:06d}", "+2348{:09d}", "+79{:09d}", "+331{:08d}",
                     "3{:04d}", "PROMO{:d}")
FORGED_TOKEN = "not-the-auth-token"  # noqa: S105 (deliberately wrong)


@dataclass(frozen=True)
class FloodMix:
    """What arrives: one heavy sender, many senders a few times, forgeries and retries.

    The shares replace arrivals, so the total stays heavy + senders x messages_per_sender.
    """

    heavy_messages: int = 20_000
    senders: int = 20_000
    messages_per_sender: int = 4
    disallowed_share: float = 0.10  # of the distinct senders
    forged_share: float = 0.05  # of the arrivals: same form, signed with the wrong token
    retry_share: float = 0.05  # of the arrivals: Twilio redelivers an earlier MessageSid
    seed: int = 2017

    @property
    def total(self) -> int:
        return self.heavy_messages + self.senders * self.messages_per_sender


@dataclass(frozen=True)
class Arrival:
    """One webhook: who sent it, its MessageSid, and how it is signed."""

    sender: str
    sid: str
    forged: bool = False
    retry: bool = False


@dataclass(frozen=True)
class Plan:
    arrivals: list[Arrival]
    eligible_senders: int  # allowed numbers with at least one genuinely signed webhook
    composition: Counter[str]


def plan(mix: FloodMix) -> Plan:
    """A deterministic, shuffled flood for `mix`; counts what the shield should let through."""
    rng = random.Random(mix.seed)
    sids = (f"SM{n:032x}" for n in itertools.count(0x5EED0000))
    disallowed = round(mix.senders * mix.disallowed_share)
    allowed = [f"+336{i:08d}" for i in range(mix.senders - disallowed)]
    refused = [DISALLOWED_SHAPES[i % len(DISALLOWED_SHAPES)].format(i) for i in range(disallowed)]
    arrivals = [Arrival(HEAVY_SENDER, next(sids)) for _ in range(mix.heavy_messages)]
    arrivals += [Arrival(sender, next(sids)) for sender in allowed + refused
                 for _ in range(mix.messages_per_sender)]
    rng.shuffle(arrivals)
    composition: Counter[str] = Counter()
    for i, arrival in enumerate(arrivals):
        roll = rng.random()
        if roll < mix.forged_share:
            arrivals[i] = Arrival(arrival.sender, arrival.sid, forged=True)
            composition["forged"] += 1
        elif roll < mix.forged_share + mix.retry_share and i > 0:
            earlier = arrivals[rng.randrange(i)]
            if not earlier.forged:  # Twilio only redelivers what it really sent
                arrivals[i] = Arrival(earlier.sender, earlier.sid, retry=True)
                composition["retry"] += 1
    allowed_set = {HEAVY_SENDER, *allowed}
    for arrival in arrivals:
        if not (arrival.forged or arrival.retry):
            composition["heavy" if arrival.sender == HEAVY_SENDER else
                        "allowed" if arrival.sender in allowed_set else "disallowed"] += 1
    eligible = {a.sender for a in arrivals if a.sender in allowed_set and not a.forged}
    return Plan(arrivals=arrivals, eligible_senders=len(eligible), composition=composition)


@contextlib.contextmanager
def serialized_moto() -> Iterator[None]:
    """Process one moto request at a time, as DynamoDB serializes writes to an item.

    moto has no locks: two threads could both pass a condition, and a failed
    TransactWriteItems restores a copy of the whole table over concurrent writes.
    """
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__
    lock = threading.Lock()

    def locked(self: BotocoreStubber, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    BotocoreStubber.__call__ = locked  # type: ignore[method-assign]
    try:
        yield
    finally:
        BotocoreStubber.__call__ = original  # type: ignore[method-assign]


class AwsCalls:
    """Counts the AWS API calls the functions' clients make, per phase, from any thread."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def attach(self, rt: runtime.Runtime) -> None:
        for client in (rt.dynamodb, rt.scheduler, rt.ssm.client):
            client.meta.events.register("before-call.*.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.counts[f"{model.service_model.service_name}:{model.name}"] += 1

    def take(self) -> Counter[str]:
        """The counts so far, then start again from zero."""
        with self._lock:
            counts, self.counts = self.counts, Counter()
        return counts


@contextlib.contextmanager
def containers(count: int, calls: AwsCalls) -> Iterator[list[runtime.Runtime]]:
    """`count` emulated Lambda containers; each thread is pinned to one, round robin.

    runtime.get() is the container boundary: a warm container keeps one Runtime.
    Runtimes are built here, in one thread (boto3's default session is not thread-safe).
    """
    runtimes = [runtime.get.__wrapped__() for _ in range(count)]
    for rt in runtimes:
        calls.attach(rt)
    pinned = threading.local()
    turns = itertools.count()
    turns_lock = threading.Lock()

    def get() -> runtime.Runtime:
        rt = getattr(pinned, "runtime", None)
        if rt is None:
            with turns_lock:
                rt = pinned.runtime = runtimes[next(turns) % count]
        return rt

    original = runtime.get
    runtime.get = get  # type: ignore[assignment]
    try:
        yield runtimes
    finally:
        runtime.get = original


@contextlib.contextmanager
def emulated_stack(env: dict[str, str]) -> Iterator[Any]:
    """moto with the template's resources and the functions' environment (as tests' `aws`)."""
    import os

    from conftest import REGION, SECRETS, Aws

    from decoy_local.template import mocked_stack

    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    with mocked_stack(REGION, SECRETS) as (clients, stack, functions_env):
        functions_env.update(env)
        os.environ.update(functions_env)
        yield Aws(stack=stack, env=functions_env, **clients)


@dataclass
class Phase:
    seconds: float
    outcomes: Counter[Any]
    aws_calls: Counter[str]

    def calls_per(self, unit: int, service: str) -> float:
        total = sum(n for name, n in self.aws_calls.items() if name.startswith(f"{service}:"))
        return total / unit if unit else 0.0


def receive_all(arrivals: list[Arrival], receive: Callable[[dict, Any], dict], to: str,
                context: Any, threads: int, calls: AwsCalls) -> Phase:
    """Deliver every arrival through `receive` from `threads` threads; count HTTP statuses."""

    def work(part: list[Arrival]) -> Counter[int]:
        statuses: Counter[int] = Counter()
        for arrival in part:
            form = sms_form(arrival.sender, to, sid=arrival.sid)
            token = {"token": FORGED_TOKEN} if arrival.forged else {}
            statuses[receive(api_event("/sms", form, **token), context)["statusCode"]] += 1
        return statuses

    calls.take()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="receiver") as pool:
        parts = list(pool.map(work, [arrivals[i::threads] for i in range(threads)]))
    seconds = time.perf_counter() - started
    return Phase(seconds, sum(parts, Counter()), calls.take())


def fire_all(scheduler: Any, group: str, now: float, send: Callable[[dict, Any], dict],
             context: Any, calls: AwsCalls, deliveries: int = 2) -> Phase:
    """Fire every due schedule, invoking the sender `deliveries` times at once (at-least-once)."""
    outcomes: Counter[str] = Counter()

    def deliver(order: dict) -> str:
        try:
            return send(order, context)["outcome"]
        except SendInProgress:  # raised so that Lambda retries it later: it then finds it done
            return "InProgress"

    def invoke(order: dict) -> None:
        with ThreadPoolExecutor(max_workers=deliveries, thread_name_prefix="sender") as pool:
            for outcome in pool.map(lambda _: deliver(order), range(deliveries)):
                outcomes[outcome] += 1

    calls.take()
    started = time.perf_counter()
    fire_due(scheduler, group, now, invoke)
    return Phase(time.perf_counter() - started, outcomes, calls.take())


def count_schedules(scheduler: Any, group: str) -> int:
    pages = scheduler.get_paginator("list_schedules").paginate(GroupName=group)
    return sum(len(page["Schedules"]) for page in pages)


@dataclass
class FloodReport:
    mix: FloodMix
    plan: Plan
    budget: int
    threads: int
    containers: int
    received: Phase
    scheduled: int
    fired: Phase
    sent: list[dict[str, str]] = field(default_factory=list)

    @property
    def expected_scheduled(self) -> int:
        return min(self.budget, self.plan.eligible_senders)

    @property
    def duplicates_sent(self) -> int:
        return len(self.sent) - len({m["To"] for m in self.sent})

    def violations(self) -> list[str]:
        """The invariants the cost shield promises; empty when they all hold."""
        found = []
        if self.scheduled != self.expected_scheduled:
            found.append(f"scheduled {self.scheduled} != min(budget, eligible senders) "
                         f"{self.expected_scheduled}")
        if len(self.sent) != self.scheduled:
            found.append(f"sent {len(self.sent)} != scheduled {self.scheduled}")
        if self.duplicates_sent:
            found.append(f"{self.duplicates_sent} duplicate replies sent")
        forged = self.plan.composition["forged"]
        if self.received.outcomes[403] != forged:
            found.append(f"{self.received.outcomes[403]} answered 403 for {forged} forged")
        if sum(self.received.outcomes.values()) != len(self.plan.arrivals):
            found.append("some webhooks got no answer")
        if set(self.received.outcomes) - {200, 403}:
            found.append(f"unexpected statuses {dict(self.received.outcomes)}")
        return found


def run(mix: FloodMix, *, scheduler: Any, group: str, to: str, now: float, delay: int,
        budget: int, receive: Callable, send: Callable, context: Any, sent: list,
        threads: int, container_count: int) -> FloodReport:
    """The whole flood on an emulated stack: receive everything, then fire every schedule.

    Needs moto active, the functions' environment set, decoy.clock fixed at `now` and a
    fake Twilio API whose outbox is `sent`.
    """
    flood = plan(mix)
    calls = AwsCalls()
    with serialized_moto(), containers(container_count, calls):
        received = receive_all(flood.arrivals, receive, to, context, threads, calls)
        scheduled = count_schedules(scheduler, group)
        fired = fire_all(scheduler, group, now + delay, send, context, calls)
    return FloodReport(mix=mix, plan=flood, budget=budget, threads=threads,
                       containers=container_count, received=received, scheduled=scheduled,
                       fired=fired, sent=list(sent))
