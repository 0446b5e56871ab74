"""What editing did to the footage: hard cuts, and pictures held for several frames.

Hard cuts: where one continuous shot of a video ends and the next begins.

Edited footage (a broadcast switching cameras, a club's montage, a kids' race with cuts) puts
the same or different people in a new place from one frame to the next. Nobody moves that
far in 1/30 s, so a track, a stitch or a gait that runs across a cut measures the edit, not
the runner: the tracker starts afresh at a cut, and the analysis never joins fragments across
one.

A cut changes the whole picture at once: both the colours (a histogram of a small thumbnail)
and the layout (the thumbnail itself) jump between two frames, far more than between any two
frames of the same shot. A pan moves the layout but keeps the colours; a flash or an exposure
change shifts the colours but keeps the layout; a caption or a runner crossing close to the
lens changes a part of the picture only. :class:`ShotDetector` flags a frame whose change from
the previous one passes both thresholds (:data:`MIN_COLOUR_CHANGE`, :data:`MIN_LAYOUT_CHANGE`)
and is at least :data:`MIN_JUMP` times the shot's typical change, so a shaky or fast-panned
camera does not cut on every frame. ``benchmarks/shot_cuts.py`` measures the two changes at
the hand-labelled cuts and across every other frame of the shared clips.

Held pictures: an editor slowing a clip k times without inventing frames shows each picture
for k frames, so k - 1 of every k frames repeat the last one (the layout change drops to the
encoder's noise) at the same place in every run of k. :func:`frames_per_picture` is that k, or
1 for ordinary footage (and for 25 fps footage converted to 30, one repeat in six, which is not
regular at any k). A speed ramp that holds only part of a clip is not read. It says nothing on its
own about real time (a 15 fps camera converted to 30 holds pictures too): the analysis takes
it as slow motion only where the people's gait agrees (:mod:`pipeline.analysis.analyse`).
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Sequence

import numpy as np

#: Thumbnail width in pixels (the frame is subsampled by striding, never resized: cheap).
THUMB_WIDTH = 64
#: Histogram bins per colour channel.
BINS = 8
# Measured on the shared clips (benchmarks/shot_cuts.py): at the 4 labelled cuts the layout
# changed by 0.23-0.31 and the colours by 0.23-0.42; within the shots of the 16 clips the layout
# changed by at most 0.09 (a broadcast camera panning fast on a bend) and the colours by at
# most 0.22 (a man climbing off a box close to the lens, with a layout change of 0.07).
#: Smallest layout change (mean absolute difference of the grey thumbnails, 0-1) of a cut: the
#: geometric mean of the largest within-shot change (0.09) and the smallest cut (0.23).
MIN_LAYOUT_CHANGE = 0.15
#: Smallest colour change (half the L1 distance of the normalised histograms, 0-1) of a cut:
#: under half the smallest cut's, above a pan's (at most 0.06 on the shared clips).
MIN_COLOUR_CHANGE = 0.1
#: A cut's layout change is at least this many times the median of the shot's recent changes.
MIN_JUMP = 4.0
#: Frames of recent changes that make a shot's typical change.
HISTORY = 15
#: Holds looked for: each picture shown 2 to this many frames.
MAX_HOLD = 10
#: A hold of k frames shows one large change every k frames, at the same place in each run of
#: k: folded at k, the median change at that place over the median at any other place. Held
#: x3 copies of two shared clips (the beach and sprint-start runners) read 228 and 47; the 16
#: shared clips themselves read at most 1.3 at any k from 2 to 8 (the track pan's 25 -> 30 fps
#: repeats, one in six, 1.2).
MIN_HOLD_CONTRAST = 5.0
#: Fewest runs of k frames a hold is read from: folded over four, noise alone can line up
#: (nine frames of a 3-frame hold read as a 2-frame one).
MIN_HOLD_RUNS = 8


def thumbnail(image: np.ndarray) -> np.ndarray:
    """(h, ~THUMB_WIDTH, 3) float32 in 0-1: the BGR ``image`` subsampled by striding."""
    step = max(1, image.shape[1] // THUMB_WIDTH)
    return image[::step, ::step].astype(np.float32) / 255.0


def _channel_histogram(thumb: np.ndarray) -> np.ndarray:
    """(3 * BINS,) per-channel histograms of a thumbnail, each summing to 1 (the whole picture's
    colours; :func:`pipeline.appearance.colour_histogram` is a person's clothes)."""
    index = np.minimum((thumb * BINS).astype(np.int64), BINS - 1)
    counts = [np.bincount(index[..., c].ravel(), minlength=BINS) for c in range(3)]
    return np.concatenate(counts).astype(np.float64) / (index.shape[0] * index.shape[1])


def _signature(thumb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(grey thumbnail, colour histogram): what a frame is compared by, computed once a frame."""
    return thumb.mean(axis=2), _channel_histogram(thumb)


def _compare(previous: tuple[np.ndarray, np.ndarray], current: tuple[np.ndarray, np.ndarray]) -> tuple[float, float]:
    colour = 0.5 * float(np.abs(previous[1] - current[1]).sum()) / 3
    layout = float(np.abs(previous[0] - current[0]).mean())
    return colour, layout


def changes(previous: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """(colour change 0-1, layout change 0-1) between two thumbnails of the same size."""
    return _compare(_signature(previous), _signature(current))


class ShotDetector:
    """Feed frames in order; ``update`` says whether a new shot starts at that frame.

    ``colour_changes`` and ``layout_changes`` keep each frame's change from the one before (NaN
    for the first), for :func:`frames_per_picture` and ``benchmarks/shot_cuts.py``.
    """

    def __init__(self) -> None:
        self._previous: tuple[np.ndarray, np.ndarray] | None = None
        self._recent: deque[float] = deque(maxlen=HISTORY)
        self.colour_changes = array("d")  # 8 bytes a frame: an hour at 30 fps is under 1 MB each
        self.layout_changes = array("d")

    def update(self, image: np.ndarray) -> bool:
        current = _signature(thumbnail(image))
        previous, self._previous = self._previous, current
        if previous is None or previous[0].shape != current[0].shape:
            self.colour_changes.append(float("nan"))
            self.layout_changes.append(float("nan"))
            return False
        colour, layout = _compare(previous, current)
        self.colour_changes.append(colour)
        self.layout_changes.append(layout)
        typical = float(np.median(self._recent)) if self._recent else 0.0
        cut = colour >= MIN_COLOUR_CHANGE and layout >= MIN_LAYOUT_CHANGE and layout >= MIN_JUMP * typical
        if cut:
            self._recent.clear()  # a new shot: its own typical change
        else:
            self._recent.append(layout)
        return cut


def shot_of(frames: np.ndarray, shot_starts: np.ndarray | list[int] | tuple[int, ...]) -> np.ndarray:
    """(N,) shot number (0 for the first) of each frame index, given each later shot's first frame."""
    return np.searchsorted(np.asarray(shot_starts, np.int64), np.asarray(frames, np.int64), side="right")


def shot_spans(shot_starts: Sequence[int], span: tuple[int, int]) -> list[tuple[int, int]]:
    """[first, last] frames of each shot of the frames ``span`` [first, last], cut at
    ``shot_starts`` (each later shot's first frame); none when the span is empty."""
    first, last = span
    starts = [first, *(f for f in shot_starts if first < f <= last)]
    return [(a, b - 1) for a, b in zip(starts, [*starts[1:], last + 1], strict=True) if b > a]


def frames_per_picture(layout_changes: Sequence[float] | np.ndarray) -> float:
    """Frames each picture is held for, k >= 2 when pictures repeat every k frames (see the
    module's notes), else 1.0: the smallest k whose folded contrast reaches
    ``MIN_HOLD_CONTRAST``. Needs ``MIN_HOLD_RUNS`` runs of k frames."""
    values = np.asarray(layout_changes, dtype=float)
    values = values[np.isfinite(values)]
    for k in range(2, MAX_HOLD + 1):
        runs = len(values) // k
        if runs < MIN_HOLD_RUNS:
            break
        folded = np.median(values[: runs * k].reshape(runs, k), axis=0)
        top = int(np.argmax(folded))
        rest = float(np.max(np.delete(folded, top)))
        if folded[top] >= MIN_HOLD_CONTRAST * rest and folded[top] > 0:
            return float(k)
    return 1.0
