"""Parquet schemas of every FormWatch output, in code, with units in field metadata.

Each output is a dataset folder under the output directory holding one file per video
(``<video_id>.parquet``), so nightly runs add files and re-running a video replaces its
file instead of duplicating rows. Tables are built with a strict cast against these
schemas: a drifting column or a lossy conversion fails loudly.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from pipeline.analysis.gait import MAX_HUMAN_CADENCE_SPM
from pipeline.analysis.registry import DEVIATIONS as DEVIATION_NAMES
from pipeline.analysis.registry import FAULTS
from pipeline.analysis.running import (
    MAX_DISTANCE_FLIGHT_FRACTION,
    MAX_FLIGHT_FRACTION,
    MAX_OSCILLATION_LEG_LENGTHS,
    SPRINT_CADENCE_SPM,
)
from pipeline.appearance import DIMENSIONS as APPEARANCE_DIMENSIONS
from pipeline.poses import KEYPOINT_NAMES

SCHEMA_VERSION = "7"


def column(name: str, type_: pa.DataType, description: str, unit: str = "", nullable: bool = True) -> pa.Field:
    """A field with its meaning (and unit, if any) in the metadata."""
    metadata = {"description": description}
    if unit:
        metadata["unit"] = unit
    return pa.field(name, type_, nullable=nullable, metadata=metadata)


def _range(fault: str) -> str:
    """A fault's plausible range with its unit, as the schema descriptions state it."""
    low, high = FAULTS[fault].plausible
    return f"{low:g} to {high:g} {FAULTS[fault].unit}"


def table_schema(name: str, fields: list[pa.Field], description: str) -> pa.Schema:
    """A versioned schema that names its table."""
    return pa.schema(
        fields,
        metadata={"formwatch_table": name, "schema_version": SCHEMA_VERSION, "description": description},
    )


