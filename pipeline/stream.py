"""Stages that overlap: an iterator run ahead in a thread of its own, behind a bounded queue.

The per-video path is a chain of generators (decode -> pose model -> tracker -> rows;
decode -> drawing -> encoders). ``ahead(items, depth)`` runs ``items`` in a background
thread and hands its values over through a queue of at most ``depth``, so the stage before
works while the stage after does: decoding and the pose model release the GIL (FFmpeg,
OpenVINO, PyTorch and OpenCV all do), so the second core is used while Python code runs.
Memory stays bounded by ``depth`` items per stage, whatever the video's length.

An exception in the background stage is raised in the consumer at the point it happened;
a consumer that stops early (an exception, a ``break``) stops the background stage and
closes its generator, so files it holds open are closed.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
#: How often a blocked stage looks whether its consumer has gone, in s.
_POLL_S = 0.1


#: How long a thread running Python keeps the GIL before a waiting thread gets it, in s, while
#: overlapped stages run. CPython's default is 5 ms: the pose model's thread, back from an
#: inference that ran without the GIL, waited up to that long for the tracker's Python before it
#: could start the next frame. Measured on the 100 m clip at 640 px (2 cores, OpenVINO, clips off,
#: 10 alternating runs of ``process_video``): 0.5 ms made 7 of 10 runs faster, median time 7.10 ->
#: 6.76 s (paired ratio 0.96); one inference with a thread of pure Python beside it 52 -> 33 ms.
QUICK_SWITCH_S = 0.0005

_switch_lock = threading.Lock()
_switch_users = 0
_switch_before = 0.005


@contextlib.contextmanager
def quick_switches(interval_s: float = QUICK_SWITCH_S) -> Iterator[None]:
    """The interpreter's thread switch interval at ``interval_s`` (never longer than it was) inside
    the block; the interval before is back once the last of the blocks running at once ends."""
    global _switch_users, _switch_before
    with _switch_lock:
        if _switch_users == 0:
            _switch_before = sys.getswitchinterval()
            sys.setswitchinterval(min(interval_s, _switch_before))
        _switch_users += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_users -= 1
            if _switch_users == 0:
                sys.setswitchinterval(_switch_before)


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def ahead(items: Iterable[T], depth: int = 4, name: str = "stage") -> Iterator[T]:
    """Yield the values of ``items``, computed up to ``depth`` ahead in a background thread."""
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth!r}")
    handover: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(value: object) -> bool:
        while not stop.is_set():
            try:
                handover.put(value, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        iterator = iter(items)
        try:
            for value in iterator:
                if not put(value):
                    break
            else:
                put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put(_Failed(exc))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=run, name=f"formwatch-{name}", daemon=True)
    worker.start()
    try:
        while True:
            value = handover.get()
            if value is _DONE:
                return
            if isinstance(value, _Failed):
                raise value.error
            yield value  # type: ignore[misc]  # every other value is one of ``items``
    finally:
        stop.set()
        worker.join()
