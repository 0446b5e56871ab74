"""The inference backends: choosing one, the cached OpenVINO export, and its keypoints against PyTorch's.

The footage tests export the weights once per session into a temporary cache
($FORMWATCH_HOME), never into the user's cache or beside the read-only weights.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from conftest import footage

from pipeline import pose_model
from pipeline.config import ConfigError, load_settings
from pipeline.pose_model import BackendError, PoseEstimator, openvino_export, select_backend
from pipeline.poses import Poses, keypoint_distances
from pipeline.video import probe_video, read_frames

openvino = pytest.importorskip("openvino", reason="the OpenVINO backend needs the openvino package")


@pytest.fixture(scope="session")
def export_home(tmp_path_factory: pytest.TempPathFactory, weights: Path):
    """A temporary $FORMWATCH_HOME holding the one OpenVINO export of the session's weights."""
    home = tmp_path_factory.mktemp("formwatch_home")
    return home, openvino_export(weights, home / "models")


def _settings(backend: str, image_size: int | str, weights: Path):
    return load_settings(
        overrides={"model": {"backend": backend, "image_size": image_size, "weights": str(weights)}}, environ={}
    ).model


# --- choosing a backend --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "device", "installed", "expected"),
    [("auto", "cpu", True, "openvino"), ("auto", "cpu", False, "torch"), ("auto", "0", True, "torch"),
     ("torch", "cpu", True, "torch"), ("openvino", "cpu", True, "openvino")],
)
def test_backend_is_resolved_from_setting_device_and_package(monkeypatch, backend, device, installed, expected):
    monkeypatch.setattr(pose_model, "openvino_available", lambda: installed)
    assert select_backend(backend, device) == expected


@pytest.mark.parametrize(
    ("backend", "device", "installed", "message"),
    [("openvino", "cuda:0", True, "runs on the CPU, but model.device is 'cuda:0'"),
     ("openvino", "cpu", False, "needs the openvino package"),
     ("onnx", "cpu", True, "'onnx' is not one of 'auto', 'torch', 'openvino'")],
)
def test_impossible_backend_fails_with_a_sentence(monkeypatch, backend, device, installed, message):
    monkeypatch.setattr(pose_model, "openvino_available", lambda: installed)
    with pytest.raises(BackendError, match=message):
        select_backend(backend, device)


def test_unknown_backend_name_in_the_config_lists_the_valid_ones():
    with pytest.raises(ConfigError) as error:
        load_settings(overrides={"model": {"backend": "onnx"}}, environ={})
    text = str(error.value)
    assert "model.backend = 'onnx'" in text
    assert all(f"'{name}'" in text for name in ("auto", "torch", "openvino")), text


# --- the export cache ----------------------------------------------------------------------------


def test_racing_exports_keep_the_first_one_and_leave_no_temporary_folders(tmp_path, monkeypatch):
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"not really weights")
    cache = tmp_path / "cache"

    def export_while_another_process_finishes_first(weights_path: Path, work: Path) -> Path:
        assert work.parent == cache and work.name.startswith(".export-")
        built = work / "model_openvino_model"
        built.mkdir()
        (built / "metadata.yaml").write_text("mine")
        theirs = pose_model.openvino_export_dir(weights_path, cache)  # renamed into place meanwhile
        theirs.mkdir()
        (theirs / "metadata.yaml").write_text("theirs")
        return built

    monkeypatch.setattr(pose_model, "_export_openvino", export_while_another_process_finishes_first)
    final = openvino_export(weights, cache)
    assert (final / "metadata.yaml").read_text() == "theirs"
    assert [p.name for p in cache.iterdir()] == [final.name]  # no .export-* folder left behind
    assert openvino_export(weights, cache) == final  # and it is found from now on


def test_unwritable_cache_fails_with_a_sentence_not_as_an_unreadable_video(tmp_path):
    weights = tmp_path / "w.pt"
    weights.write_bytes(b"not really weights")
    blocker = tmp_path / "home"
    blocker.write_text("a file where the cache folder should be")
    with pytest.raises(BackendError, match="Cannot export the pose weights to OpenVINO in .*set FORMWATCH_HOME"):
        openvino_export(weights, blocker / "models")


