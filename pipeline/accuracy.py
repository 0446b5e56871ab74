"""Score the analysis against hand labels: runners found, contacts, cadence, slow motion.

The labels are the format of ``../shared/labels/footage_labels.json`` (see its README and
``labels/README.md``): per clip, ``contacts`` (initial contacts made by eye), ``people`` (per
continuous shot, how many distinct runners and non-runners are at least ~60 px tall) and
``slow_motion`` (whether, and by how much, the footage is slowed). One scorer serves the
benchmark (``benchmarks/accuracy.py``), the tests that pin the scores, and anyone checking a
change: a threshold tuned to one clip shows up as a loss on the others.

Metrics, per clip:

- people: ``runners_hand`` (labelled runners seen running at least 2 s: a shot's ``runners``
  less its ``runners_brief``), ``runners_found`` (ids called running whose frames lie mostly in
  a labelled shot, at most the hand count per shot; in a shot with brief runners only ids
  lasting at least 1.8 s count, a shorter one may be a brief runner), ``runner_recall``,
  ``false_runners`` (ids called running beyond the shot's ``runners``, brief ones included: a
  second id for one runner counts here too; and, where the labels mark a non-runner's position
  at a frame and the detections' boxes are given, every running id that is that person),
  ``ids_per_runner``, ``verdict_coverage`` (runners with at least
  ``MIN_VERDICTS`` measured fault values, over the hand count).
- contacts: for the track that matches the labels best (where several runners are labelled in
  one clip, the id whose box holds each one's mark, their figures pooled), greedy one-to-one
  matching within ``TOLERANCE_FRAMES``; ``contact_recall``, ``contact_precision``, ``median_offset_frames``
  (found minus labelled), ``same_foot_repeats`` (consecutive contacts of one foot, fraction),
  ``cadence_error`` (relative, both in video time; in real time on a clip whose labelled speed
  ramp slows only some of the labelled steps, where a video-time count mixes two speeds) and
  ``cadence_self_consistency`` (the reported cadence against the one its own contacts give).
- slow motion: ``slow_motion_flagged`` against the label, ``slow_motion_factor_error``, and
  ``slow_motion_range_iou``: the frames found slowed (``videos.slow_motion_ranges``) against the
  labelled ``ranges``, intersection over union (a speed ramp slows only the part after it).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: A found contact this many frames from a labelled one counts as that contact.
TOLERANCE_FRAMES = 2
#: A runner counts as measured with this many fault verdicts that have a value.
MIN_VERDICTS = 3
#: The issue's runners are on screen at least this long (seconds); shorter ones are ``runners_brief``.
MIN_SEEN_S = 2.0
#: In a shot with brief runners, an id lasting under this share of ``MIN_SEEN_S`` may be one of
#: them (a track starts and ends a few frames inside the runner's time at >= 60 px).
LONG_ID_FRACTION = 0.9


#: Label sections; ``camera_view`` is the view a clip's labelled contacts are seen from
#: ('side', 'front', 'back'), so contact figures can be pooled over side views, where the
#: issue's contact targets apply (from the front, contacts come from the hips' bounce).
SECTIONS = ("contacts", "people", "slow_motion", "camera_view")


def load_labels(paths: Iterable[str | Path]) -> dict[str, dict[str, Any]]:
    """Labels by clip file name: {clip: {'contacts': ..., 'people': ..., 'slow_motion': ...}}.

    Files later in ``paths`` add to (and, for the same clip and section, replace) earlier ones.
    A missing file is an error: a scorer that silently scores nothing proves nothing.
    """
    merged: dict[str, dict[str, Any]] = {}
    for path in paths:
        data = json.loads(Path(path).read_text())
        unknown = set(data) - set(SECTIONS)
        if unknown:
            raise ValueError(f"{path}: unknown label sections {sorted(unknown)}; expected {', '.join(SECTIONS)}")
        for section, clips in data.items():
            for clip, value in clips.items():
                merged.setdefault(clip, {})[section] = value
    return merged


@dataclass(frozen=True)
class ClipOutputs:
    """One video's analysis outputs, as the tables FormWatch writes (one video each)."""

    clip: str
    fps: float
    runners: pa.Table
    contacts: pa.Table
    deviations: pa.Table
    slow_motion_suspected: bool | None = None
    slow_motion_factor: float | None = None
    frames: tuple[int, int] | None = None  # [first, last] frame analysed, when not the whole clip
    slow_motion_ranges: list[list[int]] | None = None  # [first, last] frames found slowed
    #: the detections' boxes (``frame``, the tracker's ``track_id``, ``box_x1`` .. ``box_y2``), to
    #: find the ids of labelled non-runners marked at a frame (``at``); None: not checked
    boxes: pa.Table | None = None


