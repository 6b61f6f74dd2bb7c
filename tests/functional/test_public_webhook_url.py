"""The URL a signature covers, when the event cannot tell it: PublicWebhookBaseUrl (issue 23.1).

AWS's page for payload format 2.0 says: "If you use an API mapping to connect your stage to a
custom domain name, rawPath won't provide the API mapping value" (API Gateway Developer
Guide, "Create AWS Lambda proxy integrations for HTTP APIs", payload format differences;
stored copy of docs.aws.amazon.com, read 2026-12-04; community reports say the opposite, so
we depend on neither). The deployer's `PublicWebhookBaseUrl` (empty by default) names the URL
Twilio calls; the receiver signs-checks `base + route + ?query` whatever `rawPath` holds.
"""

from __future__ import annotations

import pytest
from conftest import schedules
from twilio_fakes import api_event, call_form, sign, sms_form, status_form

from decoy.settings import ConfigError, public_webhook_base_url
from decoy_local.template import _condition, _resolve, load_template, parameter_defaults
from receiver.app import lambda_handler as receive

DECOY = "+33939000001"
HOST = "sms.example.org"
BASE = f"https://{HOST}/decoy"
FORMS = {"/sms": lambda: sms_form("+33612345678", DECOY),
         "/voice": lambda: call_form("+33612345679", DECOY),
         "/status": lambda: status_form("delivered")}
QUERIES = {"/status": "campaign=fr"}


def through_custom_domain(route: str, fields: dict[str, str], *, raw_path: str, stage: str,
                          signed_url: str) -> dict:
    """The event API Gateway builds for a request Twilio signed for `signed_url`."""
    query = QUERIES.get(route, "")
    event = api_event(route, fields, domain=HOST, stage=stage, query=query,
                      signature=sign(signed_url + (f"?{query}" if query else ""), fields))
    event["rawPath"] = raw_path
    event["requestContext"]["http"]["path"] = raw_path
    return event


# (rawPath as the function sees it, the stage the API mapping targets)
SHAPES = {
    "rawPath without the mapping key (AWS's page)": ("", "$default"),
    "rawPath with the mapping key (community reports)": ("/decoy", "$default"),
    "rawPath without the mapping key, named stage": ("", "prod"),
    "rawPath with the mapping key, named stage": ("/decoy", "prod"),
}


@pytest.mark.parametrize(("prefix", "stage"), SHAPES.values(), ids=SHAPES.keys())
@pytest.mark.parametrize("route", sorted(FORMS))
def test_the_configured_public_url_decides_whatever_rawpath_holds(route, prefix, stage, aws,
                                                                  lambda_context, at,
                                                                  monkeypatch):
    monkeypatch.setenv("PUBLIC_WEBHOOK_BASE_URL", BASE)
    event = through_custom_domain(route, FORMS[route](), raw_path=f"{prefix}{route}",
                                  stage=stage, signed_url=f"{BASE}{route}")

    response = receive(event, lambda_context)

    assert response["statusCode"] == 200, response["body"]
    if route == "/sms":
        assert len(schedules(aws)) == 1


def test_without_the_setting_a_rawpath_lacking_the_mapping_key_is_refused(aws, lambda_context,
                                                                          at):
    """What the setting is for: the URL rebuilt from such an event is not the one signed."""
    event = through_custom_domain("/sms", FORMS["/sms"](), raw_path="/sms", stage="$default",
                                  signed_url=f"{BASE}/sms")

    assert receive(event, lambda_context)["statusCode"] == 403


@pytest.mark.parametrize("signed_for", [f"https://{HOST}/sms", f"{BASE}/voice",
                                        "https://other.example.org/decoy/sms"])