@pytest.mark.footage
def test_export_is_cached_and_reused(export_home, weights, monkeypatch):
    home, export = export_home
    assert export.parent == home / "models" and export.name.endswith("_openvino_model")
    assert not any(Path(weights).parent.glob("*_openvino_model"))  # nothing written beside the weights
    stamps = {p.name: p.stat().st_mtime_ns for p in export.iterdir()}

    def second_export(*_args):
        raise AssertionError("the weights were exported a second time")

    monkeypatch.setattr(pose_model, "_export_openvino", second_export)
    monkeypatch.setenv(pose_model.HOME_ENV, str(home))
    for _ in range(2):
        estimator = PoseEstimator(_settings("openvino", 640, weights), weights)
        assert estimator.backend == "openvino"
    assert {p.name: p.stat().st_mtime_ns for p in export.iterdir()} == stamps
    assert [p.name for p in (home / "models").iterdir()] == [export.name]


# --- the same keypoints --------------------------------------------------------------------------


@pytest.mark.footage
@pytest.mark.parametrize(
    ("clip", "image_size"),
    [("single_back_snow_park.mp4", "auto"),  # 1280 px, lowered while the runner is near: several sizes
     ("track_400m_bend_broadcast.mp4", 960)],  # small runners: a fixed size other than the export's 640
)
def test_openvino_keypoints_match_pytorch(export_home, weights, monkeypatch, clip, image_size):
    monkeypatch.setenv(pose_model.HOME_ENV, str(export_home[0]))
    path = footage(clip)
    info = probe_video(path)
    torch_model = PoseEstimator(_settings("torch", image_size, weights), weights)
    openvino_model = PoseEstimator(_settings("openvino", image_size, weights), weights)
    distances, counts = [], []
    frames = itertools.islice(read_frames(path, info.fps, 0.0, None), 0, 60, 3)  # 20 frames over 2-2.4 s
    for frame in frames:
        expected, got = torch_model(frame.image), openvino_model(frame.image)
        counts.append((len(expected), len(got)))
        distances.append(keypoint_distances(expected, got))
    assert len(counts) == 20
    assert all(abs(a - b) <= 1 for a, b in counts), counts
    assert sum(a for a, _ in counts) >= 20  # people were found at all
    found = np.concatenate(distances)
    found = found[np.isfinite(found)]
    assert len(found) >= 100
    assert np.median(found) < 2.0, f"median {np.median(found):.2f} px, 90th percentile {np.percentile(found, 90):.2f}"


# --- the OpenVINO engine's own pre- and post-processing ------------------------------------------


def test_letterbox_keeps_the_aspect_and_pads_to_the_stride():
    image = np.zeros((270, 480, 3), np.uint8)
    blob, (gain_x, gain_y, left, top) = pose_model.letterbox(image, 640)
    assert blob.shape == (1, 3, 384, 640) and blob.dtype == np.float32  # 640 x 360, padded to 384 rows
    assert (gain_x, gain_y, left, top) == (640 / 480, 360 / 270, 0, 12)
    assert blob[0, :, 0, 0] == pytest.approx([114 / 255] * 3)  # padding grey, RGB in 0..1
    assert blob[0, :, 200, 300] == pytest.approx([0.0] * 3)


def test_non_max_suppression_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [20, 20, 30, 30], [0, 0, 10, 20]], np.float32)
    scores = np.array([0.6, 0.9, 0.5, 0.7], np.float32)
    # box 0 overlaps box 1 by IoU 9/11 = 0.82 and goes; box 3 overlaps box 1 by 9/21 = 0.43 and stays
    assert pose_model.non_max_suppression(boxes, scores, iou=0.7).tolist() == [1, 3, 2]
    assert pose_model.non_max_suppression(boxes, scores, iou=0.4).tolist() == [1, 2]
    assert pose_model.non_max_suppression(boxes, scores, iou=0.7, limit=1).tolist() == [1]


def test_pose_rows_become_poses_with_unsure_keypoints_missing():
    row = np.concatenate([[10, 20, 50, 120, 0.9], np.tile([30.0, 60.0, 0.8], 17)])
    row[5 + 3 * 16 + 2] = 0.2  # right ankle unsure
    poses = Poses.from_rows(row[None], keypoint_confidence=0.5)
    assert poses.xyxy.tolist() == [[10, 20, 50, 120]] and poses.confidence[0] == pytest.approx(0.9)
    assert np.isnan(poses.keypoints[0, 16]).all() and poses.keypoints[0, 0].tolist() == [30, 60]
    with pytest.raises(ValueError, match="COCO-17"):
        Poses.from_rows(np.zeros((1, 5 + 3 * 5)), 0.5)


# --- frames pipelined through the engine -----------------------------------------------------------


