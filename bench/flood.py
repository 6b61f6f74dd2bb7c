"""make bench-flood: 100,000 webhooks through the real handlers on moto, from several threads.

Prints what the cost shield let through, what it cost in AWS calls, and the worst case
per day from the cost model; exits 1 if an invariant does not hold.
"""

from __future__ import annotations

import argparse
import contextlib
import io
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

from bench import floodlib  # noqa: E402
from decoy import clock  # noqa: E402
from decoy_local import costmodel  # noqa: E402
from receiver.app import lambda_handler as receive  # noqa: E402
from sender.app import lambda_handler as send  # noqa: E402

DECOY = "+33939000001"  # the "fr" campaign of campaigns.json
NOW = 1_795_424_400.0  # 2026-11-23T09:00:00Z: the whole flood falls in one UTC day


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
    with floodlib.emulated_stack({"DAILY_REPLY_BUDGET": str(args.budget)}) as aws, \
            responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        twilio = FakeTwilioApi(mock)
        # Handlers print through powertools; the figures below are the bench's own.
        with contextlib.redirect_stdout(io.StringIO()):
            report = floodlib.run(mix, scheduler=aws.scheduler, group=aws.stack.schedule_group,
                                  to=DECOY, now=NOW, delay=int(aws.env["REPLY_DELAY_SECONDS"]),
                                  budget=args.budget, receive=receive, send=send,
                                  context=LambdaContext(), sent=twilio.sent,
                                  threads=args.threads, container_count=args.containers)
    wall = time.perf_counter() - started
    received, fired = report.received, report.fired
    webhooks = len(report.plan.arrivals)
    worst = costmodel.worst_case_day(costmodel.throttle_cap())  # AWS sees at most the cap
    inbound_here = costmodel.worst_case_day(webhooks).twilio_inbound
    print(f"flood: {webhooks:,} webhooks {dict(report.plan.composition)}, "
          f"{args.threads} threads over {args.containers} containers")
    print(f"  answered: {dict(sorted(received.outcomes.items()))} in {received.seconds:.1f} s "
          f"({webhooks / received.seconds:,.0f}/s)")
    print(f"  eligible senders: {report.plan.eligible_senders:,}, budget: {args.budget:,}")
    print(f"  replies scheduled: {report.scheduled:,} "
          f"(expected min(budget, eligible) = {report.expected_scheduled:,})")
    print(f"  replies sent after firing every schedule twice: {len(report.sent):,} "
          f"(sender outcomes {dict(fired.outcomes)}, {fired.seconds:.1f} s)")
    print(f"  duplicates sent: {report.duplicates_sent}")
    print(f"  AWS calls per inbound webhook: {per_webhook(received, webhooks)}")
    print(f"    receiver total: {dict(sorted(received.aws_calls.items()))}")
    print(f"  AWS calls per reply sent: {per_webhook(fired, len(report.sent))}")
    print(f"  worst case per day under the defaults: €{worst.bounded_by_config:,.2f} bounded by "
          f"config (replies €{worst.twilio_replies:,.2f} + AWS €{worst.aws_total:,.2f} at "
          f"the throttle's {costmodel.throttle_cap():,} webhooks/day), plus Twilio inbound "
          f"€{costmodel.Prices().twilio_sms_in_eur} per SMS that nothing in AWS bounds "
          f"(this flood's {webhooks:,}: €{inbound_here:,.2f})")
    print(f"  wall time: {wall:.1f} s")
    violations = report.violations()
    for violation in violations:
        print(f"INVARIANT BROKEN: {violation}")
    print("invariants hold" if not violations else f"{len(violations)} invariant(s) broken")
    return 1 if violations else 0


if __name__ == "__main__":
    from bench.results_file import tee

    raise SystemExit(tee("flood", main))
