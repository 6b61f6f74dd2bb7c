"""`make run` as a newcomer runs it: a subprocess on free ports, real HTTP, signed webhooks."""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import sys
import time
from collections import Counter

import local_stack_process
import pytest
from local_stack_process import Running

from decoy.outcomes import LABELS, Metric, Outcome, is_metric
from decoy_local import ROOT, simulator
from decoy_local.fake_twilio import DEMO_SMS_URL
from decoy_local.simulator import (
    fail_next,
    metric_changes,
    outbox,
    send_call,
    send_sms,
    skip,
    spoken_text,
    stats,
    twilio_numbers,
    twilio_usage_triggers,
    wait_for,
)

BUDGET = 12
DELAY = 3600


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    run = local_stack_process.start(tmp_path_factory.mktemp("local"), BUDGET)
    yield run
    run.stop()


def ops(running: Running, *argv: str) -> subprocess.CompletedProcess:
    """`python -m decoy_ops ... --local STATE_FILE`, as an operator runs it."""
    return subprocess.run([sys.executable, "-m", "decoy_ops", *argv, "--local",
                           str(running.state)], cwd=ROOT, capture_output=True, text=True,
                          timeout=30, check=False)


def replies_to(run: Running, number: str) -> list[dict]:
    return [m for m in outbox(run.stack) if m["to"] == number]


def test_one_reply_per_harasser_reaches_the_outbox_only_once_the_delay_has_passed(running):
    stack = running.stack
    decoy = stack.decoy_number()
    harasser, persistent, caller = running.numbers(3)

    assert send_sms(stack, harasser, decoy).status == 200
    answers = [send_sms(stack, persistent, decoy, f"message {i}") for i in range(10)]
    call = send_call(stack, caller, decoy)

    assert {a.status for a in answers} == {200}
    assert all(a.body.endswith("<Response/>") for a in answers)
    assert call.content_type == "text/xml"
    assert spoken_text(call.body).startswith("Bonjour, vous êtes bien sur ma messagerie")
    assert stats(stack)["pending_schedules"] == 3
    time.sleep(0.6)  # a scheduler tick or more, at time scale 1: nothing is due for an hour
    assert [m for m in outbox(stack) if m["to"] in (harasser, persistent, caller)] == []

    skip(stack, DELAY)

    assert wait_for(lambda: all(replies_to(running, n) for n in (harasser, persistent, caller)),
                    15)
    sent = Counter(m["to"] for m in outbox(stack))
    assert (sent[harasser], sent[persistent], sent[caller]) == (1, 1, 1)
    (reply,) = replies_to(running, persistent)
    assert reply["from"] == decoy
    assert reply["campaign"] == "fr"
    assert reply["body"].startswith("Bonjour ! Si vous lisez ce message")
    assert reply["num_segments"] == 2
    assert wait_for(lambda: stats(stack)["metrics"].get("StatusDelivered", 0) >= 3, 10)
    metrics = stats(stack)["metrics"]
    assert metrics["Counted"] == 4
    assert metrics["BlockedQuota"] == 5
    assert stats(stack)["pending_schedules"] == 0


def test_forged_signature_is_refused_and_schedules_nothing(running):
    stack = running.stack
    before = stats(stack)

    answer = send_sms(stack, running.numbers(1)[0], stack.decoy_number(), forged=True)

    assert answer.status == 403
    assert answer.body == "invalid X-Twilio-Signature"
    after = stats(stack)
    assert after["metrics"]["ForgedSignature"] == before["metrics"].get("ForgedSignature", 0) + 1
    assert after["pending_schedules"] == before["pending_schedules"]


def test_a_429_from_twilio_is_retried_and_the_reply_still_goes_out(running):
    stack = running.stack
    (harasser,) = running.numbers(1)
    fail_next(stack, 429)

    send_sms(stack, harasser, stack.decoy_number())
    skip(stack, DELAY)

    assert wait_for(lambda: replies_to(running, harasser), 15)
    assert stats(stack)["metrics"]["SendRetried"] >= 1


def test_a_send_failing_after_every_retry_goes_to_the_dead_letter_queue(running):
    stack = running.stack
    (harasser,) = running.numbers(1)
    dead_before = stats(stack)["dead_letters"]
    fail_next(stack, 500, times=3)  # the first attempt and Lambda's 2 asynchronous retries

    send_sms(stack, harasser, stack.decoy_number())
    skip(stack, DELAY)

    assert wait_for(lambda: stats(stack)["dead_letters"] == dead_before + 1, 15)
    assert replies_to(running, harasser) == []


