"""The local HTTP API builds the events API Gateway would: the receiver cannot tell them apart."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

from decoy import webhook
from decoy_local.gateway import TokenBucket, http_api_event, proxy_response
from decoy_local.webhooks import sign, status_form

TOKEN = "local-token"


def local_event(target: str, form: dict[str, str], headers: list[tuple[str, str]] | None = None,
                port: int = 3000, host: str = "127.0.0.1") -> dict:
    url = f"http://{host}:{port}{target}"
    signed = [("Host", f"{host}:{port}"),
              ("Content-Type", "application/x-www-form-urlencoded"),
              ("X-Twilio-Signature", sign(url, form, TOKEN)), *(headers or [])]
    path = target.split("?")[0]
    return http_api_event("POST", target, signed, urlencode(form).encode(), f"POST {path}",
                          port)


def test_a_signed_local_request_parses_and_verifies_as_twilio_signed_it():
    form = status_form("delivered", sid="SM" + "a" * 32, sender="+33939000001", to="+33612345678",
                       account_sid="AC1")

    parsed = webhook.parse(local_event("/status?campaign=fr", form))

    assert parsed.route == "/status"
    assert parsed.form == form
    assert parsed.query == {"campaign": "fr"}
    assert parsed.url == "http://127.0.0.1:3000/status?campaign=fr"
    webhook.verify_signature(parsed, TOKEN)


def test_the_url_is_the_one_the_client_called_even_through_localhost():
    event = local_event("/sms", {"From": "+33612345678"}, host="localhost", port=3100)

    assert webhook.public_url(event) == "http://localhost:3100/sms"


def test_form_bodies_arrive_base64_encoded_and_json_bodies_do_not():
    form_event = local_event("/sms", {"Body": "salut"})
    json_event = http_api_event("POST", "/x", [("Content-Type", "application/json")], b'{"a":1}',
                                "POST /x", 3000)

    assert form_event["isBase64Encoded"] is True
    assert base64.b64decode(form_event["body"]) == b"Body=salut"
    assert json_event["isBase64Encoded"] is False
    assert json_event["body"] == '{"a":1}'


def test_headers_are_lower_cased_repeats_joined_and_cookies_moved_out():
    event = http_api_event("POST", "/sms?a=1&a=2", [("X-Thing", "1"), ("x-thing", "2"),
                                                   ("Cookie", "k=v; l=w")], b"", "POST /sms",
                           3000)

    assert event["headers"]["x-thing"] == "1,2"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["k=v", "l=w"]
    assert event["queryStringParameters"] == {"a": "1,2"}
    assert event["rawQueryString"] == "a=1&a=2"
    assert event["requestContext"]["stage"] == "$default"
    assert event["requestContext"]["http"]["method"] == "POST"
    assert "body" not in event


def test_proxy_response_follows_payload_2_0():
    twiml = {"statusCode": 200, "headers": {"Content-Type": "text/xml"}, "body": "<Response/>"}
    encoded = {"statusCode": 201, "body": base64.b64encode(b"\x00bin").decode(),
               "isBase64Encoded": True}

    assert proxy_response(twiml) == (200, {"Content-Type": "text/xml"}, b"<Response/>")
    assert proxy_response(encoded)[2] == b"\x00bin"
    assert proxy_response({"ok": True}) == (200, {"Content-Type": "application/json"},
                                            b'{"ok": true}')


def test_stage_throttling_lets_a_burst_through_then_the_rate():
    now = [0.0]
    bucket = TokenBucket(rate=2, burst=3, clock=lambda: now[0])

    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    now[0] = 0.5  # one more token at 2 per second
    assert [bucket.take() for _ in range(2)] == [True, False]
