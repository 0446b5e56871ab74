from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from clips import set_display_rotation, write_clip
from conftest import footage

from pipeline.video import (
    DecodeDamage,
    VideoError,
    content_id,
    discover_videos,
    find_videos,
    probe_video,
    read_frames,
)


def test_fps_is_the_containers_exact_rate(tmp_path: Path):
    clip = write_clip(tmp_path / "a.mp4", frames=10, fps=Fraction(30000, 1001))
    info = probe_video(clip)
    assert info.fps == pytest.approx(29.97003, abs=1e-5)
    frames = list(read_frames(clip, info.fps))
    assert [f.index for f in frames] == list(range(10))
    assert frames[9].time_s == pytest.approx(9 * 1001 / 30000)


def test_start_and_end_select_by_time(tmp_path: Path):
    clip = write_clip(tmp_path / "a.mp4", frames=30, fps=Fraction(10))
    frames = list(read_frames(clip, 10.0, start_s=1.0, end_s=2.0))
    assert [f.index for f in frames] == list(range(10, 20))


def test_phone_rotation_is_applied(tmp_path: Path):
    clip = set_display_rotation(write_clip(tmp_path / "phone.mp4", frames=3, size=(320, 240)), 90)
    info = probe_video(clip)
    assert (info.width, info.height, info.rotation_deg) == (240, 320, -90)
    image = next(read_frames(clip, info.fps)).image
    assert image.shape == (320, 240, 3)
    # the landscape gradient ran dark->bright left->right; turned clockwise it runs top->bottom
    green = image[:, :, 1].astype(float)
    assert green[:40].mean() < 80 and green[-40:].mean() > 170
    assert abs(green[:, :40].mean() - green[:, -40:].mean()) < 30


def test_real_portrait_phone_clip_keeps_its_orientation():
    info = probe_video(footage("group_jog_road_front.mp4"))
    assert (info.width, info.height) == (464, 832)
    assert next(read_frames(info.path, info.fps)).image.shape == (832, 464, 3)


def test_real_2997_clip_fps_is_2997():
    info = probe_video(footage("single_back_snow_park.mp4"))
    assert info.fps == pytest.approx(29.97, abs=0.001)
    assert info.fps != 30.0


def test_not_a_video_is_a_clear_error(tmp_path: Path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video")
    with pytest.raises(VideoError, match="notes.mp4 could not be opened as a video"):
        probe_video(bad)


def test_truncated_video_fails_or_stops_cleanly(tmp_path: Path):
    clip = write_clip(tmp_path / "a.mp4", frames=30)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[: len(clip.read_bytes()) // 2])
    with pytest.raises(VideoError):
        probe_video(cut)
        list(read_frames(cut, 30.0))


def test_find_videos_recurses_any_case_and_dedupes(tmp_path: Path):
    (tmp_path / "race" / "lap2").mkdir(parents=True)
    for name in ["race/a.MP4", "race/lap2/b.mov", "race/c.txt", "race/lap2/d.WebM", "e.mkv"]:
        (tmp_path / name).write_bytes(b"x")
    found = find_videos([tmp_path / "race", tmp_path / "race" / "lap2" / "b.mov", tmp_path / "e.mkv"],
                        (".mp4", ".mov", ".webm", ".mkv"))
    assert [p.name for p in found] == ["a.MP4", "b.mov", "d.WebM", "e.mkv"]
    with pytest.raises(FileNotFoundError, match="neither a video file nor a folder"):
        find_videos([tmp_path / "missing"], (".mp4",))


def test_content_id_depends_on_content_not_name(tmp_path: Path):
    (tmp_path / "a.mp4").write_bytes(b"same bytes")
    (tmp_path / "b.mp4").write_bytes(b"same bytes")
    (tmp_path / "c.mp4").write_bytes(b"other bytes")
    ids = [content_id(tmp_path / n) for n in ("a.mp4", "b.mp4", "c.mp4")]
    assert ids[0] == ids[1] != ids[2]
    assert len(ids[0]) == 16 and int(ids[0], 16) >= 0


def test_frames_stream_without_holding_the_video(tmp_path: Path):
    clip = write_clip(tmp_path / "a.mp4", frames=40)
    frames = read_frames(clip, 29.97)
    first = next(frames)
    assert isinstance(first.image, np.ndarray) and first.image.dtype == np.uint8
    frames.close()  # a generator: nothing beyond the current frame is kept


def test_a_damaged_packet_is_a_lost_frame_not_a_failed_video(tmp_path: Path):
    from hostile import damaged

    clip = damaged(tmp_path / "damaged.mp4")
    info = probe_video(clip)
    lost = DecodeDamage()
    frames = list(read_frames(clip, info.fps, damage=lost))
    assert lost.frames_lost >= 1 and len(frames) + lost.frames_lost == 30
    assert "Invalid data" in lost.reason and lost.first_lost is not None
    assert len({f.index for f in frames}) == len(frames) and max(f.index for f in frames) == 29  # times kept
    with pytest.raises(VideoError, match="damaged.mp4: decoding failed at frame"):
        list(read_frames(clip, info.fps))  # without a record of the damage, it is an error


def test_a_still_image_named_like_a_video_is_refused(tmp_path: Path):
    from hostile import jpeg

    with pytest.raises(VideoError, match=r"photo.mp4 is a still image \(JPEG\), not a video"):
        probe_video(jpeg(tmp_path / "photo.mp4"))


def test_a_folder_named_like_a_video_is_passed_over_with_a_reason(tmp_path: Path):
    (tmp_path / "x.mp4").mkdir()
    write_clip(tmp_path / "x.mp4" / "inside.mp4", frames=2)
    found = discover_videos([tmp_path], (".mp4",))
    assert [p.name for p in found.videos] == ["inside.mp4"]
    assert found.passed_over == [(tmp_path / "x.mp4", "a folder whose name ends like a video, not a video file")]