def test_twilio_21610_opts_the_sender_out_of_any_later_reply(running):
    stack = running.stack
    (harasser,) = running.numbers(1)
    fail_next(stack, 21610)
    send_sms(stack, harasser, stack.decoy_number())
    skip(stack, DELAY)
    assert wait_for(lambda: stats(stack)["metrics"].get("SendFailed", 0) >= 1, 15)

    before = stats(stack)["metrics"].get("OptedOut", 0)
    send_sms(stack, harasser, stack.decoy_number(), "encore")

    assert stats(stack)["metrics"]["OptedOut"] == before + 1
    assert replies_to(running, harasser) == []


def simulate(running: Running, *argv: str) -> tuple[int, str]:
    """`python -m decoy_local.simulator --state STATE ...`, in this process."""
    out = io.StringIO()
    code = simulator.main(["--state", str(running.state), *argv], out=out)
    return code, out.getvalue()


def test_simulator_sms_and_call_say_the_outcome_of_each_request(running):
    harasser, caller = running.numbers(2)

    code, printed = simulate(running, "sms", harasser, "--count", "7", "--codes")
    outcomes = [re.search(r"HTTP 200 (\w+)", line)[1] for line in printed.splitlines()]
    assert code == 0
    assert outcomes == ["Scheduled"] + ["Counted"] * 4 + ["BlockedQuota"] * 2
    assert "due in 3600 s" in printed.splitlines()[0]

    code, printed = simulate(running, "call", caller, "--codes")
    assert code == 0
    assert "HTTP 200 Scheduled" in printed and "voicemail: «" in printed

    code, printed = simulate(running, "sms", harasser, "--forged", "--codes")
    assert "HTTP 403 ForgedSignature" in printed


def test_the_simulator_says_what_happened_in_plain_words_by_default(running):
    harasser, caller = running.numbers(2)

    _, texted = simulate(running, "sms", harasser, "--count", "6")
    _, called = simulate(running, "call", caller, "--lang", "fr")
    _, forged = simulate(running, "sms", harasser, "--forged")

    assert texted.splitlines()[0].endswith(Outcome.Scheduled.sentence("en"))
    assert texted.splitlines()[-1].endswith(Outcome.BlockedQuota.sentence("en"))
    assert Outcome.Scheduled.sentence("fr") in called
    assert "la messagerie vocale répond\u202f: «\u202fBonjour" in called
    assert Metric.ForgedSignature.sentence("en") in forged
    for shown in (texted, called, forged):  # no code, no protocol word, no HTTP status
        assert not [w for w in re.findall(r"\w+", shown) if is_metric(w) and w != "Sent"]
        assert not re.search(r"HTTP|E\.164|TwiML|webhook|Parameter", shown)


def test_a_national_format_number_is_blocked_and_the_simulator_says_why(running):
    code, printed = simulate(running, "sms", "0612345678", "--codes")

    assert code == 0
    assert "BlockedCountry" in printed and "not an E.164 number" in printed
    assert "+33 then the number without its leading 0" in printed
    _, plain = simulate(running, "sms", "0612345678")
    assert Outcome.BlockedCountry.sentence("en") in plain
    assert "type it in the international form: +336…" in plain


def test_the_demo_under_the_kill_switch_says_so_and_fails_nothing(running):
    stack = running.stack
    pending = running.numbers(1)[0]
    assert send_sms(stack, pending, stack.decoy_number()).status == 200  # scheduled, not due
    assert ops(running, "kill-switch", "on").returncode == 0
    try:
        out = io.StringIO()
        code = simulator.Demo(stack, out, codes=True).run(flood=2, max_wait=0)
        plain = io.StringIO()
        simulator.Demo(stack, plain, lang="fr").run(flood=1, max_wait=0)
        before = stats(stack)
        skip(stack, DELAY)  # the reply pending from before: the sender drops it
        assert wait_for(lambda: simulator.sender_changes(before, stats(stack)), 15)
        after = stats(stack)
    finally:
        assert ops(running, "kill-switch", "off").returncode == 0
    printed = out.getvalue()

    assert code == 0, printed
    assert "the kill switch is ON" in printed
    assert "[FAILED]" not in printed
    said = plain.getvalue()  # the same story in plain French words
    assert "le service est coupé (coupe-circuit)" in said and "[ÉCHEC]" not in said
    assert f"× {Outcome.KillSwitch.sentence('fr')}" in said
    assert "receiver: KillSwitch 14, ForgedSignature 1" in printed  # 1 + 10 + 1 + 2 refused
    # Counted where it happened: the sender's drop is not a receiver outcome.
    assert set(simulator.sender_changes(before, after)) == {"KillSwitch"}  # every pending one
    assert simulator.receiver_changes(before, after) == Counter()
    assert replies_to(running, pending) == []


