"""make bench-flood's last part: inbound floods against the two breakers, one UTC day each.

Twilio's side is the one fake Twilio (decoy_local/fake_twilio.py): it bills an inbound SMS
whenever it requests an SMS URL, falls back to the number's VoiceFallbackUrl (the reject-busy
Bin) when the voice URL fails, and fires each Usage Trigger at most once a day. The trigger
callbacks and the off-air order run the real receiver and sender on moto. The SMS and voice
webhooks themselves are answered by an emulation of the stack (the stage throttle's token
bucket on the simulated clock, 503 while "failing", the voicemail within the day's allowance):
what the shield decides for each webhook is measured by the first parts of the bench. Traffic
is simulated minute by minute, one webhook standing for a minute's alike on each number.
Twilio's data lag is the cost model's assumption (Breakers.lag_minutes): the trigger sees the
usage of that many minutes ago.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from twilio_fakes import api_event

from decoy import clock
from decoy.campaigns import load_campaigns
from decoy_local.fake_twilio import REJECT_BUSY, TwilioCore
from decoy_local.scheduler import fire_due
from decoy_local.webhooks import Answer
from decoy_ops import connect, costmodel

BASE = "https://abc123.execute-api.eu-west-3.amazonaws.com"
SMS_URL, VOICE_URL, USAGE_URL = f"{BASE}/sms", f"{BASE}/voice", f"{BASE}/usage"
BIN = "https://handler.twilio.com/twiml/EH" + "0" * 32
DAY = 86_400
VOICEMAIL = '<Response><Say language="fr-FR">Bonjour</Say></Response>'


@dataclass(frozen=True)
class Flood:
    name: str
    sms_per_second: float  # over all the numbers together
    calls_per_second: float
    failing: bool = False  # the stack answers 503 to /sms and /voice (its /usage still works)
    start_hour: int = 6


@dataclass
class DayBill:
    flood: Flood
    usage: dict[str, int]
    euros: float
    bound: float
    off_air_at: str  # hh:mm, or "-"
    fallback_rejected: int

    @property
    def kept(self) -> bool:
        return self.euros <= self.bound


FLOODS = (
    Flood("below the throttle: 14 SMS/s + 2 calls/s", 14, 2),
    Flood("above the throttle: 56 SMS/s + 7 calls/s", 56, 7),
    Flood("while the stack fails (503): 21 SMS/s + 7 calls/s", 21, 7, failing=True),
)


PRICES, BREAKERS, DEFAULTS = costmodel.Prices(), costmodel.Breakers(), costmodel.Defaults()


def bill(usage: Counter[str], prices: costmodel.Prices = PRICES, aws: float = 0.0) -> float:
    """Euros for what the fake counted, at the cost model's prices (+ the day's AWS bound)."""
    return (usage["sms-inbound"] * prices.twilio_sms_in_eur
            + usage["calls-inbound"] * prices.twilio_call_minute_in_eur
            + usage["sms-outbound"] * prices.twilio_segment_out_eur + aws)


def run_day(flood: Flood, day_start: float, *, fake: TwilioCore, aws: Any, receive: Callable,
            send: Callable, context: Any, breakers: costmodel.Breakers = BREAKERS,
            defaults: costmodel.Defaults = DEFAULTS) -> DayBill:
    numbers = load_campaigns().numbers()
    limits = costmodel.usage_thresholds(defaults)
    aws.ssm.put_parameter(Name=aws.env["KILL_SWITCH_PARAMETER"], Value="off", Type="String",
                          Overwrite=True)
    for trigger in fake.triggers():
        fake._triggers.pop(trigger["sid"])
    for trigger in connect.wanted_triggers(limits.sms_per_day, limits.call_minutes_per_day,
                                           limits.price_per_day_usd):
        _install(fake, trigger, USAGE_URL)
    for trigger in connect.off_air_triggers(limits.off_air_sms_per_day,
                                            limits.off_air_price_per_day_usd):
        _install(fake, trigger, connect.off_air_callback(USAGE_URL))
    fake.usage.clear()
    for number in numbers:
        fake.number(number).update(sms_url=SMS_URL, sms_fallback_url="", voice_url=VOICE_URL,
                                   voice_fallback_url=BIN)
    state = {"now": day_start, "mode": "ok", "answered": 0, "replied": False,
             "rejected_by_bin": 0}
    clock.now = lambda: state["now"]
    fake.now = clock.now

    def post(url: str, form: dict[str, str], token: str, timeout: float) -> Answer:
        if url == BIN:
            state["rejected_by_bin"] += 1
            return Answer(200, "text/xml", REJECT_BUSY)
        if url.startswith(USAGE_URL):
            result = receive(api_event("/usage", form, query=urlsplit(url).query), context)
            return Answer(result["statusCode"], "text/xml", result.get("body", ""))
        if flood.failing:
            return Answer(503, "application/json", '{"message":"Service Unavailable"}')
        if state["mode"] == "throttled":
            return Answer(429, "application/json", '{"message":"Too Many Requests"}')
        if state["mode"] == "reject":  # beyond the day's allowance: <Reject reason="busy"/>
            return Answer(200, "text/xml", REJECT_BUSY)
        if url == VOICE_URL:
            return Answer(200, "text/xml", VOICEMAIL)
        return Answer(200, "text/xml", "<Response/>")

    fake.post = post
    history: list[Counter[str]] = []
    lag_steps = int(breakers.lag_minutes)
    per_minute_limit = defaults.api_rate_per_second * 60
    off_air_at = "-"
    for minute in range(DAY // 60):
        state["now"] = day_start + minute * 60
        history.append(Counter(fake.usage))
        if minute >= flood.start_hour * 60:
            budget = per_minute_limit
            for number in numbers:
                for kind, rate in (("sms", flood.sms_per_second), ("call", flood.calls_per_second)):
                    count = round(rate * 60 / len(numbers))
                    if count:
                        budget = _deliver(fake, number, kind, count, budget, state, defaults)
        _evaluate_triggers(fake, history[max(0, len(history) - 1 - lag_steps)])
        fire_due(aws.scheduler, aws.stack.schedule_group, state["now"],
                 lambda order: send(order, context))
        if off_air_at == "-" and all(not fake.number(n)["sms_url"] for n in numbers):
            off_air_at = f"{minute // 60:02d}:{minute % 60:02d}"
    configured_aws = costmodel.worst_case_day(costmodel.throttle_cap(defaults)).aws_total
    rate = (flood.sms_per_second + flood.calls_per_second) / len(numbers)
    bound = costmodel.breaker_bound(defaults, breakers=breakers).total
    assert rate <= breakers.inbound_per_second_per_number, "the flood exceeds the assumption"
    return DayBill(flood, dict(fake.usage), bill(fake.usage, aws=configured_aws), bound,
                   off_air_at, state["rejected_by_bin"])


def _install(fake: TwilioCore, trigger: connect.Trigger, callback: str) -> None:
    fake.add_trigger(friendly_name=trigger.name, usage_category=trigger.usage_category,
                     trigger_by=trigger.trigger_by, recurring=trigger.recurring,
                     trigger_value=connect.threshold_text(trigger.value), callback_url=callback)


def _deliver(fake: TwilioCore, number: str, kind: str, count: int, budget: int,
             state: dict[str, Any], defaults: costmodel.Defaults) -> int:
    """`count` alike webhooks on one number this minute: those within the stage throttle's
    budget are answered, the rest get 429; returns the budget left."""
    through = min(count, max(budget, 0))
    killed = False
    for mode, n in (("ok", through), ("throttled", count - through)):
        if not n:
            continue
        state["mode"] = mode
        if kind == "sms":
            if fake.text(number, "+33612345678", "flood", count=n) is not None and \
                    mode == "ok" and not state["replied"] and not killed:
                state["replied"] = True  # worst case: the whole reply budget at once
                fake.usage["sms-outbound"] += defaults.daily_reply_budget * 2
        else:
            answered = min(n, max(defaults.daily_answered_calls - state["answered"], 0)) \
                if mode == "ok" else 0
            if answered:
                fake.call(number, "+33612345678", count=answered)
                state["answered"] += answered
            rest = n - answered
            if rest:
                state["mode"] = "throttled" if mode == "throttled" else "reject"
                fake.call(number, "+33612345678", count=rest)
    return budget - through


def _evaluate_triggers(fake: TwilioCore, seen: Counter[str],
                       prices: costmodel.Prices = PRICES) -> None:
    """What Twilio's evaluation sees (usage `lag` minutes old): fire what it crossed."""
    values = {"sms": seen["sms-inbound"] + seen["sms-outbound"],
              "calls-inbound": seen["calls-inbound"],
              "totalprice": bill(seen, prices) / prices.eur_per_usd}
    for trigger in fake.triggers():
        if values.get(trigger["usage_category"], 0) >= float(trigger["trigger_value"]):
            fake.fire_trigger(trigger["sid"])


