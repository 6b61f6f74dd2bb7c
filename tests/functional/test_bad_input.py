"""Hostile input, generated: the receiver answers 2xx/4xx with one line, the sender never
raises on an order it can never send (only transient failures raise, to be retried)."""

from __future__ import annotations

import base64
import json
import os
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio_fakes import ACCOUNT_SID, api_event, call_form, new_sid, sign, sms_form

from decoy.outbound import TransientSendError
from decoy.webhook import Rejected, public_url
from receiver.app import lambda_handler as receive
from sender.app import lambda_handler as send

DECOY = "+33939000001"
# moto state carries over between examples on purpose: more senders, more counters.
# CI replays one fixed set of examples (a red CI must be reproducible); locally they vary.
FUZZ = settings(max_examples=80, deadline=None, database=None,
                derandomize=bool(os.environ.get("CI")),
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

text = st.text(max_size=40)
junk = st.one_of(st.none(), st.integers(), st.booleans(), text, st.lists(text, max_size=2),
                 st.dictionaries(text, text, max_size=2))
paths = st.one_of(st.sampled_from(["/sms", "/voice", "/status", "/", "", "/sms/", "/prod/sms",
                                   "/SMS", "/sms/../voice", "//sms"]), text)
methods = st.one_of(st.sampled_from(["POST", "GET", "PUT", "DELETE", "OPTIONS", "post", ""]),
                    text)
content_types = st.one_of(st.sampled_from([
    "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8",
    "application/json", "text/plain", "multipart/form-data; boundary=x", ""]), text)
form_fields = st.dictionaries(
    st.sampled_from(["From", "To", "Body", "MessageSid", "CallSid", "AccountSid",
                     "MessageStatus", "ErrorCode", "OptOutType"]) | text,
    st.one_of(text, st.sampled_from(["+33612345678", "+33939000001", "+14155550100",
                                     "STOP", "delivered", "30007", new_sid(), new_sid("CA")])),
    max_size=8)
bodies = st.one_of(
    form_fields.map(urlencode), text, st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    st.just("a=1&" * 200), st.just("x" * 17_000), st.just("%ff%fe=1"), st.just("a=1&a=2"))


@st.composite
def raw_events(draw) -> dict:
    """API Gateway-shaped events with every field possibly wrong, missing or of a wrong type."""
    body = draw(bodies)
    encoded = draw(st.booleans())
    if encoded and draw(st.booleans()):
        body = base64.b64encode(body.encode("utf-8", "surrogatepass")).decode()
    headers = draw(st.dictionaries(text, text, max_size=4))
    headers.update(draw(st.fixed_dictionaries({}, optional={
        "content-type": content_types, "x-twilio-signature": text,
        "x-forwarded-proto": st.sampled_from(["http", "https", "ftp", ""]),
        "x-forwarded-port": st.sampled_from(["443", "80", "8443", "x"])})))
    event = {"version": "2.0", "rawPath": draw(paths), "rawQueryString": draw(text),
             "headers": headers, "body": body, "isBase64Encoded": encoded,
             "requestContext": {"domainName": draw(text), "stage": draw(
                 st.sampled_from(["$default", "prod", ""])),
                 "http": {"method": draw(methods)}}}
    for key in draw(st.lists(st.sampled_from(sorted(event)), max_size=2)):
        event[key] = draw(junk)  # a field of the wrong type, or None
    return event


@st.composite
def signed_events(draw) -> dict:
    """Correctly signed webhooks whose form is anything: past the signature, into decisions."""
    route = draw(st.sampled_from(["/sms", "/voice", "/status"]))
    query = draw(st.sampled_from(["", "campaign=fr", "campaign=zz", "campaign="]))
    sender = draw(st.sampled_from(["+33612345678", "+33700000001", "+32470000000", "+1415555",
                                   "ALPHA", "36123", ""]))
    form = {**(call_form(sender, DECOY) if route == "/voice" else sms_form(sender, DECOY)),
            **draw(form_fields)}
    for key in draw(st.lists(st.sampled_from(sorted(form)), max_size=2)):
        form.pop(key, None)
    return api_event(route, form, query=query, base64_body=draw(st.booleans()))


def assert_answered(response: dict) -> None:
    assert 200 <= response["statusCode"] < 500, response
    body = response["body"]
    assert isinstance(body, str) and "\n" not in body and "Traceback" not in body
    if response["statusCode"] >= 400:
        assert response["headers"]["Content-Type"] == "text/plain"
        assert 0 < len(body) <= 200


@FUZZ
@given(event=raw_events())
def test_any_request_gets_a_one_line_2xx_or_4xx(event, aws, lambda_context):
    assert_answered(receive(event, lambda_context))


@FUZZ
@given(event=signed_events())
def test_any_signed_form_gets_a_one_line_2xx_or_4xx(event, aws, lambda_context):
    assert_answered(receive(event, lambda_context))


def test_a_signed_request_for_an_unknown_number_names_the_problem(aws, lambda_context):
    form = {"MessageSid": new_sid(), "AccountSid": ACCOUNT_SID, "From": "+33612345678",
            "To": "+33100000000", "Body": "x"}
    response = receive(api_event("/sms", form), lambda_context)
    assert response["statusCode"] == 404
    assert response["body"] == ("no campaign for To=+33100000000: a Twilio number points here "
                                "but campaigns.json does not list it")


def test_a_signed_body_over_16_kib_is_refused_before_parsing(aws, lambda_context):
    event = api_event("/sms", {"Body": "x" * 17_000})
    event["headers"]["x-twilio-signature"] = sign("https://x/sms", {})
    assert receive(event, lambda_context)["statusCode"] == 413


orders = st.one_of(
    junk,
    st.dictionaries(text, junk, max_size=5),
    st.fixed_dictionaries({
        "v": st.sampled_from([1, 1, 2, "1", None]),
        "campaign": st.one_of(st.sampled_from(["fr", "nl-be", "en", "zz"]), junk),
        "to": st.one_of(st.sampled_from(["+33612345678", "+32470000000"]), junk),
        "sender_key": st.one_of(st.just("k" * 64), junk),
        "sid": st.one_of(st.builds(new_sid), st.sampled_from(["SM", "", "CA" + "0" * 32]),
                         junk),
    }),
)


@settings(FUZZ, max_examples=40)
@given(event=orders)
def test_any_order_is_sent_or_dropped_and_only_transient_failures_raise(
        event, aws, twilio_api, lambda_context):
    try:
        result = send(event, lambda_context)
    except TransientSendError:
        return  # retried by Lambda, then dead-lettered: never dropped silently
    assert isinstance(result, dict) and isinstance(result.get("outcome"), str)
    json.dumps(result)  # the invocation's result is serialisable


# --- the URL Twilio called, rebuilt from hostile headers and context (issue 16) -------------

def _valid_sms() -> dict:
    return api_event("/sms", sms_form("+33612345678", DECOY))


def _with(event: dict, headers: dict | None = None, context: dict | None = None,
          **fields: object) -> dict:
    event["headers"].update(headers or {})
    event["requestContext"].update(context or {})
    event.update(fields)
    return event


URL_REPROS = {
    "port abc": lambda e: _with(e, {"x-forwarded-port": "abc"}),
    "port 99999": lambda e: _with(e, {"x-forwarded-port": "99999"}),
    "port 443,443": lambda e: _with(e, {"x-forwarded-port": "443,443"}),
    "port -1": lambda e: _with(e, {"x-forwarded-port": "-1"}),
    "port 0": lambda e: _with(e, {"x-forwarded-port": "0", "x-forwarded-proto": "http"}),
    "[ in the host, no domainName": lambda e: _with(e, {"host": "[abc"}, {"domainName": ""}),
    "] in the domainName": lambda e: _with(e, context={"domainName": "a]b"}),
    "a lone surrogate in rawQueryString": lambda e: _with(e, rawQueryString="a=\ud800"),
    "a lone surrogate in rawPath": lambda e: _with(e, rawPath="/sms\udfff"),
    "a space in the host": lambda e: _with(e, context={"domainName": "a b"}),
    "proto ftp": lambda e: _with(e, {"x-forwarded-proto": "ftp"}),
}


@pytest.mark.parametrize("repro", URL_REPROS.values(), ids=URL_REPROS.keys())
def test_a_hostile_url_part_gets_a_4xx_counted_never_a_500(repro, aws, telemetry,
                                                           lambda_context):
    response = receive(repro(_valid_sms()), lambda_context)

    assert_answered(response)
    assert response["statusCode"] in (400, 403, 404), response
    metrics = telemetry.metrics()
    assert metrics["BadRequest"] + metrics["ForgedSignature"] == 1


def test_the_local_gateway_with_a_bracket_host_header_gets_a_400(aws, telemetry,
                                                                  lambda_context):
    from decoy_local.gateway import http_api_event

    event = http_api_event("POST", "/sms", [("Host", "[x"), (
        "Content-Type", "application/x-www-form-urlencoded")], b"From=%2B33612345678",
        route_key="POST /sms", port=8080)

    response = receive(event, lambda_context)

    assert response["statusCode"] == 400
    assert telemetry.metrics()["BadRequest"] == 1


def test_a_forwarded_port_other_than_the_default_is_part_of_the_signed_url(aws, lambda_context):
    form = sms_form("+33612345678", DECOY)
    event = api_event("/sms", form)
    event["headers"]["x-forwarded-port"] = "8443"
    event["headers"]["x-twilio-signature"] = sign(
        "https://abc123.execute-api.eu-west-3.amazonaws.com:8443/sms", form)
    assert receive(event, lambda_context)["statusCode"] == 200


hosts = st.one_of(st.sampled_from([
    "abc123.execute-api.eu-west-3.amazonaws.com", "127.0.0.1:8080", "[::1]:8080", "[x", "a]b",
    "[::1", "host:abc", "host:", ":443", "", "a b", "ex\u00e9.com", "h\ud800"]), text)
ports = st.one_of(st.sampled_from(["443", "80", "8443", "0", "-1", "99999", "65536", "abc",
                                   "443,443", " 443", "\u0664\u0664\u0663", ""]), text)
queries = st.one_of(st.sampled_from(["", "campaign=fr", "a=\ud800", "%zz", "a=1&a=2", "?",
                                     "#frag", "campaign=fr&campaign=en"]), text)
route_keys = st.one_of(st.sampled_from(["POST /sms", "POST /voice", "POST /status",
                                        "$default", "GET /sms", ""]), text, junk)
stages = st.one_of(st.sampled_from(["$default", "prod", "", "sms", "$default/x"]), text, junk)


@st.composite
def hostile_envelopes(draw) -> dict:
    """A valid route, method, content type and form, signed, with every other header and
    context field (ports, hosts, scheme, query, stage, routeKey) drawn from hostile values."""
    route = draw(st.sampled_from(["/sms", "/voice", "/status"]))
    form = call_form("+33612345678", DECOY) if route == "/voice" else (
        sms_form("+33612345678", DECOY) if route == "/sms" else
        {"MessageSid": new_sid(), "MessageStatus": "delivered", "From": DECOY,
         "To": "+33612345678", "AccountSid": ACCOUNT_SID})
    event = api_event(route, form, base64_body=draw(st.booleans()))
    headers = event["headers"]
    context = event["requestContext"]
    headers.update(draw(st.fixed_dictionaries({}, optional={
        "host": hosts, "x-forwarded-port": ports, "x-forwarded-proto": st.one_of(
            st.sampled_from(["http", "https", "HTTPS", "ftp", "", "https,http"]), text),
        "x-forwarded-for": text, "x-twilio-signature": text, "user-agent": text,
        "i-twilio-idempotency-token": text})))
    headers.update(draw(st.dictionaries(text.map(str.lower), text, max_size=3)))
    headers["content-type"] = "application/x-www-form-urlencoded"
    context.update(draw(st.fixed_dictionaries({}, optional={
        "domainName": st.one_of(hosts, junk), "stage": stages, "routeKey": route_keys,
        "domainPrefix": junk, "requestId": junk, "timeEpoch": junk, "apiId": junk})))
    event.update(draw(st.fixed_dictionaries({}, optional={
        "rawQueryString": st.one_of(queries, junk), "routeKey": route_keys,
        "cookies": junk, "queryStringParameters": junk, "pathParameters": junk,
        "stageVariables": junk, "version": junk})))
    if draw(st.booleans()):  # re-sign for the URL as drawn, so some get past the signature
        try:
            url = webhook_url(event)
            headers["x-twilio-signature"] = sign(url, form)
        except (Rejected, AttributeError, TypeError):  # unbuildable: keep the old signature
            pass
    return event


def webhook_url(event: dict) -> str:
    return public_url(event)


@settings(FUZZ, max_examples=120)
@given(event=hostile_envelopes())
def test_any_envelope_around_a_valid_signed_form_gets_a_one_line_2xx_or_4xx(
        event, aws, lambda_context):
    assert_answered(receive(event, lambda_context))
