"""The pose model: finding the weights offline, loading them once, running one frame.

This is the only module that imports Ultralytics' model code. Whichever backend ran the model
(PyTorch through Ultralytics, or FormWatch's own run of the OpenVINO export of the same
weights), its output becomes :class:`~pipeline.poses.Poses` through ``Poses.from_rows`` and
nothing else leaves.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar, get_args

import numpy as np

from pipeline.config import WEIGHTS_ENV, ModelSettings
from pipeline.poses import Poses
from pipeline.video import content_id

#: Folder for FormWatch's own state (shared with ``flows.server``); exports go in its ``models/``.
HOME_ENV = "FORMWATCH_HOME"
#: The values of ``model.backend`` (one list: the setting's type).
BACKENDS: tuple[str, ...] = get_args(ModelSettings.model_fields["backend"].annotation)

T = TypeVar("T")

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


#: The pose model's largest stride: letterboxed inputs are padded to a multiple of it.
STRIDE_PX = 32
#: Letterbox padding grey, as the model was trained with.
PAD_VALUE = 114
#: Most people kept from one frame after non-maximum suppression (Ultralytics' default).
MAX_PEOPLE = 300


def letterbox(image: np.ndarray, size: int) -> tuple[np.ndarray, tuple[float, float, int, int]]:
    """``image`` (H, W, 3) BGR resized so its long side is ``size`` px (aspect kept) and padded
    to the next multiple of ``STRIDE_PX`` on each axis, split evenly on both sides (the rectangle
    Ultralytics feeds a dynamic-shape export). Returns the (1, 3, h, w) float32 RGB input in
    0..1 and (gain_x, gain_y, left, top): frame px = (input px - (left, top)) / gain.
    """
    import cv2

    h, w = image.shape[:2]
    ratio = min(size / h, size / w)
    new_w, new_h = max(round(w * ratio), 1), max(round(h * ratio), 1)
    pad_w, pad_h = (size - new_w) % STRIDE_PX / 2, (size - new_h) % STRIDE_PX / 2
    top, bottom, left, right = round(pad_h - 0.1), round(pad_h + 0.1), round(pad_w - 0.1), round(pad_w + 0.1)
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR) if (new_w, new_h) != (w, h) else image
    padded = cv2.copyMakeBorder(resized, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)
    blob = cv2.dnn.blobFromImage(padded, 1 / 255, swapRB=True)  # (1, 3, h, w) float32 RGB
    return blob, (new_w / w, new_h / h, left, top)


def non_max_suppression(boxes: np.ndarray, scores: np.ndarray, iou: float, limit: int = MAX_PEOPLE) -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression, best score first: a box goes
    when it overlaps a better one by more than ``iou`` (intersection over union)."""
    order = np.argsort(-scores, kind="stable")
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    kept: list[int] = []
    while len(order) and len(kept) < limit:
        best, rest = order[0], order[1:]
        kept.append(int(best))
        x1 = np.maximum(boxes[best, 0], boxes[rest, 0])
        y1 = np.maximum(boxes[best, 1], boxes[rest, 1])
        x2 = np.minimum(boxes[best, 2], boxes[rest, 2])
        y2 = np.minimum(boxes[best, 3], boxes[rest, 3])
        inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
        order = rest[inter / (area[best] + area[rest] - inter + 1e-9) <= iou]
    return np.asarray(kept, dtype=np.int64)


#: Frames the OpenVINO engine keeps in the model at once, each on an inference stream of its own.
#: Two on the 2-core machines FormWatch is sized for: one thread a stream, so neither waits on the
#: other, where one frame split over both cores stalls whenever another thread (decoding, the
#: tracker, Prefect's server) takes a core. Measured on 2 cores (100 m clip at 640 px, model
#: alone): 15.7 against 14.6 ms a frame idle, 29.1 against 19.7 with one core kept busy.
IN_FLIGHT = 2
#: Input shapes whose idle inference requests are kept. Each request holds its own working memory
#: (~40 MB at 1280 px); 'auto' sizes bring a dozen shapes a video (11 on the snow park clip), of
#: which the last two or so are in use, so the requests of older shapes are let go and made again
#: when needed (peak RSS of a whole run on that clip: 2.30 GB keeping them all, against 1.84 GB
#: with one request a shape before two frames were in flight).
KEEP_SHAPES = 2
#: The precision OpenVINO computes in. Its CPU plugin defaults to bfloat16 on CPUs that have it
#: (AVX512_BF16 or AMX: AMD Zen 4, Intel Sapphire Rapids and later), float32 elsewhere, so the same
#: command gave other keypoints, and other runners, depending on the machine it ran on; pinned to
#: float32, the precision the weights were trained and checked in (README, Performance).
INFERENCE_PRECISION = "f32"


