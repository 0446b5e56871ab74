"""One video in, its files out, in one pass over its frames:

    decode -> pose model -> cuts, tracker and clothing   (three threads, bounded queues)
      -> detections in memory -> analysis (stitch, classify, measure)
      -> detections, runners, contacts, deviations: each file written once, whole
      -> clips: the annotated video and every highlight from one more decode

``process_video`` wraps it with the bookkeeping every video gets: its content id, a
``videos/`` row that says ``ok``, ``partial`` or ``failed`` with a sentence, and a commit
of all its files together (:mod:`pipeline.outputs`).
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.analysis import VideoAnalysis, analyse_detections
from pipeline.appearance import describe
from pipeline.camera import CAMERA_COLUMNS, similarity_parts
from pipeline.checkpoints import checkpoint
from pipeline.config import Settings
from pipeline.incremental import remove_outputs, run_key
from pipeline.outputs import (
    COMMITTED_STATUSES,
    OutputDiskError,
    commit_video,
    dataset_file,
    discard_staging,
    disk_error_sentence,
    remove_data,
    staging_dir,
    write_table_atomic,
)
from pipeline.pose_model import PoseEstimator
from pipeline.poses import KEYPOINT_NAMES, Poses
from pipeline.schemas import DETECTIONS, VIDEOS, to_table
from pipeline.shots import ShotDetector, frames_per_picture
from pipeline.stream import ahead, quick_switches
from pipeline.tracking import PoseTracker, buffer_frames
from pipeline.video import (
    DecodeDamage,
    Frame,
    VideoError,
    VideoInfo,
    content_id,
    is_transient,
    path_id,
    probe_video,
    read_frames,
)

#: Called as ``progress(frames_done, frames_expected)`` after every frame.
ProgressCallback = Callable[[int, int], None]

_FLUSH_ROWS = 2048
#: Frames each overlapped stage may run ahead of the next (decoded pictures held in memory).
FRAMES_AHEAD = 4


def formwatch_version() -> str:
    try:
        return version("formwatch")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class TrackingStats:
    """What one pass over a video's frames counted: frames, tracks kept and dropped, rows, whether
    it read to the end, decode damage, and what editing did (:mod:`pipeline.shots`): the first
    frame of each shot after the first, and the frames each picture is held for."""

    frames: int
    tracks: int
    tracks_dropped: int
    detections: int
    read_to_end: bool
    damage: DecodeDamage
    shot_starts: tuple[int, ...] = ()
    frames_per_picture: float = 1.0


class _DetectionBuffer:
    """Accumulates per-frame Poses as column arrays and flushes them as Arrow tables."""

    def __init__(self, video_id: str, fps: float) -> None:
        self.video_id = video_id
        self.fps = fps
        self._frames: list[tuple[int, Poses, np.ndarray]] = []
        self._camera: list[tuple[float, float, float, float]] = []
        self.rows = 0

    def add(self, frame_index: int, poses: Poses, appearance: np.ndarray, camera: np.ndarray | None = None) -> None:
        """Buffer one frame's people, their (N, appearance.DIMENSIONS) descriptors and the
        camera's motion into the frame (a 2x3 warp, None where not measured)."""
        if len(poses):
            self._frames.append((frame_index, poses, appearance))
            self._camera.append(similarity_parts(camera) if camera is not None else (math.nan,) * 4)
            self.rows += len(poses)

    def take(self) -> pa.Table:
        """Return the buffered rows as a DETECTIONS table and empty the buffer."""
        frames, self._frames, self.rows = self._frames, [], 0
        camera, self._camera = np.array(self._camera, np.float32).reshape(-1, 4), []
        if not frames:
            return DETECTIONS.empty_table()
        counts = [len(p) for _, p, _ in frames]
        camera = np.repeat(camera, counts, axis=0)
        frame = np.repeat([f for f, _, _ in frames], counts).astype(np.int64)
        xyxy = np.concatenate([p.xyxy for _, p, _ in frames])
        kps = np.concatenate([p.keypoints for _, p, _ in frames])
        kconf = np.concatenate([p.keypoint_confidence for _, p, _ in frames])
        looks = np.concatenate([a for _, _, a in frames])
        columns: dict[str, Any] = {
            "video_id": np.full(len(frame), self.video_id, dtype=object),
            "frame": frame,
            "time_s": frame / self.fps,
            "track_id": (track_id := np.concatenate([p.track_id for _, p, _ in frames])),
            "runner_id": track_id,  # until fragments are stitched by the analysis
            "box_x1": xyxy[:, 0], "box_y1": xyxy[:, 1], "box_x2": xyxy[:, 2], "box_y2": xyxy[:, 3],
            "box_conf": np.concatenate([p.confidence for _, p, _ in frames]),
            "appearance": pa.FixedSizeListArray.from_arrays(pa.array(looks.ravel(), pa.float32()), looks.shape[1]),
            **{name: camera[:, k] for k, name in enumerate(CAMERA_COLUMNS)},  # NaN (not measured): null
        }
        for k, name in enumerate(KEYPOINT_NAMES):
            columns[f"{name}_x"] = kps[:, k, 0]
            columns[f"{name}_y"] = kps[:, k, 1]
            columns[f"{name}_conf"] = kconf[:, k]
        return to_table(columns, DETECTIONS)


