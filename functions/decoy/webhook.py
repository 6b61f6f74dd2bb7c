"""The HTTP boundary: API Gateway HTTP API v2 events in, TwiML or a one-line 4xx out."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, quote, urlsplit

from twilio.request_validator import RequestValidator, get_signature_algorithm

from decoy.twiml import EMPTY

MAX_BODY_BYTES = 16 * 1024
MAX_REASON_CHARS = 160
ROUTES = ("/sms", "/voice", "/status", "/usage")
FORM_TYPE = "application/x-www-form-urlencoded"


class Rejected(Exception):
    """A request we refuse, with the HTTP status and a one-line reason."""

    def __init__(self, status: int, reason: str):
        # Reasons may quote the request: keep them one printable line, and short.
        reason = "".join(c if c.isprintable() else "?" for c in reason)[:MAX_REASON_CHARS]
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Webhook(NamedTuple):
    """A parsed Twilio webhook: route, form fields, signature and the URL Twilio called."""

    route: str
    form: dict[str, str]
    query: dict[str, str]
    signature: str
    url: str  # never holds credentials: safe to log
    # X-Twilio-Webhooks-Signature-Settings ("key=...,algorithm=HMAC_SHA256"): a SharedKey
    # signature. Twilio docs "Sign webhooks with shared keys" (Public Beta, 2026-09-07).
    signature_settings: str = ""
    # user:pass of a webhook URL with HTTP Basic credentials: a secret, kept out of repr/logs.
    credentials: str = ""

    def __repr__(self) -> str:  # the credentials stay out of repr, hence out of logs
        return (f"Webhook(route={self.route!r}, form={self.form!r}, query={self.query!r}, "
                f"signature={self.signature!r}, url={self.url!r}, "
                f"signature_settings={self.signature_settings!r})")

    def field(self, name: str) -> str:
        value = self.form.get(name, "")
        if not value:
            raise Rejected(400, f"missing form field {name}")
        return value


# A DNS name or a bracketed IPv6 literal: anything else cannot be the host Twilio called.
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])\Z")
_PORT = re.compile(r"[0-9]{1,5}\Z")
DEFAULT_PORTS = {"https": "443", "http": "80"}


def public_url(event: dict[str, Any], base_url: str | None = None) -> str:
    """The exact URL Twilio requested: scheme, host, stage path and query string.

    With `base_url` (the deployer's PublicWebhookBaseUrl) it is base + route + query:
    behind a custom domain's API mapping key, AWS documents that rawPath lacks the mapping
    ("rawPath won't provide the API mapping value", API Gateway Developer Guide, "Create
    AWS Lambda proxy integrations for HTTP APIs"; community reports disagree), so the event
    cannot tell it for sure. Raises Rejected(400) when the headers or context cannot form a
    URL (a bad port, host, scheme, or text that is not UTF-8): Twilio signed no such URL.
    """
    headers = event.get("headers") or {}
    context = event.get("requestContext") or {}
    if base_url:
        query = event.get("rawQueryString") or ""
        return _checked(base_url + _route(event) + (f"?{query}" if query else ""))
    scheme = headers.get("x-forwarded-proto", "https")
    if scheme not in DEFAULT_PORTS:
        raise Rejected(400, "x-forwarded-proto is not http or https")
    host = context.get("domainName") or headers.get("host", "")
    if host.startswith("["):  # [v6]:port
        name, sep, host_port = host.partition("]:")
        host = name + "]" if sep else host
    else:
        host, _, host_port = host.partition(":")
    if not _HOST.fullmatch(host):
        raise Rejected(400, "the request's host is not a host name")
    port = headers.get("x-forwarded-port") or host_port
    if port and not (_PORT.fullmatch(port) and 0 < int(port) <= 65535):
        raise Rejected(400, "x-forwarded-port is not a port number")
    if port and port != DEFAULT_PORTS[scheme]:
        host = f"{host}:{int(port)}"
    url = f"{scheme}://{host}{event.get('rawPath', '')}"
    query = event.get("rawQueryString") or ""
    return _checked(f"{url}?{query}" if query else url)


def _checked(url: str) -> str:
    try:  # what the signature check will do with it: encode it, parse its port
        url.encode("utf-8")
        urlsplit(url).port  # noqa: B018 - raises ValueError on what it cannot parse
    except (UnicodeError, ValueError):
        raise Rejected(400, "the request's path or query cannot form a URL") from None
    return url


def _credentials(headers: dict[str, str]) -> str:
    """user:pass from `Authorization: Basic ...`, '' without it: Twilio signs a webhook URL
    carrying HTTP Basic credentials *with* them (twilio-node/-ruby/-php published vector:
    https://user:pass@mycompany.com/myapp.php?foo=1&bar=2 -> CukzLTc1tT5dXEDIHm/tKBanW10=)."""
    scheme, _, token = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        credentials = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise Rejected(400, "Authorization header is not valid Basic credentials") from None
    if ":" not in credentials or not credentials.isprintable():
        raise Rejected(400, "Authorization header is not valid Basic credentials")
    return credentials


def _signed_urls(webhook: Webhook) -> list[str]:
    """The URL(s) Twilio may have signed: with the Basic credentials as written in the URL
    given to Twilio (as sent, or percent-encoded; a user without a password has no colon)."""
    if not webhook.credentials:
        return [webhook.url]
    user, _, password = webhook.credentials.partition(":")
    scheme, sep, rest = webhook.url.partition("://")
    forms = []
    for u, p in ((user, password), (quote(user, safe=""), quote(password, safe=""))):
        userinfo = f"{u}:{p}" if p else u
        forms.append(f"{scheme}{sep}{userinfo}@{rest}")
    return list(dict.fromkeys(forms))


def _route(event: dict[str, Any]) -> str:
    # The route API Gateway matched ("POST /sms"): rawPath may keep a custom domain's API
    # mapping key (/decoy/sms), routeKey does not. rawPath only for $default or no routeKey.
    route_key = event.get("routeKey")
    if isinstance(route_key, str) and " /" in route_key:
        return route_key.split(" ", 1)[1].rstrip("/") or "/"
    context = event.get("requestContext") or {}
    path = event.get("rawPath") or (context.get("http") or {}).get("path") or ""
    stage = context.get("stage") or "$default"
    if stage != "$default" and path.startswith(f"/{stage}/"):
        path = path[len(stage) + 1:]
    return path.rstrip("/") or "/"


def _body(event: dict[str, Any]) -> str:
    raw = event.get("body") or ""
    if not isinstance(raw, str):
        raise Rejected(400, "body is not a string")
    if event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise Rejected(400, "body is not valid base64") from None
    else:
        data = raw.encode("utf-8", "surrogatepass")
    if len(data) > MAX_BODY_BYTES:
        raise Rejected(413, f"body over {MAX_BODY_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "body is not valid UTF-8") from None


def _form(body: str) -> dict[str, str]:
    try:
        pairs = parse_qsl(body, keep_blank_values=True, strict_parsing=bool(body),
                          errors="strict", max_num_fields=100)
    except (ValueError, UnicodeDecodeError):
        raise Rejected(400, "body is not a valid form") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise Rejected(400, f"form field {key} repeated")
        form[key] = value
    return form


def _as_map(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def parse(event: dict[str, Any], public_base_url: str | None = None) -> Webhook:
    """Check method, route, content type and size; decode the form. Raises Rejected.

    `public_base_url`: the deployer's PublicWebhookBaseUrl (see public_url), None = the event's.
    """
    if not isinstance(event, dict):
        raise Rejected(400, "not an API Gateway event")
    headers = event.get("headers") or {}
    if not isinstance(headers, dict):
        raise Rejected(400, "headers are not a map")
    headers = {str(k).lower(): str(v) for k, v in headers.items()}
    # Fields of an unexpected type read as absent: refused below with a 4xx, never a crash.
    context = _as_map(event.get("requestContext"))
    event = {**event, "headers": headers, "rawPath": _as_str(event.get("rawPath")),
             "rawQueryString": _as_str(event.get("rawQueryString")),
             "requestContext": {"domainName": _as_str(context.get("domainName")),
                                "stage": _as_str(context.get("stage")),
                                "http": {k: _as_str(v) for k, v in
                                         _as_map(context.get("http")).items()}}}
    method = ((event.get("requestContext") or {}).get("http") or {}).get("method", "")
    route = _route(event)
    if route not in ROUTES:
        raise Rejected(404, f"no route {route}")
    if method != "POST":
        raise Rejected(405, f"method {method or '?'} not allowed, use POST")
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM_TYPE:
        raise Rejected(415, f"content type must be {FORM_TYPE}")
    form = _form(_body(event))
    query = dict(parse_qsl(str(event.get("rawQueryString") or ""), keep_blank_values=True))
    return Webhook(route=route, form=form, query=query,
                   signature=headers.get("x-twilio-signature", ""),
                   url=public_url(event, public_base_url),
                   signature_settings=headers.get("x-twilio-webhooks-signature-settings", ""),
                   credentials=_credentials(headers))


def verify_signature(webhook: Webhook, auth_token: str, shared_key: str | None = None) -> None:
    """Raise Rejected(403) unless X-Twilio-Signature matches the URL and form.

    A request carrying X-Twilio-Webhooks-Signature-Settings was signed by a Webhook Rule
    with a SharedKey and the algorithm it names (HMAC_SHA256 today): it is checked with
    `shared_key` (SSM TwilioSharedKeyParameter), never with the auth token; others with the
    auth token and HMAC-SHA1, as twilio-python 9.13 (`get_signature_algorithm`) and
    twilio-node's `webhook()` do (Twilio docs "Sign webhooks with shared keys", Public Beta).
    """
    if not webhook.signature:
        raise Rejected(403, "missing X-Twilio-Signature")
    secret, algorithm = auth_token, None
    if webhook.signature_settings:
        if not shared_key:
            raise Rejected(403, "SharedKey signature, but no shared key is configured")
        secret, algorithm = shared_key, get_signature_algorithm(webhook.signature_settings)
    validator = RequestValidator(secret)
    if not any(_valid(validator, url, webhook, algorithm) for url in _signed_urls(webhook)):
        raise Rejected(403, "invalid X-Twilio-Signature")


def _valid(validator: RequestValidator, url: str, webhook: Webhook, algorithm: str | None
           ) -> bool:
    try:
        return validator.validate(url, webhook.form, webhook.signature, algorithm)
    except (UnicodeError, ValueError):  # a URL it cannot parse (credentials as sent): no match
        return False


def twiml_response(twiml: str = EMPTY) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"Content-Type": "text/xml"}, "body": twiml}


def rejection_response(rejected: Rejected) -> dict[str, Any]:
    return {"statusCode": rejected.status, "headers": {"Content-Type": "text/plain"},
            "body": rejected.reason}
