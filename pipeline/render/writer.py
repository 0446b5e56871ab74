"""``H264Writer``: browser-playable H.264 MP4 written atomically with PyAV.

The file plays in every browser: libx264, yuv420p, even width and height, the moov atom
before mdat (``movflags=+faststart``) and no audio. The frame rate is the exact rational
behind the float fps (29.97002997 becomes 30000/1001). Frames go to a temporary file in
the destination folder, renamed over the destination only when the writer closes
without an exception, so a failed render never leaves a half-written clip behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import cv2
import numpy as np

from pipeline.render.settings import RenderSettings

_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov"}


def exact_rate(fps: float) -> Fraction:
    """The rational frame rate behind a float fps (29.97002997... -> 30000/1001)."""
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive finite number of frames/s, got {fps!r}")
    return Fraction(fps).limit_denominator(100000)


def output_size(width: int, height: int, max_height_px: int | None) -> tuple[int, int]:
    """(width, height) in px of the encoded picture: scaled down to ``max_height_px`` (aspect
    kept) when taller, then made even by dropping the odd last column/row."""
    if max_height_px is not None and height > max_height_px:
        width, height = max(2, round(width * max_height_px / height)), max_height_px
    return width - width % 2, height - height % 2


def fit_frame(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` (H, W, 3) uint8 BGR brought to ``size`` (width, height): area-resized when it
    shrinks by more than the odd pixel, else cropped by that pixel."""
    width, height = size
    h, w = image.shape[:2]
    if w - width > 1 or h - height > 1 or w < width or h < height:
        return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    return image[:height, :width]


class H264Writer:
    """Context manager writing BGR frames to an H.264 MP4 at ``fps``.

    The picture size is taken from the first frame (every later frame must match it);
    frames taller than ``max_height_px`` are downscaled, odd sizes lose their last
    column/row. Use as ``with H264Writer(path, fps) as out: out.write(image)``.
    """

    def __init__(
        self, path: str | Path, fps: float, crf: int = 23, preset: str = "veryfast",
        max_height_px: int | None = None,
    ) -> None:
        self.path = Path(path)
        self.format = _FORMATS.get(self.path.suffix.lower())
        if self.format is None:
            raise ValueError(f"path must end in one of {sorted(_FORMATS)}, got {str(path)!r}")
        if not 0 <= crf <= 51:
            raise ValueError(f"crf must be in 0..51, got {crf!r}")
        if max_height_px is not None and max_height_px < 2:
            raise ValueError(f"max_height_px must be at least 2 px or None, got {max_height_px!r}")
        self.rate = exact_rate(fps)
        self.crf, self.preset, self.max_height_px = crf, preset, max_height_px
        self.frames_written = 0
        self._closed = False
        self._discarded = False
        self._source_shape: tuple[int, ...] | None = None
        self._size: tuple[int, int] | None = None
        self._tmp: Path | None = None
        self._container: av.container.OutputContainer | None = None
        self._stream: av.video.stream.VideoStream | None = None

    @classmethod
    def from_settings(
        cls, path: str | Path, fps: float, settings: RenderSettings, downscale: bool = True
    ) -> H264Writer:
        """A writer using ``settings``' crf and preset (and max_height_px when ``downscale``)."""
        return cls(path, fps, settings.crf, settings.preset, settings.max_height_px if downscale else None)

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None and not self._discarded:
            self.close()
        else:
            self.discard()

    def _open(self, image: np.ndarray) -> None:
        height, width = image.shape[:2]
        self._size = output_size(width, height, self.max_height_px)
        if min(self._size) < 2:
            raise ValueError(f"image of {width}x{height} px is too small to encode")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.stem}.", suffix=self.path.suffix)
        os.close(handle)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(name, 0o666 & ~umask)  # mkstemp makes 0600; a clip is meant to be shared
        self._tmp = Path(name)
        self._container = av.open(name, "w", format=self.format, options={"movflags": "+faststart"})
        stream = self._container.add_stream(
            "libx264", rate=self.rate, options={"crf": str(self.crf), "preset": self.preset}
        )
        stream.width, stream.height = self._size
        stream.pix_fmt = "yuv420p"
        # x264 on every core, a frame per thread: about twice the speed of PyAV's default slice
        # threading here (464x832, veryfast: 3.6 against 6.9 ms a frame on 2 cores)
        stream.codec_context.thread_count = 0
        stream.codec_context.thread_type = "FRAME"
        stream.codec_context.time_base = 1 / self.rate
        stream.time_base = 1 / self.rate
        self._stream = stream
        self._source_shape = image.shape

    def write(self, image: np.ndarray) -> None:
        """Encode one frame: ``image`` is (H, W, 3) uint8 BGR, the same shape as the first."""
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            got = getattr(image, "shape", type(image).__name__), getattr(image, "dtype", "")
            raise ValueError(f"image must be an (H, W, 3) uint8 BGR array, got {got}")
        if self._container is None:
            self._open(image)
        elif image.shape != self._source_shape:
            raise ValueError(f"image shape {image.shape} differs from the first frame's {self._source_shape}")
        container, stream, size = self._container, self._stream, self._size
        assert container is not None and stream is not None and size is not None  # all set by _open
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(fit_frame(image, size)), format="bgr24")
        frame.pts = self.frames_written
        frame.time_base = stream.codec_context.time_base
        for packet in stream.encode(frame):
            container.mux(packet)
        self.frames_written += 1

    def close(self) -> Path:
        """Flush the encoder and move the finished file to ``path``. Raises ValueError if no
        frame was written (there is no picture size to encode)."""
        if self._closed:
            return self.path
        if self._container is None:
            raise ValueError(f"no frame was written to {self.path}; nothing to encode")
        stream, tmp = self._stream, self._tmp
        assert stream is not None and tmp is not None  # set with the container by _open
        try:
            for packet in stream.encode():
                self._container.mux(packet)
            self._container.close()
        except BaseException:
            self.discard()
            raise
        # the stream holds the encoder (x264's threads and look-ahead pictures, ~30 MB at 480x480):
        # let it go now, not when this writer is garbage
        self._container, self._stream = None, None
        os.replace(tmp, self.path)
        self._tmp, self._closed = None, True
        return self.path

    def discard(self) -> None:
        """Abandon the clip: close the container and delete the temporary file."""
        self._discarded = True
        if self._container is not None:
            # the file is deleted anyway; the exception that got us here is the one that matters
            with contextlib.suppress(av.error.FFmpegError):
                self._container.close()
            self._container, self._stream = None, None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None
