"""python -m decoy_ops: connect a Twilio number, read today's anonymous stats, kill switch."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from twilio.base.exceptions import TwilioException, TwilioRestException

from decoy import clock, controls, offair
from decoy.campaigns import load_campaigns
from decoy.outcomes import NARROW_NBSP as NBSP  # between a number and its unit: 30 s
from decoy.outcomes import french_typography
from decoy_ops import ROOT, connect, local, stats, switch
from decoy_ops.stack import OpsError, Stack, resolve, samconfig_defaults

SERVICE = "decoy-number"  # POWERTOOLS_SERVICE_NAME in template.yaml: the metrics' dimension
EPILOG = ("Names come from the stack's CloudFormation outputs unless given as flags. "
          "--local reads them from the running `make run` stack instead.")


def _common() -> argparse.ArgumentParser:
    defaults = samconfig_defaults()
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--stack-name", default=defaults["stack_name"],
                        help="deployed stack to read outputs from (default: samconfig.toml, "
                             "%(default)s)")
    common.add_argument("--region",
                        help=f"AWS region (default: samconfig.toml, {defaults['region']})")
    common.add_argument("--local", nargs="?", type=Path, const=local.STATE_FILE,
                        metavar="STATE_FILE",
                        help="operate the local stack (`make run`) that wrote STATE_FILE "
                             f"(default {local.STATE_FILE.relative_to(ROOT)}): its moto, fake "
                             "Twilio API and names; flags still win.")
    common.add_argument("--lang", choices=stats.LANGUAGES,
                        help="the sentences' language (default: the terminal's locale, "
                             "LC_ALL, LC_MESSAGES or LANG, else en)")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(prog="python -m decoy_ops", description=__doc__,
                                     epilog=EPILOG)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser(
        "connect", parents=[common], epilog=EPILOG,
        help="point Twilio numbers' SMS and voice webhooks at the stack (dry run by default)",
        description="Point each decoy number's SMS and voice webhooks (HTTP POST) at the "
                    "stack's API through Twilio's API. Prints the changes; --apply makes them.")
    p.add_argument("numbers", nargs="*", metavar="NUMBER",
                   help="E.164 decoy number(s) from campaigns.json (default: all of them)")
    p.add_argument("--apply", action="store_true", help="change the numbers (default: dry run)")
    p.add_argument("--sms-url", help="SMS webhook (default: output SmsWebhookUrl)")
    p.add_argument("--voice-url", help="voice webhook (default: output VoiceWebhookUrl)")
    _twilio_flags(p)
    t = p.add_argument_group(
        "usage triggers", "Twilio Usage Triggers, the second breaker: daily thresholds whose "
        "callback (POST /usage) turns the kill switch on. Derived from the stack's budgets "
        "(`make cost` prints them); flags override.")
    t.add_argument("--no-usage-triggers", action="store_true",
                   help="leave the account's Usage Triggers alone")
    t.add_argument("--usage-url", help="trigger callback (default: output UsageCallbackUrl)")
    t.add_argument("--daily-reply-budget", type=int,
                   help="replies per UTC day (default: output DailyReplyBudget)")
    t.add_argument("--daily-call-budget", type=int,
                   help="answered calls per UTC day (default: output DailyAnsweredCallBudget)")
    t.add_argument("--sms-per-day", type=int, help="threshold on Twilio's daily sms count")
    t.add_argument("--call-minutes-per-day", type=int,
                   help="threshold on the daily calls-inbound minutes")
    t.add_argument("--price-per-day", type=float,
                   help="threshold on the daily totalprice (the account's currency, USD)")
    t.add_argument("--off-air-sms-per-day", type=int,
                   help="level 2 (numbers off the air): threshold on the daily sms count")
    t.add_argument("--off-air-price-per-day", type=float,
                   help="level 2: at most this much a day, in the account's currency (USD for "
                        "most; Twilio's price triggers use it): the cost model converts euros "
                        "at Prices.eur_per_usd, `make cost` prints both")
    p.set_defaults(run=run_connect)

    p = commands.add_parser(
        "off-air", parents=[common], epilog=EPILOG,
        help="take every campaign number off the air by hand (level 2; dry run by default)",
        description="Empty each number's SMS URL (and a Messaging Service's inbound URL where "
                    "it governs them) and point its voice URL at the reject-busy TwiML Bin, "
                    "so Twilio stops billing inbound traffic. `connect --apply` puts them back.")
    p.add_argument("--apply", action="store_true", help="change the numbers (default: dry run)")
    _twilio_flags(p)
    p.set_defaults(run=run_off_air)

    p = commands.add_parser(
        "stats", parents=[common], epilog=EPILOG,
        help="today's anonymous counts and the reply budget left",
        description="Today's (UTC) reply budget used and left, the kill switch, and the "
                    "count of each outcome in total and per campaign. Never a number.")
    p.add_argument("--table", help="DynamoDB table (default: output TableName)")
    p.add_argument("--daily-budget", type=int,
                   help="replies per UTC day (default: output DailyReplyBudget)")
    p.add_argument("--kill-switch-parameter",
                   help="SSM name of the kill switch (default: output KillSwitchParameterName)")
    p.add_argument("--namespace", help="metrics namespace (default: the stack's MetricsNamespace)")
    p.add_argument("--service", default=SERVICE, help="metrics 'service' dimension (%(default)s)")
    p.add_argument("--no-metrics", action="store_true",
                   help="skip CloudWatch (e.g. a local stack): budget and kill switch only")
    p.add_argument("--json", action="store_true",
                   help="print JSON (with the counts' codes) instead of a table")
    p.set_defaults(run=run_stats)

    p = commands.add_parser(
        "preflight", parents=[common], epilog=EPILOG,
        help="check everything a first deploy needs, before and after it (one line each)",
        description="One line per check: ✓ ok, ✗ what to do, – skipped (not applicable "
                    "yet, or no local equivalent). Exit status 1 when any check fails. Run it "
                    "before `sam deploy` and again after `connect --apply`.")
    p.add_argument("--twilio-api-base-url",
                   help="another Twilio REST API, e.g. the local fake (http://127.0.0.1:PORT)")
    p.add_argument("--voice-reject-url",
                   help="the reject-busy TwiML Bin (default: output VoiceRejectUrl)")
    p.set_defaults(run=run_preflight)

    p = commands.add_parser(
        "kill-switch", parents=[common], epilog=EPILOG,
        help="turn the kill switch on or off, or show it",
        description="on: nothing new is scheduled (once each receiver's cache of the switch, "
                    "the KillSwitchCacheSeconds parameter, has passed) and no pending reply is "
                    "sent. off: back to normal. status: show it.")
    p.add_argument("action", choices=["on", "off", "status"])
    p.add_argument("--kill-switch-parameter",
                   help="SSM name of the kill switch (default: output KillSwitchParameterName)")
    _twilio_flags(p)  # status also says whether the numbers are off the air (level 2)
    p.set_defaults(run=run_kill_switch)
    return parser


def _twilio_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--twilio-api-base-url",
                   help="another Twilio REST API, e.g. the local fake (http://127.0.0.1:PORT)")
    p.add_argument("--account-sid-parameter",
                   help="SSM name of the account SID (default: the stack's parameter); "
                        "TWILIO_ACCOUNT_SID + TWILIO_AUTH_TOKEN in the environment win")
    p.add_argument("--auth-token-parameter",
                   help="SSM name of the auth token (default: the stack's parameter)")
    p.add_argument("--voice-reject-url",
                   help="the reject-busy TwiML Bin (default: output VoiceRejectUrl)")


class Aws:
    """boto3 clients for the chosen region, created on first use."""

    def __init__(self, region: str | None):
        self._region = region
        self._clients: dict[str, Any] = {}

    @property
    def region(self) -> str | None:
        return self._region

    def __call__(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=self._region)
        return self._clients[service]


def _kill_switch_name(args: argparse.Namespace, stack: Stack) -> str:
    return resolve(args.kill_switch_parameter,
                   lambda: stack.output("KillSwitchParameterName", "--kill-switch-parameter"))


def _lang(args: argparse.Namespace) -> str:
    """--lang, else the terminal's locale (as stats reads it)."""
    return getattr(args, "lang", None) or stats.reader_language()


