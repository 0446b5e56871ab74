"""Machinery chosen from the settings: the task runner and the inference limit.

Both are built at run time from ``settings.orchestration``, so a deployment's parameters
(editable in the Prefect UI) decide them, not the code that registered it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.config import OrchestrationSettings

if TYPE_CHECKING:
    from prefect.task_runners import TaskRunner


def make_task_runner(settings: OrchestrationSettings) -> TaskRunner:
    """A fresh task runner for the per-video fan-out of one flow run (use it as a context manager)."""
    from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

    if settings.task_runner == "thread":
        return ThreadPoolTaskRunner(max_workers=settings.workers)
    if settings.task_runner == "process":
        return ProcessPoolTaskRunner(max_workers=settings.workers)
    from prefect_dask import DaskTaskRunner

    if settings.dask_address:
        return DaskTaskRunner(address=settings.dask_address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": settings.workers, "threads_per_worker": 1,
                                         "processes": True, "dashboard_address": None})


def inference_limit_name(host: str | None = None) -> str:
    """The name of the limit guarding pose inference on one machine."""
    return f"formwatch-inference-{(host or socket.gethostname()).lower()}"


def slot_folder(host: str | None = None) -> Path:
    """The machine-wide folder of the inference slots' lock files (the system's temporary folder)."""
    return Path(tempfile.gettempdir()) / inference_limit_name(host)


def _log(message: str) -> None:
    # Prefect is imported here, not with the module: the CLI takes an inference slot for its
    # head start before Prefect (a second of imports) has loaded
    from prefect import get_run_logger
    from prefect.exceptions import MissingContextError

    try:
        get_run_logger().info(message)
    except MissingContextError:
        logging.getLogger(__name__).info(message)


@contextmanager
def inference_slot(slots: int, poll_s: float = 0.5, report_every_s: float = 30.0,
                   log: Callable[[str], None] = _log) -> Iterator[None]:
    """Hold one of this machine's ``slots`` inference slots, waiting for one if all are taken.

    A slot is a lease held by a live process: an ``flock`` on one of ``slots`` lock files in
    :func:`slot_folder`, which the kernel drops the moment its process ends, however it ends
    (a kill, out of memory, a reboot). So a crashed run never keeps a slot. Prefect's own
    global concurrency leases are not used: Prefect 3.9's embedded server keeps leases in
    memory and does not run the service that expires them, so a killed run's slot was
    never given back and every later run waited forever. While waiting this logs what it
    waits for, who holds the slots and for how long, every ``report_every_s``.
    """
    folder = slot_folder()
    folder.mkdir(mode=0o777, parents=True, exist_ok=True)
    started, reported = time.monotonic(), None
    while (fd := _take_any(folder, slots)) is None:
        waited = time.monotonic() - started
        if reported is None or waited - reported >= report_every_s:
            log(f"Waiting for an inference slot of {folder.name} ({slots} on this machine, all taken by "
                f"{'; '.join(_holders(folder, slots))}): {waited:.0f} s so far")
            reported = waited
        time.sleep(poll_s)
    if reported is not None:
        log(f"Inference slot taken after waiting {time.monotonic() - started:.0f} s")
    try:
        yield
    finally:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _slot_file(folder: Path, k: int) -> Path:
    return folder / f"slot-{k}.lock"


def _take_any(folder: Path, slots: int) -> int | None:
    """The descriptor of a free slot's lock file, locked and labelled with this process; None if all are taken."""
    for k in range(slots):
        fd = os.open(_slot_file(folder, k), os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        holder = f"process {os.getpid()} on {socket.gethostname()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode(), 0)
        return fd
    return None


def _holders(folder: Path, slots: int) -> list[str]:
    holders = []
    for k in range(slots):
        try:
            holders.append(_slot_file(folder, k).read_text(encoding="utf-8").strip() or "a starting run")
        except OSError:
            holders.append("a run")
    return holders
