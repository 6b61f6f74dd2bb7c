"""`decoy_ops preflight` on moto and the fake Twilio: a healthy setup passes, each broken thing
gives its ✗ line (and only the checks that depend on it are skipped)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import boto3
import pytest
import responses
from botocore.exceptions import EndpointConnectionError, NoCredentialsError
from botocore.stub import Stubber
from conftest import REGION, ROOT, campaign_entry
from twilio_fakes import ACCOUNT_SID, AUTH_TOKEN, FakeTwilioApi

from decoy import offair
from decoy.campaigns import load_campaigns
from decoy.outbound import twilio_client
from decoy_local.fake_twilio import DEMO_SMS_URL, attach_responses
from decoy_ops import connect, preflight
from decoy_ops.stack import Stack

NUMBERS = ("+33939123456", "+33939123457")
RETIRED = "+33939123458"
BIN = "https://handler.twilio.com/twiml/EH" + "0" * 32  # the reject-busy TwiML Bin
API = "https://abc123.execute-api.eu-west-3.amazonaws.com"
OUTPUTS = {"SmsWebhookUrl": f"{API}/sms", "VoiceWebhookUrl": f"{API}/voice",
           "UsageCallbackUrl": f"{API}/usage", "DailyReplyBudget": "500",
           "DailyAnsweredCallBudget": "200", "KillSwitchParameterName": "/decoy/kill-switch"}


class FakeLambda:
    """moto has no GetAccountSettings: the account's concurrency, as AWS answers it."""

    def __init__(self, total: int = 1000, unreserved: int = 1000):
        self.limit = {"ConcurrentExecutions": total, "UnreservedConcurrentExecutions": unreserved}

    def get_account_settings(self) -> dict[str, Any]:
        return {"AccountLimit": dict(self.limit)}


class Broken:
    """A boto3 client whose every call raises `exc`."""

    def __init__(self, exc: Exception):
        self.exc = exc

    def __getattr__(self, name: str) -> Any:
        def call(*_: Any, **__: Any) -> Any:
            raise self.exc
        return call


@pytest.fixture
def twilio_domains():
    """The fake Twilio behind api., messaging. and accounts.twilio.com (preflight reads all)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeTwilioApi(mock)
        for domain in ("https://messaging.twilio.com", "https://accounts.twilio.com"):
            attach_responses(fake, mock, domain)
        yield fake


@pytest.fixture
def world(aws, twilio_domains, tmp_path, monkeypatch):
    """A deployed stack as `connect --apply` leaves it: everything preflight checks is right."""
    document = {"version": 1, "campaigns": [
        campaign_entry("fr", NUMBERS[0]),
        {**campaign_entry("bar", NUMBERS[1]), "allowed_country_codes": ["33", "32"]}]}
    path = tmp_path / "campaigns.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    monkeypatch.setenv("CAMPAIGNS_FILE", str(path))
    twilio_api = twilio_domains
    twilio_api.own(list(NUMBERS))
    twilio_api.geo_permissions = {"FR": True, "BE": True}
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="alarms")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="volunteer@example.org")
    stack = Stack.known("decoy-number", {**OUTPUTS, "AlarmTopicArn": topic},
                        dict(aws.stack.parameters))
    clients = {"sts": boto3.client("sts", region_name=REGION), "scheduler": aws.scheduler,
               "ssm": aws.ssm, "sns": sns, "lambda": FakeLambda()}
    setup = preflight.Setup(
        aws=lambda name: clients[name], stack=stack, region=REGION, samconfig_region=REGION,
        twilio=lambda sid, token: twilio_client(sid, token, None),
        credentials=lambda name: connect.twilio_credentials(
            aws.ssm, lambda: name("TwilioAccountSidParameter"),
            lambda: name("TwilioAuthTokenParameter")),
        wanted_triggers=lambda: [  # both levels: the kill switch, then off the air (#22)
            (connect.wanted_triggers(60, 20, 9.5), OUTPUTS["UsageCallbackUrl"]),
            (connect.off_air_triggers(120, 19.0),
             connect.off_air_callback(OUTPUTS["UsageCallbackUrl"]))],
        reject_url=lambda: BIN,
        load_campaigns=load_campaigns, find_python313=lambda: "/opt/python3.13/bin",
        which=lambda name: f"/usr/bin/{name}")
    client = point_at_stack(NUMBERS)
    for triggers, url in setup.wanted_triggers():
        for plan in connect.plan_triggers([], triggers, url):
            connect.apply_trigger(client, plan, url)
    world = type("World", (), {})()
    world.setup, world.twilio, world.aws, world.clients, world.stack = (
        setup, twilio_api, aws, clients, stack)
    world.path = path
    return world


def point_at_stack(numbers: tuple[str, ...]) -> Any:
    """What `connect --apply` does to the numbers' webhooks."""
    client = twilio_client(ACCOUNT_SID, AUTH_TOKEN, None)
    wanted = connect.wanted_settings(OUTPUTS["SmsWebhookUrl"], OUTPUTS["VoiceWebhookUrl"], BIN)
    for n in numbers:
        found = offair.find_number(client, n)
        offair.apply(client, offair.Change("number", n, found.sid, offair.changes(found, wanted)))
    return client


