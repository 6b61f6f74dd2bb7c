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


# -- Calls, and everything billed: a call flood and the 2017 replay -------------------------
DAY = 86_400
HOUR = 3_600


@dataclass(frozen=True)
class Event:
    """One webhook at a point of the simulated clock: an SMS or a call."""

    kind: str  # "sms" | "call"
    sender: str
    sid: str
    at: float


def _sids(prefix: str, start: int) -> Iterator[str]:
    return (f"{prefix}{n:032x}" for n in itertools.count(start))


HEAVY_CALLER = "+33700000099"


def one_caller(calls: int, start: float, caller: str = HEAVY_CALLER) -> list[Event]:
    """One number calling `calls` times, one call every 2 seconds."""
    sids = _sids("CA", 0xCA110000)
    return [Event("call", caller, next(sids), start + 2 * i) for i in range(calls)]


def many_callers(callers: int, start: float) -> list[Event]:
    """`callers` distinct allowed numbers, one call each, within an hour."""
    sids = _sids("CA", 0xCA220000)
    return [Event("call", f"+336{i:08d}", next(sids), start + i * HOUR / callers)
            for i in range(callers)]


@dataclass(frozen=True)
class Profile2017:
    """The French number at launch, Oct 2017: "composé plus de 25 000 fois", 17,400 SMS,
    over 72 hours, from a mix of a few heavy numbers and thousands of curious ones."""

    calls: int = 25_000
    sms: int = 17_400
    hours: int = 72
    heavy_numbers: int = 40  # each calls and texts hundreds of times
    heavy_share: float = 0.35  # of all events
    foreign_share: float = 0.05  # numbers outside the allow-list (pumping, foreign curious)
    burst_share: float = 0.6  # events inside bursts (after a press article, a share)
    bursts: int = 9
    burst_minutes: int = 40
    seed: int = 2017
    scale: float = 1.0  # < 1 samples the profile (the output says so)


def replay_2017(profile: Profile2017, start: float) -> list[Event]:
    """The 2017 profile as timed events (simulated clock), sorted by time."""
    rng = random.Random(profile.seed)
    span = profile.hours * HOUR
    burst_starts = [rng.uniform(0, span - profile.burst_minutes * 60)
                    for _ in range(profile.bursts)]
    heavy = [f"+337{i:08d}" for i in range(profile.heavy_numbers)]
    sids = {"sms": _sids("SM", 0x20170000), "call": _sids("CA", 0x20170000)}
    foreign = itertools.count()
    curious = itertools.count()

    def when() -> float:
        if rng.random() < profile.burst_share:
            return rng.choice(burst_starts) + rng.uniform(0, profile.burst_minutes * 60)
        return rng.uniform(0, span)

    def who() -> str:
        roll = rng.random()
        if roll < profile.heavy_share:
            return rng.choice(heavy)
        if roll < profile.heavy_share + profile.foreign_share:
            return DISALLOWED_SHAPES[next(foreign) % 3].format(next(foreign))
        # Curious people: most write or call once or twice (a pool smaller than the events).
        return f"+336{rng.randrange(max(1, int(next(curious) * 0.6) + 1)):08d}"

    events = [Event(kind, who(), next(sids[kind]), start + when())
              for kind, n in (("call", profile.calls), ("sms", profile.sms))
              for _ in range(round(n * profile.scale))]
    return sorted(events, key=lambda e: e.at)


@contextlib.contextmanager
def simulated_clock(default: float) -> Iterator[Callable[[float], None]]:
    """decoy.clock.now per thread: each worker sets the instant of the event it delivers."""
    from decoy import clock

    local = threading.local()
    fallback = {"t": default}
    original = clock.now
    clock.now = lambda: getattr(local, "t", fallback["t"])  # type: ignore[assignment]

    def set_now(t: float) -> None:
        local.t = t
        fallback["t"] = max(fallback["t"], t)

    try:
        yield set_now
    finally:
        clock.now = original  # type: ignore[assignment]


