"""python -m decoy_ops on moto and a fake Twilio API: connect, stats, kill-switch."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import boto3
import pytest
import responses
from conftest import NOW, schedules
from ops_stack import SMS_URL, USAGE_URL, VOICE_URL, deploy, runner
from twilio_fakes import FakeTwilioApi, api_event, sms_form

from decoy.campaigns import load_campaigns
from decoy.outcomes import Metric, is_metric
from decoy_local.fake_twilio import DEMO_SMS_URL
from decoy_local.template import load_template
from decoy_ops.cli import SERVICE, main
from receiver.app import lambda_handler as receive

DECOY = "+33939000001"
E164 = re.compile(r"\+\d{8,15}")


@pytest.fixture
def ops(capsys, test_clock, monkeypatch):
    """Run the command in-process on the handlers' clock, in an English terminal; return
    (exit status, stdout, stderr)."""
    for name in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")

    return runner(capsys, test_clock)


@pytest.fixture
def stack(aws):
    """A deployed stack as CloudFormation describes it: only the outputs ops reads."""
    return deploy(aws, extra_parameters={
        "MetricsNamespace": {"Type": "String", "Default": "DecoyNumber"}})


@pytest.fixture
def twilio_account():
    """The account's numbers and Usage Triggers, behind one fake Twilio API."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeTwilioApi(mock, numbers=load_campaigns().numbers())  # every pool number


@pytest.fixture
def numbers(twilio_account):
    return twilio_account


@pytest.fixture
def triggers(twilio_account):
    return twilio_account


def test_stats_reads_the_service_dimension_the_functions_write():
    env = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    assert env["POWERTOOLS_SERVICE_NAME"] == SERVICE


@pytest.mark.parametrize("command", [[], ["connect"], ["stats"], ["kill-switch"]])
def test_every_subcommand_explains_itself_with_help(capsys, command):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.startswith("usage: python -m decoy_ops")


def test_kill_switch_on_stops_new_replies_and_off_restores_them(aws, ops, lambda_context,
                                                                monkeypatch):
    monkeypatch.setenv("KILL_SWITCH_CACHE_SECONDS", "0")
    name = ["--kill-switch-parameter", aws.env["KILL_SWITCH_PARAMETER"]]

    status, out, _ = ops("kill-switch", "on", *name)
    receive(api_event("/sms", sms_form("+33611111111", DECOY)), lambda_context)
    assert status == 0 and "ON" in out
    assert schedules(aws) == []

    status, out, _ = ops("kill-switch", "off", *name)
    receive(api_event("/sms", sms_form("+33622222222", DECOY)), lambda_context)
    assert status == 0 and "off" in out
    assert len(schedules(aws)) == 1
    assert "off: replies are scheduled" in ops("kill-switch", "status", *name)[1]


def test_kill_switch_finds_its_parameter_in_the_stack_outputs(stack, ops):
    ops("kill-switch", "on")
    status, out, _ = ops("kill-switch", "status")
    assert status == 0
    assert out.startswith(f"kill switch {stack['KillSwitchParameterName']}: ON")


def test_missing_kill_switch_reads_as_on_like_the_functions_do(aws, ops):
    status, out, _ = ops("kill-switch", "status", "--kill-switch-parameter", "/nope")
    assert status == 0 and "ON (parameter missing" in out


def test_stats_prints_budget_used_and_left_and_never_a_number(aws, ops, lambda_context):
    for sender in ("+33611111111", "+33622222222", "+33622222222"):
        receive(api_event("/sms", sms_form(sender, DECOY)), lambda_context)

    status, out, _ = ops("stats", "--table", aws.stack.table_name, "--daily-budget", "500",
                         "--kill-switch-parameter", aws.env["KILL_SWITCH_PARAMETER"],
                         "--no-metrics")

    assert status == 0
    assert "reply budget  2 used of 500, 498 left" in out
    assert "kill switch   off: replies are planned and sent" in out
    assert not E164.search(out)


