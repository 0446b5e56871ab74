"""Registering FormWatch with a Prefect server: the nightly schedule, work pools, child runs.

- :func:`serve_nightly`: the ``formwatch-nightly`` deployment of ``annotate_footage`` on a
  cron schedule, served by this process until SIGTERM or Ctrl-C (``formwatch serve``).
- :func:`deploy_to_pool`: the same deployment, and ``formwatch-video`` (one video per
  flow run), registered on a work pool so that workers on any machine run them
  (``formwatch deploy``); nothing here needs to keep running.

Deployments point at the flows by module path (``flows.annotate.annotate_footage``), so a
worker needs FormWatch installed, not a copy of this folder at the same path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.exceptions import ObjectNotFound
from prefect.schedules import Cron, Schedule

from flows.annotate import VIDEO_DEPLOYMENT, annotate_footage, process_one_video
from pipeline.config import ConfigError, Settings

NIGHTLY = "formwatch-nightly"
VIDEO = VIDEO_DEPLOYMENT.split("/")[1]


def cron_schedule(cron: str, timezone: str | None) -> Schedule:
    """A Prefect cron schedule; a bad expression or time zone raises ConfigError with a sentence."""
    try:
        ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"Time zone {timezone!r} is unknown; use an IANA name such as 'Europe/London'.") from None
    try:
        return Cron(cron, timezone=timezone or "UTC")
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"Schedule {cron!r} in time zone {timezone or 'UTC'!r} is not valid: {exc}") from None


def nightly_parameters(sources: list[str], out_dir: str, settings: Settings, force: bool = False) -> dict[str, Any]:
    """Parameters of a run of ``annotate_footage``: absolute paths, so any working folder works."""
    return {"sources": [str(Path(s).expanduser().resolve()) for s in sources],
            "out_dir": str(Path(out_dir).expanduser().resolve()),
            "settings": settings.model_dump(mode="json"), "force": force}


def _description(sources: list[str], out_dir: str) -> str:
    return (f"FormWatch over {', '.join(sources)}: new or changed videos only, results in {out_dir} "
            "(Parquet datasets, clips, report.html).")


def serve_nightly(sources: list[str], out_dir: str, settings: Settings, schedule: Schedule,
                  force: bool = False, pool: str | None = None) -> None:
    """Register ``annotate_footage/formwatch-nightly`` with the schedule and serve it until stopped.

    With ``pool``, each video of a run becomes a ``formwatch-video`` child flow run on that
    work pool (registered here too) instead of a task of the served process.
    """
    if pool:
        register_video_deployment(pool)
        settings = _fan_out_to_pool(settings)
    parameters = nightly_parameters(sources, out_dir, settings, force)
    annotate_footage.serve(
        name=NIGHTLY, schedule=schedule, parameters=parameters,
        description=_description(parameters["sources"], parameters["out_dir"]),
        tags=["formwatch"], entrypoint_type=EntrypointType.MODULE_PATH, print_starting_message=False,
    )


def _fan_out_to_pool(settings: Settings) -> Settings:
    orchestration = settings.orchestration.model_copy(update={"video_deployment": VIDEO_DEPLOYMENT})
    return settings.model_copy(update={"orchestration": orchestration})


def ensure_work_pool(pool: str) -> None:
    """Create a process work pool named ``pool`` unless one exists (of any type)."""
    from prefect.workers.process import ProcessWorker

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(
                name=pool, type="process", base_job_template=ProcessWorker.get_default_base_job_template(),
                description="FormWatch: start `prefect worker start --pool <name>` on every machine that "
                            "processes footage."))


def register_video_deployment(pool: str) -> None:
    """``process-one-video/formwatch-video`` on ``pool``: the unit of work that workers share."""
    ensure_work_pool(pool)
    # Called from sync code, to_deployment dispatches to its sync form: a RunnerDeployment, not a coroutine.
    deployment = cast(RunnerDeployment, process_one_video.to_deployment(
        name=VIDEO, work_pool_name=pool, tags=["formwatch"], entrypoint_type=EntrypointType.MODULE_PATH,
        description="One video of a FormWatch run; started by annotate_footage, picked up by any worker.",
    ))
    deployment.apply()


def deploy_to_pool(sources: list[str], out_dir: str, settings: Settings, pool: str, schedule: Schedule | None,
                   force: bool = False) -> list[str]:
    """Register the nightly and the per-video deployments on ``pool``; return their names."""
    register_video_deployment(pool)
    parameters = nightly_parameters(sources, out_dir, _fan_out_to_pool(settings), force)
    deployment = cast(RunnerDeployment, annotate_footage.to_deployment(  # the sync form, as above
        name=NIGHTLY, work_pool_name=pool, schedule=schedule, parameters=parameters, tags=["formwatch"],
        description=_description(parameters["sources"], parameters["out_dir"]),
        entrypoint_type=EntrypointType.MODULE_PATH,
    ))
    deployment.apply()
    return [f"{annotate_footage.name}/{NIGHTLY}", VIDEO_DEPLOYMENT]
