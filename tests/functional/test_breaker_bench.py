"""make bench-flood's breaker days (bench/breakers.py), small: a flood above the stage throttle
ends off the air and its day's bill stays under the cost model's bound (issue 22)."""

from __future__ import annotations

import responses
from conftest import LambdaContext
from twilio_fakes import FakeTwilioApi

from bench import breakers
from receiver.app import lambda_handler as receive
from sender.app import lambda_handler as send

DAY = 1_796_083_200.0  # 2026-12-01T00:00:00Z


def test_a_flood_above_the_throttle_goes_off_the_air_and_keeps_the_bound(aws, at):
    flood = breakers.Flood("above the throttle", 56, 7, start_hour=20)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        (day,) = breakers.run_all(DAY, fake=FakeTwilioApi(mock), aws=aws, receive=receive,
                                  send=send, context=LambdaContext(), floods=(flood,))

    assert day.off_air_at.startswith("21:")  # level 2 + the assumed 60 min lag + the queue
    assert day.usage["sms-unbilled"] > day.usage["sms-inbound"] > 0  # off the air: unbilled
    assert day.fallback_rejected > 0  # throttled calls: the Bin, not Twilio's error message
    assert day.usage["calls-inbound"] <= 200
    assert day.kept, (day.euros, day.bound)