def _typeset(lang: str, text: str) -> str:
    """A text already in the reader's language, with French typography when French."""
    return french_typography(text) if lang == "fr" else text


def _say(lang: str, en: str, fr: str) -> str:
    """The sentence in the reader's language (French with its typography)."""
    return _typeset(lang, fr if lang == "fr" else en)


def run_kill_switch(args: argparse.Namespace, aws: Aws, stack: Stack, now: float) -> int:
    lang = _lang(args)
    name = _kill_switch_name(args, stack)
    if args.action != "status":
        switch.turn(aws("ssm"), name, on=args.action == "on")
    state = switch.explain(switch.read(aws('ssm'), name), lang)
    print(_say(lang, f"kill switch {name}: {state}", f"coupe-circuit {name} : {state}"))
    if args.action == "status":
        print(_air_status(args, aws, stack, lang))
    if args.action == "on":
        try:
            seconds = int(stack.parameter('KillSwitchCacheSeconds', '-'))
            cache, cache_fr = f"{seconds} s", f"{seconds}{NBSP}s"
        except (OpsError, ValueError):
            cache, cache_fr = "30 s by default", f"30{NBSP}s (la valeur par défaut)"
        print(_say(lang, f"  incoming messages and calls see it within {cache} (each receiver "
                         "keeps it that long); a reply about to leave checks it every time",
                   f"  les messages et appels entrants en tiennent compte en {cache_fr} au plus "
                   "(chaque fonction qui les reçoit garde l'état en mémoire ce temps-là) ; une "
                   "réponse sur le point de partir le vérifie à chaque fois"))
    return 0