class _Submitted:
    """One frame in the model: its inference request (for input ``shape``), idle again once collected."""

    def __init__(self, request: Any, shape: tuple[int, int], gains: tuple[float, float, int, int],
                 frame_shape: tuple[int, int]) -> None:
        self.request, self.shape, self.gains, self.frame_shape = request, shape, gains, frame_shape


class OpenVinoPose:
    """The OpenVINO export run directly: letterbox, inference, box decoding and NMS in numpy.

    Each input shape is compiled once as a static shape (faster on a CPU than the export's
    dynamic one) for ``IN_FLIGHT`` streams, and kept with its idle inference requests; 'auto'
    inference sizes bring a handful of shapes per video. :meth:`submit` starts a frame and
    :meth:`collect` returns its rows for :meth:`Poses.from_rows` in frame px; ``__call__`` does both.
    """

    def __init__(self, export_dir: Path, precision: str = INFERENCE_PRECISION) -> None:
        import openvino

        self._precision = precision  # OpenVINO's INFERENCE_PRECISION_HINT; benchmarks compare others
        self._core = openvino.Core()
        self._xml = next(Path(export_dir).glob("*.xml"))
        self._compiled: dict[tuple[int, int], Any] = {}  # per input shape
        self._idle: dict[tuple[int, int], list[Any]] = {}  # inference requests not in use, per input shape
        self._recent: list[tuple[int, int]] = []  # the last KEEP_SHAPES shapes used, the latest last
        self._lock = threading.Lock()

    @classmethod
    @functools.lru_cache(maxsize=4)
    def cached(cls, export_dir: Path) -> OpenVinoPose:
        """The engine of ``export_dir``, made once per process, so every video reuses its compiled shapes."""
        return cls(export_dir)

    def _take(self, shape: tuple[int, int]) -> Any:
        """An idle inference request for ``shape`` (a new one when all are in use: videos processed at
        once each keep frames in the model, and OpenVINO queues what its streams cannot take yet).
        The idle requests of shapes not among the last ``KEEP_SHAPES`` used are let go."""
        with self._lock:
            if shape not in self._compiled:
                model = self._core.read_model(self._xml)
                model.reshape([1, 3, *shape])
                self._compiled[shape] = self._core.compile_model(model, "CPU", {
                    "PERFORMANCE_HINT": "THROUGHPUT", "PERFORMANCE_HINT_NUM_REQUESTS": IN_FLIGHT,
                    "INFERENCE_PRECISION_HINT": self._precision})
                self._idle[shape] = []
            self._recent = [*(s for s in self._recent if s != shape), shape]
            for older in self._recent[:-KEEP_SHAPES]:
                self._idle[older].clear()
            del self._recent[:-KEEP_SHAPES]
            idle = self._idle[shape]
            return idle.pop() if idle else self._compiled[shape].create_infer_request()

    def submit(self, image: np.ndarray, size: int) -> _Submitted:
        """Start ``image`` (H, W, 3 BGR) through the model at inference size ``size``; returns at once."""
        blob, gains = letterbox(image, size)
        shape = (blob.shape[2], blob.shape[3])
        request = self._take(shape)
        request.start_async({0: blob})
        return _Submitted(request, shape, gains, image.shape[:2])

    def collect(self, submitted: _Submitted, confidence: float, iou: float) -> np.ndarray:
        """Wait for a submitted frame and return its people: rows of box (x1, y1, x2, y2), confidence,
        then x, y, confidence per keypoint, in frame px."""
        request = submitted.request
        try:
            request.wait()
            out = request.get_output_tensor(0).data[0].T.copy()  # (candidates, 4 + 1 + 3K): cx, cy, w, h, conf, kpts
        finally:
            with self._lock:
                if submitted.shape in self._recent:
                    self._idle[submitted.shape].append(request)
        gain_x, gain_y, left, top = submitted.gains
        out = out[out[:, 4] > confidence]
        if not len(out):
            return np.zeros((0, out.shape[1]), np.float32)
        boxes = np.concatenate([out[:, :2] - out[:, 2:4] / 2, out[:, :2] + out[:, 2:4] / 2], axis=1)
        keep = non_max_suppression(boxes, out[:, 4], iou)
        boxes, out = boxes[keep], out[keep]
        h, w = submitted.frame_shape
        keypoints = out[:, 5:].reshape(len(out), -1, 3)  # out[keep] is already a copy
        for xy, gain, offset, limit in ((0, gain_x, left, w), (1, gain_y, top, h)):
            boxes[:, xy::2] = np.clip((boxes[:, xy::2] - offset) / gain, 0, limit)
            keypoints[:, :, xy] = np.clip((keypoints[:, :, xy] - offset) / gain, 0, limit)
        return np.concatenate([boxes, out[:, 4:5], keypoints.reshape(len(out), -1)], axis=1)

    def __call__(self, image: np.ndarray, size: int, confidence: float, iou: float) -> np.ndarray:
        return self.collect(self.submit(image, size), confidence, iou)


#: One model load at a time: videos processed at once (or a head start and its video) share one load.
_LOAD_LOCK = threading.Lock()


