"""`make demo`: signed Twilio webhooks sent to a running `make run`, and what came of them.

The functions below are importable (tests, load generators): `LocalStack.load()` reads
the state file the stack writes, `send_sms`/`send_call` POST correctly signed webhooks.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import os
import re
import secrets
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from decoy import outcomes
from decoy.outcomes import (
    BOOKKEEPING,
    LANGUAGES,
    Metric,
    Outcome,
    french_typography,
    label,
    sentence,
    status_metric,
)
from decoy.phone import MOBILE_PREFIXES, mask
from decoy_local import ROOT
from decoy_local.webhooks import Answer, call_form, loopback_request, post_form, sms_form

STATE_FILE = ROOT / ".local" / "stack.json"
# What the receiver counted for the webhooks a step sent, in the order the demo lists them.
RECEIVER_OUTCOMES = (*outcomes.RECEIVER_OUTCOMES, Metric.OptOut, Metric.ForgedSignature)
SENDER_SHOWN = (Outcome.Sent, Outcome.KillSwitch, Outcome.SendFailed, Metric.SendRetried)
DELIVERY_SHOWN = (status_metric("delivered"), status_metric("undelivered"))


class StackUnavailable(RuntimeError):
    """No running `make run` to talk to."""


@dataclass(frozen=True)
class LocalStack:
    """What the simulator and `decoy_ops --local` need to know about a running stack."""

    api_url: str
    twilio_url: str
    aws_url: str
    region: str
    account_sid: str
    auth_token: str
    time_scale: float
    reply_delay_seconds: int
    campaigns: list[dict[str, Any]]
    parameters: dict[str, str]
    outputs: dict[str, str]  # named as the deployed stack's CloudFormation Outputs
    clock_offset: float = 0.0  # the functions' clock minus the real one (--clock-start)

    @classmethod
    def load(cls, path: Path = STATE_FILE) -> LocalStack:
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise StackUnavailable(f"no {path}: start the stack first (`make run`)") from None
        if not _alive(int(state.get("pid", 0))):
            raise StackUnavailable(f"the stack recorded in {path} is not running: `make run`")
        return cls(**{name: state[name] for name in cls.__dataclass_fields__ if name in state})

    def now(self) -> float:
        """The stack's clock, as its functions read it."""
        return time.time() + self.clock_offset

    def campaign(self, campaign_id: str | None = None) -> dict[str, Any]:
        """The campaign named by its id, one of its pool's numbers or labels ('label' or
        'campaign/label'); "number" is then that pool number (else the first active one)."""
        for campaign in self.campaigns:
            if campaign_id in (None, campaign["id"]):
                return campaign
            for entry in pool(campaign):
                if campaign_id in (entry["number"], entry["label"],
                                   f"{campaign['id']}/{entry['label']}"):
                    return {**campaign, "number": entry["number"], "label": entry["label"]}
        raise ValueError(f"no campaign, number or label {campaign_id!r} in the stack")

    def decoy_number(self, to: str | None = None) -> str:
        return str(self.campaign(to)["number"])


TO_HELP = "campaign id, decoy number or number label (campaign/label) [first campaign]"


def pool(campaign: dict[str, Any]) -> list[dict[str, str]]:
    """A state file campaign's numbers (a stack from before pools wrote one "number")."""
    return campaign.get("numbers") or [{"number": campaign["number"], "label": "main",
                                        "status": "active"}]


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- what Twilio would send ------------------------------------------------------------

def send_sms(stack: LocalStack, sender: str, to: str, body: str = "salut, ça va ?",
             forged: bool = False) -> Answer:
    """A signed 'message comes in' webhook (forged: signed with a wrong token)."""
    form = sms_form(sender, to, body, account_sid=stack.account_sid)
    token = "not-the-auth-token" if forged else stack.auth_token
    return post_form(f"{stack.api_url}/sms", form, token)


def send_call(stack: LocalStack, caller: str, to: str) -> Answer:
    """A signed 'call comes in' webhook; the answer is the voicemail TwiML."""
    return post_form(f"{stack.api_url}/voice", call_form(caller, to, account_sid=stack.account_sid),
                     stack.auth_token)


def mobile_numbers(calling_code: str, count: int) -> list[str]:
    """`count` distinct random mobile numbers of a country (E.164) that pass the filters."""
    prefix = MOBILE_PREFIXES.get(calling_code, ("",))[0]
    national = 10 if calling_code == "1" else 9
    numbers: set[str] = set()
    while len(numbers) < count:
        digits = "".join(str(secrets.randbelow(10)) for _ in range(national - len(prefix)))
        numbers.add(f"+{calling_code}{prefix}{digits}")
    return sorted(numbers)


def spoken_text(twiml: str) -> str:
    """The <Say> text of a TwiML answer (or the <Play> URL)."""
    match = re.search(r"<(Say|Play)[^>]*>(.*?)</\1>", twiml, re.S)
    return html.unescape(match.group(2)) if match else ""