@dataclass(frozen=True)
class Tracked:
    """Every tracked person of one video, in memory: DETECTIONS rows (``runner_id`` still the
    tracker's id) of the tracks that last ``tracking.min_track_duration_s``, and the counts."""

    detections: pa.Table
    stats: TrackingStats


def posed_frames(frames: Iterable[Frame], estimator: PoseEstimator) -> Iterator[tuple[Frame, Poses]]:
    """(frame, its poses) in frame order: with PyTorch, the frames put through the model
    ``batch_frames`` at a time (a batch ends early at a change of frame size); with OpenVINO,
    pipelined, a few frames in the model at once."""
    if estimator.pipelines:
        yield from estimator.pipelined(frames, lambda frame: frame.image)
        return
    size = estimator.batch_frames
    batch: list[Frame] = []
    for frame in frames:
        if batch and (len(batch) == size or frame.image.shape != batch[0].image.shape):
            yield from zip(batch, estimator.batch([f.image for f in batch]), strict=True)
            batch = []
        batch.append(frame)
    if batch:
        yield from zip(batch, estimator.batch([f.image for f in batch]), strict=True)


def track_video(
    info: VideoInfo,
    video_id: str,
    settings: Settings,
    weights_path: Path,
    progress: ProgressCallback | None = None,
    first_frame: threading.Event | None = None,
) -> Tracked:
    """Detect and track every person of the analysed span; return their rows in memory.

    Three stages overlap, each in its own thread behind a bounded queue (:func:`ahead`):
    decoding, the pose model, and the tracker with the clothing descriptors. At a hard cut
    (:mod:`pipeline.shots`) the tracker starts afresh, so no id runs across two shots; the
    first frame of each later shot is in ``stats.shot_starts``. Rows are packed
    into Arrow tables every ``_FLUSH_ROWS`` rows (a few bytes a keypoint, not Python objects);
    tracks shorter than ``tracking.min_track_duration_s`` are dropped at the end.
    """
    estimator = PoseEstimator(settings.model, weights_path)
    tracker = PoseTracker(settings.tracking, info.fps)
    shots, shot_starts = ShotDetector(), []
    start_s, end_s = settings.video.start_s, settings.video.end_s
    expected = _expected_frames(info, start_s, end_s)
    buffer = _DetectionBuffer(video_id, info.fps)
    chunks: list[pa.Table] = []
    frames_per_track: Counter[int] = Counter()
    damage = DecodeDamage()
    frames = 0
    last_index = -1
    with quick_switches():  # the pose model's thread takes the GIL back quickly between frames
        decoded = ahead(read_frames(info.path, info.fps, start_s, end_s, damage), FRAMES_AHEAD, "decode")
        detected = ahead(posed_frames(decoded, estimator), FRAMES_AHEAD * estimator.batch_frames, "pose")
        for frame, people in detected:
            if shots.update(frame.image) and frames:
                tracker.new_shot()
                shot_starts.append(frame.index)
            poses = tracker.update(people, frame.image)
            buffer.add(frame.index, poses, describe(frame.image, poses), tracker.camera_warp)
            frames_per_track.update(poses.track_id.tolist())
            frames += 1
            last_index = frame.index
            if frames == 1:
                checkpoint("inference")
                if first_frame is not None:
                    first_frame.set()
            if buffer.rows >= _FLUSH_ROWS:
                chunks.append(buffer.take())
            if progress:
                progress(frames, expected)
    chunks.append(buffer.take())
    if frames == 0:
        lost = f" ({damage.frames_lost} frames did not decode: {damage.reason})" if damage.frames_lost else ""
        raise VideoError(f"{Path(info.path).name}: no frame decodes between {start_s} s and {end_s} s{lost}.")
    min_frames = buffer_frames(settings.tracking.min_track_duration_s, info.fps)
    kept = sorted(t for t, n in frames_per_track.items() if n >= min_frames)
    table = pa.concat_tables(chunks)
    table = table.filter(pc.is_in(table["track_id"], value_set=pa.array(kept, pa.int64())))
    read_to_end = end_s is None or (last_index + 1) / info.fps < end_s
    stats = TrackingStats(frames, len(kept), len(frames_per_track) - len(kept), table.num_rows, read_to_end, damage,
                          tuple(shot_starts), frames_per_picture(shots.layout_changes))
    return Tracked(table, stats)


