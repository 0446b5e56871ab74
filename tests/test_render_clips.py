"""Annotated clips and highlight reels on a synthesised clip with hand-built tables."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pyarrow as pa
import pytest
from clips import FIGURE, write_clip
from test_render_writer import probe, top_level_boxes

import pipeline.render.clips
import pipeline.render.writer
from pipeline.render import RenderSettings, render_annotated, render_highlight, render_video_clips
from pipeline.render.people import LiveBadges, caption_text
from pipeline.schemas import DETECTIONS, DEVIATIONS, RUNNERS, build_table

# Its module-scoped fixtures run once per test worker: keep the module's tests on one worker.
pytestmark = pytest.mark.xdist_group("render_clips")

RATE = Fraction(30000, 1001)
FPS = float(RATE)
FRAMES = 30



def detection_row(frame: int, track_id: int, cx: float, top: float = 40.0, height: float = 150.0) -> dict:
    """One detections row of a standing figure ``height`` px tall centred on ``cx``."""
    row = {"video_id": "v", "frame": frame, "time_s": frame / FPS, "track_id": track_id, "runner_id": track_id,
           "box_x1": cx - 0.2 * height, "box_y1": top, "box_x2": cx + 0.2 * height, "box_y2": top + height,
           "box_conf": 0.9}
    for name, (dx, dy) in FIGURE.items():
        row[f"{name}_x"], row[f"{name}_y"], row[f"{name}_conf"] = cx + dx * height, top + dy * height, 0.9
    return row


def detections(frames: int = FRAMES) -> pa.Table:
    """Runner 1 walking right from x=80 and bystander 2 standing at x=240, in every frame."""
    rows = [detection_row(f, tid, cx) for f in range(frames) for tid, cx in ((1, 80.0 + f), (2, 240.0))]
    return pa.Table.from_pylist(rows, schema=DETECTIONS)


def _defaults(schema: pa.Schema) -> dict:
    blank = {pa.types.is_boolean: False, pa.types.is_integer: 0, pa.types.is_floating: 0.0,
             pa.types.is_string: "", pa.types.is_list: []}
    row = {}
    for field in schema:
        kind = next(v for test, v in blank.items() if test(field.type))
        row[field.name] = None if field.nullable else kind
    return row


def runners() -> pa.Table:
    rows = [{**_defaults(RUNNERS), "video_id": "v", "track_id": 1, "is_runner": True, "view": "side"},
            {**_defaults(RUNNERS), "video_id": "v", "track_id": 2, "is_runner": False, "view": "front"}]
    return build_table(rows, RUNNERS)


def deviation(track_id: int, name: str, worst: int | None, fraction: float, flagged: bool = True,
              value: float = 128.0, unit: str = "deg") -> dict:
    return {**_defaults(DEVIATIONS), "video_id": "v", "track_id": track_id, "deviation": name, "value": value,
            "unit": unit, "flagged": flagged, "fraction_flagged": fraction, "strides_measured": 8,
            "worst_frame": worst}


def deviations(*rows: dict) -> pa.Table:
    return build_table(list(rows), DEVIATIONS)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return write_clip(tmp_path_factory.mktemp("src") / "src.mp4", frames=FRAMES, fps=RATE, size=(320, 240))


def test_annotated_clip_is_browser_playable_and_as_long_as_the_source(source, tmp_path):
    out = render_annotated(source, FPS, tmp_path / "annotated.mp4", detections(), runners(),
                           deviations(deviation(1, "elbow_angle", 15, 0.3)))
    got, src = probe(out), probe(source)
    assert (got["codec"], got["pix_fmt"], got["audio"]) == ("h264", "yuv420p", 0)
    assert got["width"] % 2 == 0 and got["height"] % 2 == 0
    assert abs(got["frames"] - src["frames"]) <= 1
    assert abs(got["duration_s"] - src["duration_s"]) <= 1 / FPS
    assert got["rate"] == RATE
    offsets = top_level_boxes(out)
    assert offsets["moov"] < offsets["mdat"]
    assert [p.name for p in tmp_path.iterdir()] == ["annotated.mp4"]


def test_annotated_clip_draws_the_people(source, tmp_path):
    """Skeleton colour shows at runner 1's hips; the frame far from everyone stays as decoded."""
    out = render_annotated(source, FPS, tmp_path / "a.mp4", detections(), runners(), deviations(),
                           RenderSettings(crf=10))
    plain = render_annotated(source, FPS, tmp_path / "b.mp4", detections(0), runners(), deviations(),
                             RenderSettings(crf=10))
    with av.open(str(out)) as a, av.open(str(plain)) as b:
        drawn = next(a.decode(video=0)).to_ndarray(format="bgr24").astype(int)
        bare = next(b.decode(video=0)).to_ndarray(format="bgr24").astype(int)
    hip_y, hip_x = int(40 + 0.5 * 150), int(80 - 0.07 * 150)
    near_hip = np.s_[hip_y - 1:hip_y + 2, hip_x - 1:hip_x + 2]
    assert np.abs(drawn[near_hip] - bare[near_hip]).max() > 60
    assert np.abs(drawn[220:, 150:170] - bare[220:, 150:170]).mean() < 3


