"""H264Writer: browser-playable MP4 (h264, yuv420p, even size, faststart, exact rate), written atomically."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from pipeline.render.writer import H264Writer, exact_rate, output_size


def top_level_boxes(path: Path) -> dict[str, int]:
    """Offset of the first top-level ISO-BMFF box of each type in an MP4 file."""
    data, boxes, at = path.read_bytes(), {}, 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        if size == 1:
            size = struct.unpack(">Q", data[at + 8:at + 16])[0]
        elif size == 0:
            size = len(data) - at
        boxes.setdefault(kind.decode("latin-1"), at)
        at += max(size, 8)
    return boxes


def probe(path: Path) -> dict:
    """What a player sees: codec, pixel format, size, decoded frames, rate, duration, audio streams."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        decoded = sum(1 for _ in container.decode(stream))
        return {"codec": stream.codec_context.name, "pix_fmt": stream.codec_context.pix_fmt,
                "width": stream.codec_context.width, "height": stream.codec_context.height,
                "frames": decoded, "rate": stream.average_rate, "audio": len(container.streams.audio),
                "duration_s": float(stream.duration * stream.time_base)}


def frames(count: int, width: int, height: int):
    rng = np.random.default_rng(0)
    for _ in range(count):
        yield rng.integers(0, 255, (height, width, 3), np.uint8)


def test_writes_browser_playable_mp4(tmp_path):
    with H264Writer(tmp_path / "clip.mp4", 30000 / 1001) as out:
        for image in frames(12, 64, 48):
            out.write(image)
    got = probe(tmp_path / "clip.mp4")
    assert got == {"codec": "h264", "pix_fmt": "yuv420p", "width": 64, "height": 48, "frames": 12,
                   "rate": Fraction(30000, 1001), "audio": 0, "duration_s": pytest.approx(12 * 1001 / 30000, abs=1e-3)}
    # (the mp4 edit list holds the duration in milliseconds)
    boxes = top_level_boxes(tmp_path / "clip.mp4")
    assert boxes["moov"] < boxes["mdat"]
    assert [p.name for p in tmp_path.iterdir()] == ["clip.mp4"]


def test_odd_sizes_become_even(tmp_path):
    with H264Writer(tmp_path / "odd.mp4", 25.0) as out:
        for image in frames(3, 321, 241):
            out.write(image)
    got = probe(tmp_path / "odd.mp4")
    assert (got["width"], got["height"], got["frames"]) == (320, 240, 3)


@pytest.mark.parametrize(("size", "max_height", "expected"), [
    ((321, 241), None, (320, 240)),
    ((1920, 1080), 1080, (1920, 1080)),
    ((3840, 2160), 1080, (1920, 1080)),
    ((1080, 1920), 1080, (608, 1080)),   # portrait: 607.5 -> 608
    ((101, 99), 50, (50, 50)),
])
def test_output_size(size, max_height, expected):
    assert output_size(*size, max_height) == expected


@pytest.mark.parametrize(("fps", "rate"), [
    (30000 / 1001, Fraction(30000, 1001)), (24000 / 1001, Fraction(24000, 1001)), (25.0, Fraction(25)),
    (59.94005994005994, Fraction(60000, 1001)), (240.0, Fraction(240)),
])
def test_exact_rate(fps, rate):
    assert exact_rate(fps) == rate


def test_exception_leaves_no_file_and_keeps_the_old_one(tmp_path):
    target = tmp_path / "clip.mp4"
    target.write_bytes(b"previous render")
    with pytest.raises(RuntimeError, match="boom"), H264Writer(target, 25.0) as out:
        for image in frames(5, 64, 48):
            out.write(image)
        raise RuntimeError("boom")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]
    assert target.read_bytes() == b"previous render"


def test_no_frames_is_an_error_and_no_file(tmp_path):
    with pytest.raises(ValueError, match="no frame"), H264Writer(tmp_path / "empty.mp4", 25.0):
        pass
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"path": "clip.avi"}, "path must end"),
    ({"fps": 0.0}, "fps must be"),
    ({"fps": float("nan")}, "fps must be"),
    ({"crf": 60}, "crf must be"),
    ({"max_height_px": 1}, "max_height_px"),
])
def test_bad_arguments_are_named(tmp_path, kwargs, message):
    args = {"path": tmp_path / "clip.mp4", "fps": 25.0, **kwargs}
    with pytest.raises(ValueError, match=message):
        H264Writer(**args)


def test_frames_must_match_the_first(tmp_path):
    with pytest.raises(ValueError, match="differs from the first"), H264Writer(tmp_path / "c.mp4", 25.0) as out:
        out.write(np.zeros((48, 64, 3), np.uint8))
        out.write(np.zeros((48, 66, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8 BGR"), H264Writer(tmp_path / "d.mp4", 25.0) as out:
        out.write(np.zeros((48, 64), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_closing_lets_the_encoder_go_while_the_writer_lives(tmp_path):
    """A video's highlight reels are finished one by one during one pass, their writers kept until
    its end: each must let its encoder (x264's threads and look-ahead pictures, ~30 MB at 480 px)
    go when closed, or memory grows with the runners of a long video."""
    out = H264Writer(tmp_path / "clip.mp4", 30)
    for image in frames(4, 64, 48):
        out.write(image)
    held = [value for value in vars(out).values() if isinstance(value, (av.container.Container, av.stream.Stream))]
    assert held  # while open: the container and its stream
    out.close()
    assert out.frames_written == 4
    assert not [value for value in vars(out).values()
                if isinstance(value, (av.container.Container, av.stream.Stream))]
