"""Overlay annotators: what each draws, where, and what it leaves alone."""

from __future__ import annotations

import numpy as np
import pytest
from clips import FIGURE

from pipeline.poses import KEYPOINT_NAMES, Poses
from pipeline.render.annotators import (
    GREY,
    AngleAnnotator,
    BadgeAnnotator,
    CaptionAnnotator,
    FaceBlurAnnotator,
    LabelAnnotator,
    SkeletonAnnotator,
    colour_for,
    elbow_angles,
    face_regions,
    trunk_angles,
)

KP = {name: i for i, name in enumerate(KEYPOINT_NAMES)}


def people(*figures: tuple[int, float, float, float]) -> Poses:
    """Poses of standing figures given as (id, centre x, top y, height) px; box 0.4 heights wide."""
    kp = np.array([[[cx + dx * h, top + dy * h] for dx, dy in FIGURE.values()] for _, cx, top, h in figures])
    boxes = np.array([[cx - 0.2 * h, top, cx + 0.2 * h, top + h] for _, cx, top, h in figures])
    n = len(figures)
    return Poses(boxes.reshape(n, 4).astype(np.float32), np.full(n, 0.9, np.float32),
                 kp.reshape(n, 17, 2).astype(np.float32), np.full((n, 17), 0.9, np.float32),
                 np.array([f[0] for f in figures], np.int64))


def blank(height: int = 240, width: int = 320) -> np.ndarray:
    return np.zeros((height, width, 3), np.uint8)


