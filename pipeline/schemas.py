"""Parquet schemas of every FormWatch output, in code, with units in field metadata.

Each output is a dataset folder under the output directory holding one file per video
(``<video_id>.parquet``), so nightly runs add files and re-running a video replaces its
file instead of duplicating rows. Tables are built with a strict cast against these
schemas: a drifting column or a lossy conversion fails loudly.
"""

from __future__ import annotations

import pyarrow as pa

from pipeline.appearance import DIMENSIONS as APPEARANCE_DIMENSIONS
from pipeline.poses import KEYPOINT_NAMES

SCHEMA_VERSION = "4"


def column(name: str, type_: pa.DataType, description: str, unit: str = "", nullable: bool = True) -> pa.Field:
    """A field with its meaning (and unit, if any) in the metadata."""
    metadata = {"description": description}
    if unit:
        metadata["unit"] = unit
    return pa.field(name, type_, nullable=nullable, metadata=metadata)


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
        column("tracks", pa.int32(), "Person tracks kept", "tracks"),
        column("tracks_dropped", pa.int32(), "Tracks dropped as shorter than tracking.min_track_duration_s", "tracks"),
        column("tracks_merged", pa.int32(), "Track fragments stitched onto another fragment of the same person",
               "tracks"),
        column("people", pa.int32(), "People after stitching (rows in runners/)", "people"),
        column("runners", pa.int32(), "People whose gait is running", "people"),
        column("slow_motion_suspected", pa.bool_(), "A runner's gait shows the footage is slowed down (its flight "
               "falls slower than gravity, or it runs at an implausibly low cadence)"),
        column("slow_motion_factor", pa.float64(), "How many times slower than real time the footage is, from "
               "the runners' fall at 9.81 m/s^2 in flight; null when not slowed or not measurable", "x"),
        column("capture_fps", pa.float64(), "Capture frame rate used for time in the analysis when it differs "
               "from fps (see capture_fps_source); null otherwise", "frames/s"),
        column("capture_fps_source", pa.string(), "Where capture_fps comes from: 'user' (analysis.capture_fps "
               "settings, always wins), 'gravity' (fps x slow_motion_factor) or 'container' (capture_fps null)"),
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
    ],
    "One row per tracked person per frame; pixel coordinates of the upright frame, origin top-left.",
)



def all_schemas() -> dict[str, pa.Schema]:
    """Every output dataset's schema by folder name, foundation and analysis."""
    from pipeline.analysis.schemas import CONTACTS, DEVIATIONS, RUNNERS
    from pipeline.coach.schemas import COACH_SCHEMAS

    return {"videos": VIDEOS, "detections": DETECTIONS, "runners": RUNNERS, "contacts": CONTACTS,
            "deviations": DEVIATIONS, **COACH_SCHEMAS}


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
