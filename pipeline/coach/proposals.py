"""FormWatch's own guess at who a runner is: a runner who looks like a named runner of the same night.

Each runner is described by its clothing colours (the mean of ``detections.appearance``: two
12-bin histograms, upper body and thighs) and a body proportion (torso length over leg length,
median over frames; unlike sizes it does not depend on the distance to the camera). The
distance between two runners is the mean total-variation distance of their colour histograms
(0 same colours, 1 none shared) plus the relative difference of their proportions. A runner of a
video that has no name yet, filmed within ``same_night_h`` of a video with a confirmed name, is proposed
as the nearest named athlete when that distance is within ``proposal_max_distance``; in one
video an athlete is proposed for one runner at most, the nearest. Only the named videos of the nights
that have such videos are read, so a year of named sessions costs nothing on a quiet night. A proposal is stored as
``source = 'proposal'``, ``confirmed = False``: shown for the user to confirm, never counted.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from pipeline.appearance import BINS
from pipeline.coach.names import Key, Runner, active_names, read_names
from pipeline.coach.sessions import session_dates
from pipeline.coach.settings import AthleteSettings
from pipeline.coach.sources import as_runner, video_people
from pipeline.outputs import dataset_file

_TORSO = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
_LEG = ("hip", "knee", "ankle")


def runner_features(out_dir: str | Path, video_id: str, track_ids: list[int]) -> dict[int, np.ndarray]:
    """track_id -> (2 * BINS + 1,) features: mean colour histograms (NaN where never seen), then
    torso length / leg length (dimensionless; NaN when never measured)."""
    path = dataset_file(out_dir, "detections", video_id)
    if not path.is_file():
        return {}
    points = dict.fromkeys([*_TORSO, *(f"{s}_{j}" for s in ("left", "right") for j in _LEG)])
    columns = ["runner_id", "appearance"] + [f"{k}_{a}" for k in points for a in "xy"]
    table = pq.read_table(path, columns=columns,
                          filters=[("runner_id", "in", track_ids)])
    ids = table.column("runner_id").to_numpy()
    colours = np.array([a if a is not None else [np.nan] * 2 * BINS for a in table.column("appearance").to_pylist()],
                       dtype=float).reshape(-1, 2 * BINS)
    ratio = _torso_over_leg({c: table.column(c).to_numpy(zero_copy_only=False).astype(float) for c in columns[2:]})
    features = {}
    for track_id in track_ids:
        mine = ids == track_id
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)  # a histogram or proportion never seen: NaN
            mean = np.nanmean(colours[mine], axis=0) if mine.any() else np.full(2 * BINS, np.nan)
            proportion = np.nanmedian(ratio[mine]) if mine.any() and np.isfinite(ratio[mine]).any() else np.nan
        features[track_id] = np.append(mean, proportion)
    return features


def _torso_over_leg(c: dict[str, np.ndarray]) -> np.ndarray:
    """Per frame: mid-shoulder to mid-hip over the mean of hip->knee->ankle of both legs (px / px)."""
    def point(name: str) -> np.ndarray:
        return np.stack([c[f"{name}_x"], c[f"{name}_y"]], axis=1)

    def mid(a: str, b: str) -> np.ndarray:
        return (point(a) + point(b)) / 2

    torso = np.linalg.norm(mid("left_shoulder", "right_shoulder") - mid("left_hip", "right_hip"), axis=1)
    legs = [np.linalg.norm(point(f"{s}_hip") - point(f"{s}_knee"), axis=1)
            + np.linalg.norm(point(f"{s}_knee") - point(f"{s}_ankle"), axis=1) for s in ("left", "right")]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # no leg seen in a frame: NaN
        return torso / np.nanmean(np.stack(legs), axis=0)


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Colour distance (mean total variation of the histograms both show) plus relative proportion
    difference; inf when the two share no measured histogram."""
    parts = []
    for start in (0, BINS):
        x, y = a[start:start + BINS], b[start:start + BINS]
        if np.isfinite(x).all() and np.isfinite(y).all():
            parts.append(0.5 * float(np.abs(x - y).sum()))
    if not parts:
        return float("inf")
    colour = float(np.mean(parts))
    ra, rb = a[-1], b[-1]
    proportion = abs(ra - rb) / ((ra + rb) / 2) if np.isfinite(ra) and np.isfinite(rb) and ra + rb > 0 else 0.0
    return colour + float(proportion)


def propose(out_dir: str | Path, settings: AthleteSettings,
            video_rows: dict[str, dict]) -> list[tuple[Runner, str, str, float | None]]:
    """Proposals ``(runner, athlete, 'proposal', distance)`` for unnamed runners of the same night as a
    confirmed named runner (see the module's docstring)."""
    names = active_names(read_names(out_dir))
    named = {k: r["athlete"] for k, r in names.items() if r["confirmed"] and k[0] in video_rows}
    if not named:
        return []
    dates = session_dates(out_dir, video_rows)
    night_s = settings.same_night_h * 3600
    named_videos = {k[0] for k in named}

    def near(a: str, b: str) -> bool:
        return a != b and abs((dates[a][0] - dates[b][0]).total_seconds()) <= night_s

    candidates = [v for v in video_rows if v not in {k[0] for k in names} and any(near(v, n) for n in named_videos)]
    needed = {n for n in named_videos if any(near(v, n) for v in candidates)}  # only the nights with candidates
    features: dict[Key, np.ndarray] = {}
    for video_id in needed:
        features |= {(video_id, t): f for t, f in runner_features(
            out_dir, video_id, [k[1] for k in named if k[0] == video_id]).items()}
    proposals = []
    for video_id in candidates:
        proposals += _propose_in(out_dir, video_id, named, features, dates, night_s, settings.proposal_max_distance)
    return proposals


def _propose_in(out_dir: str | Path, video_id: str, named: dict[Key, str], features: dict[Key, np.ndarray],
                dates: dict, night_s: float, max_distance: float) -> list[tuple[Runner, str, str, float | None]]:
    """The proposals of one unnamed video: per athlete, its nearest runner there, if near enough."""
    people = {p["track_id"]: p for p in video_people(out_dir, video_id) if p["is_runner"]}
    if not people:
        return []
    mine = runner_features(out_dir, video_id, list(people))
    best: dict[str, tuple[float, int]] = {}
    for (other_video, other_track), athlete in named.items():
        apart_s = abs((dates[video_id][0] - dates[other_video][0]).total_seconds())
        if (other_video, other_track) not in features or apart_s > night_s:
            continue
        for track_id, feature in mine.items():
            d = distance(feature, features[(other_video, other_track)])
            if d <= max_distance and d < best.get(athlete, (np.inf, 0))[0]:
                best[athlete] = (d, track_id)
    taken: dict[int, tuple[float, str]] = {}  # a runner gets the nearest athlete only
    for athlete, (d, track_id) in best.items():
        if track_id not in taken or d < taken[track_id][0]:
            taken[track_id] = (d, athlete)
    return [(as_runner(video_id, people[t]), athlete, "proposal", round(d, 4)) for t, (d, athlete) in taken.items()]
