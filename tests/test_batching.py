"""Frames put through the pose model in batches (the GPU path): same poses, same order.

The GPU test runs only where CUDA is (skipped elsewhere, with the reason); CI has none.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import footage

from pipeline.config import load_settings
from pipeline.pose_model import AUTO_GPU_BATCH, PoseEstimator
from pipeline.poses import Poses
from pipeline.process import posed_frames
from pipeline.video import Frame, probe_video, read_frames


class _CountingModel:
    """Stands in for the estimator: one 'pose' per frame holding its mean pixel, and the batches seen."""

    pipelines = False  # PyTorch's way: batches

    def __init__(self, batch_frames: int) -> None:
        self.batch_frames = batch_frames
        self.calls: list[int] = []

    def batch(self, images: list[np.ndarray]) -> list[float]:
        self.calls.append(len(images))
        return [float(image.mean()) for image in images]


def _frame(index: int, shape: tuple[int, int] = (4, 6)) -> Frame:
    return Frame(index=index, time_s=index / 30, image=np.full((*shape, 3), index, np.uint8))


def test_frames_go_through_in_batches_in_order_and_a_size_change_ends_a_batch():
    frames = [_frame(i) for i in range(7)] + [_frame(i, (8, 6)) for i in range(7, 10)]
    model = _CountingModel(batch_frames=3)
    out = list(posed_frames(frames, model))  # type: ignore[arg-type]
    assert [frame.index for frame, _ in out] == list(range(10))
    assert [pose for _, pose in out] == [float(i) for i in range(10)]
    assert model.calls == [3, 3, 1, 3]


def _read(clip: Path, count: int) -> list[np.ndarray]:
    info = probe_video(clip)
    images = []
    for frame in read_frames(clip, info.fps, 0.0, None):
        images.append(frame.image)
        if len(images) == count:
            return images
    return images


def _estimator(weights: Path, **model: object) -> PoseEstimator:
    settings = load_settings(overrides={"model": {"weights": str(weights), "image_size": 640, **model}}, environ={})
    return PoseEstimator(settings.model, weights)


def _median_distance(a: list[Poses], b: list[Poses]) -> tuple[float, int]:
    """Median keypoint distance (px) between people matched by box centre, and the largest
    difference in people per frame."""
    distances, worst = [], 0
    for x, y in zip(a, b, strict=True):
        worst = max(worst, abs(len(x.xyxy) - len(y.xyxy)))
        if not len(x.xyxy) or not len(y.xyxy):
            continue
        cx, cy = ((p.xyxy[:, :2] + p.xyxy[:, 2:]) / 2 for p in (x, y))
        nearest = np.argmin(np.linalg.norm(cx[:, None] - cy[None], axis=2), axis=1)
        d = np.linalg.norm(x.keypoints - y.keypoints[nearest], axis=2)
        distances.append(d[np.isfinite(d)])
    return float(np.median(np.concatenate(distances))), worst


def test_a_batch_gives_the_poses_of_one_frame_at_a_time(weights: Path):
    """PyTorch on the CPU, 8 frames of the 100 m broadcast: in batches of 4, the same people
    and keypoints as frame by frame."""
    images = _read(footage("track_100m_lowres_broadcast.mp4"), 8)
    one = _estimator(weights, backend="torch", device="cpu", batch_frames=1)
    four = _estimator(weights, backend="torch", device="cpu", batch_frames=4)
    assert four.batch_frames == 4 and one.batch_frames == 1
    single = [one(image) for image in images]
    batched = four.batch(images[:4]) + four.batch(images[4:])
    assert [len(p.xyxy) for p in batched] == [len(p.xyxy) for p in single]
    distance, _ = _median_distance(batched, single)
    assert distance < 0.01


def test_the_cpu_runs_one_frame_at_a_time_by_default(weights: Path):
    assert _estimator(weights, device="cpu").batch_frames == 1


def test_on_a_gpu_half_precision_batches_match_the_cpu(weights: Path):
    """The GPU path: PyTorch on CUDA, float16, 16 frames a batch, against float32 frame by frame
    on the CPU: keypoints within 2 px (median), the same people ±1 a frame."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device: the GPU path is checked on a machine with one")
    images = _read(footage("track_100m_lowres_broadcast.mp4"), 32)
    gpu = _estimator(weights, backend="torch", device="0", half_precision=True)
    assert gpu.batch_frames == AUTO_GPU_BATCH
    cpu = _estimator(weights, backend="torch", device="cpu")
    batched = gpu.batch(images[:16]) + gpu.batch(images[16:])
    distance, worst = _median_distance(batched, [cpu(image) for image in images])
    assert distance < 2.0 and worst <= 1, (distance, worst)
