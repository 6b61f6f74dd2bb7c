"""make bench-flood: 100,000 webhooks, call floods and the 2017 replay through the real handlers.

Prints what the cost shield let through, what it cost in AWS calls, and the worst case
per day from the cost model; then call floods (one caller x thousands, thousands of callers,
calls with the kill switch on) and the 2017 profile replayed on a simulated clock: calls
answered vs rejected, replies sent, euros billed under the defaults beside what 2017 spent.
Exits 1 if an invariant does not hold or a bound is missed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT / "tests", ROOT, ROOT / "functions"):
    sys.path.insert(0, str(path))
# Before the handlers are imported: warnings only, no EMF, no X-Ray.
os.environ.update(POWERTOOLS_LOG_LEVEL="WARNING", POWERTOOLS_METRICS_DISABLED="true",
                  POWERTOOLS_TRACE_DISABLED="true", POWERTOOLS_SERVICE_NAME="decoy-number")
# Threads share powertools' metric set, so a flush can find it empty: harmless here.
warnings.filterwarnings("ignore", message="No application metrics to publish")

import responses  # noqa: E402
from conftest import LambdaContext  # noqa: E402
from twilio_fakes import FakeTwilioApi  # noqa: E402

from bench import breakers, floodlib, function_logs  # noqa: E402
from decoy import clock  # noqa: E402
from decoy_ops import costmodel  # noqa: E402
from receiver.app import lambda_handler as receive  # noqa: E402
from sender.app import lambda_handler as send  # noqa: E402

DECOY = "+33939000001"  # the "fr" campaign of campaigns.json
NOW = 1_795_424_400.0  # 2026-11-23T09:00:00Z: the whole flood falls in one UTC day
BREAKERS_DAY = 1_796_083_200.0  # 2026-12-01T00:00:00Z: after the other scenarios' days


def arguments(argv: list[str] | None) -> argparse.Namespace:
    mix = floodlib.FloodMix()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heavy", type=int, default=mix.heavy_messages,
                        help="messages from the one heavy sender")
    parser.add_argument("--senders", type=int, default=mix.senders, help="distinct senders")
    parser.add_argument("--per-sender", type=int, default=mix.messages_per_sender)
    parser.add_argument("--budget", type=int, default=costmodel.Defaults().daily_reply_budget,
                        help="DailyReplyBudget")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--containers", type=int, default=4,
                        help="emulated Lambda containers the threads share")
    parser.add_argument("--calls", type=int, default=3_000, help="calls from the one caller")
    parser.add_argument("--callers", type=int, default=3_000, help="distinct callers, once each")
    parser.add_argument("--kill-switch-calls", type=int, default=1_000,
                        help="calls while the kill switch is on")
    # A quarter keeps the run to minutes on 2 busy cores and still floods every day's budgets.
    parser.add_argument("--replay-scale", type=float, default=0.25,
                        help="share of the 2017 profile replayed (1.0 = all of it; default "
                             "%(default)s)")
    return parser.parse_args(argv)


def per_webhook(phase: floodlib.Phase, unit: int) -> str:
    return ", ".join(f"{service} {phase.calls_per(unit, service):.4f}"
                     for service in ("dynamodb", "scheduler", "ssm"))


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    mix = floodlib.FloodMix(heavy_messages=args.heavy, senders=args.senders,
                            messages_per_sender=args.per_sender)
    clock.now = lambda: NOW  # one fixed instant: the day cannot roll over mid-run
    started = time.perf_counter()
    # Handlers log and print EMF through powertools: to a file; the figures below are ours.
    with function_logs.captured("flood") as logs, \
            floodlib.emulated_stack({"DAILY_REPLY_BUDGET": str(args.budget)}) as aws, \
            responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        twilio = FakeTwilioApi(mock)
        report = floodlib.run(mix, scheduler=aws.scheduler, group=aws.stack.schedule_group,
                              to=DECOY, now=NOW, delay=int(aws.env["REPLY_DELAY_SECONDS"]),
                              budget=args.budget, receive=receive, send=send,
                              context=LambdaContext(), sent=twilio.sent,
                              threads=args.threads, container_count=args.containers)
        billed = billed_scenarios(args, aws, twilio)
        # Then inbound floods against both breakers, on days after the others (issue 22).
        breaker_days = breakers.run_all(BREAKERS_DAY, fake=twilio, aws=aws, receive=receive,
                                        send=send, context=LambdaContext())
    wall = time.perf_counter() - started
    received, fired = report.received, report.fired
    webhooks = len(report.plan.arrivals)
    inbound_here = costmodel.worst_case_day(webhooks).twilio_inbound
    print(f"flood: {webhooks:,} webhooks {dict(report.plan.composition)}, "
          f"{args.threads} threads over {args.containers} containers")
    print(f"  answered: {dict(sorted(received.outcomes.items()))} in {received.seconds:.1f} s "
          f"({webhooks / received.seconds:,.0f}/s)")
    print(f"  eligible senders: {report.plan.eligible_senders:,}, budget: {args.budget:,}")
    print(f"  replies scheduled: {report.scheduled:,} "
          f"(expected min(budget, eligible) = {report.expected_scheduled:,})")
    print(f"  replies sent after firing every schedule twice: {len(report.sent):,} "
          f"(sender outcomes {({str(k): v for k, v in fired.outcomes.items()})}, "
          f"{fired.seconds:.1f} s)")
    print(f"  duplicates sent: {report.duplicates_sent}")
    print(f"  AWS calls per inbound webhook: {per_webhook(received, webhooks)}")
    print(f"    receiver total: {dict(sorted(received.aws_calls.items()))}")
    print(f"  AWS calls per reply sent: {per_webhook(fired, len(report.sent))}")
    bound = costmodel.breaker_bound()
    print(f"  worst case per day under the defaults (the cost model, both breakers): "
          f"€{bound.total:,.2f} = level-2 threshold €{bound.threshold:,.2f} + inbound in the "
          f"lag €{bound.overshoot:,.2f} + replies, answered calls and AWS "
          f"€{bound.configured:,.2f} (AWS sees at most the throttle's "
          f"{costmodel.throttle_cap():,} webhooks/day; this flood's {webhooks:,} SMS billed "
          f"€{inbound_here:,.2f} inbound)")
    missed = print_billed(billed, args)
    print("\n".join(breakers.report(breaker_days)))
    missed += [f"{d.flood.name}: €{d.euros:,.2f} > €{d.bound:,.2f}" for d in breaker_days
               if not d.kept]
    print(f"  wall time: {wall:.1f} s")
    print(logs.note())
    violations = report.violations()
    for violation in violations:
        print(f"INVARIANT BROKEN: {violation}")
    for bound in missed:
        print(f"BOUND MISSED: {bound}")
    print("invariants hold, every bound kept" if not violations and not missed else
          f"{len(violations)} invariant(s) broken, {len(missed)} bound(s) missed")
    return 1 if violations or missed else 0


def billed_scenarios(args: argparse.Namespace, aws, twilio) -> list[floodlib.Billing]:
    """Calls and the 2017 replay, each on its own UTC days (the budgets are per day)."""
    defaults = costmodel.Defaults(daily_reply_budget=args.budget)
    switch = aws.env["KILL_SWITCH_PARAMETER"]
    day0 = NOW - NOW % floodlib.DAY  # midnight of the SMS flood's day

    def kill_switch(value: str):
        return lambda: aws.ssm.put_parameter(Name=switch, Value=value, Overwrite=True)

    scenarios = [
        ("calls: one caller x {:,}", floodlib.one_caller(args.calls, day0 + 1 * floodlib.DAY),
         None),
        ("calls: {:,} distinct callers", floodlib.many_callers(args.callers,
                                                               day0 + 2 * floodlib.DAY), None),
        ("calls: {:,} with the kill switch on",
         floodlib.many_callers(args.kill_switch_calls, day0 + 3 * floodlib.DAY),
         kill_switch("on")),
        ("replay 2017: {:,} events over 72 h",
         floodlib.replay_2017(floodlib.Profile2017(scale=args.replay_scale),
                              day0 + 5 * floodlib.DAY), kill_switch("off")),
    ]
    return [floodlib.run_billed(
        name.format(len(events)), events, scheduler=aws.scheduler,
        group=aws.stack.schedule_group, to=DECOY,
        delay=int(aws.env["REPLY_DELAY_SECONDS"]), receive=receive, send=send,
        context=LambdaContext(), sent=twilio.sent, threads=args.threads,
        container_count=args.containers, reply_budget=args.budget,
        call_allowance=defaults.daily_answered_calls, before=before)
        for name, events, before in scenarios]


def print_billed(billed: list[floodlib.Billing], args: argparse.Namespace) -> list[str]:
    """One line per scenario; the 2017 replay beside what 2017 spent. Returns missed bounds."""
    missed = []
    for b in billed:
        print(f"{b.name}: {b.total('sms'):,} SMS + {b.total('call'):,} calls over "
              f"{len(b.days)} UTC day(s)")
        print(f"  calls answered {b.total('answered'):,} / rejected {b.total('rejected'):,}, "
              f"replies sent {b.sent:,}, billed under the defaults €{b.euros():,.2f} "
              f"({b.seconds:.1f} s)")
        missed += [f"{b.name}: {m}" for m in b.missed()]
    replay = billed[-1]
    as_ran = sum(costmodel.day_cost(costmodel.Day(
        inbound_sms=replay.day(d).inbound_sms, inbound_calls=replay.day(d).inbound_calls,
        replies=replay.day(d).inbound_sms)).total for d in replay.days)
    if args.replay_scale != 1:
        full = floodlib.Profile2017()
        saturated = all(replay.replies[d] == args.budget and replay.counts[("answered", d)] ==
                        replay.call_allowance for d in replay.days)
        extra_sms = full.sms - replay.total("sms")
        extra_calls = full.calls - replay.total("call")
        print(f"  sampled: {args.replay_scale:.0%} of the profile ({len(replay.days)} days) to "
              "stay within minutes; --replay-scale 1 replays all of it")
        if saturated:  # the budgets already capped replies and calls: only inbound grows
            extra = costmodel.day_cost(costmodel.Day(
                inbound_sms=extra_sms, inbound_calls=extra_calls, replies=0,
                answered_calls=0)).total
            print(f"  full profile ({full.sms:,} SMS + {full.calls:,} calls): budgets already "
                  f"spent every day, so only inbound grows: €{replay.euros() + extra:,.2f}")
        as_ran = as_ran / args.replay_scale
    print(f"  2017 as it ran (every SMS and call answered, full profile, the model's prices): "
          f"€{as_ran:,.2f}; the press: more than €2,700 in 72 h")
    return missed


if __name__ == "__main__":
    from bench.results_file import tee

    raise SystemExit(tee("flood", main))
