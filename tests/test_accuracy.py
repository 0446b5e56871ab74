"""The scorer itself, on tables whose scores are known."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from pipeline.accuracy import (
    ClipOutputs,
    cadence_from_frames,
    load_labels,
    markdown_table,
    match_contacts,
    person_marks,
    real_time_cadence,
    score_clip,
    totals,
)


def test_contacts_match_one_to_one_closest_first() -> None:
    pairs = match_contacts(np.array([10.0, 11.0, 30.0]), np.array([11.0, 20.0, 32.0]))
    assert sorted(pairs) == [(1, 0), (2, 2)]  # 10 and 11 both near 11: the closer one takes it


def test_cadence_from_frames_leaves_gaps_out() -> None:
    frames = np.array([0, 10, 20, 30, 70, 80, 90])  # a 40-frame gap: the runner hidden
    assert cadence_from_frames(frames, 30.0) == pytest.approx(180.0)


def test_across_a_speed_ramp_the_cadence_is_counted_in_real_time() -> None:
    """Steps of 10 frames in real time, then 35 frames slowed 3.5x: 180 steps/min throughout;
    the step across the ramp's edge is slowed in part and left out."""
    frames = np.array([0, 10, 20, 55, 90, 125])
    assert real_time_cadence(frames, 30.0, [[30, 200]], 3.5) == pytest.approx(180.0)
    assert cadence_from_frames(frames, 30.0) < 100.0  # counted in video time it mixes the two speeds


def test_a_speed_ramp_s_clip_scores_its_cadence_in_real_time() -> None:
    """The runner's 180 steps/min (real time) against the hand count across the ramp: no error,
    where a video-time comparison would mix 10- and 35-frame steps."""
    contacts = [(1, f, foot) for f, foot in zip((0, 10, 20, 55, 90, 125), ("left", "right") * 3, strict=True)]
    out = _outputs(contacts, [{"last_frame": 130, "fps_used": 105.0}], [])
    labelled = [{"frame": f, "foot": foot} for _, f, foot in contacts]
    label = {"contacts": {"frames_labelled": [0, 130], "contacts": labelled},
             "slow_motion": {"slowed": True, "factor": 3.5, "ranges": [[30, 130]]}}
    metrics = score_clip(out, label).metrics
    assert metrics["cadence_hand_real_time_spm"] == pytest.approx(180.0)
    assert metrics["cadence_error"] == pytest.approx(0.0, abs=1e-9)
    uniform = {**label, "slow_motion": {"slowed": True, "factor": 3.5, "ranges": [[0, 130]]}}
    assert "cadence_hand_real_time_spm" not in score_clip(out, uniform).metrics  # no ramp: video time


def test_each_labelled_runner_of_a_race_gets_its_own_track() -> None:
    """Two runners labelled in one clip: each is scored against the track matching it best, never
    the same track twice, and the figures pool over both. Track 1 steps every 10 frames from 10,
    track 2 every 6 from 5 (one contact misread at 29); runner A is track 2, runner B track 1
    but labelled only up to frame 40."""
    feet_1, feet_2 = ("left", "right", "left", "right", "left"), ("left", "right", "left", "right", "right")
    contacts = ([(1, f, foot) for f, foot in zip((10, 20, 30, 40, 50), feet_1, strict=True)]
                + [(2, f, foot) for f, foot in zip((5, 11, 17, 23, 29), feet_2, strict=True)])
    out = _outputs(contacts, [{"track_id": 1, "cadence_spm": 180.0}, {"track_id": 2, "cadence_spm": 300.0}], [])
    runner_a = {"frames_labelled": [0, 30], "contacts": [{"frame": f, "foot": "left"} for f in (5, 11, 17, 23, 29)]}
    runner_b = {"frames_labelled": [0, 40], "contacts": [{"frame": f, "foot": "left"} for f in (10, 20, 30, 40)]}
    # runner A also matches two of track 1's contacts (11, 29), runner B none of track 2's
    m = score_clip(out, {"contacts": {"runners": [runner_a, runner_b]}}).metrics
    assert m["contact_runners"] == 2
    assert m["contacts_labelled"] == 9 and m["contacts_found"] == 9  # 5 of track 2, 4 of track 1 in range
    assert m["contact_recall"] == pytest.approx(1.0) and m["contact_precision"] == pytest.approx(1.0)
    assert m["same_foot_repeats"] == pytest.approx(1 / 7)  # track 2's right, right of 7 consecutive pairs
    assert m["cadence_error"] == pytest.approx(0.0, abs=1e-9)  # both runners' cadences are their hand counts
    single = score_clip(out, {"contacts": runner_b}).metrics
    assert single["track_id"] == 1 and single["contact_recall"] == pytest.approx(1.0)


