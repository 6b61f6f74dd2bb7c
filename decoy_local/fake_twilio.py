"""The one fake Twilio: an in-memory account behind Twilio's REST API, for tests and `make run`.

`TwilioCore` holds the account (outbox, incoming numbers and their webhooks, usage triggers,
planned failures) and answers any REST request with `handle()`, a pure function of
(method, path, query, form, Authorization) to a `Reply`. Two thin transports carry it:
`FakeTwilio`, a threaded HTTP server on loopback (make run, integration tests), and
`attach_responses()`, which routes the `responses` library's intercepted requests to it (the
pytest fixtures). Either way the real twilio client talks to it over its own HTTP code.

POST /2010-04-01/Accounts/<AccountSid>/Messages.json   create (what the sender calls)
GET  /2010-04-01/Accounts/<AccountSid>/Messages.json?To=..&From=..&DateSent>=..
                                                        the messages, newest first (the
                                                        sender's lookup after an ambiguous send)
GET  /2010-04-01/Accounts/<AccountSid>/Messages/<SM sid>.json
GET  /2010-04-01/Accounts/<AccountSid>/IncomingPhoneNumbers.json?PhoneNumber=...
GET|POST /2010-04-01/Accounts/<AccountSid>/IncomingPhoneNumbers/<PN sid>.json
                                                        what `python -m decoy_ops connect` calls
GET|POST /2010-04-01/Accounts/<AccountSid>/Usage/Triggers.json                 list, create
GET|POST|DELETE /2010-04-01/Accounts/<AccountSid>/Usage/Triggers/<UT sid>.json
GET  /2010-04-01/Accounts/<AccountSid>.json            the account (its `type`: Full or Trial)
GET|POST /v1/Services[/<MG sid>[/PhoneNumbers]]        Messaging Services and their senders
                                                        (messaging.twilio.com): list, update
                                                        inbound settings, add a sender
GET  /v1/Messaging/GeoPermissions?CountryCode=FR        SMS geo permissions
                                                        (accounts.twilio.com; 404 until a
                                                        test sets `geo_permissions`)
                                                        what `decoy_ops preflight` reads
The HTTP server adds:
GET  /_local/outbox                                     every message accepted, as JSON
GET  /_local/numbers                                    the owned numbers and their webhooks
GET  /_local/triggers                                   the Usage Triggers installed
GET|POST /_local/failures                               {"error": 429, "times": n}: fail sends
POST /_local/call   {"to", "from"}                      place a call as Twilio would (fallback)
POST /_local/text   {"to", "from", "body"}              deliver an inbound SMS as Twilio would
POST /_local/fire   {"sid"} or {"level": 1|2}           fire Usage Triggers (once per period)
GET|POST /_local/bins/reject                            a TwiML Bin answering <Reject busy>
GET  /_local/usage                                      what the account was billed for

Planned failures (`fail_next` and friends, the same on both transports): errors below 30000
are answered at once (HTTP 429/5xx, or 400 with the Twilio code); 30000+ (carrier errors
such as 30007) accept the message and report it `undelivered` in the status callback, as
Twilio does. With `created=True` a 5xx (500, 502, 503, 504) comes after the message was
created, as from Twilio's edge; "garbage" answers a 2xx that is not JSON (`garble_next`
chooses the body), "reset" closes the connection unanswered, "timeout" holds it (`seconds`,
at most 30) then closes it (`drop_next` chooses the exception the `responses` transport
raises); `during_next_send` runs an action while a create is in flight; `fail_list_next`
fails the Messages list; `callback_without_query_next` posts a status callback without the
query string its URL had.

What Twilio sends (signed with the account's token, through `post`, loopback-only by
default): status callbacks of created messages, `call()` (the number's VoiceUrl, then its
VoiceFallbackUrl when the first fails: an HTTP error, 429 included, a timeout, no TwiML),
`text()` (its SmsUrl, or its Messaging Service's inbound URL when the Service governs, then
the SMS fallback URL) and `fire_trigger()` (a Usage Trigger's callback, at most once per
period). `usage` counts what Twilio would bill: an inbound SMS whenever Twilio requested an
SMS URL (none requested: not billed, Twilio support article 223181528 "Billing for incoming
SMS messages"), a call minute whenever a call was answered (by our TwiML, a fallback that
did not <Reject>, or Twilio's own application error; a number without a voice URL is out
of service, not billed: article 223180548), and every outbound segment.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import queue
import re
import socket
import threading
import time
import xml.etree.ElementTree as ET  # nosec B405 (loopback TwiML only: see _is_twiml)
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import ReadTimeout

from decoy.segments import count_segments
from decoy_local.webhooks import (
    Answer,
    call_form,
    new_sid,
    post_form,
    sms_form,
    status_form,
    usage_form,
)

API = r"/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/"
MESSAGES_PATH = re.compile(API + r"Messages(?:/(SM[0-9a-fA-F]{32}))?\.json\Z")
NUMBERS_PATH = re.compile(API + r"IncomingPhoneNumbers(?:/(PN[0-9a-fA-F]{32}))?\.json\Z")
TRIGGERS_PATH = re.compile(API + r"Usage/Triggers(?:/(UT[0-9a-fA-F]{32}))?\.json\Z")
ACCOUNT_PATH = re.compile(r"/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})\.json\Z")
# messaging.twilio.com and accounts.twilio.com: the account is the Basic auth user's.
SERVICES_PATH = re.compile(r"/v1/Services(?:/(MG[0-9a-fA-F]{32}))?(/PhoneNumbers)?/?\Z")
GEO_PATH = re.compile(r"/v1/Messaging/GeoPermissions\Z")
MESSAGING_BASE_URL = "https://messaging.twilio.com"
# What update() may set on a Messaging Service: form name -> resource field.
SERVICE_FIELDS = {"FriendlyName": "friendly_name", "InboundRequestUrl": "inbound_request_url",
                  "InboundMethod": "inbound_method", "FallbackUrl": "fallback_url",
                  "FallbackMethod": "fallback_method", "StatusCallback": "status_callback",
                  "UseInboundWebhookOnNumber": "use_inbound_webhook_on_number"}
# Form name -> resource field, for create (all) and update (the callback and the name only).
TRIGGER_FIELDS = {"CallbackUrl": "callback_url", "CallbackMethod": "callback_method",
                  "FriendlyName": "friendly_name", "TriggerValue": "trigger_value",
                  "UsageCategory": "usage_category", "Recurring": "recurring",
                  "TriggerBy": "trigger_by"}
TRIGGER_UPDATABLE = ("CallbackUrl", "CallbackMethod", "FriendlyName")
TRIGGER_FILTERS = ("Recurring", "TriggerBy", "UsageCategory")  # what list() may filter on
# What update() may set on an IncomingPhoneNumber: form name -> resource field.
NUMBER_FIELDS = {name: re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower() for name in (
    "FriendlyName", "SmsUrl", "SmsMethod", "SmsFallbackUrl", "SmsFallbackMethod",
    "SmsApplicationSid", "VoiceUrl", "VoiceMethod", "VoiceFallbackUrl", "VoiceFallbackMethod",
    "VoiceApplicationSid", "StatusCallback", "StatusCallbackMethod")}
# A new Twilio number's webhooks: Twilio's demo replies.
DEMO_SMS_URL = "https://demo.twilio.com/welcome/sms/reply"
DEMO_VOICE_URL = "https://demo.twilio.com/welcome/voice/"
API_ERRORS = {  # Twilio error code -> (HTTP status, message) answered to the create call
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    20503: (503, "Service Unavailable"),
    21211: (400, "Invalid 'To' Phone Number"),
    21408: (400, "Permission to send an SMS has not been enabled for the region"),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number is not a valid mobile number"),
}
HTTP_TO_CODE = {429: 20429, 500: 20500, 503: 20503}
EDGE_ERRORS = {502: "Bad Gateway", 504: "Gateway Timeout"}  # HTML from the edge, no code
MODES = ("garbage", "reset", "timeout")  # answers that are not an HTTP error
GARBLED = "<html>OK</html>"
MAX_HOLD_SECONDS = 30
MAX_BODY = 64 * 1024
# What a caller hears when the voice URL and its fallback both fail (error 11200): Twilio
# answers (and bills) the call itself.
APPLICATION_ERROR = ("<Response><Say>We are sorry, an application error has occurred."
                     "</Say></Response>")
JSON = "application/json"
# The TwiML Bin a deployer creates once (Twilio support article 223180548: "Reject and Track
# All Incoming Calls ... The easiest way to do this is with a TwiML Bin"): served by the
# HTTP transport at /_local/bins/reject, so that it does not depend on the local stack.
REJECT_BUSY = '<?xml version="1.0" encoding="UTF-8"?><Response><Reject reason="busy"/></Response>'
REJECT_BIN_PATH = "/_local/bins/reject"
# Twilio: "A trigger will only fire once during each period. Recurring times are in GMT"
# (Usage Trigger resource, twilio-node trigger.d.ts); the period's first characters of an
# ISO date: daily "2026-12-04", monthly "2026-12", yearly "2026", alltime "" (once ever).
PERIOD_CHARS = {"daily": 10, "monthly": 7, "yearly": 4, "alltime": 0, "": 0}

POLL = 0.05  # seconds between shutdown checks: a quick Ctrl-C


@dataclass
class OutboxMessage:
    sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    campaign: str | None
    status: str
    error_code: int | None
    num_segments: int
    date_created: str


@dataclass(frozen=True)
class Failure:
    """One planned answer to a create: an HTTP error, a garbled 2xx, a dropped connection..."""

    code: int | None
    http_status: int | None  # None: accepted, then reported undelivered (carrier error)
    created: bool = False  # the message is created before the failure is answered
    mode: str = "status"  # "status", "edge", "garble", "drop", "ok" or "during"
    seconds: float = 0.0  # how long a "drop" holds the connection first (a timeout)
    body: str = ""  # what "garble" answers
    drop: BaseException | None = field(default=None, compare=False)
    action: Callable[[], Any] | None = field(default=None, compare=False)

    def describe(self) -> dict[str, Any]:
        """JSON-safe, for GET /_local/failures."""
        return {"code": self.code, "http_status": self.http_status, "created": self.created,
                "mode": self.mode, "seconds": self.seconds, "body": self.body,
                "drop": type(self.drop).__name__ if self.drop else None}


@dataclass(frozen=True)
class Reply:
    """What the fake answers; `drop`: no answer at all (the `responses` transport raises it,
    the server closes the connection after `hold` seconds)."""

    status: int
    body: str = ""
    content_type: str = JSON
    drop: BaseException | None = None
    hold: float = 0.0


@dataclass(frozen=True)
class CallResult:
    """Who answered a call: "voice_url", "voice_fallback_url", "twilio" (an application
    error: answered and billed) or "nobody" (no voice URL: out of service, not billed)."""

    answered_by: str
    twiml: str
    attempts: tuple[Answer | None, ...] = ()  # each webhook's answer (None: unreachable)

    @property
    def billed(self) -> bool:
        """Twilio bills an answered call: any TwiML whose first verb is not <Reject>, and its
        own application error. A rejected or out-of-service call is not billed."""
        return self.answered_by == "twilio" or (
            self.answered_by != "nobody" and not _rejects(self.twiml))


def number_sid(number: str) -> str:
    """The same PN sid for a number on every run: a test or an operator can predict it."""
    return "PN" + hashlib.sha256(number.encode()).hexdigest()[:32]


def failure_for(error: int | str, created: bool = False, seconds: float = 0.0,
                code: int | None = None) -> Failure:
    """429/500/502/503/504 (HTTP status), a Twilio error code, or one of MODES -> what the
    fake answers; `created`: the message exists before that answer; `code`: answer this
    Twilio code with HTTP status `error` (a JSON error, whatever the pair)."""
    if error == "garbage":
        return Failure(0, 200, created, "garble", body=GARBLED)
    if error in MODES:
        held = min(max(seconds, 0.0), MAX_HOLD_SECONDS) if error == "timeout" else 0.0
        drop = ReadTimeout("fake timeout") if error == "timeout" else RequestsConnectionError(
            "fake connection reset")
        return Failure(0, None, created, "drop", held, drop=drop)
    if not isinstance(error, int):
        raise ValueError(f"unsupported error {error!r}")
    if code is not None:
        if created and error < 500:
            raise ValueError("created=true goes with a 5xx, garbage, reset or timeout")
        return Failure(code, error, created)
    if error in EDGE_ERRORS:
        return Failure(error, error, created, "edge")
    code = HTTP_TO_CODE.get(error, error)
    if created and not (code in API_ERRORS and API_ERRORS[code][0] >= 500):
        raise ValueError("created=true goes with a 5xx, garbage, reset or timeout")
    if code in API_ERRORS:
        return Failure(code, API_ERRORS[code][0], created)
    if 30000 <= code < 40000:
        return Failure(code, None)
    raise ValueError(f"unsupported error {error}: use 429, 500, 503, "
                     f"{', '.join(str(c) for c in API_ERRORS if c >= 21000)} or 30xxx")


class TwilioCore:
    """One Twilio account in memory, answering its REST API through `handle()`.

    State a test may read: `outbox` (OutboxMessage), `sent` (the create forms), `attempts`
    (creates tried), `lists` (Messages lists), `updates` (number update forms), `requests`
    ((method, resource sid or "") of every REST call), `callbacks` ((url, form) of the
    status callbacks when no `on_callback` posts them), `failures` and `list_failures`
    (what is planned).
    """

    def __init__(self, account_sid: str, auth_token: str, *,
                 now: Callable[[], float] = time.time,
                 on_message: Callable[[OutboxMessage], None] | None = None,
                 on_callback: Callable[[str, dict[str, str]], None] | None = None):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.now = now
        self.outbox: list[OutboxMessage] = []
        self.sent: list[dict[str, str]] = []
        self.attempts = 0
        self.lists = 0
        self.updates: list[dict[str, str]] = []
        self.requests: list[tuple[str, str]] = []
        self.callbacks: list[tuple[str, dict[str, str]]] = []
        self.failures: list[Failure] = []
        self.list_failures: list[int | BaseException | None] = []
        self.post: Callable[..., Answer] = post_form  # how Twilio's webhooks leave the fake
        self._numbers: dict[str, dict[str, Any]] = {}  # E.164 -> IncomingPhoneNumber
        self._triggers: dict[str, dict[str, Any]] = {}  # UT sid -> UsageTrigger
        self.account_type = "Full"  # "Trial" for an account not upgraded
        self._services: dict[str, dict[str, Any]] = {}  # MG sid -> Messaging Service
        self._service_numbers: dict[str, list[str]] = {}  # MG sid -> its senders (E.164)
        # ISO country -> SMS allowed; None: the API answers 404 (what it cannot tell)
        self.geo_permissions: dict[str, bool] | None = None
        # What Twilio would bill: "sms-inbound" (messages), "calls-inbound" (answered calls,
        # one minute each here), "sms-outbound" (segments); see the module's docstring.
        self.usage: Counter[str] = Counter()
        self._callbacks_without_query = 0
        self._lock = threading.RLock()
        self._on_message = on_message
        self._on_callback = on_callback

    # -- planning what the next requests get -------------------------------------------

    def fail_next(self, error: int | str, times: int | None = 1, created: bool = False,
                  seconds: float = 0.0, *, code: int | None = None) -> list[dict[str, Any]]:
        """Answer the next `times` sends with `error` (see failure_for); times=0 clears the
        pending failures. The tests' older form fail_next(http_status, code) still reads as
        such: a second argument that is None or a Twilio code (>= 10000) is the code."""
        if times is None or times >= 10000:
            code, times = times, 1
            failure = Failure(code, int(error), created) if isinstance(error, int) else None
        else:
            failure = None
        failure = failure or failure_for(error, created, seconds, code)
        with self._lock:
            if times <= 0:
                self.failures.clear()
            self.failures.extend([failure] * times)
            return self.pending_failures()

    def garble_next(self, body: str = "<html>502 Bad Gateway</html>", status: int = 200,
                    times: int = 1, *, created: bool = True) -> None:
        """A 2xx whose body is not a message (HTML, cut JSON, empty), after creating it."""
        self._plan(Failure(0, status, created, "garble", body=body), times)

    def drop_next(self, exc: BaseException, *, accepted: bool = False, times: int = 1,
                  seconds: float = 0.0) -> None:
        """The connection fails with `exc` (raised by the `responses` transport; the server
        holds it `seconds` then closes it): before Twilio saw the request, or after it
        accepted the message."""
        self._plan(Failure(0, None, accepted, "drop", min(max(seconds, 0.0), MAX_HOLD_SECONDS),
                           drop=exc), times)

    def succeed_next(self, times: int = 1) -> None:
        """The next sends are created and answered normally (a step in a planned sequence)."""
        self._plan(Failure(None, 201, mode="ok"), times)

    def during_next_send(self, action: Callable[[], Any]) -> None:
        """Run `action` while the next create is in flight (a concurrent invocation), then
        create the message."""
        self._plan(Failure(None, 201, mode="during", action=action), 1)

    def fail_list_next(self, failure: int | BaseException | None, times: int = 1) -> None:
        """The Messages list answers `failure` (an HTTP status), drops the connection with it
        (an exception), or (None) answers normally: a step in a planned sequence."""
        with self._lock:
            self.list_failures.extend([failure] * times)

    def callback_without_query_next(self, times: int = 1) -> None:
        """The next created messages' status callbacks lose their URL's query string."""
        with self._lock:
            self._callbacks_without_query += times

    def pending_failures(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self.failures]

    def _plan(self, failure: Failure, times: int) -> None:
        with self._lock:
            self.failures.extend([failure] * times)

    # -- the account's state ------------------------------------------------------------

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [_public(m) for m in self.outbox]

    def own(self, numbers: list[str]) -> None:
        """The account owns these numbers, with a new number's (demo) webhooks."""
        with self._lock:
            for number in numbers:
                sid = number_sid(number)
                self._numbers.setdefault(number, {
                    **dict.fromkeys(NUMBER_FIELDS.values(), ""),
                    "sid": sid, "account_sid": self.account_sid, "phone_number": number,
                    "friendly_name": number, "api_version": "2010-04-01",
                    "sms_url": DEMO_SMS_URL, "sms_method": "POST",
                    "voice_url": DEMO_VOICE_URL, "voice_method": "POST",
                    "sms_fallback_method": "POST", "voice_fallback_method": "POST",
                    "capabilities": {"voice": True, "sms": True, "mms": False, "fax": False},
                    "uri": f"/2010-04-01/Accounts/{self.account_sid}/IncomingPhoneNumbers/"
                           f"{sid}.json"})

    def disown(self, number: str) -> None:
        """The account no longer owns this number (released, or never bought)."""
        with self._lock:
            self._numbers.pop(number, None)

    def number(self, number: str) -> dict[str, Any]:
        """The live resource of an owned number (KeyError otherwise): a test may edit it."""
        return self._numbers[number]

    def numbers(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(n) for n in self._numbers.values()]

    def trigger(self, sid: str) -> dict[str, Any]:
        """The live resource of a Usage Trigger (KeyError otherwise): a test may edit it."""
        return self._triggers[sid]

    def triggers(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(t) for t in self._triggers.values()]

    def add_trigger(self, **fields: str) -> str:
        """A Usage Trigger already on the account (made elsewhere); returns its sid."""
        with self._lock:
            sid = new_sid("UT")
            self._triggers[sid] = {
                **dict.fromkeys(TRIGGER_FIELDS.values(), ""), "callback_method": "POST",
                "trigger_by": "usage", "recurring": "daily", "sid": sid,
                "account_sid": self.account_sid, "current_value": "0",
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Usage/Triggers/{sid}.json",
                **fields}
            return sid

    def add_service(self, numbers: list[str] | tuple[str, ...] = (), *,
                    use_inbound_webhook_on_number: bool = False,
                    inbound_request_url: str = "https://example.org/inbound",
                    fallback_url: str = "", friendly_name: str | None = None) -> str:
        """A Messaging Service on the account holding `numbers`; returns its sid. Unless
        `use_inbound_webhook_on_number`, its inbound URL governs those numbers' SMS (Twilio
        Messaging Services API: inbound_request_url, use_inbound_webhook_on_number)."""
        with self._lock:
            sid = new_sid("MG")
            self._services[sid] = {
                "sid": sid, "account_sid": self.account_sid,
                "friendly_name": friendly_name or f"service {sid[-4:]}",
                "inbound_request_url": inbound_request_url, "inbound_method": "POST",
                "fallback_url": fallback_url, "fallback_method": "POST", "status_callback": "",
                "use_inbound_webhook_on_number": use_inbound_webhook_on_number,
                "url": f"{MESSAGING_BASE_URL}/v1/Services/{sid}",
                "links": {"phone_numbers": f"{MESSAGING_BASE_URL}/v1/Services/{sid}/PhoneNumbers"}}
            self._service_numbers[sid] = list(numbers)
            return sid

    def service(self, sid: str) -> dict[str, Any]:
        """The live resource of a Messaging Service (KeyError otherwise): a test may edit it."""
        return self._services[sid]

    def services(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{**s, "phone_numbers": list(self._service_numbers[sid])}
                    for sid, s in self._services.items()]

    def service_of(self, number: str) -> dict[str, Any] | None:
        """The Messaging Service holding `number`, if any (a number is in one at most)."""
        with self._lock:
            return next((self._services[sid] for sid, held in self._service_numbers.items()
                         if number in held), None)

    def usage_today(self) -> dict[str, int]:
        with self._lock:
            return dict(self.usage)

    # -- the REST API ---------------------------------------------------------------------

    def authorized(self, header: str, account_sid: str) -> bool:
        if account_sid != self.account_sid or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == self.account_sid and password == self.auth_token

    def handle(self, method: str, path: str, query: dict[str, str], form: dict[str, str],
               authorization: str = "") -> Reply:
        """Answer one REST request as Twilio would (Basic auth first: 401 otherwise)."""
        service = SERVICES_PATH.fullmatch(path)
        if service:
            with self._lock:
                self.requests.append((method, service.group(1) or ""))
            if not self.authorized(authorization, self.account_sid):
                return _json(401, _error(20003, "Authenticate", 401))
            sid, numbers = service.groups()
            route = getattr(self, f"_services_{method.lower()}", None)
            return route(path, sid, bool(numbers), form) if route else _not_found()
        routes = {"messages": MESSAGES_PATH, "numbers": NUMBERS_PATH, "triggers": TRIGGERS_PATH}
        found = [(name, m) for name, pattern in routes.items() if (m := pattern.fullmatch(path))]
        if not found:
            return self._other(method, path, query, authorization)
        ((resource, match),) = found
        account, sid = match.groups()
        with self._lock:
            self.requests.append((method, sid or ""))
        if not self.authorized(authorization, account):
            return _json(401, _error(20003, "Authenticate", 401))
        route = getattr(self, f"_{resource}_{method.lower()}", None)
        return route(path, sid, query, form) if route else _not_found()

    def _other(self, method: str, path: str, query: dict[str, str], authorization: str
               ) -> Reply:
        """The account itself and geo permissions: reads only (Messaging Services: handle)."""
        account, geo = ACCOUNT_PATH.fullmatch(path), GEO_PATH.fullmatch(path)
        if method != "GET" or not (account or geo):
            return _not_found()
        if not self.authorized(authorization, account.group(1) if account else self.account_sid):
            return _json(401, _error(20003, "Authenticate", 401))
        with self._lock:
            if account:
                return _json(200, {"sid": self.account_sid, "type": self.account_type,
                                   "status": "active", "friendly_name": "My first account"})
            return self._geo(query)

    def _geo(self, query: dict[str, str]) -> Reply:
        if self.geo_permissions is None:
            return _not_found()
        wanted = [c for c in query.get("CountryCode", "").split(",") if c] or \
            sorted(self.geo_permissions)
        return _json(200, {"permissions": [
            {"country_code": c, "type": "country", "enabled": self.geo_permissions.get(c, False),
             "error_code": 0, "error_messages": []} for c in wanted]})

    def _messages_post(self, _path: str, sid: str | None, _query: dict[str, str],
                       form: dict[str, str]) -> Reply:
        if sid:
            return _not_found()  # updating (redacting, canceling) a message: not faked
        missing = _missing_field(form)
        if missing:
            return _json(400, _error(*missing))
        with self._lock:
            self.attempts += 1
            failure = self.failures.pop(0) if self.failures else None
        if failure is None or failure.mode in ("ok", "during"):
            if failure is not None and failure.action is not None:
                failure.action()  # outside the lock: it may send through this fake too
            return _json(201, self._create(form, None))
        if failure.http_status is None and failure.mode == "status":  # carrier error
            return _json(201, self._create(form, failure))
        if failure.created:
            self._create(form, None)
        if failure.mode == "drop":
            return Reply(0, drop=failure.drop, hold=failure.seconds)
        if failure.mode == "garble":
            return Reply(failure.http_status or 200, failure.body, "text/html")
        status = failure.http_status or 500
        if failure.mode == "edge":
            return Reply(status, f"<html><body>{status} {EDGE_ERRORS[status]}</body></html>",
                         "text/html")
        message = API_ERRORS.get(failure.code or 0, (0, f"simulated {failure.code or status}"))
        return _json(status, _error(failure.code, message[1], status))

    def _messages_get(self, path: str, sid: str | None, query: dict[str, str],
                      _form: dict[str, str]) -> Reply:
        """One message, or one page (the only one) of them, newest first, filtered by To and
        From; DateSent filters are date-granular, as Twilio documents, and unsent (queued)
        messages, with no date_sent, never match one."""
        if sid:
            with self._lock:
                found = [m for m in self.outbox if m.sid == sid]
            return _json(200, self._resource(found[0])) if found else _not_found()
        with self._lock:
            self.lists += 1
            planned = self.list_failures.pop(0) if self.list_failures else None
            found = [self._resource(m) for m in reversed(self.outbox)
                     if query.get("To", m.to) == m.to and query.get("From", m.from_) == m.from_]
        if isinstance(planned, BaseException):
            return Reply(0, drop=planned)
        if planned is not None:
            return _json(planned, _error(20500, "simulated", planned))
        for name, keep in (("DateSent>", lambda d, day: d >= day),
                           ("DateSent<", lambda d, day: d <= day),
                           ("DateSent", lambda d, day: d == day)):
            if name in query:
                day = query[name][:10]
                found = [m for m in found if m["date_sent"] and keep(
                    parsedate_to_datetime(m["date_sent"]).strftime("%Y-%m-%d"), day)]
        return _json(200, _page("messages", found, path, query))

    def _numbers_get(self, path: str, sid: str | None, query: dict[str, str],
                     _form: dict[str, str]) -> Reply:
        """One number, or the numbers whose E.164 contains PhoneNumber."""
        with self._lock:
            if sid:
                found = [dict(n) for n in self._numbers.values() if n["sid"] == sid]
                return _json(200, found[0]) if found else _not_found()
            wanted = query.get("PhoneNumber", "")
            found = [dict(n) for e164, n in self._numbers.items() if wanted in e164]
        return _json(200, _page("incoming_phone_numbers", found, path, query))

    def _numbers_post(self, _path: str, sid: str | None, _query: dict[str, str],
                      form: dict[str, str]) -> Reply:
        """Update a number's webhooks (buying one is not faked)."""
        with self._lock:
            found = [n for n in self._numbers.values() if sid and n["sid"] == sid]
            if not found:
                return _not_found()
            changed = {**found[0], **{NUMBER_FIELDS[k]: v for k, v in form.items()
                                      if k in NUMBER_FIELDS}}
            for kind, code in (("voice", 21405), ("sms", 21406)):
                if form.get(f"{kind.capitalize()}FallbackUrl") and not changed[f"{kind}_url"]:
                    return _json(400, _error(code, f"Cannot set {kind.capitalize()}FallbackUrl"
                                                   f" without setting {kind.capitalize()}Url",
                                             400))
            self.updates.append(dict(form))
            found[0].update(changed)
            return _json(200, dict(found[0]))

    def _services_get(self, path: str, sid: str | None, numbers: bool,
                      _form: dict[str, str]) -> Reply:
        """A Service, the Services, or a Service's phone numbers (v1 pages: meta.key)."""
        with self._lock:
            if sid and sid not in self._services:
                return _not_found()
            if sid and numbers:
                found = [{"sid": number_sid(n), "account_sid": self.account_sid,
                          "service_sid": sid, "phone_number": n, "country_code": "",
                          "capabilities": ["SMS", "Voice"],
                          "url": f"{MESSAGING_BASE_URL}/v1/Services/{sid}/PhoneNumbers/"
                                 f"{number_sid(n)}"} for n in self._service_numbers[sid]]
                return _json(200, _v1_page("phone_numbers", found, path))
            if sid:
                return _json(200, dict(self._services[sid]))
            return _json(200, _v1_page("services", [dict(s) for s in self._services.values()],
                                         path))

    def _services_post(self, _path: str, sid: str | None, numbers: bool,
                       form: dict[str, str]) -> Reply:
        """Create or update a Service (its inbound settings), or add an owned number to it."""
        with self._lock:
            if sid and sid not in self._services:
                return _not_found()
            if sid and numbers:
                owned = [n for n, r in self._numbers.items()
                         if r["sid"] == form.get("PhoneNumberSid")]
                if not owned:
                    return _json(400, _error(21710, "Phone Number Sid is invalid", 400))
                if self.service_of(owned[0]) is not None:
                    return _json(409, _error(21712, "Phone Number is already in a Messaging "
                                                    "Service", 409))
                self._service_numbers[sid].append(owned[0])
                return _json(201, {"sid": form["PhoneNumberSid"], "service_sid": sid,
                                   "phone_number": owned[0], "account_sid": self.account_sid})
            fields = {SERVICE_FIELDS[k]: (v.lower() == "true"
                                          if k == "UseInboundWebhookOnNumber" else v)
                      for k, v in form.items() if k in SERVICE_FIELDS}
            created = not sid
            if not sid:
                sid = self.add_service(inbound_request_url="",
                                       friendly_name=str(fields.pop("friendly_name", "")))
            self._services[sid].update(fields)
            return _json(201 if created else 200, dict(self._services[sid]))

    def _triggers_get(self, path: str, sid: str | None, query: dict[str, str],
                      _form: dict[str, str]) -> Reply:
        with self._lock:
            if sid:
                trigger = self._triggers.get(sid)
                return _json(200, dict(trigger)) if trigger else _not_found()
            found = [dict(t) for t in self._triggers.values()
                     if all(query.get(name, t[TRIGGER_FIELDS[name]]) == t[TRIGGER_FIELDS[name]]
                            for name in TRIGGER_FILTERS)]
        return _json(200, _page("usage_triggers", found, path, query))

    def _triggers_post(self, _path: str, sid: str | None, _query: dict[str, str],
                       form: dict[str, str]) -> Reply:
        """Create a trigger, or update one (its callback and name only, as Twilio allows)."""
        with self._lock:
            if sid:
                trigger = self._triggers.get(sid)
                if trigger is None:
                    return _not_found()
                trigger.update({TRIGGER_FIELDS[k]: v for k, v in form.items()
                                if k in TRIGGER_UPDATABLE})
                return _json(200, dict(trigger))
            for name in ("CallbackUrl", "TriggerValue", "UsageCategory"):
                if not form.get(name):
                    return _json(400, _error(21201, f"Missing required parameter {name}", 400))
            sid = self.add_trigger(**{TRIGGER_FIELDS[k]: v for k, v in form.items()
                                      if k in TRIGGER_FIELDS})
            return _json(201, dict(self._triggers[sid]))

    def _triggers_delete(self, _path: str, sid: str | None, _query: dict[str, str],
                         _form: dict[str, str]) -> Reply:
        with self._lock:
            if not sid or self._triggers.pop(sid, None) is None:
                return _not_found()
        return Reply(204)

    def _create(self, form: dict[str, str], failure: Failure | None) -> dict[str, Any]:
        callback = form.get("StatusCallback")
        message = OutboxMessage(
            sid=new_sid("SM"), to=form["To"], from_=form.get("From"),
            messaging_service_sid=form.get("MessagingServiceSid"), body=form["Body"],
            campaign=(parse_qs(urlsplit(callback).query).get("campaign") or [None])[0]
            if callback else None,
            status="queued" if failure is None else "undelivered",
            error_code=failure.code if failure else None,
            num_segments=count_segments(form["Body"]).segments,
            date_created=formatdate(self.now(), usegmt=True))
        with self._lock:
            self.outbox.append(message)
            self.sent.append(dict(form))
            self.usage["sms-outbound"] += message.num_segments
            strip = self._callbacks_without_query > 0
            self._callbacks_without_query -= strip
        if self._on_message:
            self._on_message(message)
        created = self._resource(message)  # what create() answers: queued
        if callback:
            final = "delivered" if failure is None else "undelivered"
            sender = message.from_ or message.messaging_service_sid or ""
            self._callback(callback.split("?")[0] if strip else callback, status_form(
                final, str(failure.code) if failure else None, message.sid, sender=sender,
                to=message.to, account_sid=self.account_sid))
            with self._lock:  # the resource then shows the status its callback reported
                message.status = final
        return created

    def _resource(self, message: OutboxMessage) -> dict[str, Any]:
        return {**_public(message), "account_sid": self.account_sid, "date_sent": None,
                "api_version": "2010-04-01", "direction": "outbound-api",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{message.sid}.json"}

    def _callback(self, url: str, form: dict[str, str]) -> None:
        if self._on_callback is None:
            with self._lock:
                self.callbacks.append((url, form))
        else:
            self._on_callback(url, form)

    # -- what Twilio sends: inbound traffic and trigger callbacks --------------------------

    def call(self, number: str, caller: str, *, timeout: float = 15.0,
             count: int = 1) -> CallResult:
        """A call to an owned number, as Twilio places it. Its VoiceUrl first; when Twilio
        cannot retrieve or execute TwiML from it (an HTTP error, 429 included, no connection,
        a timeout: 15 s by default, or no <Response>), its VoiceFallbackUrl, with ErrorCode
        and ErrorUrl added; when that fails too, Twilio answers (and bills) the call itself
        with an application error (11200). No VoiceUrl: out of service, unanswered.
        (Twilio docs, "Availability and reliability", Fallback URLs; checked 2026-12-04.)"""
        result = self._place_call(number, caller, timeout)
        with self._lock:  # count: one request standing for that many alike (load benches)
            self.usage["calls-inbound" if result.billed else "calls-unbilled"] += count
        return result

    def _place_call(self, number: str, caller: str, timeout: float) -> CallResult:
        resource = self.number(number)
        form = call_form(caller, number, account_sid=self.account_sid)
        if not resource["voice_url"]:
            return CallResult("nobody", "")
        attempts: list[Answer | None] = []
        for name in ("voice_url", "voice_fallback_url"):
            url = resource[name]
            if not url:
                break
            answer = self._webhook(url, form, timeout)
            attempts.append(answer)
            if answer is not None and answer.status < 400 and _is_twiml(answer.body):
                return CallResult(name, answer.body, tuple(attempts))
            form = {**form, "ErrorCode": "11200" if answer is None or answer.status >= 400
                    else "12100", "ErrorUrl": url}
        return CallResult("twilio", APPLICATION_ERROR, tuple(attempts))

    def sms_urls(self, number: str) -> tuple[str, str]:
        """(request URL, fallback URL) Twilio uses for an SMS to `number`: its Messaging
        Service's inbound settings when it is in one that does not defer to the number's
        webhook (use_inbound_webhook_on_number), else the number's SmsUrl/SmsFallbackUrl."""
        service = self.service_of(number)
        if service is not None and not service["use_inbound_webhook_on_number"]:
            return service["inbound_request_url"], service["fallback_url"]
        resource = self.number(number)
        return resource["sms_url"], resource["sms_fallback_url"]

    def text(self, number: str, sender: str, body: str, *,
             timeout: float = 15.0, count: int = 1) -> Answer | None:
        """An SMS to an owned number: the URL that governs it gets the webhook, then its
        fallback when that fails (a failed SMS webhook is billed all the same and nothing
        else happens: no message goes back). None: no URL, nothing requested, not billed."""
        url, fallback = self.sms_urls(number)
        if not url:
            with self._lock:
                self.usage["sms-unbilled"] += count
            return None
        with self._lock:  # "if Twilio makes a request to your SMS URL then you will be billed"
            self.usage["sms-inbound"] += count
        form = sms_form(sender, number, body, account_sid=self.account_sid)
        answer = self._webhook(url, form, timeout)
        if (answer is None or answer.status >= 400) and fallback:
            return self._webhook(fallback, {**form, "ErrorCode": "11200", "ErrorUrl": url},
                                 timeout)
        return answer

    def fire_trigger(self, sid: str, current: str | None = None) -> Answer | None:
        """Twilio crossing a Usage Trigger's threshold: its callback gets the signed form, at
        most once per period ("A trigger will only fire once during each period", GMT):
        None when it already fired in this one."""
        with self._lock:
            trigger = self.trigger(sid)
            if self.fired_this_period(trigger):
                return None
            trigger["date_fired"] = formatdate(self.now(), usegmt=True)  # as the resource says
        form = usage_form(sid, trigger["usage_category"], trigger["trigger_by"],
                          trigger["trigger_value"], current or trigger["trigger_value"],
                          account_sid=self.account_sid, recurring=trigger["recurring"],
                          date_fired=trigger["date_fired"])
        return self._webhook(trigger["callback_url"], form, 15.0)

    def fire_level(self, level: int) -> list[str]:
        """Fire this account's breakers of one level (level 2: callback `...?level=2`, level
        1: the others); the sids whose callback was requested (not those already fired)."""
        fired = []
        for trigger in self.triggers():
            query = parse_qs(urlsplit(trigger["callback_url"]).query)
            if int((query.get("level") or ["1"])[0]) == level and \
                    self.fire_trigger(trigger["sid"]) is not None:
                fired.append(trigger["sid"])
        return fired

    def fired_this_period(self, trigger: dict[str, Any]) -> bool:
        if not trigger.get("date_fired"):
            return False
        chars = PERIOD_CHARS.get(trigger.get("recurring") or "", 0)
        fired = parsedate_to_datetime(trigger["date_fired"]).strftime("%Y-%m-%d")
        today = time.strftime("%Y-%m-%d", time.gmtime(self.now()))
        return fired[:chars] == today[:chars]

    def _webhook(self, url: str, form: dict[str, str], timeout: float) -> Answer | None:
        """POST a signed webhook; None when it cannot be reached (refused, timeout, not a
        loopback URL for the default `post`)."""
        try:
            return self.post(url, form, self.auth_token, timeout=timeout)
        except (OSError, ValueError):
            return None


class FakeTwilio(TwilioCore):
    """The HTTP transport: TwilioCore on 127.0.0.1, status callbacks POSTed signed, async."""

    def __init__(self, account_sid: str, auth_token: str, port: int = 0,
                 on_message: Callable[[OutboxMessage], None] | None = None,
                 now: Callable[[], float] = time.time):
        self._outgoing: queue.Queue[tuple[str, dict[str, str]] | None] = queue.Queue()
        super().__init__(account_sid, auth_token, now=now, on_message=on_message,
                         on_callback=lambda url, form: self._outgoing.put((url, form)))
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self.server.daemon_threads = True
        self._threads = [threading.Thread(target=self.server.serve_forever, args=(POLL,),
                                          daemon=True, name="fake-twilio"),
                         threading.Thread(target=self._post_callbacks, daemon=True,
                                          name="fake-twilio-callbacks")]

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeTwilio:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._outgoing.put(None)
        if self._threads[0].is_alive():  # shutdown() waits for serve_forever: only if it runs
            self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(5)

    def _post_callbacks(self) -> None:
        while (item := self._outgoing.get()) is not None:
            url, form = item
            with contextlib.suppress(OSError, ValueError):  # Twilio gives up on those too
                self.post(url, form, self.auth_token)


def attach_responses(fake: TwilioCore, mock: Any,
                     base_url: str = "https://api.twilio.com",
                     messaging_url: str = MESSAGING_BASE_URL) -> TwilioCore:
    """The `responses` transport: every request under `base_url` (and Messaging Services
    under `messaging_url`) that `mock` (a responses.RequestsMock) intercepts is answered by
    `fake.handle`."""
    # responses consumes the first of several matching callbacks: register each URL once.
    attached: set[str] = getattr(mock, "_fake_twilio_urls", set())
    urls = {base_url.rstrip("/"), messaging_url.rstrip("/")} - attached
    mock._fake_twilio_urls = attached | urls
    if not urls:
        return fake
    pattern = re.compile("(?:" + "|".join(re.escape(u) for u in sorted(urls)) + r")/.*")

    def respond(request: Any) -> tuple[int, dict[str, str], str]:
        url = urlsplit(request.url)
        body = request.body or ""
        reply = fake.handle(request.method, url.path, dict(parse_qsl(url.query)),
                            dict(parse_qsl(body.decode() if isinstance(body, bytes) else body,
                                           keep_blank_values=True)),
                            request.headers.get("Authorization", ""))
        if reply.drop is not None:
            raise reply.drop
        return reply.status, {"Content-Type": reply.content_type} if reply.body else {}, \
            reply.body

    for method in ("GET", "POST", "DELETE"):
        mock.add_callback(method, pattern, callback=respond)
    return fake


def _public(message: OutboxMessage) -> dict[str, Any]:
    data = asdict(message)
    data["from"] = data.pop("from_")
    return data


# Parses only the TwiML our own handlers (or the local reject Bin) answered: `post` reaches
# http://127.0.0.1 only (webhooks.loopback_request). ElementTree fetches no external entity,
# and expat >= 2.4.1 caps entity expansion (Python docs, "XML security"): defusedxml is not a
# run dependency for that, so bandit's B405/B314 are waived here.
def _is_twiml(body: str) -> bool:
    try:
        return ET.fromstring(body).tag == "Response"  # noqa: S314  # nosec B314 (loopback TwiML)
    except ET.ParseError:
        return False


def _page(key: str, found: list[dict[str, Any]], path: str,
          query: dict[str, str]) -> dict[str, Any]:
    """One page (the only one) of a list, as the 2010-04-01 API pages it."""
    size = int(query.get("PageSize") or 50)
    return {key: found[:size], "page": 0, "page_size": size, "start": 0,
            "end": max(min(len(found), size) - 1, 0), "uri": path, "first_page_uri": path,
            "next_page_uri": None, "previous_page_uri": None}


def _v1_page(key: str, found: list[dict[str, Any]], path: str) -> dict[str, Any]:
    """One page (the only one) of a list, as the v1 APIs page it (`meta.key`)."""
    return {key: found, "meta": {"page": 0, "page_size": 50, "first_page_url": path,
                                 "previous_page_url": None, "url": path, "next_page_url": None,
                                 "key": key}}


def _rejects(twiml: str) -> bool:
    """True when the TwiML's first verb is <Reject>: Twilio does not answer the call."""
    try:
        root = ET.fromstring(twiml)  # noqa: S314  # nosec B314 (loopback TwiML)
    except ET.ParseError:
        return False
    return len(root) > 0 and root[0].tag == "Reject"


def _missing_field(form: dict[str, str]) -> tuple[int, str, int] | None:
    if not form.get("To"):
        return 21604, "A 'To' phone number is required.", 400
    if not form.get("Body"):
        return 21602, "Message body is required.", 400
    if not (form.get("From") or form.get("MessagingServiceSid")):
        return 21603, "A 'From' phone number is required.", 400
    return None


def _error(code: int | None, message: str, status: int) -> dict[str, Any]:
    return {"code": code, "message": message, "status": status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}"}


def _json(status: int, payload: dict[str, Any]) -> Reply:
    return Reply(status, json.dumps(payload))


def _not_found() -> Reply:
    return _json(404, _error(20404, "The requested resource was not found", 404))


def _handler_for(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeTwilio/1.0"

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            local = {"/_local/outbox": lambda: {"messages": fake.messages()},
                     "/_local/failures": lambda: {"pending": fake.pending_failures()},
                     "/_local/numbers": lambda: {"numbers": fake.numbers()},
                     "/_local/triggers": lambda: {"usage_triggers": fake.triggers()},
                     "/_local/services": lambda: {"services": fake.services()},
                     "/_local/usage": lambda: {"usage": fake.usage_today()}}
            if url.path == REJECT_BIN_PATH:
                self._send(Reply(200, REJECT_BUSY, "text/xml"))
            elif url.path in local:
                self._send(_json(200, local[url.path]()))
            else:
                self._api("GET", "")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(_json(413, _error(20001, "Request too large", 413)))
                return
            raw = self.rfile.read(length).decode("utf-8", "replace")
            path = urlsplit(self.path).path
            if path == "/_local/failures":
                self._failures(raw)
            elif path == REJECT_BIN_PATH:  # Twilio POSTs to a TwiML Bin (ErrorCode, ...)
                self._send(Reply(200, REJECT_BUSY, "text/xml"))
            elif path in ("/_local/call", "/_local/text", "/_local/fire"):
                self._traffic(path, raw)
            else:
                self._api("POST", raw)

        def do_DELETE(self) -> None:
            self._api("DELETE", "")

        def _api(self, method: str, raw: str) -> None:
            url = urlsplit(self.path)
            self._send(fake.handle(method, url.path, dict(parse_qsl(url.query)),
                                   dict(parse_qsl(raw, keep_blank_values=True)),
                                   self.headers.get("Authorization", "")))

        def _send(self, reply: Reply) -> None:
            if reply.drop is not None:  # "reset" / "timeout": no answer at all
                time.sleep(reply.hold)  # bounded by MAX_HOLD_SECONDS
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
                return
            body = reply.body.encode()
            self.send_response(reply.status)
            if body:
                self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _traffic(self, path: str, raw: str) -> None:
            """What Twilio sends, on demand: a call, an SMS or a trigger firing."""
            try:
                request = json.loads(raw or "{}")
                if path == "/_local/call":
                    result = fake.call(str(request["to"]), str(request["from"]))
                    answer: dict[str, Any] = {"answered_by": result.answered_by,
                                              "twiml": result.twiml, "billed": result.billed}
                elif path == "/_local/text":
                    sent = fake.text(str(request["to"]), str(request["from"]),
                                     str(request.get("body", "salut")))
                    answer = {"requested": sent is not None,
                              "status": sent.status if sent else None}
                elif "sid" in request:
                    answer = {"fired": [request["sid"]] if fake.fire_trigger(
                        str(request["sid"])) is not None else []}
                else:
                    answer = {"fired": fake.fire_level(int(request.get("level", 1)))}
            except (ValueError, KeyError, TypeError) as exc:
                self._send(_json(400, {"message": f"bad request: {exc!r}"}))
                return
            self._send(_json(200, answer))

        def _failures(self, raw: str) -> None:
            try:
                request = json.loads(raw or "{}")
                if "list" in request:
                    fake.fail_list_next(int(request["list"]), int(request.get("times", 1)))
                    self._send(_json(200, {"pending": fake.pending_failures()}))
                    return
                error, times = request["error"], int(request.get("times", 1))
                created = bool(request.get("created", False))
                if error == "garbage":  # the body and status may be chosen
                    fake.garble_next(str(request.get("body", GARBLED)),
                                     int(request.get("status", 200)), times, created=created)
                    pending = fake.pending_failures()
                else:
                    pending = fake.fail_next(error if error in MODES else int(error),
                                             times=times, created=created,
                                             seconds=float(request.get("seconds", 0)))
            except (ValueError, KeyError, TypeError) as exc:
                self._send(_json(400, {"message": f"expected {{'error': code, 'times': n}} "
                                                  f"or {{'list': status}}: {exc}"}))
                return
            self._send(_json(200, {"pending": pending}))

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: the stack prints one readable line per message instead."""

    return Handler
