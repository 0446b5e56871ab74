"""The FormWatch flows: ``annotate_footage`` over folders, ``process_one_video`` for one file.

Thin by design: each task wraps one ``pipeline`` function and only paths, settings and
small dicts pass between tasks, never frames.

``annotate_footage`` finds the videos, plans which need processing (incremental: see
``pipeline.incremental``), then fans the rest out either as tasks on a task runner
chosen by ``settings.orchestration`` (threads, processes or Dask) or, when
``orchestration.video_deployment`` names a deployment, as one child flow run of
``process_one_video`` per video, which any worker of that deployment's work pool may run.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.states import Failed, State

from flows.runners import inference_slot, make_task_runner
from pipeline.config import WEIGHTS_ENV, Settings
from pipeline.incremental import PlannedVideo, plan_videos, read_video_rows, run_key
from pipeline.outputs import (
    COMMITTED_STATUSES,
    OutputBusyError,
    OutputDiskError,
    OutputError,
    OutputLock,
    check_output_folder,
    clean_leftovers,
    dataset_file,
    disk_error_sentence,
)
from pipeline.pose_model import resolve_weights
from pipeline.process import failed_row, process_video, write_video_row
from pipeline.progress import current_reporter
from pipeline.stats import run_markdown, run_table, summary_markdown
from pipeline.video import discover_videos, is_transient

#: The per-video deployment that `formwatch deploy` registers beside the nightly one.
VIDEO_DEPLOYMENT = "process-one-video/formwatch-video"


@task(name="resolve-weights", cache_policy=NO_CACHE)
def resolve_weights_task(weights: str) -> str:
    return str(resolve_weights(weights))


@task(name="find-videos", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def find_videos_task(sources: list[str], extensions: tuple[str, ...]) -> list[str]:
    found = discover_videos(sources, extensions)
    for path, reason in found.passed_over:
        get_run_logger().warning("%s: not processed: %s", path, reason)
    return [str(p) for p in found.videos]


@task(name="clean-output-folder", cache_policy=NO_CACHE)
def clean_leftovers_task(out_dir: str) -> list[str]:
    """Remove what an interrupted run left in ``out_dir`` (call it holding the folder lock)."""
    rows = read_video_rows(out_dir)
    committed = {vid for vid, row in rows.items() if row["status"] in COMMITTED_STATUSES}
    unread = {p.stem for p in (Path(out_dir) / "videos").glob("*.parquet")} - rows.keys()
    removed = clean_leftovers(out_dir, committed | unread)  # a row that could not be read keeps its files
    if removed:
        get_run_logger().warning("Removed %d leftovers of an interrupted run from %s: %s", len(removed), out_dir,
                                 ", ".join(removed[:10]) + (" ..." if len(removed) > 10 else ""))
    return removed


@task(name="plan-videos", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def plan_videos_task(paths: list[str], out_dir: str, settings: Settings, weights_path: str,
                     force: bool) -> list[PlannedVideo]:
    plan = plan_videos(paths, out_dir, run_key(settings, weights_path), force)
    logger = get_run_logger()
    for item in plan:
        logger.info("%s: %s (%s)", Path(item.path).name, "process" if item.process else "skip", item.reason)
    return plan


def _retry_if_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry condition: only transient I/O errors (a corrupt video is recorded, not retried)."""
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001 - the state's own exception, re-raised to inspect it
        return is_transient(exc)
    return False


@task(name="process-video", tags=["pose-inference"], cache_policy=NO_CACHE,
      task_run_name="process-video-{video_id}", retry_condition_fn=_retry_if_transient)