def test_a_marked_runner_is_the_id_whose_box_holds_the_mark() -> None:
    """In a race everyone steps at about the same rate, and within 2 frames another runner's
    contacts match most of hers: the runner marked at a frame is scored on the id whose box
    holds the mark there, though another track matches her contacts better."""
    contacts = ([(1, f, "left") for f in (10, 16, 22, 28)] + [(2, f, "left") for f in (12, 18, 25, 31)])
    out = _outputs(contacts, [{"track_id": 1, "source_track_ids": [1]}, {"track_id": 2, "source_track_ids": [7]}], [])
    boxes = pa.Table.from_pylist([
        {"frame": 20, "track_id": 1, "box_x1": 0.0, "box_y1": 0.0, "box_x2": 50.0, "box_y2": 100.0},
        {"frame": 20, "track_id": 7, "box_x1": 40.0, "box_y1": 0.0, "box_x2": 120.0, "box_y2": 100.0},
    ])
    runner = {"frames_labelled": [0, 40], "contacts": [{"frame": f, "foot": "left"} for f in (10, 16, 22, 28)]}
    unmarked = score_clip(replace(out, boxes=boxes), {"contacts": {"runners": [runner]}}).metrics
    assert unmarked["contact_recall"] == pytest.approx(1.0)  # track 1 matches all four
    marked = {**runner, "mark": {"frame": 20, "x": 70.0, "y": 50.0}}  # in the box of track 7, now track 2
    m = score_clip(replace(out, boxes=boxes), {"contacts": {"runners": [marked]}}).metrics
    assert m["contact_recall"] == pytest.approx(2 / 4)  # 12 and 18 are within 2 frames of 10 and 16; 25, 31 are not
    assert m["median_offset_frames"] == pytest.approx(2.0)
    # marked on an id with no contacts at all: none found, not another runner's track
    quiet = replace(out, contacts=out.contacts.filter(pc.field("track_id") == 1))
    m = score_clip(replace(quiet, boxes=boxes), {"contacts": {"runners": [marked]}}).metrics
    assert m["contact_recall"] == 0.0 and m["contacts_found"] == 0
    with pytest.raises(ValueError, match="mark must be"):
        score_clip(replace(out, boxes=boxes), {"contacts": {"runners": [{**runner, "mark": {"frame": 20, "x": 1.0}}]}})


def _outputs(contacts: list[tuple[int, int, str]], runners: list[dict], deviations: list[dict],
             slow: bool = False, factor: float | None = None) -> ClipOutputs:
    runner_rows = [{"track_id": 1, "is_runner": True, "first_frame": 0, "last_frame": 99, "cadence_spm": 180.0,
                    "fps_used": 30.0, **r} for r in runners]
    return ClipOutputs(
        "clip.mp4", 30.0,
        runners=pa.Table.from_pylist(runner_rows),
        contacts=pa.Table.from_pylist([{"track_id": t, "frame": f, "foot": foot} for t, f, foot in contacts]),
        deviations=pa.Table.from_pylist(deviations or [{"track_id": 0, "value": None}]),
        slow_motion_suspected=slow, slow_motion_factor=factor,
    )


