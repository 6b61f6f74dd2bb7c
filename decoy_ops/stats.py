"""Today's anonymous counts: the exact budget from DynamoDB, outcomes from CloudWatch metrics."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from decoy import shield
from decoy.clock import next_utc_midnight, utc_day
from decoy.outcomes import LANGUAGES, Metric, Outcome

# The outcomes the dashboard leads with, in the order an operator reads them.
OUTCOMES = (Metric.Received, Outcome.Scheduled, Outcome.Sent, Outcome.Duplicate,
            Outcome.BlockedQuota, Outcome.BlockedBudget, Outcome.BlockedCountry,
            Outcome.BlockedCallAllowance, Outcome.KillSwitch, Metric.OptOut, Outcome.SendFailed,
            Metric.ForgedSignature, Metric.BudgetUsed)
TOTAL = "all"
HOUR = 3600


@dataclass(frozen=True)
class Today:
    """What `stats` prints: counts only, never a number or a body."""

    day: str
    budget: int
    used: int
    kill_switch: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # campaign: outcome: n
    metrics_error: str | None = None

    @property
    def left(self) -> int:
        return max(self.budget - self.used, 0)


def budget_used_today(dynamodb: Any, table: str, now: float) -> int:
    """Replies reserved today, read from the same budget#<day> item the receiver updates."""
    return shield.budget_used(dynamodb, table, utc_day(now))


def metric_queries(namespace: str, service: str, campaigns: list[str],
                   ) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str]]]:
    """GetMetricData queries for each outcome, in total and per campaign; id: (campaign, name)."""
    queries, keys = [], {}
    for column in [TOTAL, *campaigns]:
        dims = [{"Name": "service", "Value": service}]
        if column != TOTAL:
            dims.insert(0, {"Name": "campaign", "Value": column})
        for name in OUTCOMES:
            query_id = f"m{len(queries)}"
            keys[query_id] = (column, name)
            queries.append({"Id": query_id, "ReturnData": True, "MetricStat": {
                "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dims},
                "Period": HOUR, "Stat": "Sum"}})
    return queries, keys


def counts_today(cloudwatch: Any, namespace: str, service: str, campaigns: list[str],
                 now: float) -> dict[str, dict[str, int]]:
    """Sum of each outcome since 00:00 UTC, in total and per campaign."""
    queries, keys = metric_queries(namespace, service, campaigns)
    start = datetime.fromtimestamp(next_utc_midnight(now) - 86400, UTC)
    end = datetime.fromtimestamp(now, UTC)
    counts: dict[str, dict[str, int]] = {c: dict.fromkeys(OUTCOMES, 0) for c in [TOTAL, *campaigns]}
    for page in cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries, StartTime=start, EndTime=end):
        for result in page["MetricDataResults"]:
            column, name = keys[result["Id"]]
            counts[column][name] += int(sum(result.get("Values", [])))
    return counts


def counts_from_local(local_stats: dict[str, Any], campaigns: list[str]
                      ) -> dict[str, dict[str, int]]:
    """The same table from a local stack's GET /_local/stats (its EMF counts since it started:
    a local stack's day begins when `make run` does)."""
    counts = {c: dict.fromkeys(OUTCOMES, 0) for c in [TOTAL, *campaigns]}
    columns = {TOTAL: local_stats.get("metrics", {}), **local_stats.get("campaigns", {})}
    for column, values in columns.items():
        row = counts.setdefault(column, dict.fromkeys(OUTCOMES, 0))
        for name in OUTCOMES:
            row[name] = int(values.get(name, 0))
    return counts


def reader_language(environ: Mapping[str, str] = os.environ) -> str:
    """fr when the terminal's locale is French (LC_ALL, LC_MESSAGES, LANG), else en."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(name):
            code = environ[name][:2].lower()
            return code if code in LANGUAGES else "en"
    return "en"


def render(today: Today, lang: str | None = None) -> list[str]:
    lines = [f"Decoy number, {today.day} (UTC, since 00:00): anonymous counts",
             f"  kill switch   {today.kill_switch}",
             f"  reply budget  {today.used} used of {today.budget}, {today.left} left "
             "(resets at 00:00 UTC)"]
    if today.metrics_error:
        return [*lines, f"  outcomes      unavailable ({today.metrics_error})"]
    if not today.counts:
        return lines
    columns = [c for c in today.counts if c == TOTAL or any(today.counts[c].values())]
    width = max(len(c) for c in columns) + 2
    lines.append("  " + " " * 16 + "".join(c.rjust(width) for c in columns))
    for name in OUTCOMES:
        lines.append(f"  {name:<16}" + "".join(
            str(today.counts[c][name]).rjust(width) for c in columns))
    lines.append("  what each line counts:")
    lines.extend(f"  - {name}: {name.sentence(lang or reader_language())}" for name in OUTCOMES)
    return lines
