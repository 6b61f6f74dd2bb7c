"""`python -m decoy_ops` as a deployer runs it, against a local moto server (AWS_ENDPOINT_URL)."""

from __future__ import annotations

import os
import subprocess
import sys

import boto3
import pytest
from conftest import REGION, ROOT
from twilio_fakes import ACCOUNT_SID, AUTH_TOKEN, HASH_KEY

from decoy_local.template import provision


@pytest.fixture(scope="module")
def local_stack():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        clients = {name: boto3.client(name, region_name=REGION, endpoint_url=endpoint,
                                      aws_access_key_id="testing",
                                      aws_secret_access_key="testing")
                   for name in ("dynamodb", "scheduler", "sqs", "ssm")}
        stack = provision(clients, {"TwilioAccountSidParameter": ACCOUNT_SID,
                                    "TwilioAuthTokenParameter": AUTH_TOKEN,
                                    "SenderHashKeyParameter": HASH_KEY})
        yield endpoint, stack
    finally:
        server.stop()


def run_ops(endpoint: str, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}
    return subprocess.run([sys.executable, "-m", "decoy_ops", *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_kill_switch_and_stats_work_against_the_local_stack(local_stack):
    endpoint, stack = local_stack
    switch = ["--kill-switch-parameter", stack.parameters["KillSwitchParameter"]]

    turned = run_ops(endpoint, "kill-switch", "on", *switch)
    shown = run_ops(endpoint, "stats", "--table", stack.table_name, "--daily-budget", "500",
                    "--no-metrics", *switch)

    assert turned.returncode == 0, turned.stderr
    assert "ON" in turned.stdout
    assert shown.returncode == 0, shown.stderr
    assert "kill switch   ON: nothing is planned or sent" in shown.stdout
    assert "0 used of 500, 500 left" in shown.stdout
