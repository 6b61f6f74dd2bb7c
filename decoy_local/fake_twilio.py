"""A fake Twilio REST API on loopback: the real twilio client sends to it, an outbox records.

POST /2010-04-01/Accounts/<AccountSid>/Messages.json   what the sender's client calls
GET  /2010-04-01/Accounts/<AccountSid>/IncomingPhoneNumbers.json?PhoneNumber=...
POST /2010-04-01/Accounts/<AccountSid>/IncomingPhoneNumbers/<PN sid>.json
                                                        what `python -m decoy_ops connect` calls
GET|POST /2010-04-01/Accounts/<AccountSid>/Usage/Triggers.json                 list, create
POST|DELETE /2010-04-01/Accounts/<AccountSid>/Usage/Triggers/<UT sid>.json     update, delete
                                                        the Usage Triggers `connect` installs
GET  /_local/outbox                                     every message accepted, as JSON
GET  /_local/numbers                                    the owned numbers and their webhooks
GET  /_local/triggers                                   the Usage Triggers installed
GET  /2010-04-01/Accounts/<AccountSid>/Messages.json?To=..&From=..&DateSent>=..
                                                        the messages, newest first (the
                                                        sender's lookup after an ambiguous send)
GET|POST /_local/failures                               {"error": 429, "times": n}: fail sends

Errors below 30000 are answered at once (HTTP 429/5xx, or 400 with the Twilio code);
30000+ (carrier errors such as 30007) accept the message and report it `undelivered`
in the status callback, as Twilio does. With `"created": true` a 5xx (500, 502, 503, 504)
comes after the message was created, as from Twilio's edge; `"error": "garbage"` answers a
2xx that is not JSON, `"reset"` closes the connection unanswered, `"timeout"` holds it
(`"seconds"`, at most 30) then closes it: created first or not, as `created` says.
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
from collections.abc import Callable
from dataclasses import asdict, dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from decoy.segments import count_segments
from decoy_local.webhooks import new_sid, post_form, status_form

MESSAGES_PATH = re.compile(r"/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Messages\.json\Z")
NUMBERS_PATH = re.compile(r"/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/IncomingPhoneNumbers"
                          r"(?:/(PN[0-9a-fA-F]{32}))?\.json\Z")
TRIGGERS_PATH = re.compile(r"/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Usage/Triggers"
                           r"(?:/(UT[0-9a-fA-F]{32}))?\.json\Z")
# Form name -> resource field, for create (all) and update (the callback and the name only).
TRIGGER_FIELDS = {"CallbackUrl": "callback_url", "CallbackMethod": "callback_method",
                  "FriendlyName": "friendly_name", "TriggerValue": "trigger_value",
                  "UsageCategory": "usage_category", "Recurring": "recurring",
                  "TriggerBy": "trigger_by"}
TRIGGER_UPDATABLE = ("CallbackUrl", "CallbackMethod", "FriendlyName")
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
MAX_HOLD_SECONDS = 30
MAX_BODY = 64 * 1024

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
    code: int
    http_status: int | None  # None: accepted, then reported undelivered (carrier error)
    created: bool = False  # the message is created before the failure is answered
    mode: str = "status"  # "status", "edge", or one of MODES
    seconds: float = 0.0  # how long "timeout" holds the connection


def number_sid(number: str) -> str:
    """The same PN sid for a number on every run: a test or an operator can predict it."""
    return "PN" + hashlib.sha256(number.encode()).hexdigest()[:32]


def failure_for(error: int | str, created: bool = False, seconds: float = 0.0) -> Failure:
    """429/500/502/503/504 (HTTP status), a Twilio error code, or one of MODES -> what the
    fake answers; `created`: the message exists before that answer."""
    if error in MODES:
        return Failure(0, None, created, str(error), min(max(seconds, 0.0), MAX_HOLD_SECONDS))
    if not isinstance(error, int):
        raise ValueError(f"unsupported error {error!r}")
    if error in EDGE_ERRORS:
        return Failure(error, error, created, "edge")
    code = HTTP_TO_CODE.get(error, error)
    if created and not (code in API_ERRORS and API_ERRORS[code][0] >= 500):
        raise ValueError("created=true goes with a 5xx, garbage, reset or timeout")
    if code in API_ERRORS and created:
        return Failure(code, API_ERRORS[code][0], True)
    if code in API_ERRORS:
        return Failure(code, API_ERRORS[code][0])
    if 30000 <= code < 40000:
        return Failure(code, None)
    raise ValueError(f"unsupported error {error}: use 429, 500, 503, "
                     f"{', '.join(str(c) for c in API_ERRORS if c >= 21000)} or 30xxx")


class FakeTwilio:
    """Twilio's Messages API for one account; status callbacks are POSTed signed, async.

    Also the account's IncomingPhoneNumbers (list by number, update the webhooks), for
    the numbers given to own().
    """

    def __init__(self, account_sid: str, auth_token: str, port: int = 0,
                 on_message: Callable[[OutboxMessage], None] | None = None):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.outbox: list[OutboxMessage] = []
        self._numbers: dict[str, dict[str, Any]] = {}  # PN sid -> IncomingPhoneNumber
        self._triggers: dict[str, dict[str, Any]] = {}  # UT sid -> UsageTrigger
        self._failures: list[Failure] = []
        self._lock = threading.Lock()
        self._on_message = on_message
        self._callbacks: queue.Queue[tuple[str, dict[str, str]] | None] = queue.Queue()
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
        self._callbacks.put(None)
        if self._threads[0].is_alive():  # shutdown() waits for serve_forever: only if it runs
            self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(5)

    def fail_next(self, error: int | str, times: int = 1, created: bool = False,
                  seconds: float = 0.0) -> list[dict[str, Any]]:
        """Answer the next `times` sends with `error`; times=0 clears pending failures."""
        failure = failure_for(error, created, seconds)
        with self._lock:
            if times <= 0:
                self._failures.clear()
            self._failures.extend([failure] * times)
            return self.pending_failures()

    def pending_failures(self) -> list[dict[str, Any]]:
        return [asdict(f) for f in self._failures]

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [_public(m) for m in self.outbox]

    def own(self, numbers: list[str]) -> None:
        """The account owns these numbers, with a new number's (demo) webhooks."""
        with self._lock:
            for number in numbers:
                sid = number_sid(number)
                self._numbers.setdefault(sid, {
                    **dict.fromkeys(NUMBER_FIELDS.values(), ""),
                    "sid": sid, "account_sid": self.account_sid, "phone_number": number,
                    "friendly_name": number, "api_version": "2010-04-01",
                    "sms_url": DEMO_SMS_URL, "sms_method": "POST",
                    "voice_url": DEMO_VOICE_URL, "voice_method": "POST",
                    "capabilities": {"voice": True, "sms": True, "mms": False, "fax": False},
                    "uri": f"/2010-04-01/Accounts/{self.account_sid}/IncomingPhoneNumbers/"
                           f"{sid}.json"})

    def numbers(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(n) for n in self._numbers.values()]

    def triggers(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(t) for t in self._triggers.values()]

    def list_triggers(self, path: str) -> tuple[int, dict[str, Any]]:
        found = self.triggers()
        return 200, {"usage_triggers": found, "page": 0, "page_size": 50, "start": 0,
                     "end": max(len(found) - 1, 0), "uri": path, "first_page_uri": path,
                     "next_page_uri": None, "previous_page_uri": None}

    def create_trigger(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        for name in ("CallbackUrl", "TriggerValue", "UsageCategory"):
            if not form.get(name):
                return 400, _error(21201, f"Missing required parameter {name}", 400)
        with self._lock:
            sid = "UT" + hashlib.sha256(f"{len(self._triggers)}{form}".encode()).hexdigest()[:32]
            trigger = {**dict.fromkeys(TRIGGER_FIELDS.values(), ""), "callback_method": "POST",
                       "trigger_by": "usage", "sid": sid, "account_sid": self.account_sid,
                       "current_value": "0", "api_version": "2010-04-01",
                       "uri": f"/2010-04-01/Accounts/{self.account_sid}/Usage/Triggers/"
                              f"{sid}.json"}
            trigger.update({TRIGGER_FIELDS[k]: v for k, v in form.items()
                            if k in TRIGGER_FIELDS})
            self._triggers[sid] = trigger
            return 201, dict(trigger)

    def update_trigger(self, sid: str, form: dict[str, str] | None) -> tuple[int, dict[str, Any]]:
        """update() with a form; delete with None (204, no body)."""
        with self._lock:
            trigger = self._triggers.get(sid)
            if trigger is None:
                return 404, _error(20404, "The requested resource was not found", 404)
            if form is None:
                del self._triggers[sid]
                return 204, {}
            trigger.update({TRIGGER_FIELDS[k]: v for k, v in form.items()
                            if k in TRIGGER_UPDATABLE})
            return 200, dict(trigger)

    def list_numbers(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """One page (the only one) of the numbers whose E.164 contains PhoneNumber."""
        wanted = query.get("PhoneNumber", "")
        found = [n for n in self.numbers() if wanted in n["phone_number"]]
        return 200, {"incoming_phone_numbers": found, "page": 0,
                     "page_size": int(query.get("PageSize") or 50), "start": 0,
                     "end": max(len(found) - 1, 0), "uri": path, "first_page_uri": path,
                     "next_page_uri": None, "previous_page_uri": None}

    def update_number(self, sid: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            number = self._numbers.get(sid)
            if number is None:
                return 404, _error(20404, "The requested resource was not found", 404)
            number.update({NUMBER_FIELDS[k]: v for k, v in form.items() if k in NUMBER_FIELDS})
            return 200, dict(number)

    def create_message(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """What POST Messages.json answers: (HTTP status, JSON body)."""
        _mode, status, payload = self.answer_create(form)
        return status, payload

    def answer_create(self, form: dict[str, str]) -> tuple[str, int, Any]:
        """(how to answer, HTTP status, body): "json", "edge" (HTML), or one of MODES."""
        missing = _missing_field(form)
        if missing:
            return "json", 400, _error(*missing)
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None and failure.mode in MODES:
            if failure.created:
                self._create(form, None)
            return failure.mode, 200, failure.seconds
        if failure is not None and failure.http_status is not None:
            if failure.created:
                self._create(form, None)
            if failure.mode == "edge":
                return "edge", failure.http_status, EDGE_ERRORS[failure.http_status]
            return "json", failure.http_status, _error(
                failure.code, API_ERRORS[failure.code][1], failure.http_status)
        return "json", 201, self._create(form, failure)

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
            date_created=formatdate(usegmt=True))
        with self._lock:
            self.outbox.append(message)
        if self._on_message:
            self._on_message(message)
        if callback:
            final = "delivered" if failure is None else "undelivered"
            sender = message.from_ or message.messaging_service_sid or ""
            self._callbacks.put((callback, status_form(
                message.sid, final, sender, message.to, self.account_sid,
                str(failure.code) if failure else None)))
        return self._resource(message)

    def _resource(self, message: OutboxMessage) -> dict[str, Any]:
        return {**_public(message), "account_sid": self.account_sid, "date_sent": None,
                "api_version": "2010-04-01", "direction": "outbound-api",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{message.sid}.json"}

    def list_messages(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """One page (the only one) of the messages, newest first, filtered by To and From.
        DateSent filters are date-granular, as Twilio documents; unsent (queued) messages,
        with no date_sent, never match one."""
        with self._lock:
            found = [m for m in reversed(self.outbox)
                     if query.get("To", m.to) == m.to
                     and query.get("From", m.from_) == m.from_]
        if any(name.startswith("DateSent") for name in query):
            found = []  # the fake never marks a message sent: no date_sent to compare
        size = int(query.get("PageSize") or 50)
        return 200, {"messages": [self._resource(m) for m in found[:size]], "page": 0,
                     "page_size": size, "start": 0, "end": max(min(len(found), size) - 1, 0),
                     "uri": path, "first_page_uri": path, "next_page_uri": None,
                     "previous_page_uri": None}

    def authorized(self, header: str, account_sid: str) -> bool:
        if account_sid != self.account_sid or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == self.account_sid and password == self.auth_token

    def _post_callbacks(self) -> None:
        while (item := self._callbacks.get()) is not None:
            url, form = item
            try:
                post_form(url, form, self.auth_token)
            except (OSError, ValueError):  # Twilio gives up on an unreachable callback too
                continue


def _public(message: OutboxMessage) -> dict[str, Any]:
    data = asdict(message)
    data["from"] = data.pop("from_")
    return data


def _missing_field(form: dict[str, str]) -> tuple[int, str, int] | None:
    if not form.get("To"):
        return 21604, "A 'To' phone number is required.", 400
    if not form.get("Body"):
        return 21602, "Message body is required.", 400
    if not (form.get("From") or form.get("MessagingServiceSid")):
        return 21603, "A 'From' phone number is required.", 400
    return None


def _error(code: int, message: str, status: int) -> dict[str, Any]:
    return {"code": code, "message": message, "status": status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}"}


def _handler_for(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeTwilio/1.0"

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            match = NUMBERS_PATH.fullmatch(url.path)
            messages = MESSAGES_PATH.fullmatch(url.path)
            if messages is not None:
                if not self._refused(messages.group(1)):
                    self._json(*fake.list_messages(url.path, dict(parse_qsl(url.query))))
            elif url.path == "/_local/outbox":
                self._json(200, {"messages": fake.messages()})
            elif url.path == "/_local/failures":
                self._json(200, {"pending": fake.pending_failures()})
            elif url.path == "/_local/numbers":
                self._json(200, {"numbers": fake.numbers()})
            elif url.path == "/_local/triggers":
                self._json(200, {"usage_triggers": fake.triggers()})
            elif (trigger := TRIGGERS_PATH.fullmatch(url.path)) and not trigger.group(2):
                if not self._refused(trigger.group(1)):
                    self._json(*fake.list_triggers(url.path))
            elif match is None or match.group(2):  # fetching one number: not needed, not faked
                self._json(404, _error(20404, "The requested resource was not found", 404))
            elif not self._refused(match.group(1)):
                self._json(*fake.list_numbers(url.path, dict(parse_qsl(url.query))))

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._json(413, _error(20001, "Request too large", 413))
                return
            raw = self.rfile.read(length).decode("utf-8", "replace")
            if path == "/_local/failures":
                self._failures(raw)
                return
            form = dict(parse_qsl(raw, keep_blank_values=True))
            trigger = TRIGGERS_PATH.fullmatch(path)
            if trigger:
                if not self._refused(trigger.group(1)):
                    self._json(*(fake.update_trigger(trigger.group(2), form) if trigger.group(2)
                                 else fake.create_trigger(form)))
                return
            message, number = MESSAGES_PATH.fullmatch(path), NUMBERS_PATH.fullmatch(path)
            if number and not number.group(2):  # buying a number: not faked
                number = None
            route = message or number
            if route is None:
                self._json(404, _error(20404, "The requested resource was not found", 404))
            elif self._refused(route.group(1)):
                return
            elif message:
                self._answer_create(form)
            else:
                self._json(*fake.update_number(route.group(2), form))

        def do_DELETE(self) -> None:
            trigger = TRIGGERS_PATH.fullmatch(urlsplit(self.path).path)
            if trigger is None or not trigger.group(2):
                self._json(404, _error(20404, "The requested resource was not found", 404))
            elif not self._refused(trigger.group(1)):
                status, payload = fake.update_trigger(trigger.group(2), None)
                if status == 204:
                    self.send_response(204)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    self._json(status, payload)

        def _answer_create(self, form: dict[str, str]) -> None:
            mode, status, payload = fake.answer_create(form)
            if mode == "json":
                self._json(status, payload)
                return
            if mode in ("edge", "garbage"):
                body = (f"<html><body>{status} {payload}</body></html>" if mode == "edge"
                        else "<html>OK</html>").encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if mode == "timeout":
                time.sleep(payload)  # bounded by MAX_HOLD_SECONDS
            self.close_connection = True  # "reset" / "timeout": no answer at all
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)

        def _refused(self, account_sid: str) -> bool:
            """Twilio's Basic auth: answers 401 when the account or its token is wrong."""
            if fake.authorized(self.headers.get("Authorization", ""), account_sid):
                return False
            self._json(401, _error(20003, "Authenticate", 401))
            return True

        def _failures(self, raw: str) -> None:
            try:
                request = json.loads(raw or "{}")
                error = request["error"]
                pending = fake.fail_next(error if error in MODES else int(error),
                                         int(request.get("times", 1)),
                                         bool(request.get("created", False)),
                                         float(request.get("seconds", 0)))
            except (ValueError, KeyError, TypeError) as exc:
                self._json(400, {"message": f"expected {{'error': code, 'times': n}}: {exc}"})
                return
            self._json(200, {"pending": pending})

        def _json(self, status: int, payload: dict[str, Any]) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: the stack prints one readable line per message instead."""

    return Handler
