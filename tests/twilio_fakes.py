"""Test doubles at the boundaries only: signed API Gateway events and Twilio's HTTP API."""

from __future__ import annotations

import base64
import copy
import itertools
import json
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import responses
from log_privacy import remember
from twilio.request_validator import RequestValidator

EVENT_FILE = Path(__file__).with_name("events") / "http_api_v2_sms.json"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "0" * 32
HASH_KEY = "test-hash-key-for-hmac"
DEFAULT_BODY = "salut, tu es libre ce soir ?"  # long enough for the log-privacy scan to spot
_sids = itertools.count(1)


def new_sid(prefix: str = "SM") -> str:
    return f"{prefix}{next(_sids):032x}"


def sign(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """Twilio's real algorithm: Base64(HMAC-SHA1(token, url + sorted key/values))."""
    return RequestValidator(token).compute_signature(url, form)


def api_event(route: str = "/sms", form: dict[str, str] | None = None, *,
              token: str = AUTH_TOKEN, stage: str = "$default", query: str = "",
              base64_body: bool = True, signature: str | None = None,
              domain: str = "abc123.execute-api.eu-west-3.amazonaws.com",
              method: str = "POST") -> dict[str, Any]:
    """An HTTP API payload 2.0 event as API Gateway delivers it, signed as Twilio would."""
    remember(form or {})  # its number and body must never show up in any captured log
    event = copy.deepcopy(json.loads(EVENT_FILE.read_text()))
    raw_path = route if stage == "$default" else f"/{stage}{route}"
    body = urlencode(form or {})
    url = f"https://{domain}{raw_path}" + (f"?{query}" if query else "")
    event.update(rawPath=raw_path, rawQueryString=query, routeKey=f"{method} {route}",
                 isBase64Encoded=base64_body,
                 body=base64.b64encode(body.encode()).decode() if base64_body else body)
    event["headers"]["host"] = domain
    event["requestContext"].update(domainName=domain, stage=stage, routeKey=f"{method} {route}")
    event["requestContext"]["http"].update(method=method, path=raw_path)
    event["headers"]["x-twilio-signature"] = (
        sign(url, form or {}, token) if signature is None else signature)
    return event


def sms_form(sender: str, to: str, body: str = DEFAULT_BODY, sid: str | None = None,
             **extra: str) -> dict[str, str]:
    return {"MessageSid": sid or new_sid(), "SmsSid": "", "AccountSid": ACCOUNT_SID,
            "From": sender, "To": to, "Body": body, "NumMedia": "0", **extra}


def call_form(caller: str, to: str, sid: str | None = None) -> dict[str, str]:
    return {"CallSid": sid or new_sid("CA"), "AccountSid": ACCOUNT_SID, "From": caller,
            "To": to, "CallStatus": "ringing", "Direction": "inbound"}


def status_form(status: str, error_code: str = "", sid: str | None = None) -> dict[str, str]:
    """A message status callback as Twilio posts it (numbers included, as Twilio does)."""
    form = {"MessageSid": sid or new_sid(), "SmsSid": "", "AccountSid": ACCOUNT_SID,
            "MessageStatus": status, "SmsStatus": status, "From": "+33939000001",
            "To": "+33612345678", "ApiVersion": "2010-04-01"}
    if error_code:
        form["ErrorCode"] = error_code
    return form


def parse_twiml(body: str) -> ET.Element:
    """Read a TwiML answer as Twilio would: it must be well-formed XML under <Response>."""
    root = ET.fromstring(body)  # noqa: S314 - our own answer, not untrusted input
    if root.tag != "Response":
        raise ValueError(f"TwiML root is <{root.tag}>, not <Response>")
    return root


class FakeTwilioApi:
    """Intercepts the real twilio client's HTTP calls to the Messages endpoint.

    POST creates a message (or fails as planned: before creating it, or after, with a 5xx,
    a garbled 2xx, a timeout, a reset); GET lists them as Twilio does, filtered by To, From
    and DateSent, newest first (its own failures planned with fail_list_next).
    """

    URL = re.compile(r"https://api\.twilio\.com/2010-04-01/Accounts/(AC\w+)/Messages\.json")

    def __init__(self, mock: responses.RequestsMock,
                 now: Callable[[], float] = time.time):
        self.sent: list[dict[str, str]] = []  # the forms of the messages created
        self.messages: list[dict[str, Any]] = []  # the resources, as listed
        self.attempts = 0
        self.lists = 0
        self.failures: list[Callable[[Any], tuple[int, dict[str, str], str]]] = []
        self.list_failures: list[Callable[[Any], tuple[int, dict[str, str], str]] | None] = []
        self.now = now
        mock.add_callback(responses.POST, self.URL, callback=self._create)
        mock.add_callback(responses.GET, self.URL, callback=self._list)

    def fail_next(self, status: int, code: int | None = None, times: int = 1, *,
                  created: bool = False) -> None:
        """Answer an error; created=True: Twilio created the message, then the edge said so."""
        body = json.dumps({"status": status, "code": code, "message": f"simulated {code or status}",
                           "more_info": ""})

        def fail(request: Any) -> tuple[int, dict[str, str], str]:
            if created:
                self._accept(request)
            return status, {"Content-Type": "application/json"}, body

        self.failures.extend([fail] * times)

    def garble_next(self, body: str = "<html>502 Bad Gateway</html>", status: int = 200,
                    times: int = 1, *, created: bool = True) -> None:
        """A 2xx whose body is not a message (HTML, cut JSON, empty), after creating it."""

        def garble(request: Any) -> tuple[int, dict[str, str], str]:
            if created:
                self._accept(request)
            return status, {"Content-Type": "text/html"}, body

        self.failures.extend([garble] * times)

    def drop_next(self, exc: Exception, *, accepted: bool = False, times: int = 1) -> None:
        """The connection fails with `exc`: before Twilio saw the request, or after it accepted."""

        def drop(request: Any) -> tuple[int, dict[str, str], str]:
            if accepted:
                self._accept(request)
            raise exc

        self.failures.extend([drop] * times)

    def succeed_next(self, times: int = 1) -> None:
        """The next sends are created and answered normally (a step in a planned sequence)."""
        self.failures.extend([self._accept] * times)

    def fail_list_next(self, failure: int | Exception | None, times: int = 1) -> None:
        """The Messages list answers `failure` (an HTTP status), raises it (a dropped call),
        or (None) answers normally: a step in a planned sequence."""

        def fail(_request: Any) -> tuple[int, dict[str, str], str]:
            if isinstance(failure, Exception):
                raise failure
            return failure, {"Content-Type": "application/json"}, json.dumps(
                {"status": failure, "code": 20500, "message": "simulated", "more_info": ""})

        self.list_failures.extend([None if failure is None else fail] * times)

    def during_next_send(self, action: Callable[[], Any]) -> None:
        """Run `action` while the next request is in flight (a concurrent invocation)."""

        def run(request: Any) -> tuple[int, dict[str, str], str]:
            action()
            return self._accept(request)

        self.failures.append(run)

    def _create(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.attempts += 1
        if self.failures:
            return self.failures.pop(0)(request)
        return self._accept(request)

    def _accept(self, request: Any) -> tuple[int, dict[str, str], str]:
        from email.utils import formatdate

        form = dict(parse_qsl(request.body))
        self.sent.append(form)
        sid = f"SM{len(self.sent):032x}"
        message = {"sid": sid, "status": "queued", "to": form.get("To"),
                   "from": form.get("From"), "body": form.get("Body"),
                   "messaging_service_sid": form.get("MessagingServiceSid"),
                   "account_sid": ACCOUNT_SID, "num_segments": "2",
                   "date_created": formatdate(self.now(), usegmt=True), "date_sent": None}
        self.messages.append(message)
        return 201, {"Content-Type": "application/json"}, json.dumps(message)

    def _list(self, request: Any) -> tuple[int, dict[str, str], str]:
        from email.utils import parsedate_to_datetime

        self.lists += 1
        planned = self.list_failures.pop(0) if self.list_failures else None
        if planned is not None:
            return planned(request)
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        found = [m for m in reversed(self.messages)
                 if query.get("To", m["to"]) == m["to"]
                 and query.get("From", m["from"]) == m["from"]]
        for name, keep in (("DateSent>", lambda d, day: d >= day),
                           ("DateSent<", lambda d, day: d <= day),
                           ("DateSent", lambda d, day: d == day)):
            if name in query:  # date-granular, as Twilio documents; unsent messages drop out
                day = query[name][:10]
                found = [m for m in found if m["date_sent"] and keep(
                    parsedate_to_datetime(m["date_sent"]).strftime("%Y-%m-%d"), day)]
        size = int(query.get("PageSize", 50))
        path = urlsplit(request.url).path
        page = {"messages": found[:size], "page": 0, "page_size": size, "start": 0,
                "end": min(len(found), size), "uri": path, "first_page_uri": path,
                "next_page_uri": None, "previous_page_uri": None}
        return 200, {"Content-Type": "application/json"}, json.dumps(page)


class FakeTwilioNumbers:
    """Twilio's IncomingPhoneNumbers API as the ops command uses it: list by number, update."""

    DEMO_SMS_URL = "https://demo.twilio.com/welcome/sms/reply"
    DEMO_VOICE_URL = "https://demo.twilio.com/welcome/voice/"

    def __init__(self, mock: responses.RequestsMock, numbers: list[str],
                 base_url: str = "https://api.twilio.com"):
        self.updates: list[dict[str, str]] = []
        self.numbers = {number: {
            "sid": f"PN{i:032x}", "account_sid": ACCOUNT_SID, "phone_number": number,
            "friendly_name": number, "sms_url": self.DEMO_SMS_URL, "sms_method": "POST",
            "voice_url": self.DEMO_VOICE_URL, "voice_method": "POST",
            "sms_application_sid": "", "voice_application_sid": ""}
            for i, number in enumerate(numbers, start=1)}
        root = re.escape(base_url.rstrip("/")) + r"/2010-04-01/Accounts/AC\w+/IncomingPhoneNumbers"
        mock.add_callback(responses.GET, re.compile(root + r"\.json"), callback=self._list)
        mock.add_callback(responses.POST, re.compile(root + r"/(PN\w+)\.json"),
                          callback=self._update)

    def _list(self, request: Any) -> tuple[int, dict[str, str], str]:
        wanted = parse_qs(urlsplit(request.url).query).get("PhoneNumber", [""])[0]
        found = [n for number, n in self.numbers.items() if wanted in number]
        page = {"incoming_phone_numbers": found, "page": 0, "page_size": 50, "start": 0,
                "end": len(found), "uri": urlsplit(request.url).path,
                "first_page_uri": urlsplit(request.url).path, "next_page_uri": None,
                "previous_page_uri": None}
        return 200, {"Content-Type": "application/json"}, json.dumps(page)

    def _update(self, request: Any) -> tuple[int, dict[str, str], str]:
        sid = request.url.rsplit("/", 1)[1].removesuffix(".json")
        (number,) = [n for n in self.numbers.values() if n["sid"] == sid]
        form = dict(parse_qsl(request.body, keep_blank_values=True))
        self.updates.append(form)
        for key, value in form.items():  # SmsUrl -> sms_url
            number[re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()] = value
        return 200, {"Content-Type": "application/json"}, json.dumps(number)


def usage_form(sid: str | None = None, category: str = "sms", trigger_by: str = "count",
               value: str = "1000", current: str = "1001") -> dict[str, str]:
    """What Twilio POSTs to a Usage Trigger's callback when it fires."""
    return {"AccountSid": ACCOUNT_SID, "UsageTriggerSid": sid or new_sid("UT"),
            "UsageCategory": category, "TriggerBy": trigger_by, "TriggerValue": value,
            "CurrentValue": current, "Recurring": "daily",
            "DateFired": "Mon, 23 Nov 2026 09:00:00 +0000", "IdempotencyToken": new_sid("IT"),
            "UsageRecordUri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Usage/Records/Today.json"
                              f"?Category={category}"}


class FakeTwilioUsageTriggers:
    """Twilio's Usage Triggers API (list, create, update, delete) as `decoy_ops connect` uses it."""

    def __init__(self, mock: responses.RequestsMock, base_url: str = "https://api.twilio.com"):
        self.triggers: dict[str, dict[str, str]] = {}
        self.calls: list[tuple[str, str]] = []  # (method, sid or '')
        root = re.escape(base_url.rstrip("/")) + r"/2010-04-01/Accounts/AC\w+/Usage/Triggers"
        mock.add_callback(responses.GET, re.compile(root + r"\.json.*"), callback=self._list)
        mock.add_callback(responses.POST, re.compile(root + r"\.json"), callback=self._create)
        mock.add_callback(responses.POST, re.compile(root + r"/(UT\w+)\.json"),
                          callback=self._update)
        mock.add_callback(responses.DELETE, re.compile(root + r"/(UT\w+)\.json"),
                          callback=self._delete)

    def add(self, **fields: str) -> str:
        sid = new_sid("UT")
        self.triggers[sid] = {"sid": sid, "account_sid": ACCOUNT_SID, "callback_method": "POST",
                              "recurring": "daily", "current_value": "0", **fields}
        return sid

    def _list(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls.append(("GET", ""))
        found = list(self.triggers.values())
        page = {"usage_triggers": found, "page": 0, "page_size": 50, "start": 0,
                "end": len(found), "uri": urlsplit(request.url).path,
                "first_page_uri": urlsplit(request.url).path, "next_page_uri": None,
                "previous_page_uri": None}
        return 200, {"Content-Type": "application/json"}, json.dumps(page)

    def _create(self, request: Any) -> tuple[int, dict[str, str], str]:
        form = dict(parse_qsl(request.body))
        self.calls.append(("POST", ""))
        sid = self.add(callback_url=form["CallbackUrl"], trigger_value=form["TriggerValue"],
                       usage_category=form["UsageCategory"],
                       friendly_name=form.get("FriendlyName", ""),
                       recurring=form.get("Recurring", ""),
                       trigger_by=form.get("TriggerBy", "usage"),
                       callback_method=form.get("CallbackMethod", "POST"))
        return 201, {"Content-Type": "application/json"}, json.dumps(self.triggers[sid])

    def _update(self, request: Any) -> tuple[int, dict[str, str], str]:
        sid = request.url.rsplit("/", 1)[1].removesuffix(".json")
        self.calls.append(("POST", sid))
        form = dict(parse_qsl(request.body))
        for key in ("CallbackUrl", "CallbackMethod", "FriendlyName"):  # all update() may set
            if key in form:
                self.triggers[sid][re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()] = form[key]
        return 200, {"Content-Type": "application/json"}, json.dumps(self.triggers[sid])

    def _delete(self, request: Any) -> tuple[int, dict[str, str], str]:
        sid = request.url.rsplit("/", 1)[1].removesuffix(".json")
        self.calls.append(("DELETE", sid))
        del self.triggers[sid]
        return 204, {}, ""
