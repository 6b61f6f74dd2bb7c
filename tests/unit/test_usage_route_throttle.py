"""POST /usage (Usage Trigger callbacks: Twilio does not retry them) has its own route throttle.

Checked on the template as CloudFormation receives it (SAM's translator), and on `make run`'s
gateway, which reads the same template: a flood that empties the stage's bucket on /sms still
lets a callback through. API Gateway: a route's settings override the stage's default route
settings for that route ("Throttling requests to your HTTP API", route-level throttling).
"""

from __future__ import annotations

import urllib.error
import urllib.request

from sam_template import transformed

from decoy_local.gateway import Gateway, TokenBucket
from decoy_local.template import (
    http_api_route_throttling,
    http_api_routes,
    http_api_throttling,
    load_template,
    with_parameters,
)


def stage() -> dict:
    (found,) = [r["Properties"] for r in transformed()["Resources"].values()
                if r["Type"] == "AWS::ApiGatewayV2::Stage"]
    return found


def test_the_deployed_stage_throttles_post_usage_apart_from_its_default():
    settings = stage()

    assert settings["RouteSettings"] == {"POST /usage": {
        "ThrottlingRateLimit": {"Ref": "UsageRouteThrottleRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "UsageRouteThrottleBurstLimit"}}}
    assert settings["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": {"Ref": "ApiThrottleRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurstLimit"}}


def test_the_route_key_is_the_routes_own():
    # A RouteSettings key naming no route would throttle nothing (and fail the deploy).
    assert set(stage()["RouteSettings"]) <= set(http_api_routes(load_template()))


def test_make_run_reads_the_route_throttle_from_the_template():
    template = with_parameters(load_template(), {"UsageRouteThrottleBurstLimit": "3"})

    assert http_api_route_throttling(template) == {"POST /usage": (1.0, 3)}


def post(url: str) -> int:
    request = urllib.request.Request(url, data=b"x=1", method="POST")  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_flood_over_the_stage_throttle_does_not_starve_the_usage_callback():
    template = load_template()
    frozen = lambda: 0.0  # noqa: E731 (no refill: only the bursts count)
    answer = lambda _event: {"statusCode": 200, "body": "<Response/>"}  # noqa: E731
    gateway = Gateway({route: answer for route in http_api_routes(template)},
                      throttle=TokenBucket(*http_api_throttling(template), clock=frozen),
                      route_throttles={route: TokenBucket(*limits, clock=frozen) for route, limits
                                       in http_api_route_throttling(template).items()}).start()
    try:
        flood = [post(f"{gateway.url}/sms") for _ in range(60)]
        usage = post(f"{gateway.url}/usage?level=2")
    finally:
        gateway.stop()

    assert flood.count(200) == 50 and flood.count(429) == 10  # the stage's burst, then 429
    assert usage == 200
