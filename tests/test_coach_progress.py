"""Progress across sessions: verdicts on known changes, the dataset, the terminal table, session dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from clips import write_clip
from coach_builders import Person, remux_with_date, write_video

from flows.cli import main
from pipeline.coach.names import name_runner
from pipeline.coach.progress import (
    BETTER,
    HIGHER,
    LOWER,
    NOT_COMPARED,
    SAME,
    WORSE,
    Measure,
    athlete_progress,
    change,
    gait_measures,
    write_progress,
)
from pipeline.coach.sessions import session_date
from pipeline.coach.sources import find_runner
from pipeline.outputs import progress_file

DAY = datetime(2026, 11, 3, 18, 0, tzinfo=UTC)


def m(value: float | None, low: float | None, high: float | None) -> Measure:
    return Measure(value, low, high, "unit")


@pytest.mark.parametrize(("metric", "bounds", "before", "after", "expected"), [
    # overstride: above 0.15 leg lengths is faulty, so down is better
    ("overstride", (None, 0.15), m(0.25, 0.22, 0.28), m(0.10, 0.07, 0.13), BETTER),
    ("overstride", (None, 0.15), m(0.10, 0.07, 0.13), m(0.25, 0.22, 0.28), WORSE),
    ("overstride", (None, 0.15), m(0.25, 0.20, 0.30), m(0.22, 0.18, 0.26), SAME),  # intervals overlap
    ("overstride", (None, 0.15), m(0.25, 0.20, 0.30), m(0.10, 0.30, 0.30), SAME),  # touching counts as overlap
    # shrugged shoulders: below 0.25 torso lengths is faulty, so up is better
    ("shrugged_shoulders", (0.25, None), m(0.20, 0.18, 0.22), m(0.35, 0.32, 0.38), BETTER),
    # elbow angle: faulty outside 70-110 deg, better is nearer 90
    ("elbow_angle", (70.0, 110.0), m(130, 125, 135), m(100, 95, 105), BETTER),
    ("elbow_angle", (70.0, 110.0), m(85, 80, 90), m(60, 55, 65), WORSE),
    ("cadence", (None, None), m(165, 163, 167), m(175, 173, 177), HIGHER),
    ("cadence", (None, None), m(175, 173, 177), m(165, 163, 167), LOWER),
    ("step_asymmetry", (None, None), m(0.10, 0.08, 0.12), m(0.02, 0.01, 0.03), BETTER),
    ("overstride", (None, 0.15), m(None, None, None), m(0.10, 0.07, 0.13), NOT_COMPARED),
    ("overstride", (None, 0.15), m(0.25, None, None), m(0.10, 0.07, 0.13), NOT_COMPARED),
])
def test_change_verdicts(metric: str, bounds: tuple, before: Measure, after: Measure, expected: str) -> None:
    assert change(before, after, metric, bounds) == expected


def test_gait_measures_on_known_steps() -> None:
    times = np.arange(20) / 3.0  # 180 steps/min
    feet = ["right", "left"] * 10
    gait = gait_measures(times, feet)
    assert gait["cadence"].value == pytest.approx(180.0)
    assert gait["cadence"].low == pytest.approx(180.0) and gait["cadence"].high == pytest.approx(180.0)
    assert gait["step_asymmetry"].value == pytest.approx(0.0, abs=1e-9)
    limp = np.cumsum([0.0] + [0.30, 0.36] * 10)  # right steps 0.30 s, left 0.36 s
    uneven = gait_measures(limp, ["left", "right"] * 10 + ["left"])
    assert uneven["step_asymmetry"].value == pytest.approx(0.06 / 0.33)
    assert uneven["cadence"].low <= uneven["cadence"].value <= uneven["cadence"].high
    gap = np.append(times, times[-1] + 3.0)  # hidden for 3 s: a gap, not a step
    assert gait_measures(gap, feet + ["right"])["cadence"].value == pytest.approx(180.0)
    assert gait_measures(times[:3], feet[:3])["cadence"].reason == "too_few_strides"


def _sessions(out: Path) -> None:
    """Lea over three weeks: overstride 0.25 -> 0.24 (within the uncertainty) -> 0.10 (a real change);
    cadence 180 -> 180 -> 200 steps/min; trunk lean measured once only."""
    write_video(out, "00000000000000a1", "/footage/w1.mp4", DAY, [
        Person(1, faults={"overstride": (0.25, 0.22, 0.28), "trunk_lean": (8.0, 6.0, 10.0)}), Person(2)])
    write_video(out, "00000000000000a2", "/footage/w2.mp4", DAY + timedelta(days=7), [
        Person(3, faults={"overstride": (0.24, 0.20, 0.27)})])
    write_video(out, "00000000000000a3", "/footage/w3.mp4", DAY + timedelta(days=14), [
        Person(1, step_s=0.3, faults={"overstride": (0.10, 0.07, 0.13)})])
    for video, runner in (("w1.mp4", 1), ("w2.mp4", 3), ("w3.mp4", 1)):
        name_runner(out, find_runner(out, video, runner), "Lea")


def test_progress_on_sessions_whose_change_is_known(tmp_path: Path) -> None:
    _sessions(tmp_path)
    rows = athlete_progress(tmp_path, "Lea")
    over = [r for r in rows if r["metric"] == "overstride"]
    assert [r["session"] for r in over] == [1, 2, 3]
    assert [r["recorded_at"].date().isoformat() for r in over] == ["2026-11-03", "2026-11-10", "2026-11-17"]
    assert {r["date_source"] for r in over} == {"file_mtime"}
    assert [r["change"] for r in over] == [NOT_COMPARED, SAME, BETTER]
    assert [r["change_since_first"] for r in over] == [NOT_COMPARED, SAME, BETTER]
    assert (over[0]["threshold_low"], over[0]["threshold_high"]) == (None, 0.15)
    assert (over[2]["value"], over[2]["value_low"], over[2]["value_high"]) == (0.10, 0.07, 0.13)
    cadence = [r for r in rows if r["metric"] == "cadence"]
    assert [round(r["value"]) for r in cadence] == [180, 180, 200]
    assert [r["change"] for r in cadence] == [NOT_COMPARED, SAME, HIGHER]
    lean = [r for r in rows if r["metric"] == "trunk_lean"]
    assert [r["change"] for r in lean] == [NOT_COMPARED, NOT_COMPARED, NOT_COMPARED]


def test_progress_dataset_reads_in_duckdb(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    _sessions(tmp_path)
    write_progress(tmp_path)
    query = (f"select session, change from read_parquet('{progress_file(tmp_path)}') "
             "where athlete = 'Lea' and metric = 'overstride' order by session")
    assert duckdb.sql(query).fetchall() == [(1, NOT_COMPARED), (2, SAME), (3, BETTER)]


def test_cli_progress_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _sessions(tmp_path)
    assert main(["progress", str(tmp_path), "lea", "--fault", "overstride"]) == 0
    text = capsys.readouterr().out
    assert "Lea: 3 sessions" in text and "0.1 [0.07, 0.13] leg lengths" in text
    assert "no measurable change" in text and "better" in text and "> 0.15" in text
    assert "Cadence" not in text
    assert main(["progress", str(tmp_path), "Bob"]) == 2
    assert "no athlete is named 'Bob'; known athletes: Lea" in capsys.readouterr().err
    assert main(["progress", str(tmp_path), "Lea", "--fault", "nope"]) == 2


def test_session_date_prefers_the_container(tmp_path: Path) -> None:
    plain = write_clip(tmp_path / "plain.mp4", frames=3)
    dated = remux_with_date(plain, tmp_path / "dated.mp4", "2026-10-01T07:30:00.000000Z")
    mtime = datetime(2026, 12, 2, tzinfo=UTC)
    row = {"file_mtime_ns": int(mtime.timestamp() * 1e9)}
    assert session_date({**row, "path": str(dated)}) == (datetime(2026, 10, 1, 7, 30, tzinfo=UTC), "container")
    assert session_date({**row, "path": str(plain)}) == (mtime, "file_mtime")
    assert session_date({**row, "path": str(tmp_path / "gone.mp4")}) == (mtime, "file_mtime")


def test_night_page_names_the_athletes_and_their_changes(tmp_path: Path) -> None:
    from pipeline.coach.nightly import night_markdown

    _sessions(tmp_path)
    page = night_markdown(tmp_path, ["00000000000000a3"])
    assert "**Lea** (session 3): Overstride: better (0.1 leg lengths); Cadence: higher (200 steps/min)" in page
    page = night_markdown(tmp_path, ["00000000000000a2"])
    assert "**Lea** (session 2): no measurable change" in page
    assert "No named athlete" in night_markdown(tmp_path, [])
