"""Webhooks through a custom domain: the route is API Gateway's routeKey, the signed URL is public.

Behind an API mapping key (`https://hooks.example.org/decoy/sms`) `routeKey` stays
`POST /sms`. These tests take the shape where `rawPath` keeps the key (`/decoy/sms`, as
community reports say) with no PublicWebhookBaseUrl; AWS's own page says rawPath lacks it:
tests/functional/test_public_webhook_url.py covers both shapes with the setting (FACTS.md,
corrected 2026-12-04). The signature covers the URL Twilio called, mapping key included.
"""

from __future__ import annotations

import pytest
from conftest import schedules
from twilio_fakes import api_event, call_form, parse_twiml, sign, sms_form, status_form

from receiver.app import lambda_handler as receive

DECOY = "+33939000001"
HOST = "hooks.example.org"
FORMS = {"/sms": lambda: sms_form("+33612345678", DECOY),
         "/voice": lambda: call_form("+33612345679", DECOY),
         "/status": lambda: status_form("delivered")}


# The sender asks for status callbacks with the campaign in the query string.
QUERIES = {"/status": "campaign=fr"}


def delivered(route: str, fields: dict[str, str], *, raw_path: str, stage: str = "$default",
              domain: str = HOST, signed_url: str | None = None) -> dict:
    """The payload 2.0 event API Gateway builds for a request Twilio signed for its URL."""
    query = QUERIES.get(route, "")
    url = signed_url or f"https://{domain}{raw_path}" + (f"?{query}" if query else "")
    event = api_event(route, fields, domain=domain, stage=stage, query=query,
                      signature=sign(url, fields))
    event["rawPath"] = raw_path
    event["requestContext"]["http"]["path"] = raw_path
    return event


# (how the webhook is exposed, the path the function sees, the stage the mapping targets)
EXPOSED = {
    "custom domain, no mapping key": ("", "$default"),
    "custom domain, mapping key": ("/decoy", "$default"),
    "custom domain, two-level mapping key": ("/v1/decoy", "$default"),
    "custom domain, mapping key, named stage": ("/decoy", "prod"),
    "custom domain, no mapping key, named stage": ("", "prod"),
}


@pytest.mark.parametrize(("prefix", "stage"), EXPOSED.values(), ids=EXPOSED.keys())
@pytest.mark.parametrize("route", sorted(FORMS))
def test_every_route_answers_through_a_custom_domain(route, prefix, stage, aws, lambda_context,
                                                     at):
    response = receive(delivered(route, FORMS[route](), raw_path=f"{prefix}{route}",
                                 stage=stage), lambda_context)

    assert response["statusCode"] == 200, response["body"]
    parse_twiml(response["body"])
    if route == "/sms":
        assert len(schedules(aws)) == 1


def test_named_stage_on_the_execute_api_domain_still_answers(aws, lambda_context, at):
    domain = "abc123.execute-api.eu-west-3.amazonaws.com"
    event = delivered("/sms", FORMS["/sms"](), raw_path="/prod/sms", stage="prod", domain=domain)

    assert receive(event, lambda_context)["statusCode"] == 200
    assert len(schedules(aws)) == 1


def test_a_signature_for_the_url_without_the_mapping_key_is_refused(aws, lambda_context, at):
    fields = FORMS["/sms"]()
    event = delivered("/sms", fields, raw_path="/decoy/sms", signed_url=f"https://{HOST}/sms")

    response = receive(event, lambda_context)

    assert (response["statusCode"], response["body"]) == (403, "invalid X-Twilio-Signature")
    assert schedules(aws) == []


def test_a_route_the_api_does_not_declare_is_still_a_404(aws, lambda_context, at):
    event = delivered("/usage-typo", {"a": "1"}, raw_path="/decoy/usage-typo")

    response = receive(event, lambda_context)

    assert (response["statusCode"], response["body"]) == (404, "no route /usage-typo")


def test_the_local_gateway_sets_the_route_key_the_receiver_routes_on():
    from decoy_local.gateway import http_api_event

    event = http_api_event("POST", "/sms?a=1", [("Host", "127.0.0.1:3000")], b"",
                           "POST /sms", 3000, now=0.0)

    assert event["routeKey"] == event["requestContext"]["routeKey"] == "POST /sms"
