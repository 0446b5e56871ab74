"""Builders of small test videos, synthesised at test time (no footage needed)."""

from __future__ import annotations

import itertools
import struct
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

#: Keypoints of a standing figure as (dx, dy) in figure heights from the top centre of its box.
FIGURE = {
    "nose": (0, .06), "left_eye": (-.02, .05), "right_eye": (.02, .05), "left_ear": (-.04, .06),
    "right_ear": (.04, .06), "left_shoulder": (-.1, .2), "right_shoulder": (.1, .2),
    "left_elbow": (-.16, .35), "right_elbow": (.16, .35), "left_wrist": (-.08, .46), "right_wrist": (.08, .46),
    "left_hip": (-.07, .5), "right_hip": (.07, .5), "left_knee": (-.07, .72), "right_knee": (.07, .72),
    "left_ankle": (-.07, .95), "right_ankle": (.07, .95),
}


def person_photo() -> np.ndarray:
    """A real photo with people in it, shipped inside the ultralytics package (BGR)."""
    from ultralytics.utils import ASSETS

    return cv2.imread(str(ASSETS / "bus.jpg"))


def write_clip(
    path: Path,
    frames: int = 12,
    fps: Fraction = Fraction(30000, 1001),
    size: tuple[int, int] = (320, 240),
    image: np.ndarray | None = None,
) -> Path:
    """Write an H.264 MP4 of ``frames`` frames at ``fps``; ``size`` is (width, height) in px.

    With ``image``, each frame is that image resized and shifted 2 px further right than
    the last (a slow pan); otherwise frames are a gradient with the frame number drawn on.
    """
    width, height = size
    base = cv2.resize(image, (width, height)) if image is not None else None

    def picture(i: int) -> np.ndarray:
        if base is not None:
            return np.roll(base, 2 * i, axis=1)
        drawn = np.zeros((height, width, 3), np.uint8)
        drawn[:, :, 1] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
        cv2.putText(drawn, str(i), (10, height // 2), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
        return drawn

    return _encode(path, fps, (picture(i) for i in range(frames)))


#: x264 settings that encode the same pictures to the same file every time (see :func:`_encode`).
DETERMINISTIC_X264 = {"x264-params": "rc-lookahead=0"}


def _encode(path: Path, fps: Fraction, pictures: Iterable[np.ndarray]) -> Path:
    """Write BGR ``pictures`` (all one size) as an H.264 MP4 at ``fps``, the same file every time.

    x264's rate-control lookahead (and the macroblock tree it feeds) runs in threads whose timing
    changed its choices: five encodes of the same 75 pictures, one process, decoded to five
    different clips, with one thread or many. A test that reads a clip made this way (gravity on
    the beach at 12.5 fps, which misread on some of them) got a different clip each run. Without
    the lookahead every encode is identical.
    """
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=fps, options=DETERMINISTIC_X264)
    for i, picture in enumerate(pictures):
        if i == 0:
            stream.height, stream.width = picture.shape[:2]
            stream.pix_fmt = "yuv420p"
        for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="bgr24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return path


def set_display_rotation(path: Path, clockwise_deg: int) -> Path:
    """Rewrite the MP4 track-header matrix as a phone does for a portrait recording.

    Only 90 and 270 (and 0) are supported; the pixel data stays landscape.
    """
    one, minus_one = 0x00010000, -0x00010000
    matrices = {
        0: (one, 0, 0, 0, one, 0),
        90: (0, one, 0, minus_one, 0, 0),
        270: (0, minus_one, 0, one, 0, 0),
    }
    a, b, u, c, d, v = matrices[clockwise_deg]
    data = bytearray(path.read_bytes())
    at = data.index(b"tkhd")
    version = data[at + 4]
    if version != 0:
        raise ValueError("only version-0 tkhd boxes are handled")
    matrix_at = at + 4 + 40
    data[matrix_at:matrix_at + 36] = struct.pack(">9i", a, b, u, c, d, v, 0, 0, 0x40000000)
    path.write_bytes(bytes(data))
    return path


def write_held(source: Path, path: Path, hold: int, start: int = 0, frames: int | None = None) -> Path:
    """Write ``source``'s pictures from ``start`` (``frames`` of them; all without) each held for
    ``hold`` frames at the source's frame rate: slow motion made the way an editor without
    frame interpolation makes it, ``hold`` times slower, with a known answer."""
    with av.open(str(source)) as reader:
        video = reader.streams.video[0]
        rate = video.average_rate or Fraction(30)
        pictures = []
        for index, frame in enumerate(reader.decode(video)):
            if index >= start:
                pictures.append(frame.to_ndarray(format="bgr24"))
            if frames is not None and len(pictures) >= frames:
                break
    return _encode(path, rate, (picture for picture in pictures for _ in range(hold)))


def write_resampled(source: Path, path: Path, every: int = 1, slow: int = 1, frames: int | None = None,
                    scale: float = 1.0) -> Path:
    """Write every ``every``-th picture of ``source`` (the first ``frames`` written; all without)
    at 1/(``every`` * ``slow``) of its frame rate: ``every`` films the same run with a slower
    camera, ``slow`` plays it as a phone plays its high-speed capture, ``slow`` times slower
    with no held or blended pictures. ``scale`` shrinks the pictures (area-averaged, as a
    camera's sensor would: the same runner filmed from further away; even sizes, for 4:2:0)."""

    def picture(frame: av.VideoFrame) -> np.ndarray:
        image = frame.to_ndarray(format="bgr24")
        if scale == 1.0:
            return image
        size = (max(2, round(image.shape[1] * scale / 2) * 2), max(2, round(image.shape[0] * scale / 2) * 2))
        return cv2.resize(image, size, interpolation=cv2.INTER_AREA)

    with av.open(str(source)) as reader:
        video = reader.streams.video[0]
        kept = (picture(frame) for index, frame in enumerate(reader.decode(video))
                if index % every == 0)  # streamed: a 1080x1920 clip is 6 MB a picture
        return _encode(path, (video.average_rate or Fraction(30)) / (every * slow), itertools.islice(kept, frames))
