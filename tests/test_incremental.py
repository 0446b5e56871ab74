"""Incremental, idempotent runs; retries of transient I/O only; the inference concurrency limit."""

from __future__ import annotations

import contextlib
import errno
import threading
import time
from pathlib import Path

import av
import pyarrow.dataset as ds
import pytest
from clips import write_clip

from pipeline.config import Settings, load_settings
from pipeline.incremental import (
    RunKey,
    config_hash,
    plan_videos,
)
from pipeline.outputs import dataset_file
from pipeline.process import process_video, write_video_row
from pipeline.schemas import VIDEO_DATASETS, VIDEOS
from pipeline.video import VideoError, content_id, is_transient

# ---------------------------------------------------------------- planning, no model


def test_config_hash_ignores_where_the_work_runs_but_not_thresholds():
    base = config_hash(Settings())
    elsewhere = Settings.model_validate({"model": {"device": "cuda:1", "batch_frames": 32,
                                                   "weights": "/other/place/yolo11n-pose.pt"},
                                         "orchestration": {"task_runner": "dask", "workers": 8}})
    assert config_hash(elsewhere) == base
    assert config_hash(Settings.model_validate({"analysis": {"elbow_angle_max_deg": 115.0}})) != base
    assert config_hash(Settings.model_validate({"video": {"end_s": 10.0}})) != base
    assert len(base) == 16 and int(base, 16) >= 0


KEY = RunKey(config_hash="c" * 16, weights_sha256="w" * 16, analysis_version="v1")


def _record(out: Path, path: Path, key: RunKey = KEY, status: str = "ok") -> str:
    """Write the outputs and the videos/ row that a completed run leaves for ``path``."""
    video_id = content_id(path)
    for name in VIDEO_DATASETS[:-1]:
        file = dataset_file(out, name, video_id)
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(b"")
    stat = path.stat()
    row = dict.fromkeys(VIDEOS.names)
    row.update(video_id=video_id, path=str(path.resolve()), status=status, formwatch_version="test",
               file_bytes=stat.st_size, file_mtime_ns=stat.st_mtime_ns, **key.columns())
    write_video_row(row, out)
    return video_id


def _reasons(plan) -> dict[str, tuple[bool, str]]:
    return {Path(p.path).name: (p.process, p.reason) for p in plan}


def test_plan_processes_only_what_an_earlier_run_does_not_cover(tmp_path: Path):
    folder, out = tmp_path / "footage", tmp_path / "out"
    folder.mkdir()
    names = ["same.mp4", "edited.mp4", "failed.mp4", "no_outputs.mp4", "new.mp4", "copy_of_same.mp4"]
    for k, name in enumerate(names):
        (folder / name).write_bytes(f"video {k}".encode())
    (folder / "copy_of_same.mp4").write_bytes(b"video 0")
    _record(out, folder / "same.mp4")
    _record(out, folder / "edited.mp4")
    _record(out, folder / "failed.mp4", status="failed")
    no_outputs = _record(out, folder / "no_outputs.mp4")
    dataset_file(out, "contacts", no_outputs).unlink()
    (folder / "edited.mp4").write_bytes(b"video 1, trimmed")

    paths = [folder / n for n in names]
    assert _reasons(plan_videos(paths, out, KEY)) == {
        "same.mp4": (False, "unchanged"),
        "edited.mp4": (True, "changed"),
        "failed.mp4": (True, "failed before"),
        "no_outputs.mp4": (True, "outputs missing"),
        "new.mp4": (True, "new"),
        "copy_of_same.mp4": (False, f"same content as {folder / 'same.mp4'}"),
    }
    for key, reason in [(RunKey("x" * 16, KEY.weights_sha256, "v1"), "settings changed"),
                        (RunKey(KEY.config_hash, "x" * 16, "v1"), "weights changed"),
                        (RunKey(KEY.config_hash, KEY.weights_sha256, "v2"), "analysis version changed")]:
        assert _reasons(plan_videos([folder / "same.mp4"], out, key)) == {"same.mp4": (True, reason)}
    forced = plan_videos(paths, out, KEY, force=True)
    assert [p.process for p in forced] == [True] * 5 + [False]  # --force still skips the second copy


