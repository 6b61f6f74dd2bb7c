"""pip-audit as a CI gate: fail on a known vulnerability, warn when nothing could be audited.

pip-audit asks PyPI's JSON API (or OSV) about each pinned dependency. Where only the package
index is reachable, every dependency comes back "not found" and pip-audit still exits 0:
this gate says so loudly instead. AUDIT_STRICT=1 turns that warning into a failure (set it
where the vulnerability service is reachable, e.g. a hosted CI runner).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any


def verdict(report: dict[str, Any], strict: bool) -> tuple[int, list[str]]:
    """Exit code and lines to print for one pip-audit JSON report."""
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if d.get("skip_reason")]
    lines = [f"pip-audit: {d['name']} {d['version']} is vulnerable: "
             + ", ".join(v["id"] for v in d["vulns"]) for d in vulnerable]
    if vulnerable:
        return 1, lines
    if skipped:
        lines.append(f"pip-audit: WARNING {len(skipped)} of {len(deps)} dependencies NOT "
                     f"audited ({skipped[0]['skip_reason']}): is the vulnerability service "
                     "reachable from here?")
        if strict:
            return 1, lines
    audited = len(deps) - len(skipped)
    lines.append(f"pip-audit: {audited} dependencies audited, no known vulnerability"
                 if audited else "pip-audit: nothing audited")
    return 0, lines


def main(args: list[str]) -> int:
    run = subprocess.run(  # noqa: S603 - our own interpreter and fixed arguments
        [sys.executable, "-m", "pip_audit", *args, "--format", "json",
         "--progress-spinner", "off"], capture_output=True, text=True, check=False)
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        print(run.stderr.strip() or run.stdout.strip(), file=sys.stderr)
        print("pip-audit: FAILED to run (see above)", file=sys.stderr)
        return 1
    code, lines = verdict(report, strict=os.environ.get("AUDIT_STRICT") == "1")
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