VIDEOS = table_schema(
    "videos",
    [
        column("video_id", pa.string(), "First 16 hex digits of the SHA-256 of the file content", nullable=False),
        column("path", pa.string(), "Absolute path of the file when it was processed", nullable=False),
        column("status", pa.string(), "'ok'; 'partial' when some frames did not decode (frames_lost; the rest "
               "was analysed); or 'failed' (no data files)", nullable=False),
        column("error", pa.string(), "Why processing failed, or which frames were lost, as a sentence; null when ok"),
        column("fps", pa.float64(), "Frame rate from the container (exact rational as float)", "frames/s"),
        column("frames", pa.int64(), "Frames decoded and analysed", "frames"),
        column("frames_lost", pa.int64(), "Frames of the analysed span that did not decode (a damaged file); "
               "null in files before schema 4", "frames"),
        column("frames_declared", pa.int64(), "Frame count the container header claims (0 if none)", "frames"),
        column("width", pa.int32(), "Width of the upright picture", "px"),
        column("height", pa.int32(), "Height of the upright picture", "px"),
        column("rotation_deg", pa.int16(), "Display rotation applied (counter-clockwise)", "deg"),
        column("duration_s", pa.float64(), "Duration of the video: decoded frames / fps when read to the end, "
               "else the container's duration", "s"),
        column("analysed_start_s", pa.float64(), "Start of the analysed span", "s"),
        column("analysed_end_s", pa.float64(), "End of the analysed span", "s"),
        column("shot_starts", pa.list_(pa.int64()), "First frame of each continuous shot after the first (a hard "
               "cut just before it; tracks and stitching never cross one); empty for one shot; null in files "
               "before schema 5", "frames"),
        column("frames_per_picture", pa.float64(), "Frames each picture is shown for when the footage holds every "
               "picture for k frames (slow motion made by an editor, or a low frame rate converted up), else 1; "
               "null in files before schema 5", "frames"),
        column("tracks", pa.int32(), "Person tracks kept", "tracks"),
        column("tracks_dropped", pa.int32(), "Tracks dropped as shorter than tracking.min_track_duration_s", "tracks"),
        column("tracks_merged", pa.int32(), "Track fragments stitched onto another fragment of the same person",
               "tracks"),
        column("people", pa.int32(), "People after stitching (rows in runners/)", "people"),
        column("runners", pa.int32(), "People whose gait is running", "people"),
        column("slow_motion_suspected", pa.bool_(), "A runner's gait shows the footage is slowed down (its flight "
               "falls slower than gravity, or it runs at an implausibly low cadence)"),
        column("slow_motion_factor", pa.float64(), "How many times slower than real time the footage is, from "
               "the runners' fall at 9.81 m/s^2 in flight, or from pictures held for several frames "
               "(capture_fps_source); null when not slowed or not measurable", "x"),
        column("slow_motion_ranges", pa.list_(pa.list_(pa.int64())), "[first, last] frames of each part seen "
               "slowed down: from one step before the slowed runners' first contact to one step after their last, "
               "out to the ends of the shot where nobody is seen moving otherwise (a speed ramp slows only the part "
               "after it); the whole clip for held pictures; null when not slowed, and in files before schema 6",
               "frames"),
        column("capture_fps", pa.float64(), "Capture frame rate used for time in the analysis when it differs "
               "from fps (see capture_fps_source): for the whole clip, or for the shots a slowed part reaches "
               "(slow_motion_ranges; runners.fps_used says each runner's); null otherwise", "frames/s"),
        column("capture_fps_source", pa.string(), "Where capture_fps comes from: 'user' (analysis.capture_fps "
               "settings, always wins), 'gravity' (fps x slow_motion_factor), 'held_frames' (fps x frames_per_picture, "
               "where gravity cannot tell and everyone steps too slowly for real time) or 'container' "
               "(capture_fps null)"),
        column("detections", pa.int64(), "Rows written to detections/", "rows"),
        column("clips", pa.int32(), "MP4 clips written under clips/<video_id>/ (annotated.mp4 and "
               "runner_<track_id>.mp4 highlights); 0 with render.clips off", "files"),
        column("weights", pa.string(), "File name of the pose weights used"),
        column("weights_sha256", pa.string(), "First 16 hex digits of the SHA-256 of the pose weights file"),
        column("config_hash", pa.string(), "First 16 hex digits of the SHA-256 of the settings that change "
               "outputs (all but model.device and orchestration); incremental runs compare it"),
        column("analysis_version", pa.string(), "Version of FormWatch's analysis that wrote the row; a new one "
               "makes incremental runs reprocess"),
        column("file_bytes", pa.int64(), "Size of the file when it was processed", "bytes"),
        column("file_mtime_ns", pa.int64(), "Modification time of the file when it was processed",
               "ns since 1970-01-01 UTC"),
        column("processing_s", pa.float64(), "Wall-clock processing time, not counting slot_wait_s", "s"),
        column("slot_wait_s", pa.float64(), "Time spent waiting for an inference slot (orchestration."
               "inference_slots) held by other runs; null in files before schema 4", "s"),
        column("processed_at", pa.timestamp("us", tz="UTC"), "When processing finished", nullable=False),
        column("formwatch_version", pa.string(), "FormWatch version that wrote the row", nullable=False),
    ],
    "One row per input video file.",
)


def _keypoint_fields() -> list[pa.Field]:
    fields = []
    for name in KEYPOINT_NAMES:
        readable = name.replace("_", " ")
        fields += [
            column(f"{name}_x", pa.float32(), f"x of the {readable}; null when below model.keypoint_confidence", "px"),
            column(f"{name}_y", pa.float32(), f"y of the {readable}; null when below model.keypoint_confidence", "px"),
            column(f"{name}_conf", pa.float32(), f"Model confidence of the {readable}", "probability"),
        ]
    return fields