def lines(setup: preflight.Setup) -> dict[str, preflight.Check]:
    return {c.name: c for c in preflight.run(setup)}


def failed(setup: preflight.Setup) -> list[str]:
    return [c.line for c in preflight.run(setup) if c.status == preflight.FAIL]


def test_a_healthy_deployment_passes_every_check(world):
    checks = preflight.run(world.setup)

    assert [c.line for c in checks if c.status != preflight.OK] == [
        "– secret TwilioSharedKeyParameter: /decoy/twilio/shared-key not stored: this option is "
        "off"]
    names = [c.name for c in checks]
    assert names[:5] == ["python3.13", "AWS CLI", "AWS credentials", "region",
                         "EventBridge Scheduler"]
    assert {"number fr/main", "number bar/main", "Messaging Services", "SMS geo permissions",
            "numbers point at this stack", "voice fallback", "off the air", "usage triggers",
            "alarm email"} <= set(names)
    by_name = {c.name: c for c in checks}
    assert by_name["voice fallback"].line == (
        "✓ voice fallback: 2 number(s) reject calls if the stack fails")
    assert by_name["off the air"].line == "✓ off the air: no number is off the air (2 on the air)"
    assert by_name["usage triggers"].line == (
        "✓ usage triggers: 5 daily trigger(s) in place: the kill switch, then off the air, past "
        "the budgets")
    rendered = preflight.render(checks)
    assert rendered[-1] == f"all {len(checks) - 1} checks ok, 1 skipped"
    assert all(line[0] in "✓✗–" for line in rendered[:-1])


def test_before_the_deploy_the_after_checks_are_skipped_not_failed(world):
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    setup = replace(world.setup, stack=Stack("decoy-number", lambda: cloudformation))

    checks = lines(setup)

    assert not failed(setup)
    for name in ("numbers point at this stack", "voice fallback", "off the air",
                 "usage triggers", "kill switch", "alarm email"):
        assert checks[name].status == preflight.SKIPPED
        assert "after the deploy (stack decoy-number not found)" in checks[name].message