def run_stats(args: argparse.Namespace, aws: Aws, stack: Stack, now: float) -> int:
    table = resolve(args.table, lambda: stack.output("TableName", "--table"))
    budget = args.daily_budget if args.daily_budget is not None else int(
        stack.output("DailyReplyBudget", "--daily-budget"))
    value = switch.read(aws("ssm"), _kill_switch_name(args, stack))
    today = stats.Today(day=clock.utc_day(now), budget=budget,
                        used=controls.budget_used_today(aws("dynamodb"), table, now),
                        kill_switch="on" if switch.is_on(value) else "off")
    pools = stats.pool_columns(load_campaigns())
    if getattr(args, "local_stack", None) is not None:  # the local stack's own EMF counts
        found = local.local_stats(args.local_stack)
        today = replace(today, counts=stats.counts_from_local(
            found, [c.id for c in load_campaigns()]), labels=stats.labels_from_local(found, pools))
    elif not args.no_metrics:
        namespace = resolve(args.namespace,
                            lambda: stack.parameter("MetricsNamespace", "--namespace"))
        campaigns = [c.id for c in load_campaigns()]
        try:
            counts, labels = stats.split_labels(stats.counts_today(
                aws("cloudwatch"), namespace, args.service, campaigns, now, pools))
            today = replace(today, counts=counts, labels=labels)
        except (ClientError, BotoCoreError) as exc:
            today = replace(today, metrics_error=type(exc).__name__)
    if args.json:
        print(json.dumps({**asdict(today), "left": today.left}, indent=2))
    else:
        print("\n".join(stats.render(today, args.lang)))
    return 0


def _client(args: argparse.Namespace, aws: Aws, stack: Stack) -> Any:
    """Twilio's REST client with the stack's own credentials (never a parent account's)."""
    from decoy.outbound import twilio_client  # loads twilio.rest: only these commands need it

    sid, token = connect.twilio_credentials(
        aws("ssm"),
        lambda: resolve(args.account_sid_parameter, lambda: stack.parameter(
            "TwilioAccountSidParameter", "--account-sid-parameter")),
        lambda: resolve(args.auth_token_parameter, lambda: stack.parameter(
            "TwilioAuthTokenParameter", "--auth-token-parameter")))
    return twilio_client(sid, token, args.twilio_api_base_url)


