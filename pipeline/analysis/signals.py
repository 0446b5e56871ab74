"""Keypoint signal clean-up: left/right swap repair, short-gap filling, zero-phase low-pass.

Order matters: swaps are repaired on the raw detections (a swap is a jump that smoothing
would smear), then only short gaps are filled, then each contiguous segment is filtered on
its own, so no value is ever invented across a long gap.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

from pipeline.analysis.geometry import ANKLES, ARM_GROUP, HIPS, LEG_GROUP, nanmean_points
from pipeline.analysis.settings import AnalysisSettings
from pipeline.analysis.tracks import TrackSeries
from pipeline.analysis.view import rolling_median


def _predictions(points: np.ndarray) -> np.ndarray:
    """(T, J, 2) constant-velocity prediction of each frame from the two before it (from the
    one before where the velocity is unknown; NaN for frame 0)."""
    previous = np.full_like(points, np.nan)
    previous[1:] = points[:-1]
    velocity = np.full_like(points, np.nan)
    velocity[2:] = points[1:-1] - points[:-2]
    return np.where(np.isnan(velocity), previous, previous + velocity)


def _assignment_costs(
    left: np.ndarray, right: np.ndarray, pred_left: np.ndarray, pred_right: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(kept, swapped) summed distances over the joints present in all four (..., J, 2)
    arrays; both 0 where no joint is."""
    valid = ~np.isnan(left + right + pred_left + pred_right).any(axis=-1)

    def dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.where(valid, np.hypot(*np.moveaxis(a - b, -1, 0)), 0.0).sum(axis=-1)

    keep = dist(left, pred_left) + dist(right, pred_right)
    swap = dist(right, pred_left) + dist(left, pred_right)
    return keep, swap


def repair_group_swaps(
    keypoints: np.ndarray, left: tuple[int, ...], right: tuple[int, ...], cost_ratio: float
) -> tuple[np.ndarray, np.ndarray]:
    """Swap a left/right keypoint group back where continuity says the model swapped it.

    Frame by frame, the group's current left/right points are compared with their
    constant-velocity prediction from the (already repaired) previous frames; the swapped
    assignment wins when it costs less than ``cost_ratio`` times the kept one. A vectorised
    pass on the raw points finds the candidate frames; the sequential pass only visits them
    and the frames whose prediction a repair changed.

    Args:
        keypoints: (T, K, 2) pixels, NaN where missing.
        left, right: keypoint indices of the group on each side (same length J).
        cost_ratio: in (0, 1]; smaller is more conservative.

    Returns:
        (T, K, 2) repaired copy and (T,) bool, True where the group was swapped back.
    """
    out = keypoints.copy()
    swapped = np.zeros(len(out), bool)
    li, ri = list(left), list(right)
    keep, swap = _assignment_costs(
        out[:, li], out[:, ri], _predictions(out[:, li]), _predictions(out[:, ri])
    )
    candidates = swap < cost_ratio * keep
    changed = -10  # last frame where ``out`` differs from the raw points
    for t in range(1, len(out)):
        if not candidates[t] and t > changed + 2:
            continue
        window = slice(max(t - 2, 0), t + 1)
        pred_l, pred_r = _predictions(out[window, li])[-1], _predictions(out[window, ri])[-1]
        keep_t, swap_t = _assignment_costs(out[t, li], out[t, ri], pred_l, pred_r)
        if swap_t < cost_ratio * keep_t:
            out[t, li], out[t, ri] = out[t, ri].copy(), out[t, li].copy()
            swapped[t] = True
            changed = t
    return out, swapped