# -- the stack's local endpoints -------------------------------------------------------

def _json(url: str, payload: Any = None, timeout: float = 10.0) -> Any:
    data = None if payload is None else json.dumps(payload).encode()
    try:
        answer = loopback_request(url, data, {"Content-Type": "application/json"}, timeout)
    except OSError as error:
        raise StackUnavailable(f"{url}: {error} (is `make run` running?)") from None
    if answer.status != 200:
        raise ValueError(f"{url}: HTTP {answer.status} {answer.body}")
    return json.loads(answer.body)


def stats(stack: LocalStack) -> dict[str, Any]:
    return _json(f"{stack.api_url}/_local/stats")


def outbox(stack: LocalStack) -> list[dict[str, Any]]:
    return _json(f"{stack.twilio_url}/_local/outbox")["messages"]


def twilio_numbers(stack: LocalStack) -> list[dict[str, Any]]:
    """The decoy numbers as the fake Twilio account owns them, with their webhooks."""
    return _json(f"{stack.twilio_url}/_local/numbers")["numbers"]


def twilio_usage_triggers(stack: LocalStack) -> list[dict[str, Any]]:
    """The Usage Triggers `decoy_ops connect` installed on the fake Twilio account."""
    return _json(f"{stack.twilio_url}/_local/triggers")["usage_triggers"]


def fire_usage_triggers(stack: LocalStack, level: int) -> list[str]:
    """Fire the installed Usage Triggers of that level as Twilio would (level 1: the kill
    switch, 2: the numbers off the air): the sids that fired (once per period, as Twilio)."""
    return list(_json(f"{stack.twilio_url}/_local/fire", {"level": level})["fired"])


def skip(stack: LocalStack, seconds: float) -> dict[str, Any]:
    """Pending replies act as if `seconds` of their delay had passed (due ones fire now)."""
    return _json(f"{stack.api_url}/_local/skip", {"seconds": seconds})


def fail_next(stack: LocalStack, error: int | str, times: int = 1,
              created: bool = False) -> dict[str, Any]:
    """Make the fake Twilio answer the next `times` sends with `error` (429, 500, 21610,
    502 or "garbage"/"reset"/"timeout"...); created=True: after creating the message."""
    return _json(f"{stack.twilio_url}/_local/failures",
                 {"error": error, "times": times, "created": created})


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll `condition` until true or `timeout` seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def metric_changes(before: dict[str, Any], after: dict[str, Any]) -> Counter[str]:
    changes = Counter(after["metrics"])
    changes.subtract(before["metrics"])
    return Counter({k: int(v) for k, v in changes.items() if v})


def describe(changes: Counter[str], names: tuple[str, ...] = RECEIVER_OUTCOMES) -> str:
    parts = [f"{name} {changes[name]}" for name in names if changes.get(name)]
    return ", ".join(parts) or "nothing counted"


# What each receiver outcome means for the engineer running the demo, in one clause with the
# stack's figures; `--lang en|fr` shows the outcome's plain sentence instead (decoy.outcomes).
MEANING = {
    Outcome.Scheduled: "one reply scheduled, due in {delay}",
    Outcome.Counted: "counted; this sender already has a reply scheduled (one per window)",
    Outcome.Duplicate: "a retry of a webhook already handled: nothing new",
    Outcome.BlockedQuota: "over MaxMessagesPerSender={MaxMessagesPerSender}: ignored, no reply",
    Outcome.BlockedBudget: "DailyReplyBudget={DailyReplyBudget} spent today: nothing scheduled",
    Outcome.BlockedCountry: "this sender may not get a reply: {why}",
    Outcome.BlockedCallAllowance: "DailyAnsweredCallBudget={DailyAnsweredCallBudget} spent "
                                  "today: the call is rejected busy",
    Outcome.KillSwitch: "the kill switch is on: nothing scheduled",
    Metric.OptOut: "STOP: this sender never gets a message again",
    Outcome.OptedOut: "this sender opted out (STOP): nothing scheduled",
    Metric.ForgedSignature: "invalid X-Twilio-Signature",
    Outcome.StoreFailed: "DynamoDB failed: fail closed, nothing scheduled",
    Outcome.ScheduleFailed: "Scheduler failed: fail closed, nothing scheduled",
}
NOT_OUTCOMES = BOOKKEEPING


class _Figures(dict):
    """The stack's figures for MEANING; one an older stack does not report reads '?'."""

    def __missing__(self, key: str) -> str:
        return "?"


def national_hint(number: str, calling_code: str) -> str | None:
    """'0612345678' -> '+33612345678': Twilio always sends From in E.164."""
    digits = re.sub(r"[ .\-]", "", number)
    if re.fullmatch(r"0\d{8,10}", digits):
        return f"+{calling_code}{digits[1:]}"
    if re.fullmatch(r"00[1-9]\d{7,14}", digits):
        return f"+{digits[2:]}"
    return None


