"""Gait events and rhythm: initial contacts, cadence, asymmetry, oscillation, flight.

Contacts are found relative to the body and the local ground, never to the frame: each
ankle's height above a *ground line* (the lowest ankle position over about one stride,
which follows a camera tilt or a runner approaching the camera) is measured in leg
lengths, and an initial contact is the moment the ankle comes back down to the ground
after a swing. The same rule works from the side, front or back, on a treadmill, running
in place or under a panning camera. All time constants come from the runner's own stride
period (found spectrally), so the detector also works on slow-motion clips.

Side views have a cleaner signal than foot height: the ankle's reach ahead of the hips in
the direction the runner faces. Its peaks are initial contacts (the foot-forward method
of Zeni et al. 2008, after the foot has finished reaching forward), and they are used
whenever the runner is seen sideways and facing a known way.

From the front or back the feet mostly move toward or away from the camera, and a small or
distant runner's ankles barely rise in the image. The hips, though, drop once per step as the
body lands on a leg: each trough of the mid-hip's bounce is one step (its mid-stance in
running, its double support in walking). Those troughs are used when they find more steps
than the feet do; the contact is then dated at the trough (``event`` 'mid_stance').
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.signal import find_peaks

from pipeline.analysis.geometry import (
    ANKLES,
    ELBOWS,
    HIPS,
    KNEES,
    SHOULDERS,
    distance,
    elbow_angle,
    interior_angle,
    leg_length,
    nanmean_points,
    torso_length,
)
from pipeline.analysis.settings import AnalysisSettings
from pipeline.analysis.signals import lowpass, nan_runs

LEFT, RIGHT = 0, 1
FOOT_NAMES = ("left", "right")
#: What a contact's frame marks: the foot landing, or the lowest point of the hips' bounce.
INITIAL_CONTACT, MID_STANCE = "initial_contact", "mid_stance"
#: A running contact dated from the hips' lowest point, less half a stance (see STANCE_TO_MID).
INITIAL_CONTACT_ESTIMATED = "initial_contact_estimated"
#: From the foot landing to the hips' lowest point in running, in strides: half the stance,
#: which lasts 0.30-0.38 of a stride in endurance running (duty factor; Folland et al. 2017,
#: Lussiana et al. 2019), so about 0.17. Checked on the two shared clips with hand-labelled
#: contacts seen from the front or back: their troughs came 4 (front, ~31 frames a stride) and
#: 5 (back, ~22) frames after the labelled landings, 0.13 and 0.23 of a stride.
STANCE_TO_MID = 0.17
#: From a foot's furthest reach ahead of the hips to its landing, in strides. The swing leg
#: retracts before touchdown (the foot swings back toward the hips and lands moving backward),
#: so the reach peaks shortly before the contact. Measured on the five shared side-view clips
#: with hand-labelled contacts (``benchmarks/reach_to_landing.py``): per-clip medians 0.048
#: (treadmill, 60 fps), 0.062 (beach), 0.071 (sprint start), 0.088 (track pan, slow motion),
#: 0.114 (elite, slow motion, 2 contacts); their median 0.071. Each clip held out in turn, the
#: others' median (0.067-0.080) found that clip's contacts within 2 frames as well as 0.07 did
#: (beach 32/32, treadmill 17/18 against 18/18, track pan 3/8, sprint start 6/6, elite 0/2),
#: where the peaks themselves found 24/32, 13/18, 2/8, 6/6 and 0/2.
REACH_TO_LANDING = 0.07
#: The fastest stepping a human body does, steps/min: elite sprinters' step frequency peaks at
#: 4.5-5 steps a second (270-300 steps/min; Mann 2011, The Mechanics of Sprinting and Hurdling;
#: Salo et al. 2011, Med Sci Sports Exerc 43:1055), and 330 leaves room for the count's own error.
#: A cadence read faster in real time is a misread (a harmonic in the spectrum, a step counted
#: twice), published as null, never as a number (:func:`pipeline.analysis.running.possible_cadence`),
#: and no stride is looked for shorter than two such steps (:func:`shortest_stride_frames`).
MAX_HUMAN_CADENCE_SPM = 330.0
#: The spectrum's shortest period in frames where the frame rate is not known.
SHORTEST_PERIOD_FRAMES = 4.0
#: A stride's peak in the spectrum holds at least this share of the power of the strongest
#: rhythm found down to ``SHORTEST_PERIOD_FRAMES``: the side lobes of a rhythm faster than a
#: caller's shortest period hold about 5 % (the first lobe of a windowless spectrum, -13 dB).
MIN_PEAK_SHARE = 0.1
#: How far from twice a step's period a stride's peak may lie, as a fraction: steps vary by a
#: few per cent and left and right by up to ~10 % (``RHYTHM_TOLERANCE`` allows 30 % per interval).
HARMONIC_TOLERANCE = 0.15


def shortest_stride_frames(fps: float) -> float:
    """The shortest stride anyone takes, in frames at the real rate ``fps``: two steps at
    ``MAX_HUMAN_CADENCE_SPM``. A spectrum's peak at a shorter period is a step read as a stride
    (the hips bounce once a step, and a sprinter's legs look alike), which would find every step
    twice: on the 100 m the leader's ankles and hips peaked at 6.7 frames at 25 fps, 447 steps a
    minute, and his contacts came 2-8 frames apart, 293 a minute against the 211 counted by eye."""
    return max(SHORTEST_PERIOD_FRAMES, 120.0 * fps / MAX_HUMAN_CADENCE_SPM)


@dataclass(frozen=True)
class Gait:
    """Gait of one track. N contacts, S strides; times in seconds of real time.

    Attributes:
        contact_index: (N,) int64, track row of each initial contact, sorted.
        contact_time_s: (N,) float64, contact time (sub-frame) in seconds from track start.
        contact_foot: (N,) int8, LEFT (0) or RIGHT (1).
        strides: (S, 2) int64, [start, stop) track rows of non-overlapping full gait cycles.
        cycles: (C, 2) int64, [start, stop) rows of the whole gait cycles that per-frame faults
            are sampled over: the strides, plus cycles of the same length filling the running
            around them where a contact was missed (:func:`whole_cycles`).
        step_spans: (P, 2) int64, [start, stop) rows of the steps that per-step faults (one arm
            forward each) are sampled over: the halves of ``cycles``, plus the step into the
            first of them and the step out of the last (:func:`step_windows`).
        stride_period_frames: spectral stride period in frames (NaN without periodicity).
        leg_length_px: 90th percentile of hip->knee + knee->ankle over frames, pixels.
        leg_scale_px: (T,) leg length at each frame (follows the runner's size), pixels.
        cadence_spm, cadence_spectral_spm: steps/min from contacts and from the spectrum.
        step_asymmetry: |left - right| / mean step time, fraction; NaN unless both seen.
        vertical_oscillation: median mid-hip range per stride about its trend, leg lengths
            (:func:`stride_bounce`: read in pixels, over the stride's leg length).
        flight_fraction: fraction of frames with both feet off the ground.
        foot_lift: median swing height of the ankles, leg lengths.
        knee_min_angle_deg: median per stride of the smallest knee angle (swing flexion).
        arm_swing_deg: median per stride of the upper arm's fore-aft angular range.
        elbow_angle_deg: median per stride of the elbow angle (side view).
        alternation_errors: consecutive contacts of the same foot.
        contact_event: INITIAL_CONTACT, or MID_STANCE when the steps came from the hips' bounce.
        swing_heights: (2,) the left and right ankle's swing height (95th percentile above the
            ground line), leg lengths; NaN where never seen.
        flight_frames: (T,) bool, the frames ``flight_fraction`` was read in (both ankles seen,
            in a side or oblique frame the camera's pitch cannot fake a lift in).
    """

    contact_index: np.ndarray
    contact_time_s: np.ndarray
    contact_foot: np.ndarray
    strides: np.ndarray
    cycles: np.ndarray
    step_spans: np.ndarray
    stride_period_frames: float
    leg_length_px: float
    leg_scale_px: np.ndarray
    cadence_spm: float
    cadence_spectral_spm: float
    step_asymmetry: float
    vertical_oscillation: float
    flight_fraction: float
    foot_lift: float
    knee_min_angle_deg: float
    arm_swing_deg: float
    elbow_angle_deg: float
    alternation_errors: int
    contact_event: str = INITIAL_CONTACT
    swing_heights: np.ndarray = field(default_factory=lambda: np.full(2, np.nan))
    flight_frames: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    @property
    def steps(self) -> int:
        """Initial contacts found."""
        return len(self.contact_index)


def _segments_detrended(signal: np.ndarray) -> np.ndarray:
    """The finite samples of a (T,) signal, each contiguous segment minus its own quadratic
    trend (a runner approaching the camera drifts down the frame)."""
    parts = []
    for a, b in nan_runs(np.isfinite(signal)):
        if b - a > 3:
            x = np.arange(b - a, dtype=float)
            parts.append(signal[a:b] - np.polyval(np.polyfit(x, signal[a:b], 2), x))
    return np.concatenate(parts) if parts else np.zeros(0)


def _power(part: np.ndarray, size: int) -> np.ndarray:
    """Normalised power spectrum of a detrended signal, zero-padded to ``size``."""
    spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part)), size)) ** 2
    total = spectrum.sum()
    return spectrum / total if total > 0 else spectrum


def spectral_period(
    stride_signals: Sequence[np.ndarray], step_signals: Sequence[np.ndarray] = (),
    min_period: float = SHORTEST_PERIOD_FRAMES,
    max_period: float = float("inf"),
) -> float:
    """Dominant stride period in frames from (T,) signals that repeat once per stride (the
    ankles' left-right differences) and signals that repeat once per step (the mid-hip's
    bounce, read at twice the frequency).

    Only periods up to half the usable length are considered (two full strides at least), and
    to ``max_period``. Where the strongest is faster than ``min_period`` but no faster than half
    of it (a step read as a stride), a peak of its own at about twice its period
    (``HARMONIC_TOLERANCE``, ``MIN_PEAK_SHARE``) and no faster than ``min_period`` is the
    stride; otherwise the strongest down to ``SHORTEST_PERIOD_FRAMES`` stands. Returns NaN when
    no signal has 8 usable samples.
    """
    strides = [_segments_detrended(s) for s in stride_signals]
    steps = [_segments_detrended(s) for s in step_signals]
    n = max((len(p) for p in strides + steps), default=0)
    if n < 8:
        return float("nan")
    size = 1 << int(np.ceil(np.log2(n * 8)))
    freqs = np.fft.rfftfreq(size)
    power = np.zeros(len(freqs))
    for part in strides:
        if len(part) >= 8:
            power += _power(part, size)
    for part in steps:
        if len(part) >= 8:
            power += np.interp(2 * freqs, freqs, _power(part, size), right=0.0)
    wide = (freqs >= max(2.0 / n, 1.0 / max_period)) & (freqs <= 1.0 / SHORTEST_PERIOD_FRAMES)
    if not wide.any() or not power[wide].any():
        return float("nan")
    strongest = float(1.0 / freqs[wide][np.argmax(power[wide])])
    if strongest >= min_period or strongest < min_period / 2:  # a stride, or no human's step either
        return strongest
    # the strongest rhythm is faster than min_period allows: where it is a step read as a stride,
    # the stride's own peak lies at twice its period (within HARMONIC_TOLERANCE), at min_period or
    # slower, a peak of its own (the next faster bin does not outdo it: not a flank) and not a side
    # lobe of the step's (those hold about 5 % of its power); without one the strongest stands and
    # what it gives is judged downstream (a cadence no human reaches is published as null)
    period = 1.0 / np.where(freqs > 0, freqs, np.inf)
    ratio = period / strongest
    near = wide & (period >= min_period) & (np.abs(ratio / 2.0 - 1.0) <= HARMONIC_TOLERANCE)
    inside = np.flatnonzero(near)
    faster = np.append(power[1:], 0.0)
    peaks = inside[power[inside] >= faster[inside]]
    if len(peaks) and power[peaks].max() >= MIN_PEAK_SHARE * power[wide].max():
        return float(period[peaks[np.argmax(power[peaks])]])
    return strongest


def _block_starts(length: int, block: int) -> list[int]:
    """Start rows of consecutive blocks of ``block`` frames; a short last block joins the one
    before it, so every block spans at least a full cycle."""
    starts = list(range(0, length, block))
    if len(starts) > 1 and length - starts[-1] < block:
        starts.pop()
    return starts


def _block_trend(values: np.ndarray, block: int, at_max: bool) -> np.ndarray:
    """(T,) straight lines through one point per block of ``values``: the block's maximum at
    its row (``at_max``), else the block's median at its centre; NaN if all NaN."""
    points: list[float] = []
    levels: list[float] = []
    starts = _block_starts(len(values), block)
    for start, stop in zip(starts, [*starts[1:], len(values)], strict=True):
        chunk = values[start:stop]
        if not np.isfinite(chunk).any():
            continue
        if at_max:
            j = int(np.nanargmax(chunk))
            points.append(start + j)
            levels.append(chunk[j])
        else:
            points.append(start + (len(chunk) - 1) / 2)
            levels.append(np.nanmedian(chunk))
    if not points:
        return np.full(len(values), np.nan)
    return np.interp(np.arange(len(values)), points, levels)


def ground_line(ankle_y: np.ndarray, block: int) -> np.ndarray:
    """(T,) image y of the ground under the runner: the lowest ankle position (largest y) of
    each step-long block, joined by straight lines, so a drift of the runner down or up the
    frame (approach, zoom, camera tilt) is followed without lag.

    Args:
        ankle_y: (T, 2) image y of the left and right ankle, NaN where missing.
        block: frames, about one step, so each block holds a stance.
    """
    return _block_trend(np.fmax(ankle_y[:, 0], ankle_y[:, 1]), max(block, 3), at_max=True)


def stance_offset(height: np.ndarray, block: int) -> float:
    """Median over stride-long blocks of a foot's lowest height above the ground line: from a
    raised camera the far foot lands higher in the image than the near one."""
    starts = _block_starts(len(height), max(block, 3))
    lows = [
        np.nanmin(height[start:stop])
        for start, stop in zip(starts, [*starts[1:], len(height)], strict=True)
        if np.isfinite(height[start:stop]).any()
    ]
    return float(np.median(lows)) if lows else 0.0


def leg_scale(keypoints: np.ndarray, block: int) -> np.ndarray:
    """(T,) leg length in pixels at each frame, following the runner's apparent size.

    The torso is the steadiest segment (it neither bends nor swings), so its length per
    ``block`` frames, joined by straight lines, gives the size trend of a runner approaching
    or receding from the camera; the leg is that trend times the runner's leg/torso ratio
    (90th percentile over frames: a leg bent toward the camera looks shorter). Without a
    torso, the constant :func:`leg_length`.
    """
    torso = _block_trend(torso_length(keypoints), max(block, 3), at_max=False)
    legs = np.fmax(*(
        distance(keypoints[:, h], keypoints[:, k]) + distance(keypoints[:, k], keypoints[:, a])
        for h, k, a in zip(HIPS, KNEES, ANKLES, strict=True)
    ))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = legs / torso
    if not np.isfinite(ratio).any():
        return np.full(len(keypoints), leg_length(keypoints))
    return np.nanpercentile(ratio, 90) * torso


def foot_heights(keypoints: np.ndarray, period: float, scale: np.ndarray) -> np.ndarray:
    """(T, 2) height of the left and right ankle above the ground, in leg lengths (``scale``:
    (T,) leg length in pixels per frame); each foot's own stance level is 0."""
    stride = int(round(period)) if np.isfinite(period) else 30
    ankle_y = keypoints[:, list(ANKLES), 1]
    heights = (ground_line(ankle_y, stride // 2)[:, None] - ankle_y) / scale[:, None]
    return heights - [stance_offset(heights[:, f], stride) for f in (LEFT, RIGHT)]


def detect_contacts(
    height: np.ndarray, swing: float, min_interval: float, settings: AnalysisSettings
) -> np.ndarray:
    """Sub-frame indices where a (T,) foot height falls to the contact level after a swing.

    The foot must first rise above half its swing height (hysteresis), so ground noise is
    never a step; missing samples reset the state. A contact less than ``min_interval``
    frames after the previous one of the same foot is a wobble, not a step.
    """
    level = settings.contact_height_fraction * swing
    contacts: list[float] = []
    lifted = False
    for t in range(1, len(height)):
        if not np.isfinite(height[t]):
            lifted = False
        elif height[t] > 0.5 * swing:
            lifted = True
        elif lifted and height[t] <= level and np.isfinite(height[t - 1]):
            step = height[t - 1] - height[t]
            at = t - 1 + ((height[t - 1] - level) / step if step > 0 else 1.0)
            if not contacts or at - contacts[-1] >= min_interval:
                contacts.append(at)
            lifted = False
    return np.asarray(contacts, dtype=np.float64)


def cycle_frames(index: np.ndarray, period: float) -> float:
    """Frames of one gait cycle: the measured stride ``period`` when it agrees with the steps
    between contact rows ``index`` (their median is half of it, within 30 %), else twice their
    median step; NaN with neither."""
    steps = np.diff(index)
    cycle = float(period) if np.isfinite(period) and period > 0 else float("nan")
    if len(steps) and not (np.isfinite(cycle) and abs(2 * float(np.median(steps)) / cycle - 1) <= 0.3):
        cycle = 2 * float(np.median(steps))
    return cycle


def _stride_rows(index: np.ndarray, period: float, n_rows: int) -> np.ndarray:
    """(S, 2) [start, stop) rows of non-overlapping gait cycles from sorted contact rows.

    A cycle lasts :func:`cycle_frames` (a hip-bounce or foot-height spectrum can lock onto the
    step, not the stride; then the steps decide). It runs from a contact to the contact two
    steps on, when that comes within 1.6 cycles and each step lasts 0.2-0.8 cycles (a step is
    half a cycle: a shorter one is one step seen twice, a longer one hides a missed contact).
    Where it does not (a step missed, the runner leaving the shot, a clip of one stride), the
    cycle is one cycle length from the contact, provided the other foot lands half a cycle later
    (within 30 %) and the track (``n_rows``) lasts that long.
    """
    steps = np.diff(index)
    cycle = cycle_frames(index, period)
    if not np.isfinite(cycle):  # one contact, no period: no cycle to measure
        return np.zeros((0, 2), np.int64)
    rows: list[tuple[int, int]] = []
    i = 0
    while i < len(index):
        start = int(index[i])
        pair = steps[i:i + 2]
        if len(pair) == 2 and pair.sum() < 1.6 * cycle and pair.min() >= 0.2 * cycle and pair.max() <= 0.8 * cycle:
            rows.append((start, int(index[i + 2])))
            i += 2
            continue
        if i + 1 < len(index) and abs(2 * steps[i] / cycle - 1) <= 0.3 and start + cycle <= n_rows:
            stop = start + int(round(cycle))
            rows.append((start, stop))
            while i < len(index) and index[i] < stop:
                i += 1
            continue
        i += 1
    return np.asarray(rows, dtype=np.int64).reshape(-1, 2)


def _running_rows(index: np.ndarray, cycle: float, keypoints: np.ndarray) -> tuple[float, float]:
    """[first, last] rows where the runner is seen stepping: from the first contact to the last,
    each widened by ``STANCE_TO_MID`` of a ``cycle`` (a contact from the hips' bounce is dated at
    mid-stance, that much after the landing), and never outside the rows where the hips are seen."""
    seen = np.flatnonzero(np.isfinite(nanmean_points(keypoints, HIPS)[:, 1]))
    if not len(index) or not len(seen) or not np.isfinite(cycle):
        return 0.0, 0.0
    slack = STANCE_TO_MID * cycle
    return max(float(index[0]) - slack, float(seen[0])), min(float(index[-1]) + slack, float(seen[-1]) + 1.0)


def whole_cycles(strides: np.ndarray, cycle: float, within: tuple[float, float]) -> np.ndarray:
    """(C, 2) sorted, non-overlapping [start, stop) rows of whole gait cycles: the ``strides``
    (cycles between contacts), and cycles of ``cycle`` frames laid end to end in the gaps between
    them and before and after them, as long as they lie inside ``within`` (rows).

    A per-frame measure (head pitch, arm carriage, trunk lean) needs one whole cycle, each arm
    and each leg through its swing once, not the contacts that bound it: where the contact
    detector missed a step (a hip bounce too small to see, a foot hidden), the cycle is still
    there. The contacts anchor the phase and the stride period sets the length, so no new cycle
    overlaps a measured stride. Without a stride to anchor them or a cycle length, the strides.
    """
    strides = np.asarray(strides, dtype=np.int64).reshape(-1, 2)
    if not len(strides) or not np.isfinite(cycle) or cycle < 2:
        return strides
    length = int(round(cycle))
    lo, hi = within
    rows: list[tuple[int, int]] = []
    start = int(strides[0, 0])
    while start - length >= lo:  # before the first stride
        start -= length
        rows.append((start, start + length))
    rows.reverse()
    for s, (first, stop) in enumerate(strides):
        rows.append((int(first), int(stop)))
        limit = min(int(strides[s + 1, 0]), hi) if s + 1 < len(strides) else hi
        end = int(stop)
        while end + length <= limit:  # a gap where contacts were missed, or after the last stride
            rows.append((end, end + length))
            end += length
    return np.asarray(rows, dtype=np.int64).reshape(-1, 2)


def half_cycles(cycles: np.ndarray) -> np.ndarray:
    """(2C, 2) [start, stop) rows of the two steps of each of ``cycles`` (C, 2): each cycle
    split at its middle, in order."""
    cycles = np.asarray(cycles, dtype=np.int64).reshape(-1, 2)
    middle = (cycles[:, 0] + cycles[:, 1]) // 2
    first, second = np.column_stack([cycles[:, 0], middle]), np.column_stack([middle, cycles[:, 1]])
    return np.stack([first, second], axis=1).reshape(-1, 2)


def step_windows(cycles: np.ndarray, rows: int) -> np.ndarray:
    """(P, 2) sorted [start, stop) rows of steps: the two halves of each of ``cycles`` (C, 2),
    plus one step of their median length before the first and one after the last, where the
    track (``rows`` long) has those rows.

    A cycle starts and ends at a contact (or where one was due). The step that ends in the
    first contact was run: a foot lands from a swing, the body from its flight. So was the step
    that follows the last contact, where the runner rises from that stance into the next
    swing (no one stops within a step of running). One step each side and no more: a cycle
    further out may be a sprinter's block start or a walk before the run. Per-step faults
    gain these two samples; from the front, where contacts come from the hips' bounce and a
    runner approaching or passing the camera is often seen square-on only before the first
    bounce is read, they can be the only steps seen from a view that measures the arms.
    """
    halves = half_cycles(cycles)
    if not len(halves):
        return halves
    length = int(np.median(halves[:, 1] - halves[:, 0]))
    first, last = int(halves[0, 0]), int(halves[-1, 1])
    before = [(first - length, first)] if length > 0 and first - length >= 0 else []
    after = [(last, last + length)] if length > 0 and last + length <= rows else []
    return np.asarray([*before, *map(tuple, halves.tolist()), *after], dtype=np.int64).reshape(-1, 2)


def _cadence_from_steps(times: np.ndarray) -> float:
    """Steps/min: steps counted over the time they span, as a coach counts them with a watch.

    Intervals over 1.5 median steps (a step missed, the runner hidden) are left out of both
    the count and the time, so a gap does not lower the cadence. NaN with under 2 contacts.
    """
    if len(times) < 2:
        return float("nan")
    steps = np.diff(times)
    kept = steps[steps <= 1.5 * np.median(steps)]
    return float(60.0 * len(kept) / kept.sum())


def step_asymmetry(times: np.ndarray, foot: np.ndarray) -> float:
    """|mean left step - mean right step| / their mean; a step ends at its foot's contact.

    Only steps preceded by the other foot's contact within 1.5 median steps count.
    """
    if len(times) < 3:
        return float("nan")
    steps = np.diff(times)
    alternate = (foot[1:] != foot[:-1]) & (steps < 1.5 * np.median(steps))
    left = steps[alternate & (foot[1:] == LEFT)]
    right = steps[alternate & (foot[1:] == RIGHT)]
    if not len(left) or not len(right):
        return float("nan")
    mean_left, mean_right = left.mean(), right.mean()
    return float(abs(mean_left - mean_right) / ((mean_left + mean_right) / 2.0))


def per_stride(
    values: np.ndarray, strides: np.ndarray, reduce: Callable[[np.ndarray], float], min_valid: float = 0.5
) -> np.ndarray:
    """(S,) ``reduce`` of a (T,) signal over each stride; NaN where under ``min_valid`` finite."""
    out = np.full(len(strides), np.nan)
    for s, (start, stop) in enumerate(strides):
        chunk = values[start:stop]
        finite = chunk[np.isfinite(chunk)]
        if len(chunk) and len(finite) >= min_valid * len(chunk):
            out[s] = reduce(finite)
    return out


def _detrended_range(chunk: np.ndarray) -> Any:
    """Peak-to-peak of a stride's samples about their straight-line trend (a float); an (n, D)
    chunk gives one per column, each about its own line."""
    if len(chunk) <= 2:
        return np.nan
    x = np.arange(len(chunk), dtype=float)
    slope, intercept = np.polyfit(x, chunk, 1)
    spread = np.ptp(chunk - (np.multiply.outer(x, slope) + intercept), axis=0)
    return float(spread) if chunk.ndim == 1 else spread


def stride_bounce(hip_px: np.ndarray, scale: np.ndarray, strides: np.ndarray) -> float:
    """The hips' vertical oscillation, leg lengths: the median over ``strides`` of the mid-hip
    height's range about its trend (:func:`_detrended_range`) in pixels, over the stride's
    median leg length in pixels (``scale``, (T,)).

    The range is read in pixels first and scaled second. Scaling the height frame by frame
    first divides the hip's distance from the top of the picture, not only its bounce, by a
    size that changes: a jogger coming toward the camera grows 1.5-2x in two seconds, and
    their hips' row over that size curves within a stride, which a straight trend does not
    take out (the group jog's joggers read 0.33-0.53 leg lengths that way, past any runner's
    bounce, and 0.16-0.27 read in pixels).
    """
    ranges = per_stride(hip_px, strides, _detrended_range, 0.8)
    with np.errstate(invalid="ignore", divide="ignore"):
        return _median(ranges / per_stride(scale, strides, np.median))


#: Draws of keypoint noise a reading under noise is taken over (from a fixed seed: the same
#: track always gets the same reading).
NOISE_DRAWS = 32
#: The quantile of those draws a running cue must reach. One reading is one draw of the noise,
#: and over two or three strides it spreads widely (a walker's bounce, 0.03 leg lengths under
#: 1 px on a 31 px leg, read 0.06-0.14 over seeds): a cue is met only beyond that spread, where a
#: person moving exactly as running's least reads that much or more one time in ten.
NOISE_QUANTILE = 0.9


def bounce_under_noise(
    bounce: float, strides: np.ndarray, rows: int, jitter: float, fps: float, settings: AnalysisSettings
) -> float:
    """What a vertical oscillation of ``bounce`` leg lengths reads on this track, keypoint noise
    included, as ``Gait.vertical_oscillation`` measures it.

    A stride's bounce is a peak-to-peak about its trend (:func:`_detrended_range`), which takes
    the noise's extremes as well as the hips' rise and fall: white noise of SD s alone reads about
    3 s over a 30-frame stride, and 1 px of jitter on a 45 px leg makes a walker's 0.039 leg
    lengths read 0.07-0.08, past running's least (0.06). So the hips are made
    to rise and fall ``bounce`` once a step (a sinusoid, two cycles over each of the track's
    ``strides``), white noise of the mid-hip height's ``jitter`` (leg lengths, the SD
    :func:`pipeline.analysis.analyse.hip_height_jitter` measures) is added, the sum is low-passed
    as the keypoints were (:func:`pipeline.analysis.signals.clean_track`) and read as the gait
    reads it; the ``NOISE_QUANTILE`` of ``NOISE_DRAWS`` draws. ``bounce`` itself with no stride or
    no jitter; inf when the jitter is unknown.
    """
    if not len(strides) or jitter == 0:
        return bounce
    if not np.isfinite(jitter):
        return float("inf")
    hips = np.zeros((rows, 1))
    for start, stop in strides:
        hips[start:stop, 0] = 0.5 * bounce * np.sin(4.0 * np.pi * np.arange(stop - start) / (stop - start))
    hips = hips + np.random.default_rng(0).normal(0.0, jitter, size=(rows, NOISE_DRAWS))
    hips = lowpass(hips, fps, settings.lowpass_cutoff_hz, settings.lowpass_order, settings.lowpass_max_nyquist_fraction)
    # each draw's range about its own straight line, all draws at once
    ranges = [_detrended_range(hips[start:stop]) for start, stop in strides if stop - start > 2]
    return float(np.quantile(np.median(ranges, axis=0), NOISE_QUANTILE)) if ranges else bounce


def flight_under_noise(
    flight: float, swing: np.ndarray, frames: np.ndarray, scale: np.ndarray, period: float, jitter: float,
    fps: float, settings: AnalysisSettings,
) -> float:
    """What a gait airborne ``flight`` of the time reads on this track, keypoint noise included,
    as ``Gait.flight_fraction`` is read.

    Flight is read as both ankles above a level a little over the ground line, and the ground
    line is each step's lowest ankle, which takes the noise's extreme: with 1.5 px of noise on a
    31 px leg, a walker's planted feet read lifted a tenth to a fifth of the time, running's
    least (0.1). So two feet step once a stride ``period`` (frames), half a stride apart, each on
    the ground (1 - ``flight``) / 2 of it and swung up to its measured ``swing`` height (2,)
    between; white noise of ``jitter`` (leg lengths, each ankle on its own, as
    :func:`pipeline.analysis.analyse.keypoint_jitter` measures a keypoint's) is added and
    low-passed as the keypoints were, and the heights are read as :func:`foot_heights` reads them,
    in the track's ``frames`` ((T,) bool, ``Gait.flight_frames``), with its (T,) leg ``scale``
    in pixels for the least lift in pixels; the ``NOISE_QUANTILE`` of ``NOISE_DRAWS`` draws. ``flight``
    itself with no jitter or no period; inf (nothing reads that airborne) when the jitter is
    unknown.
    """
    if jitter == 0 or not np.isfinite(period) or period <= 0 or not frames.any() or not np.isfinite(swing).all():
        return flight
    if not np.isfinite(jitter):
        return float("inf")
    rows = len(frames)
    ground = (1.0 - flight) / 2.0
    heights = np.zeros((rows, 2))
    for foot in (LEFT, RIGHT):
        phase = (np.arange(rows) / period + 0.5 * foot) % 1.0
        up = np.clip((phase - ground) / (1.0 - ground), 0.0, 1.0)
        heights[:, foot] = np.where(phase < ground, 0.0, swing[foot] * np.sin(np.pi * up))
    # image y in leg lengths (down is positive), one column per ankle and draw
    ankle_y = -heights[:, :, None] + np.random.default_rng(0).normal(0.0, jitter, size=(rows, 2, NOISE_DRAWS))
    ankle_y = lowpass(ankle_y.reshape(rows, -1), fps, settings.lowpass_cutoff_hz, settings.lowpass_order,
                      settings.lowpass_max_nyquist_fraction).reshape(ankle_y.shape)
    stride = int(round(period))
    readings = []
    for draw in range(NOISE_DRAWS):  # each read as foot_heights reads the track
        y = ankle_y[:, :, draw]
        read = ground_line(y, stride // 2)[:, None] - y
        read = read - [stance_offset(read[:, f], stride) for f in (LEFT, RIGHT)]
        readings.append(_flight_fraction(np.where(frames[:, None], read, np.nan), swing, scale, settings))
    return float(np.quantile(readings, NOISE_QUANTILE))


def _median(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if len(finite) else float("nan")


def _flight_fraction(
    heights: np.ndarray, swing: np.ndarray, scale: np.ndarray, settings: AnalysisSettings
) -> float:
    """Fraction of frames with both ankles above the flight level (flight_height_fraction of
    the swing, at least min_foot_lift_leg_lengths and ``bounce_min_px`` pixels: ``scale`` is
    the (T,) leg length in pixels, and a small person's ankles jitter by a pixel or two, which
    a 2-pixel lift cannot be told from); 0 when the feet never lift. Whether the value is one a
    runner can have is judged in :mod:`pipeline.analysis.running`."""
    both = np.isfinite(heights).all(axis=1) & (scale > 0)
    if not both.any() or not np.isfinite(swing).all():
        return float("nan")
    if np.min(swing) < settings.min_foot_lift_leg_lengths:
        return 0.0
    level = np.maximum(settings.flight_height_fraction * swing, settings.min_foot_lift_leg_lengths)
    level = np.maximum(level[None, :], settings.bounce_min_px / scale[both, None])
    airborne = (heights[both] > level).all(axis=1)
    return float(airborne.mean())


def _foot_contacts(
    heights: np.ndarray, period: float, settings: AnalysisSettings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted sub-frame contact rows, their feet, and the (2,) swing heights in leg lengths.

    Contacts of one foot are at least 0.6 stride periods apart."""
    swing = np.array(
        [
            np.nanpercentile(heights[:, f], 95) if np.isfinite(heights[:, f]).any() else np.nan
            for f in (LEFT, RIGHT)
        ]
    )
    min_interval = 0.6 * period if np.isfinite(period) else 0.0
    found = [
        detect_contacts(heights[:, f], swing[f], min_interval, settings)
        if swing[f] >= settings.min_foot_lift_leg_lengths
        else np.zeros(0)
        for f in (LEFT, RIGHT)
    ]
    rows = np.concatenate(found)
    feet = np.concatenate([np.full(len(found[f]), f, np.int8) for f in (LEFT, RIGHT)])
    order = np.argsort(rows, kind="stable")
    return rows[order], feet[order], swing


def foot_reach(keypoints: np.ndarray, facing: float, scale: np.ndarray) -> np.ndarray:
    """(T, 2) left and right ankle ahead of the mid-hip in the facing direction, in leg lengths
    (``scale``: (T,) leg length in pixels per frame)."""
    hip_x = nanmean_points(keypoints, HIPS)[:, 0]
    return facing * (keypoints[:, list(ANKLES), 0] - hip_x[:, None]) / scale[:, None]


def side_contacts(
    reach: np.ndarray, rows: np.ndarray, feet: np.ndarray, height_period: float, settings: AnalysisSettings,
    max_stride_frames: float = float("inf"), min_stride_frames: float = SHORTEST_PERIOD_FRAMES,
) -> tuple[np.ndarray, np.ndarray, float, bool]:
    """Contacts of a runner seen from the side: (rows, feet, stride period, whether they are
    reach peaks) of the detector whose steps keep the rhythm best.

    Candidates: the leading foot's reach peaks and each foot's own (:func:`reach_contacts`,
    :func:`reach_contacts_per_foot`) at the stride each foot's reach repeats at, and the feet
    coming back to the ground (``rows``, ``feet`` at ``height_period``). Running in place
    barely reaches (heights win), a far leg hidden behind the near one has no leading-foot peak
    (per foot wins), and a misread frame that adds a step breaks two intervals instead of
    adding one. At equal rhythm: the most steps, then the first.

    The stride each foot's reach repeats at can be misread: a small runner's pose model swaps
    the legs' labels, so each foot's own reach loses its rhythm, and the ankles drift against
    the hips, so the spectrum's peak sits at a drift or a stride and a half; kept that far
    apart, the reach peaks skip steps (a 73 px leg on a beach: 19 of 32 landings, cadence 31 %
    off). The leading foot's reach peaks once per step whatever the labels say (or once per
    stride where the far leg stays hidden), so its detector also runs at twice and at once
    its own period (each foot's own reach is not: its labels are what swapped), and wins only
    where its steps keep the rhythm on more intervals than every candidate above, less the
    leading foot's peaks it skipped (:func:`skipped_peaks`: a 40 px sprinter whose far leg
    peaks faintly kept 8 intervals at twice his stride, skipping 3 of his landings), on two at
    least (one interval fits any period read from the peaks themselves), and land ahead of the
    hips (:func:`behind_the_hips`). ``max_stride_frames`` and ``min_stride_frames`` are the
    longest stride the person's travel allows and the shortest anyone takes
    (:func:`shortest_stride_frames`), as in :func:`spectral_period`; a leading-foot reading
    shorter than the shortest stride is no candidate.
    """
    period = spectral_period([reach[:, LEFT], reach[:, RIGHT], reach[:, LEFT] - reach[:, RIGHT]],
                             min_period=min_stride_frames, max_period=max_stride_frames)
    candidates = [(*reach_contacts(reach, period, settings), period, True),
                  (*distinct_steps(*reach_contacts_per_foot(reach, period, settings), period), period, True),
                  (rows, feet, height_period, False)]
    scores = [(rhythmic_steps(c_rows, c_period), len(c_rows)) for c_rows, _, c_period, _ in candidates]
    rhythm = max(scores)[0]
    lead = np.fmax(reach[:, LEFT], reach[:, RIGHT])
    lead_step = spectral_period([lead], min_period=max(SHORTEST_PERIOD_FRAMES, min_stride_frames / 2),
                                max_period=max_stride_frames)
    for reading in (2.0 * lead_step, lead_step):
        if not np.isfinite(reading) or reading == period or reading < min_stride_frames:
            continue
        c_rows, c_feet = reach_contacts(reach, reading, settings)
        kept = rhythmic_steps(c_rows, reading) - skipped_peaks(lead, c_rows, reading, settings)
        score = (kept, len(c_rows))
        if kept >= 2 and kept > rhythm and not behind_the_hips(reach, c_rows, c_feet):
            candidates.append((c_rows, c_feet, reading, True))
            scores.append(score)
    best = scores.index(max(scores))
    return candidates[best]


def skipped_peaks(lead: np.ndarray, rows: np.ndarray, period: float, settings: AnalysisSettings) -> int:
    """How many of the leading foot's reach peaks (as prominent as a contact's, at least 0.15
    stride apart) fall between two consecutive contacts ``rows`` and further than 0.3 of a step
    from both: landings a reading of the stride this long has skipped (a reading at twice the
    stride keeps a rhythm on every other landing, with one of these between each two)."""
    if len(rows) < 2 or not np.isfinite(period):
        return 0
    peaks = np.asarray(_peak_rows(lead, max(1.0, 0.15 * period), settings.side_contact_min_reach_leg_lengths))
    margin = 0.3 * period / 2
    inside = (peaks > rows[0] + margin) & (peaks < rows[-1] - margin)
    nearest = np.min(np.abs(peaks[inside, None] - rows[None, :]), axis=1) if inside.any() else np.zeros(0)
    return int(np.sum(nearest > margin))


def behind_the_hips(reach: np.ndarray, rows: np.ndarray, feet: np.ndarray) -> bool:
    """Whether a quarter or more of the contacts at ``rows`` have their foot behind the hips.

    A running foot lands ahead of the body's centre of mass (foot-to-centre-of-mass distance
    at initial contact, Souza 2016; only a sprinter's first steps out of the blocks land
    under or behind it), so a reading of the steps that puts many of them behind the hips has
    taken a trailing foot's wobble for a landing: a period read at half the stride adds one
    such step between every two landings.
    """
    if not len(rows):
        return False
    index = np.clip(np.round(rows).astype(np.int64), 0, len(reach) - 1)
    at = reach[index, np.asarray(feet, np.int64)]
    return bool(4 * np.sum(at < 0) >= len(rows))


def reach_contacts_per_foot(
    reach: np.ndarray, period: float, settings: AnalysisSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted sub-frame contact rows and their feet from the peaks of each foot's own reach,
    at least 0.6 stride periods apart. Finds the far leg's steps where the leading-foot
    signal misses them (the far leg hidden behind the near one)."""
    distance = max(1.0, 0.6 * period) if np.isfinite(period) else 1.0
    rows, feet = [], []
    for foot in (LEFT, RIGHT):
        found = _peak_rows(reach[:, foot], distance, settings.side_contact_min_reach_leg_lengths)
        rows += found
        feet += [foot] * len(found)
    order = np.argsort(rows, kind="stable")
    return np.asarray(rows, np.float64)[order], np.asarray(feet, np.int8)[order]


def _peak_rows(signal: np.ndarray, distance: float, prominence: float) -> list[float]:
    """Sub-frame rows of the peaks of ``signal`` within runs of finite samples (parabolic
    refinement; none at a run's edge)."""
    rows: list[float] = []
    for start, stop in _finite_runs(signal):
        part = signal[start:stop]
        peaks, _ = find_peaks(part, distance=distance, prominence=prominence)
        for p in peaks[(peaks > 0) & (peaks < len(part) - 1)]:
            left, mid, right = part[p - 1], part[p], part[p + 1]
            curve = left - 2 * mid + right
            rows.append(start + p + (0.5 * (left - right) / curve if curve < 0 else 0.0))
    return rows


def reach_contacts(
    reach: np.ndarray, period: float, settings: AnalysisSettings
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted sub-frame contact rows and their feet from the peaks of the leading foot's reach.

    The leading foot's reach (the larger of the two, per frame) peaks once per step whatever
    the left/right labels say, so a pose model swapping legs cannot hide or double a step;
    the foot of each contact is the one ahead at the peak. A peak must stand
    ``side_contact_min_reach_leg_lengths`` above the troughs around it, and peaks are at
    least 0.3 stride periods apart. Missing samples split the signal; no peak is taken at
    a gap's edge.
    """
    lead = np.fmax(reach[:, LEFT], reach[:, RIGHT])
    distance = max(1.0, 0.3 * period) if np.isfinite(period) else 1.0
    rows = _peak_rows(lead, distance, settings.side_contact_min_reach_leg_lengths)
    index = np.clip(np.round(rows).astype(np.int64), 0, len(reach) - 1)
    feet = np.where(np.nan_to_num(reach[index, LEFT], nan=-np.inf) >= np.nan_to_num(reach[index, RIGHT], nan=-np.inf),
                    LEFT, RIGHT).astype(np.int8)
    return np.asarray(rows, np.float64), feet


#: A step interval keeps the rhythm when within this fraction of half the stride period: running
#: steps vary by a few per cent from one to the next, left-right asymmetry stays under ~10 %
#: even when injured, so an interval 30 % off is a missed or an extra step.
RHYTHM_TOLERANCE = 0.3


def rhythmic_steps(rows: np.ndarray, period: float) -> int:
    """How many intervals between consecutive contacts ``rows`` last half a stride ``period``
    (within ``RHYTHM_TOLERANCE``): the steps a detector found that keep the gait's rhythm."""
    if not np.isfinite(period) or len(rows) < 2:
        return 0
    step = period / 2
    return int(np.sum(np.abs(np.diff(rows) / step - 1.0) <= RHYTHM_TOLERANCE))


def distinct_steps(rows: np.ndarray, feet: np.ndarray, period: float) -> tuple[np.ndarray, np.ndarray]:
    """Drop contacts less than 0.35 stride after the previous one (either foot). A step is half a
    stride and running steps differ left to right by well under 30 %, so two landings closer
    than 70 % of a step are one step seen twice, not two steps."""
    if not np.isfinite(period) or len(rows) < 2:
        return rows, feet
    keep = np.ones(len(rows), bool)
    last = rows[0]
    for i in range(1, len(rows)):
        if rows[i] - last < 0.35 * period:
            keep[i] = False
        else:
            last = rows[i]
    return rows[keep], feet[keep]


def _finite_runs(signal: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of finite samples."""
    finite = np.concatenate([[False], np.isfinite(signal), [False]])
    edges = np.flatnonzero(np.diff(finite.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def side_view_limbs(
    keypoints: np.ndarray, strides: np.ndarray, side_mask: np.ndarray
) -> tuple[float, float, float]:
    """Limb motion in side-view frames, degrees, each the median over strides (the whole track
    when there is no complete stride) of: the smallest interior knee angle, the largest
    fore-aft range of an upper arm's angle, and the median elbow angle."""
    if len(strides) < 2:  # a stride or less (slow motion, a short clip): the track is one span,
        # which holds that stride and more chances to see the swing knee at its deepest
        strides = np.array([[0, len(keypoints)]], np.int64)
    kp = np.where(side_mask[:, None, None], keypoints, np.nan)
    knee = np.fmin(
        *(
            interior_angle(kp[:, h], kp[:, k], kp[:, a])
            for h, k, a in zip(HIPS, KNEES, ANKLES, strict=True)
        )
    )
    upper = [kp[:, e] - kp[:, s] for s, e in zip(SHOULDERS, ELBOWS, strict=True)]
    arm = [np.degrees(np.arctan2(v[:, 0], v[:, 1])) for v in upper]
    ranges = np.fmax(*(per_stride(a, strides, np.ptp) for a in arm))
    return (
        _median(per_stride(knee, strides, np.min)),
        _median(ranges),
        _median(per_stride(elbow_angle(kp), strides, np.median)),
    )


#: A trough of the hips' bounce is a step when it is deeper than the crests around it by more
#: than the mid-hip height's own noise makes likely: 3 standard deviations of the difference of
#: two independent readings (3 * sqrt(2)), with the noise measured on the raw track (the bounce is
#: read on the low-passed one, whose noise is less).
BOUNCE_NOISE_SIGMAS = 3.0 * float(np.sqrt(2.0))


def bounce_steps(
    hip_y: np.ndarray, period: float, fps: float, leg_px: float, settings: AnalysisSettings,
    noise_px: float = float("nan"),
) -> np.ndarray:
    """Sorted sub-frame rows of the troughs of the hips' bounce: one per step.

    Args:
        hip_y: (T,) image y of the mid-hip (down is positive) in leg lengths, NaN where missing.
        period: spectral stride period in frames; troughs are at least 0.35 of it apart (a step
            is half a stride), or as close as the fastest running cadence allows when that is
            closer (a short track's spectrum can read a sprinter's stride as twice as long).
        leg_px: the runner's typical leg length in pixels.
        noise_px: the mid-hip height's measured noise in pixels (NaN: unmeasured).
    A trough must be ``bounce_min_leg_lengths`` (and ``bounce_min_px``: keypoints jitter by a
    pixel or two whatever the runner's size; where the noise is measured lower, its
    ``BOUNCE_NOISE_SIGMAS`` multiple) deeper than the crests around it, once the drift of a
    runner approaching or leaving the camera (a moving mean over one stride) is taken off.
    """
    floor_px = settings.bounce_min_px
    if np.isfinite(noise_px):
        floor_px = min(floor_px, BOUNCE_NOISE_SIGMAS * noise_px)
    depth = max(settings.bounce_min_leg_lengths, floor_px / leg_px) if leg_px > 0 else np.inf
    fastest = 60.0 * fps / settings.running_max_cadence_spm  # frames per step of a sprinter
    distance = max(1.0, min(0.35 * period, fastest) if np.isfinite(period) else fastest)
    bounce = hip_y - moving_mean(hip_y, int(round(period))) if np.isfinite(period) else hip_y
    return np.asarray(_peak_rows(bounce, distance, depth), np.float64)


def moving_mean(values: np.ndarray, window: int) -> np.ndarray:
    """(T,) centred mean over ``window`` frames within each run of finite samples (shrinking
    at the run's ends); averaging a whole cycle of a periodic signal leaves only its trend."""
    out = np.full(len(values), np.nan)
    half = max(window, 1) // 2
    for start, stop in _finite_runs(values):
        run = values[start:stop]
        sums = np.concatenate([[0.0], np.cumsum(run)])
        lo = np.clip(np.arange(len(run)) - half, 0, len(run))
        hi = np.clip(np.arange(len(run)) + half + 1, 0, len(run))
        out[start:stop] = (sums[hi] - sums[lo]) / (hi - lo)
    return out


def alternate_feet(left_votes: np.ndarray, rows: np.ndarray, period: float) -> np.ndarray:
    """(N,) foot of each of N sorted step rows, made to alternate: running lands on each foot in
    turn, so each run of consecutive steps (no gap over 0.75 stride periods) takes the
    alternating left/right sequence that agrees with most of its (N,) bool ``left_votes``.
    A pose model's left/right swaps then cannot make a same-foot repeat."""
    feet = np.zeros(len(rows), np.int8)
    gap = 0.75 * period if np.isfinite(period) else np.inf
    breaks = np.flatnonzero(np.diff(rows) > gap) + 1
    for run in np.split(np.arange(len(rows)), breaks):
        if not len(run):
            continue
        parity = np.arange(len(run)) % 2
        votes = left_votes[run]
        start_left = np.sum(votes == (parity == 0)) >= np.sum(votes == (parity == 1))
        feet[run] = np.where((parity == 0) == start_left, LEFT, RIGHT)
    return feet


def stance_feet(heights: np.ndarray, rows: np.ndarray, period: float) -> np.ndarray:
    """(N,) foot on the ground at each of N step rows: the lower ankle, made to alternate."""
    index = np.clip(np.round(rows).astype(np.int64), 0, max(len(heights) - 1, 0))
    left_lower = np.nan_to_num(heights[index, LEFT] - heights[index, RIGHT], nan=0.0) < 0
    return alternate_feet(left_lower, rows, period)


def analyse_gait(
    keypoints: np.ndarray,
    fps: float,
    side_mask: np.ndarray,
    settings: AnalysisSettings,
    facing: float = 0.0,
    level_frames: np.ndarray | None = None,
    hip_noise_px: float = float("nan"),
    max_stride_frames: float = float("inf"),
) -> Gait:
    """Contacts, cadence and rhythm of one cleaned track.

    Args:
        keypoints: (T, K, 2) cleaned pixels, NaN where missing.
        fps: real frames per second (the capture rate).
        side_mask: (T,) bool, side or oblique frames (knee and arm motion, and flight, are
            read only there).
        facing: +1 / -1 when the runner faces image right / left in side views, 0 unknown.
            With a known facing and mostly sideways frames, contacts are the peaks of each
            foot's reach ahead of the hips (dated ``REACH_TO_LANDING`` later); otherwise the
            foot comes back to the ground.
        level_frames: (T,) bool, the side and oblique frames in which the camera's pitch cannot
            lift a step's depth into height (:func:`pipeline.analysis.view.travel_lift`): flight,
            and the knee's and elbow's bend, are read there only, since from above a foot ahead
            of the other also looks lifted and a joint bent toward the camera looks more bent.
            Default ``side_mask``.
        hip_noise_px: the mid-hip height's noise in pixels, measured on the raw track
            (:func:`pipeline.analysis.analyse.hip_height_jitter`): the hips' troughs deeper
            than its ``BOUNCE_NOISE_SIGMAS`` multiple, though under ``bounce_min_px``, count as
            steps where they keep the stride's rhythm (a small runner's bounce is 2-3 px deep).
        max_stride_frames: the longest stride the person's travel allows
            (:func:`pipeline.analysis.travel.longest_stride_frames`); the stride's period is read
            no longer.
    """
    leg = leg_length(keypoints)
    scale = leg_scale(keypoints, int(round(fps)))
    ankles = keypoints[:, list(ANKLES), :]
    hip_px = nanmean_points(keypoints, HIPS)[:, 1]
    hip_y = hip_px / scale
    shortest = shortest_stride_frames(fps)
    period = spectral_period([ankles[:, 0, 1] - ankles[:, 1, 1], ankles[:, 0, 0] - ankles[:, 1, 0]], [hip_y],
                             min_period=shortest, max_period=max_stride_frames)
    heights = foot_heights(keypoints, period, scale)
    rows, feet, swing = _foot_contacts(heights, period, settings)
    rows, feet = distinct_steps(rows, feet, period)
    event = INITIAL_CONTACT
    sideways = facing != 0 and len(side_mask) and np.mean(side_mask) >= 0.5
    if not sideways:
        typical = np.nanmedian(scale) if np.isfinite(scale).any() else np.nan
        bounce = bounce_steps(hip_y, period, fps, float(typical), settings)
        # a small person's bounce is shallower than the floor's pixels: the track's own noise
        # sets a lower one, taken where the steps it finds keep the stride's rhythm, most of
        # them and more than the floor's (troughs of noise fall at any interval)
        finer = bounce_steps(hip_y, period, fps, float(typical), settings, hip_noise_px)
        kept = rhythmic_steps(finer, period)
        if kept > max(1, rhythmic_steps(bounce, period)) and 2 * kept > len(finer) - 1:
            bounce = finer
        if len(bounce) > len(rows):  # the hips found steps the feet hid
            rows, feet, event = bounce, stance_feet(heights, bounce, period), MID_STANCE
    else:
        rows, feet, period, reached = side_contacts(foot_reach(keypoints, facing, scale), rows, feet, period, settings,
                                                    max_stride_frames, shortest)
        if reached and np.isfinite(period):  # a reach peak: the foot lands a little later
            rows = np.minimum(rows + REACH_TO_LANDING * period, len(keypoints) - 1)
    feet = alternate_feet(feet == LEFT, rows, period)
    index = np.clip(np.round(rows), 0, len(keypoints) - 1).astype(np.int64)
    times = rows / fps
    strides = _stride_rows(index, period, len(keypoints))
    cycle = cycle_frames(index, period)
    cycles = whole_cycles(strides, cycle, _running_rows(index, cycle, keypoints))
    level = side_mask if level_frames is None else level_frames
    knee, arm_swing, elbow = side_view_limbs(keypoints, strides, level)
    lifts = bool(np.nanmax(swing, initial=0.0) >= settings.min_foot_lift_leg_lengths)
    return Gait(
        contact_index=index,
        contact_time_s=times,
        contact_foot=feet,
        strides=strides,
        cycles=cycles,
        step_spans=step_windows(cycles, len(keypoints)),
        stride_period_frames=period,
        leg_length_px=leg,
        leg_scale_px=scale,
        cadence_spm=_cadence_from_steps(times),
        cadence_spectral_spm=float(120.0 * fps / period)
        if lifts and np.isfinite(period)
        else float("nan"),
        step_asymmetry=step_asymmetry(times, feet),
        vertical_oscillation=stride_bounce(hip_px, scale, strides),
        # flight only where the view shows the feet leave the ground: from the front or back a
        # foot travelling toward or away from a camera above the ground moves up or down the
        # picture, and a planted foot sits above the ground line of a runner coming closer
        flight_fraction=_flight_fraction(np.where(level[:, None], heights, np.nan), swing, scale, settings),
        swing_heights=swing,
        flight_frames=level & np.isfinite(heights).all(axis=1),
        foot_lift=_median(swing),
        knee_min_angle_deg=knee,
        arm_swing_deg=arm_swing,
        elbow_angle_deg=elbow,
        alternation_errors=int(np.sum(feet[1:] == feet[:-1])),
        contact_event=event,
    )
