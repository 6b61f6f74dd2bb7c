"""What a day of inbound traffic costs on Twilio and AWS, and the worst case the config allows.

Prices are list prices (see docs/cost.md for sources and dates); everything is a parameter.
`make cost` (python -m decoy_ops.costmodel) prints the tables in docs/cost.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Prices:
    """List prices. Twilio in euros (France), AWS in US dollars (us-east-1, pay as you go)."""

    eur_per_usd: float = 0.92
    twilio_sms_in_eur: float = 0.0075  # per inbound SMS to a French number
    twilio_segment_out_eur: float = 0.076  # per outbound segment to a French mobile
    twilio_call_minute_in_eur: float = 0.01  # assumption: check twilio.com/voice/pricing/fr
    # Twilio's automatic STOP/START/HELP answers: "no cost for the automatic reply to the
    # sender" (Twilio support, "Twilio support for opt-out keywords"); counted, at that price.
    twilio_keyword_reply_eur: float = 0.0
    http_api_per_million_usd: float = 1.00
    lambda_requests_per_million_usd: float = 0.20
    lambda_gb_second_usd: float = 0.0000133334  # arm64
    dynamodb_writes_per_million_usd: float = 0.625  # write request units, on demand
    dynamodb_reads_per_million_usd: float = 0.125  # read request units, on demand
    scheduler_per_million_usd: float = 1.00  # invocations beyond the 14M free each month
    logs_per_gb_usd: float = 0.50  # CloudWatch Logs ingestion
    xray_per_million_traces_usd: float = 5.00


@dataclass(frozen=True)
class Usage:
    """What one webhook and one reply consume; upper bounds where we measured less."""

    segments_per_reply: int = 2  # the 2017 French reply; `make campaigns` prints each reply's
    memory_gb: float = 0.25  # template MemorySize 256
    receiver_billed_ms: float = 100.0  # warm invocations take a few ms; cold starts more
    sender_billed_ms: float = 500.0  # one Twilio API round trip
    call_minutes: float = 1.0  # greeting + pause (validated <= 60 s): one billed minute
    # One conditional UpdateItem per webhook: refused writes are billed too (1 WRU).
    writes_per_webhook: float = 1.0
    # Budget transaction (2 items x 2 WRU) + the idempotency record (put + update).
    writes_per_reply: float = 6.0
    reads_per_reply: float = 1.0  # the sender's consistent opt-out read
    status_callbacks_per_reply: float = 3.0  # queued/sent/delivered webhooks back to the API
    log_bytes_per_invocation: int = 2_048  # START/END/REPORT, one JSON line, EMF
    xray_reservoir_per_second: float = 1.0  # default sampling rule: 1/s, then 5%
    xray_rate: float = 0.05


@dataclass(frozen=True)
class Day:
    """One UTC day of traffic at the number."""

    inbound_sms: int
    replies: int
    inbound_calls: int = 0
    # Webhooks that get past API Gateway throttling (None = all of them).
    webhooks_reaching_aws: int | None = None
    answered_calls: int | None = None  # None = every call answered (no allowance, as in 2017)
    keyword_replies: int = 0  # Twilio's own answers to STOP/START/HELP


@dataclass(frozen=True)
class Cost:
    """Euros per line; `twilio_inbound` (SMS received) is billed whatever our stack does."""

    twilio_inbound: float
    twilio_replies: float
    aws: dict[str, float] = field(default_factory=dict)
    twilio_calls: float = 0.0  # answered call minutes (a rejected call is not billed)
    twilio_keyword_replies: float = 0.0

    @property
    def aws_total(self) -> float:
        return sum(self.aws.values())

    @property
    def bounded_by_config(self) -> float:
        """What the budgets and API throttling bound: replies, answered calls, every AWS line."""
        return self.twilio_replies + self.twilio_calls + self.aws_total

    @property
    def total(self) -> float:
        return self.twilio_inbound + self.twilio_keyword_replies + self.bounded_by_config


def day_cost(day: Day, prices: Prices = Prices(), usage: Usage = Usage()) -> Cost:
    """Euros for one day of traffic."""
    webhooks_in = day.inbound_sms + day.inbound_calls
    reaching = webhooks_in if day.webhooks_reaching_aws is None else day.webhooks_reaching_aws
    callbacks = day.replies * usage.status_callbacks_per_reply
    requests = reaching + callbacks
    invocations = requests + day.replies  # receiver + sender
    gb_seconds = usage.memory_gb * (requests * usage.receiver_billed_ms
                                    + day.replies * usage.sender_billed_ms) / 1000
    sampled_per_second = min(invocations / SECONDS_PER_DAY, usage.xray_reservoir_per_second)
    traces = sampled_per_second * SECONDS_PER_DAY + \
        usage.xray_rate * max(0.0, invocations - sampled_per_second * SECONDS_PER_DAY)
    per_million = 1e-6
    usd = {
        "api_gateway": requests * prices.http_api_per_million_usd * per_million,
        "lambda": invocations * prices.lambda_requests_per_million_usd * per_million
        + gb_seconds * prices.lambda_gb_second_usd,
        "dynamodb": (reaching * usage.writes_per_webhook + day.replies * usage.writes_per_reply)
        * prices.dynamodb_writes_per_million_usd * per_million
        + day.replies * usage.reads_per_reply * prices.dynamodb_reads_per_million_usd * per_million,
        "scheduler": day.replies * prices.scheduler_per_million_usd * per_million,
        "logs": invocations * usage.log_bytes_per_invocation / 1e9 * prices.logs_per_gb_usd,
        "xray": traces * prices.xray_per_million_traces_usd * per_million,
    }
    answered = day.inbound_calls if day.answered_calls is None else day.answered_calls
    return Cost(
        twilio_inbound=day.inbound_sms * prices.twilio_sms_in_eur,
        twilio_replies=day.replies * usage.segments_per_reply * prices.twilio_segment_out_eur,
        aws={name: value * prices.eur_per_usd for name, value in usd.items()},
        twilio_calls=answered * usage.call_minutes * prices.twilio_call_minute_in_eur,
        twilio_keyword_replies=day.keyword_replies * prices.twilio_keyword_reply_eur,
    )


@dataclass(frozen=True)
class Defaults:
    """The template Parameters that bound a day's cost (their template defaults)."""

    daily_reply_budget: int = 500
    api_rate_per_second: int = 20
    api_burst: int = 50
    daily_answered_calls: int = 200