def _break(world: Any, what: str) -> preflight.Setup:
    setup, twilio = world.setup, world.twilio
    if what == "python":
        return replace(setup, find_python313=lambda: None)
    if what == "cli":
        return replace(setup, which=lambda name: None)
    if what == "region":
        return replace(setup, region="us-east-1")
    if what == "credentials":
        clients = {**world.clients, "sts": Broken(NoCredentialsError()),
                   "ssm": Broken(NoCredentialsError())}
        return replace(setup, aws=lambda name: clients[name],
                       credentials=lambda name: Broken(NoCredentialsError()).read())
    if what == "scheduler":
        clients = {**world.clients, "scheduler": Broken(EndpointConnectionError(
            endpoint_url="https://scheduler.ap-east-2.amazonaws.com"))}
        return replace(setup, aws=lambda name: clients[name])
    if what == "secret":
        world.aws.ssm.delete_parameter(Name="/decoy/sender-hash-key")
    if what == "plain-secret":
        world.aws.ssm.put_parameter(Name="/decoy/twilio/auth-token", Value=AUTH_TOKEN,
                                    Type="String", Overwrite=True)
    if what == "concurrency":
        world.stack._described["Parameters"].append(
            {"ParameterKey": "ReceiverReservedConcurrency", "ParameterValue": "5"})
        world.clients["lambda"] = FakeLambda(total=10, unreserved=10)
    if what == "campaigns":
        world.path.write_text(json.dumps({"version": 1, "campaigns": [
            campaign_entry("fr", "+33612345678")]}), encoding="utf-8")
    if what == "placeholder":
        world.path.write_text(json.dumps({"version": 1, "campaigns": [
            campaign_entry("fr", "+33939000001")]}), encoding="utf-8")
        twilio.own(["+33939000001"])
        point_at_stack(("+33939000001",))
    if what == "trial":
        twilio.account_type = "Trial"
    if what == "token":
        world.aws.ssm.put_parameter(Name="/decoy/twilio/auth-token", Value="wrong",
                                    Type="SecureString", Overwrite=True)
    if what == "not-owned":
        twilio.disown(NUMBERS[1])
    if what == "no-voice":
        twilio.number(NUMBERS[0])["capabilities"] = {"sms": True, "voice": False}
    if what == "service":
        twilio.add_service([NUMBERS[1]])
    if what == "geo":
        twilio.geo_permissions = {"FR": True, "BE": False}
    if what == "webhook":
        twilio.number(NUMBERS[0])["sms_url"] = DEMO_SMS_URL
    if what == "retired":  # retired in the pool, still held by the account: it still answers
        document = json.loads(world.path.read_text(encoding="utf-8"))
        entry = document["campaigns"][0]
        entry["numbers"] = [{"number": entry.pop("number"), "label": "main"},
                            {"number": RETIRED, "label": "old-cards", "status": "retired"}]
        world.path.write_text(json.dumps(document), encoding="utf-8")
        twilio.own([RETIRED])  # the demo URLs: never pointed at this stack
        twilio.number(RETIRED)["voice_fallback_url"] = BIN  # one line: the webhooks
    if what == "trigger":
        for trigger in twilio.triggers()[:1]:
            twilio._triggers.pop(trigger["sid"])
    if what == "no-bin":
        return replace(setup, reject_url=lambda: "")
    if what == "no-fallback":
        twilio.number(NUMBERS[1])["voice_fallback_url"] = ""
    if what == "off-air":
        offair.take_off_air(twilio_client(ACCOUNT_SID, AUTH_TOKEN, None), list(NUMBERS), BIN)
    if what == "fired":
        (level_two,) = [t for t in twilio.triggers() if "off-air daily sms" in t["friendly_name"]]
        twilio.fire_trigger(level_two["sid"])
    if what == "kill":
        world.aws.ssm.put_parameter(Name="/decoy/kill-switch", Value="on", Type="String",
                                    Overwrite=True)
    if what == "alarm":
        stubber = Stubber(world.clients["sns"])
        stubber.add_response("list_subscriptions_by_topic", {"Subscriptions": [
            {"SubscriptionArn": "PendingConfirmation", "Protocol": "email",
             "Endpoint": "volunteer@example.org", "Owner": "123456789012",
             "TopicArn": "arn:aws:sns:eu-west-3:123456789012:alarms"}]})
        stubber.activate()
    return setup


