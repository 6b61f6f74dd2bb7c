"""In Lambda, settings are checked during INIT: a bad value fails there, naming its variable."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT


def import_app(function: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Import the handler module as Lambda does (Handler: <function>.app.lambda_handler)."""
    return subprocess.run([sys.executable, "-c", f"import {function}.app"], cwd=ROOT / "functions",
                          env=env, capture_output=True, text=True, timeout=60, check=False)


def lambda_env(aws, **overrides: str) -> dict[str, str]:
    return {**aws.env, "AWS_LAMBDA_FUNCTION_NAME": "decoy-test", "AWS_DEFAULT_REGION": "eu-west-3",
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "PATH": "", **overrides}


@pytest.mark.parametrize("function", ["receiver", "sender"])
def test_a_good_configuration_initialises_cleanly(aws, function):
    assert import_app(function, lambda_env(aws)).returncode == 0


@pytest.mark.parametrize(("function", "variable", "value"), [
    ("receiver", "MAX_MESSAGES_PER_SENDER", "five"),
    ("receiver", "SCHEDULE_GROUP_NAME", ""),
    ("sender", "ALLOWED_COUNTRY_CODES", "33,abc"),
    ("sender", "DAILY_REPLY_BUDGET", "-1"),
])
def test_a_bad_setting_fails_init_naming_the_variable(aws, function, variable, value):
    result = import_app(function, lambda_env(aws, **{variable: value}))
    assert result.returncode != 0
    assert "ConfigError" in result.stderr
    assert variable in result.stderr.splitlines()[-1]


def test_a_bad_campaigns_file_fails_init_naming_the_campaign_and_field(aws, tmp_path):
    bad = tmp_path / "campaigns.json"
    bad.write_text('{"version": 1, "campaigns": [{"id": "fr", "number": "0612"}]}')
    result = import_app("receiver", lambda_env(aws, CAMPAIGNS_FILE=str(bad)))
    assert result.returncode != 0
    assert "campaign 'fr'" in result.stderr.splitlines()[-1]
