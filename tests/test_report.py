"""The HTML report: built from a hand-made output folder (no model), checked as text and in a browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from clips import write_clip

from pipeline.analysis.settings import AnalysisSettings
from pipeline.report import write_report
from pipeline.report.build import step_interval_series
from pipeline.report.data import Contact
from pipeline.report.svg import dot_chart
from pipeline.schemas import CONTACTS, DETECTIONS, DEVIATIONS, RUNNERS, VIDEOS, build_table

OK_ID, FAILED_ID = "00000000000000aa", "00000000000000bb"
OK_NAME = "<img src=x onerror=alert(1)>.mp4"
FAILED_NAME = "<script>alert(1)</script>.mp4"  # the slash makes "<script>alert(1)<" a folder of the path
FAILED_ERROR = "broken.mp4 could not be opened as a video (Invalid data found when processing input)."
CHROMIUM = Path("/usr/bin/chromium")


def _row(schema, **values) -> dict:
    """A row of ``schema`` with every column null except ``values``."""
    unknown = set(values) - set(schema.names)
    if unknown:
        raise ValueError(f"columns {sorted(unknown)} are not in {schema.metadata[b'formwatch_table'].decode()}")
    return {name: values.get(name) for name in schema.names}


def _write(out_dir: Path, dataset: str, video_id: str, rows: list[dict], schema) -> None:
    (out_dir / dataset).mkdir(parents=True, exist_ok=True)
    pq.write_table(build_table(rows, schema), out_dir / dataset / f"{video_id}.parquet")


def _video_rows(source: Path, folder: Path) -> list[dict]:
    common = {"processed_at": datetime(2024, 5, 1, tzinfo=UTC), "formwatch_version": "test"}
    return [
        _row(VIDEOS, video_id=OK_ID, path=str(source), status="ok", fps=30.0, frames=12, duration_s=0.4,
             slow_motion_suspected=False, **common),
        _row(VIDEOS, video_id=FAILED_ID, path=f"{folder}/{FAILED_NAME}", status="failed", error=FAILED_ERROR,
             **common),
    ]


def test_the_report_says_how_much_and_which_part_is_slowed() -> None:
    """Real time says nothing; a speed ramp (frames 26-270 of 271 at 29.89 fps, 3.1x) gives its
    factor and seconds; a clip slowed throughout, its factor only; no factor, a doubt."""
    from pipeline.report.build import slow_motion_line

    base = {"fps": 29.89, "frames": 271, "frames_lost": 0}
    assert slow_motion_line({**base, "slow_motion_suspected": False}) is None
    ramp = {**base, "slow_motion_suspected": True, "slow_motion_factor": 3.12, "slow_motion_ranges": [[26, 270]]}
    assert slow_motion_line(ramp) == "slow motion, about 3.1x slower from 0.9 to 9.1 s"
    whole = {**ramp, "slow_motion_ranges": [[0, 270]]}
    assert slow_motion_line(whole) == "slow motion, about 3.1x slower"
    assert slow_motion_line({**whole, "slow_motion_factor": None}) == "probably slow motion"


def _person(track_id: int, is_runner: bool, activity: str) -> dict:
    return _row(RUNNERS, video_id=OK_ID, track_id=track_id, is_runner=is_runner, activity=activity,
                slow_motion_suspected=False, source_track_ids=[track_id], fragments_merged=0, first_frame=0,
                last_frame=11, frames_detected=12, seconds_visible=0.4, fps_used=30.0, steps=6 if is_runner else 2,
                strides=2, cadence_spm=172.0 if is_runner else None, running_cues_met=3, running_cues_measured=4,
                view="side", views_seen=["side"], swaps_repaired=0, alternation_errors=0)


def _fault(name: str, value: float | None, unit: str, flagged: bool | None, reason: str | None = None) -> dict:
    return _row(DEVIATIONS, video_id=OK_ID, track_id=1, deviation=name, value=value, unit=unit, flagged=flagged,
                fraction_flagged=None if value is None else (0.6 if flagged else 0.1),
                strides_measured=0 if value is None else 5, reason=reason)


def _contacts() -> list[dict]:
    overstrides = [0.05, 0.22, 0.08, 0.25, 0.1, None]
    return [_row(CONTACTS, video_id=OK_ID, track_id=1, frame=2 * i, time_s=2 * i / 30.0,
                 foot="left" if i % 2 else "right", step_index=i, view="side", overstride_leg_lengths=o,
                 shank_angle_deg=None if o is None else 60 * o)
            for i, o in enumerate(overstrides)]


def _detections() -> list[dict]:
    return [_row(DETECTIONS, video_id=OK_ID, frame=f, time_s=f / 30.0, track_id=1, runner_id=1, box_x1=100.0,
                 box_y1=40.0, box_x2=160.0, box_y2=200.0, box_conf=0.9) for f in range(12)]


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    """An output folder written by hand: one ok video with a runner and a walker, one failed video."""
    footage, out = tmp_path / "footage", tmp_path / "out"
    footage.mkdir()
    source = write_clip(footage / OK_NAME, frames=12, size=(320, 240))
    _write(out, "videos", OK_ID, _video_rows(source, footage)[:1], VIDEOS)
    _write(out, "videos", FAILED_ID, _video_rows(source, footage)[1:], VIDEOS)
    _write(out, "runners", OK_ID, [_person(1, True, "running"), _person(4, False, "walking")], RUNNERS)
    _write(out, "deviations", OK_ID, [_fault("overstride", 0.2, "leg lengths", True),
                                      _fault("elbow_angle", None, "deg", None, reason="view")], DEVIATIONS)
    _write(out, "contacts", OK_ID, _contacts(), CONTACTS)
    _write(out, "detections", OK_ID, _detections(), DETECTIONS)
    (out / "clips" / OK_ID).mkdir(parents=True)
    write_clip(out / "clips" / OK_ID / "annotated.mp4", frames=8, size=(320, 240))
    write_clip(out / "clips" / OK_ID / "runner_1.mp4", frames=8, size=(160, 240))
    return out


def _page(out_dir: Path) -> str:
    path = write_report(out_dir)
    assert path == out_dir / "report.html"
    return path.read_text(encoding="utf-8")


def test_names_are_escaped(out_dir: Path) -> None:
    page = _page(out_dir)
    assert "&lt;img src=x onerror=alert(1)&gt;.mp4" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.mp4" in page  # the full path is shown
    assert "<script" not in page and "<img src=x" not in page


def test_no_network_references(out_dir: Path) -> None:
    assert not re.search(r"https?://", _page(out_dir))


def test_failed_video_shows_its_error(out_dir: Path) -> None:
    page = _page(out_dir)
    assert "failed" in page
    assert "broken.mp4 could not be opened as a video (Invalid data found when processing input)." in page


def test_clips_are_embedded_by_relative_path(out_dir: Path) -> None:
    page = _page(out_dir)
    sources = re.findall(r'<video controls preload="metadata" src="([^"]+)"', page)
    assert sources == [f"clips/{OK_ID}/annotated.mp4", f"clips/{OK_ID}/runner_1.mp4"]
    assert all((out_dir / s).is_file() for s in sources)


def test_missing_clip_is_left_out(out_dir: Path) -> None:
    (out_dir / "clips" / OK_ID / "runner_1.mp4").unlink()
    assert "runner_1.mp4" not in _page(out_dir)


def test_people_table_and_faults(out_dir: Path) -> None:
    page = _page(out_dir)
    assert "Runner 1" in page and "Runner 4" not in page  # only runners get a card
    assert re.search(r"<td class=\"num\">4</td><td>no</td><td>walking</td>", page)
    assert "0.2 leg lengths" in page and "60%" in page  # overstride value, unit, share flagged
    assert re.search(r"Elbow angle</td>.*?<td class=\"muted\">view</td>", page, re.S)  # reason of the null


def test_plots_draw_the_threshold(out_dir: Path) -> None:
    page = _page(out_dir)
    assert page.count("<svg") == 3  # step interval, overstride, shank angle
    assert page.count('class="threshold"') == 2
    # red dots: overstrides 0.22 and 0.25 > 0.15 leg lengths; shank angles 13.2 and 15 > 10 deg
    assert page.count('fill="#c53030"') == 2 + 2


def test_thumbnail_is_written(out_dir: Path) -> None:
    page = _page(out_dir)
    match = re.search(r'<img class="thumb" src="([^"]+)"', page)
    assert match and match.group(1) == f"report_assets/{OK_ID}_1.jpg"
    assert (out_dir / match.group(1)).read_bytes()[:2] == b"\xff\xd8"


def test_gone_video_skips_the_thumbnail(out_dir: Path, tmp_path: Path) -> None:
    shutil.rmtree(tmp_path / "footage")
    page = _page(out_dir)
    assert 'class="thumb"' not in page and "Runner 1" in page


def test_written_atomically(out_dir: Path) -> None:
    _page(out_dir)
    assert not list(out_dir.glob(".report.html.*.tmp"))


def test_folder_without_results_names_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="videos holds no results"):
        write_report(tmp_path)


def test_step_intervals() -> None:
    contacts = [Contact(t, "left", None, None) for t in (0.0, 0.35, 0.7, 1.1)]
    times, intervals = step_interval_series(contacts)
    assert times == [0.35, 0.7, 1.1]
    assert intervals == pytest.approx([0.35, 0.35, 0.4])


@pytest.mark.parametrize(("ys", "threshold", "red"), [([0.1, 0.2, 0.3], 0.15, 2), ([0.1, 0.2], None, 0),
                                                       ([5.0], 10.0, 0)])
def test_dot_chart_marks_points_beyond_threshold(ys: list[float], threshold: float | None, red: int) -> None:
    svg = dot_chart(list(range(len(ys))), ys, "t <x>", "s", "u", threshold)
    assert svg.count('fill="#c53030"') == red
    assert svg.count("stroke-dasharray") == (threshold is not None)
    assert "t &lt;x&gt;" in svg


def test_dot_chart_rejects_mismatched_series() -> None:
    with pytest.raises(ValueError, match="got 2 and 1"):
        dot_chart([0.0, 1.0], [1.0], "t", "s", "u")


def test_thresholds_are_the_default_settings() -> None:
    assert AnalysisSettings().overstride_leg_lengths == pytest.approx(0.15)


def test_report_renders_in_headless_chromium(out_dir: Path, tmp_path: Path) -> None:
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is not installed; the browser check needs Chromium (CI installs it)")
    report, shot = write_report(out_dir), tmp_path / "report.png"
    subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'chromium-profile'}",
         f"--screenshot={shot}", "--window-size=1280,2000", report.as_uri()],
        check=True, timeout=120, capture_output=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a blank 1280x2000 page compresses to a few KB


_PLAYBACK_PROBE = """<!DOCTYPE html><html><body><pre id="out">waiting</pre>
<iframe id="report" src="report.html" width="1280" height="900"></iframe>
<script>
const out = document.getElementById("out");
document.getElementById("report").addEventListener("load", async (event) => {
  const video = event.target.contentDocument.querySelector("video");
  if (!video) { out.textContent = "no video element"; return; }
  video.muted = true;
  const ready = () => new Promise(
    (done) => video.readyState >= 2 ? done() : video.addEventListener("loadeddata", done));
  await Promise.race([ready(), new Promise((done) => setTimeout(done, 8000))]);
  const readyState = video.readyState;
  try { await video.play(); } catch (error) { out.textContent = "play failed: " + error; return; }
  await new Promise((done) => setTimeout(done, 1500));
  const error = video.error && video.error.code;
  out.textContent = JSON.stringify({readyState, currentTime: video.currentTime, error});
});
</script></body></html>"""


def test_report_videos_load_and_play_in_headless_chromium(out_dir: Path, tmp_path: Path) -> None:
    """Served over a local HTTP server (same origin as a probe page), the report's first clip
    reaches readyState >= 2 (HAVE_CURRENT_DATA) and its currentTime advances when played."""
    import functools
    import html
    import http.server
    import json
    import re
    import threading

    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is not installed; the browser check needs Chromium (CI installs it)")
    write_report(out_dir)
    (out_dir / "probe.html").write_text(_PLAYBACK_PROBE)
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(out_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        done = subprocess.run(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", "--autoplay-policy=no-user-gesture-required",
             f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=15000", "--dump-dom",
             f"http://127.0.0.1:{server.server_address[1]}/probe.html"],
            timeout=120, capture_output=True, text=True,
        )
    finally:
        server.shutdown()
    found = re.search(r'<pre id="out">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stdout[-2000:] + done.stderr[-2000:]
    text = html.unescape(found.group(1))
    assert text.startswith("{"), f"the probe page says: {text}"
    result = json.loads(text)
    assert result["readyState"] >= 2 and result["error"] is None, result
    assert result["currentTime"] > 0.0, result


def test_flagged_faults_lead_with_the_coachs_cue_and_drill(out_dir: Path) -> None:
    from pipeline.analysis.registry import FAULTS

    page = _page(out_dir)
    card = page[page.index('id="runner-'):]
    assert card.index("Land your foot under your hips, not out in front") < card.index("<table>")
    assert f"Drill: {FAULTS['overstride'].drill}" in page
    assert FAULTS["elbow_angle"].cue.split(",")[0] not in page  # not flagged: no cue


def test_thumbnails_are_made_once(out_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.report.build as build

    _page(out_dir)
    thumbs = sorted((out_dir / "report_assets").glob("*.jpg"))
    asked: list[dict] = []
    original = build.write_thumbnails
    monkeypatch.setattr(build, "write_thumbnails", lambda *a: asked.append(a[2]) or original(*a))
    page = _page(out_dir)
    assert thumbs and asked and all(a == {} for a in asked) and 'class="thumb"' in page  # kept, not decoded again


def test_the_still_is_the_top_faults_worst_frame(out_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.report.build as build

    _write(out_dir, "deviations", OK_ID, [{**_fault("overstride", 0.2, "leg lengths", True), "worst_frame": 6}],
           DEVIATIONS)
    asked: list[dict] = []
    original = build.write_thumbnails
    monkeypatch.setattr(build, "write_thumbnails", lambda *a: asked.append(a[2]) or original(*a))
    _page(out_dir)
    assert {1: 6} in [{rid: frame for rid, (frame, _) in boxes.items()} for boxes in asked]
