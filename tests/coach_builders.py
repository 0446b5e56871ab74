"""Hand-made output folders for the coach's loop: sessions of named runners with known values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.analysis.registry import FAULTS
from pipeline.schemas import CONTACTS, DEVIATIONS, RUNNERS, VIDEOS, build_table


def row(schema, **values) -> dict:
    """A row of ``schema`` with every column null except ``values``."""
    unknown = set(values) - set(schema.names)
    assert not unknown, f"columns {sorted(unknown)} are not in the schema"
    return {name: values.get(name) for name in schema.names}


@dataclass(frozen=True)
class Person:
    """One person of a synthetic video: ``faults`` maps a fault to (value, low, high) in its unit."""

    track_id: int
    is_runner: bool = True
    frames: int = 300
    first_frame: int = 0
    step_s: float = 1 / 3  # 180 steps/min
    steps: int = 16
    faults: dict[str, tuple[float, float, float]] = field(default_factory=dict)


def _write(out: Path, dataset: str, video_id: str, rows: list[dict], schema) -> None:
    (out / dataset).mkdir(parents=True, exist_ok=True)
    pq.write_table(build_table(rows, schema), out / dataset / f"{video_id}.parquet")


def write_video(out: Path, video_id: str, path: str, recorded: datetime, people: list[Person]) -> None:
    """One committed video (its ``videos/``, ``runners/``, ``deviations/`` and ``contacts/`` files);
    ``recorded`` becomes the file's modification time (the path need not exist)."""
    mtime_ns = int(recorded.timestamp() * 1e9)
    _write(out, "videos", video_id, [row(VIDEOS, video_id=video_id, path=path, status="ok", fps=30.0,
                                         file_mtime_ns=mtime_ns, processed_at=datetime.now(UTC),
                                         formwatch_version="test")], VIDEOS)
    _write(out, "runners", video_id, [_person(video_id, p) for p in people], RUNNERS)
    _write(out, "deviations", video_id, [d for p in people for d in _faults(video_id, p)], DEVIATIONS)
    _write(out, "contacts", video_id, [c for p in people for c in _contacts(video_id, p)], CONTACTS)


def _person(video_id: str, p: Person) -> dict:
    return row(RUNNERS, video_id=video_id, track_id=p.track_id, is_runner=p.is_runner,
               activity="running" if p.is_runner else "walking", slow_motion_suspected=False,
               source_track_ids=[p.track_id], fragments_merged=0, first_frame=p.first_frame,
               last_frame=p.first_frame + p.frames - 1, frames_detected=p.frames, seconds_visible=p.frames / 30,
               fps_used=30.0, steps=p.steps, strides=p.steps // 2, cadence_spm=60 / p.step_s, running_cues_met=3,
               running_cues_measured=4, view="side", views_seen=["side"], swaps_repaired=0, alternation_errors=0)


def _faults(video_id: str, p: Person) -> list[dict]:
    rows = []
    for name, spec in FAULTS.items():
        value, low, high = p.faults.get(name, (None, None, None))
        rows.append(row(DEVIATIONS, video_id=video_id, track_id=p.track_id, deviation=name, value=value,
                        unit=spec.unit, flagged=None if value is None else False, strides_measured=8,
                        reason=None if value is not None else "view", value_low=low, value_high=high))
    return rows


def _contacts(video_id: str, p: Person) -> list[dict]:
    """Steps ``p.step_s`` apart, alternating feet, with a little jitter that is the same every time."""
    jitter = [0.0, 0.01, -0.01, 0.005, -0.005]
    times = [i * p.step_s + jitter[i % 5] for i in range(p.steps)]
    return [row(CONTACTS, video_id=video_id, track_id=p.track_id, frame=round(t * 30), time_s=t,
                foot="left" if i % 2 else "right", step_index=i, view="side") for i, t in enumerate(times)]


def remux_with_date(source: Path, target: Path, creation_time: str) -> Path:
    """Copy ``source``'s video packets into ``target`` (no re-encoding: the same frames, other bytes,
    so another video_id) with the container's recording date set to ``creation_time`` (ISO 8601)."""
    import av

    target.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(source)) as src, av.open(str(target), "w") as dst:
        dst.metadata["creation_time"] = creation_time
        stream = dst.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                dst.mux(packet)
    return target
