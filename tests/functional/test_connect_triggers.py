"""`decoy_ops connect`'s Usage Triggers: each stack owns its own, thresholds go as they are
(issue 23.5f, 23.5g), through the real twilio client and the one fake Twilio.

Twilio's Usage Trigger resource (REST API docs, "Usage Trigger"): create takes CallbackUrl,
TriggerValue (a string: "the usage value at which the trigger should fire"), UsageCategory,
Recurring, TriggerBy, FriendlyName; update changes only CallbackUrl, CallbackMethod and
FriendlyName; `date_fired` is "the date and time in GMT that the trigger was last fired";
a recurring trigger fires at most once per period.
"""

from __future__ import annotations

import pytest
import responses
from twilio.rest import Client

from decoy_local.fake_twilio import TwilioCore, attach_responses
from decoy_ops import connect

SID, TOKEN = "AC" + "2" * 32, "fake-token"
FIRST = "https://aaa111.execute-api.eu-west-3.amazonaws.com/usage"
SECOND = "https://bbb222.execute-api.eu-west-3.amazonaws.com/usage"


@pytest.fixture
def fake():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield attach_responses(TwilioCore(SID, TOKEN), mock, "https://api.twilio.com")


def client() -> Client:
    c = Client(SID, TOKEN)
    c.api.base_url = "https://api.twilio.com"
    return c


def connect_triggers(stack: str, url: str, sms: int = 2500, minutes: int = 250,
                     price: float = 122.0) -> list[connect.TriggerPlan]:
    """What `connect --apply` does for the triggers; returns the plans it applied."""
    c = client()
    wanted = connect.wanted_triggers(sms, minutes, price, stack=stack)
    plans = connect.plan_triggers(c.usage.triggers.list(), wanted, url)
    for plan in plans:
        if plan.action != "keep":
            connect.apply_trigger(c, plan, url)
    return plans


def test_a_second_stack_on_the_same_account_leaves_the_first_ones_triggers_alone(fake):
    connect_triggers("decoy-paris", FIRST)
    first = {t["sid"]: dict(t) for t in fake.triggers()}

    plans = connect_triggers("decoy-lille", SECOND)

    assert [p.action for p in plans] == ["create"] * 3
    still = {t["sid"]: t for t in fake.triggers() if t["sid"] in first}
    assert still == first  # same sids, same callback: the first stack keeps its breaker
    assert sorted(t["callback_url"] for t in fake.triggers()) == [FIRST] * 3 + [SECOND] * 3
    assert all("decoy-lille" in t["friendly_name"] for t in fake.triggers()
               if t["callback_url"] == SECOND)


def test_each_stack_finds_its_own_triggers_again(fake):
    connect_triggers("decoy-paris", FIRST)
    connect_triggers("decoy-lille", SECOND)

    assert [p.action for p in connect_triggers("decoy-paris", FIRST)] == ["keep"] * 3
    assert [p.action for p in connect_triggers("decoy-lille", SECOND)] == ["keep"] * 3


def test_a_trigger_installed_before_stacks_had_names_is_adopted_by_its_callback(fake):
    """Triggers named 'decoy-number daily sms' (before issue 23) calling this stack."""
    c = client()
    legacy = ("daily sms", "daily call minutes", "daily total price")
    for what, trigger in zip(legacy, connect.wanted_triggers(2500, 250, 122), strict=True):
        fake.add_trigger(friendly_name=connect.TRIGGER_PREFIX + what,
                         callback_url=FIRST, usage_category=trigger.usage_category,
                         trigger_by=trigger.trigger_by, trigger_value=f"{trigger.value:g}")
    other = fake.add_trigger(friendly_name=connect.TRIGGER_PREFIX + "daily sms",
                             callback_url=SECOND, usage_category="sms", trigger_by="count",
                             trigger_value="2500")

    plans = connect_triggers("decoy-paris", FIRST)

    assert [p.action for p in plans] == ["update"] * 3  # renamed, not re-created
    assert fake.trigger(other)["callback_url"] == SECOND
    assert len(c.usage.triggers.list()) == 4


@pytest.mark.parametrize(("sms", "price", "sent_sms", "sent_price"), [
    (1_234_567, 122.0, "1234567", "122"),
    (2500, 1234.5678, "2500", "1234.5678"),
    (12_345_678, 0.25, "12345678", "0.25"),
])
def test_thresholds_are_sent_exactly_and_kept_on_the_next_run(sms, price, sent_sms, sent_price,
                                                               fake):
    connect_triggers("decoy-paris", FIRST, sms=sms, price=price)
    values = {t["usage_category"]: t["trigger_value"] for t in fake.triggers()}

    again = connect_triggers("decoy-paris", FIRST, sms=sms, price=price)

    assert (values["sms"], values["totalprice"]) == (sent_sms, sent_price)
    assert [p.action for p in again] == ["keep"] * 3


def test_only_what_changed_is_recreated(fake):
    connect_triggers("decoy-paris", FIRST)
    before = {t["usage_category"]: t["sid"] for t in fake.triggers()}

    plans = connect_triggers("decoy-paris", FIRST, minutes=300)

    assert [p.action for p in plans] == ["keep", "replace", "keep"]
    after = {t["usage_category"]: t["sid"] for t in fake.triggers()}
    assert after["sms"] == before["sms"] and after["totalprice"] == before["totalprice"]
    assert after["calls-inbound"] != before["calls-inbound"]


def test_a_trigger_that_already_fired_is_recreated_to_rearm_it(fake):
    """A fired trigger stays silent for the rest of its period: after the operator has dealt
    with it, connect re-arms it (if usage is still over the threshold, it fires again)."""
    connect_triggers("decoy-paris", FIRST)
    sms = next(t for t in fake.triggers() if t["usage_category"] == "sms")
    fake.trigger(sms["sid"])["date_fired"] = "Mon, 23 Nov 2026 10:00:00 +0000"

    plans = connect_triggers("decoy-paris", FIRST)

    assert [p.action for p in plans] == ["replace", "keep", "keep"]
    assert "fired" in connect.describe_trigger(plans[0], FIRST)
    assert all(not t.get("date_fired") for t in fake.triggers())


@pytest.mark.parametrize(("value", "text"), [
    (1234567.0, "1234567"), (122.0, "122"), (0.1, "0.1"), (1234.5678, "1234.5678"),
    (1e-05, "0.00001"), (123456789012.0, "123456789012")])
def test_threshold_text_is_exact(value, text):
    assert connect.threshold_text(value) == text
