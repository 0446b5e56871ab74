"""Annotated clips: the whole video with every person drawn, and per-runner highlight reels.

Both stream the video one frame at a time (memory does not grow with its length) and write
browser-playable H.264 MP4 through :class:`~pipeline.render.writer.H264Writer`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import cv2
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.poses import Poses
from pipeline.render.annotators import (
    AngleAnnotator,
    BadgeAnnotator,
    CaptionAnnotator,
    Chips,
    FaceBlurAnnotator,
    LabelAnnotator,
    SkeletonAnnotator,
)
from pipeline.render.people import DetectionIndex, LiveBadges, RunnerFacts, caption_text, flagged_rows
from pipeline.render.settings import RenderSettings
from pipeline.render.writer import H264Writer
from pipeline.stream import ahead
from pipeline.video import DecodeDamage, Frame, read_frames

#: Annotation sizes are given for a 720 px tall frame and scaled with the frame's height.
REFERENCE_HEIGHT_PX = 720
#: The highlight crop's side is the runner's median box height times this.
CROP_BOX_HEIGHTS = 1.4
#: The crop centre is a centred moving average of the box centre over this long.
CROP_SMOOTHING_S = 0.5


@dataclass
class Overlay:
    """The annotators of one clip, sized for its frame height, in drawing order."""

    blur: FaceBlurAnnotator
    skeleton: SkeletonAnnotator
    angles: AngleAnnotator
    labels: LabelAnnotator
    badges: BadgeAnnotator

    @classmethod
    def for_height(cls, height_px: int) -> Overlay:
        scale = float(np.clip(height_px / REFERENCE_HEIGHT_PX, 0.4, 4.0))
        thick = max(1, round(scale))
        return cls(
            FaceBlurAnnotator(),
            SkeletonAnnotator(thickness=max(1, round(2 * scale)), radius=max(2, round(3 * scale))),
            AngleAnnotator(font_scale=0.45 * scale, thickness=thick, offset_px=max(4, round(10 * scale))),
            LabelAnnotator(font_scale=0.5 * scale, thickness=thick, padding_px=max(1, round(3 * scale))),
            BadgeAnnotator(font_scale=0.45 * scale, thickness=thick, padding_px=max(1, round(3 * scale))),
        )


def _blur_ids(poses: Poses, mode: str, keep: set[int]) -> set[int]:
    """Ids whose face is blurred: none, all, or ``others`` = everyone not in ``keep``."""
    ids = {int(i) for i in poses.track_id}
    return {"none": set(), "all": ids, "others": ids - keep}[mode]


class AnnotatedClip:
    """The whole analysed span with every detected person drawn, fed one frame at a time.

    Per frame: faces blurred per ``settings.blur_faces`` ('others' here means people who are
    not runners), skeletons (runners in their id's colour, others grey), elbow and trunk
    angles of side-view runners (runners.view == 'side') measured from that frame's
    keypoints, id labels above the boxes and badges of flagged faults beside them (shown
    within 0.5 s of the fault's worst_frame, or all along when fraction_flagged >= 0.5; see
    :class:`~pipeline.render.people.LiveBadges`). Draws on the frame it is given.
    """

    def __init__(self, out: H264Writer, people: DetectionIndex, runners: pa.Table, deviations: pa.Table, fps: float,
                 settings: RenderSettings) -> None:
        self.out, self.people, self.blur_mode = out, people, settings.blur_faces
        self.facts, self.badges = RunnerFacts.from_table(runners), LiveBadges(deviations, fps)
        self.runner_ids = {i for i, r in self.facts.is_runner.items() if r}
        self.measured = self.facts.side_view_ids() & self.runner_ids
        self.overlay: Overlay | None = None

    def add(self, frame: Frame) -> None:
        self.overlay = overlay = self.overlay or Overlay.for_height(frame.image.shape[0])
        image, poses = frame.image, self.people.at(frame.index)
        is_runner = self.facts.runner_mask(poses)
        overlay.blur.annotate(image, poses, _blur_ids(poses, self.blur_mode, self.runner_ids))
        overlay.skeleton.annotate(image, poses, is_runner)
        overlay.angles.annotate(image, poses, self.measured)
        overlay.labels.annotate(image, poses, is_runner)
        overlay.badges.annotate(image, poses, self.badges.at(frame.index))
        self.out.write(image)


def render_annotated(video_path: str | Path, fps: float, out_path: str | Path, detections: pa.Table,
                     runners: pa.Table, deviations: pa.Table, settings: RenderSettings | None = None,
                     start_s: float = 0.0, end_s: float | None = None) -> Path:
    """Write the video (from ``start_s`` to ``end_s``, the analysed span) with every detected person
    drawn (see :class:`AnnotatedClip`); returns ``out_path``. ``detections`` must carry
    ``runner_id``; output taller than ``settings.max_height_px`` is downscaled.
    """
    settings = settings or RenderSettings()
    people = DetectionIndex(detections)
    with H264Writer.from_settings(out_path, fps, settings) as out:
        clip = AnnotatedClip(out, people, runners, deviations, fps, settings)
        for frame in ahead(read_frames(video_path, fps, start_s, end_s, DecodeDamage()), name="decode"):
            clip.add(frame)  # damaged packets skipped
    return Path(out_path)


@dataclass(frozen=True)
class Segment:
    """Frames ``start..end`` (inclusive) around a fault's worst frame, with its caption."""

    start: int
    end: int
    caption: str


def highlight_segments(rows: list[dict], fps: float, window_s: float) -> list[Segment]:
    """One segment per flagged deviation row with a worst_frame: worst_frame +- round(window_s * fps)
    frames (starting no earlier than frame 0), ordered by start."""
    half = round(window_s * fps)
    segments = [Segment(max(0, r["worst_frame"] - half), r["worst_frame"] + half, caption_text(r))
                for r in rows if r["worst_frame"] is not None]
    return sorted(segments, key=lambda s: (s.start, s.end))


class CropPath:
    """A square window that follows one person: side = median box height x ``CROP_BOX_HEIGHTS``
    (at most the frame's short side), centre = box centre interpolated over every frame and
    smoothed by a centred moving average of ``CROP_SMOOTHING_S``; kept inside the frame."""

    def __init__(self, frames: np.ndarray, xyxy: np.ndarray, fps: float, frame_size: tuple[int, int]) -> None:
        """``frames`` (T,) and ``xyxy`` (T, 4) px of the person; ``frame_size`` (width, height) px."""
        if len(frames) == 0:
            raise ValueError("frames must hold at least one detection of the person")
        self.width, self.height = frame_size
        heights = xyxy[:, 3] - xyxy[:, 1]
        self.side = int(np.clip(round(np.median(heights) * CROP_BOX_HEIGHTS), 16, min(frame_size)))
        seen, inverse = np.unique(frames, return_inverse=True)
        counts = np.bincount(inverse)
        centre = [np.bincount(inverse, (xyxy[:, a] + xyxy[:, b]) / 2) / counts for a, b in ((0, 2), (1, 3))]
        self.first = int(seen[0])
        every = np.arange(self.first, int(seen[-1]) + 1)
        taps = max(1, round(CROP_SMOOTHING_S * fps)) | 1
        self.centre = np.stack([self._smooth(np.interp(every, seen, c), taps) for c in centre], axis=1)

    @staticmethod
    def _smooth(values: np.ndarray, taps: int) -> np.ndarray:
        padded = np.pad(values, taps // 2, mode="edge")
        return np.convolve(padded, np.ones(taps) / taps, mode="valid")

    def window(self, frame: int) -> tuple[int, int, int]:
        """(x0, y0, side) px of the crop in ``frame`` (held at the ends of the track)."""
        cx, cy = self.centre[int(np.clip(frame - self.first, 0, len(self.centre) - 1))]
        x0 = int(np.clip(round(cx - self.side / 2), 0, self.width - self.side))
        y0 = int(np.clip(round(cy - self.side / 2), 0, self.height - self.side))
        return x0, y0, self.side


def crop_poses(poses: Poses, x0: float, y0: float, scale: float) -> Poses:
    """``poses`` in the coordinates of a crop at (x0, y0) px resized by ``scale``."""
    origin = np.array([x0, y0], np.float32)
    return Poses(((poses.xyxy.reshape(-1, 2, 2) - origin) * scale).reshape(-1, 4).astype(np.float32),
                 poses.confidence, ((poses.keypoints - origin) * scale).astype(np.float32),
                 poses.keypoint_confidence, poses.track_id)


class HighlightPainter:
    """Crops a frame around one runner, resizes it to ``size`` px and draws skeletons (the
    runner in colour, others grey), blurring faces per ``blur_faces``."""

    def __init__(self, runner_id: int, people: DetectionIndex, fps: float, settings: RenderSettings) -> None:
        self.runner_id, self.people, self.fps, self.blur_mode = runner_id, people, fps, settings.blur_faces
        self.size = settings.highlight_size_px - settings.highlight_size_px % 2
        scale = self.size / REFERENCE_HEIGHT_PX * 1.5
        self.blur = FaceBlurAnnotator()
        self.skeleton = SkeletonAnnotator(thickness=max(1, round(2 * scale)), radius=max(2, round(3 * scale)))
        self.caption = CaptionAnnotator(font_scale=0.6 * scale, thickness=max(1, round(scale)))
        self.tag = Chips(font_scale=0.5 * scale, thickness=max(1, round(scale)))
        self.slowmo = settings.slowmo_factor
        self.path: CropPath | None = None

    def crop(self, index: int, image: np.ndarray) -> np.ndarray:
        """The drawn crop of frame ``index`` ((size, size, 3) uint8 BGR), without caption."""
        if self.path is None:
            frames, xyxy = self.people.track(self.runner_id)
            self.path = CropPath(frames, xyxy, self.fps, (image.shape[1], image.shape[0]))
        x0, y0, side = self.path.window(index)
        scale = self.size / side
        crop = cv2.resize(image[y0:y0 + side, x0:x0 + side], (self.size, self.size),
                          interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        poses = crop_poses(self.people.at(index), x0, y0, scale)
        self.blur.annotate(crop, poses, _blur_ids(poses, self.blur_mode, {self.runner_id}))
        self.skeleton.annotate(crop, poses, poses.track_id == self.runner_id)
        if self.slowmo > 1:
            self.tag.draw(crop, f"{self.slowmo}x slower", 0, 0, (0, 0, 0))
        return crop

    def captioned(self, crop: np.ndarray, caption: str) -> np.ndarray:
        """A copy of ``crop`` with ``caption`` along its bottom."""
        return self.caption.annotate(crop.copy(), caption)


class HighlightReel:
    """One runner's highlight reel, fed every frame of the video in order.

    Each segment is written in turn; frames of later segments that overlap the one being
    written are buffered (at most one window each) until it ends. ``out`` plays at the video's
    fps / ``painter.slowmo`` (see :func:`highlight_writer`), so each picture is encoded once
    and still shows that many times longer.
    """

    def __init__(self, out: H264Writer, segments: list[Segment], painter: HighlightPainter) -> None:
        self.out, self.segments, self.painter = out, segments, painter
        self.buffers: list[list[np.ndarray]] = [[] for _ in segments]
        self.head = 0
        self.first, self.last = segments[0].start, max(s.end for s in segments)

    def add(self, frame: Frame) -> None:
        if not self.first <= frame.index <= self.last:
            return
        segments, crop = self.segments, None
        for k in range(self.head, len(segments)):
            if segments[k].start <= frame.index <= segments[k].end:
                crop = self.painter.crop(frame.index, frame.image) if crop is None else crop
                image = self.painter.captioned(crop, segments[k].caption)
                if k == self.head:
                    self.out.write(image)
                else:
                    self.buffers[k].append(image)
        while self.head < len(segments) and frame.index >= segments[self.head].end:
            self.head += 1
            for image in self.buffers[self.head] if self.head < len(segments) else ():
                self.out.write(image)
            if self.head < len(segments):
                self.buffers[self.head].clear()

    def finish(self) -> None:
        """Write what is buffered of segments the video ended before."""
        for k in range(self.head + 1, len(self.segments)):
            for image in self.buffers[k]:
                self.out.write(image)
            self.buffers[k].clear()


def highlight_writer(out_path: str | Path, fps: float, settings: RenderSettings) -> H264Writer:
    """The writer of a highlight reel: full size, playing at ``fps`` / ``settings.slowmo_factor``,
    so every picture lasts that many frames of the video (slow motion, each picture encoded once)."""
    return H264Writer.from_settings(out_path, fps / settings.slowmo_factor, settings, downscale=False)


def render_highlight(video_path: str | Path, fps: float, out_path: str | Path, detections: pa.Table, runner_id: int,
                     deviations: pa.Table, settings: RenderSettings | None = None) -> Path | None:
    """Write one runner's highlight reel; returns ``out_path``, or None when the runner has no
    flagged deviation with a worst_frame (nothing is written then).

    For each flagged fault, in order of time: worst_frame +- ``settings.highlight_window_s``,
    played ``settings.slowmo_factor`` times slower (at fps / slowmo_factor), cropped to a
    square that follows the runner (see :class:`CropPath`), resized to
    ``settings.highlight_size_px``, with a caption naming the fault, its value and how often
    it was flagged. Faces of everyone else are blurred by default (``settings.blur_faces``).
    """
    settings = settings or RenderSettings()
    segments = highlight_segments(flagged_rows(deviations, runner_id), fps, settings.highlight_window_s)
    if not segments:
        return None
    people = DetectionIndex(detections)
    if not (people.ids == runner_id).any():
        raise ValueError(f"runner_id {runner_id} has no rows in detections")
    first, last = segments[0].start, max(s.end for s in segments)
    frames = read_frames(video_path, fps, start_s=first / fps, end_s=(last + 0.5) / fps, damage=DecodeDamage())
    with highlight_writer(out_path, fps, settings) as out:
        reel = HighlightReel(out, segments, HighlightPainter(runner_id, people, fps, settings))
        for frame in frames:
            reel.add(frame)
        reel.finish()
    return Path(out_path)


def render_video_clips(video_path: str | Path, fps: float, folder: Path, detections: pa.Table, runners: pa.Table,
                       deviations: pa.Table, settings: RenderSettings | None = None, start_s: float = 0.0,
                       end_s: float | None = None) -> int:
    """Write ``folder/annotated.mp4`` and ``folder/runner_<id>.mp4`` for every runner with a flagged
    fault, all from one decode of the video (``start_s`` to ``end_s``); returns the clips written.

    Decoding runs ahead in a thread of its own; each highlight crops the frame before the
    annotated clip draws on it. A reel's file is finished as soon as the video passes its last
    window, so only the reels whose windows overlap are open at once (each open H.264 encoder
    holds its own frames: with every reel open to the end, a 20 s crowd clip's 8 reels took the
    peak memory 1.22x a 5 s clip's).
    """
    settings = settings or RenderSettings()
    people = DetectionIndex(detections)
    runner_ids = cast(list[int], runners.filter(pc.field("is_runner")).column("track_id").to_pylist())  # non-null
    plans = {rid: highlight_segments(flagged_rows(deviations, rid), fps, settings.highlight_window_s)
             for rid in runner_ids if (people.ids == rid).any()}
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        annotated = stack.enter_context(H264Writer.from_settings(folder / "annotated.mp4", fps, settings))
        clip = AnnotatedClip(annotated, people, runners, deviations, fps, settings)
        reels = [HighlightReel(stack.enter_context(highlight_writer(folder / f"runner_{rid}.mp4", fps, settings)),
                               segments, HighlightPainter(rid, people, fps, settings))
                 for rid, segments in plans.items() if segments]
        rolling = list(reels)
        for frame in ahead(read_frames(video_path, fps, start_s, end_s, DecodeDamage()), name="decode"):
            for reel in rolling:  # before the annotated clip draws on the frame
                reel.add(frame)
            clip.add(frame)
            for reel in [reel for reel in rolling if frame.index >= reel.last]:
                _end_reel(reel)
                rolling.remove(reel)
        for reel in rolling:
            _end_reel(reel)
    return 1 + sum(reel.out.frames_written > 0 for reel in reels)


def _end_reel(reel: HighlightReel) -> None:
    """Write what the reel still buffers and finish its file (none where every segment lay
    outside the decoded span)."""
    reel.finish()
    if reel.out.frames_written:
        reel.out.close()
    else:
        reel.out.discard()
