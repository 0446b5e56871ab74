"""Offline stitching of track fragments that belong to the same person.

A tracker loses people behind others, when they leave and re-enter the frame, or swaps
ids. With the whole video at hand, a fragment that ends can be joined to one that starts
later when (1) the gap is short, (2) the first fragment's box, extrapolated at its final
velocity across the gap, lands near where the second begins (and the second, run
backwards, lands near where the first ended), and (3) their body proportions agree.
Fragments that overlap in time are never joined: one person is never in two places.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.analysis.geometry import (
    ANKLES,
    ELBOWS,
    HIPS,
    KNEES,
    SHOULDERS,
    WRISTS,
    distance,
    torso_length,
)
from pipeline.analysis.settings import AnalysisSettings
from pipeline.analysis.tracks import TrackSeries

_SEGMENTS = (
    *zip(HIPS, KNEES, strict=True),
    *zip(KNEES, ANKLES, strict=True),
    *zip(SHOULDERS, ELBOWS, strict=True),
    *zip(ELBOWS, WRISTS, strict=True),
)


@dataclass(frozen=True)
class Fragment:
    """End points and body of one track fragment (pixels, frames)."""

    track_id: int
    start: int
    end: int
    start_center: np.ndarray  # (2,) box centre at the first frame
    end_center: np.ndarray  # (2,) box centre at the last frame
    start_velocity: np.ndarray  # (2,) px/frame over the first half second
    end_velocity: np.ndarray  # (2,) px/frame over the last half second
    box_height: float  # median px
    proportions: np.ndarray  # (4,) median thigh, shank, upper arm, forearm / torso length


@dataclass(frozen=True)
class Stitching:
    """id_map: every tracker id -> runner id (the chain's smallest id); merged: joins made."""

    id_map: dict[int, int]
    merged: int


def _velocity(frames: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """(2,) median px/frame of (N, 2) centres at (N,) frames; zero with fewer than 2."""
    if len(frames) < 2:
        return np.zeros(2)
    return np.median(np.diff(centers, axis=0) / np.diff(frames)[:, None], axis=0)


def _proportions(track: TrackSeries) -> np.ndarray:
    """(4,) median segment length / torso length for thigh, shank, upper arm, forearm."""
    torso = torso_length(track.keypoints)
    kp = track.keypoints
    ratios = np.stack([distance(kp[:, a], kp[:, b]) / torso for a, b in _SEGMENTS], axis=1)
    out = np.full(4, np.nan)
    for j in range(4):
        values = ratios[:, [2 * j, 2 * j + 1]]
        values = values[np.isfinite(values)]
        out[j] = np.median(values) if len(values) else np.nan
    return out


def fragment_of(track: TrackSeries, fps: float) -> Fragment:
    """Summarise a track (with at least one detected frame) for stitching."""
    rows = np.flatnonzero(track.present)
    frames = track.frames[rows]
    boxes = track.boxes[rows]
    centers = (boxes[:, :2] + boxes[:, 2:]) / 2
    window = max(int(round(0.5 * fps)), 2)
    return Fragment(
        track.track_id,
        int(frames[0]),
        int(frames[-1]),
        centers[0],
        centers[-1],
        _velocity(frames[:window], centers[:window]),
        _velocity(frames[-window:], centers[-window:]),
        float(np.median(boxes[:, 3] - boxes[:, 1])),
        _proportions(track),
    )


def proportion_difference(a: Fragment, b: Fragment) -> float:
    """Largest relative difference of box height and the body proportions both fragments show."""
    first = np.append(a.proportions, a.box_height)
    second = np.append(b.proportions, b.box_height)
    both = np.isfinite(first) & np.isfinite(second)
    return float(np.max(np.abs(first[both] - second[both]) / ((first[both] + second[both]) / 2)))


def join_cost(
    a: Fragment, b: Fragment, fps: float, frame_size: tuple[int, int], settings: AnalysisSettings
) -> float | None:
    """Cost of continuing fragment ``a`` with the later fragment ``b``; None if not allowed.

    The cost is the mean extrapolation miss (forward from ``a``, backward from ``b``) in box
    heights plus the proportion difference.
    """
    gap = b.start - a.end
    if gap <= 0 or gap / fps > settings.stitch_max_gap_s:
        return None
    upper = np.asarray(frame_size, dtype=float)
    ahead = np.clip(a.end_center + a.end_velocity * gap, 0.0, upper)
    behind = np.clip(b.start_center - b.start_velocity * gap, 0.0, upper)
    height = (a.box_height + b.box_height) / 2
    miss = (np.hypot(*(ahead - b.start_center)) + np.hypot(*(behind - a.end_center))) / (2 * height)
    body = proportion_difference(a, b)
    if (
        miss > settings.stitch_max_distance_box_heights
        or body > settings.stitch_max_proportion_difference
    ):
        return None
    return float(miss + body)


def stitch_tracks(
    tracks: list[TrackSeries], fps: float, frame_size: tuple[int, int], settings: AnalysisSettings
) -> Stitching:
    """Join fragments greedily, cheapest first, each to at most one successor and predecessor.

    Args:
        tracks: the raw fragments (one per tracker id).
        fps: real frames per second (gap limit in seconds).
        frame_size: (width, height) px; extrapolation stops at the frame border.
    """
    fragments = [fragment_of(t, fps) for t in tracks if t.present.any()]
    candidates = []
    for a in fragments:
        for b in fragments:
            cost = join_cost(a, b, fps, frame_size, settings) if a is not b else None
            if cost is not None:
                candidates.append((cost, a.track_id, b.track_id))
    successor: dict[int, int] = {}
    predecessor: dict[int, int] = {}
    for _, a_id, b_id in sorted(candidates):
        if a_id not in successor and b_id not in predecessor:
            successor[a_id], predecessor[b_id] = b_id, a_id
    id_map = {}
    for f in fragments:
        if f.track_id in predecessor:
            continue
        chain = [f.track_id]
        while chain[-1] in successor:
            chain.append(successor[chain[-1]])
        id_map.update({member: min(chain) for member in chain})
    return Stitching(id_map, len(successor))
