"""Prefect machinery chosen from the settings: the task runner and the inference limit.

Both are built at run time from ``settings.orchestration``, so a deployment's parameters
(editable in the Prefect UI) decide them, not the code that registered it.
"""

from __future__ import annotations

import fcntl
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from pipeline.config import OrchestrationSettings


def make_task_runner(settings: OrchestrationSettings) -> TaskRunner:
    """A fresh task runner for the per-video fan-out of one flow run (use it as a context manager)."""
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
    """The global concurrency limit guarding pose inference on one machine."""
    return f"formwatch-inference-{(host or socket.gethostname()).lower()}"


def ensure_inference_limit(slots: int, host: str | None = None) -> str:
    """Create this machine's inference limit with ``slots``, or resize it; return its name."""
    name = inference_limit_name(host)
    # Processes of one machine take turns, so they never race to create the same limit.
    with _machine_lock(name), get_client(sync_client=True) as client:
        try:
            limit = client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=slots))
                return name
            except ObjectAlreadyExists:  # another machine with the same host name
                limit = client.read_global_concurrency_limit_by_name(name)
        if limit.limit != slots or not limit.active:
            client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(limit=slots, active=True))
    return name


@contextmanager
def _machine_lock(name: str) -> Iterator[None]:
    with open(Path(tempfile.gettempdir()) / f".{name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def inference_slot(slots: int) -> Iterator[None]:
    """Hold one of this machine's ``slots`` inference slots (waiting for one if all are taken)."""
    name = ensure_inference_limit(slots)
    with concurrency(name, occupy=1, strict=True):
        yield
