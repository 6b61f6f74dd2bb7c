"""docs/deploy.md's "First real test": a call then a text from one phone, and what
`decoy_ops stats` then shows, as the guide quotes it."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import schedules
from twilio_fakes import api_event, call_form, sms_form

from decoy_ops.cli import main
from receiver.app import lambda_handler as receive

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
PHONE = "+33612345678"
DECOY = "+33939000001"


def quoted_stats_line() -> str:
    (line,) = re.findall(r"`(reply budget  [^`]+)`", GUIDE.read_text(encoding="utf-8"))
    return line


def test_a_call_and_a_text_from_one_phone_show_the_stats_the_guide_quotes(
        aws, lambda_context, capsys, test_clock):
    assert receive(api_event("/voice", call_form(PHONE, DECOY)), lambda_context)[
        "statusCode"] == 200
    assert receive(api_event("/sms", sms_form(PHONE, DECOY)), lambda_context)[
        "statusCode"] == 200
    assert len(schedules(aws)) == 1

    status = main(["stats", "--table", aws.stack.table_name, "--daily-budget",
                   aws.env["DAILY_REPLY_BUDGET"], "--kill-switch-parameter",
                   aws.env["KILL_SWITCH_PARAMETER"], "--no-metrics"], now=test_clock.now)
    out = capsys.readouterr().out

    assert status == 0
    assert quoted_stats_line() in out
    assert "kill switch   off" in out
