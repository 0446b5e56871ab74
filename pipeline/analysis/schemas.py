"""Parquet schemas of the analysis outputs (runners, contacts, deviations), in code.

Units live in field metadata; key columns are non-null; tables are built with a strict cast.
"""

from __future__ import annotations

import pyarrow as pa

from pipeline.analysis.registry import DEVIATIONS as DEVIATION_NAMES
from pipeline.schemas import column as _field
from pipeline.schemas import table_schema as _schema

_KEYS = [
    _field("video_id", pa.string(), "Video the row belongs to (videos.video_id)", nullable=False),
    _field(
        "track_id",
        pa.int64(),
        "Runner id: the smallest tracker id among the stitched fragments",
        nullable=False,
    ),
]

RUNNERS = _schema(
    "runners",
    [
        *_KEYS,
        _field(
            "is_runner",
            pa.bool_(),
            "True when the gait is running; only runners get form verdicts",
            nullable=False,
        ),
        _field(
            "activity",
            pa.string(),
            "'running', 'walking', 'standing' (feet never leave the ground) or "
            "'unknown' (too few steps found to judge, keypoints too jittery for the person's size, no running "
            "cue the view can show, or a cadence above running_max_cadence_spm: steps misread)",
            nullable=False,
        ),
        _field(
            "slow_motion_suspected",
            pa.bool_(),
            "Running-like motion at an implausibly low cadence",
            nullable=False,
        ),
        _field(
            "source_track_ids",
            pa.list_(pa.int64()),
            "Tracker ids stitched into this runner",
            nullable=False,
        ),
        _field(
            "fragments_merged",
            pa.int32(),
            "Fragments joined to the first one by stitching",
            "tracks",
            nullable=False,
        ),
        _field(
            "first_frame", pa.int64(), "First frame the runner is seen", "frames", nullable=False
        ),
        _field("last_frame", pa.int64(), "Last frame the runner is seen", "frames", nullable=False),
        _field(
            "frames_detected",
            pa.int64(),
            "Frames with a detection of the runner",
            "frames",
            nullable=False,
        ),
        _field("seconds_visible", pa.float64(), "frames_detected / fps", "s", nullable=False),
        _field(
            "fps_used",
            pa.float64(),
            "Frame rate used for time: analysis.capture_fps or the container's",
            "frames/s",
            nullable=False,
        ),
        _field("steps", pa.int32(), "Initial contacts detected", "steps", nullable=False),
        _field("strides", pa.int32(), "Full gait cycles analysed", "strides", nullable=False),
        _field("cadence_spm", pa.float64(), "Steps counted over the time they span (intervals over 1.5 median "
               "steps, gaps, left out), in real time (fps_used)", "steps/min"),
        _field(
            "cadence_spectral_spm",
            pa.float64(),
            "Cadence from the dominant frequency of the ankles' "
            "left-right difference (cross-check)",
            "steps/min",
        ),
        _field(
            "step_asymmetry",
            pa.float64(),
            "|left - right| mean step time / mean step time",
            "fraction",
        ),
        _field(
            "vertical_oscillation",
            pa.float64(),
            "Median mid-hip vertical range per stride",
            "leg lengths",
        ),
        _field(
            "flight_fraction",
            pa.float64(),
            "Fraction of frames with both feet off the ground",
            "fraction",
        ),
        _field(
            "knee_min_angle_deg",
            pa.float64(),
            "Median per stride of the smallest knee angle (side view)",
            "deg",
        ),
        _field(
            "running_cues_met",
            pa.int32(),
            "Running cues met (flight, knee flexion, elbow bend, vertical oscillation)",
            "cues",
            nullable=False,
        ),
        _field(
            "running_cues_measured",
            pa.int32(),
            "Running cues that could be measured in the views seen",
            "cues",
            nullable=False,
        ),
        _field(
            "arm_swing_deg",
            pa.float64(),
            "Median per stride of the upper arm's fore-aft angular range (side view)",
            "deg",
        ),
        _field(
            "leg_length_px",
            pa.float64(),
            "Leg length (hip->knee + knee->ankle, 90th percentile)",
            "px",
        ),
        _field(
            "view",
            pa.string(),
            "Dominant camera view: side, front, back, oblique or unknown",
            nullable=False,
        ),
        _field(
            "views_seen",
            pa.list_(pa.string()),
            "Views seen in at least 10% of the frames",
            nullable=False,
        ),
        _field(
            "facing",
            pa.string(),
            "Side views: 'left' or 'right', the image direction the runner faces",
        ),
        _field(
            "mean_keypoint_confidence",
            pa.float64(),
            "Mean keypoint confidence over detected frames",
            "probability",
        ),
        _field(
            "keypoint_coverage",
            pa.float64(),
            "Fraction of keypoints present over detected frames",
            "fraction",
        ),
        _field(
            "swaps_repaired",
            pa.int32(),
            "Frames where left/right limbs were swapped back",
            "frames",
            nullable=False,
        ),
        _field(
            "alternation_errors",
            pa.int32(),
            "Consecutive contacts of the same foot",
            "steps",
            nullable=False,
        ),
    ],
    "One row per person (stitched track) of a video, runner or not.",
)

