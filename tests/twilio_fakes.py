"""Test doubles at the boundaries only: signed API Gateway events and Twilio's HTTP API.

Twilio's side is decoy_local's, the same code `make run` uses: the webhook builders of
decoy_local/webhooks.py (bound here to the test account) and the one fake Twilio of
decoy_local/fake_twilio.py, reached through `responses` (FakeTwilioApi).
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from log_privacy import remember

from decoy_local import webhooks
from decoy_local.fake_twilio import TwilioCore, attach_responses
from decoy_local.webhooks import DEFAULT_BODY, new_sid

EVENT_FILE = Path(__file__).with_name("events") / "http_api_v2_sms.json"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
ACCOUNT_SID = "AC" + "0" * 32
HASH_KEY = "test-hash-key-for-hmac"
API_BASE_URL = "https://api.twilio.com"
__all__ = ["ACCOUNT_SID", "AUTH_TOKEN", "DEFAULT_BODY", "HASH_KEY", "FakeTwilioApi",
           "api_event", "call_form", "new_sid", "parse_twiml", "sign", "sms_form",
           "status_form", "usage_form"]

# decoy_local/webhooks.py's builders, for the test account (the same names and arguments).
sms_form = functools.partial(webhooks.sms_form, account_sid=ACCOUNT_SID)
call_form = functools.partial(webhooks.call_form, account_sid=ACCOUNT_SID)
usage_form = functools.partial(webhooks.usage_form, account_sid=ACCOUNT_SID)
# A status callback for the fr campaign's number, numbers included, as Twilio posts it.
status_form = functools.partial(webhooks.status_form, sender="+33939000001",
                                to="+33612345678", account_sid=ACCOUNT_SID)


def sign(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """Twilio's real algorithm: Base64(HMAC-SHA1(token, url + sorted key/values))."""
    return webhooks.sign(url, form, token)


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


def parse_twiml(body: str) -> ET.Element:
    """Read a TwiML answer as Twilio would: it must be well-formed XML under <Response>."""
    root = ET.fromstring(body)  # noqa: S314 - our own answer, not untrusted input
    if root.tag != "Response":
        raise ValueError(f"TwiML root is <{root.tag}>, not <Response>")
    return root


class FakeTwilioApi(TwilioCore):
    """The one fake Twilio (decoy_local/fake_twilio.py) for the test account, answering the
    real twilio client's requests that `mock` (a responses.RequestsMock) intercepts under
    `base_url`: messages (`sent`, `fail_next`, `garble_next`, `drop_next`, ...), the
    account's `numbers` (owned with their demo webhooks) and its Usage Triggers."""

    def __init__(self, mock: Any, now: Callable[[], float] = time.time, *,
                 numbers: list[str] | tuple[str, ...] = (), base_url: str = API_BASE_URL):
        super().__init__(ACCOUNT_SID, AUTH_TOKEN, now=now)
        self.own(list(numbers))
        attach_responses(self, mock, base_url)