LABEL = {
    "contacts": {"frames_labelled": [0, 99], "unjudgeable_ranges": [[90, 99]],
                 "contacts": [{"frame": f, "foot": "left"} for f in (10, 20, 30, 40, 95)]},
    "people": {"shots": [{"frames": [0, 99], "runners": 2, "non_runners": 1}]},
    "slow_motion": {"slowed": True, "factor": 4.0},
}


def test_a_clip_scores_what_its_labels_support() -> None:
    out = _outputs(
        contacts=[(1, 11, "left"), (1, 19, "right"), (1, 27, "left"), (1, 40, "left"), (1, 96, "left")],
        runners=[{"track_id": 1}, {"track_id": 2, "first_frame": 50, "last_frame": 99},
                 {"track_id": 3, "first_frame": 0, "last_frame": 80}],
        deviations=[{"track_id": 1, "value": 1.0}] * 3 + [{"track_id": 2, "value": 1.0}],
        slow=True, factor=5.0,
    )
    m = score_clip(out, LABEL).metrics
    assert m["contacts_labelled"] == 4  # 95 lies in an unjudgeable range
    assert m["contacts_found"] == 4  # and so does the found 96
    assert m["contact_recall"] == pytest.approx(3 / 4) and m["contact_precision"] == pytest.approx(3 / 4)
    assert m["same_foot_repeats"] == pytest.approx(1 / 3)  # left, right, left, left
    assert (m["runners_hand"], m["runners_found"], m["false_runners"]) == (2, 2, 1)
    assert m["verdict_coverage"] == pytest.approx(1 / 2)  # only runner 1 has 3 measured verdicts
    assert m["slow_motion_correct"] is True and m["slow_motion_factor_error"] == pytest.approx(0.25)
    table = markdown_table([score_clip(out, LABEL)])
    assert "| clip.mp4 |" in table
    assert totals([score_clip(out, LABEL)])["runner_recall"] == 1.0


def test_contacts_are_also_pooled_over_side_views() -> None:
    """The contact targets are for side views: a front-view clip's contacts (from the hips'
    bounce) count in the overall figures and not in the side-view ones."""
    side = _outputs([(1, 10, "left"), (1, 20, "right"), (1, 30, "left"), (1, 40, "right")], [{}], [])
    front = _outputs([(1, 15, "left"), (1, 25, "right"), (1, 35, "left"), (1, 45, "right")], [{}], [])
    contacts = {"contacts": LABEL["contacts"]}
    scores = [score_clip(side, {**contacts, "camera_view": "side"}),
              score_clip(front, {**contacts, "camera_view": "front"})]
    pooled = totals(scores)
    assert (pooled["contact_recall"], pooled["contact_precision"]) == (0.5, 0.5)
    assert (pooled["side_contact_recall"], pooled["side_contact_precision"]) == (1.0, 1.0)


def test_where_brief_runners_were_counted_only_long_ids_are_found() -> None:
    """3 runners, 2 of them seen under 2 s: one 3-s id is the runner found; the two 0.7-s ids
    may be the brief ones (neither found nor false), and their verdicts do not count."""
    out = _outputs(contacts=[], runners=[{"track_id": 1, "first_frame": 0, "last_frame": 89},
                                         {"track_id": 2, "first_frame": 0, "last_frame": 19},
                                         {"track_id": 3, "first_frame": 50, "last_frame": 69}],
                   deviations=[{"track_id": 2, "value": 1.0}] * 3)
    label = {"people": {"shots": [{"frames": [0, 99], "runners": 3, "runners_brief": 2, "non_runners": 0}]}}
    m = score_clip(out, label).metrics
    assert (m["runners_hand"], m["runners_found"], m["false_runners"]) == (1, 1, 0)
    assert m["verdict_coverage"] == 0.0


