"""SSM Parameter Store values, kept for a caller-given age on decoy.clock (the tests' clock).

It replaced powertools' SSMProvider (issue 21): that provider added about 9 ms of imports to
every cold start (bench/results/cold_import.txt), timed its cache on the wall clock, served any
unexpired value whatever max_age said, let throttling through as ClientError and answered an
SSM InternalServerError with no value. Here every failure is one ParameterError.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from decoy import clock

# GetParameters takes at most 10 names a call (botocore's ssm model: Names, max 10).
_NAMES_PER_CALL = 10


class ParameterError(Exception):
    """SSM gave no value: the parameter is absent, or SSM failed (throttled, down, denied)."""


class ParameterStore:
    """One container's SSM reads: the client, and each value with the time it was read."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._cache: dict[str, tuple[str, float]] = {}  # name -> (value, read at)

    def clear_cache(self) -> None:
        """Forget every value: the next read of each goes to SSM."""
        self._cache.clear()

    def _cached(self, name: str, max_age: float, now: float) -> str | None:
        hit = self._cache.get(name)
        return hit[0] if hit is not None and now - hit[1] < max_age else None

    def get(self, name: str, *, max_age: float, decrypt: bool = False) -> str:
        """The value of `name`, read from SSM unless read less than max_age seconds ago
        (max_age=0 always reads); ParameterError when absent or unreadable."""
        now = clock.now()
        value = self._cached(name, max_age, now)
        if value is None:
            try:
                answer = self.client.get_parameter(Name=name, WithDecryption=decrypt)
                value = str(answer["Parameter"]["Value"])
            except (ClientError, BotoCoreError, KeyError, TypeError) as exc:
                raise ParameterError(f"{name} unreadable: {type(exc).__name__}") from None
            self._cache[name] = (value, now)
        return value

    def get_many(self, names: Iterable[str], *, max_age: float,
                 decrypt: bool = True) -> dict[str, str]:
        """The values of those names that exist (an absent name is left out, not cached);
        one GetParameters call per 10 names not read in the last max_age seconds.
        ParameterError when SSM fails."""
        now = clock.now()
        values: dict[str, str] = {}
        to_read: list[str] = []
        for name in dict.fromkeys(names):
            value = self._cached(name, max_age, now)
            if value is None:
                to_read.append(name)
            else:
                values[name] = value
        for start in range(0, len(to_read), _NAMES_PER_CALL):
            batch = to_read[start:start + _NAMES_PER_CALL]
            try:
                found = self.client.get_parameters(Names=batch, WithDecryption=decrypt)
                read = {str(p["Name"]): str(p["Value"]) for p in found["Parameters"]}
            except (ClientError, BotoCoreError, KeyError, TypeError) as exc:
                raise ParameterError(f"parameters unreadable: {type(exc).__name__}") from None
            for name in batch:
                if name in read:
                    values[name] = read[name]
                    self._cache[name] = (read[name], now)
        return values
