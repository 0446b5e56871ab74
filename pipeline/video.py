"""Reading footage: discovery, probing and streaming decode with PyAV.

fps is kept as the container's exact rational rate converted to float (29.97 stays
29.97, never 29 or 30). Frames come out upright: the rotation a phone writes into the
display matrix is applied. Decoding streams one frame at a time, so memory does not
grow with the length of the video. Frame indices count the frames that actually decode
(headers can claim more than the stream holds), and time is ``index / fps``.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np


class VideoError(Exception):
    """A file that cannot be read as video; the message is a sentence for the user."""


#: errno values of I/O failures that can pass: network shares dropping out, timeouts, locks.
TRANSIENT_ERRNOS = frozenset({
    errno.EAGAIN, errno.EBUSY, errno.EINTR, errno.EIO, errno.ETIMEDOUT, errno.ESTALE, errno.ENOLCK,
    errno.ECONNRESET, errno.ECONNABORTED, errno.ECONNREFUSED, errno.ENETDOWN, errno.ENETUNREACH,
    errno.ENETRESET, errno.EHOSTDOWN, errno.EHOSTUNREACH, errno.EREMOTEIO,
})


def is_transient(exc: BaseException) -> bool:
    """True for an I/O error worth retrying; False for a corrupt, missing or forbidden file."""
    if isinstance(exc, VideoError):
        return False
    if isinstance(exc, TimeoutError | ConnectionError):
        return True
    code = getattr(exc, "errno", None)
    return isinstance(exc, OSError | av.error.FFmpegError) and abs(code or 0) in TRANSIENT_ERRNOS


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about a video's first video stream.

    ``width`` and ``height`` are of the upright picture (after rotation), in pixels.
    ``frames_declared`` is the header's count (0 when the container has none); the
    number that really decodes can differ.
    """

    path: str
    fps: float
    width: int
    height: int
    rotation_deg: int
    frames_declared: int
    duration_s: float | None
    codec: str


@dataclass(frozen=True)
class Frame:
    """One decoded, upright frame: ``image`` is (H, W, 3) uint8 BGR; ``time_s = index / fps``."""

    index: int
    time_s: float
    image: np.ndarray


@dataclass(frozen=True)
class Discovery:
    """The video files found under the sources, and the entries passed over with the reason."""

    videos: list[Path]
    passed_over: list[tuple[Path, str]]


def discover_videos(sources: Iterable[str | Path], extensions: Iterable[str]) -> Discovery:
    """Expand files and folders into a sorted, de-duplicated list of video files.

    Folders are searched recursively for names ending in one of ``extensions`` (any case).
    A file named explicitly is kept whatever its extension, so a user can force one in.
    A folder whose name ends in a video extension is passed over with that reason. A
    source that does not exist raises ``FileNotFoundError``.
    """
    wanted = tuple(ext.lower() for ext in extensions)
    found: dict[Path, None] = {}
    passed_over: list[tuple[Path, str]] = []
    for source in sources:
        path = Path(source).expanduser()
        if path.is_dir():
            for match in sorted(p for p in path.rglob("*") if p.name.lower().endswith(wanted)):
                if match.is_file():
                    found.setdefault(match.resolve(), None)
                else:
                    passed_over.append((match, "a folder whose name ends like a video, not a video file"))
        elif path.is_file():
            found.setdefault(path.resolve(), None)
        else:
            raise FileNotFoundError(f"Source {str(source)!r} is neither a video file nor a folder.")
    return Discovery(list(found), passed_over)


def find_videos(sources: Iterable[str | Path], extensions: Iterable[str]) -> list[Path]:
    """The video files of :func:`discover_videos`."""
    return discover_videos(sources, extensions).videos


def content_id(path: str | Path, chunk_bytes: int = 1 << 20) -> str:
    """A stable id for a file's content: the first 16 hex digits of its SHA-256.

    Remembered for the process by path, size and modification time, so a file planned twice
    in one command (the head start and the flow) is read once.
    """
    stat = os.stat(path)
    return _content_id(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns, chunk_bytes)


@functools.lru_cache(maxsize=4096)
def _content_id(path: str, _size: int, _mtime_ns: int, chunk_bytes: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def path_id(path: str | Path) -> str:
    """An id for a file that cannot be read: ``path-`` and 16 hex digits of its path's SHA-256."""
    return "path-" + hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:16]


