"""The output tables read back for drawing: detections as per-frame ``Poses``, runner facts,
and which fault badges show when."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pyarrow as pa

from pipeline.analysis.registry import CONTACT_FAULTS, FAULT_LABELS, FAULTS
from pipeline.poses import KEYPOINT_NAMES, Poses

__all__ = ["CONTACT_FAULTS"]
#: A badge shows within this many seconds of the fault's worst frame...
BADGE_WINDOW_S = 0.5
#: ...or over the whole clip when at least this fraction of strides is flagged.
BADGE_ALWAYS_FRACTION = 0.5


def _require(table: pa.Table, name: str, columns: list[str]) -> None:
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise ValueError(f"{name} table lacks column(s) {missing}")


def _numpy(table: pa.Table, column: str, fill: float = np.nan) -> np.ndarray:
    values = table.column(column)
    return values.fill_null(pa.scalar(fill, type=values.type)).to_numpy().astype(np.float32)


class DetectionIndex:
    """Detections grouped by frame, looked up as :class:`Poses` whose ``track_id`` is ``runner_id``.

    Arrays are built once: (R, 4) boxes and (R, 17, 2) keypoints for R rows, sorted by frame;
    null keypoints become NaN (and confidence 0). Drawing needs no keypoint confidence, so a
    table without the ``<keypoint>_conf`` columns is accepted (confidence 1 where seen).
    """

    def __init__(self, detections: pa.Table) -> None:
        columns = ["frame", "runner_id", "box_x1", "box_y1", "box_x2", "box_y2", "box_conf"]
        _require(detections, "detections", columns + [f"{k}_{a}" for k in KEYPOINT_NAMES for a in ("x", "y")])
        frames = detections.column("frame").to_numpy()
        order = np.argsort(frames, kind="stable")
        table = detections.take(order)
        self.frames = frames[order].astype(np.int64)
        self.ids = table.column("runner_id").to_numpy().astype(np.int64)
        self.xyxy = np.stack([_numpy(table, c) for c in columns[2:6]], axis=1)
        self.confidence = _numpy(table, "box_conf")
        self.keypoints = np.stack(
            [np.stack([_numpy(table, f"{k}_x"), _numpy(table, f"{k}_y")], axis=1) for k in KEYPOINT_NAMES], axis=1
        )
        conf = [_numpy(table, f"{k}_conf", 0.0) if f"{k}_conf" in table.column_names
                else np.isfinite(self.keypoints[:, i, 0]).astype(np.float32) for i, k in enumerate(KEYPOINT_NAMES)]
        self.keypoint_confidence = np.stack(conf, axis=1)

    def _rows(self, start: int, stop: int) -> Poses:
        return Poses(self.xyxy[start:stop], self.confidence[start:stop], self.keypoints[start:stop],
                     self.keypoint_confidence[start:stop], self.ids[start:stop])

    def at(self, frame: int) -> Poses:
        """Everyone detected in ``frame`` (``Poses.empty()``-like when nobody is)."""
        start, stop = np.searchsorted(self.frames, [frame, frame + 1])
        return self._rows(int(start), int(stop))

    def track(self, runner_id: int) -> tuple[np.ndarray, np.ndarray]:
        """(T,) frames and (T, 4) boxes of one person, by frame (a frame seen twice keeps both)."""
        rows = self.ids == runner_id
        return self.frames[rows], self.xyxy[rows]


@dataclass(frozen=True)
class RunnerFacts:
    """Per-person facts from the runners table, keyed by runner id (runners.track_id)."""

    is_runner: dict[int, bool]
    view: dict[int, str]

    @classmethod
    def from_table(cls, runners: pa.Table) -> RunnerFacts:
        _require(runners, "runners", ["track_id", "is_runner", "view"])
        # All three columns are non-null in the runners schema.
        ids = cast("list[int]", runners.column("track_id").to_pylist())
        return cls(dict(zip(ids, cast("list[bool]", runners.column("is_runner").to_pylist()), strict=True)),
                   dict(zip(ids, cast("list[str]", runners.column("view").to_pylist()), strict=True)))

    def runner_mask(self, poses: Poses) -> np.ndarray:
        """(N,) bool: which people of ``poses`` are runners (unknown ids are not)."""
        return np.array([bool(self.is_runner.get(int(i), False)) for i in poses.track_id], bool)

    def side_view_ids(self) -> set[int]:
        """Ids whose dominant view is 'side' (the view elbow and trunk angles are read from)."""
        return {i for i, v in self.view.items() if v == "side"}


def format_value(value: float | None, unit: str) -> str:
    """``128 deg`` for degrees, ``0.21 leg lengths`` otherwise; empty when value is null."""
    if value is None or not np.isfinite(value):
        return ""
    return f"{value:.0f} deg" if unit == "deg" else f"{value:.2f} {unit}"


def badge_text(row: dict) -> str:
    """Short badge for a deviation row: its readable name and value, e.g. ``Elbow angle 128 deg``."""
    label = FAULT_LABELS.get(row["deviation"], row["deviation"].replace("_", " ").capitalize())
    return f"{label} {format_value(row.get('value'), row.get('unit', ''))}".strip()


def caption_text(row: dict) -> str:
    """Highlight caption: the coach's cue, then the measurement, e.g.
    ``Arms at about 90 deg, swinging forward and back\nElbow angle 128 deg (flagged 62% of strides)``."""
    text = badge_text(row)
    fraction = row.get("fraction_flagged")
    if fraction is not None and np.isfinite(fraction):
        per = "contacts" if row["deviation"] in CONTACT_FAULTS else "strides"
        text += f" (flagged {100 * fraction:.0f}% of {per})"
    cue = FAULTS[row["deviation"]].cue if row["deviation"] in FAULTS else ""
    return f"{cue.replace('°', ' deg')}\n{text}" if cue else text  # OpenCV's fonts have no degree sign


def flagged_rows(deviations: pa.Table, runner_id: int | None = None) -> list[dict]:
    """Deviation rows with ``flagged`` true (of one runner when given), by worst_frame."""
    _require(deviations, "deviations", ["track_id", "deviation", "value", "unit", "flagged",
                                        "fraction_flagged", "worst_frame"])
    rows = [r for r in deviations.to_pylist()
            if r["flagged"] and (runner_id is None or r["track_id"] == runner_id)]
    return sorted(rows, key=lambda r: (r["worst_frame"] is None, r["worst_frame"] or 0, r["deviation"]))


class LiveBadges:
    """Which fault badges each person shows in each frame of the annotated clip.

    A flagged fault shows from ``BADGE_WINDOW_S`` (0.5 s) before to 0.5 s after its
    worst_frame, or over the whole clip when fraction_flagged >= ``BADGE_ALWAYS_FRACTION``
    (0.5: the fault is the runner's habit, not a moment). A flagged fault with neither a
    worst_frame nor such a fraction is not shown.
    """

    def __init__(self, deviations: pa.Table, fps: float) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps!r}")
        self.half_window = BADGE_WINDOW_S * fps
        self.entries: list[tuple[int, str, int | None]] = []  # id, text, worst frame (None: always)
        for row in flagged_rows(deviations):
            fraction = row["fraction_flagged"]
            always = fraction is not None and fraction >= BADGE_ALWAYS_FRACTION
            if always or row["worst_frame"] is not None:
                self.entries.append((row["track_id"], badge_text(row), None if always else row["worst_frame"]))

    def at(self, frame: int) -> dict[int, list[str]]:
        """Badge texts by runner id for ``frame``."""
        shown: dict[int, list[str]] = {}
        for runner_id, text, worst in self.entries:
            if worst is None or abs(frame - worst) <= self.half_window:
                shown.setdefault(runner_id, []).append(text)
        return shown