def test_with_the_setting_a_signature_for_another_url_is_refused(signed_for, aws,
                                                                 lambda_context, at,
                                                                 monkeypatch):
    monkeypatch.setenv("PUBLIC_WEBHOOK_BASE_URL", BASE)
    event = through_custom_domain("/sms", FORMS["/sms"](), raw_path="/decoy/sms",
                                  stage="$default", signed_url=signed_for)

    response = receive(event, lambda_context)

    assert (response["statusCode"], response["body"]) == (403, "invalid X-Twilio-Signature")
    assert schedules(aws) == []


@pytest.mark.parametrize(("raw", "expected"), [
    ("", None), ("  ", None), (BASE, BASE), (BASE + "/", BASE),
    ("https://sms.example.org", "https://sms.example.org"),
    ("https://abc.execute-api.eu-west-3.amazonaws.com/prod",
     "https://abc.execute-api.eu-west-3.amazonaws.com/prod"),
])
def test_the_setting_is_read_and_normalised(raw, expected):
    assert public_webhook_base_url({"PUBLIC_WEBHOOK_BASE_URL": raw}) == expected


@pytest.mark.parametrize("raw", ["sms.example.org/decoy", "ftp://sms.example.org",
                                 f"{BASE}?a=1", f"{BASE}#rc=2", "https://u:p@sms.example.org",
                                 "https:///decoy", "https://sms.example.org/de coy"])
def test_a_bad_setting_is_refused_naming_the_variable(raw):
    with pytest.raises(ConfigError, match="PUBLIC_WEBHOOK_BASE_URL"):
        public_webhook_base_url({"PUBLIC_WEBHOOK_BASE_URL": raw})


def resolved_outputs(overrides: dict[str, str]) -> dict[str, str]:
    """The template's Outputs and the sender's status callback, as CloudFormation resolves
    them with `overrides` as parameter_overrides."""
    template = load_template()
    values = {**parameter_defaults(template), **overrides, "DecoyApi": "abc123",
              "AWS::Region": "eu-west-3", "AWS::URLSuffix": "amazonaws.com"}
    for name, expr in template["Conditions"].items():
        values[f"Condition::{name}"] = str(_condition(expr, values, template["Conditions"]))
    outputs = {name: _resolve(spec["Value"], values) for name, spec in template["Outputs"].items()
               if name.endswith(("WebhookUrl", "CallbackUrl"))}
    sender = template["Resources"]["SenderFunction"]["Properties"]["Environment"]["Variables"]
    receiver = template["Resources"]["ReceiverFunction"]["Properties"]["Environment"]["Variables"]
    return {**outputs, "STATUS_CALLBACK_URL": _resolve(sender["STATUS_CALLBACK_URL"], values),
            "PUBLIC_WEBHOOK_BASE_URL": _resolve(receiver["PUBLIC_WEBHOOK_BASE_URL"], values)}


def test_the_template_parameter_defaults_to_empty_and_urls_stay_on_the_api_domain():
    template = load_template()
    assert template["Parameters"]["PublicWebhookBaseUrl"]["Default"] == ""
    urls = resolved_outputs({})
    api = "https://abc123.execute-api.eu-west-3.amazonaws.com"
    assert urls["SmsWebhookUrl"] == f"{api}/sms"
    assert urls["STATUS_CALLBACK_URL"] == f"{api}/status"
    assert urls["PUBLIC_WEBHOOK_BASE_URL"] == ""


def test_every_url_connect_and_the_sender_give_twilio_uses_the_public_base():
    """connect reads SmsWebhookUrl, VoiceWebhookUrl and UsageCallbackUrl; the sender gives
    Twilio STATUS_CALLBACK_URL: all must be the URL the receiver will check signatures on."""
    urls = resolved_outputs({"PublicWebhookBaseUrl": BASE})

    assert urls == {"SmsWebhookUrl": f"{BASE}/sms", "VoiceWebhookUrl": f"{BASE}/voice",
                    "StatusCallbackUrl": f"{BASE}/status", "UsageCallbackUrl": f"{BASE}/usage",
                    "STATUS_CALLBACK_URL": f"{BASE}/status", "PUBLIC_WEBHOOK_BASE_URL": BASE}