def test_odd_sized_source_gives_even_output(tmp_path):
    # yuv420p (and so libx264) cannot hold odd sizes: the odd source is lossless FFV1 in Matroska
    src = tmp_path / "odd.mkv"
    with av.open(str(src), "w") as container:
        stream = container.add_stream("ffv1", rate=RATE)
        stream.width, stream.height, stream.pix_fmt = 321, 241, "bgr0"
        for i in range(5):
            image = np.full((241, 321, 3), 40 * i, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    out = render_annotated(src, FPS, tmp_path / "even.mp4", detections(0), runners(), deviations())
    got = probe(out)
    assert (got["width"], got["height"], got["frames"]) == (320, 240, 5)


def test_taller_than_max_height_is_downscaled(source, tmp_path):
    out = render_annotated(source, FPS, tmp_path / "small.mp4", detections(), runners(), deviations(),
                           RenderSettings(max_height_px=121))
    got = probe(out)
    assert (got["width"], got["height"]) == (160, 120)


@pytest.mark.parametrize(("worst", "fraction", "frame", "shown"), [
    (15, 0.3, 15, True),
    (15, 0.3, 29, True),   # 14 frames = 0.467 s
    (15, 0.3, 30, False),  # 15 frames = 0.5005 s at 29.97 frames/s
    (15, 0.3, 0, False),
    (15, 0.6, 0, True),    # the runner's habit: shown all along
    (None, 0.6, 3, True),
    (None, 0.3, 3, False),
])
def test_live_badge_rule(worst, fraction, frame, shown):
    badges = LiveBadges(deviations(deviation(1, "elbow_angle", worst, fraction)), FPS)
    assert (badges.at(frame) == {1: ["Elbow angle 128 deg"]}) is shown


def test_unflagged_faults_get_no_badge():
    badges = LiveBadges(deviations(deviation(1, "elbow_angle", 15, 0.0, flagged=False)), FPS)
    assert badges.at(15) == {}


def test_caption_names_fault_value_and_how_often():
    assert caption_text(deviation(1, "elbow_angle", 15, 0.62)) == (
        "Arms at about 90 deg, swinging forward and back\nElbow angle 128 deg (flagged 62% of strides)")
    assert caption_text(deviation(1, "overstride", 15, 0.4, value=0.213, unit="leg lengths")) == (
        "Land your foot under your hips, not out in front\nOverstride 0.21 leg lengths (flagged 40% of contacts)")


def test_highlight_length_is_window_times_slowmo(source, tmp_path):
    settings = RenderSettings(highlight_window_s=0.2, slowmo_factor=3, highlight_size_px=160)
    out = render_highlight(source, FPS, tmp_path / "h.mp4", detections(), 1,
                           deviations(deviation(1, "elbow_angle", 15, 0.62)), settings)
    got = probe(out)
    window = 2 * round(0.2 * FPS) + 1  # frames of the video
    assert got["frames"] == window  # each picture encoded once ...
    assert got["duration_s"] == pytest.approx(window * 3 / FPS, abs=0.05)  # ... and shown 3 times as long
    assert got["rate"] == RATE / 3
    assert (got["width"], got["height"], got["codec"]) == (160, 160, "h264")


def test_highlight_segments_follow_each_other(source, tmp_path):
    """Two faults with overlapping windows: both segments, in time order, each whole."""
    settings = RenderSettings(highlight_window_s=0.1, slowmo_factor=2, highlight_size_px=96)
    devs = deviations(deviation(1, "elbow_angle", 12, 0.62), deviation(1, "trunk_lean", 10, 0.3, value=14.0))
    out = render_highlight(source, FPS, tmp_path / "two.mp4", detections(), 1, devs, settings)
    got = probe(out)
    assert got["frames"] == 2 * (2 * 3 + 1) and got["duration_s"] == pytest.approx(2 * 7 * 2 / FPS, abs=0.05)


def test_no_highlight_without_flags(source, tmp_path):
    devs = deviations(deviation(1, "elbow_angle", 15, 0.1, flagged=False), deviation(2, "trunk_lean", 4, 0.7))
    assert render_highlight(source, FPS, tmp_path / "none.mp4", detections(), 1, devs) is None
    assert not (tmp_path / "none.mp4").exists()


def test_all_clips_of_a_video_come_from_one_decode(source, tmp_path, monkeypatch):
    """The annotated clip and every runner's highlight from one pass: the same frames as rendering
    each on its own, and the source decoded once, not 1 + one per runner."""
    settings = RenderSettings(highlight_window_s=0.1, slowmo_factor=2, highlight_size_px=96)
    table = pa.concat_tables([detections(), pa.Table.from_pylist(
        [detection_row(f, 3, 160.0) for f in range(FRAMES)], schema=DETECTIONS)])
    people = build_table([*runners().to_pylist(), {**runners().to_pylist()[0], "track_id": 3}], RUNNERS)
    devs = deviations(deviation(1, "elbow_angle", 12, 0.62), deviation(1, "trunk_lean", 10, 0.3, value=14.0),
                      deviation(3, "elbow_angle", 25, 0.5))
    decodes = []
    real = pipeline.render.clips.read_frames

    def counted(*args, **kwargs):
        decodes.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline.render.clips, "read_frames", counted)
    written = render_video_clips(source, FPS, tmp_path / "one", table, people, devs, settings)
    assert written == 3 and len(decodes) == 1
    assert sorted(p.name for p in (tmp_path / "one").iterdir()) == ["annotated.mp4", "runner_1.mp4", "runner_3.mp4"]
    alone = {"annotated.mp4": render_annotated(source, FPS, tmp_path / "a.mp4", table, people, devs, settings),
             "runner_1.mp4": render_highlight(source, FPS, tmp_path / "r1.mp4", table, 1, devs, settings),
             "runner_3.mp4": render_highlight(source, FPS, tmp_path / "r3.mp4", table, 3, devs, settings)}
    for name, path in alone.items():
        assert probe(tmp_path / "one" / name)["frames"] == probe(path)["frames"], name
    assert probe(tmp_path / "one" / "runner_1.mp4")["frames"] == 2 * (2 * 3 + 1)