@pytest.mark.parametrize(("what", "expected"), [
    ("python", "✗ python3.13: not found: `make build` needs it"),
    ("cli", "✗ AWS CLI: `aws` not found"),
    ("region", "✗ region: checking us-east-1 but samconfig.toml deploys to eu-west-3"),
    ("credentials", "✗ AWS credentials: none that work (NoCredentialsError)"),
    ("scheduler", "✗ EventBridge Scheduler: not available in eu-west-3"),
    ("secret", "✗ secret SenderHashKeyParameter: /decoy/sender-hash-key is missing"),
    ("plain-secret", "✗ secret TwilioAuthTokenParameter: /decoy/twilio/auth-token is a String"),
    ("concurrency", "✗ Lambda concurrency: the account allows 10 (10 unreserved) and the "
                    "receiver reserves 5"),
    ("campaigns", "✗ campaigns.json: campaign 'fr': field 'reply_from' is the French mobile"),
    ("placeholder", "✗ number fr/main: +33939000001 is an example number shipped in "
                    "campaigns.json"),
    ("trial", "✗ Twilio account: a trial account"),
    ("token", "✗ Twilio account: Twilio answered HTTP 401 (error 20003): the account SID or "
              "auth token is wrong"),
    ("not-owned", "✗ number bar/main: +33939123457 is not a number of this Twilio account"),
    ("no-voice", "✗ number fr/main: +33939123456 cannot receive voice"),
    ("service", "✗ Messaging Services: +33939123457 is in Messaging Service"),
    ("geo", "✗ SMS geo permissions: SMS to BE is not allowed"),
    ("webhook", "✗ numbers point at this stack: +33939123456 not yet: "
                "`make ops ARGS=\"connect --apply\"`"),
    ("retired", f"✗ numbers point at this stack: {RETIRED} not yet: "
                "`make ops ARGS=\"connect --apply\"`"),
    ("trigger", "✗ usage triggers: 1 of 5 missing or stale"),
    ("fired", "✗ usage triggers: 1 of 5 missing or stale ('decoy-number off-air daily sms "
              "[decoy-number]': replace)"),
    ("no-bin", "✗ voice fallback: no VoiceRejectUrl: a call the stack cannot answer"),
    ("no-fallback", "✗ voice fallback: +33939123457 has none: `make ops ARGS=\"connect "
                    "--apply\"`"),
    ("off-air", "✗ off the air: +33939123456 and 1 more off the air (level 2 fired, or taken "
                "off by hand): texts reach nobody; `make ops ARGS=\"connect --apply\"` puts "
                "them back"),
    ("kill", "✗ kill switch: on: nothing would be sent"),
    ("alarm", "✗ alarm email: v…@example.org has not confirmed"),
])
def test_each_broken_thing_gives_its_line(world, what, expected):
    setup = _break(world, what)

    found = failed(setup)

    assert len(found) == 1, found
    assert found[0].startswith(expected), found[0]



GLOSSARY = json.loads((ROOT / "docs" / "glossary.json").read_text(encoding="utf-8"))
AVOID_FR = [w for t in GLOSSARY["terms"] for w in t["avoid_fr"]]


def assert_plain_french(line: str) -> None:
    """Typography (no break before : ; ! ?) and the glossary's words."""
    assert not re.search(r"[ \u00a0][:;!?]", line), line
    for word in AVOID_FR:
        assert not re.search(rf"\b{re.escape(word)}\b", line, re.IGNORECASE), (word, line)


def test_a_healthy_deployment_reads_in_french(world):
    rendered = preflight.render(preflight.run(world.setup), "fr")

    assert "✓ numéros dirigés vers cette pile\u202f: 2 numéro(s)\u202f: messages et appels " \
           "arrivent sur cette pile" in rendered
    assert "✓ alertes de dépense\u202f: 5 alerte(s) de dépense quotidienne(s) en place\u202f: " \
           "au-delà des budgets, le coupe-circuit, puis les numéros débranchés" in rendered
    assert "– secret TwilioSharedKeyParameter\u202f: /decoy/twilio/shared-key absent\u202f: " \
           "cette option n'est pas utilisée" in rendered
    assert rendered[-1] == f"les {len(rendered) - 2} vérifications sont bonnes, 1 non faite(s)"
    for line in rendered:
        assert_plain_french(line)