def _expected_frames(info: VideoInfo, start_s: float, end_s: float | None) -> int:
    total = info.frames_declared or round((info.duration_s or 0.0) * info.fps)
    stop = total if end_s is None else min(total, round(end_s * info.fps))
    return max(0, stop - round(start_s * info.fps))


@dataclass(frozen=True)
class Analysed:
    """One video's analysis and its detections with each row's stitched ``runner_id``."""

    detections: pa.Table
    result: VideoAnalysis


def analyse_video(info: VideoInfo, video_id: str, settings: Settings, detections: pa.Table,
                  shot_starts: tuple[int, ...] = (), frames_per_picture: float = 1.0,
                  span: tuple[int, int] | None = None) -> Analysed:
    """Stitch (within each shot), classify and measure every person of ``detections`` (one
    video's rows, in memory); ``span``: the [first, last] frames read."""
    analysis_settings = settings.analysis.for_video(Path(info.path).name, video_id)
    result = analyse_detections(detections, info.fps, info.width, info.height, analysis_settings, shot_starts,
                                frames_per_picture, span)
    if result.id_map:
        raw_ids = pa.array(list(result.id_map), pa.int64())
        runner_ids = pa.array(list(result.id_map.values()), pa.int64())
        mapped = pc.take(runner_ids, pc.index_in(detections["track_id"], value_set=raw_ids))
        runner_id = cast(pa.ChunkedArray, pc.coalesce(mapped, detections["track_id"]))
        detections = detections.set_column(detections.schema.get_field_index("runner_id"),
                                           DETECTIONS.field("runner_id"), runner_id)
    return Analysed(detections, result)


def write_video_tables(out_dir: Path, video_id: str, analysed: Analysed) -> None:
    """Write the video's four data files, each once and whole: detections, runners, contacts, deviations."""
    tables = {"detections": analysed.detections, "runners": analysed.result.runners,
              "contacts": analysed.result.contacts, "deviations": analysed.result.deviations}
    for name, table in tables.items():
        write_table_atomic(table, dataset_file(out_dir, name, video_id))


def render_clips(info: VideoInfo, video_id: str, settings: Settings, out_dir: Path, analysed: Analysed) -> int:
    """Write clips/<video_id>/annotated.mp4 and a highlight per runner with a flagged fault, from
    one decode of the video; returns the number of clips written."""
    from pipeline.render import render_video_clips

    result = analysed.result
    return render_video_clips(info.path, info.fps, out_dir / "clips" / video_id, analysed.detections,
                              result.runners, result.deviations, settings.render,
                              settings.video.start_s, settings.video.end_s)


def process_video(
    path: str | Path,
    settings: Settings,
    out_dir: str | Path,
    weights_path: Path,
    progress: ProgressCallback | None = None,
    video_id: str | None = None,
    supersedes: tuple[str, ...] = (),
    inference_slot: Callable[[], AbstractContextManager[Any]] = nullcontext,
) -> dict[str, Any]:
    """Process one file and commit its files and ``videos/`` row; return that row as a dict.

    A file that cannot be read (missing, not a video, corrupt) gives a ``failed`` row with
    the reason instead of an exception, so one bad file never stops a batch; a file with
    damaged packets gives a ``partial`` row (``frames_lost``) and the analysis of what
    decoded. A transient I/O error (see :func:`pipeline.video.is_transient`) is raised
    instead, for the caller to retry; a full or read-only output disk raises
    :class:`~pipeline.outputs.OutputDiskError` after recording the video as failed where it
    still can. The files are written into a staging folder and committed together (see
    :mod:`pipeline.outputs`). ``video_id`` is the content hash, computed when not given;
    ``inference_slot()`` is entered around the pose model's pass (a concurrency limit), and
    the wait for it is ``slot_wait_s``, not part of ``processing_s``. The outputs of
    ``supersedes`` (earlier contents of this path, from the plan) are deleted once this row
    is written.
    """
    started = time.perf_counter()
    out_dir = Path(out_dir)
    path = Path(path).resolve()
    row: dict[str, Any] = {name: None for name in VIDEOS.names}
    row.update(path=str(path), weights=weights_path.name, formwatch_version=formwatch_version(), slot_wait_s=0.0)
    try:
        stat = path.stat()
        row.update(file_bytes=stat.st_size, file_mtime_ns=stat.st_mtime_ns)
        row["video_id"] = video_id or content_id(path)
        row.update(run_key(settings, weights_path).columns())
        _process_into_staging(row, path, settings, out_dir, weights_path, progress, inference_slot)
    except (VideoError, OSError) as exc:
        if row["video_id"]:
            discard_staging(out_dir, row["video_id"])
        disk = disk_error_sentence(exc, out_dir)
        if disk:
            _record_disk_failure(row, disk, out_dir, started)
            raise OutputDiskError(disk) from None
        if is_transient(exc):
            raise
        row.update(status="failed", error=_sentence(exc, path))
        if row["video_id"] is None:  # unreadable file: fall back to an id of its path
            row["video_id"] = path_id(path)
    row = _commit(row, out_dir, started)
    for old in supersedes:
        if old != row["video_id"]:
            remove_outputs(out_dir, old)
    return row


