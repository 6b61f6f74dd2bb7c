"""AWS faults at botocore's HTTP boundary: moto answers unless a fault is planned for a call.

Faults replace one HTTP attempt, so botocore's own retries (standard mode) stay real: a
throttle planned once is retried and succeeds, one planned for every attempt surfaces.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError
from moto.core.botocore_stubber import MockRawResponse
from moto.core.models import botocore_stubber

Fault = Callable[[Any, str, dict[str, Any]], Any]


def error(status: int, code: str, message: str = "injected", **extra: Any) -> Fault:
    """AWS answers an error (JSON and REST-JSON protocols both read this shape)."""
    body = json.dumps({"__type": code, "message": message, "Message": message, **extra})

    def answer(request: Any, _event_name: str, _kwargs: dict[str, Any]) -> AWSResponse:
        headers = {"x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, status, headers, MockRawResponse(body))

    return answer


def timeout(*, applied: bool = False) -> Fault:
    """No answer in time: never reached AWS, or (applied=True) AWS did it and the answer is lost."""

    def answer(request: Any, event_name: str, kwargs: dict[str, Any]) -> AWSResponse:
        if applied:
            botocore_stubber(event_name=event_name, request=request, **kwargs)
            raise ReadTimeoutError(endpoint_url=request.url)
        raise ConnectTimeoutError(endpoint_url=request.url)

    return answer


THROTTLED = {
    "dynamodb": error(400, "ProvisionedThroughputExceededException"),
    "scheduler": error(429, "ThrottlingException"),
    "ssm": error(400, "ThrottlingException"),
}


@dataclass
class AwsFaults:
    """Plan faults per `service:Operation`; count every HTTP attempt botocore makes."""

    plans: dict[str, list[Fault]] = field(default_factory=dict)
    attempts: Counter[str] = field(default_factory=Counter)

    def attach(self, *clients: Any) -> AwsFaults:
        for client in clients:
            client.meta.events.unregister("before-send", botocore_stubber)
            client.meta.events.register("before-send", self._send)
        return self

    def fail(self, call: str, fault: Fault, times: int = 1) -> None:
        self.plans.setdefault(call, []).extend([fault] * times)

    def _send(self, request: Any, event_name: str, **kwargs: Any) -> Any:
        _, service, operation = event_name.split(".")
        call = f"{service}:{operation}"
        self.attempts[call] += 1
        planned = self.plans.get(call)
        if planned:
            return planned.pop(0)(request, event_name, kwargs)
        return botocore_stubber(event_name=event_name, request=request, **kwargs)
