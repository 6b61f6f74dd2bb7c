"""Today's anonymous counts: the exact budget from DynamoDB, outcomes from CloudWatch metrics."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from decoy.clock import next_utc_midnight
from decoy.observability import LABELLED
from decoy.outcomes import LANGUAGES, Metric, Outcome, french_typography, label

# The outcomes the dashboard leads with, in the order an operator reads them.
OUTCOMES = (Metric.Received, Metric.CallAnswered, Metric.CallRejected, Outcome.Scheduled,
            Outcome.Sent, Outcome.Duplicate,
            Outcome.BlockedQuota, Outcome.BlockedBudget, Outcome.BlockedCountry,
            Outcome.BlockedCallAllowance, Outcome.KillSwitch, Metric.OptOut, Outcome.SendFailed,
            Metric.ForgedSignature, Metric.BudgetUsed)
TOTAL = "all"
HOUR = 3600
# The counts kept per number of a pool (its label), in reading order: see decoy.observability.
PER_LABEL = tuple(name for name in OUTCOMES if name in LABELLED)


@dataclass(frozen=True)
class Today:
    """What `stats` prints: counts only, never a number or a body."""

    day: str
    budget: int
    used: int
    kill_switch: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # campaign: outcome: n
    labels: dict[str, dict[str, int]] = field(default_factory=dict)  # campaign/label: name: n
    metrics_error: str | None = None

    @property
    def left(self) -> int:
        return max(self.budget - self.used, 0)


def metric_queries(namespace: str, service: str, campaigns: list[str], labels: Sequence[str] = ()
                   ) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str]]]:
    """GetMetricData queries for each outcome, in total and per campaign, and for the PER_LABEL
    ones per number ('campaign/label'); id: (column, name)."""
    queries, keys = [], {}
    columns = [(c, OUTCOMES) for c in [TOTAL, *campaigns]] + [(p, PER_LABEL) for p in labels]
    for column, names in columns:
        dims = [{"Name": "service", "Value": service}]
        if column != TOTAL:
            campaign, _, label = column.partition("/")
            dims.insert(0, {"Name": "campaign", "Value": campaign})
            if label:
                dims.insert(1, {"Name": "label", "Value": label})
        for name in names:
            query_id = f"m{len(queries)}"
            keys[query_id] = (column, name)
            queries.append({"Id": query_id, "ReturnData": True, "MetricStat": {
                "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dims},
                "Period": HOUR, "Stat": "Sum"}})
    return queries, keys


def counts_today(cloudwatch: Any, namespace: str, service: str, campaigns: list[str],
                 now: float, labels: Sequence[str] = ()) -> dict[str, dict[str, int]]:
    """Sum of each outcome since 00:00 UTC, in total and per campaign (and the PER_LABEL
    counts of each 'campaign/label' of `labels`)."""
    queries, keys = metric_queries(namespace, service, campaigns, labels)
    start = datetime.fromtimestamp(next_utc_midnight(now) - 86400, UTC)
    end = datetime.fromtimestamp(now, UTC)
    counts: dict[str, dict[str, int]] = {c: dict.fromkeys(OUTCOMES, 0) for c in [TOTAL, *campaigns]}
    counts.update({p: dict.fromkeys(PER_LABEL, 0) for p in labels})
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


def split_labels(counts: dict[str, dict[str, int]]) -> tuple[dict[str, dict[str, int]],
                                                             dict[str, dict[str, int]]]:
    """(per campaign and total, per 'campaign/label') of counts_today's result."""
    return ({c: v for c, v in counts.items() if "/" not in c},
            {c: v for c, v in counts.items() if "/" in c})


def labels_from_local(local_stats: dict[str, Any], labels: list[str]
                      ) -> dict[str, dict[str, int]]:
    """The per-number counts of a local stack's GET /_local/stats."""
    found = local_stats.get("labels", {})
    rows = {}
    for column in labels:
        campaign, _, label = column.partition("/")
        values = found.get(campaign, {}).get(label, {})
        rows[column] = {name: int(values.get(name, 0)) for name in PER_LABEL}
    return rows


def pool_columns(campaigns: Any) -> list[str]:
    """'campaign/label' of every number of every pool (retired ones still answer)."""
    return [f"{c.id}/{n.label}" for c in campaigns for n in c.numbers]


def reader_language(environ: Mapping[str, str] = os.environ) -> str:
    """fr when the terminal's locale is French (LC_ALL, LC_MESSAGES, LANG), else en."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(name):
            code = environ[name][:2].lower()
            return code if code in LANGUAGES else "en"
    return "en"


def _table(title: str, columns: dict[str, dict[str, int]], names: Sequence[str],
           lang: str) -> list[str]:
    """One row per count, named in plain words (decoy.outcomes.label); a column per key."""
    rows = [label(name, lang) for name in names]
    width = max(len(r) for r in [title, *rows]) + 2
    cells = [max(len(c), *(len(str(v.get(n, 0))) for n in names)) + 2 for c, v in
             columns.items()]
    lines = [f"  {title:<{width}}" + "".join(c.rjust(w) for c, w in
                                             zip(columns, cells, strict=True))]
    lines += [f"  {row:<{width}}" + "".join(str(v.get(name, 0)).rjust(w) for v, w in
                                            zip(columns.values(), cells, strict=True))
              for name, row in zip(names, rows, strict=True)]
    return lines


WORDS = {  # the lines around the table; the rows are decoy.outcomes' labels
    "en": {"title": "Decoy number, {day} (UTC, since 00:00): anonymous counts",
           "switch_on": "kill switch   ON: nothing is planned or sent",
           "switch_off": "kill switch   off: replies are planned and sent",
           "budget": "reply budget  {used} used of {budget}, {left} left (resets at 00:00 UTC)",
           "unavailable": "counts        unavailable (metrics not read: {error})",
           "all": "all", "today": "today", "per_number": "per number"},
    "fr": {"title": "Numéro leurre, {day} (UTC, depuis 0\u202fh) : comptes anonymes",
           "switch_on": "coupe-circuit  ACTIF : rien n'est prévu ni envoyé",
           "switch_off": "coupe-circuit  inactif : les réponses sont prévues et envoyées",
           "budget": "budget du jour  {used} réponses utilisées sur {budget}, il en reste "
                     "{left} (remis à zéro à 0\u202fh UTC)",
           "unavailable": "comptes        indisponibles (métriques non lues : {error})",
           "all": "total", "today": "aujourd'hui", "per_number": "par numéro"},
}


def render(today: Today, lang: str | None = None) -> list[str]:
    """What `stats` prints: plain words in `lang` (default: the terminal's locale); the
    codes (BlockedBudget...) only in `--json`."""
    lang = lang or reader_language()
    words = {key: french_typography(value) if lang == "fr" else value
             for key, value in WORDS[lang].items()}
    lines = [words["title"].format(day=today.day),
             "  " + words["switch_on" if today.kill_switch != "off" else "switch_off"],
             "  " + words["budget"].format(used=today.used, budget=today.budget,
                                           left=today.left)]
    if today.metrics_error:
        return [*lines, "  " + words["unavailable"].format(error=today.metrics_error)]
    if not today.counts:
        return lines
    columns = {(words["all"] if c == TOTAL else c): today.counts[c] for c in today.counts
               if c == TOTAL or any(today.counts[c].values())}
    lines += _table(words["today"], columns, OUTCOMES, lang)
    numbers = {k: v for k, v in today.labels.items() if any(v.values())}
    if numbers:  # per number of a pool (its label), numbers with any count only
        lines += _table(words["per_number"], numbers, PER_LABEL, lang)
    return lines
