"""The pose model: finding the weights offline, loading them once, running one frame.

This is the only module that imports Ultralytics' model code; its output is converted
to :class:`~pipeline.poses.Poses` by ``Poses.from_ultralytics`` and nothing else leaves.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import WEIGHTS_ENV, ModelSettings
from pipeline.poses import Poses

RELEASE_URL = "https://github.com/ultralytics/assets/releases/latest"


class WeightsNotFoundError(FileNotFoundError):
    """No pose weights could be found or fetched; the message says what to do."""


def _weights_dir() -> Path:
    from ultralytics.utils import SETTINGS

    return Path(SETTINGS["weights_dir"])


def resolve_weights(weights: str, allow_download: bool = True) -> Path:
    """Find the weights file named by the setting ``model.weights``.

    Order: the value as a path; a bare name in the working folder, then in Ultralytics'
    weights folder; then, for an official Ultralytics name and only when the machine is
    online, Ultralytics' download into its weights folder. Otherwise one clear error.
    """
    candidate = Path(weights).expanduser()
    if candidate.is_file():
        return candidate.resolve()
    looked = [str(candidate.resolve())]
    if candidate.name == weights:  # a bare name, not a path
        in_weights_dir = _weights_dir() / weights
        looked.append(str(in_weights_dir))
        if in_weights_dir.is_file():
            return in_weights_dir
        if allow_download:
            downloaded = _try_download(weights, in_weights_dir)
            if downloaded is not None:
                return downloaded
    raise WeightsNotFoundError(
        f"Pose weights {weights!r} not found (looked in: {', '.join(looked)}) and they cannot be "
        f"downloaded from this machine. Download {Path(weights).name} from {RELEASE_URL} on a "
        f"machine with internet, then pass --weights PATH or set {WEIGHTS_ENV}=PATH."
    )


def _try_download(name: str, target: Path) -> Path | None:
    from ultralytics.utils import is_online
    from ultralytics.utils.downloads import GITHUB_ASSETS_NAMES, attempt_download_asset

    if name not in GITHUB_ASSETS_NAMES or not is_online():
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        path = Path(attempt_download_asset(target))
    except Exception:  # noqa: BLE001 - any download failure ends in the same clear error
        return None
    return path if path.is_file() else None


def select_device(device: str) -> str:
    """Resolve 'auto' to the first CUDA GPU when torch sees one, else 'cpu'."""
    if device != "auto":
        return device
    import torch

    return "0" if torch.cuda.is_available() else "cpu"


@functools.lru_cache(maxsize=2)
def _load(weights_path: str) -> Any:
    from ultralytics import YOLO

    model = YOLO(weights_path, task="pose")
    if getattr(model, "task", "pose") != "pose":
        raise ValueError(f"{weights_path} is a '{model.task}' model; FormWatch needs a pose model.")
    return model


class PoseEstimator:
    """Runs the pose model on one upright BGR frame and returns ``Poses`` (untracked).

    The model is loaded once per process and weights path (``functools.lru_cache``).
    """

    def __init__(self, settings: ModelSettings, weights_path: Path) -> None:
        self.settings = settings
        self.weights_path = weights_path
        self.device = select_device(settings.device)
        self._model = _load(str(weights_path))
        self._tallest_px = 0.0  # tallest person box of the frame before, frame pixels

    def __call__(self, image: np.ndarray) -> Poses:
        """Poses of one frame; call in frame order (the frame before sets 'auto''s size)."""
        s = self.settings
        options = {"half": True} if s.half_precision else {}
        size = s.inference_size(image.shape[1], image.shape[0], self._tallest_px)
        result = self._model.predict(
            image, imgsz=size, conf=s.detection_confidence,
            iou=s.nms_iou, device=self.device, classes=[0], verbose=False, **options,
        )[0]
        poses = Poses.from_ultralytics(result, s.keypoint_confidence)
        heights = poses.xyxy[:, 3] - poses.xyxy[:, 1]
        self._tallest_px = float(heights.max()) if len(heights) else 0.0
        return poses