def _process_into_staging(row: dict[str, Any], path: Path, settings: Settings, out_dir: Path, weights_path: Path,
                          progress: ProgressCallback | None,
                          inference_slot: Callable[[], AbstractContextManager[Any]]) -> None:
    """Track, analyse and render one video into its staging folder; fill ``row`` (status ok or partial)."""
    video_id = row["video_id"]
    stage = staging_dir(out_dir, video_id)
    discard_staging(out_dir, video_id)
    tracked = _take_head_start(video_id, settings, weights_path)  # waits for it, if one was started; may raise
    info = probe_video(path)
    row.update(fps=info.fps, frames_declared=info.frames_declared, width=info.width, height=info.height,
               rotation_deg=info.rotation_deg, duration_s=info.duration_s)
    if tracked is None:
        asked = time.perf_counter()
        with inference_slot():
            row["slot_wait_s"] = time.perf_counter() - asked
            tracked = track_video(info, video_id, settings, weights_path, progress)
    stats = tracked.stats
    first = math.ceil(settings.video.start_s * info.fps - 1e-9)  # read_frames: the first index / fps >= start_s
    analysed = analyse_video(info, video_id, settings, tracked.detections, stats.shot_starts,
                             stats.frames_per_picture, (first, first + stats.frames + stats.damage.frames_lost - 1))
    write_video_tables(stage, video_id, analysed)
    analysis = analysed.result
    runners = analysis.runners
    row.update(
        tracks_merged=analysis.tracks_merged, people=runners.num_rows,
        runners=int(pc.sum(pc.cast(runners["is_runner"], pa.int32())).as_py() or 0),
        slow_motion_suspected=analysis.slow_motion_suspected,
        slow_motion_factor=analysis.slow_motion_factor if np.isfinite(analysis.slow_motion_factor) else None,
        capture_fps=None if analysis.capture_fps_source == "container" else analysis.capture_fps,
        capture_fps_source=analysis.capture_fps_source,
        slow_motion_ranges=[list(r) for r in analysis.slow_motion_ranges] if analysis.slow_motion_suspected else None,
        clips=render_clips(info, video_id, settings, stage, analysed) if settings.render.clips else 0,
    )
    start_s, damage = settings.video.start_s, stats.damage
    row.update(
        status="partial" if damage.frames_lost else "ok", error=_damage_sentence(path, damage, stats.frames),
        frames=stats.frames, frames_lost=damage.frames_lost, tracks=stats.tracks,
        tracks_dropped=stats.tracks_dropped, detections=stats.detections, shot_starts=list(stats.shot_starts),
        frames_per_picture=stats.frames_per_picture,
        analysed_start_s=start_s,
        analysed_end_s=start_s + (stats.frames + damage.frames_lost) / info.fps,
    )
    if stats.read_to_end and start_s == 0.0:
        row["duration_s"] = (stats.frames + damage.frames_lost) / info.fps


_HEAD_STARTS: dict[tuple[str, str], Future[Tracked]] = {}
_HEAD_STARTS_LOCK = threading.Lock()


def _head_start_key(video_id: str, settings: Settings, weights_path: Path) -> tuple[str, str]:
    return video_id, f"{Path(weights_path).resolve()}|{settings.model_dump_json()}"