def deliver(events: list[Event], receive: Callable[[dict, Any], dict], to: str, context: Any,
            threads: int, calls: AwsCalls, set_now: Callable[[float], None]
            ) -> tuple[Counter[tuple[str, str]], Phase]:
    """Deliver events (round robin over threads, about in time order); count per UTC day:
    ('sms'|'call'|'answered'|'rejected', day)."""
    from twilio_fakes import call_form

    from decoy.clock import utc_day

    def work(part: list[Event]) -> Counter[tuple[str, str]]:
        counts: Counter[tuple[str, str]] = Counter()
        for event in part:
            set_now(event.at)
            day = utc_day(event.at)
            counts[(event.kind, day)] += 1
            if event.kind == "sms":
                receive(api_event("/sms", sms_form(event.sender, to, sid=event.sid)), context)
                continue
            answer = receive(api_event("/voice", call_form(event.sender, to, sid=event.sid)),
                             context)["body"]
            counts[("answered" if "<Say" in answer or "<Play" in answer else "rejected",
                    day)] += 1
        return counts

    calls.take()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="receiver") as pool:
        parts = list(pool.map(work, [events[i::threads] for i in range(threads)]))
    seconds = time.perf_counter() - started
    counts = sum(parts, Counter())
    return counts, Phase(seconds, Counter({k: v for k, v in counts.items()}), calls.take())


def scheduled_per_day(scheduler: Any, group: str, delay: int) -> Counter[str]:
    """Replies scheduled, by the UTC day of the message they answer (due time - delay)."""
    from datetime import UTC, datetime

    from decoy.clock import utc_day

    days: Counter[str] = Counter()
    for page in scheduler.get_paginator("list_schedules").paginate(GroupName=group):
        for summary in page["Schedules"]:
            at = scheduler.get_schedule(Name=summary["Name"], GroupName=group)[
                "ScheduleExpression"][3:-1]
            due = datetime.fromisoformat(at).replace(tzinfo=UTC).timestamp()
            days[utc_day(due - delay)] += 1
    return days


@dataclass
class Billing:
    """One scenario's billed traffic per UTC day, what it cost, and the bounds it must keep."""

    name: str
    counts: Counter[tuple[str, str]]
    replies: Counter[str]
    sent: int
    seconds: float
    reply_budget: int
    call_allowance: int

    @property
    def days(self) -> list[str]:
        return sorted({day for _, day in self.counts} | set(self.replies))

    def day(self, day: str) -> Any:
        from decoy_ops.costmodel import Day

        c = self.counts
        return Day(inbound_sms=c[("sms", day)], inbound_calls=c[("call", day)],
                   replies=self.replies[day], answered_calls=c[("answered", day)])

    def euros(self) -> float:
        from decoy_ops.costmodel import day_cost

        return sum(day_cost(self.day(d)).total for d in self.days)

    def total(self, kind: str) -> int:
        return sum(n for (k, _), n in self.counts.items() if k == kind)

    def missed(self) -> list[str]:
        """Every bound a day broke: budgets, allowance, the cost model's bound, sends."""
        from decoy_ops.costmodel import Defaults, day_cost, worst_case_day

        found = []
        defaults = Defaults(daily_reply_budget=self.reply_budget,
                            daily_answered_calls=self.call_allowance)
        for d in self.days:
            day = self.day(d)
            if day.replies > self.reply_budget:
                found.append(f"{d}: {day.replies} replies > DailyReplyBudget {self.reply_budget}")
            if (day.answered_calls or 0) > self.call_allowance:
                found.append(f"{d}: {day.answered_calls} calls answered > "
                             f"DailyAnsweredCallBudget {self.call_allowance}")
            bound = worst_case_day(day.inbound_sms, defaults, inbound_calls=day.inbound_calls)
            if day_cost(day).total > bound.total + 1e-9:
                found.append(f"{d}: €{day_cost(day).total:,.2f} > the model's bound "
                             f"€{bound.total:,.2f}")
        if self.sent != sum(self.replies.values()):
            found.append(f"sent {self.sent} != scheduled {sum(self.replies.values())}")
        return found


def run_billed(name: str, events: list[Event], *, scheduler: Any, group: str, to: str,
               delay: int, receive: Callable, send: Callable, context: Any, sent: list,
               threads: int, container_count: int, reply_budget: int, call_allowance: int,
               before: Callable[[], None] | None = None) -> Billing:
    """Deliver timed events on fresh containers, then fire every schedule once; what it bills.

    Schedules and sends of earlier scenarios are subtracted: each scenario uses its own days.
    """
    already_sent = len(sent)
    already = scheduled_per_day(scheduler, group, delay)
    calls = AwsCalls()
    end = max(e.at for e in events) + delay + 1
    with serialized_moto(), containers(container_count, calls), \
            simulated_clock(events[0].at) as set_now:
        if before:
            before()
        counts, phase = deliver(events, receive, to, context, threads, calls, set_now)
        replies = scheduled_per_day(scheduler, group, delay) - already
        set_now(end)
        fire_due(scheduler, group, end, lambda order: send(order, context))
    return Billing(name, counts, replies, len(sent) - already_sent, phase.seconds,
                   reply_budget, call_allowance)