def test_ops_stats_local_shows_the_counts_table_of_the_local_stack(running):
    shown = ops(running, "stats", "--lang", "en")

    received = int(stats(running.stack)["metrics"]["Received"])
    label = LABELS[Metric.Received][0]  # rows are plain labels; codes only in --json (#25)
    assert shown.returncode == 0, shown.stderr
    assert re.search(rf"^  {label} +{received}\b", shown.stdout, re.M), shown.stdout


def test_a_stale_state_file_gets_one_line_naming_it(running, tmp_path):
    state = json.loads(running.state.read_text())
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    state["api_url"] = f"http://127.0.0.1:{port}"  # pid still alive: the stack's own
    stale = tmp_path / "stack.json"
    stale.write_text(json.dumps(state))

    shown = subprocess.run([sys.executable, "-m", "decoy_ops", "stats", "--local", str(stale)],
                           cwd=ROOT, capture_output=True, text=True, timeout=30, check=False)

    assert shown.returncode == 1
    assert shown.stderr.strip().splitlines() == [
        f"error: {stale} is stale: nothing answers at http://127.0.0.1:{port} (the stack that "
        "wrote it has stopped): start it again with `make run`"]


def test_a_flood_of_distinct_senders_stops_at_the_daily_budget(running):
    stack = running.stack

    for number in running.numbers(BUDGET + 1):  # one more than the whole budget
        assert send_sms(stack, number, stack.decoy_number()).status == 200

    metrics = stats(stack)["metrics"]
    assert metrics["Scheduled"] == BUDGET
    assert metrics["BlockedBudget"] >= 1


def test_preflight_local_says_what_is_left_before_connect(running):
    checked = ops(running, "preflight")

    assert checked.returncode == 1, checked.stdout + checked.stderr
    failed = [line for line in checked.stdout.splitlines() if line.startswith("✗")]
    assert [line.split(":")[0] for line in failed] == ["✗ numbers point at this stack",
                                                      "✗ voice fallback",
                                                      "✗ usage triggers"]
    assert all('`make ops ARGS="connect --local --apply"`' in line for line in failed)
    assert "– python3.13: needed for a real deploy only" in checked.stdout  # skipped, not ✗
    assert "✓ secret TwilioAuthTokenParameter: /decoy/twilio/auth-token stored" in checked.stdout


def test_the_ops_command_connects_counts_and_kills_the_local_stack(running):
    stack = running.stack
    decoy = stack.decoy_number()
    sms_url, voice_url = f"{stack.api_url}/sms", f"{stack.api_url}/voice"

    planned = ops(running, "connect")
    assert planned.returncode == 0, planned.stderr
    assert f"sms_url: https://demo.twilio.com/welcome/sms/reply -> {sms_url}" in planned.stdout
    pool = {n["number"] for c in stack.campaigns for n in c["numbers"]}  # retired ones too
    assert f"dry run: {len(pool)} number(s) and 5 usage trigger(s) would change" \
        in planned.stdout
    assert {n["sms_url"] for n in twilio_numbers(stack)} == {DEMO_SMS_URL}

    applied = ops(running, "connect", "--apply")
    assert applied.returncode == 0, applied.stderr
    assert f"applied: {len(pool)} number(s)" in applied.stdout
    numbers = {n["phone_number"]: n for n in twilio_numbers(stack)}
    assert set(numbers) == pool
    assert {(n["sms_url"], n["sms_method"], n["voice_url"], n["voice_method"],
             n["voice_fallback_url"]) for n in numbers.values()} == {
        (sms_url, "POST", voice_url, "POST", stack.outputs["VoiceRejectUrl"])}
    assert sorted((t["usage_category"], t["recurring"], t["callback_url"])
                  for t in twilio_usage_triggers(stack)) == [
        ("calls-inbound", "daily", f"{stack.api_url}/usage"),
        ("sms", "daily", f"{stack.api_url}/usage"),
        ("sms", "daily", f"{stack.api_url}/usage?level=2"),  # level 2: off the air (#22)
        ("totalprice", "daily", f"{stack.api_url}/usage"),
        ("totalprice", "daily", f"{stack.api_url}/usage?level=2")]

    shown = ops(running, "stats")
    used = int(stats(stack)["metrics"].get("BudgetUsed", 0))
    assert shown.returncode == 0, shown.stderr
    assert "Decoy number, 2026-11-23 (UTC" in shown.stdout  # the stack's day, not the machine's
    assert f"{used} used of {BUDGET}, {BUDGET - used} left" in shown.stdout
    assert "kill switch   off" in shown.stdout

    turned = ops(running, "kill-switch", "on")
    try:
        assert turned.returncode == 0, turned.stderr
        before = stats(stack)
        assert send_sms(stack, running.numbers(1)[0], decoy).status == 200
        changes = metric_changes(before, stats(stack))
        assert (changes["KillSwitch"], changes["Scheduled"]) == (1, 0)
    finally:
        restored = ops(running, "kill-switch", "off")
    assert restored.returncode == 0, restored.stderr
    assert "off: replies are scheduled and sent normally" in restored.stdout


