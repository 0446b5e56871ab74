"""The ``annotate_footage`` flow: every video in the sources, detected, tracked, written.

Thin by design: each task wraps one ``pipeline`` function and only paths, settings and
small dicts pass between tasks, never frames.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from pipeline.config import Settings
from pipeline.pose_model import resolve_weights
from pipeline.process import failed_row, process_video, write_video_row
from pipeline.progress import current_reporter
from pipeline.stats import run_markdown, run_table
from pipeline.video import find_videos


@task(name="resolve-weights", cache_policy=NO_CACHE)
def resolve_weights_task(weights: str) -> str:
    return str(resolve_weights(weights))


@task(name="find-videos", cache_policy=NO_CACHE)
def find_videos_task(sources: list[str], extensions: tuple[str, ...]) -> list[str]:
    return [str(p) for p in find_videos(sources, extensions)]


@task(name="process-video", tags=["pose-inference"], cache_policy=NO_CACHE,
      task_run_name="process-video-{path}")
def process_video_task(path: str, settings: Settings, out_dir: str, weights_path: str) -> dict[str, Any]:
    reporter = current_reporter()
    reporter.start_video(Path(path).name, 0)
    try:
        row = process_video(path, settings, out_dir, Path(weights_path), progress=reporter.advance_video)
    finally:
        reporter.finish_video()
    logger = get_run_logger()
    if row["status"] == "ok":
        logger.info("%s: %d frames at %.3f fps, %d tracks, %d detections in %.1f s",
                    Path(path).name, row["frames"], row["fps"], row["tracks"], row["detections"],
                    row["processing_s"])
    else:
        logger.warning("%s failed: %s", Path(path).name, row["error"])
    return row


@task(name="publish-artifacts", cache_policy=NO_CACHE)
def publish_artifacts_task(out_dir: str, rows: list[dict[str, Any]], report: str | None) -> None:
    """A table of every person and fault, and a page linking the clips, in the Prefect UI."""
    ok = sum(r["status"] == "ok" for r in rows)
    create_table_artifact(key="formwatch-runners", table=run_table(out_dir, rows),
                          description=f"People in the {ok} videos of this run; form verdicts for runners only.")
    create_markdown_artifact(key="formwatch-clips", markdown=run_markdown(out_dir, rows, report),
                             description="Clips and failures of this run")


@task(name="write-report", cache_policy=NO_CACHE)
def write_report_task(out_dir: str) -> str:
    from pipeline.report import write_report

    return str(write_report(out_dir))


def _run_name() -> str:
    from prefect.runtime import flow_run

    sources = flow_run.parameters.get("sources") or []
    first = Path(sources[0]).name if sources else "nothing"
    more = f"+{len(sources) - 1}" if len(sources) > 1 else ""
    return f"{datetime.now():%Y-%m-%d-%H%M}-{first}{more}"


@flow(name="annotate_footage", flow_run_name=_run_name, validate_parameters=True)
def annotate_footage(sources: list[str], out_dir: str = "output", settings: Settings | None = None) -> dict[str, Any]:
    """Detect and track every person in every video under ``sources``; write Parquet to ``out_dir``.

    Returns a summary: counts of videos ok and failed, and the ``videos/`` rows.
    """
    settings = settings or Settings()
    weights_path = resolve_weights_task(settings.model.weights)
    paths = find_videos_task(sources, settings.video.extensions)
    current_reporter().start_batch(len(paths))
    rows = []
    for path in paths:
        state = process_video_task(path, settings, out_dir, weights_path, return_state=True)
        if state.is_completed():
            rows.append(state.result())
        else:  # an unexpected error: record it and carry on with the batch
            message = f"unexpected error while processing: {state.message}"
            rows.append(write_video_row(failed_row(path, message, Path(weights_path).name), out_dir))
    report = write_report_task(out_dir) if rows else None
    publish_artifacts_task(out_dir, rows, report)
    ok = sum(r["status"] == "ok" for r in rows)
    get_run_logger().info("%d videos processed, %d failed; results in %s", ok, len(rows) - ok, out_dir)
    return {"videos": len(rows), "ok": ok, "failed": len(rows) - ok, "out_dir": out_dir, "rows": rows}
