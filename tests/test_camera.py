"""The camera's motion read on the background, and a person's travel against the ground, on
pictures and tracks made with the answers known."""

from __future__ import annotations

import cv2
import numpy as np
import pyarrow as pa
import pytest
from analysis_builders import RunnerSpec, analyse_spec

from pipeline.analysis.gait import spectral_period
from pipeline.analysis.geometry import HIPS
from pipeline.analysis.travel import Travel, longest_stride_frames, travel
from pipeline.camera import (
    CAMERA_COLUMNS,
    CameraMotion,
    carried,
    outside_boxes,
    similarity_parts,
    similarity_warp,
    warps_from_table,
)
from pipeline.config import TrackingSettings
from pipeline.poses import NUM_KEYPOINTS, Poses
from pipeline.tracking import PoseTracker

SIZE = (360, 640)  # height, width


def _texture(seed: int, shape: tuple[int, int]) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.integers(0, 255, (shape[0] // 4, shape[1] // 4), np.uint8)
    return cv2.resize(noise, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def _frame(background: np.ndarray, pan_px: float, person: np.ndarray, person_x: int) -> np.ndarray:
    """The background panned left by ``pan_px`` (the camera turning right), and a textured
    person (a 200 px block) at ``person_x``."""
    shift = np.float32([[1, 0, -pan_px], [0, 1, 0]])
    picture = cv2.warpAffine(background, shift, (SIZE[1], SIZE[0]), borderMode=cv2.BORDER_REFLECT)
    picture[80:280, person_x:person_x + 100] = person
    return cv2.cvtColor(picture, cv2.COLOR_GRAY2BGR)


def _people(x: int) -> Poses:
    return Poses(np.array([[x, 80, x + 100, 280]], np.float32), np.array([0.9], np.float32),
                 np.zeros((1, NUM_KEYPOINTS, 2), np.float32), np.ones((1, NUM_KEYPOINTS), np.float32),
                 np.array([-1], np.int64))


def test_the_camera_motion_is_the_backgrounds_not_the_persons_it_follows():
    # a pan of 6 px a frame following a person who keeps her place in the picture (as a
    # broadcast follows a sprinter): the background moves 6 px left, the person not at all
    from ultralytics.trackers.utils.gmc import GMC

    background, person = _texture(1, (SIZE[0], SIZE[1] * 2)), _texture(2, (200, 100))
    camera, botsort = CameraMotion(), GMC(method="sparseOptFlow")
    shifts = []
    for t in range(8):
        frame = _frame(background, 6.0 * t, person, 270)
        camera.people = np.array([[270, 80, 370, 280]], np.float32)
        warp = camera.apply(frame)
        assert np.array_equal(warp, botsort.apply(frame))  # BoT-SORT's answer to the tracker, to the bit
        shifts.append(None if camera.last is None else similarity_parts(camera.last))
    assert shifts[0] is None  # no frame before the first
    for dx, dy, zoom, roll in shifts[1:]:
        assert dx == pytest.approx(-6.0, abs=0.3)
        assert dy == pytest.approx(0.0, abs=0.3)
        assert zoom == pytest.approx(1.0, abs=0.01)
        assert roll == pytest.approx(0.0, abs=0.5)
    camera.reset_params()  # a hard cut: nothing carries across it
    camera.apply(_frame(background, 0.0, person, 270))
    assert camera.last is None


def test_corners_on_people_are_left_out():
    corners = np.array([[[10.0, 10.0]], [[60.0, 50.0]], [[70.0, 85.0]]], np.float32)  # half-size pixels
    boxes = np.array([[100.0, 80.0, 140.0, 160.0]])  # grown by 20 px: x 80-160, y 60-180 at full size
    assert outside_boxes(corners, boxes, 0.5).tolist() == [True, False, False]
    assert outside_boxes(corners, np.zeros((0, 4)), 0.5).all()


def test_a_blank_background_is_not_measured():
    camera = CameraMotion()
    blank = np.zeros((*SIZE, 3), np.uint8)
    for _ in range(3):
        assert np.array_equal(camera.apply(blank), np.eye(2, 3))
        assert camera.last is None


def test_the_tracker_keeps_the_motion_for_the_tables():
    background, person = _texture(3, (SIZE[0], SIZE[1] * 2)), _texture(4, (200, 100))
    for kind in ("botsort", "bytetrack"):
        tracker = PoseTracker(TrackingSettings(tracker=kind), 30.0)
        for t in range(4):
            tracker.update(_people(270), _frame(background, 5.0 * t, person, 270))
        assert tracker.camera_warp is not None
        assert similarity_parts(tracker.camera_warp)[0] == pytest.approx(-5.0, abs=0.3)
    assert PoseTracker(TrackingSettings(global_motion="none"), 30.0).camera_warp is None


def test_warps_round_trip_through_the_detections_columns():
    parts = [(3.0, -1.0, 1.02, 0.5), (np.nan,) * 4, (-2.0, 0.0, 1.0, 0.0)]
    table = pa.table({"frame": pa.array([0, 2, 2, 4], pa.int64()),
                      **{name: pa.array([parts[0][k], parts[2][k], parts[2][k], parts[1][k]], pa.float32(),
                                        from_pandas=True) for k, name in enumerate(CAMERA_COLUMNS)}})
    warps = warps_from_table(table)
    assert warps.shape == (5, 2, 3)
    assert similarity_parts(warps[0]) == pytest.approx(parts[0], abs=1e-4)
    assert similarity_parts(warps[2]) == pytest.approx(parts[2], abs=1e-4)
    assert np.isnan(warps[[1, 3, 4]]).all()  # nobody seen in 1 and 3; not measured in 4
    # a file before schema 7 has no camera columns: nothing measured
    assert np.isnan(warps_from_table(table.drop_columns(list(CAMERA_COLUMNS)))).all()


def test_carrying_a_point_composes_the_warps():
    # warps[t] carries frame t-1 into frame t: 2 px right into frames 0-2, zoomed 1.1 into
    # frame 2 as well, not measured into frame 3
    warps = similarity_warp(np.array([2.0, 2.0, 2.0, np.nan]), np.zeros(4), np.array([1.0, 1.0, 1.1, 1.0]),
                            np.zeros(4))
    out = carried(np.array([[10.0, 20.0], [10.0, 20.0]]), np.array([0, 1]), 2, warps)
    assert out[0] == pytest.approx([(10.0 + 2.0) * 1.1 + 2.0, 22.0])  # frame 0 -> 2: shift, then zoom and shift
    assert np.isnan(out[1]).all()  # frame 1 -> 3 passes the unknown warp into frame 3
    assert np.isnan(carried(np.array([[10.0, 20.0]]), np.array([3]), 2, warps)).all()  # past the last frame


def _hips_track(x: np.ndarray) -> np.ndarray:
    keypoints = np.full((len(x), NUM_KEYPOINTS, 2), np.nan)
    for hip in HIPS:
        keypoints[:, hip, 0], keypoints[:, hip, 1] = x, 200.0
    return keypoints


@pytest.mark.parametrize(("own_px", "pan_px", "ground", "picture"), [
    (0.0, -10.0, 0.0, 3.0),   # standing while the camera pans: carried across the picture, still on the ground
    (20.0, -20.0, 6.0, 0.0),  # a sprinter the camera follows: still in the picture, fast on the ground
    (5.0, 0.0, 1.5, 1.5),     # a walker before a still camera
])
def test_travel_takes_the_camera_out(own_px, pan_px, ground, picture):
    # 100 px legs at 30 fps: own_px a frame is own_px * 0.3 leg lengths a second
    frames = np.arange(60)
    shift = np.full(60, pan_px)  # each frame's picture moves pan_px right (the camera turning left)
    warps = similarity_warp(shift, np.zeros(60), np.ones(60), np.zeros(60))
    x = 100.0 + (own_px + pan_px) * frames
    moved = travel(_hips_track(x), frames, warps, 100.0, 30.0, 30.0)
    assert moved.ground == pytest.approx(ground, abs=1e-6)
    assert moved.picture == pytest.approx(picture, abs=1e-6)
    # slowed 2x (captured at 60 fps, played at 30): the same pictures show twice the speed in real time
    assert travel(_hips_track(x), frames, warps, 100.0, 30.0, 60.0).ground == pytest.approx(2 * ground, abs=1e-6)


def test_travel_without_the_cameras_motion_is_not_measured():
    frames = np.arange(60)
    unknown = np.full((60, 2, 3), np.nan)
    moved = travel(_hips_track(100.0 + 5.0 * frames), frames, unknown, 100.0, 30.0, 30.0)
    assert np.isnan(moved.ground) and np.isnan(moved.picture)


def test_travel_bounds_the_stride():
    # 6 leg lengths a second: strides of at most 6 leg lengths take at most 1 s, 25 frames at 25 fps
    assert longest_stride_frames(Travel(ground=6.0, picture=1.0), 25.0) == pytest.approx(25.0)
    assert longest_stride_frames(Travel.unmeasured(), 25.0) == float("inf")
    # a sprinter's ankles cross every 11 frames while the pan makes the picture drift over 50:
    # the drift is the stronger signal, but no stride at that speed lasts 2 s
    t = np.arange(250)
    ankles = 1.0 * np.sin(2 * np.pi * t / 11.0) + 3.0 * np.sin(2 * np.pi * t / 50.0)
    assert spectral_period([ankles]) == pytest.approx(50.0, rel=0.05)
    assert spectral_period([ankles], max_period=25.0) == pytest.approx(11.0, rel=0.05)


@pytest.mark.parametrize("pan_px_per_s", [0.0, 300.0, -200.0])
def test_a_pan_leaves_the_speed_against_the_ground(pan_px_per_s):
    # a synthetic side-on runner travelling 1.5 leg lengths a second (0.35 leg lengths of ground
    # under each 0.233 s stance), filmed still or panning; and a person standing under the same pan
    runner, _ = analyse_spec(RunnerSpec(travel=True, pan_px_per_s=pan_px_per_s, noise_px=0.5))
    [row] = runner.runners.to_pylist()
    assert row["ground_speed"] == pytest.approx(1.5, rel=0.1)
    standing, truth = analyse_spec(RunnerSpec(gait="stand", pan_px_per_s=pan_px_per_s, noise_px=0.5))
    [row] = standing.runners.to_pylist()
    if row["ground_speed"] is not None:  # read only while the legs move
        assert row["ground_speed"] < 0.3
    assert not row["is_runner"]
