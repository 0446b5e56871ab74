"""The report as coaches read it: runner cards first, the others in one line, names on the cards,
a page per named athlete with progress charts, and speed with a year of nights in the folder."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from coach_builders import Person, write_video

from pipeline.coach.names import Runner, add_names, name_runner
from pipeline.coach.sources import find_runner
from pipeline.report import write_report
from pipeline.report.build import others_line
from pipeline.report.data import Person as ReportPerson

DAY = datetime(2026, 11, 3, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(("activities", "expected"), [
    (["running"] * 3, ""),
    (["running", "walking"], "1 other: 1 walking"),
    (["walking"] * 12 + ["standing"] * 3 + ["unknown"] * 26 + ["running"] * 11,
     "41 others: 12 walking, 3 standing, 26 too small or too brief to judge"),
])
def test_others_line(activities: list[str], expected: str) -> None:
    people = [ReportPerson({"track_id": i, "is_runner": a == "running", "activity": a})
              for i, a in enumerate(activities)]
    assert others_line(people) == expected


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Lea in two sessions (overstride 0.3 then 0.1, flagged first), a walker and a standing person;
    runner 9 of the second video is only proposed as Sam."""
    write_video(tmp_path, "00000000000000e1", "/gone/w1.mp4", DAY, [
        Person(1, faults={"overstride": (0.3, 0.27, 0.33), "elbow_angle": (90.0, 85.0, 95.0)}),
        Person(2, is_runner=False), Person(3, is_runner=False)])
    write_video(tmp_path, "00000000000000e2", "/gone/w2.mp4", DAY + timedelta(days=7), [
        Person(1, faults={"overstride": (0.1, 0.07, 0.13)}), Person(9)])
    for video in ("00000000000000e1", "00000000000000e2"):
        name_runner(tmp_path, find_runner(tmp_path, video, 1), "Lea")
    add_names(tmp_path, [(find_runner(tmp_path, "00000000000000e2", 9), "Sam", "proposal", 0.1)])
    return tmp_path


def test_cards_first_then_the_others_in_one_line(folder: Path) -> None:
    page = write_report(folder).read_text(encoding="utf-8")
    first = page[page.index('id="video-00000000000000e1"'):page.index('id="video-00000000000000e2"')]
    assert "Runner 1 &middot; Lea" in first
    assert first.index('class="runner"') < first.index("2 others: 2 walking") < first.index("<details>")
    second = page[page.index('id="video-00000000000000e2"'):]
    assert "looks like Sam (proposed, not confirmed)" in second and "Runner 9 &middot; Sam" not in second


def test_a_page_per_athlete_with_progress_charts(folder: Path) -> None:
    report = write_report(folder).read_text(encoding="utf-8")
    link = re.search(r'<a href="(report_assets/athlete-Lea\.html)">Lea</a>', report)
    assert link and "(2 sessions)" in report and "Sam" not in report.split("<section")[0]
    page = (folder / link.group(1)).read_text(encoding="utf-8")
    assert page.count('<svg class="chart"') >= 3  # overstride, elbow angle, cadence, step asymmetry
    overstride = page[page.index('id="metric-overstride"'):]
    assert "since the session before: <strong>better</strong>" in overstride[:3000]
    assert not re.search(r"https?://", page) and not re.search(r"https?://", report)


def test_a_year_of_nights_stays_fast(tmp_path: Path) -> None:
    """365 nightly videos of one named runner and two others each: the report is written in seconds."""
    for night in range(365):
        video_id = f"{night:016x}"
        write_video(tmp_path, video_id, f"/gone/{video_id}.mp4", DAY + timedelta(days=night),
                    [Person(1, faults={"overstride": (0.2, 0.17, 0.23)}), Person(2, is_runner=False),
                     Person(3, is_runner=False)])
    add_names(tmp_path, [(Runner(f"{n:016x}", 1, 0, 299), "Lea", "roster", None) for n in range(365)])
    started = time.perf_counter()
    report = write_report(tmp_path)
    seconds = time.perf_counter() - started
    print(f"report of 365 nights: {seconds:.1f} s, {report.stat().st_size / 1e6:.1f} MB")
    assert seconds < 60 and report.stat().st_size < 30e6