def head_start(path: str | Path, settings: Settings, weights_path: Path,
               inference_slot: Callable[[], AbstractContextManager[Any]] = nullcontext,
               first_frame: threading.Event | None = None) -> Future[Tracked]:
    """Start detecting and tracking one video in a background thread, before its task runs.

    For a command that first waits on something else (Prefect's embedded server takes ~8 s to
    start on 2 cores): the video's frames go through the pose model meanwhile, under an
    inference slot like any other, and :func:`process_video` of the same video, settings and
    weights in this process takes the result (or its error) instead of tracking again. Nothing
    is written: the task still does everything else, so a run that stops before it (the output
    folder busy) leaves nothing behind. ``first_frame`` is set once the first frame has been
    through the pose model (or the head start has failed).
    """
    video_id = content_id(path)
    future: Future[Tracked] = Future()

    def run() -> None:
        try:
            info = probe_video(Path(path).resolve())
            with inference_slot():
                future.set_result(track_video(info, video_id, settings, weights_path, first_frame=first_frame))
        except BaseException as exc:  # noqa: BLE001 - handed to process_video, which reports it
            future.set_exception(exc)
        finally:
            if first_frame is not None:
                first_frame.set()

    with _HEAD_STARTS_LOCK:
        _HEAD_STARTS[_head_start_key(video_id, settings, weights_path)] = future
    threading.Thread(target=run, name="formwatch-head-start", daemon=True).start()
    return future


def _take_head_start(video_id: str, settings: Settings, weights_path: Path) -> Tracked | None:
    with _HEAD_STARTS_LOCK:
        future = _HEAD_STARTS.pop(_head_start_key(video_id, settings, weights_path), None)
    return None if future is None else future.result()


def _commit(row: dict[str, Any], out_dir: Path, started: float) -> dict[str, Any]:
    """Write the row (committing the staged files); a full or read-only disk raises OutputDiskError."""
    try:
        return write_video_row(row, out_dir, started)
    except OSError as exc:
        disk = disk_error_sentence(exc, out_dir)
        if not disk:
            raise
        _record_disk_failure(row, disk, out_dir, started)
        raise OutputDiskError(disk) from None


def _damage_sentence(path: Path, damage: DecodeDamage, frames: int) -> str | None:
    if not damage.frames_lost:
        return None
    return (f"{path.name}: {damage.frames_lost} frames did not decode (the first at frame {damage.first_lost}: "
            f"{damage.reason}); the {frames} frames that did were analysed.")


def _record_disk_failure(row: dict[str, Any], sentence: str, out_dir: Path, started: float) -> None:
    """Write the failed row of a video the output disk could not take, if the disk still takes that."""
    row.update(status="failed", error=sentence)
    row["video_id"] = row["video_id"] or path_id(row["path"])
    try:
        write_video_row(row, out_dir, started)
    except OSError:
        remove_data(out_dir, row["video_id"])


def failed_row(path: str | Path, error: str, weights_name: str) -> dict[str, Any]:
    """A ``videos/`` row for a file whose processing broke in an unexpected way."""
    path = Path(path).resolve()
    row: dict[str, Any] = {name: None for name in VIDEOS.names}
    try:
        video_id = content_id(path)
    except OSError:
        video_id = path_id(path)
    row.update(video_id=video_id, path=str(path), status="failed", error=error, weights=weights_name,
               formwatch_version=formwatch_version())
    return row


def write_video_row(row: dict[str, Any], out_dir: str | Path, started: float | None = None) -> dict[str, Any]:
    """Stamp timing on ``row`` and commit it as ``videos/<video_id>.parquet``.

    An ``ok`` or ``partial`` row commits the video's staged files with it; a ``failed`` row
    removes any files of that video. ``processing_s`` leaves out ``slot_wait_s``.
    """
    if started is not None:
        row["processing_s"] = time.perf_counter() - started - (row.get("slot_wait_s") or 0.0)
    row["processed_at"] = datetime.now(UTC)
    table = to_table({k: [v] for k, v in row.items()}, VIDEOS)
    if row["status"] in COMMITTED_STATUSES:
        commit_video(out_dir, row["video_id"], table)
    else:
        remove_data(out_dir, row["video_id"])
        write_table_atomic(table, dataset_file(out_dir, "videos", row["video_id"]))
    return row


def _sentence(exc: BaseException, path: Path) -> str:
    if isinstance(exc, VideoError):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"{path.name} no longer exists."
    if isinstance(exc, PermissionError):
        return f"{path.name} cannot be read (permission denied)."
    return f"{path.name} could not be read ({exc})."
