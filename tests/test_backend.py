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
from scipy.optimize import linear_sum_assignment

from pipeline import pose_model
from pipeline.config import ConfigError, load_settings
from pipeline.pose_model import BackendError, PoseEstimator, openvino_export, select_backend
from pipeline.poses import Poses
from pipeline.video import probe_video, read_frames

pytest.importorskip("openvino", reason="the OpenVINO backend needs the openvino package")


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


def _keypoint_distances(reference: Poses, other: Poses) -> np.ndarray:
    """Per-keypoint distances (px) between people matched by box centre; NaN where either is missing."""
    if not len(reference) or not len(other):
        return np.empty(0)
    centre_a = (reference.xyxy[:, :2] + reference.xyxy[:, 2:]) / 2
    centre_b = (other.xyxy[:, :2] + other.xyxy[:, 2:]) / 2
    rows, cols = linear_sum_assignment(np.linalg.norm(centre_a[:, None] - centre_b[None], axis=2))
    return np.linalg.norm(reference.keypoints[rows] - other.keypoints[cols], axis=2).ravel()


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
        distances.append(_keypoint_distances(expected, got))
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