def outcome_line(stack: LocalStack, answer: Answer, changes: Counter[str], sender: str,
                 campaign: dict[str, Any], lang: str | None = None) -> str:
    """'HTTP 200 Scheduled: one reply scheduled, due in 3600 s (10 s here)', as make demo says."""
    from decoy.phone import sender_rejection

    delay = stack.reply_delay_seconds
    names = [n for n in changes if n not in NOT_OUTCOMES and changes[n] > 0]
    if answer.status == 429:
        return f"HTTP 429 {answer.body.strip()}: the API stage throttling, not passed on"
    if not names:
        return f"HTTP {answer.status} {answer.body.strip()[:80]}"
    why = sender_rejection(sender, campaign["allowed_country_codes"]) or "not allowed"
    values = {**stack.parameters, "why": why,
              "delay": f"{delay} s ({delay / stack.time_scale:g} s at time scale "
                       f"{stack.time_scale:g})"}
    if lang:  # the plain sentence a person reads
        parts = [f"{n}: {sentence(n, lang)}" for n in names]
    else:
        parts = [f"{n}: {MEANING[n].format_map(_Figures(values))}" if n in MEANING else n
                 for n in names]
    line = f"HTTP {answer.status} " + "; ".join(parts)
    hint = national_hint(sender, campaign["allowed_country_codes"][0])
    if Outcome.BlockedCountry in names and hint and not lang:
        code = hint[:len(campaign["allowed_country_codes"][0]) + 1]
        line += (f"; Twilio sends From in E.164: {code} then the number without its leading 0 "
                 f"(sms {hint[:len(code) + 1]}…)")
    return line


def terminal_language(environ: dict[str, str] | None = None) -> str:
    """fr when the terminal's locale is French (LC_ALL, LC_MESSAGES, LANG), else en."""
    environ = dict(os.environ) if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(name):
            return "fr" if environ[name][:2].lower() == "fr" else "en"
    return "en"


def stats_table(found: dict[str, Any], lang: str = "en", codes: bool = False) -> list[str]:
    """GET /_local/stats as a person reads it: the state in a line, one row per count named in
    plain words (in total and per campaign); `codes`: rows named by their codes, then what
    each row counts, in a sentence."""
    fr = lang == "fr"
    state = (f"coupe-circuit {'activé' if found.get('kill_switch') == 'on' else 'désactivé'} · "
             f"{found.get('pending_schedules', 0)} réponse(s) en attente · "
             f"{found.get('dead_letters', 0)} en échec définitif · "
             f"{found.get('outbox', 0)} dans la boîte d'envoi" if fr else
             f"kill switch {found.get('kill_switch', '?')} · "
             f"{found.get('pending_schedules', 0)} reply(ies) waiting · "
             f"{found.get('dead_letters', 0)} in the dead-letter queue · "
             f"{found.get('outbox', 0)} in the outbox")
    total = found.get("metrics", {})
    campaigns = {c: v for c, v in found.get("campaigns", {}).items() if any(v.values())}
    known = [*Metric.__members__, *Outcome.__members__]
    names = sorted(total, key=lambda n: (known.index(n) if n in known else len(known), n))
    if not names:
        return [state, "aucun compte pour l'instant" if fr else "nothing counted yet"]
    columns = {("total" if fr else "all"): total, **campaigns}
    rows = names if codes else [label(name, lang) for name in names]
    width = max(len(n) for n in rows) + 2
    cell = max(len(c) for c in columns) + 2
    lines = [state, " " * width + "".join(c.rjust(cell) for c in columns)]
    lines += [f"{row:<{width}}" + "".join(str(int(v.get(name, 0))).rjust(cell)
                                          for v in columns.values())
              for name, row in zip(names, rows, strict=True)]
    if codes:
        lines.append(french_typography("ce que compte chaque ligne :") if fr
                     else "what each row counts:")
        lines += [f"- {name}: {sentence(name, lang)}" for name in names]
    return lines