def throttle_cap(defaults: Defaults = Defaults()) -> int:
    """Most webhooks API Gateway lets through in a day: the steady rate plus one burst."""
    return defaults.api_rate_per_second * SECONDS_PER_DAY + defaults.api_burst


def worst_case_day(inbound_sms: int, defaults: Defaults = Defaults(),
                   prices: Prices = Prices(), usage: Usage = Usage(),
                   inbound_calls: int = 0) -> Cost:
    """A flood of `inbound_sms` (and calls): both budgets are spent, AWS sees at most the
    throttle's cap, and every inbound SMS is a keyword Twilio answers itself (STOP/START...)."""
    arriving = inbound_sms + inbound_calls
    return day_cost(Day(inbound_sms=inbound_sms, inbound_calls=inbound_calls,
                        replies=defaults.daily_reply_budget,
                        webhooks_reaching_aws=min(arriving, throttle_cap(defaults)),
                        answered_calls=min(inbound_calls, defaults.daily_answered_calls)
                        if inbound_calls else defaults.daily_answered_calls,
                        keyword_replies=inbound_sms),
                    prices, usage)


def day_bound(inbound_sms: int, defaults: Defaults = Defaults(), prices: Prices = Prices(),
              usage: Usage = Usage()) -> float:
    """The most a day can bill, everything included, when `inbound_sms` SMS arrive (any mix
    of calls: a call beyond the allowance is rejected, unbilled). The flood bench checks it."""
    return worst_case_day(inbound_sms, defaults, prices, usage).total


@dataclass(frozen=True)
class Thresholds:
    """The daily Usage Triggers `decoy_ops connect` installs (the second breaker)."""

    sms_per_day: int  # Twilio's "sms" count: inbound and outbound together
    call_minutes_per_day: int  # "calls-inbound" minutes
    price_per_day_usd: int  # "totalprice", in the account's currency (USD for most)
    # Level 2, "off the air" (decoy.offair): the same categories, OFF_AIR_FACTOR times higher.
    off_air_sms_per_day: int = 0
    off_air_price_per_day_usd: int = 0


def usage_thresholds(defaults: Defaults = Defaults(), prices: Prices = Prices(),
                     usage: Usage = Usage(), margin: float = 1.25) -> Thresholds:
    """Above what the budgets allow on a normal day: crossing one means a flood or a miss.

    SMS: the replies' segments plus as many inbound SMS; calls: the answered allowance;
    price: what that day bills on Twilio, each with `margin` on top.
    """
    segments = defaults.daily_reply_budget * usage.segments_per_reply
    sms = math.ceil(2 * segments * margin) or 100
    minutes = math.ceil(defaults.daily_answered_calls * usage.call_minutes * margin) or 10
    day = day_cost(Day(inbound_sms=sms - segments, replies=defaults.daily_reply_budget,
                       answered_calls=defaults.daily_answered_calls), prices, usage)
    twilio_eur = day.twilio_inbound + day.twilio_replies + day.twilio_calls
    price = math.ceil(twilio_eur / prices.eur_per_usd * margin) or 10
    return Thresholds(sms, minutes, price, OFF_AIR_FACTOR * sms, OFF_AIR_FACTOR * price)


