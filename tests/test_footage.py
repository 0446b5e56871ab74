"""The foundation on real clips from ../shared/footage (skipped where that folder is absent)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest
from conftest import footage

from pipeline.config import load_settings
from pipeline.process import process_video

# Its module-scoped fixtures run once per test worker: keep the module's tests on one worker.
pytestmark = pytest.mark.xdist_group("footage")


def _run(name: str, out: Path, weights: Path, end_s: float, start_s: float = 0.0) -> tuple[dict, object]:
    settings = load_settings(
        overrides={"video": {"start_s": start_s, "end_s": end_s}, "model": {"weights": str(weights)}}, environ={}
    )
    row = process_video(footage(name), settings, out, weights)
    detections = ds.dataset(out / "detections" / f"{row['video_id']}.parquet").to_table()
    return row, detections


@pytest.fixture(scope="module")
def group_jog(tmp_path_factory: pytest.TempPathFactory, weights: Path):
    return _run("group_jog_road_front.mp4", tmp_path_factory.mktemp("jog"), weights, end_s=2.0)


def test_multi_runner_clip_gives_several_long_tracks(group_jog):
    row, detections = group_jog
    assert row["status"] == "ok"
    assert row["frames"] == 120  # 2 s at 59.97 fps
    assert row["fps"] == pytest.approx(59.97, abs=0.01)
    counts = detections.group_by("track_id").aggregate([("frame", "count")])
    long_tracks = pc.sum(pc.greater_equal(counts["frame_count"], 60)).as_py()  # seen >= 1 s of 2 s
    assert long_tracks >= 6, counts.to_pylist()
    whole_clip = pc.sum(pc.greater_equal(counts["frame_count"], 114)).as_py()  # >= 95% of the frames
    assert whole_clip >= 4, counts.to_pylist()
    assert row["tracks"] <= 20  # ids are not reissued every few frames


def test_portrait_phone_clip_keeps_its_orientation(group_jog):
    row, detections = group_jog
    assert (row["width"], row["height"]) == (464, 832)
    assert pc.max(detections["box_y2"]).as_py() > 464  # people are found below a landscape frame's edge


def test_time_is_frame_over_float_fps(group_jog):
    row, detections = group_jog
    frames = detections["frame"].to_numpy()
    times = detections["time_s"].to_numpy()
    assert times == pytest.approx(frames / row["fps"])


def test_small_runners_on_a_broadcast_are_found(tmp_path: Path, weights: Path):
    row, detections = _run("track_400m_bend_broadcast.mp4", tmp_path, weights, start_s=2.0, end_s=3.0)
    assert row["status"] == "ok" and row["frames"] == 25
    assert pc.min(detections["frame"]).as_py() == 50  # frame numbers count from the file's start
    assert row["analysed_start_s"] == 2.0 and row["analysed_end_s"] == pytest.approx(3.0)
    counts = detections.group_by("track_id").aggregate([("frame", "count")])
    whole_second = pc.sum(pc.greater_equal(counts["frame_count"], 20)).as_py()
    assert whole_second >= 7, "the default 'auto' image size must see 130-px runners on a 720p broadcast"