def test_an_unchanged_file_is_not_hashed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    video = tmp_path / "a.mp4"
    video.write_bytes(b"frames")
    _record(tmp_path / "out", video)

    def no_hashing(path):
        raise AssertionError(f"{path} was hashed although its size and mtime are unchanged")

    monkeypatch.setattr("pipeline.incremental.content_id", no_hashing)
    assert _reasons(plan_videos([video], tmp_path / "out", KEY)) == {"a.mp4": (False, "unchanged")}


def test_outputs_of_a_replaced_file_are_removed(tmp_path: Path):
    out = tmp_path / "out"
    video, other = tmp_path / "a.mp4", tmp_path / "b.mp4"
    video.write_bytes(b"first cut")
    other.write_bytes(b"other")
    old = _record(out, video)
    kept = _record(out, other)
    (out / "clips" / old).mkdir(parents=True)
    video.write_bytes(b"second cut")
    [planned] = plan_videos([video], out, KEY)
    assert (planned.reason, planned.supersedes) == ("changed", (old,))
    new = process_video(video, Settings(), out, Path(__file__), video_id=planned.video_id,
                        supersedes=planned.supersedes)["video_id"]  # not a video: a failed row, written
    _record(out, video)
    assert new == content_id(video)
    assert not (out / "clips" / old).exists()
    for name in VIDEO_DATASETS:
        assert not dataset_file(out, name, old).exists()
        assert dataset_file(out, name, new).exists() and dataset_file(out, name, kept).exists()


@pytest.mark.parametrize(("error", "transient"), [
    (OSError(errno.EIO, "Input/output error"), True),
    (OSError(errno.ESTALE, "Stale file handle"), True),
    (TimeoutError("read timed out"), True),
    (ConnectionResetError(errno.ECONNRESET, "reset"), True),
    (av.error.FFmpegError(errno.EIO, "I/O error"), True),
    (FileNotFoundError(errno.ENOENT, "gone"), False),
    (PermissionError(errno.EACCES, "denied"), False),
    (VideoError("corrupt.mov: no frame could be decoded."), False),
    (av.error.FFmpegError(1094995529, "Invalid data found when processing input"), False),
    (ValueError("a bug"), False),
])
def test_only_transient_io_errors_count_as_transient(error: BaseException, transient: bool):
    assert is_transient(error) is transient


# ---------------------------------------------------------------- whole runs


def _settings(weights: Path, **analysis: float) -> Settings:
    return load_settings(overrides={"model": {"weights": str(weights), "image_size": 320},
                                    "render": {"clips": False}, "analysis": analysis,
                                    "orchestration": {"retry_delay_s": 0.0}}, environ={})


def _files(out: Path) -> dict[str, set[str]]:
    return {name: {p.stem for p in (out / name).glob("*.parquet")} for name in VIDEO_DATASETS}


def test_nightly_runs_process_only_new_or_changed_videos(tmp_path: Path, weights: Path, prefect_harness):
    from flows.annotate import annotate_footage

    folder, out = tmp_path / "footage", tmp_path / "out"
    folder.mkdir()
    write_clip(folder / "a.mp4", frames=6)
    write_clip(folder / "b.mp4", frames=7)

    def run(**kwargs):
        summary = annotate_footage([str(folder)], str(out), kwargs.pop("settings", _settings(weights)), **kwargs)
        processed = sorted(Path(r["path"]).name for r in summary["rows"])
        files = _files(out)
        ids = files["videos"]
        assert all(names == ids for names in files.values()), files  # one file per video in every dataset
        assert ds.dataset(out / "videos").to_table().num_rows == len(ids)
        return summary, processed

    first, processed = run()
    assert processed == ["a.mp4", "b.mp4"] and first["skipped"] == 0
    detections = ds.dataset(out / "detections").to_table().num_rows

    second, processed = run()
    assert processed == [] and second["skipped"] == 2
    assert ds.dataset(out / "detections").to_table().num_rows == detections

    write_clip(folder / "c.mp4", frames=8)
    third, processed = run()
    assert processed == ["c.mp4"] and third["skipped"] == 2

    fourth, processed = run(settings=_settings(weights, elbow_angle_max_deg=115.0))
    assert processed == ["a.mp4", "b.mp4", "c.mp4"] and fourth["skipped"] == 0

    write_clip(folder / "a.mp4", frames=9)  # the same file, re-exported
    fifth, processed = run(settings=_settings(weights, elbow_angle_max_deg=115.0))
    assert processed == ["a.mp4"]
    paths = ds.dataset(out / "videos").to_table().column("path").to_pylist()
    assert sorted(Path(p).name for p in paths) == ["a.mp4", "b.mp4", "c.mp4"]  # the old cut's rows are gone

    forced, processed = run(settings=_settings(weights, elbow_angle_max_deg=115.0), force=True)
    assert processed == ["a.mp4", "b.mp4", "c.mp4"]