def test_a_reel_is_finished_once_the_video_has_passed_its_windows(source, tmp_path, monkeypatch):
    """Runner 1's windows end by frame 16, runner 3's at frame 28: runner 1's file is finished
    while the video is still being read, so the encoders of reels that do not overlap are not open
    together (each holds frames: memory would grow with the runners of a long video)."""
    settings = RenderSettings(highlight_window_s=0.1, slowmo_factor=2, highlight_size_px=96)
    table = pa.concat_tables([detections(), pa.Table.from_pylist(
        [detection_row(f, 3, 160.0) for f in range(FRAMES)], schema=DETECTIONS)])
    people = build_table([*runners().to_pylist(), {**runners().to_pylist()[0], "track_id": 3}], RUNNERS)
    devs = deviations(deviation(1, "elbow_angle", 12, 0.62), deviation(3, "elbow_angle", 25, 0.5))
    finished_at: dict[str, int] = {}
    drawn = []  # frames the annotated clip has drawn: the frame the pass is at
    real_add, real_close = pipeline.render.clips.AnnotatedClip.add, pipeline.render.writer.H264Writer.close

    def add(self, frame):
        drawn.append(frame.index)
        return real_add(self, frame)

    def close(self):
        finished_at.setdefault(self.path.name, drawn[-1])
        return real_close(self)

    monkeypatch.setattr(pipeline.render.clips.AnnotatedClip, "add", add)
    monkeypatch.setattr(pipeline.render.writer.H264Writer, "close", close)
    assert render_video_clips(source, FPS, tmp_path, table, people, devs, settings) == 3
    assert finished_at["runner_1.mp4"] <= 16 and finished_at["runner_3.mp4"] >= 28
    assert finished_at["annotated.mp4"] == drawn[-1] == FRAMES - 1


def test_detections_need_runner_id(source, tmp_path):
    with pytest.raises(ValueError, match="runner_id"):
        render_annotated(source, FPS, tmp_path / "x.mp4", detections().drop_columns(["runner_id"]), runners(),
                         deviations())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("setting", "value"), [
    ("crf", 52), ("preset", "warp"), ("blur_faces", "mine"), ("slowmo_factor", 0), ("highlight_window_s", 0),
    ("max_height_px", 8),
])
def test_bad_settings_are_named(setting, value):
    with pytest.raises(ValueError, match=setting):
        RenderSettings(**{setting: value})
