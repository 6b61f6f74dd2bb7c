"""Operate a deployed (or local) decoy number: webhooks, anonymous stats, kill switch."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The shared package of the functions (budget keys, kill-switch values, campaigns, twilio client).
if str(ROOT / "functions") not in sys.path:
    sys.path.insert(0, str(ROOT / "functions"))