CONTACTS = _schema(
    "contacts",
    [
        *_KEYS,
        _field(
            "frame",
            pa.int64(),
            "Frame of the contact: the foot landing, or the hips' lowest point (see event)",
            "frames",
            nullable=False,
        ),
        _field("time_s", pa.float64(), "frame / fps_used", "s", nullable=False),
        _field("foot", pa.string(), "'left' or 'right'", nullable=False),
        _field(
            "step_index",
            pa.int32(),
            "Order of the contact within the runner, from 0",
            "steps",
            nullable=False,
        ),
        _field("view", pa.string(), "Camera view at the contact", nullable=False),
        _field(
            "event",
            pa.string(),
            "What frame marks: 'initial_contact' (the foot lands; side views, and feet seen lifting) "
            "or 'mid_stance' (the lowest point of the hips' bounce, used from the front or back "
            "when the feet barely show their lift); null in files older than schema version 3",
        ),
        _field(
            "overstride_leg_lengths",
            pa.float64(),
            "Landing ankle ahead of the mid-hip in the direction of travel (side view, or oblique "
            "de-projected into the sagittal plane)",
            "leg lengths",
        ),
        _field(
            "shank_angle_deg",
            pa.float64(),
            "Knee->ankle angle from vertical, positive with the ankle ahead (side view, or oblique de-projected)",
            "deg",
        ),
    ],
    "One row per ground contact (one per step) of a runner or other person.",
)

DEVIATIONS = _schema(
    "deviations",
    [
        *_KEYS,
        _field(
            "deviation",
            pa.string(),
            f"Fault name ({', '.join(DEVIATION_NAMES)}; pipeline/analysis/registry.py)",
            nullable=False,
        ),
        _field(
            "value", pa.float64(), "Median over strides (or contacts); null when not measurable"
        ),
        _field("unit", pa.string(), "Unit of value, first_third_value and drift", nullable=False),
        _field("flagged", pa.bool_(), "Fault shown; null when not measurable"),
        _field(
            "fraction_flagged",
            pa.float64(),
            "Fraction of measured strides beyond the threshold",
            "fraction",
        ),
        _field(
            "strides_measured",
            pa.int32(),
            "Strides (or contacts) measured",
            "strides",
            nullable=False,
        ),
        _field(
            "reason",
            pa.string(),
            "Why value is null: not_running, view, occluded, implausible (outside the registry's "
            "plausible range for a running body), low_confidence (90% interval wider than the fault's "
            "resolution), too_few_strides; null when measured",
        ),
        _field("worst_frame", pa.int64(), "Frame where the fault is worst", "frames"),
        _field(
            "first_third_value", pa.float64(), "Median in the first third of the time on screen"
        ),
        _field(
            "drift", pa.float64(), "Median in the last third minus first_third_value (form drift)"
        ),
        _field("value_low", pa.float64(), "Lower end of the 90% bootstrap interval of value (also when "
               "value is null as low_confidence)"),
        _field("value_high", pa.float64(), "Upper end of the 90% bootstrap interval of value"),
    ],
    "One row per runner and fault.",
)

ALL_SCHEMAS = {"runners": RUNNERS, "contacts": CONTACTS, "deviations": DEVIATIONS}


def build_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Rows (dicts keyed by column name) as a table of ``schema``, by strict cast."""
    columns = {f.name: [row[f.name] for row in rows] for f in schema}
    types = pa.schema([pa.field(f.name, f.type) for f in schema])
    table = pa.table(columns, schema=types)
    for f in schema:
        if not f.nullable and table.column(f.name).null_count:
            raise ValueError(
                f"column {f.name!r} of {schema.metadata[b'formwatch_table'].decode()} "
                "must not hold nulls"
            )
    return table.cast(schema, safe=True)