DETECTIONS = table_schema(
    "detections",
    [
        column("video_id", pa.string(), "Video the row belongs to (videos.video_id)", nullable=False),
        column("frame", pa.int64(), "Index of the decoded frame, from 0", "frames", nullable=False),
        column("time_s", pa.float64(), "frame / fps", "s", nullable=False),
        column("track_id", pa.int64(), "Tracker id of the person (one fragment of their time on screen)",
               nullable=False),
        column("runner_id", pa.int64(), "Person id after stitching fragments over the whole clip (the smallest "
               "track_id of the person); joins runners.track_id", nullable=False),
        column("box_x1", pa.float32(), "Person box left", "px", nullable=False),
        column("box_y1", pa.float32(), "Person box top", "px", nullable=False),
        column("box_x2", pa.float32(), "Person box right", "px", nullable=False),
        column("box_y2", pa.float32(), "Person box bottom", "px", nullable=False),
        column("box_conf", pa.float32(), "Person detection confidence", "probability", nullable=False),
        *_keypoint_fields(),
        column("appearance", pa.list_(pa.float32(), APPEARANCE_DIMENSIONS),
               "Clothing colours: 12-bin histogram of the upper body (shoulders to hips), then of the thighs "
               "(8 hue bins, 4 grey levels by brightness), each summing to 1, NaN where unseen "
               "(pipeline/appearance.py); compared when stitching fragments. Null in files before schema 3",
               "fraction"),
        column("camera_dx", pa.float32(), "The camera's motion into this frame from the one before, read on the "
               "background with every person masked out (pipeline/camera.py): horizontal shift of the picture "
               "(the same on every row of a frame); null where not measured (a shot's first frame, a background "
               "with too few corners, tracking.global_motion other than sparseOptFlow) and in files before "
               "schema 7", "px"),
        column("camera_dy", pa.float32(), "The camera's motion into this frame: vertical shift of the picture "
               "(see camera_dx)", "px"),
        column("camera_zoom", pa.float32(), "The camera's motion into this frame: scale of the picture against the "
               "frame before, 1 for none (see camera_dx)", "ratio"),
        column("camera_roll_deg", pa.float32(), "The camera's motion into this frame: rotation of the picture, "
               "positive clockwise on screen (see camera_dx)", "deg"),
    ],
    "One row per tracked person per frame; pixel coordinates of the upright frame, origin top-left.",
)



# --- analysis: who runs, where they land, how they run (pipeline/analysis) ----------------------

_KEYS = [
    column("video_id", pa.string(), "Video the row belongs to (videos.video_id)", nullable=False),
    column(
        "track_id",
        pa.int64(),
        "Runner id: the smallest tracker id among the stitched fragments",
        nullable=False,
    ),
]

