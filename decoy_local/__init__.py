"""The service on one machine: moto for AWS, a fake Twilio API, a scheduler loop, a simulator."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"
# The local stack runs the real Lambda code in-process, as Lambda would with CodeUri functions/.
if str(FUNCTIONS) not in sys.path:
    sys.path.insert(0, str(FUNCTIONS))
