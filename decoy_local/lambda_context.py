"""The Lambda context the real handlers get outside Lambda (local stack, tests, benches)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class LambdaContext:
    """What a handler (and powertools) may read from its context."""

    function_name: str = "decoy-test"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:eu-west-3:123456789012:function:decoy-test"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000
