"""Test doubles at the boundaries only: signed API Gateway events and Twilio's HTTP API."""

from __future__ import annotations

import base64
import copy
import itertools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import responses
from twilio.request_validator import RequestValidator

EVENT_FILE = Path(__file__).with_name("events") / "http_api_v2_sms.json"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "0" * 32
HASH_KEY = "test-hash-key-for-hmac"
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


def sms_form(sender: str, to: str, body: str = "salut", sid: str | None = None,
             **extra: str) -> dict[str, str]:
    return {"MessageSid": sid or new_sid(), "SmsSid": "", "AccountSid": ACCOUNT_SID,
            "From": sender, "To": to, "Body": body, "NumMedia": "0", **extra}


def call_form(caller: str, to: str, sid: str | None = None) -> dict[str, str]:
    return {"CallSid": sid or new_sid("CA"), "AccountSid": ACCOUNT_SID, "From": caller,
            "To": to, "CallStatus": "ringing", "Direction": "inbound"}


class FakeTwilioApi:
    """Intercepts the real twilio client's HTTP calls to the Messages endpoint."""

    URL = re.compile(r"https://api\.twilio\.com/2010-04-01/Accounts/(AC\w+)/Messages\.json")

    def __init__(self, mock: responses.RequestsMock):
        self.sent: list[dict[str, str]] = []
        self.attempts = 0
        self.failures: list[Callable[[Any], tuple[int, dict[str, str], str]]] = []
        mock.add_callback(responses.POST, self.URL, callback=self._create)

    def fail_next(self, status: int, code: int | None = None, times: int = 1) -> None:
        body = json.dumps({"status": status, "code": code, "message": f"simulated {code or status}",
                           "more_info": ""})
        self.failures.extend(
            [lambda _request: (status, {"Content-Type": "application/json"}, body)] * times)

    def drop_next(self, exc: Exception, *, accepted: bool = False, times: int = 1) -> None:
        """The connection fails with `exc`: before Twilio saw the request, or after it accepted."""

        def drop(request: Any) -> tuple[int, dict[str, str], str]:
            if accepted:
                self._accept(request)
            raise exc

        self.failures.extend([drop] * times)

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
        form = dict(parse_qsl(request.body))
        self.sent.append(form)
        sid = f"SM{len(self.sent):032x}"
        message = {"sid": sid, "status": "queued", "to": form.get("To"),
                   "from": form.get("From"), "body": form.get("Body"),
                   "messaging_service_sid": form.get("MessagingServiceSid"),
                   "account_sid": ACCOUNT_SID, "num_segments": "2"}
        return 201, {"Content-Type": "application/json"}, json.dumps(message)