def _reject_url(args: argparse.Namespace, stack: Stack) -> str:
    """The reject-busy TwiML Bin: --voice-reject-url, else output VoiceRejectUrl ("" when a
    stack deployed before issue 22 has none)."""
    if args.voice_reject_url is not None:
        return str(args.voice_reject_url)
    try:
        return stack.output("VoiceRejectUrl", "--voice-reject-url")
    except OpsError:
        return ""


def _campaign_numbers(args: argparse.Namespace) -> list[str]:
    campaigns = load_campaigns()
    numbers = getattr(args, "numbers", None) or campaigns.numbers()  # retired ones too
    unknown = [n for n in numbers if campaigns.for_number(n) is None]
    if unknown:
        raise OpsError(f"{', '.join(unknown)}: not in campaigns.json, the receiver would "
                       "answer 404; add a campaign first",
                       fr=f"{', '.join(unknown)} : absent(s) de campaigns.json, le récepteur "
                       "répondrait 404 ; ajoutez d'abord une campagne")
    return numbers


def _unreachable(exc: OSError) -> OpsError:
    """requests' connection errors: wrong --twilio-api-base-url, offline."""
    return OpsError(f"Twilio API unreachable: {type(exc).__name__}",
                    fr=f"API Twilio injoignable : {type(exc).__name__}")


NO_REJECT_BIN = ("no VoiceRejectUrl: a call our API cannot answer (throttled, failing) is "
                 "answered by Twilio's application error, billed; create the reject-busy "
                 "TwiML Bin (docs/deploy.md, \"Cap the money\") and set the parameter")
NO_REJECT_BIN_FR = ("pas de VoiceRejectUrl : un appel auquel notre API ne peut pas répondre "
                    "(limitée, en panne) reçoit l'erreur d'application de Twilio, facturée ; "
                    "créez le TwiML Bin qui rejette en « occupé » (docs/deploy.md, « Cap the "
                    "money ») et renseignez le paramètre")


def run_connect(args: argparse.Namespace, aws: Aws, stack: Stack, now: float) -> int:
    lang = _lang(args)
    numbers = _campaign_numbers(args)
    sms_url = resolve(args.sms_url, lambda: stack.output("SmsWebhookUrl", "--sms-url"))
    reject_url = _reject_url(args, stack)
    wanted = connect.wanted_settings(
        sms_url, resolve(args.voice_url, lambda: stack.output("VoiceWebhookUrl", "--voice-url")),
        reject_url)
    client = _client(args, aws, stack)
    trigger_sets = [] if args.no_usage_triggers else _trigger_sets(args, stack)
    if not reject_url:
        print(_say(lang, f"warning: {NO_REJECT_BIN}", f"avertissement : {NO_REJECT_BIN_FR}"))
    try:
        # Where a Messaging Service governs a number's SMS, its inbound URL must be ours too
        # (and level 2 empties it): put back only a Service that holds this stack's numbers.
        changes = offair.plan(client, numbers, wanted,
                              {offair.INBOUND_URL: sms_url, "inbound_method": "POST"})
        done = _say(lang, "already pointed at this stack", "déjà dirigé vers cette pile")
        for change in changes:
            print(_typeset(lang, "\n".join(offair.describe(change, done, lang))))
        pending = [c for c in changes if c.sid and c.changes and not c.refused]
        trigger_plans = [(plan, url) for triggers, url in trigger_sets for plan in
                         connect.plan_triggers(client.usage.triggers.list(limit=200),
                                               triggers, url)]
        for trigger_plan, url in trigger_plans:
            print(_typeset(lang, connect.describe_trigger(trigger_plan, url, lang)))
        changing = [(t, url) for t, url in trigger_plans if t.action != "keep"]
        rearmed = [t for t, _ in changing if t.fired]
        if (pending or changing) and not args.apply:
            print(_say(lang, f"dry run: {len(pending)} number(s) and {len(changing)} usage "
                             "trigger(s) would change; run again with --apply",
                       f"essai à blanc : {len(pending)} numéro(s) et {len(changing)} alerte(s) "
                       "de dépense changeraient ; relancez avec --apply"))
        elif pending or changing:
            for change in pending:
                offair.apply(client, change)
            for trigger_plan, url in changing:
                connect.apply_trigger(client, trigger_plan, url)
            back = sum(1 for c in pending if c.what == "number" and offair.SMS_URL in c.changes
                       and not c.changes[offair.SMS_URL][0])
            print(_say(lang, f"applied: {len(pending)} number(s) now point at this stack"
                       + (f" ({back} back on the air)" if back else "")
                       + f", {len(changing)} usage trigger(s) changed",
                       f"fait : {len(pending)} numéro(s) dirigé(s) vers cette pile"
                       + (f" ({back} rebranché(s))" if back else "")
                       + f", {len(changing)} alerte(s) de dépense modifiée(s)"))
        if rearmed:
            print(_say(lang, f"re-armed {len(rearmed)} usage trigger(s) that had already fired "
                       "(Twilio fires a trigger once per period): each fires again at once if "
                       "today's usage is still over its threshold; to stay on the air today, "
                       "raise it (--price-per-day, --off-air-price-per-day, ...)",
                       f"{len(rearmed)} alerte(s) de dépense déjà déclenchée(s) réarmée(s) "
                       "(Twilio déclenche une alerte une fois par période) : chacune se "
                       "redéclenche aussitôt si la consommation du jour dépasse encore son "
                       "seuil ; pour rester branché aujourd'hui, relevez-le "
                       "(--price-per-day, --off-air-price-per-day, ...)"))
    except OSError as exc:
        raise _unreachable(exc) from None
    return 1 if any(c.sid is None for c in changes) else 0