def changed(before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels that differ."""
    return np.any(before != after, axis=2)


def box_mask(shape: tuple[int, ...], box: np.ndarray) -> np.ndarray:
    """(H, W) bool: the pixels a box (x1, y1, x2, y2) px touches."""
    mask = np.zeros(shape[:2], bool)
    x1, y1 = np.floor(box[:2]).astype(int)
    x2, y2 = np.ceil(box[2:]).astype(int)
    mask[max(y1, 0):y2 + 1, max(x1, 0):x2 + 1] = True
    return mask


def test_skeleton_draws_limbs_in_the_id_colour():
    pose = people((3, 100, 20, 200))
    frame = SkeletonAnnotator().annotate(blank(), pose)
    hip_y = int(20 + 0.5 * 200)
    assert tuple(frame[hip_y, 100]) == colour_for(3)  # the hip-to-hip limb crosses the centre
    assert not changed(blank(), frame)[:, 200:].any()  # nothing right of the figure


def test_skeleton_draws_non_runners_grey_and_skips_missing_keypoints():
    pose = people((1, 100, 20, 200))
    pose.keypoints[0, KP["left_knee"]] = np.nan
    frame = SkeletonAnnotator().annotate(blank(), pose, is_runner=np.array([False]))
    hip_y = int(20 + 0.5 * 200)
    assert len(set(frame[hip_y, 100])) == 1 and frame[hip_y, 100, 0] > GREY[0] // 2  # grey, anti-aliased
    knee_gap = frame[int(20 + 0.6 * 200):int(20 + 0.85 * 200), int(100 - 0.07 * 200) - 2:int(100 - 0.07 * 200) + 3]
    assert not knee_gap.any()  # hip->knee and knee->ankle of the left leg are not drawn
    assert not frame[:5, :5].any()  # and nothing goes to (0, 0)


def test_skeleton_rejects_bad_arguments():
    with pytest.raises(ValueError, match="is_runner"):
        SkeletonAnnotator().annotate(blank(), people((1, 100, 20, 200)), is_runner=np.array([True, False]))
    with pytest.raises(ValueError, match="frame"):
        SkeletonAnnotator().annotate(blank().astype(np.float32), people((1, 100, 20, 200)))
    with pytest.raises(ValueError, match="thickness"):
        SkeletonAnnotator(thickness=0)


@pytest.mark.parametrize(("figure", "where"), [
    ((1, 100, 60, 150), "above"),
    ((1, 100, 0, 150), "below"),      # no room above the box
    ((1, 10, 60, 150), "above"),      # box past the left edge: chip clamped into the frame
])
def test_label_sits_outside_the_box(figure, where):
    pose = people(figure)
    frame = LabelAnnotator().annotate(blank(), pose)
    drawn = changed(blank(), frame)
    assert drawn.any()
    assert not (drawn & box_mask(frame.shape, pose.xyxy[0])).any()
    rows = np.flatnonzero(drawn.any(axis=1))
    assert (rows.max() < pose.xyxy[0, 1]) if where == "above" else (rows.min() > pose.xyxy[0, 3])


def test_badges_stack_beside_the_box_without_covering_people():
    pose = people((1, 60, 40, 150), (2, 420, 40, 150))
    badges = {1: ["Elbow angle 128 deg", "Trunk lean 14 deg"], 2: ["Look"]}
    frame = BadgeAnnotator().annotate(blank(240, 480), pose, badges)
    drawn = changed(blank(240, 480), frame)
    assert not (drawn & (box_mask(frame.shape, pose.xyxy[0]) | box_mask(frame.shape, pose.xyxy[1]))).any()
    right_of_1 = drawn[:, int(pose.xyxy[0, 2]):int(pose.xyxy[0, 2]) + 20]
    assert right_of_1[40:70].any() and not right_of_1[:40].any() and not right_of_1[90:].any()  # two chips
    assert not drawn[:, int(pose.xyxy[1, 2]):].any()  # no room right of 2: its badge goes left
    assert drawn[:, int(pose.xyxy[1, 0]) - 10:int(pose.xyxy[1, 0])].any()


def test_no_badges_no_pixels():
    frame = BadgeAnnotator().annotate(blank(), people((1, 100, 40, 150)), {2: ["Elbow angle"]})
    assert not frame.any()


def test_angles_are_measured_from_keypoints():
    kp = np.full((3, 17, 2), np.nan)
    kp[0, [KP["left_shoulder"], KP["left_elbow"], KP["left_wrist"]]] = [[0, 0], [0, 10], [10, 10]]  # 90 deg
    kp[0, [KP["right_shoulder"], KP["right_elbow"], KP["right_wrist"]]] = [[0, 0], [0, 10], [0, 20]]  # straight
    kp[1, [KP["left_shoulder"], KP["right_shoulder"], KP["left_hip"], KP["right_hip"]]] = [
        [8, 0], [12, 0], [-2, 10], [2, 10]]  # mid-shoulder 45 deg off vertical from the mid-hip
    np.testing.assert_allclose(elbow_angles(kp)[0], [90, 180], atol=1e-6)
    np.testing.assert_allclose(trunk_angles(kp), [np.nan, 45, np.nan], atol=1e-6)
    assert np.isnan(elbow_angles(kp)[1:]).all()


def test_angle_readouts_only_for_chosen_ids_and_near_the_joints():
    pose = people((1, 100, 20, 200), (2, 250, 20, 200))
    frame = AngleAnnotator().annotate(blank(), pose, {1})
    drawn = changed(blank(), frame)
    assert (frame == AngleAnnotator().annotate(blank(), pose[0], {1})).all()  # person 2 adds nothing
    assert not AngleAnnotator().annotate(blank(), pose, set()).any()
    elbow_y = int(20 + 0.35 * 200)
    assert drawn[elbow_y - 20:elbow_y + 30, :int(100 - 0.16 * 200)].any()  # outside the left elbow
    pose.keypoints[0, [KP["left_wrist"], KP["right_wrist"], KP["left_hip"]]] = np.nan
    assert not AngleAnnotator().annotate(blank(), pose, {1}).any()  # nothing measurable, nothing drawn


def test_face_regions_from_the_face_keypoints_or_the_box():
    pose = people((1, 100, 20, 200), (2, 250, 20, 200))
    pose.keypoints[1, :5] = np.nan
    regions = face_regions(pose, spread_scale=1.0, box_fraction=0.2)
    spread = 0.08 * 200  # ear to ear
    centre = np.mean([[100 + dx * 200, 20 + dy * 200] for dx, dy in list(FIGURE.values())[:5]], axis=0)
    np.testing.assert_allclose(regions[0], [*(centre - spread), *(centre + spread)], atol=1e-3)
    half = 0.2 * 80  # a fifth of the box width, at the top centre of the box
    np.testing.assert_allclose(regions[1], [250 - half, 20, 250 + half, 20 + 2 * half], atol=1e-3)


def test_face_blur_changes_only_the_chosen_heads():
    frame = np.random.default_rng(1).integers(0, 255, (240, 320, 3), np.uint8)
    pose = people((1, 100, 20, 200), (2, 250, 20, 200))
    out = FaceBlurAnnotator().annotate(frame.copy(), pose, {2})
    drawn = changed(frame, out)
    heads = face_regions(pose, 1.2)
    assert drawn[box_mask(frame.shape, heads[1])].mean() > 0.8
    assert not (drawn & ~box_mask(frame.shape, heads[1])).any()
    assert changed(frame, FaceBlurAnnotator().annotate(frame.copy(), pose, None))[
        box_mask(frame.shape, heads[0])].mean() > 0.8


def test_caption_runs_along_the_bottom():
    frame = np.full((160, 160, 3), 200, np.uint8)
    out = CaptionAnnotator().annotate(frame.copy(), "Elbow angle 128 deg (flagged 62% of strides)")
    drawn = changed(frame, out)
    assert drawn[-5:].all() and not drawn[:120].any()


def test_caption_lines_stack_cue_above_measurement():
    frame = np.full((160, 160, 3), 200, np.uint8)
    one = changed(frame, CaptionAnnotator().annotate(frame.copy(), "Elbow angle 128 deg"))
    two = changed(frame, CaptionAnnotator().annotate(frame.copy(), "Arms at about 90 deg\nElbow angle 128 deg"))
    rows_one, rows_two = np.flatnonzero(one.any(axis=1)), np.flatnonzero(two.any(axis=1))
    assert rows_two.max() == 159 and rows_two.min() < rows_one.min()  # a second bar above the first
    assert not two[:80].any()


def test_overstride_is_drawn_from_the_hip_to_the_leading_ankle():
    from pipeline.render.measure import draw_measurement

    image = np.zeros((200, 200, 3), np.uint8)
    keypoints = np.full((17, 2), np.nan)
    keypoints[[11, 12]] = (100, 100)
    keypoints[[13, 14]] = [(120, 140), (95, 140)]
    keypoints[[15, 16]] = [(150, 180), (98, 180)]  # the left ankle lands 50 px ahead of the hip
    assert draw_measurement(image, keypoints, "overstride")
    yellow = (image[:, :, 2] > 100) & (image[:, :, 1] > 80) & (image[:, :, 0] < 60)  # anti-aliased yellow
    assert yellow[120:175, 100].all()  # the hip's vertical
    assert yellow[180, 105:145].all() and not yellow[180, 160:].any()  # the arrow to the leading ankle
    assert not draw_measurement(image, keypoints, "elbow_angle")
    keypoints[15] = np.nan
    assert not draw_measurement(np.zeros_like(image), keypoints, "overstride")


@pytest.mark.parametrize("half", [6.0, 40.0, 200.0])
def test_a_blurred_face_keeps_no_detail_whatever_its_size(half):
    """A face region's fine detail (a 2-px checkerboard) is gone at any face size, a flat region
    stays flat, and the region keeps its size, whether blurred directly or through a smaller copy."""
    from pipeline.render.annotators import _blur

    side = int(2 * half)
    yy, xx = np.mgrid[:side, :side]
    checker = np.where((yy // 2 + xx // 2) % 2, 255, 0).astype(np.uint8)[..., None].repeat(3, axis=2)
    blurred = _blur(checker, half)
    assert blurred.shape == checker.shape
    assert blurred.astype(float).std() < 0.1 * checker.astype(float).std()
    flat = np.full((side, side, 3), 90, np.uint8)
    assert np.abs(_blur(flat, half).astype(int) - 90).max() <= 1