def test_stats_sums_todays_metrics_in_total_and_per_campaign(stack, ops):
    cloudwatch = boto3.client("cloudwatch")
    today, yesterday = (datetime.fromtimestamp(t, UTC) for t in (NOW - 3600, NOW - 86400))
    for when, value in ((today, 7), (yesterday, 100)):
        for dims in ([], [{"Name": "campaign", "Value": "fr"}]):
            cloudwatch.put_metric_data(Namespace="DecoyNumber", MetricData=[{
                "MetricName": "Received", "Timestamp": when, "Value": value, "Unit": "Count",
                "Dimensions": [*dims, {"Name": "service", "Value": "decoy-number"}]}])

    status, out, _ = ops("stats")

    assert status == 0
    rows = table(out, "today")
    assert rows["today"] == ["all", "fr"]  # campaigns without any count today are left out
    assert rows["messages and calls received"] == ["7", "7"]
    assert "0 used of 500, 500 left" in out
    assert not [w for w in out.split() if is_metric(w.strip(":"))]  # codes: --json only
    shown = json.loads(ops("stats", "--json")[1])
    assert shown["counts"]["all"][Metric.Received] == 7


def test_stats_speaks_french_with_lang_or_a_french_terminal(stack, ops, monkeypatch):
    status, out, _ = ops("stats", "--lang", "fr")
    monkeypatch.setenv("LANG", "fr_BE.UTF-8")
    _, terminal, _ = ops("stats")

    assert status == 0 and terminal == out
    assert "coupe-circuit  inactif\u202f: les réponses sont prévues et envoyées" in out
    assert "il en reste 500" in out
    rows = table(out, "aujourd'hui")
    assert rows["aujourd'hui"] == ["total"]
    assert rows["bloqués\u202f: budget du jour épuisé"] == ["0"]
    assert not re.search(r"[ \u00a0][:;!?]", out)  # a narrow no-break space, never a break


def table(out: str, title: str) -> dict[str, list[str]]:
    """{row name: its cells} of the table headed `title` (row names are words, cells numbers
    or column names)."""
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip().startswith(title + " "))
    rows = {title: lines[first].strip()[len(title):].split()}
    for line in lines[first + 1:]:
        match = re.fullmatch(r"  (\S.*?)((?:\s+\d+)+)", line)
        if not match:
            break
        rows[match.group(1).strip()] = match.group(2).split()
    return rows


def test_stats_counts_each_number_of_a_pool_by_its_label(stack, ops):
    cloudwatch = boto3.client("cloudwatch")
    when = datetime.fromtimestamp(NOW - 3600, UTC)
    for label, received, sent in (("bar-le-central", 5, 2), ("cards-2017", 3, 1)):
        for name, value in (("Received", received), ("Sent", sent)):
            cloudwatch.put_metric_data(Namespace="DecoyNumber", MetricData=[{
                "MetricName": name, "Timestamp": when, "Value": value, "Unit": "Count",
                "Dimensions": [{"Name": "campaign", "Value": "fr-be"},
                               {"Name": "label", "Value": label},
                               {"Name": "service", "Value": "decoy-number"}]}])

    status, out, _ = ops("stats")

    assert status == 0
    rows = table(out, "per number")
    # numbers without any count today are left out; never a phone number printed
    assert rows == {"per number": ["fr-be/bar-le-central", "fr-be/cards-2017"],
                    "messages and calls received": ["5", "3"], "replies planned": ["0", "0"],
                    "replies sent": ["2", "1"]}
    assert not E164.search(out)


def test_connect_is_a_dry_run_until_applied_then_points_both_webhooks(stack, ops, numbers):
    status, out, _ = ops("connect", DECOY)
    assert status == 0
    assert f"sms_url: {DEMO_SMS_URL} -> {SMS_URL}" in out
    # 3 level-1 triggers (kill switch) + 2 level-2 ones (off the air, issue 22)
    assert "dry run: 1 number(s) and 5 usage trigger(s) would change" in out
    assert numbers.updates == []

    status, out, _ = ops("connect", DECOY, "--apply")
    assert status == 0 and "applied: 1 number(s)" in out
    assert numbers.updates == [{"SmsUrl": SMS_URL, "VoiceUrl": VOICE_URL}]  # methods were POST
    assert "already pointed at this stack" in ops("connect", DECOY)[1]


