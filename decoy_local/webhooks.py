"""What Twilio sends: webhook forms, signed with the real algorithm, POSTed over HTTP.

The one set of webhook builders: the simulator, the fake Twilio's callbacks, load tests and
the pytest suite (tests/twilio_fakes.py binds the test account to these) all use them.
"""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

FORM_TYPE = "application/x-www-form-urlencoded"


DEFAULT_BODY = "salut, tu es libre ce soir ?"  # long enough for the log-privacy scan to spot


def new_sid(prefix: str = "SM") -> str:
    """A fresh Twilio-shaped SID: two letters and 32 lowercase hex digits."""
    return prefix + uuid.uuid4().hex


def sms_form(sender: str, to: str, body: str = DEFAULT_BODY, sid: str | None = None, *,
             account_sid: str, **extra: str) -> dict[str, str]:
    """The form of Twilio's 'A message comes in' webhook; `extra` adds or overrides fields
    (OptOutType, MessagingServiceSid...)."""
    sid = sid or new_sid("SM")
    return {"ToCountry": "", "SmsMessageSid": sid, "NumMedia": "0", "SmsSid": sid,
            "SmsStatus": "received", "Body": body, "To": to, "NumSegments": "1",
            "MessageSid": sid, "AccountSid": account_sid, "From": sender,
            "ApiVersion": "2010-04-01", **extra}


def call_form(caller: str, to: str, sid: str | None = None, *,
              account_sid: str) -> dict[str, str]:
    """The form of Twilio's 'A call comes in' webhook."""
    return {"CallSid": sid or new_sid("CA"), "AccountSid": account_sid, "From": caller,
            "Caller": caller, "To": to, "Called": to, "CallStatus": "ringing",
            "Direction": "inbound", "ApiVersion": "2010-04-01"}


def status_form(status: str, error_code: str | None = None, sid: str | None = None, *,
                sender: str, to: str, account_sid: str) -> dict[str, str]:
    """The form of a message status callback (delivered, undelivered, failed, ...), numbers
    included, as Twilio posts it."""
    sid = sid or new_sid("SM")
    form = {"MessageSid": sid, "SmsSid": sid, "AccountSid": account_sid, "From": sender,
            "To": to, "MessageStatus": status, "SmsStatus": status, "ApiVersion": "2010-04-01"}
    if error_code:
        form["ErrorCode"] = error_code
    return form


def usage_form(sid: str | None = None, category: str = "sms", trigger_by: str = "count",
               value: str = "1000", current: str = "1001", *, account_sid: str,
               recurring: str = "daily",
               date_fired: str = "Mon, 23 Nov 2026 09:00:00 +0000") -> dict[str, str]:
    """What Twilio POSTs to a Usage Trigger's callback when it fires."""
    return {"AccountSid": account_sid, "UsageTriggerSid": sid or new_sid("UT"),
            "UsageCategory": category, "TriggerBy": trigger_by, "TriggerValue": value,
            "CurrentValue": current, "Recurring": recurring, "DateFired": date_fired,
            "IdempotencyToken": new_sid("IT"),
            "UsageRecordUri": f"/2010-04-01/Accounts/{account_sid}/Usage/Records/Today.json"
                              f"?Category={category}"}


def sign(url: str, form: dict[str, str], token: str) -> str:
    """X-Twilio-Signature: Base64(HMAC-SHA1(token, exact URL + sorted key/values))."""
    return RequestValidator(token).compute_signature(url, form)


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: str


def post_form(url: str, form: dict[str, str], auth_token: str | None,
              timeout: float = 10.0) -> Answer:
    """POST `form` to `url` as Twilio does, signed with `auth_token` (None: unsigned)."""
    headers = {"Content-Type": FORM_TYPE, "User-Agent": "TwilioProxy/1.1",
               "I-Twilio-Idempotency-Token": str(uuid.uuid4())}
    if auth_token is not None:
        headers["X-Twilio-Signature"] = sign(url, form, auth_token)
    return loopback_request(url, urlencode(form).encode(), headers, timeout)


def loopback_request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None,
                     timeout: float = 10.0) -> Answer:
    """GET (or POST `data`) an http://127.0.0.1 URL; an HTTP error is an answer too."""
    if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise ValueError(f"local stack URLs only: {url}")
    request = urllib.request.Request(url, data=data, headers=headers or {},  # noqa: S310
                                     method="GET" if data is None else "POST")
    try:
        # The scheme and host are checked above: loopback http only.
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310
            return Answer(response.status, response.headers.get_content_type(),
                          response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.headers.get_content_type(),
                      error.read().decode("utf-8", "replace"))
