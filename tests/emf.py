"""Read back the CloudWatch EMF metrics powertools prints on stdout."""

from __future__ import annotations

import json
from typing import Any


def emitted_metrics(out: str) -> list[dict[str, Any]]:
    """The EMF blobs in `out`: [{'namespace', 'dimensions': {...}, 'metrics': {name: value}}]."""
    blobs = []
    for line in out.splitlines():
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        record = json.loads(line)
        for directive in record["_aws"]["CloudWatchMetrics"]:
            names = [m["Name"] for m in directive["Metrics"]]
            blobs.append({
                "namespace": directive["Namespace"],
                "dimensions": {d: record[d] for group in directive["Dimensions"] for d in group},
                "metrics": {n: record[n] for n in names},
            })
    return blobs


def per_campaign(out: str) -> dict[tuple[str, str], float]:
    """{(campaign, metric): total} from the per-campaign EMF blobs in `out`."""
    totals: dict[tuple[str, str], float] = {}
    for blob in emitted_metrics(out):
        campaign = blob["dimensions"].get("campaign")
        if "label" in blob["dimensions"]:  # the per-number copy (per_label below)
            continue
        for name, value in blob["metrics"].items() if campaign else ():
            value = sum(value) if isinstance(value, list) else value
            totals[(campaign, name)] = totals.get((campaign, name), 0) + value
    return totals


def per_label(out: str) -> dict[tuple[str, str, str], float]:
    """{(campaign, label, metric): total} from the per-number EMF blobs in `out`."""
    totals: dict[tuple[str, str, str], float] = {}
    for blob in emitted_metrics(out):
        dims = blob["dimensions"]
        if "label" not in dims:
            continue
        for name, value in blob["metrics"].items():
            key = (dims["campaign"], dims["label"], name)
            totals[key] = totals.get(key, 0) + (sum(value) if isinstance(value, list) else value)
    return totals