@pytest.mark.footage
def test_pipelined_frames_get_the_poses_of_one_frame_at_a_time(export_home, weights, monkeypatch):
    """Snow park at 'auto' size (lowered while the runner is near, so the size moves with the frame
    before): two frames in the model at once give exactly the poses of one frame after the other,
    including the frames put through again because the frame before changed their size."""
    monkeypatch.setenv(pose_model.HOME_ENV, str(export_home[0]))
    path = footage("single_back_snow_park.mp4")
    info = probe_video(path)
    images = [frame.image for frame in itertools.islice(read_frames(path, info.fps, 0.0, None), 60)]
    settings = _settings("openvino", "auto", weights)
    one_by_one = PoseEstimator(settings, weights)
    engine = one_by_one._engine
    assert engine is not None
    expected, sizes = [], []
    for image in images:
        size = settings.inference_size(image.shape[1], image.shape[0], one_by_one._tallest_px)
        rows = engine.collect(engine.submit(image, size), settings.detection_confidence, settings.nms_iou)
        expected.append(Poses.from_rows(rows, settings.keypoint_confidence))
        one_by_one._tallest_px = pose_model._tallest(expected[-1])
        sizes.append(size)
    assert len(set(sizes)) > 1, "the clip no longer moves the inference size: pick other frames"
    pipelined = PoseEstimator(settings, weights)
    got = [poses for _, poses in pipelined.pipelined(images, lambda image: image)]
    assert pipelined.resubmitted > 0
    # two videos at once on the one engine, taken in turns: each keeps its frames in the model
    # (more requests than streams) and neither waits on the other's
    first, second = PoseEstimator(settings, weights), PoseEstimator(settings, weights)
    turns = zip(first.pipelined(images[:20], lambda image: image),
                second.pipelined(images[:20], lambda image: image), strict=True)
    both = [(a, b) for (_, a), (_, b) in turns]
    for a, b in [*zip(expected, got, strict=True), *both, *zip(expected[:20], [a for a, _ in both], strict=True)]:
        np.testing.assert_array_equal(a.xyxy, b.xyxy)
        np.testing.assert_array_equal(a.keypoints, b.keypoints)


@pytest.mark.footage
def test_openvino_computes_in_float32_on_every_cpu(export_home, weights, monkeypatch):
    """OpenVINO's CPU plugin computes in bfloat16 by default where the CPU has it (AVX512_BF16, AMX):
    on such a machine (AMD Zen 4) the shared clips had given other runners (the 100 m 6 of 7
    found, the group jog 17 of 29, against 7 and 20 in float32). The compiled model is float32
    whatever the CPU offers."""
    monkeypatch.setenv(pose_model.HOME_ENV, str(export_home[0]))
    estimator = PoseEstimator(_settings("openvino", 640, weights), weights)
    engine = estimator._engine
    assert engine is not None
    estimator(np.zeros((360, 640, 3), np.uint8))
    precisions = [compiled.get_property("INFERENCE_PRECISION_HINT") for compiled in engine._compiled.values()]
    assert precisions and all(p == openvino.Type.f32 for p in precisions), precisions


def _answers(out: Path) -> dict[str, list]:
    """Every runner's activity and steps, every contact and every measured verdict of one run."""
    from pipeline.outputs import open_dataset

    def rows(table: str, columns: list[str]) -> list:
        return sorted(tuple(row[c] for c in columns) for row in open_dataset(out, table).to_table().to_pylist())

    verdicts = [v for v in rows("deviations", ["track_id", "deviation", "value", "flagged"]) if v[2] is not None]
    return {
        "runners": rows("runners", ["track_id", "activity", "is_runner", "steps"]),
        "contacts": rows("contacts", ["track_id", "frame", "foot"]),
        "verdicts": [(t, name, round(value, 3), flagged) for t, name, value, flagged in verdicts],
    }