def run_off_air(args: argparse.Namespace, aws: Aws, stack: Stack, now: float) -> int:
    lang = _lang(args)
    numbers = _campaign_numbers(args)
    reject_url = _reject_url(args, stack)
    client = _client(args, aws, stack)
    if not reject_url:
        print(_say(lang, "warning: no VoiceRejectUrl: the numbers' voice URL is emptied, "
                         "callers hear the number is out of service (not billed)",
                   "avertissement : pas de VoiceRejectUrl : l'URL vocale des numéros est "
                   "vidée, les appelants entendent que le numéro n'est pas en service (non "
                   "facturé)"))
    try:
        changes = offair.plan_off_air(client, numbers, reject_url)
        done = _say(lang, "already off the air", "déjà débranché")
        for change in changes:
            print(_typeset(lang, "\n".join(offair.describe(change, done, lang))))
        pending = [c for c in changes if c.sid and c.changes and not c.refused]
        if pending and not args.apply:
            print(_say(lang, f"dry run: {len(pending)} number(s) or Service(s) would go off the "
                             "air; run again with --apply",
                       f"essai à blanc : {len(pending)} numéro(s) ou Messaging Service(s) "
                       "seraient débranchés ; relancez avec --apply"))
        elif pending:
            for change in pending:
                offair.apply(client, change)
            print(_say(lang, f"applied: {len(pending)} number(s) or Service(s) off the air; "
                             "`connect --apply` puts them back",
                       f"fait : {len(pending)} numéro(s) ou Messaging Service(s) débranché(s) ; "
                       "`connect --apply` les rebranche"))
        else:
            print(_say(lang, "every number is already off the air",
                       "tous les numéros sont déjà débranchés"))
    except OSError as exc:
        raise _unreachable(exc) from None
    refused = [c for c in changes if c.refused]
    return 1 if refused or any(c.sid is None for c in changes) else 0