def positive(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _bounded_int(text, 1)


def non_negative(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _bounded_int(text, 0)


def _bounded_int(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"{value}: must be {least} or more")
    return value


def receiver_changes(before: dict[str, Any], after: dict[str, Any]) -> Counter[str]:
    """What the receiver counted between two stats (the sender's counts left out)."""
    return _function_changes(before, after, "ReceiverFunction")


def sender_changes(before: dict[str, Any], after: dict[str, Any]) -> Counter[str]:
    return _function_changes(before, after, "SenderFunction")


def _function_changes(before: dict[str, Any], after: dict[str, Any], name: str) -> Counter[str]:
    if "functions" not in after:  # a stack of an older version: totals only
        return metric_changes(before, after)
    changes = Counter(after["functions"].get(name, {}))
    changes.subtract(before.get("functions", {}).get(name, {}))
    return Counter({k: int(v) for k, v in changes.items() if v})


# -- plain words ------------------------------------------------------------------------
# What the simulator says to a person (the default); `--codes` shows the engineer's view
# (outcome codes, HTTP statuses, Parameters). The outcomes' own words come from
# decoy.outcomes (sentence, label); these are the lines around them (docs/glossary.md).
WORDS = {
    "en": {
        "header": "decoy number {decoy} (campaign {campaign}); the service runs on this "
                  "computer ({url}); the reply delay of {delay} lasts {real} here",
        "switched_off": "the service is switched off (kill switch): nothing new is planned "
                        "once every incoming message sees it (within {cache} s), and replies "
                        "waiting are dropped; `make ops ARGS=\"kill-switch off --local\"` "
                        "turns it back on",
        "budget_low": "only {left} replies left in today's budget ({budget}): restart `make "
                      "run` for a fresh one",
        "step1": "1. an insistent person {who} texts the decoy once",
        "step2": "2. a more insistent person {who} texts it 10 times",
        "step3": "3. someone {who} calls it",
        "step4": "4. many texts at once: {n} different people text it once each ({left} "
                 "replies left in today's budget of {budget})",
        "step5": "5. a fake request (one that does not come from the phone provider)",
        "times": "   {n} × {sentence}",
        "nothing": "   nothing was counted",
        "voicemail": "   the voicemail answers: “{text}”",
        "rejected": "   the call is not picked up (busy line): nothing is billed",
        "no_reply": "\nno reply was planned: nothing to wait for",
        "skipping": "\nthe replies are due in {real} of real time: skipping the delay",
        "waiting": "\nwaiting for the replies ({real} here)...",
        "reply": "   reply sent to {who}: “{text}”",
        "crowd": "   ...and {n} replies to the people of step 4",
        "in_all": "\nin all",
        "off_summary": "   the service is switched off: {refused} message(s) or call(s) got "
                       "nothing, {dropped} waiting reply(ies) dropped",
        "check_one": "the insistent person got one reply",
        "check_persistent": "the more insistent person got exactly one reply for 10 texts",
        "check_caller": "the caller got one reply",
        "check_all": "every planned reply was sent",
        "check_nobody": "nobody got more than one reply",
        "check_dropped": "each planned reply was sent, or dropped as the service is off",
        "ok": "ok", "failed": "FAILED",
        "sms": "text {i} from {who} to {campaign}: {said}",
        "call": "call {i} from {who} to {campaign}: {said}",
        "national": "(read as a national number? type it in the international form: {hint}…)",
        "throttled": "too many requests at once: the service's front door turned it away",
        "answered": "the service answered without counting anything",
        "refused": "refused",
        "flood": "{n} texts in {s} s",
        "seconds": "{s:g} s",
    },
    "fr": {
        "header": "numéro leurre {decoy} (campagne {campaign}) ; le service tourne sur cet "
                  "ordinateur ({url}) ; le délai de réponse de {delay} dure {real} ici",
        "switched_off": "le service est coupé (coupe-circuit) : plus rien n'est prévu dès que "
                        "chaque message qui arrive le voit (sous {cache} s), et les réponses "
                        "en attente sont abandonnées ; `make ops ARGS=\"kill-switch off "
                        "--local\"` le remet en marche",
        "budget_low": "il ne reste que {left} réponses sur le budget du jour ({budget}) : "
                      "relancez `make run` pour repartir de zéro",
        "step1": "1. un relou {who} envoie un SMS au numéro leurre",
        "step2": "2. un relou plus insistant {who} lui envoie 10 SMS",
        "step3": "3. quelqu'un {who} l'appelle",
        "step4": "4. afflux de messages : {n} personnes différentes écrivent une fois chacune "
                 "(il reste {left} réponses sur un budget du jour de {budget})",
        "step5": "5. une fausse requête (qui ne vient pas de l'opérateur)",
        "times": "   {n} × {sentence}",
        "nothing": "   rien n'a été compté",
        "voicemail": "   la messagerie vocale répond : « {text} »",
        "rejected": "   l'appel n'aboutit pas (ligne occupée) : rien n'est facturé",
        "no_reply": "\naucune réponse prévue : rien à attendre",
        "skipping": "\nles réponses partiront dans {real} en temps réel : on saute le délai",
        "waiting": "\nen attente des réponses ({real} ici)…",
        "reply": "   réponse envoyée à {who} : « {text} »",
        "crowd": "   … et {n} réponses aux personnes de l'étape 4",
        "in_all": "\nau total",
        "off_summary": "   le service est coupé : {refused} message(s) ou appel(s) sans suite, "
                       "{dropped} réponse(s) en attente abandonnée(s)",
        "check_one": "le relou a reçu une réponse",
        "check_persistent": "le relou plus insistant a reçu une seule réponse pour 10 SMS",
        "check_caller": "la personne qui a appelé a reçu une réponse",
        "check_all": "chaque réponse prévue est partie",
        "check_nobody": "personne n'a reçu plus d'une réponse",
        "check_dropped": "chaque réponse prévue est partie, ou a été abandonnée (service coupé)",
        "ok": "ok", "failed": "ÉCHEC",
        "sms": "SMS {i} de {who} vers {campaign} : {said}",
        "call": "appel {i} de {who} vers {campaign} : {said}",
        "national": "(un numéro national ? tapez-le au format international : {hint}…)",
        "throttled": "trop de requêtes à la fois : l'entrée du service l'a refusée",
        "answered": "le service a répondu sans rien compter",
        "refused": "refusé",
        "flood": "{n} SMS en {s} s",
        "seconds": "{s:g} s",
    },
}


def say(lang: str, key: str, **values: Any) -> str:
    """A line of WORDS in `lang`, French typography included."""
    text = WORDS[lang][key].format(**values)
    return french_typography(text) if lang == "fr" else text


def seconds(value: float, lang: str) -> str:
    """'10 s', '0,5 s' (French decimals)."""
    text = say(lang, "seconds", s=value)
    return text.replace(".", ",") if lang == "fr" else text


def plain_counts(changes: Counter[str], names: tuple[str, ...], lang: str) -> list[str]:
    """'   4 × Noted: this person already has a reply on its way, one is enough.' per count."""
    lines = [say(lang, "times", n=changes[name], sentence=sentence(name, lang))
             for name in names if changes.get(name)]
    return lines or [say(lang, "nothing")]


def plain_line(answer: Answer, changes: Counter[str], sender: str, campaign: dict[str, Any],
               lang: str = "en") -> str:
    """What one text or call came to, in sentences (outcome_line is the engineer's view)."""
    names = [n for n in changes if n not in NOT_OUTCOMES and changes[n] > 0]
    if answer.status == 429:
        return say(lang, "throttled")
    if not names:
        return say(lang, "answered" if answer.status < 400 else "refused")
    line = " ".join(sentence(n, lang) for n in names)
    hint = national_hint(sender, campaign["allowed_country_codes"][0])
    if Outcome.BlockedCountry in names and hint:
        line += " " + say(lang, "national", hint=hint[:len(campaign["allowed_country_codes"][0])
                                                         + 2])
    return line


# -- the demo --------------------------------------------------------------------------

class Demo:
    """One harasser, a persistent one, a caller, a flood, a forgery; then the replies. Said in
    plain words in `lang`; `codes=True` is the engineer's view (outcome codes, Parameters)."""

    def __init__(self, stack: LocalStack, out: TextIO, to: str | None = None,
                 lang: str = "en", codes: bool = False):
        self.stack = stack
        self.out = out
        self.campaign = stack.campaign(to)
        self.decoy = str(self.campaign["number"])
        self.lang = lang
        self.codes = codes

    def say(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def tell(self, key: str, engineer: str, **values: Any) -> None:
        """The engineer's line with --codes, else WORDS[key] in the demo's language."""
        self.say(engineer if self.codes else say(self.lang, key, **values))

    def step(self, key: str, engineer: str, action: Callable[[], Any], **values: Any
             ) -> Counter[str]:
        before = stats(self.stack)
        action()
        changes = receiver_changes(before, stats(self.stack))
        received = changes.get(Metric.Received, 0)
        if self.codes:
            self.say(f"{engineer}\n   -> {received} received: {describe(changes)}")
        else:
            self.say("\n".join([say(self.lang, key, **values),
                                *plain_counts(changes, RECEIVER_OUTCOMES, self.lang)]))
        return changes

    def run(self, flood: int, max_wait: float) -> int:
        code = self.campaign["allowed_country_codes"][0]
        harasser, persistent, caller, *crowd = mobile_numbers(code, 3 + flood)
        stack = self.stack
        delay = stack.reply_delay_seconds
        self.tell("header", f"decoy number {self.decoy} (campaign {self.campaign['id']}), "
                            f"stack at {stack.api_url}, time scale {stack.time_scale:g}",
                  decoy=self.decoy, campaign=self.campaign["id"], url=stack.api_url,
                  delay=seconds(delay, self.lang),
                  real=seconds(delay / stack.time_scale, self.lang))
        start = stats(stack)
        budget = int(stack.parameters.get("DailyReplyBudget", 0))
        left = budget - int(start["metrics"].get(Outcome.Scheduled, 0))  # this stack, today
        self.kill_switch = start.get("kill_switch") == "on"
        if self.kill_switch:
            cache = stack.parameters.get("KillSwitchCacheSeconds", "30")
            self.tell("switched_off",
                      f"the kill switch is ON: the receiver schedules nothing (once its "
                      f"{cache} s cache has seen it: KillSwitchCacheSeconds) and the sender "
                      "drops every pending reply; `make ops ARGS=\"kill-switch off --local\"` "
                      "turns it off", cache=cache)
        elif left < 3:
            self.tell("budget_low", f"only {max(left, 0)} replies left in the daily budget "
                                    f"(DailyReplyBudget={budget}): restart `make run` for a "
                                    "fresh one", left=max(left, 0), budget=budget)
            return 1
        self.step("step1", f"1. a harasser {mask(harasser)} texts the decoy once",
                  lambda: send_sms(stack, harasser, self.decoy), who=mask(harasser))
        self.step("step2", f"2. a persistent harasser {mask(persistent)} texts it 10 times",
                  lambda: [send_sms(stack, persistent, self.decoy, f"réponds ({i})")
                           for i in range(1, 11)], who=mask(persistent))
        answers: list[Answer] = []
        self.step("step3", f"3. a caller {mask(caller)} calls it",
                  lambda: answers.append(send_call(stack, caller, self.decoy)),
                  who=mask(caller))
        voicemail = spoken_text(answers[0].body)
        if voicemail:
            self.tell("voicemail", f"   -> voicemail: «{voicemail}»", text=voicemail)
        else:
            self.tell("rejected", f"   -> {answers[0].body.strip()}: not answered, not billed")
        left = budget - int(stats(stack)["metrics"].get(Outcome.Scheduled, 0))
        self.step("step4", f"4. a flood: {flood} distinct senders text it once each "
                           f"({max(left, 0)} replies left in DailyReplyBudget={budget})",
                  lambda: [send_sms(stack, number, self.decoy) for number in crowd],
                  n=flood, left=max(left, 0), budget=budget)
        forged: list[Answer] = []
        self.step("step5", "5. a forged webhook (signed with the wrong auth token)",
                  lambda: forged.append(send_sms(stack, harasser, self.decoy, forged=True)))
        if self.codes:
            self.say(f"   -> HTTP {forged[0].status}: {forged[0].body}")
        return self._replies(start, [harasser, persistent, caller], crowd, delay, max_wait)

    def _replies(self, start: dict[str, Any], people: list[str], crowd: list[str],
                 delay: int, max_wait: float) -> int:
        stack = self.stack
        scheduled = receiver_changes(start, stats(stack)).get(Outcome.Scheduled, 0)
        real_wait = delay / stack.time_scale
        if not scheduled:
            self.tell("no_reply", "\nno reply was scheduled: nothing to wait for")
            real_wait = 0
        elif real_wait > max_wait:
            self.tell("skipping", f"\nreplies are due in {real_wait:g} s of real time (time "
                                  f"scale {stack.time_scale:g}): skipping the {delay} s delay",
                      real=seconds(real_wait, self.lang))
            skip(stack, delay)
            real_wait = 0
        else:
            self.tell("waiting", f"\nwaiting for the replies: {delay} s of scheduler time = "
                                 f"{real_wait:g} s (time scale {stack.time_scale:g})...",
                      real=seconds(real_wait, self.lang))
        seen: set[str] = set()
        known = {number: f"{mask(number)}" for number in people}

        def replies() -> list[dict[str, Any]]:
            return [m for m in outbox(stack) if m["to"] in known or m["to"] in crowd]

        def dropped() -> int:  # pending replies the sender did not send (kill switch)
            return sender_changes(start, stats(stack)).get(Outcome.KillSwitch, 0)

        def show_new() -> bool:
            mine = replies()
            for message in mine:
                if message["sid"] not in seen and message["to"] in known:
                    seen.add(message["sid"])
                    text = message["body"][:50] + ("…" if len(message["body"]) > 50 else "")
                    self.tell("reply", f"   outbox: to {known[message['to']]}  «{text}»",
                              who=known[message["to"]], text=text)
            return len(mine) + dropped() >= scheduled

        wait_for(show_new, real_wait + 15, interval=0.5)
        wait_for(lambda: sum(metric_changes(start, stats(stack)).get(name, 0)
                             for name in DELIVERY_SHOWN) >= len(replies()), 5)
        mine = replies()
        per_number = Counter(m["to"] for m in mine)
        end = stats(stack)
        changes = metric_changes(start, end)
        sender = sender_changes(start, end)
        receiver = receiver_changes(start, end)
        crowd_replies = sum(per_number[n] for n in crowd)
        self.tell("crowd", f"   ...and {crowd_replies} replies to the flood's senders",
                  n=crowd_replies)
        if self.codes:
            self.say("\nwhat happened")
            self.say(f"   receiver: {describe(receiver)}")
            self.say(f"   sender:   {describe(sender, SENDER_SHOWN)}; "
                     f"delivery callbacks: {describe(changes, DELIVERY_SHOWN)}")
        else:
            self.say(say(self.lang, "in_all"))
            self.say("\n".join(self._summary(receiver, sender, changes)))
        harasser, persistent, caller = people
        kill_switch = self.kill_switch or end.get("kill_switch") == "on"
        if kill_switch:
            self.tell("off_summary",
                      f"   the kill switch is on: the receiver refused "
                      f"{receiver.get(Outcome.KillSwitch, 0)} webhook(s), the sender dropped "
                      f"{sender.get(Outcome.KillSwitch, 0)} pending reply(ies)",
                      refused=receiver.get(Outcome.KillSwitch, 0),
                      dropped=sender.get(Outcome.KillSwitch, 0))
            checks = [("check_nobody", "nobody got more than one reply",
                       max(per_number.values(), default=0) <= 1),
                      ("check_dropped",
                       "each scheduled reply was sent or dropped by the kill switch",
                       len(mine) + sender.get(Outcome.KillSwitch, 0) >= scheduled)]
        else:
            checks = [("check_one", "the harasser got one reply", per_number[harasser] == 1),
                      ("check_persistent",
                       "the persistent harasser got exactly one reply for 10 messages",
                       per_number[persistent] == 1),
                      ("check_caller", "the caller got one reply", per_number[caller] == 1),
                      ("check_all", "every scheduled reply reached the outbox",
                       len(mine) == scheduled)]
        for key, engineer, ok in checks:
            mark = "ok" if ok else "FAILED"
            self.say(f"   [{mark}] {engineer}" if self.codes else
                     f"   [{say(self.lang, mark.lower())}] {say(self.lang, key)}")
        return 0 if all(ok for _, _, ok in checks) else 1

    def _summary(self, receiver: Counter[str], sender: Counter[str], changes: Counter[str]
                 ) -> list[str]:
        """'   replies planned   20' per count, in plain words (decoy.outcomes.label)."""
        rows = [(label(n, self.lang), receiver[n]) for n in RECEIVER_OUTCOMES if receiver.get(n)]
        rows += [(label(n, self.lang), sender[n]) for n in SENDER_SHOWN if sender.get(n)]
        rows += [(label(n, self.lang), changes[n]) for n in DELIVERY_SHOWN if changes.get(n)]
        width = max((len(r) for r, _ in rows), default=0) + 2
        return [f"   {row:<{width}}{n:>4}" for row, n in rows]


# -- command line ----------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m decoy_local.simulator",
        description="Send signed Twilio webhooks to a running `make run` and read its outbox.")
    parser.add_argument("--state", type=Path, default=STATE_FILE,
                        help="the stack's state file (URLs, local auth token) "
                             "[.local/stack.json]")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="the whole story: harasser, persistent harasser, "
                                       "caller, flood, forgery, then the replies")
    demo.add_argument("--flood", type=non_negative, default=25,
                      help="distinct senders [%(default)s]")
    demo.add_argument("--max-wait", type=float, default=60,
                      help="longest real wait for the replies; beyond it, skip the delay "
                           "[%(default)s s]")
    demo.add_argument("--to", help=TO_HELP)
    _views(demo, "en")
    sms = sub.add_parser("sms", help="text the decoy")
    sms.add_argument("sender", help="E.164 number, e.g. +33612345678")
    sms.add_argument("--to", help=TO_HELP)
    sms.add_argument("--body", default="salut, ça va ?")
    sms.add_argument("--count", type=positive, default=1, help="messages to send [1]")
    sms.add_argument("--forged", action="store_true", help="sign with a wrong token")
    _views(sms, "en")
    call = sub.add_parser("call", help="call the decoy (prints the outcome and the voicemail)")
    call.add_argument("caller")
    call.add_argument("--to", help=TO_HELP)
    _views(call, "en")
    flood = sub.add_parser("flood", help="N distinct random senders text the decoy once")
    flood.add_argument("count", type=positive)
    flood.add_argument("--to", help=TO_HELP)
    _views(flood, "en")
    sub.add_parser("outbox", help="the messages the fake Twilio API accepted (masked)")
    shown = sub.add_parser("stats", help="the functions' metric counts, pending schedules, DLQ")
    shown.add_argument("--json", action="store_true", help="the raw JSON of GET /_local/stats")
    _views(shown, "the terminal's locale")
    fail = sub.add_parser("fail", help="make the fake Twilio fail the next sends")
    fail.add_argument("error", type=lambda v: v if v in ("garbage", "reset", "timeout")
                      else int(v), help="429, 500, 502, 503, 504, 21211, 21408, 21610, "
                      "21614, a 30xxx carrier error (e.g. 30007), garbage, reset or timeout")
    fail.add_argument("--created", action="store_true",
                      help="create the message first, then fail (5xx, garbage, reset, timeout)")
    fail.add_argument("--times", type=non_negative, default=1,
                      help="how many sends [1]; 0 clears; the sender tries 3 times (1 + 2 "
                           "Lambda retries) before the DLQ")
    trigger = sub.add_parser("trigger", help="fire the stack's Usage Triggers as Twilio would "
                                             "(level 1: kill switch, 2: numbers off the air)")
    trigger.add_argument("--level", type=int, choices=(1, 2), default=1)
    skipping = sub.add_parser("skip", help="pending replies act as if SECONDS of their delay "
                                           "had passed")
    skipping.add_argument("seconds", type=float, help="e.g. 3600")
    return parser


def _views(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument("--lang", choices=LANGUAGES,
                        help=f"say what happened in plain words in this language [{default}]")
    parser.add_argument("--codes", action="store_true",
                        help="the engineer's view: outcome codes, HTTP statuses, Parameters "
                             "(with --lang: each code's sentence too)")


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = _parser().parse_args(argv)
    try:
        stack = LocalStack.load(args.state)
        return _run(args, stack, out)
    except (StackUnavailable, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `outbox | head`: the reader left. Python's signal docs, "Note on SIGPIPE": point
        # stdout at devnull so the interpreter's final flush does not raise again.
        with contextlib.suppress(OSError, ValueError):  # stdout may not be a file (tests)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a command killed by it


def _run(args: argparse.Namespace, stack: LocalStack, out: TextIO) -> int:
    if args.command == "demo":
        return Demo(stack, out, args.to, args.lang or "en", args.codes).run(args.flood,
                                                                             args.max_wait)
    if args.command in ("sms", "call"):
        campaign = stack.campaign(args.to)
        who = args.sender if args.command == "sms" else args.caller
        for i in range(1, (args.count if args.command == "sms" else 1) + 1):
            before = stats(stack)
            if args.command == "sms":
                answer = send_sms(stack, who, campaign["number"], args.body, forged=args.forged)
            else:
                answer = send_call(stack, who, campaign["number"])
            changes = receiver_changes(before, stats(stack))
            voicemail = spoken_text(answer.body) if args.command == "call" else ""
            if args.codes:
                line = outcome_line(stack, answer, changes, who, campaign, args.lang)
                out.write(f"{args.command} {i} from {mask(who)} to {campaign['id']}: {line}\n")
                if args.command == "call":
                    out.write(f"   voicemail: «{voicemail}»\n" if voicemail else
                              f"   {answer.body.strip()}: the call is not answered, not "
                              "billed\n")
                continue
            lang = args.lang or "en"
            out.write(say(lang, args.command, i=i, who=mask(who), campaign=campaign["id"],
                          said=plain_line(answer, changes, who, campaign, lang)) + "\n")
            if args.command == "call":
                out.write((say(lang, "voicemail", text=voicemail) if voicemail else
                           say(lang, "rejected")) + "\n")
    elif args.command == "flood":
        campaign = stack.campaign(args.to)
        before = stats(stack)
        started = time.monotonic()
        statuses = Counter(send_sms(stack, number, campaign["number"]).status for number in
                           mobile_numbers(campaign["allowed_country_codes"][0], args.count))
        elapsed = time.monotonic() - started
        changes = metric_changes(before, stats(stack))
        if args.codes:
            out.write(f"{args.count} webhooks in {elapsed:.1f} s ({args.count / elapsed:.0f}/s);"
                      f" HTTP {dict(sorted(statuses.items()))}"
                      + (" (429: the API stage throttling)" if 429 in statuses else "") + "\n")
            out.write(describe(changes) + "\n")
        else:
            lang = args.lang or "en"
            out.write("\n".join([say(lang, "flood", n=args.count,
                                     s=seconds(round(elapsed, 1), lang).removesuffix(" s")),
                                 *plain_counts(changes, RECEIVER_OUTCOMES, lang)]) + "\n")
    elif args.command == "outbox":
        for message in outbox(stack):
            out.write(f"{message['date_created']}  {message['campaign'] or '-':<12} "
                      f"to {mask(message['to'])}  {message['status']}  "
                      f"«{message['body'][:60]}»\n")
    elif args.command == "stats":
        found = stats(stack)
        out.write(json.dumps(found, indent=2) + "\n" if args.json else
                  "\n".join(stats_table(found, args.lang or terminal_language(), args.codes))
                  + "\n")
    elif args.command == "fail":
        pending = fail_next(stack, args.error, args.times, args.created)
        created = " after creating the message" if args.created else ""
        out.write(f"fake Twilio: the next {args.times} send(s) answer {args.error}{created} "
                  f"(pending failures: {json.dumps(pending)})\n")
    elif args.command == "trigger":
        fired = fire_usage_triggers(stack, args.level)
        out.write(f"fake Twilio: {len(fired)} level-{args.level} usage trigger(s) fired"
                  + (" (none installed or all fired today: `decoy_ops connect --local --apply`)"
                     if not fired else "") + "\n")
        if args.level == 2 and fired:
            out.write("   the numbers go off the air within a minute (scaled); check with "
                      "`make ops ARGS=\"kill-switch status --local\"`, restore with "
                      "`make ops ARGS=\"connect --local --apply\"`\n")
    elif args.command == "skip":
        skip(stack, args.seconds)
        pending = stats(stack)["pending_schedules"]
        out.write(f"skipped {args.seconds:g} s of every pending reply's delay; due ones fire "
                  f"now ({pending} schedule(s) pending)\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
