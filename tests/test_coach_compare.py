"""The first-vs-latest clip: contacts aligned frame for frame, H.264 that plays in headless Chromium.

Each synthetic session is a clip whose every frame is one flat grey encoding its own index
(level 20 + 3 x index, carried by luma, which H.264 keeps best), so each half of the output says
which source frame it shows.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pyarrow.parquet as pq
import pytest
from coach_builders import row

from flows.cli import main
from pipeline.coach.compare import aligned_frames, pick_contacts, render_compare
from pipeline.coach.names import name_runner
from pipeline.coach.sources import find_runner
from pipeline.outputs import compare_clip_file
from pipeline.schemas import CONTACTS, DETECTIONS, DEVIATIONS, RUNNERS, VIDEOS, build_table

# Its module-scoped fixtures run once per test worker: keep the module's tests on one worker.
pytestmark = pytest.mark.xdist_group("coach_compare")

CHROMIUM = Path("/usr/bin/chromium")
FRAMES, FPS, SIZE = 64, 30.0, 160
SESSIONS = {  # video_id: (day, contact frames, first foot)
    "00000000000000c1": (0, [10, 20, 30, 40, 50], "right"),
    "00000000000000c2": (7, [6, 18, 30, 42, 54], "left"),  # slower steps, other foot first
}


def _clip(path: Path) -> Path:
    """A 320x240 H.264 clip whose frame i is flat grey, level 20 + 3 i."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.options = {"crf": "10"}
        for i in range(FRAMES):
            image = np.empty((240, 320, 3), np.uint8)
            image[:] = 20 + 3 * i
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _detection(video_id: str, frame: int) -> dict:
    """The runner standing in the middle: hips at (160, 120), ankles 60 px below, one 20 px ahead."""
    points = {"left_hip": (158, 120), "right_hip": (162, 120), "left_knee": (165, 150), "right_knee": (158, 150),
              "left_ankle": (180, 180), "right_ankle": (155, 180), "left_shoulder": (160, 70),
              "right_shoulder": (162, 70)}
    keypoints = {f"{k}_{a}": float(v[i]) for k, v in points.items() for i, a in enumerate("xy")}
    return row(DETECTIONS, video_id=video_id, frame=frame, time_s=frame / FPS, track_id=1, runner_id=1,
               box_x1=140.0, box_y1=60.0, box_x2=185.0, box_y2=185.0, box_conf=0.9, **keypoints)


def _session(out: Path, footage: Path, video_id: str, day: int, contacts: list[int], foot: str) -> None:
    path = _clip(footage / f"{video_id}.mp4")
    feet = [foot, "left" if foot == "right" else "right"] * 3
    tables = {
        "videos": (VIDEOS, [row(VIDEOS, video_id=video_id, path=str(path), status="ok", fps=FPS, frames=FRAMES,
                                file_mtime_ns=int((datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=day))
                                                  .timestamp() * 1e9),
                                processed_at=datetime.now(UTC), formwatch_version="test")]),
        "runners": (RUNNERS, [row(RUNNERS, video_id=video_id, track_id=1, is_runner=True, activity="running",
                                  slow_motion_suspected=False, source_track_ids=[1], fragments_merged=0,
                                  first_frame=0, last_frame=FRAMES - 1, frames_detected=FRAMES, seconds_visible=2.1,
                                  fps_used=FPS, steps=5, strides=2, running_cues_met=3, running_cues_measured=4,
                                  view="side", views_seen=["side"], swaps_repaired=0, alternation_errors=0)]),
        "contacts": (CONTACTS, [row(CONTACTS, video_id=video_id, track_id=1, frame=f, time_s=f / FPS, foot=feet[i],
                                    step_index=i, view="side", overstride_leg_lengths=0.2 + 0.01 * i)
                                for i, f in enumerate(contacts)]),
        "deviations": (DEVIATIONS, [row(DEVIATIONS, video_id=video_id, track_id=1, deviation="overstride",
                                        value=0.22, value_low=0.2, value_high=0.24, unit="leg lengths", flagged=True,
                                        strides_measured=4)]),
        "detections": (DETECTIONS, [_detection(video_id, f) for f in range(FRAMES)]),
    }
    for name, (schema, rows) in tables.items():
        (out / name).mkdir(parents=True, exist_ok=True)
        pq.write_table(build_table(rows, schema), out / name / f"{video_id}.parquet")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("compare")
    (root / "footage").mkdir()
    for video_id, (day, contacts, foot) in SESSIONS.items():
        _session(root / "out", root / "footage", video_id, day, contacts, foot)
        name_runner(root / "out", find_runner(root / "out", video_id, 1), "Lea")
    return root / "out"


def _first_shown(pairs: list[tuple[int, int]], half: int, frames: list[int]) -> list[int]:
    """The output frame at which ``half`` first shows each of ``frames``."""
    return [min(k for k, pair in enumerate(pairs) if pair[half] == f) for f in frames]