def process_video_task(path: str, settings: Settings, out_dir: str, weights_path: str,
                       video_id: str | None = None, supersedes: tuple[str, ...] = ()) -> dict[str, Any]:
    reporter = current_reporter()
    reporter.start_video(Path(path).name, 0)
    slot = functools.partial(inference_slot, settings.orchestration.inference_slots)
    logger = get_run_logger()
    try:
        row = process_video(path, settings, out_dir, Path(weights_path), progress=reporter.advance_video,
                            video_id=video_id, supersedes=tuple(supersedes), inference_slot=slot)
    except OutputError as exc:  # the flow stops the run with this sentence; no traceback in the log
        logger.error("%s: %s", Path(path).name, exc)
        return {"path": path, "status": "failed", "error": str(exc), "output_error": str(exc)}
    finally:
        reporter.finish_video()
    if row["status"] == "failed":
        logger.warning("%s failed: %s", Path(path).name, row["error"])
        return row
    logger.info("%s: %d frames at %.3f fps, %d tracks, %d runners in %.1f s (%.1f s waiting for an inference slot)",
                Path(path).name, row["frames"], row["fps"], row["tracks"], row["runners"], row["processing_s"],
                row["slot_wait_s"] or 0.0)
    if row["status"] == "partial":
        logger.warning("%s is partial: %s", Path(path).name, row["error"])
    return row


def _with_retries(settings: Settings) -> Any:
    o = settings.orchestration
    return process_video_task.with_options(
        retries=o.retries, retry_delay_seconds=[o.retry_delay_s * 2**i for i in range(o.retries)] or 0,
    )


@task(name="publish-artifacts", cache_policy=NO_CACHE)
def publish_artifacts_task(out_dir: str, rows: list[dict[str, Any]], skipped: list[PlannedVideo],
                           report: str | None) -> None:
    """The run's summary, a table of every person and fault, and a page of clips, in the Prefect UI."""
    create_markdown_artifact(key="formwatch-summary", markdown=summary_markdown(out_dir, rows, skipped),
                             description="Videos processed, skipped and failed by this run; runners found")
    ok = sum(r["status"] in COMMITTED_STATUSES for r in rows)
    create_table_artifact(key="formwatch-runners", table=run_table(out_dir, rows),
                          description=f"People in the {ok} videos processed by this run; "
                          "form verdicts for runners only.")
    create_markdown_artifact(key="formwatch-clips", markdown=run_markdown(out_dir, rows, report),
                             description="Clips and failures of this run")


@task(name="name-athletes", cache_policy=NO_CACHE)
def athletes_task(out_dir: str, settings: Settings, sources: list[str], rows: list[dict[str, Any]]) -> None:
    """Names from the roster, the folders and proposals; the progress dataset; the athletes artifact."""
    from pipeline.coach.names import NamingError
    from pipeline.coach.nightly import night_markdown
    from pipeline.coach.progress import write_progress
    from pipeline.coach.sources import sync_names

    logger = get_run_logger()
    ids = [r["video_id"] for r in rows if r["status"] in COMMITTED_STATUSES]
    try:
        sync_names(out_dir, settings.athletes, list(sources))
        write_progress(out_dir, settings.analysis)
        markdown = night_markdown(out_dir, ids, settings.analysis)
    except NamingError as exc:  # a roster typo must not cost the night's results, but it is said loudly
        logger.error("Athletes not updated: %s", exc)
        markdown = f"# Athletes seen in this run\n\nNot updated: {exc}"
    except OSError as exc:  # a full or read-only disk stops the run with its sentence, like a video's files
        sentence = disk_error_sentence(exc, out_dir)
        if sentence:
            raise OutputDiskError(sentence) from None
        raise
    create_markdown_artifact(key="formwatch-athletes", markdown=markdown,
                             description="Named athletes seen in this run and any measurable change in their form")


@task(name="write-report", cache_policy=NO_CACHE)
def write_report_task(out_dir: str) -> str:
    from pipeline.report import write_report

    return str(write_report(out_dir))


def _run_name() -> str:
    """``2026-12-02 02:00 · footage``: when and what; the video count is added once they are found."""
    from prefect.runtime import flow_run

    sources = flow_run.parameters.get("sources") or []
    first = Path(sources[0]).name if sources else "nothing"
    more = f" +{len(sources) - 1}" if len(sources) > 1 else ""
    return f"{datetime.now():%Y-%m-%d %H:%M} · {first}{more}"