def repair_swaps(keypoints: np.ndarray, cost_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Repair legs and arms independently; returns (T, K, 2) and (T,) bool 'any group swapped'."""
    legs, legs_swapped = repair_group_swaps(keypoints, *LEG_GROUP, cost_ratio)
    both, arms_swapped = repair_group_swaps(legs, *ARM_GROUP, cost_ratio)
    return both, legs_swapped | arms_swapped


def nan_runs(missing: np.ndarray) -> list[tuple[int, int]]:
    """Half-open [start, stop) index ranges of the True runs of a (T,) bool array."""
    padded = np.concatenate([[False], missing, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def fill_short_gaps(values: np.ndarray, max_gap: int) -> np.ndarray:
    """Linearly interpolate interior NaN runs of at most ``max_gap`` samples, per column.

    Args:
        values: (T,) or (T, N) float.
        max_gap: longest run filled, in samples; runs touching either end are never filled.
    """
    out = np.array(values, dtype=np.float64, copy=True)
    columns = out.reshape(len(out), -1)
    for column in columns.T:
        for start, stop in nan_runs(np.isnan(column)):
            if start == 0 or stop == len(column) or stop - start > max_gap:
                continue
            column[start - 1 : stop + 1] = np.linspace(
                column[start - 1], column[stop], stop - start + 2
            )
    return columns.reshape(out.shape)


def lowpass(
    values: np.ndarray, fps: float, cutoff_hz: float, order: int, max_nyquist_fraction: float
) -> np.ndarray:
    """Zero-phase Butterworth low-pass of each column, per contiguous non-NaN segment.

    Args:
        values: (T,) or (T, N) float; NaN marks gaps, which are kept.
        fps: samples per second (the real capture rate).
        cutoff_hz: cut-off, clipped to ``max_nyquist_fraction`` of fps / 2.
    Segments too short for the filter's padding are left unfiltered.
    """
    cutoff = min(cutoff_hz, max_nyquist_fraction * fps / 2.0)
    sos = butter(order, cutoff, btype="low", fs=fps, output="sos")
    padlen = 3 * (2 * len(sos) + 1)
    out = np.array(values, dtype=np.float64, copy=True)
    columns = out.reshape(len(out), -1)
    present = ~np.isnan(columns)
    groups: dict[bytes, list[int]] = {}
    for j in range(columns.shape[1]):  # columns missing in the same frames are filtered together
        groups.setdefault(present[:, j].tobytes(), []).append(j)
    for members in groups.values():
        for start, stop in nan_runs(present[:, members[0]]):
            if stop - start > padlen:
                columns[start:stop, members] = sosfiltfilt(
                    sos, columns[start:stop, members], axis=0
                )
    return columns.reshape(out.shape)


def clean_track(
    track: TrackSeries, fps: float, settings: AnalysisSettings
) -> tuple[TrackSeries, np.ndarray]:
    """Swap repair, short-gap fill and low-pass of a track's keypoints.

    Returns the cleaned track and the (T,) bool mask of frames where a swap was repaired.
    """
    repaired, swapped = repair_swaps(track.keypoints, settings.swap_cost_ratio)
    flat = repaired.reshape(len(track), -1)
    filled = fill_short_gaps(flat, int(round(settings.max_gap_fill_s * fps)))
    smooth = lowpass(
        filled,
        fps,
        settings.lowpass_cutoff_hz,
        settings.lowpass_order,
        settings.lowpass_max_nyquist_fraction,
    )
    return track.replace(smooth.reshape(repaired.shape)), swapped


def stepping_span(
    keypoints: np.ndarray, leg_px: np.ndarray, fps: float, still_fraction: float, stride_frames: float
) -> tuple[int, int]:
    """[start, stop) rows of the longest bout in which the legs move: a sprinter's seconds in
    the blocks, or a spectator standing before jogging off, are not part of the gait.

    The legs are still when the faster ankle's speed relative to the mid-hip (a rolling median
    over one second or one stride, ``stride_frames``, whichever is longer) is under
    ``still_fraction`` of the track's own typical stepping speed (its 90th percentile). The
    threshold is relative, so slow-motion footage, where every speed is k times lower, is judged
    the same way. Pauses under half that window do not end a bout. The whole track when no bout
    is found or the bout covers 80 % of it.

    Args:
        keypoints: (T, K, 2) cleaned pixels; leg_px: (T,) leg length in pixels per frame.
    """
    whole = (0, len(keypoints))
    if len(keypoints) < 3:
        return whole
    relative = keypoints[:, list(ANKLES)] - nanmean_points(keypoints, HIPS)[:, None, :]
    speed = np.linalg.norm(np.diff(relative, axis=0), axis=2) * fps / leg_px[1:, None]
    with np.errstate(invalid="ignore"):
        fastest = np.fmax(speed[:, 0], speed[:, 1])
    window = max(fps, stride_frames if np.isfinite(stride_frames) else 0.0)  # a stride at least
    smooth = rolling_median(np.concatenate([[np.nan], fastest]), 2 * int(round(window / 2)) + 1)
    if not np.isfinite(smooth).any():
        return whole
    threshold = still_fraction * np.nanpercentile(smooth, 90)
    with np.errstate(invalid="ignore"):
        still = smooth < threshold  # unseen ankles are not still legs
    moving = np.isfinite(fill_short_gaps(np.where(still, np.nan, 1.0), int(round(window / 2))))
    runs = nan_runs(moving)  # runs of moving frames
    if not runs:
        return whole
    start, stop = max(runs, key=lambda r: r[1] - r[0])
    return whole if stop - start >= 0.8 * len(keypoints) else (start, stop)
