"""The one typed configuration of FormWatch.

Every setting lives here once, with its default, unit and meaning. YAML files in
``configs/`` and command-line flags only override these defaults; :func:`load_settings`
merges them and validates the result once, at the entry point. A bad value raises
:class:`ConfigError` naming the setting, the value and what is allowed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError, model_validator

from pipeline.analysis.settings import AnalysisSettings
from pipeline.coach.settings import AthleteSettings
from pipeline.render.settings import RenderSettings
from pipeline.settings_base import Section, setting

#: Environment variable that points at the pose weights (a path), overriding the config.
WEIGHTS_ENV = "FORMWATCH_WEIGHTS"

DEFAULT_VIDEO_EXTENSIONS = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm")


class VideoSettings(Section):
    """Which files are read and which part of each."""

    extensions: tuple[str, ...] = setting(
        DEFAULT_VIDEO_EXTENSIONS,
        "File name endings treated as video when a folder is searched (any letter case).",
    )
    start_s: float = setting(
        0.0, "Analyse from this time in each video.", unit="s", ge=0.0
    )
    end_s: float | None = setting(
        None, "Stop analysing at this time in each video; null reads to the end.", unit="s", gt=0.0
    )

    @model_validator(mode="after")
    def _check_range(self) -> VideoSettings:
        if self.end_s is not None and self.end_s <= self.start_s:
            raise ValueError(
                f"video.end_s ({self.end_s}) must be greater than video.start_s ({self.start_s})"
            )
        for ext in self.extensions:
            if not ext.startswith("."):
                raise ValueError(f"video.extensions entry {ext!r} must start with a dot, e.g. '.mp4'")
        return self


class ModelSettings(Section):
    """The pose model and how it is run."""

    weights: str = setting(
        "yolo11n-pose.pt",
        "Pose weights: a file path, or a bare Ultralytics model name looked up in the working "
        f"folder and Ultralytics' weights folder. The {WEIGHTS_ENV} environment variable and "
        "--weights override it.",
    )
    device: str = setting(
        "auto", "Torch device for inference: 'auto' (first GPU if present, else CPU), 'cpu', '0', 'cuda:1'..."
    )
    image_size: int | Literal["auto"] = setting(
        "auto", "Inference size: the long side of the frame is resized to this (a multiple of 32). "
        "'auto' uses the video's own long side (low-resolution video upscaled toward upscale_to), "
        "capped at max_image_size and lowered for a person who would fill the model's input "
        "(max_person_size): small, distant runners need the detail, and 640 misses most people under "
        "~80 px tall.", unit="px",
    )
    max_image_size: int = setting(
        1280, "Cap for image_size 'auto'. Inference time grows with its square (2-core CPU, "
        "yolo11n-pose: about 0.2 s a frame at 640, 0.7 s at 1280).", unit="px", ge=32, le=4096,
        multiple_of=32,
    )
    upscale_to: int = setting(
        960, "With image_size 'auto', frames whose long side is smaller are inferred upscaled to this "
        "size (at most 2x): on a 480x270 broadcast, 960 px finds 8 sprinters 46-76 px tall where the "
        "native 480 px finds 3, at about 2-4x the time a frame.",
        unit="px", ge=32,
    )
    min_image_size: int = setting(
        640, "Smallest size 'auto' lowers to for a near, large person (the model's training size).",
        unit="px", ge=32,
    )
    max_person_size: int = setting(
        400, "With image_size 'auto', the tallest person of the frame before spans at most this many model "
        "pixels: the model, trained at 640 px, loses a person who fills more than its input (measured on a "
        "1100-px treadmill runner: 14-15 of 17 keypoints at 640 px, 8-11 and a cut box at 1280 px).",
        unit="px", ge=32,
    )
    detection_confidence: float = setting(
        0.25, "Minimum person-box confidence kept from the model.", unit="probability", gt=0.0, lt=1.0
    )
    nms_iou: float = setting(
        0.7, "IoU above which overlapping person boxes are merged by non-maximum suppression.",
        unit="IoU", gt=0.0, le=1.0,
    )
    keypoint_confidence: float = setting(
        0.5, "Keypoints below this confidence are stored as missing (NaN), never as (0, 0).",
        unit="probability", ge=0.0, lt=1.0,
    )
    half_precision: bool = setting(False, "Run inference in float16 (GPU only).")
    batch_frames: int = setting(
        0, "Frames put through the pose model at once with PyTorch: 0 = auto (16 on a GPU, where a batch keeps "
        "it busy; 1 on a CPU, where a batch is no faster). With image_size 'auto' the size is chosen once a "
        "batch. OpenVINO ignores it: it keeps two frames in the model at once, with the answers of one at a time.",
        unit="frames", ge=0, le=256,
    )
    backend: Literal["auto", "torch", "openvino"] = setting(
        "auto", "Inference engine: 'auto' (OpenVINO on a CPU when the openvino package is installed, as it is "
        "by default; PyTorch on a GPU or without it), 'torch' (PyTorch, CPU or GPU) or 'openvino' (the weights "
        "exported once to OpenVINO, cached in $FORMWATCH_HOME/models, each input shape compiled once; CPU "
        "only). Measured on a 2-core CPU with yolo11n-pose: the pose model 1.6-2.9x faster on OpenVINO, "
        "keypoints 0.1-0.6 px median from PyTorch's; the first run on a machine spends ~8-15 s exporting.",
    )

    @model_validator(mode="after")
    def _check_size(self) -> ModelSettings:
        if self.image_size != "auto" and (self.image_size < 32 or self.image_size % 32):
            raise ValueError(f"model.image_size ({self.image_size}) must be 'auto' or a multiple of 32 >= 32")
        return self

    def inference_size(self, width: int, height: int, tallest_person_px: float = 0.0) -> int:
        """The inference size in px for a frame of ``width`` x ``height`` px.

        With 'auto', the frame's long side (low-resolution frames upscaled toward ``upscale_to``,
        at most 2x) capped at ``max_image_size``, and lowered (not below
        ``min_image_size``) so that ``tallest_person_px`` (the tallest person box in the frame
        before, in frame pixels) spans at most ``max_person_size`` model pixels.
        """
        if self.image_size != "auto":
            return self.image_size
        long_side = max(width, height)
        size: float = min(max(long_side, min(self.upscale_to, 2 * long_side)), self.max_image_size)
        if tallest_person_px > 0:
            size = min(size, max(self.min_image_size, self.max_person_size * long_side / tallest_person_px))
        return max(32, -(-int(size) // 32) * 32)


class TrackingSettings(Section):
    """Frame-to-frame identity of people (Ultralytics' trackers)."""

    tracker: Literal["bytetrack", "botsort"] = setting(
        "botsort",
        "Tracker: 'botsort' compensates camera pans (global motion), 'bytetrack' is faster on static cameras.",
    )
    high_confidence: float = setting(
        0.25, "Detections at or above this confidence are matched first.", unit="probability", gt=0.0, lt=1.0
    )
    low_confidence: float = setting(
        0.1, "Detections between this and high_confidence can only continue an existing track.",
        unit="probability", ge=0.0, lt=1.0,
    )
    new_track_confidence: float = setting(
        0.4, "A detection must reach this confidence to start a new track. On the shared clips 0.4 kept more "
        "of a crowd's runners than 0.25 (Ultralytics' default) or 0.5 (README, How well it works).",
        unit="probability", gt=0.0, lt=1.0
    )
    match_threshold: float = setting(
        0.8, "Largest matching cost (1 - IoU, fused with score) accepted between a track and a detection.",
        unit="cost", gt=0.0, le=1.0,
    )
    lost_track_buffer_s: float = setting(
        1.5, "How long a track that lost its person is kept to be picked up again. Converted to frames "
        "with the video's real fps. On the shared clips 0.75 s lost a crowd's runner and 3 s joined two "
        "runners into one id (README, How well it works).", unit="s", gt=0.0, le=60.0,
    )
    min_track_duration_s: float = setting(
        0.4, "Tracks seen for less than this are dropped as spurious (flicker detections).",
        unit="s", ge=0.0,
    )
    global_motion: Literal["sparseOptFlow", "orb", "ecc", "none"] = setting(
        "sparseOptFlow", "Camera-motion compensation used by 'botsort'. With 'sparseOptFlow' the same estimate also "
        "fits the background's motion, every person's corners left out (pipeline/camera.py; measured with "
        "'bytetrack' too), and keeps it in the detections' camera_* columns, from which the analysis reads speed "
        "against the ground; with 'orb', 'ecc' or 'none' no camera motion is kept and that speed is null."
    )

    @model_validator(mode="after")
    def _check_thresholds(self) -> TrackingSettings:
        if self.low_confidence >= self.high_confidence:
            raise ValueError(
                f"tracking.low_confidence ({self.low_confidence}) must be below "
                f"tracking.high_confidence ({self.high_confidence})"
            )
        return self


class OrchestrationSettings(Section):
    """How a run spreads its videos over threads, processes, a Dask cluster or work-pool workers.

    None of these change what is computed, so changing them never makes a video count as
    changed for incremental runs.
    """

    task_runner: Literal["thread", "process", "dask"] = setting(
        "thread", "Where a flow run processes its videos: 'thread' or 'process' pools on this machine, or "
        "'dask' (a Dask cluster at dask_address, or a local one of `workers` processes when that is null).",
    )
    workers: int = setting(
        1, "Videos processed at once by one flow run (pool size, or local Dask workers). Inference is "
        "also capped by inference_slots.", unit="videos", ge=1, le=256,
    )
    dask_address: str | None = setting(
        None, "Scheduler address of an existing Dask cluster for task_runner 'dask', e.g. 'tcp://10.0.0.5:8786'."
    )
    inference_slots: int = setting(
        1, "Pose models allowed to run at once on one machine: leases on lock files in the system's temporary "
        "folder ('formwatch-inference-<host name>/'), released the moment their process ends, however it ends. "
        "A run that waits for one logs who holds them, and the wait is not counted as processing time.",
        unit="models", ge=1, le=64,
    )
    if_output_busy: Literal["exit", "wait"] = setting(
        "exit", "When another live FormWatch run is writing the same output folder: 'exit' stops this run at "
        "once with exit status 5, naming that run (process id, host, since when); 'wait' waits until it is done, "
        "logging who it waits for. A lock left by a run that died is taken over, with a log line.",
    )
    retries: int = setting(
        2, "Retries of a video after a transient I/O error (a network share dropping out, a timeout). "
        "A corrupt or unreadable video is never retried: it is recorded as failed.", unit="retries", ge=0, le=10,
    )
    retry_delay_s: float = setting(
        10.0, "Wait before each retry; doubled on every further retry.", unit="s", ge=0.0, le=3600.0,
    )
    video_deployment: str | None = setting(
        None, "When set ('process-one-video/formwatch-video'), each video becomes a child flow run of this "
        "deployment, which any worker of its work pool may pick up, instead of a task of this flow run. "
        "`formwatch deploy` sets it.",
    )


class Settings(Section):
    """Every FormWatch setting. Build with :func:`load_settings`."""

    video: VideoSettings = VideoSettings()
    model: ModelSettings = ModelSettings()
    tracking: TrackingSettings = TrackingSettings()
    analysis: AnalysisSettings = AnalysisSettings()
    render: RenderSettings = RenderSettings()
    orchestration: OrchestrationSettings = OrchestrationSettings()
    athletes: AthleteSettings = AthleteSettings()

    def outcome_settings(self) -> dict[str, Any]:
        """The settings that change what is written for a video (JSON-ready).

        Everything except where and how the work runs (the torch device, the frames a batch and
        the orchestration section) and who the runners are (the athletes section). Incremental
        runs compare a hash of this.
        """
        data = self.model_dump(mode="json", exclude={"orchestration": True, "athletes": True,
                                                     "model": {"device", "batch_frames"}})
        data["model"].pop("weights")  # compared by content (weights_sha256), not by path
        return data


class ConfigError(ValueError):
    """A setting has a value that is not allowed; the message names setting, value and rule."""


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _format_errors(error: ValidationError, origin: str) -> str:
    lines = [f"Invalid configuration ({origin}):"]
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling; `formwatch config` lists them all)"
        value = item.get("input")
        shown = "" if isinstance(value, dict) else f" = {value!r}"
        lines.append(f"  {name}{shown}: {message}")
    return "\n".join(lines)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML settings file into a nested dict; raise ConfigError if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Config file {str(path)!r} does not exist.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"Config file {str(path)!r} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"Config file {str(path)!r} must hold a mapping of sections, got {type(data).__name__}.")
    return data


