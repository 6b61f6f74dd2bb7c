"""The local console: one page at / of `make run`, and the /_local/console/ endpoints it calls.

Nothing here takes a shortcut into the functions: texts and calls are signed Twilio webhooks
POSTed to the local HTTP API (as `make demo` sends them), the counters are the functions'
own metric counts, the budget is read as `decoy_ops stats` reads it, and the kill switch is
turned as `decoy_ops kill-switch` turns it. The browser never gets a clear number it was
not typed: the outbox and every answer show numbers masked.
"""

from __future__ import annotations

import base64
import html
import json
import math
import re
import threading
import time
from collections import Counter
from email.utils import parsedate_to_datetime
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import parse_qsl

from decoy import clock, controls
from decoy.offair import QUEUE_DELAY_SECONDS
from decoy.outcomes import (
    BOOKKEEPING,
    Metric,
    Outcome,
    french_typography,
    metric_sentences,
    status_metric,
)
from decoy.phone import MOBILE_PREFIXES, international, mask, mask_all
from decoy_local.gateway import Control, Gateway, Target
from decoy_local.simulator import (
    LocalStack,
    StackUnavailable,
    fire_usage_triggers,
    metric_changes,
    mobile_numbers,
    outbox,
    pool,
    send_call,
    send_sms,
    skip,
    spoken_text,
    stats,
    twilio_numbers,
)

STATIC = Path(__file__).with_name("static")
LANGUAGES = ("en", "fr")
FLOOD_DEFAULT = 30  # beyond the local DailyReplyBudget (20): the budget shield shows
FLOOD_MAX = 200  # one click never sends more than this, all to 127.0.0.1
FLOOD_SECONDS = 60  # nor for longer than this
MAX_NUMBER = 32
MAX_BODY = 1600  # Twilio's own limit for one message
# The counters' columns: (string key, metric names summed).
COLUMNS = (("col_received", (Metric.Received,)), ("col_scheduled", (Outcome.Scheduled,)),
           ("col_quota", (Outcome.BlockedQuota,)), ("col_budget", (Outcome.BlockedBudget,)),
           ("col_country", (Outcome.BlockedCountry,)), ("col_kill", (Outcome.KillSwitch,)),
           ("col_forged", (Metric.ForgedSignature,)), ("col_sent", (Outcome.Sent,)),
           ("col_delivered", (status_metric("delivered"),)),
           ("col_failed", (status_metric("undelivered"), status_metric("failed"),
                           Outcome.SendFailed)))
FILES = {"/console.css": ("console.css", "text/css; charset=utf-8"),
         "/console.js": ("console.js", "text/javascript; charset=utf-8")}