def test_connect_defaults_to_every_campaign_number(stack, ops, numbers):
    status, _, _ = ops("connect", "--apply")
    assert status == 0
    # every number of every pool, retired ones too: they answer until released in Twilio
    assert len(numbers.updates) == len(load_campaigns().numbers()) == 7


def test_connect_clears_a_twiml_app_that_would_override_the_webhooks(stack, ops, numbers):
    numbers.number(DECOY)["voice_application_sid"] = "AP" + "1" * 32
    ops("connect", DECOY, "--apply")
    assert numbers.updates[0]["VoiceApplicationSid"] == ""


def test_connect_refuses_a_number_that_is_not_a_campaign(stack, ops, numbers):
    status, _, err = ops("connect", "+33939999999")
    assert status == 1 and "not in campaigns.json" in err
    assert numbers.updates == []


def test_connect_reports_a_campaign_number_the_account_does_not_own(stack, ops, numbers):
    numbers.disown(DECOY)
    status, out, _ = ops("connect", DECOY, "--apply")
    assert status == 1 and "not a number of this Twilio account" in out


def test_connect_works_with_explicit_flags_and_another_twilio_base_url(aws, ops):
    base = "http://127.0.0.1:8919"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeTwilioApi(mock, numbers=[DECOY], base_url=base)
        status, _, _ = ops("connect", DECOY, "--apply", "--no-usage-triggers",
                           "--sms-url", "http://127.0.0.1:3000/sms",
                           "--voice-url", "http://127.0.0.1:3000/voice",
                           "--twilio-api-base-url", base,
                           "--account-sid-parameter", aws.stack.parameters[
                               "TwilioAccountSidParameter"],
                           "--auth-token-parameter", aws.stack.parameters[
                               "TwilioAuthTokenParameter"])
    assert status == 0
    assert fake.updates[0]["SmsUrl"] == "http://127.0.0.1:3000/sms"


def test_without_a_stack_and_without_flags_the_error_names_the_flag(aws, ops):
    status, _, err = ops("stats", "--no-metrics")
    assert status == 1
    assert "cannot read stack 'decoy-number'" in err


def connect_with_flags(aws) -> tuple[str, ...]:
    """`connect` for the decoy number with every name given as a flag (no stack to read)."""
    return ("connect", DECOY, "--no-usage-triggers", "--sms-url", SMS_URL, "--voice-url", VOICE_URL,
            "--account-sid-parameter", aws.stack.parameters["TwilioAccountSidParameter"],
            "--auth-token-parameter", aws.stack.parameters["TwilioAuthTokenParameter"])


def test_an_unreachable_twilio_api_is_a_one_line_error(aws, ops):
    with responses.RequestsMock():  # no route: every request fails to connect
        status, _, err = ops(*connect_with_flags(aws))
    assert status == 1
    assert err == "error: Twilio API unreachable: ConnectionError\n"


def test_a_twilio_page_it_cannot_read_is_a_one_line_error(aws, ops):
    with responses.RequestsMock() as mock:  # e.g. a fake Twilio without the numbers API
        mock.add(responses.GET, re.compile(r".*/IncomingPhoneNumbers\.json.*"), status=404,
                 json={"code": 20404, "message": "The requested resource was not found"})
        status, _, err = ops(*connect_with_flags(aws))
    assert status == 1
    assert err == "error: Twilio API: Unable to fetch page (HTTP 404)\n"


def test_local_without_a_running_stack_says_to_start_it(ops, tmp_path):
    status, _, err = ops("stats", "--local", str(tmp_path / "stack.json"))
    assert status == 1
    assert err.startswith("error: no ") and "start the stack first (`make run`)" in err


def trigger_summary(triggers) -> list[tuple[str, str, str, float, str]]:
    return sorted((t["usage_category"], t["trigger_by"], t["recurring"],
                   float(t["trigger_value"]), t["callback_url"])
                  for t in triggers.triggers())