def _air_status(args: argparse.Namespace, aws: Aws, stack: Stack, lang: str = "en") -> str:
    """'numbers: on the air' / 'OFF THE AIR' (level 2), read from Twilio; never fails."""
    try:
        client = _client(args, aws, stack)
        numbers = load_campaigns().numbers()
        found = {n: offair.find_number(client, n) for n in numbers}
        services = [s for s in offair.services_holding(client, numbers) if s.governs]
    except (OpsError, TwilioException, OSError, ClientError, BotoCoreError) as exc:
        return _say(lang, f"numbers: unknown (Twilio not read: {type(exc).__name__})",
                    f"numéros : état inconnu (Twilio n'a pas pu être lu : {type(exc).__name__})")
    off = [n for n, r in found.items() if r is not None and offair.is_off_air(r)]
    off += [f"{s.name} (Messaging Service)" for s in services
            if not getattr(s.resource, offair.INBOUND_URL, "")]
    owned = sum(1 for r in found.values() if r is not None)
    if not off:
        return _say(lang, f"numbers: on the air ({owned} number(s) reach this stack)",
                    f"numéros : branchés ({owned} numéro(s) arrivent sur cette pile)")
    which = f"{len(off)} of {owned + len(services)} ({', '.join(off)})"
    which_fr = f"{len(off)} sur {owned + len(services)} ({', '.join(off)})"
    return _say(lang, f"numbers: OFF THE AIR, {which}: Twilio bills no inbound SMS for them; "
                      "`connect --apply` puts them back",
                f"numéros : DÉBRANCHÉS, {which_fr} : Twilio ne facture aucun SMS reçu sur "
                "eux ; `connect --apply` les rebranche")


def _trigger_sets(args: argparse.Namespace, stack: Stack
                  ) -> list[tuple[list[connect.Trigger], str]]:
    """Both levels' triggers with their callbacks: level 1 (kill switch), level 2 (off air)."""
    from decoy_ops.costmodel import Defaults, usage_thresholds

    level_one, usage_url = _wanted_triggers(args, stack)
    derived = usage_thresholds(Defaults(
        daily_reply_budget=_budget(args.daily_reply_budget, stack, "DailyReplyBudget",
                                   "--daily-reply-budget"),
        daily_answered_calls=_budget(args.daily_call_budget, stack, "DailyAnsweredCallBudget",
                                     "--daily-call-budget")))
    sms = args.off_air_sms_per_day
    price = args.off_air_price_per_day
    level_two = connect.off_air_triggers(
        sms if sms is not None else derived.off_air_sms_per_day,
        price if price is not None else derived.off_air_price_per_day_usd,
        stack="local" if args.local is not None else stack.name or connect.DEFAULT_STACK)
    return [(level_one, usage_url), (level_two, connect.off_air_callback(usage_url))]


def _budget(value: int | None, stack: Stack, output: str, flag: str) -> int:
    return value if value is not None else int(stack.output(output, flag))


def run_preflight(args: argparse.Namespace, aws: Aws, stack: Stack, now: float) -> int:
    from decoy.outbound import twilio_client
    from decoy_ops import preflight

    local_run = args.local is not None
    base_url = args.twilio_api_base_url

    def client(sid: str, token: str) -> Any:
        made = twilio_client(sid, token, base_url)
        return preflight.local_twilio(made, base_url) if base_url else made

    def credentials(name: Callable[[str], str]) -> tuple[str, str]:
        return connect.twilio_credentials(aws("ssm"), lambda: name("TwilioAccountSidParameter"),
                                          lambda: name("TwilioAuthTokenParameter"))

    trigger_args = argparse.Namespace(
        usage_url=None, daily_reply_budget=None, daily_call_budget=None, sms_per_day=None,
        call_minutes_per_day=None, price_per_day=None, off_air_sms_per_day=None,
        off_air_price_per_day=None, local=args.local)
    configured = samconfig_defaults()["region"]
    checks = preflight.run(preflight.Setup(
        aws=aws, stack=stack, region=aws.region or "", samconfig_region=configured,
        twilio=client, credentials=credentials, load_campaigns=load_campaigns, local=local_run,
        connect_command='make ops ARGS="connect --local --apply"' if local_run
        else 'make ops ARGS="connect --apply"',
        wanted_triggers=lambda: _trigger_sets(trigger_args, stack),
        reject_url=lambda: _reject_url(args, stack)))
    print("\n".join(preflight.render(checks, _lang(args))))
    return 1 if any(c.status == preflight.FAIL for c in checks) else 0


