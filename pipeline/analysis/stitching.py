"""Offline stitching of track fragments that belong to the same person.

A tracker loses people behind others, when they leave and re-enter the frame, or swaps
ids. With the whole video at hand, a fragment that ends can be joined to one that starts
later when (1) the gap is short, (2) the first fragment's box, extrapolated at its final
velocity across the gap, lands near where the second begins (and the second, run
backwards, lands near where the first ended), (3) the torso lengths at the two ends agree
beyond their noise, carried across the gap as a pinhole camera shows a person approaching
or leaving it (1 / size changes linearly) or by the scene's zoom (:func:`size_difference`),
(4) the body proportions agree, and (5) their clothes look alike (colour histograms of the
upper body and thighs, ``pipeline.appearance``). Fragments that overlap in time are never
joined: one person is never in two places.

A panning or zooming camera moves everyone in the picture, so when other people are seen
on both sides of the gap, their median shift across it carries the fragment's end along
(plus the fragment's own motion relative to them): a pack of runners followed by a
broadcast camera keeps its place even when the camera swings during the gap.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from pipeline import appearance
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
from pipeline.shots import shot_of

_SEGMENTS = (
    *zip(HIPS, KNEES, strict=True),
    *zip(KNEES, ANKLES, strict=True),
    *zip(SHOULDERS, ELBOWS, strict=True),
    *zip(ELBOWS, WRISTS, strict=True),
)


@dataclass(frozen=True)
class EndSize:
    """A fragment's torso length at one end, read over its first (or last) half second.

    A pinhole camera shows a person at distance Z at a size proportional to 1 / Z, and Z
    changes linearly while she keeps her speed: someone running toward the camera grows ever
    faster, but 1 / size changes in a straight line. So the size is carried in time as its
    inverse, at the rate read over the end's first two half seconds.

    Attributes:
        torso: median torso length, px; NaN when seen in fewer than 3 frames.
        spread: relative standard error of that median (:func:`_median_and_spread`).
        frame: the frame the median is centred on.
        rate: change of 1 / torso per frame (1/px per frame), from the median of the end's first
            half second to the next one's; NaN for a fragment shorter than a second.
        rate_spread: standard error of ``rate``, from the two medians' errors.
    """

    torso: float
    spread: float
    frame: float
    rate: float = float("nan")
    rate_spread: float = float("nan")

    def at(self, frame: float) -> tuple[float, float]:
        """(torso px, relative standard error) carried to ``frame`` at ``rate``; as it is, with
        its own error only, when the rate is unmeasured."""
        if not np.isfinite(self.rate):
            return self.torso, self.spread
        inverse = 1.0 / self.torso + self.rate * (frame - self.frame)
        if inverse <= 1.0 / MAX_TORSO_PX:  # she would have reached the camera
            return MAX_TORSO_PX, float("inf")
        carried_error = self.rate_spread * abs(frame - self.frame) / inverse  # relative, of 1 / size
        return 1.0 / inverse, float(np.hypot(self.spread, carried_error))


#: A join is ruled out by a size difference beyond the tolerance by this many standard errors.
NOISE_SIGMAS = 2.0
#: Torso lengths are compared up to this size (px): a size carried past it has reached the camera.
MAX_TORSO_PX = 1e4


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
    start_height: float  # median box height over the first half second, px
    end_height: float  # median box height over the last half second, px
    start_size: EndSize  # torso length over the first half second
    end_size: EndSize  # torso length over the last half second
    proportions: np.ndarray  # (4,) median thigh, shank, upper arm, forearm / torso length
    start_look: np.ndarray | None  # (D,) colour descriptor over the first half second
    end_look: np.ndarray | None  # (D,) colour descriptor over the last half second


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
    heights = (boxes[:, 3] - boxes[:, 1])[:, None]
    torso = torso_length(track.keypoints[rows])
    window = max(int(round(0.5 * fps)), 2)
    first, last = slice(None, window), slice(-window, None)
    return Fragment(
        track.track_id,
        int(frames[0]),
        int(frames[-1]),
        centers[0],
        centers[-1],
        _velocity(frames[first], centers[first]),
        _velocity(frames[last], centers[last]),
        float(np.median(heights[first])),
        float(np.median(heights[last])),
        end_size(frames, torso, window),
        end_size(frames[::-1], torso[::-1], window),
        _proportions(track),
        _look(track, rows[first]),
        _look(track, rows[last]),
    )


def _median_and_spread(frames: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """Median of the finite ``values`` (NaN with fewer than 3) and its relative standard error.

    The error is 1.25 x the robust SD (1.4826 x MAD) of what a straight line through the
    values (the person's growth) leaves, over the square root of the effective number of
    samples: a pose model misreads a person alike in consecutive frames, so n frames whose
    leftovers correlate by rho from one frame to the next count as n (1 - rho) / (1 + rho)
    (the AR(1) effective sample size). A tiny sprinter's torso read 16-20 px wobbles with her
    posture over many frames; a half second of it is worth a few samples, not 30."""
    finite = np.isfinite(values)
    if finite.sum() < 3:
        return float("nan"), float("nan")
    t, y = frames[finite].astype(float), values[finite]
    median = float(np.median(y))
    if not median > 0:
        return median, float("inf")
    left = y - np.polyval(np.polyfit(t - t.mean(), y, 1), t - t.mean())
    sd = 1.4826 * float(np.median(np.abs(left - np.median(left))))
    rho = 0.0
    if len(left) >= 4 and np.std(left[:-1]) > 0 and np.std(left[1:]) > 0:
        rho = float(np.clip(np.corrcoef(left[:-1], left[1:])[0, 1], 0.0, 0.99))
    effective = max(len(left) * (1.0 - rho) / (1.0 + rho), 1.0)
    return median, 1.25 * sd / np.sqrt(effective) / median


def end_size(frames: np.ndarray, sizes: np.ndarray, window: int) -> EndSize:
    """The torso length at the start of ``frames`` (reversed inputs: at the end) over its first
    ``window`` samples, and the rate its inverse changes at, read from the next ``window``
    samples: medians over whole windows, so a stride's wobble cancels."""
    torso, spread = _median_and_spread(frames[:window], sizes[:window])
    centre = float(np.median(frames[:window]))
    if len(frames) < 2 * window or not np.isfinite(torso):
        return EndSize(torso, spread, centre)
    later, later_spread = _median_and_spread(frames[window : 2 * window], sizes[window : 2 * window])
    span = float(np.median(frames[window : 2 * window])) - centre
    if not (np.isfinite(later) and span):
        return EndSize(torso, spread, centre)
    rate = (1.0 / later - 1.0 / torso) / span
    rate_spread = float(np.hypot(spread / torso, later_spread / later)) / abs(span)
    return EndSize(torso, spread, centre, rate, rate_spread)


def _look(track: TrackSeries, rows: np.ndarray) -> np.ndarray | None:
    """(D,) median colour descriptor over the given track rows, each region renormalised to
    sum 1; None without descriptors."""
    if track.appearance is None:
        return None
    values = track.appearance[rows]
    if not np.isfinite(values).any():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a region never seen stays NaN
        look = np.nanmedian(values, axis=0)
    for region in (slice(0, appearance.BINS), slice(appearance.BINS, appearance.DIMENSIONS)):
        total = look[region].sum()
        look[region] = look[region] / total if total > 0 else np.nan
    return look


class SceneMotion:
    """How everyone else in the picture moved between two frames (camera pan and zoom, plus
    the crowd's own motion)."""

    def __init__(self, tracks: list[TrackSeries]) -> None:
        self._first = {t.track_id: int(t.frames[0]) for t in tracks}
        self._boxes = {t.track_id: np.where(t.present[:, None], t.boxes, np.nan) for t in tracks}

    def _box(self, track_id: int, frame: int) -> np.ndarray | None:
        row = frame - self._first[track_id]
        boxes = self._boxes[track_id]
        return boxes[row] if 0 <= row < len(boxes) and np.isfinite(boxes[row]).all() else None

    def motion(self, start: int, stop: int, exclude: tuple[int, ...]) -> tuple[float, np.ndarray] | None:
        """``(zoom, shift)`` that carry a point p at ``start`` to ``zoom * p + shift`` at ``stop``
        as the other people seen at both frames moved (zoom: median ratio of their box heights;
        shift: median of what is left of their centres' motion); None if nobody is."""
        before, after = [], []
        for track_id in self._boxes:
            if track_id in exclude:
                continue
            first, last = self._box(track_id, start), self._box(track_id, stop)
            if first is not None and last is not None:
                before.append(first)
                after.append(last)
        if not before:
            return None
        b, a = np.asarray(before), np.asarray(after)
        zoom = float(np.median((a[:, 3] - a[:, 1]) / np.maximum(b[:, 3] - b[:, 1], 1.0)))
        shift = np.median((a[:, :2] + a[:, 2:]) / 2 - zoom * (b[:, :2] + b[:, 2:]) / 2, axis=0)
        return zoom, shift


def _relative(a: float | np.ndarray, b: float | np.ndarray) -> np.ndarray:
    return np.abs(np.subtract(a, b)) / ((np.add(a, b)) / 2)


def grows(first: EndSize, second: EndSize) -> bool:
    """Whether the ends show the person steadily approaching or leaving the camera: a rate of
    growth beyond its noise (``NOISE_SIGMAS``) at either end, and, where both ends read one,
    the two of one sign (a steady approach does not turn into a retreat across a second's
    gap). A runner followed by a panning, zooming broadcast camera keeps about her size, and
    the rates her ends read come from her posture and the zoom: on the 100 m clip, of either sign."""
    measured = [e for e in (first, second) if np.isfinite(e.rate)]
    steady = len({np.sign(e.rate) for e in measured}) == 1
    return steady and any(abs(e.rate) > NOISE_SIGMAS * e.rate_spread for e in measured)


def size_difference(a: Fragment, b: Fragment, zoom: float | None = None) -> tuple[float, float]:
    """(relative difference, its standard error) of the torso lengths across the gap (the
    torso, because a box shrinks when someone in front hides the legs).

    Where an end shows the person approaching or leaving the camera (:func:`grows`), each end's
    median is carried to the middle of the other end's half second at its own rate of growth
    (:class:`EndSize`; an end too short to read one at the other's; the mean of the forward and
    the backward miss): someone running toward a fixed camera grows by tens of percent in a
    second, the people around her at their own rates. Otherwise ``a``'s end is scaled by the
    scene's ``zoom`` across the gap (everyone else's change of size: a broadcast camera zooming
    grows everyone alike) or, with nobody else seen, compared as it is. (0, 0) when either
    torso is unseen."""
    first, second = a.end_size, b.start_size
    if not (np.isfinite(first.torso) and np.isfinite(second.torso)):
        return 0.0, 0.0
    if not grows(first, second):
        scaled = first.torso * (zoom if zoom is not None else 1.0)
        return float(_relative(scaled, second.torso)), float(np.hypot(first.spread, second.spread))
    ahead = first if np.isfinite(first.rate) else replace(first, rate=second.rate, rate_spread=second.rate_spread)
    behind = second if np.isfinite(second.rate) else replace(second, rate=first.rate, rate_spread=first.rate_spread)
    forward, forward_error = ahead.at(second.frame)
    backward, backward_error = behind.at(first.frame)
    misses = [(float(_relative(forward, second.torso)), float(np.hypot(forward_error, second.spread))),
              (float(_relative(backward, first.torso)), float(np.hypot(backward_error, first.spread)))]
    # a carry that reaches the camera within the gap says nothing of the size she comes back at
    # (inf error): the other direction's carry decides alone (a jogger who left the picture at
    # the camera is not the person a third her size starting in the distance 1.2 s later)
    known = [m for m in misses if np.isfinite(m[1])]
    if len(known) == 1:
        return known[0]
    difference = (misses[0][0] + misses[1][0]) / 2
    error = np.hypot(misses[0][1], misses[1][1]) / 2
    return float(difference), float(error)


def proportion_difference(a: Fragment, b: Fragment) -> float:
    """Second-largest relative difference of the body proportions both fragments show (the
    largest with one; 0 with none): one segment of a small or half-hidden person is often
    misread, two rarely are."""
    both = np.isfinite(a.proportions) & np.isfinite(b.proportions)
    if not both.any():
        return 0.0
    differences = np.sort(_relative(a.proportions[both], b.proportions[both]))
    return float(differences[-2] if len(differences) > 1 else differences[-1])


def _carried(
    a: Fragment, b: Fragment, fps: float, scene: SceneMotion | None
) -> tuple[np.ndarray, np.ndarray, float | None]:
    """(2,) where ``a``'s end lands at ``b``'s start, (2,) where ``b``'s start was at ``a``'s
    end, and the scene's zoom across the gap: by the scene's shift plus each fragment's own
    motion relative to the scene, or by each fragment's own velocity (zoom None) when no one
    else is seen on both sides of the gap."""
    gap = b.start - a.end
    pair = (a.track_id, b.track_id)
    across = scene.motion(a.end, b.start, pair) if scene is not None else None
    if scene is None or across is None:
        return a.end_center + a.end_velocity * gap, b.start_center - b.start_velocity * gap, None
    zoom, shift = across
    window = max(int(round(0.5 * fps)), 1)

    def own(velocity: np.ndarray, point: np.ndarray, motion: tuple[float, np.ndarray] | None) -> np.ndarray:
        """A fragment's velocity less the scene's at its point (px/frame)."""
        return velocity if motion is None else velocity - (motion[0] * point + motion[1] - point) / window

    own_a = own(a.end_velocity, a.end_center, scene.motion(a.end - window, a.end, pair))
    own_b = own(b.start_velocity, b.start_center, scene.motion(b.start, b.start + window, pair))
    ahead = zoom * a.end_center + shift + own_a * gap
    behind = (b.start_center - shift - own_b * gap) / zoom
    return ahead, behind, zoom


def join_cost(
    a: Fragment,
    b: Fragment,
    fps: float,
    frame_size: tuple[int, int],
    settings: AnalysisSettings,
    scene: SceneMotion | None = None,
) -> float | None:
    """Cost of continuing fragment ``a`` with the later fragment ``b``; None if not allowed.

    The cost is the mean extrapolation miss (forward from ``a``, backward from ``b``) in box
    heights plus the size and proportion differences. ``scene`` carries the ends across the
    gap with everyone else's motion (see :class:`SceneMotion`).
    """
    gap = b.start - a.end
    if gap <= 0 or gap / fps > settings.stitch_max_gap_s:
        return None
    upper = np.asarray(frame_size, dtype=float)
    ahead, behind, zoom = _carried(a, b, fps, scene)
    ahead, behind = np.clip(ahead, 0.0, upper), np.clip(behind, 0.0, upper)
    height = (a.end_height + b.start_height) / 2
    miss = (np.hypot(*(ahead - b.start_center)) + np.hypot(*(behind - a.end_center))) / (2 * height)
    size, size_error = size_difference(a, b, zoom)
    body = proportion_difference(a, b)
    # a size difference counts only beyond its own noise, in the gate and in the cost
    size = max(size - NOISE_SIGMAS * size_error, 0.0)
    if (
        miss > settings.stitch_max_distance_box_heights
        or size > settings.stitch_max_proportion_difference
        or body > settings.stitch_max_proportion_difference
    ):
        return None
    looks = look_difference(a, b)
    if looks > settings.stitch_max_appearance_distance:
        return None
    return float(miss + size + body + looks)


def look_difference(a: Fragment, b: Fragment) -> float:
    """Colour distance (``appearance.distance``, 0 alike to 1) between ``a``'s end and ``b``'s
    start; 0 when either has no descriptor (older files): motion and body decide alone."""
    if a.end_look is None or b.start_look is None:
        return 0.0
    value = appearance.distance(a.end_look, b.start_look)
    return value if np.isfinite(value) else 0.0


def stitch_tracks(
    tracks: list[TrackSeries], fps: float, frame_size: tuple[int, int], settings: AnalysisSettings,
    shot_starts: tuple[int, ...] = (),
) -> Stitching:
    """Join fragments greedily, cheapest first, each to at most one successor and predecessor.

    Args:
        tracks: the raw fragments (one per tracker id).
        fps: real frames per second (gap limit in seconds).
        frame_size: (width, height) px; extrapolation stops at the frame border.
        shot_starts: first frame of each shot after the first (:mod:`pipeline.shots`): two
            fragments in different shots are never joined (motion does not carry across a cut).
    """
    seen = [t for t in tracks if t.present.any()]
    fragments = [fragment_of(t, fps) for t in seen]
    scene = SceneMotion(seen)
    shot = {f.track_id: tuple(shot_of(np.array([f.start, f.end]), shot_starts)) for f in fragments}
    candidates = []
    for a in fragments:
        for b in fragments:
            same_shot = shot[a.track_id][1] == shot[b.track_id][0]
            cost = join_cost(a, b, fps, frame_size, settings, scene) if a is not b and same_shot else None
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
