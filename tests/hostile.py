"""A hostile corpus, generated at test time with PyAV: every kind of input a nightly job meets.

Each entry is (file name, builder, expected status, words the videos/ row's error must hold).
The clips are tiny (96x64 px, a handful of frames) except the 4K one (two frames), so the
whole corpus runs through the pose model in seconds.
"""

from __future__ import annotations

import random
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from clips import person_photo, set_display_rotation, write_clip

SMALL = (96, 64)


def _encode(path: Path, codec: str, frames: int, size: tuple[int, int], fmt: str | None = None,
            pix_fmt: str = "yuv420p") -> Path:
    """A clip of ``frames`` frames of a panned photo, in ``codec`` inside the container of ``path``."""
    width, height = size
    base = cv2.resize(person_photo(), (width, height))
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=Fraction(25, 1))
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.roll(base, 2 * i, axis=1), format="bgr24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def good(path: Path, frames: int = 4, size: tuple[int, int] = SMALL) -> Path:
    return write_clip(path, frames=frames, size=size, image=person_photo())


def empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def text(path: Path) -> Path:
    path.write_text("meeting notes, not a video\n")
    return path


def truncated(path: Path) -> Path:
    data = good(path, frames=8).read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def audio_only(path: Path) -> Path:
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=44100)
        stream.layout = "mono"
        samples = np.zeros((1, 1024), np.float32)
        for i in range(20):
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 44100, i * 1024
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def good_upper(path: Path) -> Path:
    return good(path, frames=5)  # another content: a copy of good.mp4 would be skipped as a duplicate


def good_html(path: Path) -> Path:
    return good(path, frames=6)


def rotated(path: Path) -> Path:
    return set_display_rotation(good(path), 90)


def uhd(path: Path) -> Path:
    return good(path, frames=2, size=(3840, 2160))


def vp9(path: Path) -> Path:
    return _encode(path, "libvpx-vp9", 4, SMALL)


def mpeg4_avi(path: Path) -> Path:
    return _encode(path, "mpeg4", 4, SMALL, fmt="avi")


def damaged(path: Path, frames: int = 30) -> Path:
    """An MP4 whose media data has 400 random bytes two thirds in: some packets do not decode."""
    data = bytearray(good(path, frames=frames, size=(160, 120)).read_bytes())
    mdat, moov = data.find(b"mdat"), data.find(b"moov")
    end = moov if moov > mdat else len(data)
    middle = mdat + 8 + 2 * (end - mdat - 8) // 3
    rng = random.Random(1)
    data[middle:middle + 400] = bytes(rng.randrange(256) for _ in range(400))
    path.write_bytes(bytes(data))
    return path


def jpeg(path: Path) -> Path:
    ok, encoded = cv2.imencode(".jpg", person_photo())
    path.write_bytes(encoded.tobytes())
    return path


def folder(path: Path) -> Path:
    path.mkdir()
    return path


#: name -> (builder, status, words the error holds). Status None: not a row (a log line instead).
CORPUS = {
    "good.mp4": (good, "ok", None),
    "empty.mp4": (empty, "failed", "empty.mp4"),
    "notes.mp4": (text, "failed", "could not be opened as a video"),
    "truncated.mp4": (truncated, "failed", "truncated.mp4"),
    "audio_only.mp4": (audio_only, "failed", "holds no video stream"),
    "rotated.mp4": (rotated, "ok", None),
    "uhd_4k.mp4": (uhd, "ok", None),
    "vp9.webm": (vp9, "ok", None),
    "mpeg4.avi": (mpeg4_avi, "ok", None),
    "UPPER_CASE.MP4": (good_upper, "ok", None),
    "<img src=x onerror=alert(1)>&amp.mp4": (good_html, "ok", None),
    "damaged.mp4": (damaged, "partial", "frames did not decode"),
    "photo.mp4": (jpeg, "failed", "is a still image (JPEG), not a video"),
    "folder.mp4": (folder, None, "a folder whose name ends like a video"),
}


def build_corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, (builder, _, _) in CORPUS.items():
        builder(root / name)
    return root
