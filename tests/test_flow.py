"""The annotate_footage flow end to end under Prefect's test harness."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pytest
from clips import person_photo, write_clip

from flows.annotate import annotate_footage
from pipeline.config import load_settings

# Its module-scoped fixtures run once per test worker: keep the module's tests on one worker.
pytestmark = pytest.mark.xdist_group("flow")


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, weights: Path, prefect_harness) -> tuple[Path, dict]:
    footage = tmp_path_factory.mktemp("footage")
    (footage / "day1").mkdir()
    write_clip(footage / "day1" / "bus_pan.MP4", frames=20, size=(640, 480), image=person_photo())
    (footage / "day1" / "corrupt.mov").write_bytes(b"\x00\x00\x00\x18ftypmp42 truncated garbage")
    (footage / "notes.txt").write_text("not a video, not picked up")
    out = tmp_path_factory.mktemp("out")
    settings = load_settings(overrides={"model": {"weights": str(weights), "image_size": 640}}, environ={})
    summary = annotate_footage([str(footage)], str(out), settings)
    return out, summary


def test_one_bad_file_does_not_stop_the_batch(batch):
    out, summary = batch
    assert (summary["videos"], summary["ok"], summary["failed"]) == (2, 1, 1)
    videos = ds.dataset(out / "videos").to_table().to_pylist()
    by_name = {Path(v["path"]).name: v for v in videos}
    assert by_name["bus_pan.MP4"]["status"] == "ok" and by_name["bus_pan.MP4"]["error"] is None
    failed = by_name["corrupt.mov"]
    assert failed["status"] == "failed"
    assert "corrupt.mov" in failed["error"] and "Traceback" not in failed["error"]


def test_people_in_the_photo_are_tracked(batch):
    out, _ = batch
    table = ds.dataset(out / "detections").to_table()
    per_track = table.group_by("track_id").aggregate([("frame", "count")]).to_pylist()
    assert len(per_track) >= 3  # bus.jpg shows four people
    assert all(row["frame_count"] >= 12 for row in per_track)
    video = ds.dataset(out / "videos").to_table().filter(ds.field("status") == "ok").to_pylist()[0]
    assert video["frames"] == 20 and video["fps"] == pytest.approx(29.97, abs=0.001)
    assert video["detections"] == table.num_rows
    assert (video["width"], video["height"]) == (640, 480)


def test_outputs_are_one_file_per_video_and_duckdb_reads_them(batch):
    out, _ = batch
    assert sorted(p.suffix for p in (out / "videos").iterdir()) == [".parquet", ".parquet"]
    assert len(list((out / "detections").iterdir())) == 1
    rows = duckdb.connect().execute(
        f"select count(*) as n, count(distinct track_id) as ids, min(time_s) as t0, "
        f"sum(case when left_ankle_x = 0 and left_ankle_y = 0 then 1 else 0 end) as zeros "
        f"from read_parquet('{out}/detections/*.parquet')"
    ).fetchone()
    assert rows[0] > 0 and rows[1] >= 3 and rows[2] == 0.0
    assert rows[3] == 0  # invisible keypoints are null, never (0, 0)


def test_rerunning_replaces_rather_than_duplicates(batch, weights: Path):
    out, summary = batch
    before = ds.dataset(out / "detections").to_table().num_rows
    footage = Path(summary["rows"][0]["path"]).parent
    settings = load_settings(overrides={"model": {"weights": str(weights), "image_size": 640}}, environ={})
    again = annotate_footage([str(footage / "bus_pan.MP4")], str(out), settings, force=True)
    assert (again["found"], again["ok"], again["skipped"]) == (1, 1, 0)
    assert ds.dataset(out / "detections").to_table().num_rows == before
    assert ds.dataset(out / "videos").to_table().num_rows == 2


def test_every_person_is_analysed_and_stats_prints_them(batch, capsys: pytest.CaptureFixture):
    from flows.cli import main

    out, _ = batch
    people = ds.dataset(out / "runners").to_table().to_pylist()
    detected = ds.dataset(out / "detections").to_table()
    assert {p["track_id"] for p in people} == set(detected["runner_id"].to_pylist())
    assert not any(p["is_runner"] for p in people)  # a photo panned sideways is nobody running
    deviations = ds.dataset(out / "deviations").to_table().to_pylist()
    assert deviations and all(d["flagged"] is None and d["reason"] for d in deviations)
    assert main(["stats", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "bus_pan.MP4" in printed and f"{len(people)} people, 0 running" in printed


def test_stats_on_an_empty_folder_says_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture):
    from flows.cli import main

    assert main(["stats", str(tmp_path)]) == 2
    assert "run `formwatch run FOOTAGE" in capsys.readouterr().err


def test_annotated_clip_is_written_and_browser_playable(batch):
    import av

    out, summary = batch
    video = next(r for r in summary["rows"] if r["status"] == "ok")
    assert video["clips"] == 1  # nobody runs in the panned photo: no highlight clips
    clip = out / "clips" / video["video_id"] / "annotated.mp4"
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.codec_context.pix_fmt) == ("h264", "yuv420p")
        assert not container.streams.audio
        assert sum(1 for _ in container.decode(stream)) == video["frames"]
    head = clip.read_bytes()[:4096]
    assert b"moov" in head  # faststart: the index comes first, so browsers play while loading


def test_clips_are_readable_by_others(batch):
    out, _ = batch
    for clip in (out / "clips").rglob("*.mp4"):
        assert clip.stat().st_mode & 0o044, f"{clip} is private to its owner"


def _latest_artifacts(key: str, out: Path) -> list[dict]:
    """Artifacts ``key`` of the runs that wrote to ``out`` (other tests' runs share the API)."""
    # prefect 3.8's own read helpers send nulls its server now rejects; ask the API directly
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        runs = client._client.post("/flow_runs/filter", json={"limit": 200, "offset": 0}).json()
        ids = [run["id"] for run in runs if run["parameters"].get("out_dir") == str(out)]
        body = {"artifacts": {"key": {"any_": [key]}, "flow_run_id": {"any_": ids}}, "limit": 5, "offset": 0,
                "sort": "CREATED_DESC"}
        response = client._client.post("/artifacts/filter", json=body)
    response.raise_for_status()
    return response.json()


def test_the_run_publishes_prefect_artifacts(batch):
    out, _ = batch
    tables = _latest_artifacts("formwatch-runners", out)
    assert tables and all(t["type"] == "table" and "bus_pan.MP4" in str(t["data"]) for t in tables)
    pages = _latest_artifacts("formwatch-clips", out)  # the batch and the re-run of one video
    assert pages and all(p["type"] == "markdown" and "annotated.mp4" in p["data"] for p in pages)
    assert any("corrupt.mov" in p["data"] and "failed" in p["data"] for p in pages)
    athletes = _latest_artifacts("formwatch-athletes", out)  # nobody is named in these videos
    assert athletes and all("No named athlete" in p["data"] for p in athletes)
    assert (out / "progress" / "progress.parquet").is_file()


def test_the_run_writes_the_report(batch):
    out, _ = batch
    page = (out / "report.html").read_text()
    assert "bus_pan.MP4" in page and "corrupt.mov" in page
    assert 'src="clips/' in page
