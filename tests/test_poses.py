from __future__ import annotations

import numpy as np
import pytest
import torch
from ultralytics.engine.results import Results

from pipeline.poses import NUM_KEYPOINTS, Poses, keypoint_distances


def _results(keypoints: np.ndarray, boxes: np.ndarray) -> Results:
    return Results(
        orig_img=np.zeros((100, 200, 3), np.uint8), path="frame.jpg", names={0: "person"},
        boxes=torch.as_tensor(boxes, dtype=torch.float32), keypoints=torch.as_tensor(keypoints, dtype=torch.float32),
    )


def test_from_ultralytics_turns_unsure_keypoints_into_nan():
    kps = np.zeros((2, NUM_KEYPOINTS, 3), np.float32)
    kps[:, :, 0], kps[:, :, 1], kps[:, :, 2] = 10.0, 20.0, 0.9
    kps[0, 15] = (0.0, 0.0, 0.2)  # left ankle invisible: Ultralytics reports (0, 0)
    boxes = np.array([[1, 2, 30, 60, 0.8, 0], [50, 5, 90, 70, 0.6, 0]], np.float32)
    poses = Poses.from_ultralytics(_results(kps, boxes), keypoint_confidence=0.5)
    assert len(poses) == 2
    assert np.isnan(poses.keypoints[0, 15]).all()
    assert poses.keypoint_confidence[0, 15] == pytest.approx(0.2)
    assert poses.keypoints[1, 15].tolist() == [10.0, 20.0]
    assert poses.xyxy[1].tolist() == [50, 5, 90, 70]
    assert poses.confidence.tolist() == pytest.approx([0.8, 0.6])
    assert (poses.track_id == -1).all()


def test_no_people_gives_empty_poses_not_none():
    result = Results(orig_img=np.zeros((10, 10, 3), np.uint8), path="x", names={0: "person"})
    assert len(Poses.from_ultralytics(result, 0.5)) == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("xyxy", np.zeros((1, 3), np.float32), r"Poses.xyxy must have shape \(1, 4\)"),
        ("keypoints", np.zeros((1, 5, 2), np.float32), r"Poses.keypoints must have shape \(1, 17, 2\)"),
        ("track_id", np.zeros((1,), np.float32), "Poses.track_id must have a integer dtype"),
        ("confidence", [0.5], "Poses.confidence must be a numpy array"),
    ],
)
def test_bad_shapes_fail_naming_the_field(field, value, message):
    fields = {
        "xyxy": np.zeros((1, 4), np.float32), "confidence": np.zeros((1,), np.float32),
        "keypoints": np.zeros((1, NUM_KEYPOINTS, 2), np.float32),
        "keypoint_confidence": np.zeros((1, NUM_KEYPOINTS), np.float32), "track_id": np.zeros((1,), np.int64),
    }
    fields[field] = value
    with pytest.raises((ValueError, TypeError), match=message):
        Poses(**fields)


def test_selection_keeps_arrays_parallel():
    poses = Poses.empty()
    assert len(poses[np.zeros(0, bool)]) == 0
    kps = np.arange(3 * NUM_KEYPOINTS * 2, dtype=np.float32).reshape(3, NUM_KEYPOINTS, 2)
    many = Poses(np.arange(12, dtype=np.float32).reshape(3, 4), np.array([0.1, 0.2, 0.3], np.float32), kps,
                 np.ones((3, NUM_KEYPOINTS), np.float32), np.array([7, 8, 9]))
    picked = many[np.array([2, 0])]
    assert picked.track_id.tolist() == [9, 7]
    assert picked.xyxy[0].tolist() == [8, 9, 10, 11]
    assert picked.keypoints[1, 0].tolist() == [0, 1]


def _people(boxes: list[list[float]], keypoints: np.ndarray) -> Poses:
    n = len(boxes)
    return Poses(np.array(boxes, np.float32), np.full(n, 0.9, np.float32), keypoints.astype(np.float32),
                 np.ones((n, NUM_KEYPOINTS), np.float32), np.full(n, -1))


def test_keypoint_distances_pair_people_one_to_one_by_box_centre():
    """Two people listed in the other order, one moved 3-4 px (5 px): each is compared with
    itself, not both with the nearest; a keypoint missing in either reading is NaN."""
    near, far = np.zeros((NUM_KEYPOINTS, 2)), np.full((NUM_KEYPOINTS, 2), 100.0)
    reference = _people([[0, 0, 10, 10], [100, 100, 110, 110]], np.stack([near, far]))
    moved = far + [3.0, 4.0]
    moved[0] = np.nan
    other = _people([[103, 104, 113, 114], [0, 0, 10, 10]], np.stack([moved, near]))
    gaps = keypoint_distances(reference, other)
    assert gaps.shape == (2 * NUM_KEYPOINTS,)
    assert np.nansum(gaps == 0) == NUM_KEYPOINTS and np.nansum(gaps == 5) == NUM_KEYPOINTS - 1
    assert np.isnan(gaps).sum() == 1
    assert keypoint_distances(reference, Poses.empty()).shape == (0,)
