"""Progress reporting for long batches: a silent default and a terminal progress bar.

The entry point chooses a reporter with :func:`use_reporter`; the code that processes
videos asks for :func:`current_reporter`. Nothing here knows about Prefect.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


class ProgressReporter:
    """Receives progress; this base class ignores it (for tests, servers and cron jobs)."""

    def start_batch(self, videos: int) -> None: ...

    def start_video(self, name: str, frames_expected: int) -> None: ...

    def advance_video(self, frames_done: int, frames_expected: int) -> None: ...

    def finish_video(self) -> None: ...


class RichProgressReporter(ProgressReporter):
    """Two bars on the terminal: videos done in the batch, frames done in the current video."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TimeRemainingColumn(), transient=False,
        )
        self._batch: Any = None
        self._video: Any = None

    def __enter__(self) -> RichProgressReporter:
        self._progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._progress.stop()

    def start_batch(self, videos: int) -> None:
        self._batch = self._progress.add_task("videos", total=videos)

    def start_video(self, name: str, frames_expected: int) -> None:
        self._video = self._progress.add_task(f"  {name[:40]}", total=frames_expected or None)

    def advance_video(self, frames_done: int, frames_expected: int) -> None:
        if self._video is not None:
            self._progress.update(self._video, completed=frames_done, total=max(frames_expected, frames_done))

    def finish_video(self) -> None:
        if self._video is not None:
            self._progress.remove_task(self._video)
            self._video = None
        if self._batch is not None:
            self._progress.advance(self._batch)


_reporter: ProgressReporter = ProgressReporter()


def current_reporter() -> ProgressReporter:
    return _reporter


@contextlib.contextmanager
def use_reporter(reporter: ProgressReporter) -> Iterator[ProgressReporter]:
    """Make ``reporter`` the current one for the duration of the block."""
    global _reporter
    previous, _reporter = _reporter, reporter
    try:
        yield reporter
    finally:
        _reporter = previous