@pytest.mark.footage
def test_openvino_gives_pytorchs_runners_contacts_and_verdicts(export_home, weights, monkeypatch, tmp_path):
    """The whole per-video path on the default engine and on PyTorch gives the same answers, not
    only keypoints within 2 px: on the 16 shared clips the two runs agreed on every runner,
    contact and verdict (README, Performance). Here the 100 m broadcast's first 6 s: the start, two
    sprinters already running with their contacts and verdicts, and the other tracks' activities."""
    from pipeline.process import process_video

    monkeypatch.setenv(pose_model.HOME_ENV, str(export_home[0]))
    answers = {}
    for backend in ("openvino", "torch"):
        settings = load_settings(environ={}, overrides={
            "video": {"end_s": 6.0}, "render": {"clips": False},
            "model": {"weights": str(weights), "backend": backend, "image_size": 640}})
        row = process_video(footage("track_100m_lowres_broadcast.mp4"), settings, tmp_path / backend, weights)
        assert row["status"] == "ok", row["error"]
        answers[backend] = _answers(tmp_path / backend)
    runners = [r for r in answers["openvino"]["runners"] if r[2]]
    assert len(runners) >= 2 and answers["openvino"]["verdicts"], answers["openvino"]  # something to compare
    ov, pt = answers["openvino"], answers["torch"]
    assert ov["runners"] == pt["runners"] and ov["contacts"] == pt["contacts"]
    # the same verdicts; their values agree to 0.01 of their unit (the engines' keypoints differ
    # by hundredths of a pixel, which moved two elbow and neck angles across a third decimal)
    assert [(t, name, flagged) for t, name, _, flagged in ov["verdicts"]] == [
        (t, name, flagged) for t, name, _, flagged in pt["verdicts"]]
    assert [v[2] for v in ov["verdicts"]] == pytest.approx([v[2] for v in pt["verdicts"]], abs=0.01)


class _ScriptedEngine:
    """The engine's submit/collect interface over a script: a frame's 'people' are one box whose
    height is the frame's value times the size it went in at, so a wrong size shows in the answer."""

    def __init__(self) -> None:
        self.in_model = 0
        self.most_in_model = 0
        self.submitted: list[tuple[float, int]] = []

    def submit(self, image: np.ndarray, size: int) -> tuple[float, int]:
        self.in_model += 1
        self.most_in_model = max(self.most_in_model, self.in_model)
        self.submitted.append((float(image[0, 0, 0]), size))
        return float(image[0, 0, 0]), size

    def collect(self, submitted: tuple[float, int], confidence: float, iou: float) -> np.ndarray:
        self.in_model -= 1
        value, size = submitted
        return np.concatenate([[0, 0, 10, value * size / 100, 0.9], np.tile([1.0, 1.0, 0.9], 17)])[None]


def test_a_frame_sized_by_a_frame_still_in_the_model_is_checked_and_put_through_again():
    """'auto' lowers the size when the tallest person of the frame before is tall; with two frames
    in the model the next frame goes in before that is known. A scripted engine: frame 2's size
    depends on frame 1's person and frame 3's on frame 2's, so each goes in twice; every answer is the
    one-at-a-time answer."""
    settings = load_settings(overrides={"model": {"image_size": "auto"}}, environ={}).model
    estimator = PoseEstimator.__new__(PoseEstimator)
    estimator.settings, estimator._tallest_px, estimator.resubmitted = settings, 0.0, 0
    engine = estimator._engine = _ScriptedEngine()  # type: ignore[assignment]
    values = [1.0, 60.0, 1.0, 1.0]  # frame 1's person is tall (768 px): frame 2 must go in at 672, not 1280
    frames = [np.full((720, 1280, 3), v, np.float32) for v in values]
    got = [poses.xyxy[0, 3] for _, poses in estimator.pipelined(frames, lambda image: image)]
    tallest, expected = 0.0, []
    for value in values:
        size = settings.inference_size(1280, 720, tallest)
        tallest = value * size / 100
        expected.append(tallest)
    assert got == pytest.approx(expected)
    # in order: each frame at the size of the frame two before, then frames 2 and 3 again at the right one
    assert engine.submitted == [(1.0, 1280), (60.0, 1280), (1.0, 1280), (1.0, 672), (1.0, 672), (1.0, 1280)]
    assert estimator.resubmitted == 2
    assert engine.most_in_model == pose_model.IN_FLIGHT and engine.in_model == 0


def test_a_consumer_that_stops_early_gives_every_request_back():
    settings = load_settings(overrides={"model": {"image_size": 640}}, environ={}).model
    estimator = PoseEstimator.__new__(PoseEstimator)
    estimator.settings, estimator._tallest_px, estimator.resubmitted = settings, 0.0, 0
    engine = estimator._engine = _ScriptedEngine()  # type: ignore[assignment]
    frames = [np.ones((360, 640, 3), np.float32)] * 10
    stream = estimator.pipelined(frames, lambda image: image)
    next(stream)
    stream.close()
    assert engine.in_model == 0 and len(engine.submitted) == pose_model.IN_FLIGHT  # the first out, the next in
