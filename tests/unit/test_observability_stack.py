"""The nested ops stack: its dashboard is valid JSON and it only watches metrics the code emits."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from decoy.outcomes import RECEIVER_OUTCOMES, Metric, Outcome, is_metric
from decoy_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
STACK = load_template(ROOT / "infra" / "observability.yaml")
ISSUE_METRICS = {Metric.Received, Outcome.Scheduled, Outcome.Sent, Outcome.BlockedQuota,
                 Outcome.BlockedBudget, Outcome.BlockedCountry, Metric.ForgedSignature,
                 Outcome.Duplicate, Metric.OptOut, Outcome.SendFailed, Metric.BudgetUsed}
VALUES = {"MetricsNamespace": "DecoyNumber", "ServiceName": "decoy-number",
          "ReceiverFunctionName": "recv", "SenderFunctionName": "send",
          "DeadLetterQueueName": "dlq", "DailyReplyBudget": "500",
          "InboundFloodThreshold": "100", "ForgedSignatureThreshold": "20",
          "AWS::Region": "eu-west-3", "BudgetDivisor": "500",
          "AlarmArns": '"arn:aws:cloudwatch:eu-west-3:1:alarm:a"'}


def _sub(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{([^}!]+)\}", lambda m: values[m.group(1)], text)


def dashboard() -> dict:
    text, _ = STACK["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    return json.loads(_sub(text, VALUES))


def dashboard_metrics() -> set[str]:
    names = set()
    for widget in dashboard()["widgets"]:
        for row in widget["properties"].get("metrics", []):
            if isinstance(row[0], str) and row[0] == VALUES["MetricsNamespace"]:
                names.add(row[1])
            elif isinstance(row[0], dict) and "SEARCH" in row[0].get("expression", ""):
                names.update(re.findall(r'MetricName="(\w+)"', row[0]["expression"]))
    return names


def alarm_metrics() -> set[str]:
    names = set()
    for res in STACK["Resources"].values():
        if res["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props = res["Properties"]
        stats = [m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m]
        for metric in [props, *stats]:
            if metric.get("Namespace") == {"Ref": "MetricsNamespace"}:
                names.add(metric["MetricName"])
    return names


def test_dashboard_body_is_valid_json_with_every_metric_the_issue_asks_for():
    assert ISSUE_METRICS - dashboard_metrics() == set()


@pytest.mark.parametrize("source", [dashboard_metrics, alarm_metrics])
def test_every_watched_metric_is_one_the_code_emits(source):
    unknown = {n for n in source() if not is_metric(n)}
    assert unknown == set()


def test_every_outcome_is_on_the_dashboard_or_alarmed():
    watched = dashboard_metrics() | alarm_metrics()

    assert {str(o) for o in Outcome} - watched == set()
    assert Outcome.BlockedCallAllowance in dashboard_metrics()  # once missing everywhere


def test_every_receiver_outcome_is_on_the_inbound_widget():
    (widget,) = [w for w in dashboard()["widgets"]
                 if w["properties"].get("title", "").startswith("Inbound:")]
    shown = {row[1] for row in widget["properties"]["metrics"]}

    assert {str(o) for o in RECEIVER_OUTCOMES} - shown <= {Outcome.StoreFailed,
                                                           Outcome.ScheduleFailed}


def test_alarms_all_notify_the_one_topic_and_ignore_missing_data():
    alarms = [r["Properties"] for r in STACK["Resources"].values()
              if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert len(alarms) == 11  # issue 22: OffAirAlarm, OffAirFailedAlarm
    for alarm in alarms:
        assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        assert alarm["TreatMissingData"] == "notBreaching"


def test_budget_alarm_fires_at_80_percent_of_the_deployed_budget():
    props = STACK["Resources"]["BudgetAlarm"]["Properties"]
    (expression,) = [m["Expression"] for m in props["Metrics"] if "Expression" in m]
    assert props["Threshold"] == 80
    assert _sub(expression["Fn::Sub"], VALUES) == "100 * FILL(used, 0) / 500"


def test_main_template_passes_exactly_the_parameters_the_nested_stack_needs():
    main = load_template(ROOT / "template.yaml")
    app = main["Resources"]["Observability"]["Properties"]
    declared = STACK["Parameters"]
    required = {name for name, spec in declared.items() if "Default" not in spec}
    assert app["Location"] == "infra/observability.yaml"
    assert required <= set(app["Parameters"]) <= set(declared)
    globals_env = main["Globals"]["Function"]["Environment"]["Variables"]
    assert app["Parameters"]["ServiceName"] == globals_env["POWERTOOLS_SERVICE_NAME"]
    assert app["Parameters"]["MetricsNamespace"] == globals_env["POWERTOOLS_METRICS_NAMESPACE"]


def test_a_fired_usage_trigger_alarms_at_once():
    props = STACK["Resources"]["UsageTriggerAlarm"]["Properties"]
    assert (props["MetricName"], props["Threshold"], props["Period"]) == \
        ("UsageTriggerFired", 1, 300)
