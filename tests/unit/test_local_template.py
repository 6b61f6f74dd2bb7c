"""The local stack reads routes, throttling and parameter overrides from template.yaml itself."""

from __future__ import annotations

import pytest

from decoy import webhook
from decoy_local.template import (
    http_api_routes,
    http_api_throttling,
    load_template,
    parameter_defaults,
    with_parameters,
)


def test_the_template_routes_are_the_receivers_routes():
    routes = http_api_routes(load_template())

    assert routes == {f"POST {route}": "ReceiverFunction" for route in webhook.ROUTES}


def test_stage_throttling_comes_from_the_template_parameters():
    template = with_parameters(load_template(), {"ApiThrottleRateLimit": "5"})

    assert http_api_throttling(template) == (5.0, 50)


def test_an_override_changes_the_default_and_leaves_the_template_untouched():
    template = load_template()

    overridden = with_parameters(template, {"DailyReplyBudget": "20"})

    assert parameter_defaults(overridden)["DailyReplyBudget"] == "20"
    assert parameter_defaults(template)["DailyReplyBudget"] == "500"


@pytest.mark.parametrize(("name", "value", "reason"), [
    ("DailyBudget", "1", "unknown template Parameter"),
    ("DailyReplyBudget", "-1", "below MinValue"),
    ("DailyReplyBudget", "many", "not a number"),
    ("LogRetentionDays", "4", "not one of"),
    ("AllowedCountryCodes", "33;32", "does not match"),
])
def test_a_bad_override_is_refused_as_cloudformation_would(name, value, reason):
    with pytest.raises(ValueError, match=reason):
        with_parameters(load_template(), {name: value})
