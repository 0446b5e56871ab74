"""Is a track running? Decided from the gait itself, and from travel against the ground, never
from travel across the frame (a pan moves everyone in the picture).

Running has flight (both feet off the ground), a deeply flexed swing knee, elbows carried
bent and a large vertical bounce; walking has none of these. Flight counts only up to
the fraction a runner can be airborne at its cadence (from above, a foot further away also
looks lifted, and walkers read 0.5-0.9), and the side-view knee flexion, when seen, must agree.

Slow motion is read from gravity (:mod:`pipeline.analysis.gravity`), not from the cadence: a
running gait whose flight parabolas fall slower than g was filmed slowed down, by the
factor the parabolas give. The cadence is judged in real time (video cadence times that
factor). People whose keypoints jitter too much for their size to tell a step from noise are
'unknown', whatever their size in pixels.

Travel against the ground (:mod:`pipeline.analysis.travel`: the hips' movement across the
picture less the camera's) is faster than any walk for a runner seen from the side; a person
the camera carried across the picture while they stood still on the ground is not running
whatever rhythm their keypoints' noise beats out. Slower is no evidence of walking: travel
toward the camera is not seen, a treadmill runner stays put, and a camera moving alongside a
runner reads their speed against a far background.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.analysis.gait import MAX_HUMAN_CADENCE_SPM, RHYTHM_TOLERANCE, Gait
from pipeline.analysis.gravity import GravityClock
from pipeline.analysis.settings import AnalysisSettings
from pipeline.analysis.travel import MAX_STEP_LEG_LENGTHS, UNMEASURED, Travel

MIN_STEPS = 3
#: The most of the time a runner can be airborne: a sprinter (contact ~0.09 s of a ~0.22 s step)
#: about 0.6; at distance-running cadences (under SPRINT_CADENCE_SPM) about 0.5, since even elite
#: distance runners stay on the ground ~0.17 s of a ~0.33 s step. More is a misread, not flight:
#: from above, a foot further away also looks lifted.
MAX_FLIGHT_FRACTION = 0.6
MAX_DISTANCE_FLIGHT_FRACTION = 0.5
SPRINT_CADENCE_SPM = 220.0
#: Nobody walks this fast either: elite race walkers, the fastest walkers there are, step 3.2-3.5
#: times a second (190-210 steps/min; Hanley et al. 2011, J Sports Sci 29:1209), other walking
#: tops out near 130-160. A rhythm whose slowest reading (one step fewer) is still a sprinter's
#: is running, whatever a cue read on a small runner says: a sprinter's hips bounce least.
FASTER_THAN_ANY_WALK_SPM = SPRINT_CADENCE_SPM
#: The most the hips rise and fall in a running stride, leg lengths: the body's centre of mass
#: moves 5-12 cm up and down in distance running (Cavanagh 1990, Biomechanics of Distance
#: Running; Heiderscheit et al. 2011, Med Sci Sports Exerc 43:296: 8-9 cm), 0.06-0.14 of a 0.86 m
#: leg, and less in a sprint; 0.3 (26 cm), twice the most reported, leaves room for the hip
#: keypoint's own jitter. More is a misread (a camera bobbing, hips hidden in a crowd), not a bounce.
MAX_OSCILLATION_LEG_LENGTHS = 0.3
#: Faster against the ground than anyone walks, leg lengths (hip to ankle) a second. Walking is
#: an inverted pendulum over the stance leg, which leaves the ground once v^2 / (g L) (the
#: Froude number) passes 1; people change to running near 0.5 (Alexander 1989, Physiol Rev
#: 69:1199), and race walkers, with a technique that lowers the hips, reach about 2 (4.3 m/s on
#: a 0.9 m leg; Hanley et al. 2011). In leg lengths a second that is sqrt(Fr g / L): Froude 2 on
#: a 0.8 m adult leg is 4.95, Froude 1 on a 0.4 m child's leg 4.95. Read across the picture, the
#: speed only loses (travel toward the camera is not seen), so it tells running, never walking.
FASTER_THAN_ANY_WALK_LEG_LENGTHS_S = 5.0
#: Under this against the ground a person is not travelling, leg lengths a second: the slowest
#: walking, about 0.8 m/s (a stroll) on a 0.9 m leg (Bohannon 1997, Age Ageing 26:15: 1.3-1.5 m/s
#: comfortable). Where the camera moved that person across the picture at least
#: CARRIED_PICTURE_SPEED_LEG_LENGTHS_S (a pan), so the camera's motion was measured at work, the
#: person stands on the ground: an official by a panned track reads a step rhythm from noise.
STANDING_LEG_LENGTHS_S = 1.0
CARRIED_PICTURE_SPEED_LEG_LENGTHS_S = 2.0


def possible_cadence(cadence_spm: float) -> float:
    """``cadence_spm`` (real time), or NaN when it is faster than any human steps."""
    return cadence_spm if cadence_spm <= MAX_HUMAN_CADENCE_SPM else float("nan")


def possible_oscillation(leg_lengths: float) -> float:
    """A vertical oscillation (leg lengths), or NaN when it is more than any runner bounces."""
    return leg_lengths if leg_lengths <= MAX_OSCILLATION_LEG_LENGTHS else float("nan")


def possible_flight(gait: Gait) -> float:
    """The gait's flight fraction, or NaN when no runner is airborne that long at its cadence
    (:func:`plausible_flight`)."""
    return gait.flight_fraction if plausible_flight(gait) else float("nan")


def plausible_flight(gait: Gait) -> bool:
    """Whether the gait's flight fraction is one a runner can have at its cadence."""
    cap = MAX_FLIGHT_FRACTION if gait.cadence_spm >= SPRINT_CADENCE_SPM else MAX_DISTANCE_FLIGHT_FRACTION
    return bool(np.isfinite(gait.flight_fraction) and gait.flight_fraction <= cap)