RUNNERS = table_schema(
    "runners",
    [
        *_KEYS,
        column(
            "is_runner",
            pa.bool_(),
            "True when the gait is running; only runners get form verdicts",
            nullable=False,
        ),
        column(
            "activity",
            pa.string(),
            "'running', 'walking', 'standing' (feet never leave the ground) or "
            "'unknown' (too few steps found to judge, seen stepping for under a second of video, keypoints too "
            "jittery for the person's size, no running cue the view can show, or a cadence above "
            "running_max_cadence_spm: steps misread)",
            nullable=False,
        ),
        column(
            "slow_motion_suspected",
            pa.bool_(),
            "Running-like motion at an implausibly low cadence",
            nullable=False,
        ),
        column(
            "source_track_ids",
            pa.list_(pa.int64()),
            "Tracker ids stitched into this runner",
            nullable=False,
        ),
        column(
            "fragments_merged",
            pa.int32(),
            "Fragments joined to the first one by stitching",
            "tracks",
            nullable=False,
        ),
        column(
            "first_frame", pa.int64(), "First frame the runner is seen", "frames", nullable=False
        ),
        column("last_frame", pa.int64(), "Last frame the runner is seen", "frames", nullable=False),
        column(
            "frames_detected",
            pa.int64(),
            "Frames with a detection of the runner",
            "frames",
            nullable=False,
        ),
        column("seconds_visible", pa.float64(), "frames_detected / fps", "s", nullable=False),
        column(
            "fps_used",
            pa.float64(),
            "Frame rate used for time: analysis.capture_fps or the container's",
            "frames/s",
            nullable=False,
        ),
        column("steps", pa.int32(), "Initial contacts detected", "steps", nullable=False),
        column("strides", pa.int32(), "Full gait cycles analysed", "strides", nullable=False),
        column("cadence_spm", pa.float64(), "Steps counted over the time they span (intervals over 1.5 median "
               f"steps, gaps, left out), in real time (fps_used); null above {MAX_HUMAN_CADENCE_SPM:.0f}, faster "
               "than anyone steps (a misread)", "steps/min"),
        column(
            "cadence_spectral_spm",
            pa.float64(),
            "Cadence from the dominant frequency of the ankles' "
            f"left-right difference (cross-check); null above {MAX_HUMAN_CADENCE_SPM:.0f} steps/min",
            "steps/min",
        ),
        column(
            "step_asymmetry",
            pa.float64(),
            "|left - right| mean step time / mean step time",
            "fraction",
        ),
        column(
            "vertical_oscillation",
            pa.float64(),
            f"Median mid-hip vertical range per stride; null above {MAX_OSCILLATION_LEG_LENGTHS}, more than any "
            "runner bounces (a misread)",
            "leg lengths",
        ),
        column(
            "flight_fraction",
            pa.float64(),
            "Fraction of side and oblique frames with both feet off the ground, read only where the camera's pitch "
            "cannot show a step's depth as a lift (null when seen only from the front or back or obliquely from "
            "above, where a foot's travel looks like a lift, and for walking and standing people, who keep a foot "
            f"down); null above {MAX_FLIGHT_FRACTION} "
            f"({MAX_DISTANCE_FLIGHT_FRACTION} under {SPRINT_CADENCE_SPM:.0f} steps/min), longer than any runner flies",
            "fraction",
        ),
        column(
            "knee_min_angle_deg",
            pa.float64(),
            "Median per stride of the smallest knee angle (side view; obliquely only where the camera's pitch "
            "cannot make a knee bent toward it look more bent)",
            "deg",
        ),
        column(
            "running_cues_met",
            pa.int32(),
            "Running cues met (flight, knee flexion, elbow bend, vertical oscillation)",
            "cues",
            nullable=False,
        ),
        column(
            "running_cues_measured",
            pa.int32(),
            "Running cues that could be measured in the views seen",
            "cues",
            nullable=False,
        ),
        column(
            "arm_swing_deg",
            pa.float64(),
            "Median per stride of the upper arm's fore-aft angular range (side view; obliquely as the knee)",
            "deg",
        ),
        column(
            "leg_length_px",
            pa.float64(),
            "Leg length (hip->knee + knee->ankle, 90th percentile)",
            "px",
        ),
        column(
            "ground_speed",
            pa.float64(),
            "Median speed of the hips against the ground while stepping, in real time: their movement across "
            "the picture less the camera's own (detections' camera_* columns; pipeline/analysis/travel.py). "
            "Travel toward or away from the camera is not seen, and a camera moving alongside reads slow "
            "against a far background; null where the camera's motion was not measured and before schema 7",
            "leg lengths/s",
        ),
        column(
            "view",
            pa.string(),
            "Dominant camera view: side, front, back, oblique or unknown",
            nullable=False,
        ),
        column(
            "views_seen",
            pa.list_(pa.string()),
            "Views seen in at least 10% of the frames",
            nullable=False,
        ),
        column(
            "facing",
            pa.string(),
            "Side views: 'left' or 'right', the image direction the runner faces",
        ),
        column(
            "mean_keypoint_confidence",
            pa.float64(),
            "Mean keypoint confidence over detected frames",
            "probability",
        ),
        column(
            "keypoint_coverage",
            pa.float64(),
            "Fraction of keypoints present over detected frames",
            "fraction",
        ),
        column(
            "swaps_repaired",
            pa.int32(),
            "Frames where left/right limbs were swapped back",
            "frames",
            nullable=False,
        ),
        column(
            "alternation_errors",
            pa.int32(),
            "Consecutive contacts of the same foot",
            "steps",
            nullable=False,
        ),
    ],
    "One row per person (stitched track) of a video, runner or not.",
)

