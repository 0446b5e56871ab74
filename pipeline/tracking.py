"""Frame-to-frame identity with Ultralytics' BYTETrack / BoT-SORT, driven directly.

Ultralytics' ``model.track`` builds its tracker as if every video ran at 30 fps; here the
tracker is built per video and its lost-track buffer is converted from seconds to frames
with the video's real fps.
"""

from __future__ import annotations

import numpy as np

from pipeline.camera import CameraMotion
from pipeline.config import TrackingSettings
from pipeline.poses import Poses


def buffer_frames(seconds: float, fps: float) -> int:
    """A duration in seconds as a whole number of frames at ``fps`` (at least one)."""
    return max(1, round(seconds * fps))


class PoseTracker:
    """Gives each person a track id that persists across frames of one video.

    ``update`` is called once per frame, in order, with that frame's detections; it returns
    the tracked people only (new, unconfirmed tracks are withheld until confirmed).
    """

    def __init__(self, settings: TrackingSettings, fps: float) -> None:
        from ultralytics.trackers.bot_sort import BOTSORT
        from ultralytics.trackers.byte_tracker import BYTETracker
        from ultralytics.utils import IterableSimpleNamespace

        args = IterableSimpleNamespace(
            tracker_type=settings.tracker,
            track_high_thresh=settings.high_confidence,
            track_low_thresh=settings.low_confidence,
            new_track_thresh=settings.new_track_confidence,
            track_buffer=buffer_frames(settings.lost_track_buffer_s, fps),
            match_thresh=settings.match_threshold,
            fuse_score=True,
            gmc_method=None if settings.global_motion == "none" else settings.global_motion,
            proximity_thresh=0.5,
            appearance_thresh=0.8,
            with_reid=False,
            model="auto",
        )
        self.fps = fps
        # BoT-SORT's camera-motion estimate, which also fits the background's motion for the analysis
        self.camera = CameraMotion() if settings.global_motion == "sparseOptFlow" else None
        if settings.tracker == "botsort":
            botsort = BOTSORT(args)
            if self.camera is not None:
                botsort.gmc = self.camera  # type: ignore[assignment]  # the same interface as its GMC
            self._tracker: BOTSORT | BYTETracker = botsort
        else:
            self._tracker = BYTETracker(args)

    @property
    def camera_warp(self) -> np.ndarray | None:
        """The camera's motion into the frame last updated (a 2x3 warp from the frame before),
        or None where it was not measured (see :class:`pipeline.camera.CameraMotion`)."""
        return None if self.camera is None else self.camera.last

    @property
    def max_frames_lost(self) -> int:
        return int(self._tracker.max_frames_lost)

    def new_shot(self) -> None:
        """Forget every track at a hard cut (:mod:`pipeline.shots`): nobody carries an id into
        the next shot by overlapping boxes. Ids keep counting up, so no id is reused."""
        tracker = self._tracker
        tracker.tracked_stracks, tracker.lost_stracks, tracker.removed_stracks = [], [], []
        # BoT-SORT's camera-motion estimate (ours, or its own) would compare across the cut
        for motion in {id(m): m for m in (getattr(tracker, "gmc", None), self.camera) if m is not None}.values():
            motion.reset_params()

    def update(self, poses: Poses, image: np.ndarray) -> Poses:
        from ultralytics.engine.results import Boxes

        if self.camera is not None:
            self.camera.people = poses.xyxy
            if not hasattr(self._tracker, "gmc"):  # BYTETrack: measured for the analysis alone
                self.camera.apply(image)
        data = np.column_stack([poses.xyxy, poses.confidence, np.zeros(len(poses), np.float32)])
        boxes = Boxes(data.reshape(-1, 6), orig_shape=image.shape[:2])
        tracks = self._tracker.update(boxes, image)
        if len(tracks) == 0:
            return Poses.empty()
        index = tracks[:, -1].astype(int)
        return poses[index].with_track_ids(tracks[:, 4].astype(np.int64))
