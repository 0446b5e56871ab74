from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import ConfigError, Settings, describe_settings, load_settings


def test_defaults_validate_and_every_setting_has_a_meaning():
    settings = load_settings(environ={})
    assert settings.model.weights == "yolo11n-pose.pt"
    assert settings.video.start_s == 0.0 and settings.video.end_s is None
    for name, _value, _unit, meaning in describe_settings(settings):
        assert meaning, f"{name} has no description"


def test_yaml_then_environment_then_flags(tmp_path: Path):
    config = tmp_path / "club.yaml"
    config.write_text("tracking:\n  lost_track_buffer_s: 3.0\nmodel:\n  weights: from-file.pt\n")
    settings = load_settings(
        config, {"model": {"device": "cpu", "weights": None}, "video": {"end_s": 4.0}},
        environ={"FORMWATCH_WEIGHTS": "/models/from-env.pt"},
    )
    assert settings.tracking.lost_track_buffer_s == 3.0
    assert settings.model.weights == "/models/from-env.pt"  # the variable beats the file
    assert settings.model.device == "cpu"
    assert settings.video.end_s == 4.0


def test_shipped_config_files_are_valid():
    from pipeline.coach.sources import read_roster

    configs = sorted((Path(__file__).parents[1] / "configs").glob("*.yaml"))
    assert configs, "configs/ holds no YAML file"
    for path in configs:
        if path.name.startswith("roster"):  # rosters of athletes (athletes.roster), not settings
            assert read_roster(path)
        else:
            load_settings(path, environ={})


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("tracking:\n  lost_track_buffer_s: -1\n", "tracking.lost_track_buffer_s = -1"),
        ("tracking:\n  tracker: sort\n", "tracking.tracker = 'sort'"),
        ("video:\n  start_s: 5\n  end_s: 2\n", "must be greater than video.start_s"),
        ("model:\n  image_size: 500\n", "multiple of 32"),
        ("model:\n  keypoint_confidence: 1.5\n", "model.keypoint_confidence = 1.5"),
        ("modle:\n  device: cpu\n", "modle: unknown setting"),
        ("tracking:\n  low_confidence: 0.5\n", "must be below tracking.high_confidence"),
        ("- just\n- a list\n", "must hold a mapping"),
    ],
)
def test_bad_values_fail_naming_setting_and_rule(tmp_path: Path, yaml_text: str, expected: str):
    config = tmp_path / "bad.yaml"
    config.write_text(yaml_text)
    with pytest.raises(ConfigError) as error:
        load_settings(config, environ={})
    assert expected in str(error.value)


def test_missing_config_file_is_a_config_error(tmp_path: Path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml", environ={})


@pytest.mark.parametrize(
    ("image_size", "width", "height", "expected"),
    [("auto", 1920, 1080, 1280), ("auto", 480, 270, 960), ("auto", 464, 832, 960), ("auto", 412, 960, 960),
     ("auto", 1280, 720, 1280), ("auto", 100, 50, 224), (640, 1920, 1080, 640)],
)
def test_inference_size(image_size, width, height, expected):
    model = Settings.model_validate({"model": {"image_size": image_size}}).model
    assert model.inference_size(width, height) == expected


@pytest.mark.parametrize(
    ("width", "height", "tallest", "expected"),
    [(1080, 1920, 1190.0, 672),  # a treadmill runner filling the frame: 400 model px, about 640
     (1080, 1920, 3000.0, 640),  # never below min_image_size
     (1920, 1080, 200.0, 1280),  # distant runners keep the full size
     (480, 270, 250.0, 768)],  # upscaled to 960 for small people, less for a 250-px one
)
def test_auto_inference_size_follows_the_tallest_person(width, height, tallest, expected):
    model = Settings.model_validate({"model": {"image_size": "auto"}}).model
    assert model.inference_size(width, height, tallest) == expected


def test_capture_fps_override_per_video(tmp_path: Path):
    config = tmp_path / "slowmo.yaml"
    config.write_text("analysis:\n  capture_fps_by_video:\n    finish_240fps.mov: 240\n    0123456789abcdef: 120\n")
    analysis = load_settings(config, environ={}).analysis
    assert analysis.for_video("finish_240fps.mov", "ffff").capture_fps == 240
    assert analysis.for_video("other.mp4", "0123456789abcdef").capture_fps == 120
    assert analysis.for_video("other.mp4", "ffff").capture_fps is None
    config.write_text("analysis:\n  capture_fps_by_video:\n    a.mov: -5\n")
    with pytest.raises(ConfigError, match=r"capture_fps_by_video\['a.mov'\] \(-5.0\) must be > 0"):
        load_settings(config, environ={})
