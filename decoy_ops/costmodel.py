"""What a day of inbound traffic costs on Twilio and AWS, and the worst case the config allows.

Prices are list prices (see docs/cost.md for sources and dates); everything is a parameter.
`make cost` (python -m decoy_ops.costmodel) prints the tables in docs/cost.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

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


# -- Level 2: the bound that includes inbound traffic -----------------------------------------
# Twilio bills an inbound SMS whenever it requests an SMS URL, and requests none when the
# number has none: "you can always disable the SMS URL on your phone number (either manually
# or automatically via the REST API) and Twilio will stop making requests to your
# application" (support article 223181528, "Billing for incoming SMS messages"; article
# 223135287: "To prevent all incoming messages and corresponding charges, remove the webhook
# URL"). A call rejected with <Reject> (the reject-busy TwiML Bin, article 223180548) is not
# billed; a call our API cannot answer is rejected by that Bin through VoiceFallbackUrl
# (Twilio docs, "Availability and reliability"). Sure: Twilio's own pages (support, not the
# API reference). What the model cannot know is how late Twilio's trigger sees the usage:
# "UsageTriggers are evaluated frequently, about once a minute" but "it can take some amount
# of time for the data used by usage triggers to be reflected" (Usage Trigger API docs): no
# figure. So the lag and the flood's rate are explicit assumptions, tabulated below.
SHIPPED_NUMBERS = 7  # functions/decoy/campaigns.json: every pool number, retired ones too
LAGS_MINUTES = (5, 15, 60, 240, 1440)
RATES_PER_SECOND = (0.2, 1.0, 10.0, 100.0)


@dataclass(frozen=True)
class Breakers:
    """What the level-2 bound assumes (each is a parameter; docs/cost.md says why)."""

    lag_minutes: float = 60.0  # Twilio's data lag before a trigger sees the usage: assumed
    queue_minutes: float = 2.0  # ours: the off-air order waits 60 s, Scheduler's 60 s precision
    inbound_per_second_per_number: float = 10.0  # the flood each number receives: assumed
    numbers: int = SHIPPED_NUMBERS
    reject_bin: bool = True  # VoiceRejectUrl set: a call our API fails is rejected, unbilled


@dataclass(frozen=True)
class Bound:
    """bound = threshold + lag x inbound rate x numbers (x the price of one inbound event)
    + what the configuration bounds anyway (replies, answered calls: they can fall in the lag
    too; AWS: never in Twilio's totalprice)."""

    threshold: float  # the level-2 totalprice trigger, in euros
    overshoot: float  # inbound billed between crossing it and the numbers going off the air
    configured: float  # replies + answered calls + AWS at the throttle's cap

    @property
    def total(self) -> float:
        return self.threshold + self.overshoot + self.configured


def inbound_event_price(prices: Prices = Prices(), usage: Usage = Usage(),
                        reject_bin: bool = True) -> float:
    """The most one inbound event bills while the numbers are still on the air: an SMS, or a
    call our API cannot answer (Twilio's application error: one billed minute) without the
    reject Bin; with it that call is rejected, unbilled. Calls our API answers are bounded by
    the allowance (in `configured`)."""
    failed_call = 0.0 if reject_bin else usage.call_minutes * prices.twilio_call_minute_in_eur
    return max(prices.twilio_sms_in_eur, failed_call)


def breaker_bound(defaults: Defaults = Defaults(), prices: Prices = Prices(),
                  usage: Usage = Usage(), breakers: Breakers = Breakers(),
                  threshold_usd: float | None = None) -> Bound:
    """The most a day can bill with both breakers, for a flood of any mix (euros)."""
    if threshold_usd is None:
        threshold_usd = usage_thresholds(defaults, prices, usage).off_air_price_per_day_usd
    seconds = (breakers.lag_minutes + breakers.queue_minutes) * 60
    events = seconds * breakers.inbound_per_second_per_number * breakers.numbers
    return Bound(threshold=threshold_usd * prices.eur_per_usd,
                 overshoot=events * inbound_event_price(prices, usage, breakers.reject_bin),
                 configured=worst_case_day(throttle_cap(defaults), defaults, prices,
                                           usage).bounded_by_config)


def sensitivity_table(defaults: Defaults = Defaults(), prices: Prices = Prices(),
                      usage: Usage = Usage(), breakers: Breakers = Breakers()) -> str:
    """The bound over the two assumptions (rows: lag, columns: inbound rate per number)."""
    rows = ["| Twilio's lag \\ inbound per number | " + " | ".join(
        f"{r:g}/s" for r in RATES_PER_SECOND) + " |", "|---|" + "---:|" * len(RATES_PER_SECOND)]
    for lag in LAGS_MINUTES:
        cells = [_eur(breaker_bound(defaults, prices, usage, replace(
            breakers, lag_minutes=lag, inbound_per_second_per_number=rate)).total)
            for rate in RATES_PER_SECOND]
        rows.append(f"| {_minutes(lag)} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _minutes(value: float) -> str:
    return f"{value / 60:g} h" if value >= 60 else f"{value:g} min"


def summary(defaults: Defaults = Defaults(), prices: Prices = Prices(),
            usage: Usage = Usage(), breakers: Breakers = Breakers()) -> list[str]:
    """The worst case per day as one number, what it assumes, and the triggers."""
    cap = throttle_cap(defaults)
    before = worst_case_day(cap, defaults, prices, usage)
    limits = usage_thresholds(defaults, prices, usage)
    bound = breaker_bound(defaults, prices, usage, breakers)
    rate, n = breakers.inbound_per_second_per_number, breakers.numbers
    lag = breakers.lag_minutes + breakers.queue_minutes
    price = inbound_event_price(prices, usage, breakers.reject_bin)
    unbounded = rate * n * SECONDS_PER_DAY * prices.twilio_sms_in_eur
    return [
        f"Worst case per day under the defaults, everything billed: {_eur(bound.total)}",
        f"  = level-2 threshold {_eur(bound.threshold)} (totalprice >= "
        f"${limits.off_air_price_per_day_usd:,} at {prices.eur_per_usd} EUR/USD)",
        f"  + lag x inbound rate x numbers x price {_eur(bound.overshoot)} ({lag:g} min x "
        f"{rate:g}/s x {n} numbers x €{price:g})",
        f"  + replies, answered calls and AWS {_eur(bound.configured)} (the configuration's "
        f"bound: {defaults.daily_reply_budget} replies, {defaults.daily_answered_calls} calls, "
        f"AWS at the throttle's {cap:,} webhooks)",
        f"  assumes: Twilio's trigger sees the usage within {breakers.lag_minutes:g} min (it "
        f"gives no figure), the off-air order runs within {breakers.queue_minutes:g} min, "
        f"each of the {n} numbers receives at most {rate:g} SMS or calls a second, and the "
        f"reject-busy TwiML Bin is set (VoiceRejectUrl)",
        f"  without level 2 the same flood bills {_eur(unbounded)} a day of inbound SMS alone "
        f"(before issue 22 the model said {_eur(before.total)}, for a flood capped at the "
        f"throttle's rate: Twilio bills an SMS whatever our API answers, 429 included)",
        "  the prepaid balance (auto-recharge off) is the only cap that holds whatever these "
        "assumptions are",
        f"Usage Triggers (decoy_ops connect), level 1 (kill switch): sms >= "
        f"{limits.sms_per_day:,} a day, calls-inbound >= {limits.call_minutes_per_day:,} "
        f"minutes, totalprice >= ${limits.price_per_day_usd:,}",
        f"  level 2 (numbers off the air): sms >= {limits.off_air_sms_per_day:,} a day, "
        f"totalprice >= ${limits.off_air_price_per_day_usd:,} "
        f"(= {_eur(limits.off_air_price_per_day_usd * prices.eur_per_usd)})",
    ]


PARTS = ("table", "worst", "sensitivity")


def main(argv: list[str] | None = None) -> int:
    """`make cost`: the day table, the worst case per day and the sensitivity table
    (`--part` prints one of them: docs/cost.md quotes each where it explains it)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m decoy_ops.costmodel",
                                     description=main.__doc__.splitlines()[0])
    parser.add_argument("--part", choices=PARTS, help="print only this part")
    part = parser.parse_args(argv or []).part  # main(): everything, whatever sys.argv
    shown = [
        ("table", markdown_table()),
        ("worst", "\n".join(summary())),
        ("sensitivity", "Worst case per day over the two assumptions (the rest as above):\n\n"
                        + sensitivity_table()),
    ]
    print("\n\n".join(text for name, text in shown if part in (None, name)))
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main(sys.argv[1:]))