SECURITY_HEADERS = {  # all of it comes from this server: no inline script, no other origin
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store"}


class ConsoleError(ValueError):
    """Bad input from the page: answered 400 with this one-line reason."""


def strings(lang: str) -> dict[str, str]:
    """The page's texts in `lang` (en or fr)."""
    table = json.loads((STATIC / "strings.json").read_text(encoding="utf-8"))
    if lang == "fr":  # a narrow no-break space before : ; ! ? (decoy.outcomes)
        return {key: french_typography(value) for key, value in table[lang].items()}
    return table[lang]


def language(query: dict[str, str], headers: dict[str, str]) -> str:
    """?lang=fr|en first, then the browser's first preference, then English."""
    wanted = query.get("lang", "").lower()
    if wanted in LANGUAGES:
        return wanted
    preferred = headers.get("accept-language", "").split(",")[0].strip().lower()
    return "fr" if preferred.startswith("fr") else "en"


def status_of_callback(event: dict[str, Any]) -> tuple[str, str] | None:
    """(MessageSid, MessageStatus) of a status-callback event, None if it carries none."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    form = dict(parse_qsl(body, keep_blank_values=True))
    sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
    return (sid, status) if sid and status else None


def outcomes(changes: Counter[str]) -> list[str]:
    """The receiver outcomes one webhook produced, without the bookkeeping counts."""
    return [name for name in sorted(changes) if changes[name] > 0
            and name not in BOOKKEEPING]


def answer_of(twiml: str) -> dict[str, str]:
    """What the harasser's phone gets from a TwiML answer."""
    if "<Reject" in twiml:
        return {"kind": "rejected"}
    spoken = spoken_text(twiml)
    if spoken:
        return {"kind": "voicemail", "text": spoken}
    if "<Message" in twiml:  # never sent by this service (replies come later), shown if it were
        match = re.search(r"<Message[^>]*>(.*?)</Message>", twiml, re.S)
        return {"kind": "message", "text": html.unescape(match.group(1)) if match else ""}
    return {"kind": "nothing"}


class WebConsole:
    """The page and its endpoints, for one running stack (`install` wires them in)."""

    def __init__(self, stack: LocalStack, ssm: Any, dynamodb: Any):
        self.stack = stack
        self.ssm = ssm
        self.dynamodb = dynamodb
        self.kill_switch_parameter = stack.outputs["KillSwitchParameterName"]
        self.budget = int(stack.outputs["DailyReplyBudget"])
        self._statuses: dict[str, str] = {}  # MessageSid -> last status the receiver accepted
        self._lock = threading.Lock()
        self._flooding = threading.Lock()

    def install(self, gateway: Gateway) -> WebConsole:
        """Serve / and the console's files and endpoints; watch the status callbacks."""
        gateway.pages.update({"/": self.page, **_files()})
        gateway.controls.update({route: _guarded(control) for route, control in {
            "GET /_local/console/state": lambda _: (200, self.state()),
            "POST /_local/console/sms": self.sms, "POST /_local/console/call": self.call,
            "POST /_local/console/flood": self.flood,
            "POST /_local/console/kill-switch": self.kill_switch,
            "POST /_local/console/skip": self.skip_delay,
            "POST /_local/console/spending-alert": self.spending_alert}.items()})
        gateway.routes["POST /status"] = self._watch(gateway.routes["POST /status"])
        return self

    # -- what the browser loads ---------------------------------------------------------

    def page(self, query: dict[str, str], headers: dict[str, str]
             ) -> tuple[int, dict[str, str], bytes]:
        lang = language(query, headers)
        text = strings(lang)
        values = {key: html.escape(value) for key, value in text.items()}
        options = "\n".join(  # one per number of each pool: the label says which venue
            f'<option value="{html.escape(c["id"])}/{html.escape(n["label"])}">'
            f'{html.escape(row_name(c, n, text))} ({html.escape(mask(n["number"]))})</option>'
            for c in self.stack.campaigns for n in pool(c))
        first_code = self.stack.campaigns[0]["allowed_country_codes"][0]
        values.update(
            lang=lang, other_lang="fr" if lang == "en" else "en", campaign_options=options,
            example_number=html.escape(example_number(first_code)),
            flood_default=str(FLOOD_DEFAULT), flood_max=str(FLOOD_MAX),
            strings_json=html.escape(json.dumps({**text, "outcomes": metric_sentences(lang)},
                                                ensure_ascii=False)))
        body = Template((STATIC / "console.html").read_text(encoding="utf-8"))
        data = body.substitute(values).encode()
        return 200, {"Content-Type": "text/html; charset=utf-8", **SECURITY_HEADERS}, data

    # -- what the page polls ------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Counters, budget, kill switch and the outbox (masked), as the page shows them."""
        with self._lock:  # first: a status shown is then always in the counts read after it
            statuses = dict(self._statuses)
        counts = stats(self.stack)
        rows = []
        for c in self.stack.campaigns:
            rows.append({"campaign": c["id"],
                         "counts": _columns(counts["campaigns"].get(c["id"], {}))})
            if len(pool(c)) > 1:  # per venue: what reached and was replied from each number
                # the page names the row in its language (row_name's words, strings.json)
                rows += [{"campaign": c["id"], "label": n["label"],
                          "retired": n.get("status") == "retired", "counts": _columns(
                              counts.get("labels", {}).get(c["id"], {}).get(n["label"], {}))}
                         for n in pool(c)]
        # The handlers' own clock (the stack moves it with --clock-start): the same day.
        used = controls.budget_used_today(self.dynamodb, self.stack.outputs["TableName"],
                                          clock.now())
        value = controls.read_kill_switch(self.ssm, self.kill_switch_parameter)
        return {
            "columns": [key for key, _ in COLUMNS],
            "campaigns": rows, "total": _columns(counts["metrics"]),
            "budget": {"limit": self.budget, "used": used, "left": max(self.budget - used, 0)},
            "kill_switch": controls.kill_switch_is_on(value),
            "kill_switch_cache_seconds": int(self.stack.parameters.get(
                "KillSwitchCacheSeconds", 0)),
            "pending": counts["pending_schedules"], "dead_letters": counts["dead_letters"],
            "delay_seconds": self.stack.reply_delay_seconds / self.stack.time_scale,
            "outbox": [_reply_row(m, statuses.get(m["sid"])) for m in outbox(self.stack)],
            "off_air": self._air(),
        }

    # -- what the page does -------------------------------------------------------------

    def sms(self, request: Any) -> tuple[int, dict[str, Any]]:
        """The typed message, as Twilio's signed 'message comes in' webhook."""
        campaign = self._campaign(request)
        typed, sender = _number(request, campaign)
        if sender is None:
            return 200, _bad_number(campaign)
        body = _field(request, "body", MAX_BODY, default="salut, ça va ?")
        forged = bool(request.get("forged"))
        before = stats(self.stack)
        answer = send_sms(self.stack, sender, campaign["number"], body, forged=forged)
        return 200, self._answer(answer.status, answer.body, before, typed, sender)

    def call(self, request: Any) -> tuple[int, dict[str, Any]]:
        """A call, as Twilio's signed 'call comes in' webhook."""
        campaign = self._campaign(request)
        typed, caller = _number(request, campaign)
        if caller is None:
            return 200, _bad_number(campaign)
        before = stats(self.stack)
        answer = send_call(self.stack, caller, campaign["number"])
        return 200, self._answer(answer.status, answer.body, before, typed, caller)

    def flood(self, request: Any) -> tuple[int, dict[str, Any]]:
        """`count` distinct random senders text the decoy once each (127.0.0.1 only)."""
        campaign = self._campaign(request)
        try:
            count = int(request.get("count", FLOOD_DEFAULT))
        except (TypeError, ValueError):
            raise ConsoleError("count must be a whole number") from None
        if not 1 <= count <= FLOOD_MAX:
            raise ConsoleError(f"count must be between 1 and {FLOOD_MAX}")
        if not self._flooding.acquire(blocking=False):
            return 409, {"message": "a flood is already running", "key": "error_flood_busy"}
        try:
            before = stats(self.stack)
            started = time.monotonic()
            statuses: Counter[int] = Counter()
            for number in mobile_numbers(campaign["allowed_country_codes"][0], count):
                if time.monotonic() - started > FLOOD_SECONDS:
                    break
                statuses[send_sms(self.stack, number, campaign["number"]).status] += 1
            elapsed = time.monotonic() - started
            changes = metric_changes(before, stats(self.stack))
        finally:
            self._flooding.release()
        return 200, {"sent": sum(statuses.values()), "seconds": round(elapsed, 1),
                     "http": {str(k): v for k, v in sorted(statuses.items())},
                     "outcomes": {name: changes[name] for name in sorted(changes)
                                  if changes[name] > 0 and name != Metric.BudgetUsed}}

    def kill_switch(self, request: Any) -> tuple[int, dict[str, Any]]:
        """Turn the kill switch on or off, as `decoy_ops kill-switch on|off` does."""
        on = _object(request).get("on")
        if not isinstance(on, bool):
            raise ConsoleError("on must be true or false")
        controls.turn_kill_switch(self.ssm, self.kill_switch_parameter, on)
        value = controls.read_kill_switch(self.ssm, self.kill_switch_parameter)
        return 200, {"kill_switch": controls.kill_switch_is_on(value)}

    def spending_alert(self, _: Any) -> tuple[int, dict[str, Any]]:
        """Twilio fires the level-2 Usage Triggers `decoy_ops connect` installed: the stack
        takes the numbers off the air (its order waits a minute of the stack's clock)."""
        fired = fire_usage_triggers(self.stack, 2)
        return 200, {"fired": len(fired),
                     # the order's schedule, a minute ahead on the stack's scaled clock
                     "due_in": math.ceil(QUEUE_DELAY_SECONDS / self.stack.time_scale) + 1}

    def _air(self) -> dict[str, int]:
        """How many of the fake account's decoy numbers are off the air (no SMS URL)."""
        numbers = twilio_numbers(self.stack)
        return {"off": sum(1 for n in numbers if not n.get("sms_url")), "numbers": len(numbers)}

    def skip_delay(self, _: Any) -> tuple[int, dict[str, Any]]:
        """Pending replies act as if their whole delay had passed (the stack's /_local/skip)."""
        return 200, skip(self.stack, self.stack.reply_delay_seconds)

    # -- helpers ------------------------------------------------------------------------

    def _answer(self, status: int, body: str, before: dict[str, Any], typed: str = "",
                number: str = "") -> dict[str, Any]:
        changes = metric_changes(before, stats(self.stack))
        answer = answer_of(body) if status < 400 else {"kind": "refused",
                                                       "reason": refusal(status)}
        scheduled = changes.get(Outcome.Scheduled, 0) > 0
        return {"http": status, **answer, "outcomes": outcomes(changes),
                # the number as read, when it was typed otherwise (the page shows it back)
                "read_as": grouped(number) if number and typed.replace(" ", "") != number
                else None,
                "to": mask(number) if number else None,  # the outbox row the reply will be
                "reply_due_in": (self.stack.reply_delay_seconds / self.stack.time_scale
                                 if scheduled else None)}

    def _campaign(self, request: Any) -> dict[str, Any]:
        _object(request)
        try:
            return self.stack.campaign(str(request.get("campaign") or "") or None)
        except ValueError:
            raise ConsoleError(f"unknown campaign {request.get('campaign')!r}") from None

    def _watch(self, target: Target) -> Target:
        """The /status route, remembering each status the receiver accepted (2xx)."""
        def watched(event: dict[str, Any]) -> dict[str, Any]:
            result = target(event)
            callback = status_of_callback(event)
            if callback and int(result.get("statusCode", 200)) < 400:
                with self._lock:
                    self._statuses[callback[0]] = callback[1]
            return result

        return watched


def _files() -> dict[str, Any]:
    def serve(name: str, content_type: str) -> Any:
        def file(query: dict[str, str], headers: dict[str, str]
                 ) -> tuple[int, dict[str, str], bytes]:
            return 200, {"Content-Type": content_type, **SECURITY_HEADERS}, \
                (STATIC / name).read_bytes()
        return file
    return {path: serve(name, kind) for path, (name, kind) in FILES.items()}


def _object(request: Any) -> dict[str, Any]:
    if not isinstance(request, dict):
        raise ConsoleError("expected a JSON object")
    return request


def _guarded(control: Control) -> Control:
    """Bad input is a 400 with its reason, a stack that fails to answer a 502; `key` names the
    sentence the page shows for it in its language (strings.json), `message` stays for a
    reader of the JSON."""
    def guarded(request: Any) -> tuple[int, Any]:
        try:
            return control(request)
        except ConsoleError as exc:
            return 400, {"message": str(exc), "key": "error_bad_input"}
        except (OSError, StackUnavailable) as exc:
            return 502, {"message": mask_all(str(exc)), "key": "error_stack"}

    return guarded


def _field(request: Any, name: str, limit: int, default: str | None = None) -> str:
    value = _object(request).get(name, default)
    if not isinstance(value, str) or not value.strip():
        raise ConsoleError(f"{name} is required")
    if len(value) > limit:
        raise ConsoleError(f"{name} is longer than {limit} characters")
    return value


def _number(request: Any, campaign: dict[str, Any]) -> tuple[str, str | None]:
    """(as typed, international form or None): a national number ('06 12 34 56 78') is read in
    the selected campaign's country; then the receiver's own filters judge it (a number from
    another country is the point of the page)."""
    typed = _field(request, "from", MAX_NUMBER).strip()
    return typed, international(typed, campaign["allowed_country_codes"][0])


def _bad_number(campaign: dict[str, Any]) -> dict[str, Any]:
    """Not a phone number: the page explains, with an example in the campaign's country."""
    return {"http": None, "kind": "bad_number", "outcomes": [], "reply_due_in": None,
            "example": example_number(campaign["allowed_country_codes"][0])}


def example_number(code: str) -> str:
    """'+33 6 12 34 56 78': a mobile of that country, grouped as people write it."""
    mobile = {"33": "6", "32": "470", "44": "7700", "31": "6"}.get(code, "6")
    digits = (mobile + "12345678")[:9]
    return f"+{code} {digits[0]} " + " ".join(digits[i:i + 2] for i in range(1, 9, 2)) \
        if code == "33" else f"+{code} {digits}"


def grouped(number: str) -> str:
    """'+33612345678' -> '+33 6 12 34 56 78': as people write it (and not one run of digits
    the page's privacy check would take for a stored number)."""
    for code in sorted(MOBILE_PREFIXES, key=len, reverse=True):
        if number.startswith("+" + code):
            national = number[1 + len(code):]
            head = len(national) % 2 or 2
            return f"+{code} {national[:head]} " + " ".join(
                national[i:i + 2] for i in range(head, len(national), 2))
    return number


REFUSALS = {403: Metric.ForgedSignature, 404: Metric.UnknownNumber,
            503: Metric.SecretsUnavailable}


def refusal(status: int) -> str:
    """The metric whose sentence says why the service refused a request (the page shows the
    sentence, in its language)."""
    return str(REFUSALS.get(status, Metric.BadRequest))


def row_name(campaign: dict[str, Any], number: dict[str, str], text: dict[str, str]) -> str:
    """'fr-be · bar-le-central' for a pool's number, with the page's word for a retired one
    (`text` is strings(lang)); the campaign id alone for a pool of one. console.js names the
    counters' rows the same way."""
    if len(pool(campaign)) == 1:
        return str(campaign["id"])
    retired = f" {text['number_retired']}" if number.get("status") == "retired" else ""
    return f"{campaign['id']} · {number['label']}{retired}"


def _columns(metrics: dict[str, float]) -> dict[str, int]:
    return {key: int(sum(metrics.get(name, 0) for name in names)) for key, names in COLUMNS}


def _reply_row(message: dict[str, Any], callback_status: str | None) -> dict[str, Any]:
    try:
        sent_at = parsedate_to_datetime(message["date_created"]).strftime("%H:%M:%S")
    except (TypeError, ValueError):
        sent_at = ""
    return {"sid": message["sid"], "time": sent_at, "to": mask(message["to"]),
            "campaign": message.get("campaign") or "-", "text": message["body"],
            "segments": message.get("num_segments", 1),
            "status": callback_status or "awaiting", "error_code": message.get("error_code")}


def install(gateway: Gateway, state_file: Path, clients: dict[str, Any]) -> WebConsole:
    """The console of the stack that wrote `state_file`, served by `gateway`."""
    return WebConsole(LocalStack.load(state_file), clients["ssm"],
                      clients["dynamodb"]).install(gateway)