CONTACTS = table_schema(
    "contacts",
    [
        *_KEYS,
        column(
            "frame",
            pa.int64(),
            "Frame of the contact: the foot landing, or the hips' lowest point (see event)",
            "frames",
            nullable=False,
        ),
        column("time_s", pa.float64(), "frame / fps_used", "s", nullable=False),
        column("foot", pa.string(), "'left' or 'right'", nullable=False),
        column(
            "step_index",
            pa.int32(),
            "Order of the contact within the runner, from 0",
            "steps",
            nullable=False,
        ),
        column("view", pa.string(), "Camera view at the contact", nullable=False),
        column(
            "event",
            pa.string(),
            "What frame marks: 'initial_contact' (the foot lands; side views, and feet seen lifting), "
            "'initial_contact_estimated' (a runner seen from the front or back whose feet barely show "
            "their lift: the lowest point of the hips' bounce less half a stance, 0.17 of a stride) "
            "or 'mid_stance' (that lowest point itself, for walkers and anyone not running); null in "
            "files older than schema version 3",
        ),
        column(
            "overstride_leg_lengths",
            pa.float64(),
            "Landing ankle ahead of the mid-hip in the direction of travel (side view, or oblique "
            "de-projected into the sagittal plane); null outside the plausible range "
            f"{_range('overstride')} (a misread pose)",
            "leg lengths",
        ),
        column(
            "shank_angle_deg",
            pa.float64(),
            "Knee->ankle angle from vertical, positive with the ankle ahead (side view, or oblique de-projected); "
            f"null outside {_range('shank_angle')}",
            "deg",
        ),
    ],
    "One row per ground contact (one per step) of a runner or other person.",
)

DEVIATIONS = table_schema(
    "deviations",
    [
        *_KEYS,
        column(
            "deviation",
            pa.string(),
            f"Fault name ({', '.join(DEVIATION_NAMES)}; pipeline/analysis/registry.py)",
            nullable=False,
        ),
        column(
            "value", pa.float64(), "Median over strides (or contacts); null when not measurable"
        ),
        column("unit", pa.string(), "Unit of value, first_third_value and drift", nullable=False),
        column("flagged", pa.bool_(), "Fault shown; null when not measurable"),
        column(
            "fraction_flagged",
            pa.float64(),
            "Fraction of measured strides beyond the threshold",
            "fraction",
        ),
        column(
            "strides_measured",
            pa.int32(),
            "Samples measured: gait cycles (steps for the arm faults, contacts or mid-stances for the landing faults)",
            "strides",
            nullable=False,
        ),
        column(
            "reason",
            pa.string(),
            "Why value is null: not_running, view, occluded, implausible (outside the registry's "
            "plausible range for a running body), low_confidence (90% interval wider than the fault's "
            "resolution and not wholly on one side of its thresholds), too_few_strides; null when measured",
        ),
        column("worst_frame", pa.int64(), "Frame where the fault is worst", "frames"),
        column(
            "first_third_value", pa.float64(), "Median in the first third of the time on screen"
        ),
        column(
            "drift", pa.float64(), "Median in the last third minus first_third_value (form drift)"
        ),
        column("value_low", pa.float64(), "Lower end of the 90% interval of value: a bootstrap over the strides, "
               "widened to a t-interval on the fault's measured stride-to-stride spread where strides are few "
               "(also when value is null as low_confidence)"),
        column("value_high", pa.float64(), "Upper end of the 90% interval of value"),
    ],
    "One row per runner and fault.",
)


