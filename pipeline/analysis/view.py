"""Camera view of a runner per frame (side, front, back, oblique) and facing direction.

The view comes from the body itself: the shoulders' apparent width over the torso length
is small from the side and large from the front or back; the face (nose, eyes) is seen
from the front, only the ears from behind.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pipeline.analysis.geometry import (
    ANKLES,
    EARS,
    EYES,
    HIPS,
    KNEES,
    NOSE,
    SHOULDERS,
    nanmean_points,
    torso_length,
)
from pipeline.analysis.settings import AnalysisSettings

UNKNOWN, SIDE, FRONT, BACK, OBLIQUE = 0, 1, 2, 3, 4
#: View names by code, as written in the output tables.
VIEW_NAMES: tuple[str, ...] = ("unknown", "side", "front", "back", "oblique")


def shoulder_ratio(keypoints: np.ndarray) -> np.ndarray:
    """(T,) horizontal shoulder width / torso length; NaN where a shoulder or hip is missing."""
    width = np.abs(keypoints[:, SHOULDERS[0], 0] - keypoints[:, SHOULDERS[1], 0])
    with np.errstate(invalid="ignore", divide="ignore"):
        return width / torso_length(keypoints)


def _faces_camera(keypoints: np.ndarray) -> np.ndarray:
    """(T,) bool: the face (nose or an eye) is seen; without face or ears, the shoulder order
    decides (facing the camera puts the runner's left shoulder on the image right)."""
    face = ~np.isnan(keypoints[:, [NOSE, *EYES], 0]).all(axis=1)
    ears = ~np.isnan(keypoints[:, list(EARS), 0]).all(axis=1)
    left_on_right = keypoints[:, SHOULDERS[0], 0] > keypoints[:, SHOULDERS[1], 0]
    return np.where(face | ears, face, left_on_right)


def rolling_median(values: np.ndarray, window: int) -> np.ndarray:
    """(T,) median of the finite values in a centred window of ``window`` frames (odd)."""
    half = max(window // 2, 0)
    padded = np.concatenate([np.full(half, np.nan), values, np.full(half, np.nan)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # windows with nothing seen give NaN
        return np.nanmedian(sliding_window_view(padded, 2 * half + 1), axis=1)


#: Shoulder width / torso length of a runner seen square-on (measured 0.62-0.70; COCO shoulder
#: points sit inside the deltoids).
SQUARE_ON_RATIO = 0.66
#: The narrowest and widest runners' square-on ratios, between which one runner's is not known.
SQUARE_ON_RANGE = (0.62, 0.70)


#: Fewest frames with a known view the camera's pitch is read from (a third of a second at 30 fps).
MIN_PITCH_FRAMES = 10


def camera_pitch_deg(keypoints: np.ndarray, views: np.ndarray) -> float:
    """How far the camera looks down on a person, degrees, from the shoulders against the torso.

    The shoulders are ``SQUARE_ON_RATIO`` of the torso's length apart. A camera looking down by p
    sees the torso foreshortened by cos(p). From the front or back the shoulders' width shows as
    it is, so their horizontal spread over the torso grows to SQUARE_ON_RATIO / cos(p); from the
    side the shoulder line points away from the camera and shows as a vertical offset of
    SQUARE_ON_RATIO * tan(p) of the torso (none from a level camera). In between, turned by psi
    from the side, the line shows as (r sin psi / cos p, r cos psi tan p) torso lengths (r the
    square-on ratio), so cos^2 p solves a^2 c^2 - (a^2 + b^2 + r^2) c + r^2 = 0 for the shown
    (a, b): its smaller root. From the front and back only the width is used (a shoulder dropped
    sideways there is no pitch). One estimate per frame with a known view; the median over at
    least ``MIN_PITCH_FRAMES``, NaN with fewer. A forward lean toward the camera adds to the
    angle from the front and takes from it from behind.
    """
    torso = torso_length(keypoints)
    shoulders = keypoints[:, SHOULDERS[0]] - keypoints[:, SHOULDERS[1]]
    r2 = SQUARE_ON_RATIO**2
    with np.errstate(invalid="ignore", divide="ignore"):
        a2 = shoulder_ratio(keypoints) ** 2
        b2 = np.where(np.isin(views, (FRONT, BACK)), 0.0, (shoulders[:, 1] / torso) ** 2)
        total = a2 + b2 + r2
        roots = np.where(a2 > 0, (total - np.sqrt(np.maximum(total**2 - 4.0 * a2 * r2, 0.0))) / (2.0 * a2),
                         r2 / (b2 + r2))  # a side view: the a -> 0 limit
        pitch = np.degrees(np.arccos(np.sqrt(np.clip(roots, 0.0, 1.0))))
    pitch = pitch[(views != UNKNOWN) & np.isfinite(pitch)]
    return float(np.median(pitch)) if len(pitch) >= MIN_PITCH_FRAMES else float("nan")


#: A brisk walker's step in leg lengths (hip->knee + knee->ankle): steps of 0.7-0.8 m at
#: 1.4-1.8 m/s, about 0.42 of body height, on legs about 0.47 of it (gait: Perry, Gait Analysis;
#: segment lengths: Winter, Biomechanics and Motor Control of Human Movement).
WALK_STEP_LEG_LENGTHS = 0.9


def travel_lift(ratio: np.ndarray, pitch_deg: float) -> np.ndarray:
    """(T,) how far up the picture, in leg lengths, a foot a brisk walker's step ahead of the
    other shows, from a camera ``pitch_deg`` down, at each frame's shoulder ``ratio``.

    Turned by psi from the side, the direction of travel runs toward or away from the camera by
    sin(psi) of its length, and a camera looking down by p shows that depth as height by sin(p).
    The shoulders give sin(psi) = ratio cos(p) / SQUARE_ON_RATIO (see :func:`camera_pitch_deg`).
    From the side (psi = 0) or from a level camera the travel shows as no lift at all; a walker
    seen 45 deg round from 20 deg down shows 0.22 leg lengths, four times the least lift a flight
    is read from (``min_foot_lift_leg_lengths``, 0.05).
    NaN where the pitch or the ratio is unknown.
    """
    pitch = np.radians(pitch_deg)
    with np.errstate(invalid="ignore"):
        turned = np.clip(np.asarray(ratio, float) * np.cos(pitch) / SQUARE_ON_RATIO, 0.0, 1.0)
    return WALK_STEP_LEG_LENGTHS * turned * np.sin(pitch)


def smoothed_shoulder_ratio(keypoints: np.ndarray, fps: float) -> np.ndarray:
    """(T,) shoulder ratio as a rolling median over half a second, so the shoulders' rotation
    with the arm swing does not flip the view every step."""
    return rolling_median(shoulder_ratio(keypoints), max(int(round(fps / 2)), 1))


def sagittal_stretch(ratio: np.ndarray, settings: AnalysisSettings, max_ratio: float | None = None,
                     square_on: float = SQUARE_ON_RATIO) -> np.ndarray:
    """(T,) factor that undoes the foreshortening of the body's sagittal plane, NaN where the
    view is too far from the side to measure in it (``max_ratio``, by default
    ``sagittal_max_shoulder_ratio``), for a runner whose square-on ratio is ``square_on``.

    The runner's yaw away from a pure side view, psi, shows in the shoulders:
    ratio = SQUARE_ON_RATIO * sin(psi). Horizontal distances in the sagittal plane (ankle
    ahead of the hip, a lean) shrink by cos(psi), so they are stretched back by 1 / cos(psi)
    up to ``sagittal_max_shoulder_ratio`` (about 45 deg: keypoint noise grows by at most 1.4x).
    """
    sin = np.clip(ratio / square_on, 0.0, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        stretch = 1.0 / np.sqrt(1.0 - sin**2)
    limit = settings.sagittal_max_shoulder_ratio if max_ratio is None else max_ratio
    return np.where(ratio <= limit, stretch, np.nan)


def midline_stretches(ratio: np.ndarray, settings: AnalysisSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(3, T) :func:`sagittal_stretch` through every oblique frame (up to
    ``frontal_view_min_shoulder_ratio``): for the typical runner's square-on ratio, then for the
    widest and the narrowest runner's (``SQUARE_ON_RANGE``), which bound what one runner's
    unknown build does to a reading (at the frontal limit the stretch spans 1.9-4.0 around 2.4)."""
    limit = settings.frontal_view_min_shoulder_ratio
    nominal = sagittal_stretch(ratio, settings, limit)
    wide, narrow = (sagittal_stretch(ratio, settings, limit, square_on) for square_on in SQUARE_ON_RANGE[::-1])
    return nominal, wide, narrow


def midline_keypoints(keypoints: np.ndarray, pairs: tuple[tuple[int, int], ...]) -> np.ndarray:
    """(T, K, 2) ``keypoints`` with each left/right pair of ``pairs`` missing in the frames where
    one of its two points is: their midpoint is then on the body's midline, not the seen side."""
    out = keypoints.copy()
    for pair in pairs:
        one_missing = np.isnan(keypoints[:, list(pair), 0]).any(axis=1)
        out[np.ix_(one_missing, list(pair))] = np.nan
    return out


def deproject_sagittal(keypoints: np.ndarray, stretch: np.ndarray) -> np.ndarray:
    """(T, K, 2) keypoints with horizontal offsets from the mid-hip stretched by (T,)
    ``stretch``; NaN in frames where it is NaN."""
    hip_x = nanmean_points(keypoints, HIPS)[:, 0]
    out = keypoints.copy()
    out[..., 0] = hip_x[:, None] + (keypoints[..., 0] - hip_x[:, None]) * stretch[:, None]
    return out


def frame_views(keypoints: np.ndarray, fps: float, settings: AnalysisSettings,
                ratio: np.ndarray | None = None) -> np.ndarray:
    """(T,) int8 view code per frame (UNKNOWN, SIDE, FRONT, BACK, OBLIQUE) from (T, K, 2).

    ``ratio``: the :func:`smoothed_shoulder_ratio`, computed when not given.
    """
    ratio = smoothed_shoulder_ratio(keypoints, fps) if ratio is None else ratio
    views = np.full(len(keypoints), UNKNOWN, np.int8)
    known = np.isfinite(ratio)
    frontal = known & (ratio >= settings.frontal_view_min_shoulder_ratio)
    views[known & (ratio <= settings.side_view_max_shoulder_ratio)] = SIDE
    views[known & (ratio > settings.side_view_max_shoulder_ratio) & ~frontal] = OBLIQUE
    facing = _faces_camera(keypoints)
    views[frontal & facing] = FRONT
    views[frontal & ~facing] = BACK
    return smooth_views(views, window=5)


def smooth_views(views: np.ndarray, window: int) -> np.ndarray:
    """(T,) majority vote of the known views in a centred window of ``window`` frames."""
    if len(views) == 0:
        return views
    start = (
        window - 1
    ) // 2  # np.convolve's "same" mode would lengthen series shorter than the window
    counts = np.stack(
        [
            np.convolve((views == code).astype(float), np.ones(window))[start : start + len(views)]
            for code in range(len(VIEW_NAMES))
        ],
        axis=1,
    )
    counts[:, UNKNOWN] = 0.0
    best = np.argmax(counts, axis=1).astype(np.int8)
    return np.where(counts.max(axis=1) > 0, best, UNKNOWN).astype(np.int8)


def dominant_view(views: np.ndarray) -> str:
    """Most frequent known view of a (T,) view-code array, 'unknown' if none."""
    known = views[views != UNKNOWN]
    if len(known) == 0:
        return VIEW_NAMES[UNKNOWN]
    return VIEW_NAMES[int(np.bincount(known, minlength=len(VIEW_NAMES)).argmax())]


def views_seen(views: np.ndarray, min_fraction: float = 0.1) -> list[str]:
    """Known views present in at least ``min_fraction`` of the frames with a known view."""
    known = views[views != UNKNOWN]
    if len(known) == 0:
        return []
    counts = np.bincount(known, minlength=len(VIEW_NAMES)) / len(known)
    return [VIEW_NAMES[c] for c in range(1, len(VIEW_NAMES)) if counts[c] >= min_fraction]


def facing_direction(keypoints: np.ndarray, mask: np.ndarray) -> float:
    """Direction the runner faces in side-view frames: +1 image right, -1 left, 0 unknown.

    The nose is ahead of the ears; without a face, knees bend forward of the hip-ankle line.

    Args:
        keypoints: (T, K, 2) pixels.
        mask: (T,) bool, frames to use (the side-view frames).
    """
    points = keypoints[mask]
    if len(points) == 0:
        return 0.0
    ahead = points[:, NOSE, 0] - nanmean_points(points, EARS)[:, 0]
    if np.isfinite(ahead).sum() < 3:
        line = (nanmean_points(points, HIPS) + nanmean_points(points, ANKLES)) / 2.0
        ahead = nanmean_points(points, KNEES)[:, 0] - line[:, 0]
    if np.isfinite(ahead).sum() < 3:
        return 0.0
    return float(np.sign(np.nanmedian(ahead)))