#: The least footage, in seconds of video, a verdict of running or standing rests on. Under a
#: second a runner at the slowest running cadence shows about one stride, and one stride's cues
#: (a bounce, a flight, three contacts) are as easily keypoint noise: a walker's 0.6 s fragment
#: in a recompressed crowd read three contacts at 303 steps/min and a bounce. Video time, not
#: real time, so heavily slowed footage (a second of running over many seconds) is still judged.
MIN_SEEN_S = 1.0


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
        slow_motion_suspected: a running gait that gravity (or, where the flight parabolas
            cannot be read, an implausibly low cadence) shows is slowed down.
        slow_motion_factor: how many times slower than real time, from gravity; NaN unknown.
    """

    label: str
    is_runner: bool
    running_cues: int
    cues_measured: int
    slow_motion_suspected: bool
    slow_motion_factor: float = float("nan")


def running_cues(
    gait: Gait, settings: AnalysisSettings, clock: GravityClock | None = None, side_on: bool = True,
    least_bounce: float = 0.0, least_flight: float = 0.0,
) -> list[bool]:
    """The running cues that could be measured on this gait, each True when met. ``side_on``:
    most of the limb frames are pure side views (not oblique). ``least_bounce``: what running's
    least vertical oscillation (``running_min_oscillation_leg_lengths``) reads on this track,
    its keypoint noise included (:func:`pipeline.analysis.gait.bounce_under_noise`): the bounce
    cue is met at that reading or more, so a small person's jitter is not taken for a runner's
    bounce. ``least_flight``: likewise what running's least flight (``min_flight_fraction``)
    reads on this track (:func:`pipeline.analysis.gait.flight_under_noise`): the flight cue is
    met at that reading or more, since the noise lifts planted feet off the ground line.

    Besides flight, knee flexion, elbow bend and bounce, the trunk's fall at its crest: at
    about g (a factor under ``slow_motion_min_factor``) it is a ballistic flight, which only
    running has; walking's crest falls at 0.2-0.5 g (an inverted pendulum, v^2/L), which reads
    as a factor of 1.4-2.2 and cannot be told from slowed running, so a larger factor leaves
    this cue unmeasured.
    """
    cues = []
    if clock is not None and clock.factor < settings.slow_motion_min_factor:
        cues.append(True)
    if plausible_flight(gait):
        cues.append(gait.flight_fraction >= max(least_flight, settings.min_flight_fraction))
    # seen away from the side, a joint bent in the sagittal plane projects straighter, never more
    # bent: obliquely, a bent knee or elbow is evidence, a straight-looking one is not
    # (a knee between running's and walking's limits says neither)
    for angle, limit, straight in (
        (gait.knee_min_angle_deg, settings.running_max_knee_angle_deg, settings.walking_min_knee_angle_deg),
        (gait.elbow_angle_deg, settings.running_max_elbow_angle_deg, settings.running_max_elbow_angle_deg),
    ):
        if np.isfinite(angle) and (angle <= limit or (side_on and angle > straight)):
            cues.append(bool(angle <= limit))
    # a bounce past any runner's is a misread (a hip hidden in a crowd), no cue either way
    bounce = possible_oscillation(gait.vertical_oscillation)
    if np.isfinite(bounce):
        cues.append(bounce >= max(least_bounce, settings.running_min_oscillation_leg_lengths))
    return cues


def travels_faster_than_walking(moved: Travel, cadence_spm: float) -> bool:
    """Whether the person's speed against the ground is faster than anyone walks
    (``FASTER_THAN_ANY_WALK_LEG_LENGTHS_S``) at steps a runner can take at ``cadence_spm`` (real
    time): no longer than ``MAX_STEP_LEG_LENGTHS``."""
    return bool(moved.ground >= FASTER_THAN_ANY_WALK_LEG_LENGTHS_S and cadence_spm > 0
                and moved.ground * 60.0 / cadence_spm <= MAX_STEP_LEG_LENGTHS)


def carried_by_camera(moved: Travel) -> bool:
    """Whether the person stands on the ground while the camera moved them across the picture:
    slower against the ground than any walker (``STANDING_LEG_LENGTHS_S``) where the picture
    shows them moving at least ``CARRIED_PICTURE_SPEED_LEG_LENGTHS_S`` (a pan or zoom the
    motion estimate followed). Unmeasured: False."""
    return bool(moved.ground < STANDING_LEG_LENGTHS_S and moved.picture >= CARRIED_PICTURE_SPEED_LEG_LENGTHS_S)


def classify_activity(
    gait: Gait, seconds: float, settings: AnalysisSettings, clock: GravityClock | None = None,
    jitter: float = 0.0, side_on: bool = True, least_bounce: float = 0.0, least_flight: float = 0.0,
    moved: Travel = UNMEASURED, lateral: bool = False,
) -> Activity:
    """Running, walking, standing or unknown, and whether the clip looks like slow motion.

    ``jitter`` is the track's keypoint noise in leg lengths: above
    ``max_keypoint_jitter_leg_lengths`` a step cannot be told from noise and the person is
    unknown, and ``least_bounce`` and ``least_flight`` are what running's least bounce and least
    flight read on it (:func:`running_cues`).
    ``clock`` (gravity) gives the slow-down factor; the cadence is judged in real time.
    A track runs when more than half of the measured cues say so, when it has flight at
    a running cadence (running_min_cadence_spm to running_max_cadence_spm, even with one step
    fewer counted), or when even one step fewer leaves a cadence no walker reaches
    (``FASTER_THAN_ANY_WALK_SPM``); in each case
    the side-view knee flexion, when seen, must not say walking (straight arms are a fault,
    not walking). A running gait is slow motion when gravity says it is slowed at least
    ``slow_motion_min_factor`` times; where the flight cannot be read, when every measured
    cue (at least two, the knee among them) says running at a cadence below
    slow_motion_max_cadence_spm. A gait too slow for running in real time without that
    evidence is not running. ``moved``: the person's travel (:mod:`pipeline.analysis.travel`):
    faster against the ground than anyone walks, at steps a runner can take at the cadence
    found, is running, whatever the knee reads (:func:`travels_faster_than_walking`); seen
    mostly side-on (``lateral``: a runner's travel crosses the picture) and carried across the
    picture by the camera while standing on the ground (:func:`carried_by_camera`), it is not
    running, whatever steps, flight or bounce the keypoints' noise reads (an official beside a
    panned track). With fewer than ``MIN_STEPS`` contacts the track is standing if the feet
    never lift during at least ``MIN_SEEN_S`` of ``seconds`` on screen (video time), else
    unknown; seen for under ``MIN_SEEN_S``, a stepping track is unknown.
    """
    cues = running_cues(gait, settings, clock, side_on, least_bounce, least_flight)
    met = int(sum(cues))
    if not jitter <= settings.max_keypoint_jitter_leg_lengths:  # a step cannot be told from noise
        return Activity("unknown", False, met, len(cues), False)
    if gait.steps < MIN_STEPS or not np.isfinite(gait.cadence_spm):
        still = (
            seconds >= MIN_SEEN_S
            and np.isfinite(gait.foot_lift)
            and gait.foot_lift < settings.min_foot_lift_leg_lengths
        )
        return Activity("standing" if still else "unknown", False, met, len(cues), False)
    if seconds < MIN_SEEN_S:  # a stride or so: too little to tell a gait from noise
        return Activity("unknown", False, met, len(cues), False)
    factor = clock.factor if clock is not None else float("nan")
    slowed = bool(factor >= settings.slow_motion_min_factor)
    cadence = gait.cadence_spm * (factor if slowed else 1.0)
    # the count of steps is uncertain by one: 35 steps at 302 spm is a sprinter counted one step long
    intervals = max(gait.steps - 1, 1)
    cadence_low, cadence_high = cadence * (intervals - 1) / intervals, cadence * (intervals + 1) / intervals
    if cadence_low > settings.running_max_cadence_spm:  # faster than sprinters: steps misread
        return Activity("unknown", False, met, len(cues), False)
    running_cadence = (cadence_high >= settings.running_min_cadence_spm
                       and cadence_low <= settings.running_max_cadence_spm)
    # a straight-looking knee vetoes running: side-on the knee is seen at its true angle, and
    # every runner's swing knee bends past running_max_knee_angle_deg (sprinters the most), no
    # walker's past walking_min_knee_angle_deg (the knee vetoes only above that); seen
    # obliquely (a bend on a race track) a sprinter's knee projects nearly straight, so there
    # it vetoes only at a cadence people also walk at
    knee_says_walking = gait.knee_min_angle_deg > settings.walking_min_knee_angle_deg and (
        side_on or not running_cadence)
    has_flight = plausible_flight(gait) and gait.flight_fraction >= max(least_flight, settings.min_flight_fraction)
    # walking tops out near 130-140 steps/min, so a running cadence counts as half the evidence;
    # not when the cadence itself came through gravity's factor: a real-time walker's crest falls
    # at 0.2-0.5 g too, reads as slowed, and its cadence times that factor looks like running
    cadence_evidence = running_cadence and not slowed
    # a running rhythm and every measured cue met is two pieces of evidence, even with one cue
    cues_agree = (len(cues) >= 2 and (2 * met > len(cues) or (cadence_evidence and 2 * met >= len(cues)))) or (
        cadence_evidence and len(cues) >= 1 and met == len(cues))
    # 35 steps at 293/min on a 40 px sprinter seen obliquely: no walk, whatever her 0.058 bounce says
    beyond_walking = not slowed and cadence_low >= FASTER_THAN_ANY_WALK_SPM
    # flight alone beside the cadence: only a cadence that is running's even one step fewer (an
    # official standing by a panned track read 3 "steps" at 265/min and a flight of 0.11 from noise)
    flight_and_rhythm = has_flight and cadence_evidence and cadence_low >= settings.running_min_cadence_spm
    # seen side-on, a runner crosses the picture's ground; one the camera carried across the
    # picture while they stood on it is standing, whatever their noise reads
    standing = lateral and carried_by_camera(moved)
    # faster on the ground than any walk is running, whatever a small person's knee reads (a
    # 33 px side-on sprinter at 8.3 leg lengths a second read 144 deg)
    travels = not slowed and travels_faster_than_walking(moved, cadence)
    evidence = cues_agree or flight_and_rhythm or beyond_walking
    running = not standing and (travels or (not knee_says_walking and evidence))
    if slowed:  # a slowed runner or a real-time walker: only a deeply flexed swing knee tells
        running = running and gait.knee_min_angle_deg <= settings.running_max_knee_angle_deg
    # the knee among the cues met: seen deeply bent (obliquely a straight-looking knee is no cue)
    unanimous = len(cues) >= 2 and met == len(cues) and gait.knee_min_angle_deg <= settings.running_max_knee_angle_deg
    implausibly_slow = cadence < settings.slow_motion_max_cadence_spm
    slow = running and (slowed or (unanimous and implausibly_slow and not np.isfinite(factor)))
    if implausibly_slow and not slow:
        running = False  # too slow to be running in real time, and no evidence of slow motion
    label = "running" if running else ("walking" if cues else "unknown")  # no cue: the view cannot tell
    return Activity(label, running, met, len(cues), slow, factor if slow else float("nan"))


def kept_rhythm(contact_rows: np.ndarray) -> int:
    """How many intervals between consecutive contacts last the median interval, within
    ``RHYTHM_TOLERANCE``: a person stepping keeps a rhythm (step times vary by a few percent
    in walking and running), while contacts read from keypoint noise fall at any interval."""
    intervals = np.diff(np.asarray(contact_rows, float))
    if not len(intervals) or not np.median(intervals) > 0:
        return 0
    return int(np.sum(np.abs(intervals / np.median(intervals) - 1.0) <= RHYTHM_TOLERANCE))


def keeps_rhythm(contact_rows: np.ndarray) -> bool:
    """Whether most intervals between consecutive contacts keep the rhythm (:func:`kept_rhythm`)."""
    return 2 * kept_rhythm(contact_rows) > len(contact_rows) - 1


def moves_in_real_time(activity: Activity, gait: Gait, settings: AnalysisSettings) -> bool:
    """Whether a person's gait shows the footage runs in real time: a walk (about 90 to
    running_min_cadence_spm) or a run at a human cadence, over at least 3 strides whose steps
    keep a rhythm (most intervals, and at least 5, within ``RHYTHM_TOLERANCE`` of the median).
    Contacts at irregular intervals are a misread, and their "cadence" tells nothing of time:
    on a slowed screen recording, a 60 px shape read as 6 contacts 6-36 frames apart (a
    cadence of 207) had cancelled the runner's slow motion."""
    rhythm = kept_rhythm(gait.contact_index)
    return (
        activity.label in ("walking", "running")
        and not activity.slow_motion_suspected
        and gait.steps >= 2 * MIN_STEPS
        and rhythm >= 2 * MIN_STEPS - 1
        and keeps_rhythm(gait.contact_index)
        and 90.0 <= gait.cadence_spm <= settings.running_max_cadence_spm
    )


def not_slow_motion(activity: Activity) -> Activity:
    """The verdict once other people show the clip is real time: too slow to be running."""
    return Activity("walking", False, activity.running_cues, activity.cues_measured, False)