@pytest.mark.parametrize("what", sorted({
    "python", "cli", "region", "credentials", "scheduler", "secret", "plain-secret",
    "concurrency", "campaigns", "placeholder", "trial", "token", "not-owned", "no-voice",
    "service", "geo", "webhook", "retired", "trigger", "fired", "no-bin", "no-fallback",
    "off-air", "kill", "alarm"}))
def test_each_broken_thing_says_what_to_do_in_french(world, what):
    checks = preflight.run(_break(world, what))

    for check in checks:  # every line has its French, the skipped ones too
        assert check.status == preflight.OK or check.fr, check
    for line in preflight.render(checks, "fr"):
        assert_plain_french(line)


def test_a_broken_setup_in_french_keeps_commands_and_console_paths(world):
    rendered = preflight.render(preflight.run(_break(world, "webhook")), "fr")
    assert ("✗ numéros dirigés vers cette pile\u202f: +33939123456 pas encore\u202f: "
            "`make ops ARGS=\"connect --apply\"`") in rendered
    assert rendered[-1].startswith("1 à corriger, ")

    geo = preflight.render(preflight.run(_break(world, "geo")), "fr")
    assert ("✗ autorisations géographiques SMS\u202f: SMS non autorisés vers BE\u202f: les "
            "réponses y échouent (21408)\u202f; autorisez-les dans Console > Messaging > "
            "Settings > Geo permissions") in geo

    offline = preflight.render(preflight.run(_break(world, "credentials")), "fr")
    assert "– compte Twilio\u202f: il faut les secrets Twilio" in offline
    assert "✗ identifiants AWS\u202f: aucun qui fonctionne (NoCredentialsError)\u202f: " \
           "`aws configure` ou `aws sso login`, puis relancez" in offline

def test_without_aws_credentials_the_aws_checks_are_skipped_not_guessed(world):
    checks = lines(_break(world, "credentials"))

    assert checks["EventBridge Scheduler"].status == preflight.SKIPPED
    assert checks["secret TwilioAuthTokenParameter"].message == "needs AWS credentials"
    assert checks["Twilio account"].line == "– Twilio account: needs the Twilio secrets"
    assert checks["number fr/main"].message == "needs working Twilio credentials"


def test_geo_permissions_the_api_cannot_tell_are_skipped(world):
    world.twilio.geo_permissions = None  # the fake answers 404, as an account without the API

    check = lines(world.setup)["SMS geo permissions"]

    assert check.status == preflight.SKIPPED
    assert "Geo permissions allows BE, FR" in check.message


def test_a_service_that_defers_to_the_number_is_fine(world):
    world.twilio.add_service(list(NUMBERS), use_inbound_webhook_on_number=True)

    assert lines(world.setup)["Messaging Services"].status == preflight.OK


def test_a_new_account_without_reservation_passes_and_says_so(world):
    world.clients["lambda"] = FakeLambda(total=10, unreserved=10)

    check = lines(world.setup)["Lambda concurrency"]

    assert check.status == preflight.OK
    assert check.message.startswith("10 allowed (a new account's quota) and nothing reserved")


def test_samconfig_parameter_overrides_read_as_sam_reads_them(tmp_path):
    listed = tmp_path / "listed.toml"
    listed.write_text('[default.deploy.parameters]\nparameter_overrides = ["A=1", '
                      '\'PublicWebhookBaseUrl=""\']\n', encoding="utf-8")
    one_string = tmp_path / "string.toml"
    one_string.write_text('[default.deploy.parameters]\nparameter_overrides = '
                          '"A=1 AlarmEmail=\\"me@example.org\\""\n', encoding="utf-8")

    assert preflight.samconfig_parameters(listed) == {"A": "1", "PublicWebhookBaseUrl": ""}
    assert preflight.samconfig_parameters(one_string) == {"A": "1", "AlarmEmail": "me@example.org"}
    assert preflight.deploy_parameters()["TwilioAuthTokenParameter"] == "/decoy/twilio/auth-token"