def test_pairs_put_contacts_on_the_same_output_frame() -> None:
    pairs = aligned_frames([10, 20, 30], [6, 18, 30], (30.0, 30.0), 30.0, 2)
    assert pairs[0] == (10, 6) and pairs[-1] == (30, 30)
    assert pairs.index((20, 18)) == 24  # the longer step (12 frames) slowed 2x
    assert _first_shown(pairs, 0, [10, 20, 30]) == _first_shown(pairs, 1, [6, 18, 30]) == [0, 24, 48]
    assert all(b[0] >= a[0] and b[1] >= a[1] for a, b in zip(pairs, pairs[1:], strict=False))
    with pytest.raises(ValueError, match="same number"):
        aligned_frames([1, 2, 3], [1, 2], (30.0, 30.0), 30.0, 1)


@pytest.mark.parametrize(("feet", "foot", "expected"), [
    (["r", "l", "r", "l", "r", "l"], None, (1, 6)),
    (["r", "l", "r", "l", "r", "l"], "r", (0, 5)),
    (["l", "r", "l", "r"], "r", (1, 4)),
    (["l"], None, (0, 0)),
])
def test_pick_contacts(feet: list[str], foot: str | None, expected: tuple[int, int]) -> None:
    frames = [10 * i for i in range(len(feet))]
    assert pick_contacts(frames, feet, around=30, count=5, foot=foot) == expected


def _source_frames(path: Path, size: int) -> list[tuple[int, int]]:
    """Per output frame, the source frame each half shows, read back from its grey level."""
    shown = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            image = frame.to_ndarray(format="bgr24")
            top = image.shape[0] - size
            y = top + int(0.3 * size)
            levels = [image[y - 2:y + 3, x + size - 10:x + size - 5].mean() for x in (0, size)]
            shown.append(tuple(round((level - 20) / 3) for level in levels))
    return shown


def test_both_halves_show_matching_contacts_at_the_same_moment(out: Path) -> None:
    result = render_compare(out, "Lea", "overstride", slowmo=2, size=SIZE)
    assert result.path == compare_clip_file(out, "Lea", "overstride")
    left, right = result.contacts
    assert (left, right) == ([10, 20, 30, 40], [18, 30, 42, 54])  # both start on the right foot
    with av.open(str(result.path)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.width == 2 * SIZE
    read = np.array(_source_frames(result.path, SIZE))
    assert len(read) == len(result.pairs)
    # two rounds of H.264 darken flat grey by a few levels: remove that constant bias, no more
    bias = np.median(read - np.array(result.pairs), axis=0)
    assert (np.abs(bias) <= 2.5).all(), bias
    shown = [tuple(int(v) for v in pair) for pair in np.round(read - bias).astype(int)]
    assert all(abs(s[0] - p[0]) <= 1 and abs(s[1] - p[1]) <= 1 for s, p in zip(shown, result.pairs, strict=True))
    # contact j of each half is due at the same output frame, and the clip shows it there (the grey
    # level reads back to within one frame)
    due = _first_shown(result.pairs, 0, left)
    assert due == _first_shown(result.pairs, 1, right)
    for k, (lc, rc) in zip(due, zip(left, right, strict=True), strict=True):
        assert abs(shown[k][0] - lc) <= 1 and abs(shown[k][1] - rc) <= 1, (k, shown[k], lc, rc)


def test_compare_needs_two_sessions(out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(out), "Lea", "--fault", "overstride", "--size", "160"]) == 0
    assert "Lea-overstride.mp4" in capsys.readouterr().out
    assert main(["compare", str(out), "Lea", "--fault", "nope"]) == 2
    assert "unknown fault 'nope'" in capsys.readouterr().err
    name_runner(out, find_runner(out, "00000000000000c1", 1), "Solo")  # Lea keeps one session
    try:
        assert main(["compare", str(out), "Solo", "--fault", "overstride"]) == 2
        assert "a comparison needs two" in capsys.readouterr().err
    finally:
        name_runner(out, find_runner(out, "00000000000000c1", 1), "Lea")


_PROBE = """<!DOCTYPE html><html><body><pre id="out">waiting</pre>
<video id="v" muted src="CLIP"></video>
<script>
const out = document.getElementById("out"), video = document.getElementById("v");
video.addEventListener("loadeddata", async () => {
  try { await video.play(); } catch (error) { out.textContent = "play failed: " + error; return; }
  await new Promise((done) => setTimeout(done, 1000));
  out.textContent = JSON.stringify({readyState: video.readyState, time: video.currentTime,
                                    width: video.videoWidth, error: video.error && video.error.code});
});
video.addEventListener("error", () => { out.textContent = "error " + video.error.code; });
</script></body></html>"""


def test_the_clip_plays_in_headless_chromium(out: Path, tmp_path: Path) -> None:
    import functools
    import html
    import http.server
    import json
    import re
    import threading

    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is not installed; the browser check needs Chromium (CI installs it)")
    clip = render_compare(out, "Lea", "overstride", slowmo=2, size=SIZE).path
    (clip.parent / "probe.html").write_text(_PROBE.replace("CLIP", clip.name))

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(clip.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        done = subprocess.run(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--no-first-run", "--autoplay-policy=no-user-gesture-required", "--virtual-time-budget=10000",
             f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
             f"http://127.0.0.1:{server.server_address[1]}/probe.html"],
            timeout=120, capture_output=True, text=True)
    finally:
        server.shutdown()
    found = re.search(r'<pre id="out">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(html.unescape(found.group(1)))
    assert result["error"] is None and result["readyState"] >= 2 and result["width"] == 2 * SIZE, result
    assert result["time"] > 0.0, result