def _name_with_count(videos: int) -> None:
    """Rename this flow run ``... · 14 videos`` so the runs list says how much each one saw."""
    from prefect.runtime import flow_run

    with get_client(sync_client=True) as client:
        client.update_flow_run(flow_run.id, name=f"{flow_run.name} · {videos} videos")


def _video_run_name() -> str:
    from prefect.runtime import flow_run

    return Path(flow_run.parameters.get("path", "video")).name


def _row_of(state: Any, path: str, out_dir: str, weights_path: str) -> dict[str, Any]:
    """The videos/ row a finished task returned, or a failed row written for it when it broke
    (retries exhausted, an unexpected error), so the batch carries on."""
    if state.is_completed():
        return state.result()
    message = f"unexpected error while processing: {state.message or state.name}"
    try:
        return write_video_row(failed_row(path, message, Path(weights_path).name), out_dir)
    except OSError as exc:
        disk = disk_error_sentence(exc, out_dir)
        if not disk:
            raise
        return {"path": path, "status": "failed", "error": disk, "output_error": disk}


@contextlib.contextmanager
def _api_shared_with_workers() -> Iterator[None]:
    """Make processes spawned from here (pool or Dask workers) report to this run's API.

    Without a server (PREFECT_API_URL unset) Prefect serves the API from a temporary local
    server; a spawned process would otherwise start its own and keep its task runs apart
    from this run's. Set in the environment for spawned
    processes and in the settings that Prefect sends along with each task.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if PREFECT_API_URL.value():
        yield
        return
    with get_client(sync_client=True) as client:
        url = str(client.api_url)
    saved = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = url
    try:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield
    finally:
        if saved is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = saved


def _process_as_tasks(todo: list[PlannedVideo], settings: Settings, out_dir: str,
                      weights_path: str) -> list[dict[str, Any]]:
    process = _with_retries(settings)
    shared = _api_shared_with_workers() if settings.orchestration.task_runner != "thread" else contextlib.nullcontext()
    with shared, make_task_runner(settings.orchestration) as runner:
        futures = [
            runner.submit(process, {"path": item.path, "settings": settings, "out_dir": out_dir,
                                    "weights_path": weights_path, "video_id": item.video_id,
                                    "supersedes": item.supersedes})
            for item in todo
        ]
        for future in futures:
            future.wait()
        return [_row_of(future.state, item.path, out_dir, weights_path) for item, future in zip(todo, futures,
                                                                                                 strict=True)]


def _process_as_child_flows(todo: list[PlannedVideo], settings: Settings, deployment: str, out_dir: str,
                            weights_path: str) -> list[dict[str, Any]]:
    """One ``process_one_video`` flow run per video of ``deployment`` (settings.orchestration.video_deployment)
    on the work pool; wait for all of them."""
    import pyarrow.parquet as pq
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment

    logger = get_run_logger()
    runs = {}
    for item in todo:
        parameters = {"path": item.path, "out_dir": out_dir, "settings": settings, "video_id": item.video_id,
                      "supersedes": list(item.supersedes)}
        # A sync call in a sync flow: run_deployment dispatches to its sync form and returns the FlowRun.
        run = cast(FlowRun, run_deployment(deployment, parameters=parameters, timeout=0, as_subflow=True))
        runs[run.id] = item
    logger.info("%d child flow runs of %s created; any worker of its pool may run them", len(runs), deployment)
    states: dict[Any, Any] = {}
    with get_client(sync_client=True) as client:
        while len(states) < len(runs):
            time.sleep(2.0)
            for run_id in runs.keys() - states.keys():
                state = client.read_flow_run(run_id).state
                if state is not None and state.is_final():
                    states[run_id] = state
    rows = []
    for run_id, item in runs.items():
        state = states[run_id]
        row_file = dataset_file(out_dir, "videos", item.video_id)
        if state.is_completed() and row_file.is_file():
            rows.append(pq.read_table(row_file).to_pylist()[0])
        else:
            message = f"unexpected error while processing: child flow run {state.name}: {state.message}"
            rows.append(write_video_row(failed_row(item.path, message, Path(weights_path).name), out_dir))
    return rows


@flow(name="annotate_footage", flow_run_name=_run_name, validate_parameters=True)
def annotate_footage(sources: list[str], out_dir: str = "output", settings: Settings | None = None,
                     force: bool = False) -> dict[str, Any] | State:
    """Detect, track and analyse every new or changed video under ``sources``; write to ``out_dir``.

    Videos whose earlier results match their content, the settings, the weights and the
    analysis version are skipped unless ``force``. Returns counts (found, processed, ok,
    partial, skipped, failed) and the ``videos/`` rows of the processed videos. When the
    output folder cannot be used (in use by another run, full, read-only) the run ends
    in a Failed state whose message is the sentence and whose data says ``error_kind``.
    """
    settings = settings or Settings()
    logger = get_run_logger()
    try:
        check_output_folder(out_dir)
        wait = settings.orchestration.if_output_busy == "wait"
        with OutputLock(out_dir, wait=wait, log=logger.warning):
            return _annotate(sources, out_dir, settings, force)
    except OutputError as exc:
        logger.error("%s", exc)
        kind = "busy" if isinstance(exc, OutputBusyError) else "environment"
        return Failed(message=str(exc), data={"error": str(exc), "error_kind": kind, "out_dir": out_dir})


def _annotate(sources: list[str], out_dir: str, settings: Settings, force: bool) -> dict[str, Any]:
    """The run itself, holding the output folder: clean up, plan, process, report."""
    weights_path = resolve_weights_task(settings.model.weights)
    clean_leftovers_task(out_dir)
    paths = find_videos_task(sources, settings.video.extensions)
    _name_with_count(len(paths))
    plan = plan_videos_task(paths, out_dir, settings, weights_path, force)
    todo = [item for item in plan if item.process]
    skipped = [item for item in plan if not item.process]
    current_reporter().start_batch(len(todo))
    if not todo:
        rows = []
    elif settings.orchestration.video_deployment:
        rows = _process_as_child_flows(todo, settings, settings.orchestration.video_deployment, out_dir, weights_path)
    else:
        rows = _process_as_tasks(todo, settings, out_dir, weights_path)
    stopped = next((r["output_error"] for r in rows if r.get("output_error")), None)
    if stopped:
        raise OutputError(stopped)
    athletes_task(out_dir, settings, sources, rows)
    report = write_report_task(out_dir) if rows else None
    publish_artifacts_task(out_dir, rows, skipped, report)
    counts = Counter(r["status"] for r in rows)
    get_run_logger().info("%d videos found: %d processed (%d partial, %d failed), %d skipped as unchanged; "
                          "results in %s", len(plan), len(rows), counts["partial"], counts["failed"], len(skipped),
                          out_dir)
    return {"found": len(plan), "videos": len(rows), "ok": counts["ok"], "partial": counts["partial"],
            "failed": counts["failed"], "skipped": len(skipped),
            "runners": sum(r.get("runners") or 0 for r in rows), "out_dir": out_dir, "rows": rows}


@flow(name="process-one-video", flow_run_name=_video_run_name, validate_parameters=True)
def process_one_video(path: str, out_dir: str, settings: Settings, video_id: str | None = None,
                      supersedes: list[str] | None = None) -> dict[str, Any]:
    """One video, as a child flow run that any worker of the work pool may pick up.

    The weights are resolved on the worker's machine (``model.weights``, or ``FORMWATCH_WEIGHTS``
    there); ``out_dir`` must be storage every worker shares.
    """
    weights = settings.model.weights
    if not Path(weights).is_file() and os.environ.get(WEIGHTS_ENV):  # this worker keeps them elsewhere
        weights = os.environ[WEIGHTS_ENV]
    weights_path = resolve_weights_task(weights)
    state = _with_retries(settings)(path, settings, out_dir, weights_path, video_id, tuple(supersedes or ()),
                                    return_state=True)
    return _row_of(state, path, out_dir, weights_path)