def test_connect_installs_three_daily_usage_triggers_derived_from_the_budgets(
        stack, ops, triggers):
    status, out, _ = ops("connect", DECOY)
    assert status == 0
    assert ("usage trigger 'decoy-number daily sms [decoy-number]': create sms count >= 2500 "
            "daily") in out
    assert triggers.triggers() == []  # dry run

    assert ops("connect", DECOY, "--apply")[0] == 0

    assert trigger_summary(triggers) == [
        ("calls-inbound", "usage", "daily", 250.0, USAGE_URL),
        ("sms", "count", "daily", 2500.0, USAGE_URL),
        ("sms", "count", "daily", 5000.0, USAGE_URL + "?level=2"),
        ("totalprice", "price", "daily", 122.0, USAGE_URL),
        ("totalprice", "price", "daily", 244.0, USAGE_URL + "?level=2")]


def test_connect_twice_keeps_its_triggers_and_changes_nothing(stack, ops, triggers):
    ops("connect", DECOY, "--apply")
    before, calls = triggers.triggers(), len(triggers.requests)

    status, out, _ = ops("connect", DECOY, "--apply")

    assert status == 0
    assert len(re.findall(r"^usage trigger .*: already ", out, re.M)) == 5  # both levels
    assert triggers.triggers() == before
    assert [c for c in triggers.requests[calls:] if c[0] != "GET"] == []


def test_connect_replaces_a_changed_threshold_fixes_a_callback_and_drops_duplicates(
        stack, ops, triggers):
    ops("connect", DECOY, "--apply")
    (sms,) = [t["sid"] for t in triggers.triggers() if t["usage_category"] == "sms"
              and t["callback_url"] == USAGE_URL]
    (calls,) = [t["sid"] for t in triggers.triggers() if t["usage_category"] == "calls-inbound"]
    triggers.trigger(calls)["callback_url"] = "https://old.example.org/usage"
    triggers.add_trigger(friendly_name="decoy-number daily sms", usage_category="sms",
                         trigger_by="count", trigger_value="2500",
                         callback_url=USAGE_URL)  # a duplicate

    status, out, _ = ops("connect", DECOY, "--apply", "--sms-per-day", "900")

    assert status == 0
    assert ("DELETE", sms) in triggers.requests  # Twilio cannot update a threshold: replaced
    assert trigger_summary(triggers) == [
        ("calls-inbound", "usage", "daily", 250.0, USAGE_URL),
        ("sms", "count", "daily", 900.0, USAGE_URL),
        ("sms", "count", "daily", 5000.0, USAGE_URL + "?level=2"),
        ("totalprice", "price", "daily", 122.0, USAGE_URL),
        ("totalprice", "price", "daily", 244.0, USAGE_URL + "?level=2")]
    assert "delete this duplicate" in out


def test_connect_leaves_other_usage_triggers_of_the_account_alone(stack, ops, triggers):
    theirs = triggers.add_trigger(friendly_name="billing alert", usage_category="totalprice",
                                  trigger_by="price", trigger_value="50",
                                  callback_url="https://example.org/alert", recurring="monthly")
    ops("connect", DECOY, "--apply")
    assert triggers.trigger(theirs)["trigger_value"] == "50"
    assert len(triggers.triggers()) == 6  # theirs + 3 level-1 + 2 level-2


def test_kill_switch_speaks_french_with_lang_or_a_french_terminal(aws, ops, monkeypatch):
    name = ["--kill-switch-parameter", aws.env["KILL_SWITCH_PARAMETER"]]
    parameter = aws.env["KILL_SWITCH_PARAMETER"]

    status, on, _ = ops("kill-switch", "on", *name, "--lang", "fr")
    assert status == 0
    assert on.splitlines() == [
        f"coupe-circuit {parameter}\u202f: ACTIF\u202f: aucune réponse n'est prévue et aucune "
        "réponse en attente n'est envoyée (celles en attente sont abandonnées à leur heure)",
        "  les messages et appels entrants en tiennent compte en 30\u202fs (la valeur par défaut) "
        "au plus (chaque fonction qui les reçoit garde l'état en mémoire ce temps-là)\u202f; une "
        "réponse sur le point de partir le vérifie à chaque fois"]

    monkeypatch.setenv("LANG", "fr_FR.UTF-8")  # no --lang: the terminal's locale
    status, off, _ = ops("kill-switch", "off", *name)
    assert status == 0
    assert off == (f"coupe-circuit {parameter}\u202f: inactif\u202f: les réponses sont prévues "
                   "et envoyées normalement\n")
    _, shown, _ = ops("kill-switch", "status", *name)
    assert shown.splitlines()[0] == off.rstrip("\n")
    assert shown.splitlines()[1].startswith("numéros\u202f: ")
    assert not re.search(r"[ \u00a0][:;!?]", on + off + shown)

    monkeypatch.setenv("LC_ALL", "fr_FR.UTF-8")
    assert ops("kill-switch", "status", *name, "--lang", "en")[1].startswith(
        f"kill switch {parameter}: off: replies are scheduled")


