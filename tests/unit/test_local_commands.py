"""Local commands given a bad argument say so in one line and exit non-zero, without a traceback."""

from __future__ import annotations

import io
import socket
from collections import Counter

import pytest

from decoy_local import simulator, stack
from decoy_local.gateway import Gateway
from decoy_local.webhooks import Answer
from decoy_ops import cli, local
from decoy_ops.stats import TOTAL, counts_from_local

STATE = dict(api_url="http://127.0.0.1:9", twilio_url="http://127.0.0.1:9",
             aws_url="http://127.0.0.1:9", region="eu-west-3", account_sid="AC0",
             auth_token="t", time_scale=360.0, reply_delay_seconds=3600,
             campaigns=[{"id": "fr", "number": "+33939000001",
                         "allowed_country_codes": ["33", "32"]}],
             parameters={"MaxMessagesPerSender": "5", "DailyReplyBudget": "20"}, outputs={})


def one_error_line(capsys) -> str:
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert "Traceback" not in "\n".join(lines)
    return lines[-1]


@pytest.mark.parametrize(("argv", "says"), [
    (["--port", "99999"], "argument --port: 99999 is not a port: 0-65535 (0 = any free port)"),
    (["--twilio-port", "-1"], "argument --twilio-port: -1 is not a port"),
    (["--port", "web"], "argument --port: 'web' is not a port number"),
])
def test_a_port_out_of_range_is_one_line_and_exit_2(argv, says, capsys):
    with pytest.raises(SystemExit) as stopped:
        stack.parse_args(argv)

    assert stopped.value.code == 2
    assert says in one_error_line(capsys)


def test_a_port_in_use_names_the_port_and_its_flag():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(stack.PortInUse) as refused, stack._binding("--port", port):
            Gateway({}, port=port)

    assert str(refused.value) == (
        f"port {port} (--port) is already in use, maybe by another `make run`: stop it, or "
        "pass --port with another port (0 picks a free one)")


@pytest.mark.parametrize("argv", [["flood", "-1"], ["flood", "0"], ["sms", "+33612345678",
                                  "--count", "0"], ["fail", "500", "--times", "-2"]])
def test_counts_below_their_minimum_are_refused(argv, capsys):
    with pytest.raises(SystemExit) as stopped:
        simulator.main(argv)

    assert stopped.value.code == 2
    assert "must be" in one_error_line(capsys)


def test_outbox_into_a_closed_pipe_exits_quietly(monkeypatch, capsys):
    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(simulator.LocalStack, "load", classmethod(
        lambda cls, path: cls(**STATE)))
    monkeypatch.setattr(simulator, "outbox", lambda _: [
        {"date_created": "now", "campaign": "fr", "to": "+33612345678", "status": "sent",
         "body": "x"}] * 100)

    assert simulator.main(["outbox"], out=ClosedPipe()) == 141
    assert capsys.readouterr().err == ""


def test_national_format_gets_the_e164_hint():
    assert simulator.national_hint("0612345678", "33") == "+33612345678"
    assert simulator.national_hint("06 12 34 56 78", "33") == "+33612345678"
    assert simulator.national_hint("0033612345678", "33") == "+33612345678"
    assert simulator.national_hint("+33612345678", "33") is None

    empty = Answer(200, "text/xml", "<Response/>")
    line = simulator.outcome_line(simulator.LocalStack(**STATE), empty,
                                  Counter(Received=1, BlockedCountry=1), "0612345678",
                                  STATE["campaigns"][0])
    assert line == ("HTTP 200 BlockedCountry: this sender may not get a reply: not an E.164 "
                    "number (short code, alphanumeric ID or malformed); Twilio sends From in "
                    "E.164: +33 then the number without its leading 0 (sms +336…)")
    assert "0612345678" not in line  # a number in clear never reaches the console


def test_each_outcome_is_explained():
    run = simulator.LocalStack(**STATE)
    ok = Answer(200, "text/xml", "<Response/>")

    def said(**counted: int) -> str:
        return simulator.outcome_line(run, ok, Counter(counted), "+33612345678",
                                      STATE["campaigns"][0])

    assert said(Received=1, BudgetUsed=1, Scheduled=1) == (
        "HTTP 200 Scheduled: one reply scheduled, due in 3600 s (10 s at time scale 360)")
    assert said(BlockedQuota=1) == (
        "HTTP 200 BlockedQuota: over MaxMessagesPerSender=5: ignored, no reply")
    assert said(BlockedBudget=1).endswith("DailyReplyBudget=20 spent today: nothing scheduled")
    assert said(KillSwitch=1).endswith("the kill switch is on: nothing scheduled")
    throttled = Answer(429, "application/json", '{"message":"Too Many Requests"}')
    assert simulator.outcome_line(run, throttled, Counter(), "+33612345678",
                                  STATE["campaigns"][0]).startswith("HTTP 429")


def test_connect_local_before_the_number_still_reads_the_number():
    args = cli.build_parser().parse_args(["connect", "--local", "+33939000001"])
    cli._number_after_local(args)

    assert args.numbers == ["+33939000001"]
    assert args.local == local.STATE_FILE


def test_a_state_file_named_after_local_stays_a_state_file(tmp_path):
    state = tmp_path / "stack.json"
    state.write_text("{}")
    args = cli.build_parser().parse_args(["connect", "+33939000001", "--local", str(state)])
    cli._number_after_local(args)

    assert (args.numbers, args.local) == (["+33939000001"], state)


def test_local_counts_fill_the_same_table_as_cloudwatch():
    counts = counts_from_local({"metrics": {"Received": 3.0, "Scheduled": 1.0},
                                "campaigns": {"fr": {"Received": 3.0, "Scheduled": 1.0}}},
                               ["fr", "en"])

    assert counts[TOTAL]["Received"] == 3 and counts["fr"]["Scheduled"] == 1
    assert counts["en"]["Received"] == 0
    assert set(counts[TOTAL]) == set(counts["en"])


POOL_STATE = {**STATE, "campaigns": [
    *STATE["campaigns"],
    {"id": "fr-be", "number": "+3228000005", "allowed_country_codes": ["32"],
     "numbers": [{"number": "+3228000005", "label": "bar", "status": "active"},
                 {"number": "+3228000006", "label": "campus", "status": "active"},
                 {"number": "+3228000007", "label": "old", "status": "retired"}]}]}


@pytest.mark.parametrize(("to", "number"), [
    (None, "+33939000001"), ("fr", "+33939000001"), ("fr-be", "+3228000005"),
    ("fr-be/campus", "+3228000006"), ("campus", "+3228000006"), ("+3228000007", "+3228000007"),
    ("main", "+33939000001"),  # a stack state from before pools: its one number is 'main'
])
def test_the_simulator_texts_any_number_of_a_pool_by_number_or_label(to, number):
    local_stack = simulator.LocalStack(**{k: POOL_STATE[k] for k in
                                          simulator.LocalStack.__dataclass_fields__
                                          if k in POOL_STATE})
    assert local_stack.decoy_number(to) == number


def test_the_simulator_names_an_unknown_number_or_label():
    local_stack = simulator.LocalStack(**{k: POOL_STATE[k] for k in
                                          simulator.LocalStack.__dataclass_fields__
                                          if k in POOL_STATE})
    with pytest.raises(ValueError, match="no campaign, number or label 'bar-2'"):
        local_stack.campaign("bar-2")
