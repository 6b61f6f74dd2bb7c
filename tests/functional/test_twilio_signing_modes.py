"""Twilio's other ways of signing a webhook (issue 23.2, 23.3).

- SharedKey (Public Beta, Twilio docs "Sign webhooks with shared keys", 2026-09-07): when a
  Webhook Rule matches, Twilio signs with the SharedKey secret and the Setting's algorithm
  (HMAC_SHA256) and adds `X-Twilio-Webhooks-Signature-Settings: key=...,algorithm=...`;
  only the hash changes, the signed string is the same. twilio-python 9.13's
  `RequestValidator.validate(..., algorithm)` and `get_signature_algorithm` check it (the
  version locked here; twilio-node's examples/WebhookSignatureValidation.md says the same).
- HTTP Basic credentials in the webhook URL (https://user:pass@host/sms): Twilio signs the
  URL with them (twilio-node/-ruby/-php/-elixir share the vector below) and sends them as
  `Authorization: Basic`.
"""

from __future__ import annotations

import base64
import logging

import pytest
from conftest import schedules
from twilio.request_validator import RequestValidator
from twilio_fakes import AUTH_TOKEN, api_event, sign, sms_form

from decoy import runtime
from decoy.webhook import Rejected, Webhook, parse, verify_signature
from receiver.app import lambda_handler as receive

DECOY = "+33939000001"
DOMAIN = "abc123.execute-api.eu-west-3.amazonaws.com"
SHARED_KEY = "shared-key-secret-0123456789abcdef"
SETTINGS_HEADER = "key=webhooks_sharedkey_01JTEST,algorithm=HMAC_SHA256"
# Twilio's published example (token 12345), as the helper libraries' tests use it.
TWILIO_PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234",
                 "From": "+14158675309", "To": "+18005551212"}


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


# -- HTTP Basic credentials -------------------------------------------------------------------

@pytest.mark.parametrize(("credentials", "signature"), [
    ("user:pass", "CukzLTc1tT5dXEDIHm/tKBanW10="),  # https://user:pass@mycompany.com/...
    ("user:", "2YRLlVAflCqxaNicjMpJcSTgzSs="),  # https://user@mycompany.com/... (no password)
])
def test_the_helper_libraries_published_vectors_with_credentials_validate(credentials,
                                                                          signature):
    webhook = Webhook(route="/sms", form=TWILIO_PARAMS, query={}, signature=signature,
                      url="https://mycompany.com/myapp.php?foo=1&bar=2",
                      credentials=credentials)

    verify_signature(webhook, "12345")  # raises Rejected(403) when it does not match


def with_basic_auth(fields: dict[str, str], credentials: str, *, signed_with: str) -> dict:
    event = api_event("/sms", fields,
                      signature=sign(f"https://{signed_with}@{DOMAIN}/sms", fields))
    event["headers"]["authorization"] = basic(credentials)
    return event


def test_a_webhook_url_with_basic_credentials_is_accepted(aws, lambda_context, at):
    fields = sms_form("+33612345678", DECOY)
    event = with_basic_auth(fields, "twilio:s3cret-Pa55", signed_with="twilio:s3cret-Pa55")

    response = receive(event, lambda_context)

    assert response["statusCode"] == 200, response["body"]
    assert len(schedules(aws)) == 1


def test_credentials_written_percent_encoded_in_the_url_are_accepted(aws, lambda_context, at):
    fields = sms_form("+33612345678", DECOY)
    event = with_basic_auth(fields, "twilio:p@ss:w/rd", signed_with="twilio:p%40ss%3Aw%2Frd")

    assert receive(event, lambda_context)["statusCode"] == 200


@pytest.mark.parametrize(("sent", "signed"), [
    ("twilio:wrong", "twilio:s3cret"),  # other credentials than the ones signed
    ("", "twilio:s3cret"),  # signed with credentials, none sent
])
def test_credentials_other_than_the_signed_ones_are_refused(sent, signed, aws, lambda_context,
                                                            at):
    fields = sms_form("+33612345678", DECOY)
    event = with_basic_auth(fields, sent or "x:y", signed_with=signed)
    if not sent:
        del event["headers"]["authorization"]

    response = receive(event, lambda_context)

    assert (response["statusCode"], response["body"]) == (403, "invalid X-Twilio-Signature")
    assert schedules(aws) == []


@pytest.mark.parametrize("header", ["Basic !!!notbase64", "Basic " + base64.b64encode(
    b"no-colon").decode(), "Basic " + base64.b64encode(b"\xff\xfe:x").decode()])
def test_malformed_basic_credentials_get_a_400(header, aws, lambda_context, at):
    event = api_event("/sms", sms_form("+33612345678", DECOY))
    event["headers"]["authorization"] = header

    response = receive(event, lambda_context)

    assert (response["statusCode"], response["body"]) == (
        400, "Authorization header is not valid Basic credentials")


def test_the_credentials_are_never_logged_nor_in_the_parsed_webhook(aws, lambda_context, at,
                                                                    capsys, caplog):
    caplog.set_level(logging.DEBUG)
    fields = sms_form("+33612345678", DECOY)
    secret = "twilio:Pa55-n3ver-logged"
    good = with_basic_auth(fields, secret, signed_with=secret)
    forged = with_basic_auth(fields, secret, signed_with="twilio:other")

    assert [receive(e, lambda_context)["statusCode"] for e in (good, forged)] == [200, 403]
    webhook = parse(good)

    out = capsys.readouterr()
    for text in (repr(webhook), webhook.url, out.out, out.err, caplog.text):
        assert "Pa55-n3ver-logged" not in text


