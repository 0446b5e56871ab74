"""The pose model: finding the weights offline, loading them once, running one frame.

This is the only module that imports Ultralytics' model code; its output is converted
to :class:`~pipeline.poses.Poses` by ``Poses.from_ultralytics`` and nothing else leaves,
whichever backend (PyTorch or an OpenVINO export of the same weights) ran the model.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, get_args

import numpy as np

from pipeline.config import WEIGHTS_ENV, ModelSettings
from pipeline.poses import Poses
from pipeline.video import content_id

#: Folder for FormWatch's own state (shared with ``flows.server``); exports go in its ``models/``.
HOME_ENV = "FORMWATCH_HOME"
#: The values of ``model.backend`` (one list: the setting's type).
BACKENDS: tuple[str, ...] = get_args(ModelSettings.model_fields["backend"].annotation)

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


class BackendError(ValueError):
    """The configured inference backend cannot run here; the message says what to do."""


def openvino_available() -> bool:
    """Whether the ``openvino`` package can be imported (without importing it)."""
    return importlib.util.find_spec("openvino") is not None


def select_backend(backend: str, device: str) -> str:
    """Resolve ``model.backend`` for a resolved torch ``device`` ('cpu', '0', 'cuda:1'...).

    'auto' is OpenVINO on the CPU when the package is installed, PyTorch otherwise (a GPU
    always runs PyTorch). An explicit 'openvino' on a GPU device or without the package fails.
    """
    if backend not in BACKENDS:
        raise BackendError(f"model.backend {backend!r} is not one of {', '.join(map(repr, BACKENDS))}.")
    on_cpu = device == "cpu"
    if backend == "auto":
        return "openvino" if on_cpu and openvino_available() else "torch"
    if backend == "openvino" and not on_cpu:
        raise BackendError(
            f"model.backend 'openvino' runs on the CPU, but model.device is {device!r}; "
            "use backend 'torch' (or 'auto') on a GPU, or device 'cpu'."
        )
    if backend == "openvino" and not openvino_available():
        raise BackendError(
            "model.backend 'openvino' needs the openvino package (pip install 'openvino>=2025.0,<2027'); "
            "or set model.backend to 'torch'."
        )
    return backend


def export_cache_dir() -> Path:
    """Where exported models are cached: ``$FORMWATCH_HOME/models``, default ``~/.formwatch/models``."""
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".formwatch").expanduser() / "models"


def openvino_export(weights_path: Path, cache_dir: Path | None = None) -> Path:
    """The OpenVINO export of ``weights_path``, built on first use and cached.

    The export has dynamic input shapes, so one export serves every inference size
    (``image_size: auto`` changes it per frame) with the same rectangular letterbox as
    PyTorch. It is keyed by the weights' SHA-256 (not their path) and the Ultralytics and
    OpenVINO versions. It is built in a temporary folder and renamed into place, so
    processes exporting at once never see a half-written model; the loser's copy is discarded.
    Returns the ``*_openvino_model`` folder (Ultralytics recognises the format by that name).
    """
    cache_dir = cache_dir or export_cache_dir()
    final = openvino_export_dir(weights_path, cache_dir)
    if (final / "metadata.yaml").is_file():
        return final
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        return _export_into(Path(weights_path), cache_dir, final)
    except OSError as exc:  # not the video's fault: never reported as an unreadable video
        raise BackendError(
            f"Cannot export the pose weights to OpenVINO in {cache_dir} ({exc}); set {HOME_ENV} to a "
            "writable folder, or model.backend to 'torch'."
        ) from exc


def _export_into(weights_path: Path, cache_dir: Path, final: Path) -> Path:
    """Export in a temporary folder of ``cache_dir``, rename it to ``final``, remove the rest."""
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=cache_dir))
    try:
        built = _export_openvino(weights_path, work)
        try:
            os.rename(built, final)  # atomic; fails if another process got there first
        except OSError:
            if not (final / "metadata.yaml").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def openvino_export_dir(weights_path: Path, cache_dir: Path) -> Path:
    """The cache folder of the export of ``weights_path``: named by its content and the tool versions."""
    import openvino
    import ultralytics

    key = f"{content_id(weights_path)}-ul{ultralytics.__version__}-ov{openvino.__version__.split('-')[0]}"
    return cache_dir / f"{Path(weights_path).stem}-{key}_openvino_model"


def _export_openvino(weights_path: Path, work: Path) -> Path:
    """Export to OpenVINO inside ``work`` (Ultralytics writes beside the weights it is given,
    so it is given a link to them there: read-only weights folders stay untouched)."""
    from ultralytics import YOLO

    link = work / "model.pt"
    link.symlink_to(weights_path.resolve())
    out = YOLO(str(link), task="pose").export(format="openvino", dynamic=True, imgsz=640, verbose=False)
    return Path(out)


@functools.lru_cache(maxsize=4)
def _load(weights_path: str) -> Any:
    from ultralytics import YOLO

    model = YOLO(weights_path, task="pose")
    if getattr(model, "task", "pose") != "pose":
        raise ValueError(f"{weights_path} is a '{model.task}' model; FormWatch needs a pose model.")
    return model


class PoseEstimator:
    """Runs the pose model on one upright BGR frame and returns ``Poses`` (untracked).

    The model is loaded once per process, backend and weights path (``functools.lru_cache``);
    with the OpenVINO backend the weights are exported first (once per machine, cached).
    """

    def __init__(self, settings: ModelSettings, weights_path: Path) -> None:
        self.settings = settings
        self.weights_path = weights_path
        self.device = select_device(settings.device)
        self.backend = select_backend(settings.backend, self.device)
        model_path = openvino_export(weights_path) if self.backend == "openvino" else weights_path
        self._model = _load(str(model_path))
        self._tallest_px = 0.0  # tallest person box of the frame before, frame pixels

    def __call__(self, image: np.ndarray) -> Poses:
        """Poses of one frame; call in frame order (the frame before sets 'auto''s size)."""
        s = self.settings
        options = {"half": True} if s.half_precision and self.backend == "torch" else {}
        size = s.inference_size(image.shape[1], image.shape[0], self._tallest_px)
        result = self._model.predict(
            image, imgsz=size, conf=s.detection_confidence,
            iou=s.nms_iou, device=self.device, classes=[0], verbose=False, **options,
        )[0]
        poses = Poses.from_ultralytics(result, s.keypoint_confidence)
        heights = poses.xyxy[:, 3] - poses.xyxy[:, 1]
        self._tallest_px = float(heights.max()) if len(heights) else 0.0
        return poses
