"""The per-video pass on synthesised clips: the head start a command gives its first video."""

from __future__ import annotations

from pathlib import Path

import pyarrow.dataset as ds
import pytest
from clips import person_photo, write_clip

import pipeline.process
from pipeline.config import load_settings
from pipeline.process import head_start, process_video


def _settings(weights: Path, image_size: int = 320):
    return load_settings(overrides={"model": {"weights": str(weights), "image_size": image_size},
                                    "render": {"clips": False}}, environ={})


@pytest.fixture
def counted_tracking(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = pipeline.process.track_video

    def counting(info, *args, **kwargs):
        calls.append(Path(info.path).name)
        return real(info, *args, **kwargs)

    monkeypatch.setattr(pipeline.process, "track_video", counting)
    return calls


def test_a_head_start_is_taken_by_the_same_video_and_settings_only(tmp_path: Path, weights: Path,
                                                                   counted_tracking: list[str]):
    clip = write_clip(tmp_path / "a.mp4", frames=8, image=person_photo())
    settings = _settings(weights)
    head_start(clip, settings, weights).result()
    assert counted_tracking == ["a.mp4"]
    row = process_video(clip, settings, tmp_path / "out", weights)
    assert row["status"] == "ok" and row["frames"] == 8 and row["slot_wait_s"] == 0.0
    assert counted_tracking == ["a.mp4"]  # the task took the head start: tracked once
    alone = process_video(clip, settings, tmp_path / "alone", weights)  # nothing left to take
    assert counted_tracking == ["a.mp4", "a.mp4"]
    for name in ("detections", "runners"):
        assert ds.dataset(tmp_path / "out" / name).to_table().equals(ds.dataset(tmp_path / "alone" / name).to_table())
    counts = ("people", "runners", "detections")
    assert [row[k] for k in counts] == [alone[k] for k in counts]

    head_start(clip, _settings(weights, image_size=256), weights).result()  # other settings: not this run's
    process_video(clip, settings, tmp_path / "again", weights)
    assert counted_tracking == ["a.mp4", "a.mp4", "a.mp4", "a.mp4"]


def test_a_head_start_that_fails_gives_the_video_its_failed_row(tmp_path: Path, weights: Path):
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("not a video")
    settings = _settings(weights)
    head_start(not_video, settings, weights)
    row = process_video(not_video, settings, tmp_path / "out", weights)
    assert row["status"] == "failed" and "notes.mp4" in row["error"]


def test_a_head_start_says_when_its_first_frame_is_through_the_model(tmp_path: Path, weights: Path):
    """The CLI starts Prefect only after this event (or a timeout): set at the first frame, and
    also when the head start fails, so nothing waits for a frame that never comes."""
    import threading

    clip = write_clip(tmp_path / "a.mp4", frames=8, image=person_photo())
    seen = threading.Event()
    future = head_start(clip, _settings(weights), weights, first_frame=seen)
    assert seen.wait(60)
    future.result()
    broken = tmp_path / "notes.mp4"
    broken.write_text("not a video")
    failed = threading.Event()
    head_start(broken, _settings(weights), weights, first_frame=failed)
    assert failed.wait(60)
    process_video(broken, _settings(weights), tmp_path / "out", weights)  # takes the failed head start


def test_the_head_start_path_imports_neither_prefect_nor_the_clip_makers():
    """The head start runs while the CLI has not imported Prefect: the inference slot and the
    settings must not pull it (or the renderer) in."""
    import subprocess
    import sys

    code = ("import sys, flows.runners, pipeline.config, pipeline.process; "
            "print(sorted(m for m in ('prefect', 'pipeline.render.clips') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
