"""The tracker, frame by frame, on hand-made detections (no model needed)."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.config import TrackingSettings
from pipeline.poses import NUM_KEYPOINTS, Poses
from pipeline.tracking import PoseTracker, buffer_frames

FRAME = np.zeros((480, 640, 3), np.uint8)


def _people(*boxes: tuple[float, float, float, float]) -> Poses:
    n = len(boxes)
    return Poses(
        np.array(boxes, np.float32).reshape(n, 4), np.full(n, 0.9, np.float32),
        np.zeros((n, NUM_KEYPOINTS, 2), np.float32), np.ones((n, NUM_KEYPOINTS), np.float32),
        np.full(n, -1, np.int64),
    )


@pytest.mark.parametrize(("seconds", "fps", "frames"), [(1.5, 30.0, 45), (1.5, 59.94, 90), (1.5, 25.0, 38),
                                                         (0.01, 25.0, 1)])
def test_buffer_is_seconds_at_the_real_fps(seconds, fps, frames):
    assert buffer_frames(seconds, fps) == frames
    tracker = PoseTracker(TrackingSettings(tracker="bytetrack", lost_track_buffer_s=seconds), fps)
    assert tracker.max_frames_lost == frames


@pytest.mark.parametrize("kind", ["bytetrack", "botsort"])
def test_two_runners_keep_their_ids_frame_by_frame(kind):
    tracker = PoseTracker(TrackingSettings(tracker=kind, global_motion="none"), fps=30.0)
    ids = []
    for t in range(20):
        a = (10 + 5 * t, 100, 60 + 5 * t, 300)
        b = (500 - 5 * t, 120, 550 - 5 * t, 320)
        tracked = tracker.update(_people(a, b), FRAME)
        ids.append({int(i): float(x) for i, x in zip(tracked.track_id, tracked.xyxy[:, 0], strict=True)})
    assert len(ids[-1]) == 2
    first_ids = sorted(ids[1])
    for frame_ids in ids[1:]:
        assert sorted(frame_ids) == first_ids  # same two ids all along
    left, right = sorted(ids[-1], key=ids[-1].get)
    assert all(frame[left] < frame[right] for frame in ids[1:8])  # ids did not swap while apart


def test_a_runner_hidden_shorter_than_the_buffer_keeps_the_id():
    fps = 30.0
    tracker = PoseTracker(TrackingSettings(tracker="bytetrack", lost_track_buffer_s=1.0), fps)
    box = (100, 100, 150, 250)
    seen = [tracker.update(_people(box), FRAME).track_id.tolist() for _ in range(5)]
    for _ in range(20):  # 0.67 s behind a spectator
        assert len(tracker.update(Poses.empty(), FRAME)) == 0
    back = tracker.update(_people(box), FRAME).track_id.tolist()
    assert back == seen[-1]


def test_a_runner_hidden_longer_than_the_buffer_gets_a_new_id():
    fps = 30.0
    tracker = PoseTracker(TrackingSettings(tracker="bytetrack", lost_track_buffer_s=0.5), fps)
    box = (100, 100, 150, 250)
    first = [tracker.update(_people(box), FRAME).track_id.tolist() for _ in range(5)][-1]
    for _ in range(40):
        tracker.update(Poses.empty(), FRAME)
    later = [tracker.update(_people(box), FRAME).track_id.tolist() for _ in range(3)][-1]
    assert later and later != first


def test_no_id_crosses_a_cut():
    """At a hard cut every track is forgotten: the same box in the next shot gets a new id, and
    ids keep counting up (none is reused)."""
    tracker = PoseTracker(TrackingSettings(tracker="botsort", global_motion="none"), 30.0)
    box = (100, 100, 150, 250)
    before = [tracker.update(_people(box), FRAME).track_id.tolist() for _ in range(5)][-1]
    tracker.new_shot()
    after = [tracker.update(_people(box), FRAME).track_id.tolist() for _ in range(5)][-1]
    assert before and after and after[0] > before[0]