def _open(path: str | Path) -> av.container.InputContainer:
    try:
        container = av.open(str(path), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        if is_transient(exc):
            raise
        raise VideoError(f"{Path(path).name} could not be opened as a video ({exc}).") from exc
    if not container.streams.video:
        container.close()
        raise VideoError(f"{Path(path).name} holds no video stream.")
    if container.format.name in STILL_IMAGE_FORMATS or container.format.name.endswith("_pipe"):
        kind = container.format.name.removesuffix("_pipe").upper()
        container.close()
        raise VideoError(f"{Path(path).name} is a still image ({kind}), not a video.")
    return container


#: Demuxers of still images: a JPEG named .mp4 would otherwise read as a one-frame video.
STILL_IMAGE_FORMATS = frozenset({"image2", "gif", "webp", "apng", "ico", "bmp_pipe"})


def _stream_fps(stream: av.video.stream.VideoStream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate and float(rate) > 0:
            return float(rate)
    raise VideoError("the video stream declares no frame rate")


def _upright(image: np.ndarray, rotation_deg: int) -> np.ndarray:
    """Apply the display matrix: ``rotation_deg`` is counter-clockwise, a multiple of 90."""
    quarter_turns = round(rotation_deg / 90) % 4
    return np.ascontiguousarray(np.rot90(image, quarter_turns)) if quarter_turns else image


def probe_video(path: str | Path) -> VideoInfo:
    """Read the header and the first frame (for rotation); raise VideoError if unreadable."""
    container = _open(path)
    try:
        stream = container.streams.video[0]
        fps = _stream_fps(stream)
        first = next((f for f in _decoded(container, stream) if not isinstance(f, BaseException)), None)
        if first is None:
            raise VideoError(f"{Path(path).name}: no frame could be decoded.")
        rotation = int(round(getattr(first, "rotation", 0) or 0))
        width, height = first.width, first.height
        if round(rotation / 90) % 2:
            width, height = height, width
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        return VideoInfo(
            path=str(path), fps=fps, width=width, height=height, rotation_deg=rotation,
            frames_declared=int(stream.frames or 0), duration_s=duration,
            codec=stream.codec_context.name,
        )
    except VideoError:
        raise
    except av.error.FFmpegError as exc:
        if is_transient(exc):
            raise
        raise VideoError(f"{Path(path).name} could not be read ({exc}).") from exc
    finally:
        container.close()


@dataclass
class DecodeDamage:
    """What did not decode while a video was read: each packet that failed is one lost frame."""

    frames_lost: int = 0
    first_lost: int | None = None
    reason: str | None = None

    def lose(self, index: int, exc: BaseException) -> None:
        self.frames_lost += 1
        if self.first_lost is None:
            self.first_lost, self.reason = index, str(exc)


def _decoded(container: av.container.InputContainer, stream: av.video.stream.VideoStream
             ) -> Iterator[av.VideoFrame | BaseException]:
    """The stream's frames in order; a packet that fails to decode yields its error instead
    (a lost frame) and decoding goes on with the next one. A demuxer error ends the stream
    with its error."""
    packets = container.demux(stream)
    while True:
        try:
            packet = next(packets)
        except StopIteration:
            return
        except av.error.FFmpegError as exc:
            if is_transient(exc):
                raise
            yield exc
            return
        try:
            frames = packet.decode()
        except av.error.FFmpegError as exc:
            if is_transient(exc):
                raise
            yield exc
            continue
        yield from frames


def read_frames(path: str | Path, fps: float, start_s: float = 0.0, end_s: float | None = None,
                damage: DecodeDamage | None = None) -> Iterator[Frame]:
    """Yield upright BGR frames with ``start_s <= index / fps < end_s``.

    Frames before ``start_s`` are decoded but not converted (cheap); decoding stops at
    ``end_s``. A packet that does not decode (a damaged file) counts as one lost frame: its
    index is skipped, so later frames keep their time, and it is recorded in ``damage``;
    without ``damage`` it raises VideoError naming the frame.
    """
    container = _open(path)
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        index = -1
        for frame in _decoded(container, stream):
            index += 1
            time_s = index / fps
            if end_s is not None and time_s >= end_s:
                break
            if isinstance(frame, BaseException):
                if damage is None:
                    raise VideoError(f"{Path(path).name}: decoding failed at frame {index} ({frame}).")
                if time_s >= start_s:
                    damage.lose(index, frame)
                continue
            if time_s < start_s:
                continue
            image = frame.to_ndarray(format="bgr24")
            yield Frame(index, time_s, _upright(image, int(round(getattr(frame, "rotation", 0) or 0))))
    finally:
        container.close()