# --- the coach's loop: one file each for the whole output folder (pipeline/coach) --------------
# Unlike the per-video datasets, each is one file for the whole output folder, rewritten
# atomically (``pipeline.outputs.names_file`` and friends say where).

NAMES = table_schema(
    "names",
    [
        column("video_id", pa.string(), "Video of the runner (videos.video_id)", nullable=False),
        column("track_id", pa.int64(), "Runner (runners.track_id) when the name was given", nullable=False),
        column("athlete", pa.string(), "Name of the athlete", nullable=False),
        column("source", pa.string(), "Who says so, most trusted first: 'user' (formwatch name), 'roster' (the "
               "athletes.roster file), 'folder' (the footage's folder, athletes.names_from_folders) or "
               "'proposal' (FormWatch's match within the same night, never confirmed by itself)", nullable=False),
        column("confirmed", pa.bool_(), "True for user, roster and folder names; False for proposals until the "
               "user names the runner", nullable=False),
        column("created_at", pa.timestamp("us", tz="UTC"), "When the assignment was made", nullable=False),
        column("undone", pa.bool_(), "True once undone (formwatch name --undo, or replaced by a rename); kept so "
               "a roster or folder name undone is not made again", nullable=False),
        column("first_frame", pa.int64(), "The runner's first frame when named (re-finds the runner if a "
               "re-analysis renumbers it)", "frames"),
        column("last_frame", pa.int64(), "The runner's last frame when named", "frames"),
        column("distance", pa.float64(), "Proposals: appearance and body-proportion distance to the named "
               "runner matched (0 = identical); null otherwise", "distance"),
    ],
    "One row per assignment of a name to a runner of a video; the active name of a runner is its most "
    "trusted assignment not undone.",
)

SESSIONS = table_schema(
    "sessions",
    [
        column("video_id", pa.string(), "Video (videos.video_id)", nullable=False),
        column("recorded_at", pa.timestamp("us", tz="UTC"), "When the video was filmed", nullable=False),
        column("date_source", pa.string(), "'container' (the file's recording date, creation_time) or "
               "'file_mtime' (the file's modification time: no recording date in the container)", nullable=False),
    ],
    "One row per video: its session date.",
)

PROGRESS = table_schema(
    "progress",
    [
        column("athlete", pa.string(), "Name of the athlete", nullable=False),
        column("metric", pa.string(), "Fault name (deviations.deviation), 'cadence' or 'step_asymmetry'",
               nullable=False),
        column("session", pa.int32(), "Order of the session for this athlete, from 1 (oldest)", "sessions",
               nullable=False),
        column("video_id", pa.string(), "Video of the session", nullable=False),
        column("track_id", pa.int64(), "Runner of the video who is the athlete", nullable=False),
        column("recorded_at", pa.timestamp("us", tz="UTC"), "Session date (sessions.recorded_at)", nullable=False),
        column("date_source", pa.string(), "'container' or 'file_mtime' (sessions.date_source)", nullable=False),
        column("value", pa.float64(), "Median over strides or contacts (faults), steps/min (cadence), fraction "
               "(step asymmetry); null when not measured"),
        column("value_low", pa.float64(), "Lower end of the 90% interval of value (deviations' for faults, a "
               "bootstrap over the steps for cadence and step asymmetry)"),
        column("value_high", pa.float64(), "Upper end of the 90% interval of value"),
        column("unit", pa.string(), "Unit of value, its interval and the thresholds", nullable=False),
        column("flagged", pa.bool_(), "Fault shown in this session; null when not measured or not a fault"),
        column("reason", pa.string(), "Why value is null (deviations.reason)"),
        column("threshold_low", pa.float64(), "A value below it is faulty; null: no bound on that side"),
        column("threshold_high", pa.float64(), "A value above it is faulty; null: no bound on that side"),
        column("change", pa.string(), "Against the previous session: 'better', 'worse' (the two 90% intervals "
               "do not overlap; for cadence 'higher' or 'lower'), 'no measurable change' (they overlap) or "
               "'not compared' (first session, or a value missing)", nullable=False),
        column("change_since_first", pa.string(), "The same verdict against the athlete's first session",
               nullable=False),
    ],
    "One row per named athlete, metric and session (video): the coach's progress table.",
)