def _wanted_triggers(args: argparse.Namespace, stack: Stack) -> tuple[list[connect.Trigger], str]:
    """The three daily triggers: flags, else derived from the stack's budgets."""
    from decoy_ops.costmodel import Defaults, usage_thresholds

    def budget(value: int | None, output: str, flag: str) -> int:
        return value if value is not None else int(stack.output(output, flag))

    usage_url = resolve(args.usage_url, lambda: stack.output("UsageCallbackUrl", "--usage-url"))
    derived = usage_thresholds(Defaults(
        daily_reply_budget=budget(args.daily_reply_budget, "DailyReplyBudget",
                                  "--daily-reply-budget"),
        daily_answered_calls=budget(args.daily_call_budget, "DailyAnsweredCallBudget",
                                    "--daily-call-budget")))
    pick = {"sms": args.sms_per_day, "calls": args.call_minutes_per_day,
            "price": args.price_per_day}
    return connect.wanted_triggers(
        pick["sms"] if pick["sms"] is not None else derived.sms_per_day,
        pick["calls"] if pick["calls"] is not None else derived.call_minutes_per_day,
        pick["price"] if pick["price"] is not None else derived.price_per_day_usd,
        stack="local" if args.local is not None else stack.name or connect.DEFAULT_STACK
    ), usage_url


def twilio_error(exc: TwilioException, lang: str = "en") -> str:
    """One line, without the response body (twilio-python's own reason stays as it is)."""
    fr = lang == "fr"
    api = "API Twilio" if fr else "Twilio API"
    if isinstance(exc, TwilioRestException):
        return f"{api}: HTTP {exc.status}, {'erreur' if fr else 'error'} {exc.code}"
    reason = exc.args[0] if exc.args else type(exc).__name__
    status = getattr(exc.args[1], "status_code", None) if len(exc.args) > 1 else None
    return f"{api}: {reason}" + (f" (HTTP {status})" if status else "")


def _use_local(args: argparse.Namespace) -> tuple[str, Stack, Callable[[], float]]:
    """The local stack's region, names and clock; its twilio URL for connect, no CloudWatch
    for stats."""
    running = local.load(args.local)
    if "twilio_api_base_url" in vars(args) and not args.twilio_api_base_url:
        args.twilio_api_base_url = running.twilio_url  # connect: the fake Twilio API
    if "no_metrics" in vars(args) and not args.no_metrics:
        args.local_stack = running  # stats: counts from the stack, not CloudWatch
    return running.region, local.use(running, args.local), running.now


def _number_after_local(args: argparse.Namespace) -> None:
    """`connect --local +33…`: --local took the number for its STATE_FILE; give it back."""
    if (args.local is not None and "numbers" in vars(args) and not args.local.exists()
            and re.fullmatch(r"\+?\d{6,15}", str(args.local))):
        args.numbers = [*args.numbers, str(args.local)]
        args.local = local.STATE_FILE


def main(argv: Sequence[str] | None = None, now: Callable[[], float] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _number_after_local(args)
    try:
        if args.local is not None:  # its day is the stack's day, whatever --clock-start said
            region, stack, stack_now = _use_local(args)
            now = now or stack_now
            aws = Aws(args.region or region)
        else:
            aws = Aws(args.region or samconfig_defaults()["region"])
            stack = Stack(args.stack_name, lambda: aws("cloudformation"))
        return args.run(args, aws, stack, (now or clock.now)())
    except TwilioException as exc:
        lang = _lang(args)
        print(_typeset(lang, f"{_say(lang, 'error:', 'erreur :')} {twilio_error(exc, lang)}"),
              file=sys.stderr)
        return 1
    except (OpsError, ClientError, BotoCoreError) as exc:
        lang = _lang(args)
        french = getattr(exc, "fr", "")
        if lang == "fr" and french:
            print(french_typography("erreur : " + " ".join(french.split())), file=sys.stderr)
        else:
            print("error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 1
