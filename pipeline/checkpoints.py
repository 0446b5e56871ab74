"""Named points of a run where a crash test can make the process stop, to kill it there.

With ``FORMWATCH_PAUSE_AT=POINT`` (or ``POINT:N`` for the N-th time the point is reached,
counted over the process), the process prints ``formwatch: paused at POINT`` on stderr
and sleeps until it is killed. The points:

- ``inference``: a video's first frame has been through the pose model (its slot is held,
  its raw detections file is open);
- ``commit``: a video's ``detections/`` file has been moved into place, its other files
  and its ``videos/`` row not yet;
- ``row``: all of a video's data files are in place, its ``videos/`` row is not written.

Unset (always, outside tests) a point costs one environment lookup.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter

PAUSE_ENV = "FORMWATCH_PAUSE_AT"
_reached: Counter[str] = Counter()
_lock = threading.Lock()


def checkpoint(point: str) -> None:
    """Pause here forever when ``FORMWATCH_PAUSE_AT`` names this point (and this is its N-th time)."""
    wanted = os.environ.get(PAUSE_ENV)
    if not wanted:
        return
    name, _, nth = wanted.partition(":")
    if name != point:
        return
    with _lock:
        _reached[point] += 1
        count = _reached[point]
    if count == int(nth or 1):
        print(f"formwatch: paused at {point}", file=sys.stderr, flush=True)
        while True:
            time.sleep(3600)