# Level 2 sits this many times above level 1: level 1 (the kill switch) has fired first and
# stopped the replies; what still grows past level 2 is inbound traffic nobody answers.
OFF_AIR_FACTOR = 2


@dataclass(frozen=True)
class Scenario:
    name: str
    day: Day


def scenarios(defaults: Defaults = Defaults()) -> list[Scenario]:
    """The volumes docs/cost.md tabulates (see the assumptions there)."""
    budget, calls = defaults.daily_reply_budget, defaults.daily_answered_calls
    cap = throttle_cap(defaults)
    return [
        Scenario("Belgium 2017: 500 SMS/week, all distinct senders",
                 Day(inbound_sms=72, replies=72)),
        Scenario("France 2017 as it ran: 10,000 SMS + 25,000 calls in 48 h, all answered",
                 Day(inbound_sms=5_000, inbound_calls=12_500, replies=5_000)),
        Scenario("France 2017 with this stack's defaults",
                 Day(inbound_sms=5_000, inbound_calls=12_500, replies=budget,
                     answered_calls=calls)),
        Scenario("Flood: 1,000,000 SMS + 100,000 calls in a day",
                 Day(inbound_sms=1_000_000, inbound_calls=100_000, replies=budget,
                     answered_calls=calls)),
        Scenario("Flood: 10,000,000 SMS in a day (AWS capped by throttling)",
                 Day(inbound_sms=10_000_000, replies=budget, answered_calls=calls,
                     webhooks_reaching_aws=min(10_000_000, cap))),
    ]


def _eur(value: float) -> str:
    return f"€{value:,.2f}"


def markdown_table(defaults: Defaults = Defaults(), prices: Prices = Prices(),
                   usage: Usage = Usage()) -> str:
    """The scenario table of docs/cost.md."""
    rows = ["| Scenario (one UTC day) | Replies | Calls answered | Twilio inbound SMS | "
            "Twilio calls | Twilio replies | AWS | Total |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for scenario in scenarios(defaults):
        day = scenario.day
        cost = day_cost(day, prices, usage)
        answered = day.inbound_calls if day.answered_calls is None else day.answered_calls
        rows.append(f"| {scenario.name} | {day.replies:,} | {answered:,} | "
                    f"{_eur(cost.twilio_inbound)} | {_eur(cost.twilio_calls)} | "
                    f"{_eur(cost.twilio_replies)} | {_eur(cost.aws_total)} | "
                    f"{_eur(cost.total)} |")
    return "\n".join(rows)


def summary(defaults: Defaults = Defaults(), prices: Prices = Prices(),
            usage: Usage = Usage()) -> list[str]:
    """The worst case per day as one number, its parts, and the Usage Trigger thresholds."""
    cap = throttle_cap(defaults)
    worst = worst_case_day(cap, defaults, prices, usage)
    limits = usage_thresholds(defaults, prices, usage)
    return [
        f"Worst case per day under the defaults, everything billed: {_eur(worst.total)}",
        f"  = replies {_eur(worst.twilio_replies)} ({defaults.daily_reply_budget} x "
        f"{usage.segments_per_reply} segments) + answered calls {_eur(worst.twilio_calls)} "
        f"({defaults.daily_answered_calls} x {usage.call_minutes:g} min) + AWS "
        f"{_eur(worst.aws_total)} + Twilio keyword replies {_eur(worst.twilio_keyword_replies)}"
        f" + inbound SMS {_eur(worst.twilio_inbound)}",
        f"  for a flood of {cap:,} SMS (the most the API throttle lets reach the stack in a "
        f"day, every one a STOP/START keyword); calls beyond the allowance are rejected, "
        f"unbilled.",
        f"  Bounded by the configuration alone: {_eur(worst.bounded_by_config)}. Each inbound "
        f"SMS adds €{prices.twilio_sms_in_eur}, billed by Twilio on arrival whatever we answer.",
        f"Usage Triggers (decoy_ops connect): sms >= {limits.sms_per_day:,} a day, "
        f"calls-inbound >= {limits.call_minutes_per_day:,} minutes, totalprice >= "
        f"${limits.price_per_day_usd:,}: each turns the kill switch on.",
    ]


def main() -> int:
    print(markdown_table())
    print()
    print("\n".join(summary()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