#: Every output dataset's schema by folder name: the one registry readers, writers and docs use.
SCHEMAS: dict[str, pa.Schema] = {
    "videos": VIDEOS, "detections": DETECTIONS, "runners": RUNNERS, "contacts": CONTACTS,
    "deviations": DEVIATIONS, "names": NAMES, "sessions": SESSIONS, "progress": PROGRESS,
}
#: A video's data datasets, one file each, committed by its ``videos/`` row (pipeline/outputs.py).
DATA_DATASETS = ("detections", "runners", "contacts", "deviations")
#: Every dataset with one file per video, the commit record last; the rest are one file per folder.
VIDEO_DATASETS = (*DATA_DATASETS, "videos")


def all_schemas() -> dict[str, pa.Schema]:
    """Every output dataset's schema by folder name (:data:`SCHEMAS`)."""
    return SCHEMAS


def to_table(columns: dict[str, Any], schema: pa.Schema) -> pa.Table:
    """Build a table from column arrays with a strict cast to ``schema``.

    Missing or unexpected columns raise ValueError; lossy conversions raise pyarrow errors.
    """
    names = set(schema.names)
    if set(columns) != names:
        missing, extra = sorted(names - set(columns)), sorted(set(columns) - names)
        raise ValueError(f"columns do not match schema {schema.metadata.get(b'formwatch_table')!r}: "
                         f"missing {missing}, unexpected {extra}")
    arrays = [pa.array(columns[f.name], from_pandas=True).cast(f.type, safe=True) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def build_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Rows (dicts keyed by column name) as a table of ``schema``, by strict cast; a missing
    column raises KeyError, a null in a non-null column ValueError."""
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


def schema_markdown(schemas: dict[str, pa.Schema] | None = None) -> str:
    """The schema reference page (docs/SCHEMAS.md), generated from the schemas above."""
    schemas = schemas or all_schemas()
    lines = [
        "# Parquet outputs",
        "",
        "Generated from `pipeline/schemas.py` by `python -m pipeline.schemas > docs/SCHEMAS.md`;",
        "a test fails when the two disagree. Each dataset is a folder under the output directory",
        "with one `<video_id>.parquet` file per video, except the coach's loop: `athletes/names.parquet`,",
        "`athletes/sessions.parquet` and `progress/progress.parquet`, one file each for the whole folder.",
        "Units are also in each field's metadata.",
        "",
        f"Schema version: {SCHEMA_VERSION}.",
    ]
    for name, schema in schemas.items():
        lines += ["", f"## `{name}/`", "", schema.metadata[b"description"].decode(), "",
                  "| column | type | unit | null allowed | meaning |", "|---|---|---|---|---|"]
        keypoint_rows_done = False
        for field in schema:
            meta = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
            if field.name.startswith(KEYPOINT_NAMES) and field.name.rsplit("_", 1)[-1] in {"x", "y", "conf"}:
                if keypoint_rows_done:
                    continue
                keypoint_rows_done = True
                names = ", ".join(f"`{n}`" for n in KEYPOINT_NAMES)
                lines.append(f"| `<keypoint>_x`, `<keypoint>_y` | float | px | yes | keypoint position; null "
                             f"when below model.keypoint_confidence. Keypoints: {names} |")
                lines.append("| `<keypoint>_conf` | float | probability | yes | model confidence of the keypoint |")
                continue
            lines.append(f"| `{field.name}` | {field.type} | {meta.get('unit', '')} | "
                         f"{'yes' if field.nullable else 'no'} | {meta.get('description', '')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(schema_markdown(), end="")
