"""The one registry of form faults: every consumer (analysis, schemas, captions, ``stats``, the
report) reads a fault's name, label, unit, views, keypoints and ranges from here.

Each :class:`FaultSpec` says what is measured (``signal`` names the function in
:mod:`pipeline.analysis.faults`), on what (per stride, at each ground contact, at each
mid-stance), from which views, with which keypoints, the threshold settings that make it a
fault, and the **plausible range**: values a human body can show while running, seen from a
view that supports the measure. A sample outside it is a misread pose (a swapped limb, a
keypoint on the wrong person), never a fault; a verdict whose samples are mostly outside it is
null with reason ``implausible``. Each range carries its source.

``resolution`` is the largest 90 % confidence half-width at which a verdict is always given:
beyond it the value is null with reason ``low_confidence`` unless the interval settles the
verdict either way all the same (:func:`pipeline.analysis.faults.decided`). It is half the width of the
fault's normal band (or, for one-sided thresholds, of the band between a typical runner's
value and the threshold), so a verdict can always tell a normal value from a faulty one.

``stride_sd`` is how much one runner's per-stride (per-step, per-contact) samples of the fault
typically vary: the median within-runner robust SD over the shared clips' runners seen for at
least 3 samples, measured by ``benchmarks/stride_spread.py --min-strides 3`` on the OpenVINO
keypoints of analysis version 2026.12.10 (road_runner_front held out; 3-24 runners a fault).
Together with :data:`PRIOR_STRIDES` it is the prior of a verdict's interval, so that a runner
seen for one or two strides gets an honest interval (wide: a t-interval on few degrees of
freedom) instead of a bootstrap over one sample, which has no width at all.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from pipeline.analysis.geometry import ANKLES, EARS, ELBOWS, HIPS, KNEES, NOSE, SHOULDERS, WRISTS
from pipeline.analysis.view import BACK, FRONT, OBLIQUE, SIDE

FRONTAL = (FRONT, BACK)

#: How a fault is sampled: once per gait cycle (stride) from per-frame values, once per step
#: (half a cycle) from per-frame values, at each initial contact, or at each mid-stance (the
#: stance ankle under the hips). The arm faults seen from the front are read per step: each step
#: swings one arm forward across the body and the other back, so each step shows one arm's peak
#: and a runner seen for one stride still gives two samples.
STRIDE, STEP, CONTACT, MID_STANCE = "stride", "step", "contact", "mid_stance"

_FACE = (NOSE, *EARS)
_ARM = (*SHOULDERS, *ELBOWS, *WRISTS)
_TRUNK = (*SHOULDERS, *HIPS)
_LEG = (*HIPS, *KNEES, *ANKLES)

# Sources of the plausible ranges.
_ROM = "joint range of motion norms (AAOS; Norkin & White, Measurement of Joint Motion)"
_RUN = "running and sprinting kinematics (Novacheck 1998; Lieberman et al. 2015; sprint starts: Nagahara 2014)"


@dataclass(frozen=True)
class FaultSpec:
    """One fault of ``FORM_CUES.md``.

    Attributes:
        name: column value in ``deviations.deviation``.
        label: how a coach reads it (tables, badges, captions, the report).
        unit: unit of the value.
        views: view codes that can see it.
        keypoints: COCO indices it needs.
        sample: STRIDE, STEP, CONTACT or MID_STANCE.
        reduce: per-cycle (or per-step) reduction of per-frame values ('median' or 'max').
        low, high: names of the AnalysisSettings thresholds: a value below ``low`` or above
            ``high`` is faulty (None: no bound on that side).
        plausible: (min, max) values possible for a running human, in ``unit``.
        plausible_source: where that range comes from.
        resolution: largest 90 % confidence half-width still judged, in ``unit``.
        stride_sd: typical stride-to-stride SD of one runner's samples, in ``unit`` (measured).
        flag_fraction: AnalysisSettings name of the fraction of strides that must be faulty,
            when not the common ``min_flagged_fraction``.
        sagittal: its side-view reading is in the body's sagittal plane (``SIDE`` is among its
            views and ``OBLIQUE`` is not): measured from the side, and from oblique views up to
            ``sagittal_max_shoulder_ratio`` on de-projected keypoints
            (:func:`pipeline.analysis.view.sagittal_stretch`), besides any other view it lists
            (looking down is also read from the front, by another measure).
        midline: its keypoints enter only as midpoints of left/right pairs (and the nose), points
            on the body's midline, so sideways offsets (a foot's, an elbow's) cannot leak into its
            de-projected reading: a sagittal fault that is also ``midline`` is read through every
            oblique frame (up to ``frontal_view_min_shoulder_ratio``, a yaw of about 65 deg from
            the side), its interval widened by what the runner's unknown build does to the
            stretch (:func:`pipeline.analysis.view.midline_stretches`). Not the neck: its
            mid-shoulder to mid-ear line is a few jitters long, and stretched 2-4 times its angle
            is noise (oblique 400 m runners' necks read 10-19 deg back).
        cue: what the coach says to correct it, in the coach's words (``FORM_CUES.md``); every
            place that shows a flagged fault leads with it.
        drill: one drill to practise the correction.
    """

    name: str
    label: str
    unit: str
    views: tuple[int, ...]
    keypoints: tuple[int, ...]
    sample: str
    low: str | None
    high: str | None
    plausible: tuple[float, float]
    plausible_source: str
    resolution: float
    stride_sd: float
    reduce: str = "median"
    flag_fraction: str | None = None
    midline: bool = False
    cue: str = ""
    drill: str = ""

    def possible(self, values: np.ndarray) -> np.ndarray:
        """``values`` with those outside the plausible range set to NaN (misread poses)."""
        low, high = self.plausible
        with np.errstate(invalid="ignore"):
            return np.where((values >= low) & (values <= high), values, np.nan)

    @property
    def sagittal(self) -> bool:
        return SIDE in self.views and OBLIQUE not in self.views


_SPECS = (
    FaultSpec("looking_down", "Looking down", "deg", (SIDE, FRONT), _FACE, STRIDE, None, "looking_down_deg",
              (-60.0, 75.0), f"{_ROM}: neck flexion to about 50 deg plus the ear-nose line's own ~15 deg tilt",
              resolution=10.0, stride_sd=4.2, midline=True),
    FaultSpec("neck_flexion", "Head forward", "deg", (SIDE,), (*EARS, *_TRUNK), STRIDE, None, "neck_flexion_max_deg",
              (-60.0, 60.0), f"{_ROM}: cervical flexion about 45-50 deg, extension about 60 deg", resolution=6.0,
              stride_sd=7.8),
    FaultSpec("elbow_angle", "Elbow angle", "deg", (SIDE,), _ARM, STRIDE, "elbow_angle_min_deg",
              "elbow_angle_max_deg", (30.0, 180.0),
              f"{_ROM}: elbow flexion to about 145-150 deg (interior angle 30 deg), extension to straight",
              resolution=20.0, stride_sd=3.9),
    FaultSpec("arm_crossing", "Arms crossing", "shoulder widths", FRONTAL, (*_ARM, *HIPS), STEP, None,
              "arm_crossing_shoulder_widths", (-2.0, 1.2),
              f"{_ROM}: horizontal adduction about 130 deg puts a wrist at most about one shoulder width past "
              "the midline", resolution=0.15, stride_sd=0.075, reduce="max",
              flag_fraction="arm_crossing_stride_fraction"),
    FaultSpec("elbow_flare", "Elbow flare", "shoulder widths", FRONTAL, _ARM, STEP, None,
              "elbow_flare_shoulder_widths", (-0.6, 1.0),
              f"{_ROM}: the upper arm (about 0.8 shoulder widths) abducted to 90 deg puts the elbow about one "
              "shoulder width outside the shoulder", resolution=0.15, stride_sd=0.038, reduce="max"),
    FaultSpec("trunk_lean", "Trunk lean", "deg", (SIDE,), _TRUNK, STRIDE, "trunk_lean_min_deg",
              "trunk_lean_max_deg", (-30.0, 60.0),
              f"{_RUN}: distance running 0-15 deg forward, a sprint start's first steps up to about 45-50 deg",
              resolution=7.5, stride_sd=4.1, midline=True),
    FaultSpec("shrugged_shoulders", "Shrugged shoulders", "torso lengths", (SIDE, FRONT, BACK, OBLIQUE),
              (*EARS, *_TRUNK), STRIDE, "shrug_min_ratio", None, (0.05, 0.9),
              "body proportions (Drillis & Contini 1966): the ear sits about 0.35-0.5 torso lengths above "
              "the shoulder line; a full shrug raises the shoulders by about 0.1 torso lengths",
              resolution=0.08, stride_sd=0.014),
    FaultSpec("overstride", "Overstride", "leg lengths", (SIDE,), _LEG, CONTACT, None, "overstride_leg_lengths",
              (-0.4, 0.8),
              f"{_RUN}: at contact the hip is flexed at most about 45 deg with the knee near straight, which "
              "puts the ankle at most about 0.7 leg lengths ahead of the hip", resolution=0.1, stride_sd=0.142),
    FaultSpec("shank_angle", "Shank angle at contact", "deg", (SIDE,), _LEG, CONTACT, None, "shank_angle_max_deg",
              (-40.0, 40.0),
              f"{_RUN}: shank 0-15 deg at contact in distance running, up to about -30 deg (ankle behind the "
              "knee) in a sprint's first steps", resolution=7.5, stride_sd=9.1),
    FaultSpec("pose_method_lean", "Pose Method lean", "deg", (SIDE,), (*_LEG, *SHOULDERS), MID_STANCE,
              "pose_lean_min_deg", "pose_lean_max_deg", (-20.0, 50.0),
              f"{_RUN}: whole-body lean at mid-stance a few degrees in distance running, up to about 45 deg "
              "in a sprint's first steps", resolution=5.0, stride_sd=3.4),
)

# The coach's words per fault: (cue, drill). Cues are FORM_CUES.md's five cues and the Pose
# Method's "fall", word for word. FORM_CUES.md names three drills, the Pose Method's pose, fall
# and pull; the faults of the legs and trunk take those. The head, arm and shoulder faults have
# no drill in FORM_CUES.md: theirs is the cue practised standing in the pose, then at an easy
# run, which the coach should confirm.
_POSE_DRILL = "Pose drill: balance on one leg, the swing ankle lifted under the hip; hold, switch, repeat"
_FALL_DRILL = "Fall drill: from the pose, lean the whole body forward from the ankles, shoulders over hips, " \
    "until you must step"
_PULL_DRILL = "Pull drill: pull the foot from the ground straight up under the hip, then let it drop"
_COACHING: dict[str, tuple[str, str]] = {
    "looking_down": ("Look ahead, not down at the ground",
                     "Strides of 50 m with your eyes on a mark 20-30 m ahead, chin level"),
    "neck_flexion": ("Look ahead, not down at the ground",
                     "Stand in the pose, ears over shoulders, then run 50 m keeping them there"),
    "elbow_angle": ("Arms at about 90°, swinging forward and back",
                    "Standing in the pose, swing the arms at about 90° forward and back for 30 s, then run 50 m"),
    "arm_crossing": ("Arms at about 90°, swinging forward and back, never crossing the front of the body",
                     "Standing in the pose, swing the arms forward and back, hands brushing the hips, not the "
                     "middle of the body; then run 50 m"),
    "elbow_flare": ("Elbows close to your sides, not flaring out",
                    "Standing in the pose, swing the arms with the inside of the elbows brushing your sides; "
                    "then run 50 m"),
    "trunk_lean": ("Lead with your hips, shoulders and hips aligned", _FALL_DRILL),
    "shrugged_shoulders": ("Shoulders down and back, away from your ears",
                           "Shrug hard for 2 s, let the shoulders drop, then run 50 m with them there"),
    "overstride": ("Land your foot under your hips, not out in front", _PULL_DRILL),
    "shank_angle": ("Land your foot under your hips, not out in front", _POSE_DRILL),
    "pose_method_lean": ("Lean forward from the ankles, shoulders over hips", _FALL_DRILL),
}

#: Every fault by name, in output order, with the coach's cue and drill.
FAULTS: dict[str, FaultSpec] = {
    spec.name: replace(spec, cue=_COACHING[spec.name][0], drill=_COACHING[spec.name][1]) for spec in _SPECS
}
#: Weight of ``stride_sd`` in a verdict's interval, in strides: the runners' stride-to-stride
#: variances scatter like a chi-square on about 2 degrees of freedom (median over the ten
#: faults 2.25, range 0.6-3.4, ``benchmarks/stride_spread.py`` on version 2026.12.10; 1.7 and
#: 2.5 on the two versions before it).
PRIOR_STRIDES = 2
#: Fault names in output order (one deviations row per runner each).
DEVIATIONS: tuple[str, ...] = tuple(FAULTS)
#: How each fault is named to a coach.
FAULT_LABELS: dict[str, str] = {spec.name: spec.label for spec in _SPECS}
#: Faults sampled at ground contacts (drawn at the contact frame in clips).
CONTACT_FAULTS: frozenset[str] = frozenset(s.name for s in _SPECS if s.sample == CONTACT)


def fault(name: str) -> FaultSpec:
    """The spec of fault ``name``; an unknown name fails listing the valid ones."""
    try:
        return FAULTS[name]
    except KeyError:
        raise ValueError(f"unknown fault {name!r}; valid faults: {', '.join(FAULTS)}") from None


def coach_words(name: str) -> str:
    """The cue and drill of fault ``name`` as one line: ``"Land your foot under ... (drill: Pull drill: ...)"``."""
    spec = fault(name)
    return f"{spec.cue} (drill: {spec.drill})"
