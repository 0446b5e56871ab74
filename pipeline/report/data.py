"""The report's view of an output folder: videos, people, faults and contacts read from Parquet."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from pipeline.analysis.registry import FAULT_LABELS, FAULTS
from pipeline.outputs import open_dataset
from pipeline.poses import KEYPOINT_NAMES


@dataclass(frozen=True)
class Fault:
    """One fault of one runner: ``value`` in ``unit`` (null with ``reason`` when not measurable)."""

    name: str
    label: str
    value: float | None
    unit: str
    flagged: bool | None
    fraction_flagged: float | None  # fraction of measured strides beyond the threshold, 0..1
    strides_measured: int
    reason: str | None
    value_low: float | None = None  # 90 % interval of value
    value_high: float | None = None
    cue: str = ""  # the coach's words for it (registry), shown first when flagged
    drill: str = ""
    worst_frame: int | None = None  # frame where it is worst (video frame index)


@dataclass(frozen=True)
class Contact:
    """One initial ground contact: ``time_s`` in s, overstride in leg lengths, shank angle in deg."""

    time_s: float
    foot: str
    overstride_leg_lengths: float | None
    shank_angle_deg: float | None


@dataclass
class Person:
    """One stitched person of a video (a runners/ row) with their faults and contacts."""

    row: dict
    faults: list[Fault] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)

    @property
    def track_id(self) -> int:
        return int(self.row["track_id"])

    @property
    def is_runner(self) -> bool:
        return bool(self.row["is_runner"])


@dataclass
class VideoReport:
    """One input video (a videos/ row) and everyone seen in it, runners first."""

    row: dict
    people: list[Person] = field(default_factory=list)

    @property
    def video_id(self) -> str:
        return str(self.row["video_id"])

    @property
    def name(self) -> str:
        return Path(self.row["path"]).name


def _rows(out_dir: Path, name: str) -> list[dict]:
    """Every row of dataset ``name`` in ``out_dir``; [] when the folder holds no Parquet files."""
    folder = out_dir / name
    if not folder.is_dir() or not any(folder.glob("*.parquet")):
        return []
    return open_dataset(out_dir, name).to_table().to_pylist()


def _fault(row: dict) -> Fault:
    return Fault(
        name=row["deviation"], label=FAULT_LABELS.get(row["deviation"], row["deviation"]), value=row["value"],
        unit=row["unit"], flagged=row["flagged"], fraction_flagged=row["fraction_flagged"],
        strides_measured=row["strides_measured"], reason=row["reason"],
        value_low=row.get("value_low"), value_high=row.get("value_high"),
        cue=FAULTS[row["deviation"]].cue if row["deviation"] in FAULTS else "",
        drill=FAULTS[row["deviation"]].drill if row["deviation"] in FAULTS else "",
        worst_frame=row.get("worst_frame"),
    )


def _contact(row: dict) -> Contact:
    return Contact(time_s=row["time_s"], foot=row["foot"], overstride_leg_lengths=row["overstride_leg_lengths"],
                   shank_angle_deg=row["shank_angle_deg"])


def load_videos(out_dir: str | Path) -> list[VideoReport]:
    """Videos of ``out_dir`` sorted by file name, each with its people, faults and contacts.

    Raises FileNotFoundError naming the folder when ``out_dir/videos`` holds no results.
    """
    out_dir = Path(out_dir)
    video_rows = _rows(out_dir, "videos")
    if not video_rows:
        raise FileNotFoundError(f"{out_dir / 'videos'} holds no results; run `formwatch run FOOTAGE --out {out_dir}` "
                                "first.")
    people = {(r["video_id"], r["track_id"]): Person(r) for r in _rows(out_dir, "runners")}
    for row in _rows(out_dir, "deviations"):
        if (key := (row["video_id"], row["track_id"])) in people:
            people[key].faults.append(_fault(row))
    for row in sorted(_rows(out_dir, "contacts"), key=lambda r: r["time_s"]):
        if (key := (row["video_id"], row["track_id"])) in people:
            people[key].contacts.append(_contact(row))
    videos = {r["video_id"]: VideoReport(r) for r in video_rows}
    for (video_id, _), person in people.items():
        if video_id in videos:
            videos[video_id].people.append(person)
    for video in videos.values():
        video.people.sort(key=lambda p: (not p.is_runner, p.track_id))
    return sorted(videos.values(), key=lambda v: (v.name, v.video_id))


def mid_boxes(out_dir: str | Path, video: VideoReport,
              targets: dict[int, int] | None = None) -> dict[int, tuple[int, tuple[float, float, float, float]]]:
    """Per runner id, the detection nearest the middle of their time on screen (or nearest frame
    ``targets[id]``, e.g. a fault's worst frame): (frame, box x1, y1, x2, y2 in px).

    Reads only the box columns of ``detections/<video_id>.parquet``; {} when that file is absent.
    """
    return {rid: (frame, box) for rid, (frame, box, _) in stills(out_dir, video, targets, keypoints=False).items()}


def stills(out_dir: str | Path, video: VideoReport, targets: dict[int, int] | None = None,
           keypoints: bool = True) -> dict[int, tuple[int, tuple[float, float, float, float], np.ndarray | None]]:
    """Per runner id, the detection nearest frame ``targets[id]`` (default: the middle of their time on
    screen): (frame, box x1, y1, x2, y2 in px, (17, 2) keypoints in px with NaN where unseen, or None
    without ``keypoints``). {} when the detections file is absent."""
    path = Path(out_dir) / "detections" / f"{video.video_id}.parquet"
    runners = {p.track_id: (p.row["first_frame"] + p.row["last_frame"]) / 2 for p in video.people if p.is_runner}
    runners |= {k: v for k, v in (targets or {}).items() if k in runners}
    if not runners or not path.is_file():
        return {}
    points = [f"{k}_{a}" for k in KEYPOINT_NAMES for a in "xy"] if keypoints else []
    table = pq.read_table(path, columns=["frame", "runner_id", "box_x1", "box_y1", "box_x2", "box_y2", *points],
                          filters=[("runner_id", "in", list(runners))])
    best: dict[int, dict] = {}
    for r in table.to_pylist():
        rid, target = r["runner_id"], runners[r["runner_id"]]
        if rid not in best or abs(r["frame"] - target) < abs(best[rid]["frame"] - target):
            best[rid] = r
    return {rid: (r["frame"], (r["box_x1"], r["box_y1"], r["box_x2"], r["box_y2"]),
                  np.array([[np.nan if r[c] is None else r[c] for c in points[i:i + 2]]
                            for i in range(0, len(points), 2)], float) if keypoints else None)
            for rid, r in best.items()}
