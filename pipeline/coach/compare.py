"""The side-by-side clip: an athlete's first and latest sessions for one fault, stride against stride.

Each half follows the runner (the highlight clips' crop and skeletons, other faces blurred) over
the same number of ground contacts, picked around the session's worst frame for the fault and
starting on the same foot. The two halves are aligned on those contacts: between contact j and
j+1 each half is stretched to the same number of output frames, so every contact of the left
half shows in the same output frame as the matching contact of the right one (the same phase
of the stride), slowed ``slowmo`` times against the slower half. Overstride and shank angle are
drawn (the ankle's distance ahead of the hip, the shank against the vertical) with the value at
each contact; every half is captioned with its date and the session's value, the clip with the
coach's cue.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from pipeline.analysis.registry import FAULTS, fault
from pipeline.coach.names import NamingError
from pipeline.coach.progress import Session, athlete_sessions
from pipeline.incremental import read_video_rows
from pipeline.outputs import compare_clip_file, dataset_file
from pipeline.render.annotators import CaptionAnnotator, Chips
from pipeline.render.clips import HighlightPainter
from pipeline.render.measure import DRAWN, draw_measurement
from pipeline.render.people import DetectionIndex, format_value
from pipeline.render.settings import RenderSettings
from pipeline.render.writer import H264Writer
from pipeline.video import DecodeDamage, read_frames

#: Ground contacts shown per half: two strides.
CONTACTS_SHOWN = 5


@dataclass(frozen=True)
class Half:
    """One session in the clip: its video, runner, contact frames (video frame index) with the foot and
    the fault's value at each contact (NaN where not measured), the session's value and interval."""

    session: Session
    path: str
    fps: float
    contacts: list[int]
    feet: list[str]
    at_contact: list[float]
    value: dict


def pick_contacts(frames: list[int], feet: list[str], around: int, count: int,
                  foot: str | None = None) -> tuple[int, int]:
    """[start, stop) indices of up to ``count`` consecutive contacts (at least 2) whose middle is
    nearest the contact nearest frame ``around``, starting on ``foot`` when given; (0, 0) when
    there are not two such contacts."""
    if not frames:
        return 0, 0
    nearest = int(np.argmin(np.abs(np.asarray(frames) - around)))
    for n in range(min(count, len(frames)), 1, -1):
        starts = [s for s in range(len(frames) - n + 1) if foot is None or feet[s] == foot]
        if starts:
            start = min(starts, key=lambda s: abs(s + n // 2 - nearest))
            return start, start + n
    return 0, 0


def aligned_frames(left: list[int], right: list[int], fps: tuple[float, float], out_fps: float,
                   slowmo: int) -> list[tuple[int, int]]:
    """Per output frame, the (left, right) source frame shown, from contact frames ``left`` and
    ``right`` (same length >= 2, increasing). Segment j (contact j to j+1) lasts
    ceil(longer half's seconds x out_fps x slowmo) output frames in both halves; contact j of each
    half lands on the segment's first output frame, the last contacts on the last frame."""
    if len(left) != len(right) or len(left) < 2:
        raise ValueError(f"need the same number (>= 2) of contacts per half, got {len(left)} and {len(right)}")
    pairs = []
    for j in range(len(left) - 1):
        (l0, l1), (r0, r1) = left[j:j + 2], right[j:j + 2]
        seconds = max((l1 - l0) / fps[0], (r1 - r0) / fps[1])
        steps = max(1, math.ceil(seconds * out_fps * slowmo))
        pairs += [(l0 + math.floor((l1 - l0) * k / steps), r0 + math.floor((r1 - r0) * k / steps))
                  for k in range(steps)]
    return pairs + [(left[-1], right[-1])]


def load_half(out_dir: str | Path, session: Session, name: str) -> Half:
    """A session's contacts (frames, feet, the fault's value at each) and deviations row for fault ``name``."""
    spec = fault(name)
    video = read_video_rows(out_dir)[session.video_id]
    column = {"overstride": "overstride_leg_lengths", "shank_angle": "shank_angle_deg"}.get(name)
    contacts = pq.read_table(dataset_file(out_dir, "contacts", session.video_id),
                             filters=[("track_id", "=", session.track_id)]).sort_by("frame").to_pylist()
    deviation = pq.read_table(dataset_file(out_dir, "deviations", session.video_id),
                              filters=[("track_id", "=", session.track_id), ("deviation", "=", spec.name)]).to_pylist()
    return Half(session, video["path"], float(video["fps"]), [c["frame"] for c in contacts],
                [c["foot"] for c in contacts],
                [c[column] if column and c[column] is not None else math.nan for c in contacts],
                deviation[0] if deviation else {})


def _detections(out_dir: str | Path, half: Half, first: int, last: int) -> DetectionIndex:
    table = pq.read_table(dataset_file(out_dir, "detections", half.session.video_id),
                          filters=[("frame", ">=", first - 1), ("frame", "<=", last + 1)])
    return DetectionIndex(table)


def _crops(out_dir: str | Path, half: Half, first: int, last: int, size: int) -> dict[int, np.ndarray]:
    """Frame -> drawn square crop ((size, size, 3) BGR) of the runner, frames ``first..last``."""
    people = _detections(out_dir, half, first, last)
    settings = RenderSettings(highlight_size_px=size, slowmo_factor=1)
    painter = HighlightPainter(half.session.track_id, people, half.fps, settings)
    crops = {}
    for frame in read_frames(half.path, half.fps, start_s=first / half.fps, end_s=(last + 1) / half.fps,
                             damage=DecodeDamage()):
        crop = painter.crop(frame.index, frame.image)
        x0, y0, side = painter.path.window(frame.index) if painter.path else (0, 0, size)
        _measure(crop, people, half, frame.index, (x0, y0, size / side))
        crops[frame.index] = crop
    return crops


def _measure(crop: np.ndarray, people: DetectionIndex, half: Half, frame: int,
             transform: tuple[float, float, float]) -> None:
    """Draw the overstride / shank measurement of the runner in ``frame`` onto ``crop`` (crop px), with
    the value at the latest contact so far."""
    poses = people.at(frame)
    mine = np.flatnonzero(poses.track_id == half.session.track_id)
    name = half.value.get("deviation")
    if not len(mine) or name not in DRAWN:
        return
    x0, y0, scale = transform
    held = [v for f, v in zip(half.contacts, half.at_contact, strict=True) if f <= frame and np.isfinite(v)]
    draw_measurement(crop, (poses.keypoints[mine[0]] - (x0, y0)) * scale, name,
                     format_value(held[-1], FAULTS[name].unit) if held else None)


def _caption(half: Half) -> str:
    """Two lines, ``2026-11-01`` and ``0.414 [0.391-0.464] leg lengths`` (the date marked * when it is the
    file's modification time)."""
    row, date = half.value, f"{half.session.recorded_at:%Y-%m-%d}" + ("*" if half.session.date_source != "container"
                                                                         else "")
    if row.get("value") is None:
        return f"{date}\nnot measured ({row.get('reason') or 'no value'})"
    interval = f" [{row['value_low']:.3g}-{row['value_high']:.3g}]" if row.get("value_low") is not None else ""
    return f"{date}\n{row['value']:.3g}{interval} {row['unit']}"


@dataclass(frozen=True)
class CompareResult:
    """The clip written and the (left, right) source frames of each of its frames, contacts included."""

    path: Path
    pairs: list[tuple[int, int]]
    contacts: tuple[list[int], list[int]]


def render_compare(out_dir: str | Path, athlete: str, name: str, slowmo: int = 4, size: int = 480,
                   out_fps: float = 30.0) -> CompareResult:
    """Write the athlete's first-vs-latest clip for fault ``name`` (see the module's docstring)."""
    sessions = athlete_sessions(out_dir, athlete)
    if len(sessions) < 2:
        raise NamingError(f"{athlete} has {len(sessions)} session(s); a comparison needs two")
    first, latest = load_half(out_dir, sessions[0], name), load_half(out_dir, sessions[-1], name)
    def around(half: Half) -> int:
        return half.value.get("worst_frame") or (half.contacts[len(half.contacts) // 2] if half.contacts else 0)

    a, b = pick_contacts(first.contacts, first.feet, around(first), CONTACTS_SHOWN)
    c, d = pick_contacts(latest.contacts, latest.feet, around(latest), b - a, first.feet[a] if b > a else None)
    count = min(b - a, d - c)
    if count < 2:
        raise NamingError(f"{athlete}'s first and latest sessions need two ground contacts each, on the same foot, "
                          "to be aligned")
    left, right = first.contacts[a:a + count], latest.contacts[c:c + count]
    pairs = aligned_frames(left, right, (first.fps, latest.fps), out_fps, slowmo)
    crops = (_crops(out_dir, first, left[0], left[-1], size), _crops(out_dir, latest, right[0], right[-1], size))
    return CompareResult(_write(out_dir, athlete, name, (first, latest), crops, pairs, out_fps, slowmo, size),
                         pairs, (left, right))


def _write(out_dir: str | Path, athlete: str, name: str, halves: tuple[Half, Half],
           crops: tuple[dict[int, np.ndarray], dict[int, np.ndarray]], pairs: list[tuple[int, int]],
           out_fps: float, slowmo: int, size: int) -> Path:
    path = compare_clip_file(out_dir, athlete, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    caption, title = CaptionAnnotator(font_scale=size / 500), Chips(font_scale=size / 700)
    blank = np.zeros((size, size, 3), np.uint8)
    labels = [_caption(h) for h in halves]
    cue = FAULTS[name].cue.replace("°", " deg")
    with H264Writer(path, out_fps) as out:
        for lf, rf in pairs:
            left = caption.annotate(_nearest(crops[0], lf, blank).copy(), labels[0])
            right = caption.annotate(_nearest(crops[1], rf, blank).copy(), labels[1])
            image = np.concatenate([left, right], axis=1)
            title.draw(image, f"{athlete}: {FAULTS[name].label}, first vs latest, {slowmo}x slower", 0, 0,
                       (0, 0, 0))
            out.write(_with_cue(image, cue, caption))
    return path


def _with_cue(image: np.ndarray, cue: str, caption: CaptionAnnotator) -> np.ndarray:
    """``image`` with a band above it holding the coach's cue."""
    band = np.zeros((max(24, image.shape[0] // 10), image.shape[1], 3), np.uint8)
    caption.annotate(band, cue)
    return np.concatenate([band, image])


def _nearest(crops: dict[int, np.ndarray], frame: int, blank: np.ndarray) -> np.ndarray:
    """The crop of ``frame``, or of the nearest earlier frame decoded (a lost frame), else ``blank``."""
    for f in range(frame, frame - 10, -1):
        if f in crops:
            return crops[f]
    return blank
