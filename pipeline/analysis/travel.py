"""How fast a person travels against the ground, with the camera's own motion taken out.

The hips move across the picture for two reasons: the person moves, and the camera pans,
tilts or zooms. The camera's motion is measured on the background (:mod:`pipeline.camera`)
and kept per frame; carrying the hips' position a short window back through it says where a
person standing still would be now, and the rest of the hips' movement is the person's own,
in leg lengths a second. Only the motion across the picture is seen: travel toward or away
from the camera is not, so a runner coming at the camera reads slow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.analysis.geometry import HIPS, nanmean_points
from pipeline.camera import carried

#: Window over which a displacement is read, seconds of video: long enough that the hips'
#: keypoint jitter (a few per cent of a leg) is small beside a walker's travel over it (about a
#: quarter of a leg), short enough that a pan's change of speed does not blur into it.
WINDOW_S = 0.2
#: The least video a speed rests on, seconds: about a stride at the slowest running cadence.
MIN_MEASURED_S = 0.5
#: The longest step anyone takes, leg lengths: elite sprinters at top speed step 2.3-2.6 m
#: (Mann 2011, The Mechanics of Sprinting and Hurdling) on a 0.9-1.0 m leg (hip to ankle),
#: about 2.7; 3 leaves room for the leg's pixels read short. A person travelling v leg lengths
#: a second therefore steps at least v / 3 times a second: a cadence found slower counted too
#: few steps, and a stride read longer is a drift of the picture, not a stride.
MAX_STEP_LEG_LENGTHS = 3.0


@dataclass(frozen=True)
class Travel:
    """Median speeds of one person, leg lengths a second (real time), NaN where not measured.

    Attributes:
        ground: the hips' speed against the ground (the camera's motion taken out).
        picture: the hips' speed across the picture (as the camera saw it).
    """

    ground: float
    picture: float

    @staticmethod
    def unmeasured() -> Travel:
        return UNMEASURED


#: No travel measured (no camera motion, too few windows): NaN speeds.
UNMEASURED = Travel(float("nan"), float("nan"))


def longest_stride_frames(moved: Travel, fps: float) -> float:
    """The longest stride, in frames at the real rate ``fps``, that a person travelling
    ``moved.ground`` leg lengths a second can take: two steps of ``MAX_STEP_LEG_LENGTHS``.
    Travel mostly reads slow (depth unseen), which only loosens the bound; read fast, it would
    have to pass about 5 leg lengths a second to cut a walker's ~1.1 s stride. inf where the
    travel is not measured."""
    if not moved.ground > 0:
        return float("inf")
    return 2.0 * MAX_STEP_LEG_LENGTHS / moved.ground * fps


def travel(keypoints: np.ndarray, frames: np.ndarray, warps: np.ndarray, leg_px: float, video_fps: float,
           fps: float) -> Travel:
    """The median speeds (:class:`Travel`) of a track's hips, from its (T, K, 2) ``keypoints`` at
    video ``frames`` (T,), the camera's motion into each frame of the video ``warps`` (F, 2, 3),
    its leg length in pixels, the container's frame rate and the real one (``fps``: slowed
    footage's capture rate). Windows missing a hip or a warp are left out; fewer than
    ``MIN_MEASURED_S`` of them and both are NaN."""
    step = max(1, round(WINDOW_S * video_fps))
    hips = nanmean_points(keypoints, HIPS)
    if len(hips) <= step or not leg_px > 0:
        return Travel.unmeasured()
    start, end = hips[:-step], hips[step:]
    still = carried(start, frames[:-step], step, warps)
    seconds = step / fps
    ground = np.linalg.norm(end - still, axis=1) / leg_px / seconds
    picture = np.linalg.norm(end - start, axis=1) / leg_px / seconds
    measured = np.isfinite(ground)
    if measured.sum() < MIN_MEASURED_S * video_fps:
        return Travel.unmeasured()
    return Travel(float(np.median(ground[measured])), float(np.median(picture[measured])))