# -- SharedKey (HMAC-SHA256) ------------------------------------------------------------------

def shared_key_webhook(fields: dict[str, str], *, key: str = SHARED_KEY,
                       settings: str = SETTINGS_HEADER, algorithm: str = "HMAC_SHA256"
                       ) -> Webhook:
    url = f"https://{DOMAIN}/sms"
    return Webhook(route="/sms", form=fields, query={}, url=url, signature_settings=settings,
                   signature=RequestValidator(key).compute_signature(url, fields, algorithm))


def test_a_shared_key_signature_validates_with_the_shared_key():
    verify_signature(shared_key_webhook(sms_form("+33612345678", DECOY)), "auth-token",
                     SHARED_KEY)


@pytest.mark.parametrize(("webhook", "reason"), [
    (lambda f: shared_key_webhook(f, key="auth-token"), "invalid X-Twilio-Signature"),
    (lambda f: shared_key_webhook(f, algorithm="HMAC_SHA1"), "invalid X-Twilio-Signature"),
    (lambda f: shared_key_webhook(f, settings="key=k,algorithm=HMAC_MD5"),
     "invalid X-Twilio-Signature"),
], ids=["signed with the auth token", "header says SHA256, signed SHA1", "unknown algorithm"])
def test_a_shared_key_signature_made_otherwise_is_refused(webhook, reason):
    with pytest.raises(Rejected) as refused:
        verify_signature(webhook(sms_form("+33612345678", DECOY)), "auth-token", SHARED_KEY)
    assert (refused.value.status, refused.value.reason) == (403, reason)


def test_a_shared_key_signature_without_a_configured_key_is_refused_not_a_500():
    with pytest.raises(Rejected) as refused:
        verify_signature(shared_key_webhook(sms_form("+33612345678", DECOY)), "auth-token")
    assert (refused.value.status, refused.value.reason) == (
        403, "SharedKey signature, but no shared key is configured")


def test_an_auth_token_signature_still_validates_when_a_shared_key_is_configured():
    fields = sms_form("+33612345678", DECOY)
    url = f"https://{DOMAIN}/sms"
    webhook = Webhook(route="/sms", form=fields, query={}, url=url,
                      signature=RequestValidator("auth-token").compute_signature(url, fields))
    verify_signature(webhook, "auth-token", SHARED_KEY)


def test_the_settings_header_reaches_the_parsed_webhook():
    event = api_event("/sms", sms_form("+33612345678", DECOY))
    event["headers"]["X-Twilio-Webhooks-Signature-Settings"] = SETTINGS_HEADER

    assert parse(event).signature_settings == SETTINGS_HEADER


# -- the SharedKey secret in SSM: optional, read in the same GetParameters ---------------------

def test_no_shared_key_parameter_means_the_option_is_off_and_costs_no_call(aws, aws_calls, at):
    rt = runtime.get()
    calls = aws_calls()

    first = rt.secrets()
    at(rt.shared_key_absent_until - 1)
    second = rt.secrets()

    assert first.shared_key is None and second.shared_key is None
    assert first.auth_token == AUTH_TOKEN
    assert calls["ssm:GetParameters"] == 1  # the absence is remembered like the values


def test_a_stored_shared_key_is_read_with_the_other_secrets(aws, aws_calls, at):
    aws.ssm.put_parameter(Name=aws.env["TWILIO_SHARED_KEY_PARAMETER"], Value=SHARED_KEY,
                          Type="SecureString")
    rt = runtime.get()
    calls = aws_calls()

    assert rt.secrets().shared_key == SHARED_KEY
    assert rt.secrets().shared_key == SHARED_KEY
    assert calls["ssm:GetParameters"] == 1


def test_a_shared_key_stored_later_is_seen_once_the_absence_expires(aws, at):
    rt = runtime.get()
    assert rt.secrets().shared_key is None
    aws.ssm.put_parameter(Name=aws.env["TWILIO_SHARED_KEY_PARAMETER"], Value=SHARED_KEY,
                          Type="SecureString")

    at(rt.shared_key_absent_until)

    assert rt.secrets().shared_key == SHARED_KEY


def test_a_missing_required_secret_is_still_unavailable(aws):
    from decoy.parameters import ParameterError

    aws.ssm.delete_parameter(Name=aws.env["TWILIO_AUTH_TOKEN_PARAMETER"])

    with pytest.raises(ParameterError):
        runtime.get().secrets()


# -- end to end: the receiver checks a SharedKey webhook with the stored key ------------------

def shared_key_event(fields: dict[str, str]) -> dict:
    url = f"https://{DOMAIN}/sms"
    event = api_event("/sms", fields, signature=RequestValidator(SHARED_KEY).compute_signature(
        url, fields, "HMAC_SHA256"))
    event["headers"]["x-twilio-webhooks-signature-settings"] = SETTINGS_HEADER
    return event


def test_a_shared_key_webhook_is_answered_once_the_key_is_stored(aws, lambda_context, at):
    aws.ssm.put_parameter(Name=aws.env["TWILIO_SHARED_KEY_PARAMETER"], Value=SHARED_KEY,
                          Type="SecureString")

    response = receive(shared_key_event(sms_form("+33612345678", DECOY)), lambda_context)

    assert response["statusCode"] == 200, response["body"]
    assert len(schedules(aws)) == 1


def test_a_shared_key_webhook_without_a_stored_key_is_refused(aws, lambda_context, at):
    response = receive(shared_key_event(sms_form("+33612345678", DECOY)), lambda_context)

    assert (response["statusCode"], response["body"]) == (
        403, "SharedKey signature, but no shared key is configured")
    assert schedules(aws) == []