def run_all(day_start: float, *, fake: TwilioCore, aws: Any, receive: Callable,
            send: Callable, context: Any, floods: tuple[Flood, ...] = FLOODS) -> list[DayBill]:
    """Each flood on its own UTC day, from `day_start` (00:00 UTC)."""
    import os

    from sender import app

    os.environ["VOICE_REJECT_URL"] = BIN
    app.delivery.cache_clear()
    fake.own(load_campaigns().numbers())
    return [run_day(flood, day_start + i * DAY, fake=fake, aws=aws, receive=receive,
                    send=send, context=context) for i, flood in enumerate(floods)]


def report(bills: list[DayBill]) -> list[str]:
    lines = []
    for day in bills:
        u = day.usage
        lines.append(f"breakers: {day.flood.name}, from {day.flood.start_hour:02d}:00")
        lines.append(f"  inbound SMS billed {u.get('sms-inbound', 0):,}, not requested (off the "
                     f"air) {u.get('sms-unbilled', 0):,}; calls billed "
                     f"{u.get('calls-inbound', 0):,}, rejected unbilled "
                     f"{u.get('calls-unbilled', 0):,}; off the air at {day.off_air_at}")
        lines.append(f"  billed that day €{day.euros:,.2f} <= bound €{day.bound:,.2f}: "
                     + ("kept" if day.kept else "BOUND MISSED"))
    return lines
