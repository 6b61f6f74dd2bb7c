"""What a day of inbound traffic costs on Twilio and AWS, and the worst case the config allows.

Prices are list prices (see docs/cost.md for sources and dates); everything is a parameter.
`python -m decoy_local.costmodel` prints the table in docs/cost.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Prices:
    """List prices. Twilio in euros (France), AWS in US dollars (us-east-1, pay as you go)."""

    eur_per_usd: float = 0.92
    twilio_sms_in_eur: float = 0.0075  # per inbound SMS to a French number
    twilio_segment_out_eur: float = 0.076  # per outbound segment to a French mobile
    twilio_call_minute_in_eur: float = 0.01  # assumption: check twilio.com/voice/pricing/fr
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
    call_minutes: float = 1.0  # greeting + pause: Twilio bills the first minute whole
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


@dataclass(frozen=True)
class Cost:
    """Euros per line; `twilio_inbound` is billed whatever our stack does."""

    twilio_inbound: float
    twilio_replies: float
    aws: dict[str, float] = field(default_factory=dict)

    @property
    def aws_total(self) -> float:
        return sum(self.aws.values())

    @property
    def bounded_by_config(self) -> float:
        """What DailyReplyBudget and API throttling bound: replies and every AWS line."""
        return self.twilio_replies + self.aws_total

    @property
    def total(self) -> float:
        return self.twilio_inbound + self.bounded_by_config


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
    return Cost(
        twilio_inbound=day.inbound_sms * prices.twilio_sms_in_eur
        + day.inbound_calls * usage.call_minutes * prices.twilio_call_minute_in_eur,
        twilio_replies=day.replies * usage.segments_per_reply * prices.twilio_segment_out_eur,
        aws={name: value * prices.eur_per_usd for name, value in usd.items()},
    )


@dataclass(frozen=True)
class Defaults:
    """The template Parameters that bound a day's cost (their template defaults)."""

    daily_reply_budget: int = 500
    api_rate_per_second: int = 20
    api_burst: int = 50


def throttle_cap(defaults: Defaults = Defaults()) -> int:
    """Most webhooks API Gateway lets through in a day: the steady rate plus one burst."""
    return defaults.api_rate_per_second * SECONDS_PER_DAY + defaults.api_burst


def worst_case_day(inbound_sms: int, defaults: Defaults = Defaults(),
                   prices: Prices = Prices(), usage: Usage = Usage(),
                   inbound_calls: int = 0) -> Cost:
    """A flood of `inbound_sms`: the budget is spent, AWS sees at most the throttle's cap."""
    arriving = inbound_sms + inbound_calls
    return day_cost(Day(inbound_sms=inbound_sms, inbound_calls=inbound_calls,
                        replies=defaults.daily_reply_budget,
                        webhooks_reaching_aws=min(arriving, throttle_cap(defaults))),
                    prices, usage)


@dataclass(frozen=True)
class Scenario:
    name: str
    day: Day


def scenarios(defaults: Defaults = Defaults()) -> list[Scenario]:
    """The volumes docs/cost.md tabulates (see the assumptions there)."""
    budget = defaults.daily_reply_budget
    cap = throttle_cap(defaults)
    return [
        Scenario("Belgium 2017: 500 SMS/week, all distinct senders",
                 Day(inbound_sms=72, replies=72)),
        Scenario("France 2017 as it ran: 10,000 SMS in 48 h, every SMS answered",
                 Day(inbound_sms=5_000, replies=5_000)),
        Scenario("France 2017 launch: 10,000 SMS + 25,000 calls in 48 h",
                 Day(inbound_sms=5_000, inbound_calls=12_500, replies=budget)),
        Scenario("Flood: 1,000,000 SMS in a day",
                 Day(inbound_sms=1_000_000, replies=budget)),
        Scenario("Flood: 10,000,000 SMS in a day (AWS capped by throttling)",
                 Day(inbound_sms=10_000_000, replies=budget,
                     webhooks_reaching_aws=min(10_000_000, cap))),
    ]


def _eur(value: float) -> str:
    return f"€{value:,.2f}"


def markdown_table(defaults: Defaults = Defaults(), prices: Prices = Prices(),
                   usage: Usage = Usage()) -> str:
    """The scenario table of docs/cost.md."""
    rows = ["| Scenario (one UTC day) | Replies | Twilio inbound | Twilio replies | AWS | Total |",
            "|---|---:|---:|---:|---:|---:|"]
    for scenario in scenarios(defaults):
        cost = day_cost(scenario.day, prices, usage)
        rows.append(f"| {scenario.name} | {scenario.day.replies:,} | "
                    f"{_eur(cost.twilio_inbound)} | {_eur(cost.twilio_replies)} | "
                    f"{_eur(cost.aws_total)} | {_eur(cost.total)} |")
    return "\n".join(rows)


def main() -> int:
    defaults = Defaults()
    print(markdown_table(defaults))
    worst = worst_case_day(throttle_cap(defaults), defaults)
    print(f"\nWorst case bounded by the defaults: {_eur(worst.bounded_by_config)} per day "
          f"(replies {_eur(worst.twilio_replies)} + AWS {_eur(worst.aws_total)} at "
          f"{throttle_cap(defaults):,} webhooks), plus "
          f"€{Prices().twilio_sms_in_eur} per inbound SMS that Twilio bills regardless.")
    print("AWS lines at the cap:", {k: round(v, 2) for k, v in worst.aws.items()})
    print("Prices:", asdict(Prices()))
    print("Usage:", asdict(Usage()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
