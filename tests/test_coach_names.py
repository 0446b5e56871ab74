"""Who is who: naming, renaming, undoing, the three sources and their precedence, proposals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from coach_builders import Person, row, write_video

from flows.cli import main
from pipeline.appearance import DIMENSIONS
from pipeline.coach.names import NamingError, Runner, active_names, name_runner, read_names, rename_athlete, undo_name
from pipeline.coach.progress import athlete_sessions, athletes
from pipeline.coach.settings import AthleteSettings
from pipeline.coach.sources import find_runner, folder_athlete, main_runner, sync_names
from pipeline.outputs import names_file
from pipeline.schemas import DETECTIONS

NIGHT = datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
A, B, C = "0000000000000a01", "0000000000000b02", "0000000000000c03"
RED, BLUE = [1.0] + [0.0] * 11, [0.0] * 4 + [1.0] + [0.0] * 7


def _detections(out: Path, video_id: str, colours: dict[int, list[float]]) -> None:
    """Ten detections per runner wearing ``colours[track_id]`` (the same colour top and bottom)."""
    rows = [row(DETECTIONS, video_id=video_id, frame=f, time_s=f / 30, track_id=t, runner_id=t, box_x1=0.0,
                box_y1=0.0, box_x2=50.0, box_y2=150.0, box_conf=0.9, appearance=colour + colour)
            for t, colour in colours.items() for f in range(10)]
    assert len(rows[0]["appearance"]) == DIMENSIONS
    (out / "detections").mkdir(exist_ok=True)
    from pipeline.schemas import build_table

    pq.write_table(build_table(rows, DETECTIONS), out / "detections" / f"{video_id}.parquet")


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """Three videos of one night: A has runners 1 and 2 (2 seen briefly), B and C one runner each."""
    out = tmp_path / "out"
    footage = tmp_path / "footage"
    footage.mkdir()
    write_video(out, A, str(footage / "lea" / "a.mp4"), NIGHT,
                [Person(1, frames=300), Person(2, frames=60, first_frame=100), Person(5, is_runner=False)])
    write_video(out, B, str(footage / "b.mp4"), NIGHT + timedelta(hours=1), [Person(3)])
    write_video(out, C, str(footage / "c.mp4"), NIGHT + timedelta(days=7), [Person(4)])
    return out


def _active(out: Path) -> dict:
    return {k: (r["athlete"], r["source"], r["confirmed"]) for k, r in active_names(read_names(out)).items()}


def test_naming_is_idempotent_and_renaming_replaces(out: Path) -> None:
    runner = find_runner(out, "a.mp4", 1)
    assert runner == Runner(A, 1, 0, 299)
    assert "is now Lea" in name_runner(out, runner, "Lea")
    assert "already Lea" in name_runner(out, runner, " Lea ")
    assert len(read_names(out)) == 1
    assert "is now Lea Martin (was Lea)" in name_runner(out, runner, "Lea Martin")
    assert _active(out) == {(A, 1): ("Lea Martin", "user", True)}
    assert [r["undone"] for r in read_names(out)] == [True, False]
    assert rename_athlete(out, "Lea Martin", "Lea M") == 1
    assert _active(out) == {(A, 1): ("Lea M", "user", True)}
    assert undo_name(out, A, 1) == 1
    assert _active(out) == {} and athletes(out) == []
    assert len(read_names(out)) == 3  # nothing deleted: the history stays


def test_names_survive_a_reanalysis_that_renumbers_the_runner(out: Path) -> None:
    name_runner(out, find_runner(out, A, 1), "Lea")
    write_video(out, A, "/footage/lea/a.mp4", NIGHT, [Person(7, frames=290, first_frame=5)])  # re-analysed
    from pipeline.coach.progress import video_runners

    assert set(active_names(read_names(out), video_runners(out, [A]))) == {(A, 7)}
    assert [(s.video_id, s.track_id) for s in athlete_sessions(out, "Lea")] == [(A, 7)]


def test_precedence_user_over_roster_over_folder(out: Path, tmp_path: Path) -> None:
    roster = tmp_path / "roster.yaml"
    roster.write_text("- {athlete: Rosa, video: a.mp4}\n- {athlete: Bo, video: " + B + ", runner: 3}\n"
                      "- {athlete: Nobody, video: not-filmed-yet.mp4}\n")
    sync_names(out, AthleteSettings(names_from_folders=True, propose_matches=False), [tmp_path / "footage"])
    assert _active(out) == {(A, 1): ("Lea", "folder", True)}
    sync_names(out, AthleteSettings(roster=str(roster), propose_matches=False))
    assert _active(out) == {(A, 1): ("Rosa", "roster", True), (B, 3): ("Bo", "roster", True)}
    name_runner(out, find_runner(out, A, 1), "Lea")
    assert _active(out)[(A, 1)] == ("Lea", "user", True)
    undo_name(out, A, 1, "Lea")
    assert _active(out)[(A, 1)] == ("Rosa", "roster", True)
    undo_name(out, A, 1)  # the roster's and the folder's too
    settings = AthleteSettings(roster=str(roster), names_from_folders=True, propose_matches=False)
    assert sync_names(out, settings, [tmp_path / "footage"]) == 0  # an undo sticks across re-runs
    assert (A, 1) not in _active(out)


def test_a_stronger_source_takes_the_name_from_another_runner_of_the_video(out: Path, tmp_path: Path) -> None:
    sync_names(out, AthleteSettings(names_from_folders=True, propose_matches=False), [tmp_path / "footage"])
    name_runner(out, find_runner(out, A, 2), "Lea")  # the user says Lea is runner 2, not the folder's guess
    assert _active(out) == {(A, 2): ("Lea", "user", True)}


@pytest.mark.parametrize(("path", "expected"), [
    ("footage/lea/2026-12-01.mp4", "Lea"), ("footage/lea_martin/x/2026.mp4", "Lea Martin"),
    ("footage/LeaM/a.mp4", "LeaM"), ("footage/a.mp4", None), ("elsewhere/lea/a.mp4", None),
])
def test_folder_names(tmp_path: Path, path: str, expected: str | None) -> None:
    (tmp_path / "footage").mkdir()
    assert folder_athlete(tmp_path / path, [tmp_path / "footage"]) == expected


@pytest.mark.parametrize(("frames", "expected"), [((300,), 1), ((300, 160), None), ((300, 150), 1), ((), None)])
def test_main_runner(frames: tuple[int, ...], expected: int | None) -> None:
    people = [{"track_id": i + 1, "is_runner": True, "first_frame": 0, "last_frame": f - 1, "frames_detected": f}
              for i, f in enumerate(frames)]
    found = main_runner("v", people, 2.0)
    assert (found.track_id if found else None) == expected


def test_proposals_are_never_confirmed(out: Path) -> None:
    _detections(out, A, {1: RED, 2: BLUE})
    _detections(out, B, {3: RED})
    _detections(out, C, {4: RED})  # a week later: not the same night
    name_runner(out, find_runner(out, A, 1), "Lea")
    assert sync_names(out, AthleteSettings()) == 1
    assert _active(out)[(B, 3)] == ("Lea", "proposal", False)
    assert (C, 4) not in _active(out)
    assert [s.video_id for s in athlete_sessions(out, "Lea")] == [A]  # a proposal does not count
    assert sync_names(out, AthleteSettings()) == 0  # proposed once
    name_runner(out, find_runner(out, B, 3), "Lea")  # the user confirms
    assert [s.video_id for s in athlete_sessions(out, "Lea")] == [A, B]


def test_a_runner_unlike_the_named_one_gets_no_proposal(out: Path) -> None:
    _detections(out, A, {1: RED, 2: BLUE})
    _detections(out, B, {3: BLUE})
    name_runner(out, find_runner(out, A, 1), "Lea")
    assert sync_names(out, AthleteSettings()) == 0


def test_cli_name_undo_and_errors(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["name", str(out), "a.mp4", "1", "Lea"]) == 0
    assert main(["name", str(out), "a.mp4", "1", "Lea"]) == 0
    assert "already Lea" in capsys.readouterr().out
    assert main(["athletes", str(out)]) == 0
    assert "Lea: 1 session (2026-12-01*)" in capsys.readouterr().out
    assert main(["name", str(out), "a.mp4", "9", "Lea"]) == 2
    assert "video 0000000000000a01 has no person 9 (its runners: 1, 2)" in capsys.readouterr().err
    assert main(["name", str(out), "nope.mp4", "1", "Lea"]) == 2
    assert main(["name", str(out), A, "1", "--undo"]) == 0
    assert "Undid 1 name" in capsys.readouterr().out
    assert names_file(out).is_file() and athletes(out) == []


def test_naming_errors() -> None:
    with pytest.raises(NamingError, match="cannot be empty"):
        name_runner("/nonexistent", Runner(A, 1, 0, 1), "  ")


def test_stats_names_the_runners(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pipeline.coach.names import add_names
    from pipeline.stats import runner_summaries

    name_runner(out, find_runner(out, A, 1), "Lea")
    add_names(out, [(find_runner(out, B, 3), "Lea", "proposal", 0.1)])
    named = {(s.video_id, s.track_id): s.athlete for s in runner_summaries(out, runners_only=True)}
    assert named == {(A, 1): "Lea", (A, 2): "", (B, 3): "Lea?", (C, 4): ""}
    assert main(["stats", str(out)]) == 0 and "Lea?" in capsys.readouterr().out