#: The detections' columns ``ClipOutputs.boxes`` holds.
BOX_COLUMNS = ("frame", "track_id", "box_x1", "box_y1", "box_x2", "box_y2")


@dataclass
class ClipScore:
    clip: str
    metrics: dict[str, float | int | bool | None] = field(default_factory=dict)
    camera_view: str | None = None  # the labelled contacts' view, where labelled


def _in_ranges(frames: np.ndarray, ranges: list[list[int]]) -> np.ndarray:
    inside = np.zeros(len(frames), bool)
    for first, last in ranges:
        inside |= (frames >= first) & (frames <= last)
    return inside


def match_contacts(found: np.ndarray, labelled: np.ndarray, tolerance: int = TOLERANCE_FRAMES) -> list[tuple[int, int]]:
    """Greedy one-to-one pairs (i found, j labelled), closest first, within ``tolerance`` frames."""
    pairs = sorted(
        (abs(float(f) - float(lab)), i, j)
        for i, f in enumerate(found) for j, lab in enumerate(labelled) if abs(float(f) - float(lab)) <= tolerance
    )
    used_f, used_l, out = set(), set(), []
    for _, i, j in pairs:
        if i not in used_f and j not in used_l:
            used_f.add(i)
            used_l.add(j)
            out.append((i, j))
    return out


def cadence_from_frames(frames: np.ndarray, fps: float) -> float:
    """Steps/min in video time from sorted contact frames: steps over the time they span,
    intervals over 1.5 median steps (a gap, a cut) left out of both."""
    if len(frames) < 3:
        return float("nan")
    return _cadence_from_steps(np.diff(np.sort(frames)).astype(float), fps)


def _cadence_from_steps(steps: np.ndarray, fps: float) -> float:
    if len(steps) < 2:
        return float("nan")
    kept = steps[steps <= 1.5 * np.median(steps)]
    return float(60.0 * fps * len(kept) / kept.sum()) if kept.sum() > 0 else float("nan")


def real_time_cadence(frames: np.ndarray, fps: float, ranges: list[list[int]], factor: float) -> float:
    """Steps/min in real time from sorted contact frames of a clip slowed ``factor`` times over
    ``ranges`` ([first, last] frames) only, a speed ramp: a step within a slowed range lasts
    1/factor of its frames, one outside every range its frames, and one across a range's edge
    (slowed in part) is left out. NaN with under 2 such steps."""
    frames = np.sort(np.asarray(frames, float))
    slowed = [next((i for i, (a, b) in enumerate(ranges) if a <= f <= b), -1) for f in frames]
    steps = [(b - a) / (factor if r >= 0 else 1.0)
             for a, b, r, q in zip(frames[:-1], frames[1:], slowed[:-1], slowed[1:], strict=True) if r == q]
    return _cadence_from_steps(np.asarray(steps, float), fps)


