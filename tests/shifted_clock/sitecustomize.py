"""Shift the real clock of this Python process, and of every Python it starts, to
$DECOY_CLOCK_SHIFT (ISO 8601 UTC): `make test-shifted` puts this directory on PYTHONPATH.

The suite must pass whatever the machine's date and hour (issue 13); this runs it on
another day, by default the last seconds of a leap day, with the clock ticking on from
there, so a test that lets a handler read the real clock fails here and not on a
newcomer's first `make test`. libfaketime would do the same from outside; time-machine
installs from PyPI alone.
"""

import os
from datetime import UTC, datetime

_target = os.environ.get("DECOY_CLOCK_SHIFT", "").strip()
if _target:
    import time_machine

    _moment = datetime.fromisoformat(_target.replace("Z", "+00:00"))
    time_machine.travel(_moment if _moment.tzinfo else _moment.replace(tzinfo=UTC),
                        tick=True).start()