def test_preflight_local_passes_once_connected(running):
    checked = ops(running, "preflight")  # after the test above: connect --local --apply

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "✗" not in checked.stdout
    assert "✓ numbers point at this stack" in checked.stdout
    assert "✓ voice fallback: " in checked.stdout
    assert "✓ off the air: no number is off the air" in checked.stdout
    assert "✓ usage triggers: 5 daily trigger(s) in place" in checked.stdout
    assert checked.stdout.splitlines()[-1].startswith("all ")


def local_traffic(stack, path: str, payload: dict) -> dict:
    """What Twilio does on its side (the fake's /_local/call, /_local/text, /_local/fire)."""
    return simulator._json(f"{stack.twilio_url}{path}", payload)


def test_level_two_takes_the_numbers_off_the_air_and_connect_puts_them_back(running):
    """`make run` end to end: a level-2 Usage Trigger fires (the simulator, as Twilio would);
    the receiver queues the order, the sender empties every number's SMS URL and points its
    voice URL at the reject Bin the fake serves; a call is then rejected, unbilled; connect
    --apply restores the numbers and re-arms the fired triggers."""
    stack = running.stack
    decoy, caller = stack.decoy_number(), running.numbers(1)[0]
    bin_url = stack.outputs["VoiceRejectUrl"]
    assert "OFF THE AIR" not in ops(running, "kill-switch", "status").stdout

    printed = io.StringIO()
    assert simulator.main(["--state", str(running.state), "trigger", "--level", "2"],
                          out=printed) == 0
    assert "2 level-2 usage trigger(s) fired" in printed.getvalue()
    skip(stack, 120)  # the order is queued a minute ahead: the stack's clock moves past it

    def off_air() -> bool:
        return all(not n["sms_url"] for n in twilio_numbers(stack))

    try:
        assert wait_for(off_air, 20), twilio_numbers(stack)
        assert {n["voice_url"] for n in twilio_numbers(stack)} == {bin_url}
        owned = len(twilio_numbers(stack))
        console = simulator._json(f"{stack.api_url}/_local/console/state")
        assert console["off_air"] == {"off": owned, "numbers": owned}  # the page says so
        call = local_traffic(stack, "/_local/call", {"to": decoy, "from": caller})
        assert (call["answered_by"], call["billed"]) == ("voice_url", False)
        assert "<Reject" in call["twiml"]
        text = local_traffic(stack, "/_local/text", {"to": decoy, "from": caller})
        assert text["requested"] is False  # no SMS URL: not requested, not billed
        status = ops(running, "kill-switch", "status")
        assert "numbers: OFF THE AIR" in status.stdout, status.stdout
        assert "`connect --apply` puts them back" in status.stdout
        checked = ops(running, "preflight")
        assert "✗ off the air: " in checked.stdout, checked.stdout

        restored = ops(running, "connect", "--apply")
        assert restored.returncode == 0, restored.stderr
        assert "back on the air" in restored.stdout, restored.stdout
        assert "re-armed 2 usage trigger(s) that had already fired" in restored.stdout
        assert {(n["sms_url"], n["voice_url"]) for n in twilio_numbers(stack)} == {
            (f"{stack.api_url}/sms", f"{stack.api_url}/voice")}
        status = ops(running, "kill-switch", "status")
        assert "numbers: on the air" in status.stdout, status.stdout
        assert simulator._json(f"{stack.api_url}/_local/console/state")["off_air"]["off"] == 0
        call = local_traffic(stack, "/_local/call", {"to": decoy, "from": caller})
        assert call["answered_by"] == "voice_url"
        assert "<Reject" in call["twiml"]  # the kill switch, level 1, is still on
    finally:
        ops(running, "connect", "--apply")
        ops(running, "kill-switch", "off")


def test_ctrl_c_stops_the_stack_cleanly_and_the_console_never_shows_a_number(running):
    returncode = running.stop()

    console = running.console.read_text()
    assert returncode == 0, console
    assert "stopped in" in console
    assert not running.state.exists()
    accepted = r"/sms\s+fr\s+from \+33\*{7}\d\d\s+200 Received (?:BudgetUsed )?Scheduled"
    assert re.search(accepted, console)
    assert re.search(r"outbox\s+fr\s+to\s+\+33\*{7}\d\d", console)
    for number in running.numbers_used:
        assert number not in console
        assert number[1:] not in console
    assert "Traceback" not in console
