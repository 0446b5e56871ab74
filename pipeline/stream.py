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

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
#: How often a blocked stage looks whether its consumer has gone, in s.
_POLL_S = 0.1


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