ENGLISH = re.compile(r"\b(will|would|missing|re-armed|already|create|delete|duplicate|warning|"
                     r"error|empty|not|usage trigger|pointed|applied|dry run|unreachable|"
                     r"stack has)\b", re.I)


def test_connect_speaks_french_on_every_line_codes_aside(stack, ops, numbers):
    """--lang fr: change lines, usage triggers, the missing-Bin warning; field names, trigger
    names and categories stay Twilio's codes."""
    numbers.number(DECOY)["voice_application_sid"] = "AP" + "1" * 32
    status, out, _ = ops("connect", DECOY, "--lang", "fr")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith("avertissement\u202f: pas de VoiceRejectUrl\u202f: un appel ")
    assert re.fullmatch(rf"\{DECOY} \(PN\w{{32}}\)\u202f:", lines[1])
    assert f"  sms_url\u202f: {DEMO_SMS_URL} -> {SMS_URL}" in lines
    assert "  voice_application_sid\u202f: AP" + "1" * 32 + " -> (vide)" in lines
    assert ("alerte de dépense 'decoy-number daily sms [decoy-number]'\u202f: à créer, sms count "
            f">= 2500 daily -> {USAGE_URL}") in lines
    assert lines[-1].startswith("essai à blanc\u202f: 1 numéro(s) et 5 alerte(s)")
    assert not ENGLISH.search(out), ENGLISH.search(out)
    assert not re.search(r"[ \u00a0][:;!?]", out)

    ops("connect", DECOY, "--apply")
    numbers.add_trigger(friendly_name="decoy-number daily sms [decoy-number]",
                        usage_category="sms", trigger_by="count", trigger_value="2500",
                        callback_url=USAGE_URL)  # a duplicate
    status, out, _ = ops("connect", DECOY, "--lang", "fr")
    assert status == 0
    assert any(line.startswith(f"{DECOY} (PN") and line.endswith(
        "\u202f: déjà dirigé vers cette pile") for line in out.splitlines())
    assert len(re.findall(r"^alerte de dépense .*\u202f: déjà en place, ", out, re.M)) == 5
    assert re.search(r"^alerte de dépense .*\u202f: doublon à supprimer$", out, re.M)
    assert not ENGLISH.search(out), ENGLISH.search(out)


def test_ops_errors_speak_french_with_lang(aws, ops):
    status, _, err = ops("connect", "+33939999999", "--lang", "fr")
    assert status == 1
    assert err == ("erreur\u202f: +33939999999\u202f: absent(s) de campaigns.json, le récepteur "
                   "répondrait 404\u202f; ajoutez d'abord une campagne\n")
    with responses.RequestsMock():  # no route: every request fails to connect
        status, _, err = ops(*connect_with_flags(aws), "--lang", "fr")
    assert (status, err) == (1, "erreur\u202f: API Twilio injoignable\u202f: ConnectionError\n")
    status, _, err = ops("stats", "--no-metrics", "--lang", "fr", "--stack-name", "")
    assert (status, err) == (1, "erreur\u202f: pas de nom de pile\u202f: passez --stack-name "
                                "ou les options explicites\n")
    assert ops("connect", "+33939999999")[2].startswith("error: +33939999999: not in campaigns")
