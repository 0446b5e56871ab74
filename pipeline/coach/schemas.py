"""Parquet schemas of the coach's loop (names, sessions, progress), in code, units in metadata.

Unlike the per-video datasets, each is one file for the whole output folder, rewritten
atomically (``pipeline.outputs.names_file`` and friends say where).
"""

from __future__ import annotations

import pyarrow as pa

from pipeline.schemas import column, table_schema

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
        column("value_low", pa.float64(), "Lower end of the 90% bootstrap interval of value"),
        column("value_high", pa.float64(), "Upper end of the 90% bootstrap interval of value"),
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

COACH_SCHEMAS = {"names": NAMES, "sessions": SESSIONS, "progress": PROGRESS}


def build(rows: list[dict], schema: pa.Schema) -> pa.Table:
    """Rows as a table of ``schema``, by strict cast (a missing column fails)."""
    columns = {f.name: [row[f.name] for row in rows] for f in schema}
    table = pa.table(columns, schema=pa.schema([pa.field(f.name, f.type) for f in schema]))
    return table.cast(schema, safe=True)
