"""Is a track running? Decided from the gait itself, never from travel across the frame.

Running has flight (both feet off the ground), a deeply flexed swing knee, elbows carried
bent and a large vertical bounce; walking has none of these. Flight and bounce are noisy
in 2-D keypoints, so the side-view knee flexion, when seen, must agree. The cadence then
tells a real-time runner (about 140-230 steps/min) from a slow-motion clip: a gait that
looks like running at an implausibly low cadence was most likely filmed in slow motion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.analysis.gait import Gait
from pipeline.analysis.settings import AnalysisSettings

MIN_STEPS = 3
#: A person is called standing only when seen this long without lifting a foot.
MIN_STILL_S = 1.0


@dataclass(frozen=True)
class Activity:
    """Verdict on one track.

    Attributes:
        label: 'running', 'walking', 'standing' (feet never leave the ground) or 'unknown'
            (the feet move but too few steps were found to judge, or steps were misread into a
            cadence faster than any sprinter).
        is_runner: True when the track gets form verdicts.
        running_cues: how many of the measured running cues (flight, knee flexion, elbow
            bend, vertical oscillation) were met, and ``cues_measured`` how many could be measured.
        slow_motion_suspected: running-like motion at a cadence below
            ``slow_motion_max_cadence_spm``.
    """

    label: str
    is_runner: bool
    running_cues: int
    cues_measured: int
    slow_motion_suspected: bool


def running_cues(gait: Gait, settings: AnalysisSettings) -> list[bool]:
    """The running cues that could be measured on this gait, each True when met."""
    cues = []
    if np.isfinite(gait.flight_fraction):
        cues.append(gait.flight_fraction >= settings.min_flight_fraction)
    if np.isfinite(gait.knee_min_angle_deg):
        cues.append(gait.knee_min_angle_deg <= settings.running_max_knee_angle_deg)
    if np.isfinite(gait.elbow_angle_deg):
        cues.append(gait.elbow_angle_deg <= settings.running_max_elbow_angle_deg)
    if np.isfinite(gait.vertical_oscillation):
        cues.append(gait.vertical_oscillation >= settings.running_min_oscillation_leg_lengths)
    return cues


def classify_activity(gait: Gait, seconds: float, settings: AnalysisSettings) -> Activity:
    """Running, walking, standing or unknown, and whether the clip looks like slow motion.

    A track runs when more than half of the measured cues say so, or when it has flight at
    a running cadence (running_min_cadence_spm to running_max_cadence_spm); in both cases
    the side-view knee flexion, when seen, must not say walking (straight arms are a fault,
    not walking). Slow motion is suspected when every measured cue (at least two, the
    side-view knee flexion among them: flight and bounce alone are too noisy) says running
    at a cadence below slow_motion_max_cadence_spm; without that evidence such a slow gait
    is not running. A person whose legs are shorter than ``min_activity_leg_length_px`` in
    the picture is unknown: a pixel or two of keypoint jitter is then a large share of a
    step. With fewer than ``MIN_STEPS``
    contacts the track is standing if the feet never lift during at least ``MIN_STILL_S``
    of ``seconds`` on screen, else unknown.
    """
    cues = running_cues(gait, settings)
    met = int(sum(cues))
    if not gait.leg_length_px >= settings.min_activity_leg_length_px:  # keypoint jitter reads as steps
        return Activity("unknown", False, met, len(cues), False)
    if gait.steps < MIN_STEPS or not np.isfinite(gait.cadence_spm):
        still = (
            seconds >= MIN_STILL_S
            and np.isfinite(gait.foot_lift)
            and gait.foot_lift < settings.min_foot_lift_leg_lengths
        )
        return Activity("standing" if still else "unknown", False, met, len(cues), False)
    if gait.cadence_spm > settings.running_max_cadence_spm:  # faster than sprinters: steps misread
        return Activity("unknown", False, met, len(cues), False)
    running_cadence = (
        settings.running_min_cadence_spm <= gait.cadence_spm <= settings.running_max_cadence_spm
    )
    # a straight-looking knee vetoes running only at a cadence people also walk at: seen
    # obliquely (a bend on a race track) a sprinter's knee projects nearly straight
    knee_says_walking = gait.knee_min_angle_deg > settings.running_max_knee_angle_deg and not running_cadence
    has_flight = gait.flight_fraction >= settings.min_flight_fraction
    # walking tops out near 130-140 steps/min, so a running cadence counts as half the evidence
    cues_agree = len(cues) >= 2 and (2 * met > len(cues) or (running_cadence and 2 * met >= len(cues)))
    running = not knee_says_walking and (cues_agree or (has_flight and running_cadence))
    unanimous = len(cues) >= 2 and met == len(cues) and np.isfinite(gait.knee_min_angle_deg)
    implausibly_slow = gait.cadence_spm < settings.slow_motion_max_cadence_spm
    slow = running and unanimous and implausibly_slow
    if implausibly_slow and not slow:
        running = False  # too slow to be running in real time, and no evidence of slow motion
    return Activity("running" if running else "walking", running, met, len(cues), slow)


def moves_in_real_time(activity: Activity, gait: Gait, settings: AnalysisSettings) -> bool:
    """Whether a person's gait shows the footage runs in real time: a walk (about 90 to
    running_min_cadence_spm) or a run at a human cadence, over at least 3 strides."""
    return (
        activity.label in ("walking", "running")
        and not activity.slow_motion_suspected
        and gait.steps >= 2 * MIN_STEPS
        and 90.0 <= gait.cadence_spm <= settings.running_max_cadence_spm
    )


def not_slow_motion(activity: Activity) -> Activity:
    """The verdict once other people show the clip is real time: too slow to be running."""
    return Activity("walking", False, activity.running_cues, activity.cues_measured, False)