def load_settings(
    config_file: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Defaults, then the YAML file, then ``FORMWATCH_WEIGHTS``, then ``overrides`` (CLI flags).

    ``overrides`` is nested like the YAML (``{"video": {"start_s": 2.0}}``); ``None`` values in
    it are ignored so unset CLI flags do not clobber the file.
    """
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = read_yaml(config_file) if config_file else {}
    if environ.get(WEIGHTS_ENV):
        data = _deep_merge(data, {"model": {"weights": environ[WEIGHTS_ENV]}})
    data = _deep_merge(data, _drop_none(overrides or {}))
    origin = f"file {str(config_file)!r} and flags" if config_file else "defaults and flags"
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, origin)) from None


def _drop_none(tree: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            value = _drop_none(value)
            if value:
                cleaned[key] = value
        elif value is not None:
            cleaned[key] = value
    return cleaned


def describe_settings(settings: Settings | None = None) -> list[tuple[str, str, str, str]]:
    """Rows of (setting, value, unit, meaning) for every setting, for `formwatch config`."""
    settings = settings or Settings()
    rows = []
    for section_name in Settings.model_fields:
        section = getattr(settings, section_name)
        for name, field in type(section).model_fields.items():
            extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
            rows.append(
                (f"{section_name}.{name}", repr(getattr(section, name)), str(extra.get("unit", "")),
                 field.description or "")
            )
    return rows