@functools.cache
def _half_option() -> dict[str, Any]:
    """Ultralytics' argument for float16: ``quantize=16`` where it has it (it warns on every call
    about the older ``half=True``), else ``half=True``."""
    try:
        from ultralytics.cfg import QUANTIZE_ALIASES  # noqa: F401
    except ImportError:
        return {"half": True}
    return {"quantize": 16}


#: Frames a batch holds on a GPU with ``model.batch_frames`` 0 (auto).
AUTO_GPU_BATCH = 16


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
        with _LOAD_LOCK:
            if self.backend == "openvino":
                self._engine: OpenVinoPose | None = OpenVinoPose.cached(openvino_export(weights_path))
            else:
                self._engine, self._model = None, _load(str(weights_path))
        self._tallest_px = 0.0  # tallest person box of the frame before, frame pixels
        self.resubmitted = 0  # frames OpenVINO ran again at the size the frame before gave ('auto')

    @property
    def batch_frames(self) -> int:
        """Frames to put through the model at once (``model.batch_frames``; auto: 16 on a GPU, else 1)."""
        if self.settings.batch_frames:
            return self.settings.batch_frames if self._engine is None else 1
        return AUTO_GPU_BATCH if self.backend == "torch" and self.device != "cpu" else 1

    @property
    def pipelines(self) -> bool:
        """Whether frames go through :meth:`pipelined` (OpenVINO) rather than in batches (PyTorch)."""
        return self._engine is not None

    def __call__(self, image: np.ndarray) -> Poses:
        """Poses of one frame; call in frame order (the frame before sets 'auto''s size)."""
        return self.batch([image])[0]

    def batch(self, images: Sequence[np.ndarray]) -> list[Poses]:
        """Poses of consecutive frames of one size: in one call of the model with PyTorch ('auto''s
        size comes from the frame before the batch), through :meth:`pipelined` with OpenVINO."""
        s = self.settings
        if not images:
            return []
        if self._engine is not None:
            return [poses for _, poses in self.pipelined(images, lambda image: image)]
        size = s.inference_size(images[0].shape[1], images[0].shape[0], self._tallest_px)
        options = _half_option() if s.half_precision else {}
        results = self._model.predict(
            list(images), imgsz=size, conf=s.detection_confidence, iou=s.nms_iou, device=self.device,
            classes=[0], verbose=False, batch=len(images), **options,
        )
        out = [Poses.from_ultralytics(result, s.keypoint_confidence) for result in results]
        self._tallest_px = _tallest(out[-1])
        return out

    def pipelined(self, items: Iterable[T], image_of: Callable[[T], np.ndarray]) -> Iterator[tuple[T, Poses]]:
        """(item, poses of ``image_of(item)``) in order, with OpenVINO's ``IN_FLIGHT`` frames in the model
        at once; the answers are those of one call per frame.

        A frame's 'auto' inference size depends on the frame before it, which is still in the model
        when the frame goes in: it goes in at the size the frame two before gives, and once the frame
        before is out, it is checked and, where its size should differ (rare: the tallest person
        crossing a 32 px step), put through again at the right one.
        """
        engine, s = self._engine, self.settings
        if engine is None:
            raise RuntimeError("pipelined() runs the OpenVINO engine; PyTorch takes frames in batches")

        def size_of(image: np.ndarray) -> int:
            return s.inference_size(image.shape[1], image.shape[0], self._tallest_px)

        def submit(item: T) -> tuple[T, np.ndarray, int, _Submitted]:
            image = image_of(item)
            size = size_of(image)
            return item, image, size, engine.submit(image, size)

        def settle() -> tuple[T, Poses]:
            item, _, _, submitted = pending.popleft()
            poses = Poses.from_rows(engine.collect(submitted, s.detection_confidence, s.nms_iou),
                                    s.keypoint_confidence)
            self._tallest_px = _tallest(poses)
            if pending:  # the next frame went in before this one's people were known: check its size
                following, image, size, submitted = pending[0]
                if size_of(image) != size:
                    engine.collect(submitted, s.detection_confidence, s.nms_iou)  # frees its request
                    self.resubmitted += 1
                    pending[0] = submit(following)
            return item, poses

        pending: deque[tuple[T, np.ndarray, int, _Submitted]] = deque()
        try:
            for item in items:
                pending.append(submit(item))
                if len(pending) == IN_FLIGHT:
                    yield settle()
            while pending:
                yield settle()
        finally:
            for *_, submitted in pending:  # a consumer that stopped early: give the requests back
                engine.collect(submitted, s.detection_confidence, s.nms_iou)


def _tallest(poses: Poses) -> float:
    """The tallest person box of a frame, px (0 without people): what 'auto' sizes the next frame by."""
    heights = poses.xyxy[:, 3] - poses.xyxy[:, 1]
    return float(heights.max()) if len(heights) else 0.0