def test_a_marked_non_runner_called_running_is_false_whatever_the_count() -> None:
    """2 runners labelled, one missed; the official marked at (60, 200) on frame 30 is called
    running (tracker ids 7 and 8 stitched into runner 7). Counted against the shot's 2 he would
    pass as the second runner found; marked, he is a false runner and only one runner is found.
    A box merely near the mark is no match, and without boxes the count alone decides."""
    shot = {"frames": [0, 99], "runners": 2, "non_runners": 1,
            "people": [{"role": "official", "at": {"frame": 30, "x": 60.0, "y": 200.0}}]}
    runners = [{"track_id": 1, "source_track_ids": [1]}, {"track_id": 7, "source_track_ids": [7, 8]}]
    boxes = pa.Table.from_pylist([
        {"frame": 30, "track_id": 1, "box_x1": 200.0, "box_y1": 50.0, "box_x2": 240.0, "box_y2": 150.0},
        {"frame": 30, "track_id": 8, "box_x1": 40.0, "box_y1": 150.0, "box_x2": 80.0, "box_y2": 260.0},
        {"frame": 31, "track_id": 1, "box_x1": 50.0, "box_y1": 150.0, "box_x2": 90.0, "box_y2": 260.0},
    ])
    out = _outputs(contacts=[], runners=runners, deviations=[])
    label = {"people": {"shots": [shot]}}
    counted = score_clip(out, label).metrics
    assert (counted["runners_found"], counted["false_runners"]) == (2, 0)
    marked = score_clip(replace(out, boxes=boxes), label).metrics
    assert (marked["runners_found"], marked["false_runners"]) == (1, 1)
    elsewhere = {"people": {"shots": [{**shot, "people": [{"role": "official", "at": {"frame": 30, "x": 150.0,
                                                                                      "y": 100.0}}]}]}}
    assert score_clip(replace(out, boxes=boxes), elsewhere).metrics["false_runners"] == 0


def test_a_mark_without_its_frame_x_and_y_is_a_clear_error() -> None:
    assert person_marks({"role": "official"}) == []
    assert person_marks({"role": "official", "at": {"frame": 3, "x": 1, "y": 2}}) == [{"frame": 3, "x": 1, "y": 2}]
    with pytest.raises(ValueError, match="must be"):
        person_marks({"role": "official", "at": {"frame": 3, "x": 1}})


def test_labels_merge_by_clip_and_unknown_sections_fail(tmp_path) -> None:
    a, b, bad = tmp_path / "a.json", tmp_path / "b.json", tmp_path / "bad.json"
    a.write_text(json.dumps({"contacts": {"x.mp4": {"n": 1}}}))
    b.write_text(json.dumps({"people": {"x.mp4": {"shots": []}}, "contacts": {"y.mp4": {"n": 2}}}))
    bad.write_text(json.dumps({"contact": {}}))
    merged = load_labels([a, b])
    assert set(merged) == {"x.mp4", "y.mp4"} and set(merged["x.mp4"]) == {"contacts", "people"}
    with pytest.raises(ValueError, match="unknown label sections"):
        load_labels([bad])


def test_the_repository_labels_are_well_formed() -> None:
    from pathlib import Path

    labels = load_labels([Path(__file__).resolve().parents[1] / "labels" / "footage_labels.json"])
    for clip, sections in labels.items():
        if "contacts" in sections:
            for c in sections["contacts"].get("runners", [sections["contacts"]]):  # one runner, or a race's
                frames = [x["frame"] for x in c["contacts"]]
                assert frames == sorted(frames) and c["frames_labelled"][0] <= frames[0], clip
                assert all(x["foot"] in ("left", "right") for x in c["contacts"]), clip
                assert set(c.get("mark", {"frame": 0, "x": 0, "y": 0})) == {"frame", "x", "y"}, clip
        for shot in sections.get("people", {}).get("shots", []):
            assert shot["frames"][0] <= shot["frames"][1] and shot["runners"] >= 0, clip
            for person in shot.get("people", []):  # a mark is on a non-runner, inside the shot
                for mark in person_marks(person):
                    assert person["role"] != "runner", clip
                    assert shot["frames"][0] <= mark["frame"] <= shot["frames"][1], clip
        if "slow_motion" in sections:
            s = sections["slow_motion"]
            assert isinstance(s["slowed"], bool) and (not s["slowed"] or s["factor"] > 1), clip