def test_transient_errors_are_retried_and_corrupt_videos_are_not(
        tmp_path: Path, weights: Path, prefect_harness, monkeypatch: pytest.MonkeyPatch):
    import flows.annotate
    from flows.annotate import annotate_footage

    folder = tmp_path / "footage"
    folder.mkdir()
    write_clip(folder / "flaky.mp4", frames=6)
    write_clip(folder / "dead_share.mp4", frames=7)
    (folder / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not really")
    real = flows.annotate.process_video
    calls: dict[str, int] = {}

    def share_hiccups(path, *args, **kwargs):
        name = Path(path).name
        calls[name] = calls.get(name, 0) + 1
        if name == "dead_share.mp4" or (name == "flaky.mp4" and calls[name] == 1):
            raise OSError(errno.EIO, "Input/output error", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(flows.annotate, "process_video", share_hiccups)
    summary = annotate_footage([str(folder)], str(tmp_path / "out"), _settings(weights))
    assert calls == {"flaky.mp4": 2, "dead_share.mp4": 3, "corrupt.mp4": 1}  # retries: 2
    rows = {Path(r["path"]).name: r for r in summary["rows"]}
    assert rows["flaky.mp4"]["status"] == "ok"
    assert rows["dead_share.mp4"]["status"] == "failed" and "Input/output error" in rows["dead_share.mp4"]["error"]
    assert rows["corrupt.mp4"]["status"] == "failed" and "corrupt.mp4" in rows["corrupt.mp4"]["error"]


def test_inference_runs_under_the_machine_concurrency_limit(
        tmp_path: Path, weights: Path, prefect_harness, monkeypatch: pytest.MonkeyPatch):
    import pipeline.process
    from flows.annotate import annotate_footage
    from flows.runners import inference_limit_name, slot_folder

    folder = tmp_path / "footage"
    folder.mkdir()
    for k in range(3):
        write_clip(folder / f"v{k}.mp4", frames=6 + k)
    real = pipeline.process.track_video
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()

    def timed(*args, **kwargs):
        started = time.monotonic()
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                spans.append((started, time.monotonic()))

    monkeypatch.setattr(pipeline.process, "track_video", timed)
    settings = _settings(weights)
    settings = settings.model_copy(update={"orchestration": settings.orchestration.model_copy(
        update={"workers": 3, "inference_slots": 1})})
    summary = annotate_footage([str(folder)], str(tmp_path / "out"), settings)
    assert summary["ok"] == 3 and len(spans) == 3
    spans.sort()
    assert all(later[0] >= earlier[1] for earlier, later in zip(spans, spans[1:], strict=False)), spans
    assert (slot_folder() / "slot-0.lock").is_file() and slot_folder().name == inference_limit_name()


def test_waiting_for_the_inference_slot_is_recorded_apart_from_processing(tmp_path: Path, weights: Path):
    clip = write_clip(tmp_path / "a.mp4", frames=3, size=(96, 64))

    @contextlib.contextmanager
    def busy_slot():
        time.sleep(2.0)  # another job holds the slot for 2 s
        yield

    started = time.perf_counter()
    row = process_video(clip, _settings(weights), tmp_path / "out", weights, inference_slot=busy_slot)
    wall = time.perf_counter() - started
    assert row["status"] == "ok" and 2.0 <= row["slot_wait_s"] < 2.5
    assert row["processing_s"] <= wall - 2.0