def score_contacts(
    out: ClipOutputs, label: dict[str, Any], slow_motion: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Contact metrics for the track whose contacts match ``label`` best; ``slow_motion`` is the
    clip's slow-motion label, which says whether the cadence is compared in real time.

    A label of several runners (``runners``: each with its own ``frames_labelled``,
    ``unjudgeable_ranges`` and ``contacts``; a race seen with everyone in it) gives each runner
    the id whose box holds the point its ``mark`` (``{"frame", "x", "y"}``) puts on it, where the
    detections' boxes are given, else the track that matches it best, one track per runner (the
    pair with the most matches first), and pools them: contacts labelled, found and matched
    summed, the median offset over all the matches, same-foot repeats over all consecutive
    pairs, and the cadence error of the worst runner (``contact_runners``: how many runners
    were labelled)."""
    if "runners" not in label:
        return max(_track_contacts(out, label, slow_motion), key=_most_matched)["metrics"]
    per_runner = [_track_contacts(out, {**label, **runner}, slow_motion) for runner in label["runners"]]
    chosen: dict[int, dict[str, Any]] = {}
    taken: set[int] = set()
    # a runner marked at a frame is the id whose box holds the mark: in a race everyone steps at
    # about the same rate, and within the tolerance another runner's contacts match most of hers
    # (an id with no contacts at all scores as none found, not as another runner's track)
    everyone = out.runners.to_pylist()
    for i, runner in enumerate(label["runners"]):
        mark = next(iter(person_marks({"at": runner.get("mark"), "role": "runner"})), None)
        marked = None if mark is None else _id_at(out, everyone, int(mark["frame"]), float(mark["x"]), float(mark["y"]))
        if marked is not None:
            chosen[i] = next((c for c in per_runner[i] if c["metrics"].get("track_id") == marked), per_runner[i][0])
            taken.add(marked)
    candidates = sorted(((i, c) for i, scored in enumerate(per_runner) for c in scored),
                        key=lambda x: _most_matched(x[1]), reverse=True)
    for i, c in candidates:
        track_id = c["metrics"].get("track_id")
        if i in chosen or (track_id is not None and track_id in taken):
            continue
        chosen[i] = c
        if track_id is not None:
            taken.add(track_id)
    picked = [chosen[i] for i in range(len(per_runner))]
    labelled = sum(c["metrics"]["contacts_labelled"] for c in picked)
    found = sum(c["metrics"].get("contacts_found") or 0 for c in picked)
    matched = sum(c["matched"] for c in picked)
    offsets = [o for c in picked for o in c["offsets"]]
    repeats = [r for c in picked for r in c["repeats"]]
    errors = [c["metrics"].get("cadence_error") for c in picked]
    return {
        "contact_runners": len(picked),
        "contacts_labelled": labelled,
        "contacts_found": found,
        "contact_recall": matched / labelled if labelled else None,
        "contact_precision": matched / found if found else None,
        "median_offset_frames": float(np.median(offsets)) if offsets else None,
        "same_foot_repeats": float(np.mean(repeats)) if repeats else None,
        "cadence_error": max(errors) if errors and None not in errors else None,
    }


def _most_matched(scored: dict[str, Any]) -> tuple[int, bool]:
    """Sort key of :func:`_track_contacts` entries: the most matches, a track before none."""
    return scored["matched"], "track_id" in scored["metrics"]


def _track_contacts(
    out: ClipOutputs, label: dict[str, Any], slow_motion: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """One runner's labelled contacts against every track's: per track, its ``metrics``, how many
    contacts it ``matched``, the ``offsets`` (found minus labelled) and ``repeats`` (whether each
    consecutive pair of its contacts is the same foot). A first entry with no track and no match
    stands for none found."""
    first, last = label["frames_labelled"]
    if out.frames is not None:  # only part of the clip was analysed
        first, last = max(first, out.frames[0]), min(last, out.frames[1])
    skip = label.get("unjudgeable_ranges", [])
    truth = np.array([c["frame"] for c in label["contacts"]], float)
    truth = truth[~_in_ranges(truth, skip) & (truth >= first) & (truth <= last)]
    scored: list[dict[str, Any]] = [{
        "matched": 0, "offsets": [], "repeats": [],
        "metrics": {"contact_recall": 0.0, "contact_precision": None, "contacts_labelled": len(truth)},
    }]
    contacts = out.contacts
    # track_id is a non-null key column of the contacts and runners tables.
    track_ids = cast("list[int]", pc.unique(contacts["track_id"]).to_pylist()) if contacts.num_rows else []
    for track_id in track_ids:
        rows = contacts.filter(pc.equal(contacts["track_id"], pa.scalar(track_id))).sort_by("frame")
        frames = np.asarray(rows["frame"].to_pylist(), float)
        feet = np.asarray(rows["foot"].to_pylist())
        keep = (frames >= first) & (frames <= last) & ~_in_ranges(frames, skip)
        frames, feet = frames[keep], feet[keep]
        pairs = match_contacts(frames, truth)
        offsets = [float(frames[i] - truth[j]) for i, j in pairs]
        repeats = [bool(r) for r in feet[1:] == feet[:-1]]
        scored.append({
            "matched": len(pairs), "offsets": offsets, "repeats": repeats,
            "metrics": {
                "track_id": int(track_id),
                "contacts_labelled": len(truth),
                "contacts_found": len(frames),
                "contact_recall": len(pairs) / len(truth) if len(truth) else None,
                "contact_precision": len(pairs) / len(frames) if len(frames) else None,
                "median_offset_frames": float(np.median(offsets)) if offsets else None,
                "same_foot_repeats": float(np.mean(repeats)) if repeats else None,
                **_cadence_metrics(out, int(track_id), frames, truth, _speed_ramp(truth, slow_motion)),
            },
        })
    return scored


def _speed_ramp(truth: np.ndarray, slow_motion: dict[str, Any] | None) -> tuple[list[list[int]], float] | None:
    """The labelled slowed ranges and factor where they slow only some of the labelled contacts
    (a speed ramp), else None."""
    if not (slow_motion and slow_motion.get("slowed") and slow_motion.get("ranges") and slow_motion.get("factor")):
        return None
    inside = _in_ranges(truth, slow_motion["ranges"])
    return (slow_motion["ranges"], float(slow_motion["factor"])) if inside.any() and not inside.all() else None


def _cadence_metrics(out: ClipOutputs, track_id: int, frames: np.ndarray, truth: np.ndarray,
                     ramp: tuple[list[list[int]], float] | None = None) -> dict[str, Any]:
    """The reported cadence against the hand count, in the clip's own (video) time, or in real
    time where a speed ramp slows only some of the labelled steps (``ramp``: the labelled
    ranges and factor), since a video-time count then mixes two speeds."""
    runner = out.runners.filter(pc.equal(out.runners["track_id"], pa.scalar(track_id)))
    if not runner.num_rows:
        return {}
    reported = runner["cadence_spm"][0].as_py()
    fps_used = runner["fps_used"][0].as_py()
    hand = cadence_from_frames(truth, out.fps)
    own = cadence_from_frames(frames, out.fps)
    if reported is None:
        return {"cadence_hand_spm": _f(hand), "cadence_error": None}
    video_time = reported * out.fps / fps_used  # the runner's cadence in the clip's own time
    compared, truth_cadence = video_time, hand
    if ramp is not None:
        compared, truth_cadence = reported, real_time_cadence(truth, out.fps, *ramp)
    return {
        "cadence_hand_spm": _f(hand),
        "cadence_video_spm": _f(video_time),
        **({"cadence_hand_real_time_spm": _f(truth_cadence)} if ramp is not None else {}),
        "cadence_error": _f(abs(compared - truth_cadence) / truth_cadence) if math.isfinite(truth_cadence) else None,
        "cadence_self_consistency": _f(abs(video_time - own) / own) if math.isfinite(own) and own else None,
    }


def _f(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _measured_verdicts(deviations: pa.Table) -> dict[int, int]:
    counts: dict[int, int] = {}
    if not deviations.num_rows:
        return counts
    valued = deviations.filter(pc.is_valid(deviations["value"]))
    for track_id in cast("list[int]", valued["track_id"].to_pylist()):  # a non-null key column
        counts[track_id] = counts.get(track_id, 0) + 1
    return counts


def person_marks(person: dict[str, Any]) -> list[dict[str, Any]]:
    """The points the labels mark on a person (``people[].at``: one ``{"frame", "x", "y"}`` in
    the clip's pixels, or a list of them); ValueError for a mark without its three fields."""
    at = person.get("at")
    marks = at if isinstance(at, list) else [at] if at else []
    for mark in marks:
        if not isinstance(mark, dict) or set(mark) != {"frame", "x", "y"}:
            raise ValueError(f"a label's mark must be {{'frame', 'x', 'y'}}, got {mark!r} on {person.get('role')!r}")
    return marks


def marked_non_runners(out: ClipOutputs, runners: list[dict[str, Any]], shot: dict[str, Any]) -> set[int]:
    """Running ids that are a labelled non-runner: the id's box holds a point the labels mark on
    that person (:func:`person_marks`) at its frame; of several boxes holding it, the one whose
    centre is nearest. Empty without ``out.boxes``. Counting ids against a shot's hand count
    alone, an official called running hides behind a missed runner; marked, he is a false
    runner whatever the count."""
    marks = [(int(m["frame"]), float(m["x"]), float(m["y"]))
             for person in shot.get("people", ()) if person.get("role") != "runner" for m in person_marks(person)]
    if out.boxes is None or not marks or not runners:
        return set()
    named = {_id_at(out, runners, *mark) for mark in marks}
    return {track_id for track_id in named if track_id is not None}


def _id_at(out: ClipOutputs, runners: list[dict[str, Any]], frame: int, x: float, y: float) -> int | None:
    """The id among ``runners`` (rows of the runners table) whose box holds the point (x, y) at
    ``frame``; of several, the one whose box centre is nearest; None where no box of theirs holds
    it or ``out.boxes`` is not given."""
    if out.boxes is None:
        return None
    runner_of = {int(raw): int(r["track_id"])
                 for r in runners for raw in (r.get("source_track_ids") or [r["track_id"]])}
    boxes = out.boxes.filter(pc.equal(pc.field("frame"), pa.scalar(frame, out.boxes["frame"].type))).to_pylist()
    holding = [
        (((b["box_x1"] + b["box_x2"]) / 2 - x) ** 2 + ((b["box_y1"] + b["box_y2"]) / 2 - y) ** 2, b["track_id"])
        for b in boxes
        if b["box_x1"] <= x <= b["box_x2"] and b["box_y1"] <= y <= b["box_y2"]
    ]
    nearest = min(holding)[1] if holding else None
    return runner_of.get(nearest) if nearest is not None else None


def score_people(out: ClipOutputs, label: dict[str, Any]) -> dict[str, Any]:
    """Runner recall, false runners, ids per runner and verdict coverage over labelled shots."""
    runners = out.runners.filter(pc.field("is_runner")) if out.runners.num_rows else out.runners
    verdicts = _measured_verdicts(out.deviations)
    hand = found = false = ids = measured = runners_all = 0
    for shot in label["shots"]:
        first, last = shot["frames"]
        in_shot = [
            r for r in runners.to_pylist()
            if max(0, min(r["last_frame"], last) - max(r["first_frame"], first) + 1)
            > 0.5 * (r["last_frame"] - r["first_frame"] + 1)
        ]
        named = marked_non_runners(out, in_shot, shot)  # false whatever the count
        false += len(named)
        in_shot = [r for r in in_shot if r["track_id"] not in named]
        n_all = int(shot["runners"])  # a runner seen running under 2 s may or may not be found
        brief = int(shot.get("runners_brief", 0))
        n_hand = n_all - brief
        hand += n_hand
        ids += len(in_shot)
        runners_all += n_all
        # where brief runners were counted, an id too short to be a 2 s runner may be one of
        # them: it counts neither as found nor (within the shot's count) as false
        counted = [r for r in in_shot if not brief
                   or (r["last_frame"] - r["first_frame"] + 1) / out.fps >= LONG_ID_FRACTION * MIN_SEEN_S]
        found += min(len(counted), n_hand)
        false += max(0, len(in_shot) - n_all)
        with_verdicts = sum(verdicts.get(r["track_id"], 0) >= MIN_VERDICTS for r in counted)
        measured += min(with_verdicts, n_hand)
    return {
        "runners_hand": hand,
        "runners_found": found,
        "runner_recall": found / hand if hand else None,
        "false_runners": false,
        "ids_per_runner": ids / runners_all if runners_all else None,
        "verdict_coverage": measured / hand if hand else None,
    }


def score_slow_motion(out: ClipOutputs, label: dict[str, Any]) -> dict[str, Any]:
    slowed = bool(label.get("slowed"))
    factor = label.get("factor")
    result: dict[str, Any] = {
        "slow_motion_true": slowed,
        "slow_motion_flagged": out.slow_motion_suspected,
        "slow_motion_correct": None if out.slow_motion_suspected is None else out.slow_motion_suspected == slowed,
    }
    if slowed and factor and out.slow_motion_factor:
        result["slow_motion_factor"] = out.slow_motion_factor
        result["slow_motion_factor_error"] = abs(out.slow_motion_factor - factor) / factor
    if slowed and label.get("ranges") and out.slow_motion_suspected and out.slow_motion_ranges is not None:
        result["slow_motion_range_iou"] = range_iou(out.slow_motion_ranges, label["ranges"])
    return result


def range_iou(found: list[list[int]], labelled: list[list[int]]) -> float:
    """Frames in both sets of [first, last] ranges over frames in either (0 when both are empty)."""
    def frames(ranges: list[list[int]]) -> set[int]:
        return {f for first, last in ranges for f in range(int(first), int(last) + 1)}

    a, b = frames(found), frames(labelled)
    return len(a & b) / len(a | b) if a | b else 0.0


def score_clip(out: ClipOutputs, labels: dict[str, Any]) -> ClipScore:
    """Every metric the clip's labels support."""
    score = ClipScore(out.clip)
    if "people" in labels:
        score.metrics.update(score_people(out, labels["people"]))
    if "contacts" in labels:
        score.metrics.update(score_contacts(out, labels["contacts"], labels.get("slow_motion")))
    if "slow_motion" in labels:
        score.metrics.update(score_slow_motion(out, labels["slow_motion"]))
    score.camera_view = labels.get("camera_view")
    return score


#: Columns of the summary table, in order, with their headings.
TABLE_COLUMNS = (
    ("runners_hand", "runners"), ("runners_found", "found"), ("false_runners", "false"),
    ("ids_per_runner", "ids/runner"), ("verdict_coverage", "≥3 verdicts"),
    ("contacts_labelled", "contacts"), ("contact_recall", "recall ±2"), ("contact_precision", "precision"),
    ("median_offset_frames", "offset"), ("same_foot_repeats", "same foot"), ("cadence_error", "cadence err"),
    ("slow_motion_true", "slow-mo"), ("slow_motion_flagged", "flagged"), ("slow_motion_factor_error", "factor err"),
    ("slow_motion_range_iou", "slowed part IoU"),
)


def markdown_table(scores: list[ClipScore]) -> str:
    """The per-clip scores as a Markdown table (blank where the clip has no such label)."""
    head = "| clip | " + " | ".join(h for _, h in TABLE_COLUMNS) + " |"
    rule = "|---|" + "---|" * len(TABLE_COLUMNS)
    lines = [head, rule]
    for s in scores:
        cells = [_cell(s.metrics.get(k)) for k, _ in TABLE_COLUMNS]
        lines.append(f"| {s.clip} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _matched(metrics: list[dict[str, Any]]) -> float:
    return sum((x.get("contact_recall") or 0) * (x.get("contacts_labelled") or 0) for x in metrics)


def _side_contacts(side: list[dict[str, Any]]) -> dict[str, float | None]:
    """Contact recall and precision pooled over the side-view clips (the issue's contact targets)."""
    labelled = sum(x.get("contacts_labelled") or 0 for x in side)
    found = sum(x.get("contacts_found") or 0 for x in side)
    matched = _matched(side)
    return {"side_contact_recall": matched / labelled if labelled else None,
            "side_contact_precision": matched / found if found else None}


def totals(scores: list[ClipScore]) -> dict[str, float | int | None]:
    """Pooled figures over clips: recall and precision over all runners and contacts."""
    m = [s.metrics for s in scores]

    def total(key: str) -> int:
        return int(sum(x.get(key) or 0 for x in m))

    matched = _matched(m)
    found = total("contacts_found")
    hand = total("runners_hand")
    slow = [x for x in m if x.get("slow_motion_true") is not None]
    return {
        "runners_hand": hand,
        "runners_found": total("runners_found"),
        "runner_recall": total("runners_found") / hand if hand else None,
        "false_runners": total("false_runners"),
        "verdict_coverage": sum((x.get("verdict_coverage") or 0) * (x.get("runners_hand") or 0) for x in m) / hand
        if hand else None,
        "contact_recall": matched / total("contacts_labelled") if total("contacts_labelled") else None,
        "contact_precision": matched / found if found else None,
        **_side_contacts([s.metrics for s in scores if s.camera_view == "side"]),
        "slow_motion_correct": sum(bool(x.get("slow_motion_correct")) for x in slow),
        "slow_motion_clips": len(slow),
    }


def hide_track(detections: pa.Table, track_id: int, start: int, stop: int, new_id: int) -> pa.Table:
    """``detections`` with ``track_id`` unseen in frames [start, stop) and under ``new_id`` after
    them, as a tracker loses someone hidden behind others: whether stitching joins the two
    fragments again is a check with a known answer (``benchmarks/stitch_rejoin.py``, the tests)."""
    frame = detections.column("frame").to_numpy()
    ids = detections.column("track_id").to_numpy().copy()
    mine = ids == track_id
    ids[mine & (frame >= stop)] = new_id
    keep = ~(mine & (frame >= start) & (frame < stop))
    table = detections.set_column(detections.schema.get_field_index("track_id"), "track_id", pa.array(ids))
    return table.filter(pa.array(keep))
