"""Property-based tests (hypothesis): the settings loader and the analysis on damaged keypoints.

The loader either returns valid settings or raises ConfigError naming the setting; it never
crashes and never lets a NaN or infinite number through. The analysis, on synthetic people
whose keypoints go missing at random, never crashes, never writes NaN, and gives a reason
wherever a deviation's value is null.
"""

from __future__ import annotations

import math
import typing

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from analysis_builders import VIEW_YAW, RunnerSpec, build_runner, build_table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.analysis import AnalysisSettings, analyse_detections
from pipeline.config import ConfigError, Settings, load_settings
from pipeline.poses import KEYPOINT_NAMES

SETTINGS = [(section, name) for section in Settings.model_fields
            for name in type(getattr(Settings(), section)).model_fields]

values = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.lists(st.integers(-5, 5), max_size=3), st.dictionaries(st.text(max_size=5),
                                                                                    st.integers(), max_size=2),
)
overrides = st.dictionaries(st.sampled_from(SETTINGS), values, min_size=1, max_size=4)


def _nested(flat: dict[tuple[str, str], object]) -> dict[str, dict[str, object]]:
    tree: dict[str, dict[str, object]] = {}
    for (section, name), value in flat.items():
        tree.setdefault(section, {})[name] = value
    return tree


def _numbers(settings: Settings):
    for section in Settings.model_fields:
        for name, value in getattr(settings, section).model_dump().items():
            items = value.values() if isinstance(value, dict) else [value]
            for item in items:
                if isinstance(item, float):
                    yield f"{section}.{name}", item


@settings(max_examples=300, deadline=None)
@given(overrides)
def test_the_settings_loader_accepts_valid_values_or_names_the_setting(flat):
    try:
        loaded = load_settings(overrides=_nested(flat), environ={})
    except ConfigError as error:
        message = str(error)
        assert message.startswith("Invalid configuration")
        named = [f"{section}.{name}" for section, name in flat]
        assert any(name in message for name in named), message
        return
    for name, number in _numbers(loaded):
        assert math.isfinite(number), f"{name} = {number} was accepted"


def _takes_float(annotation: object) -> bool:
    return annotation is float or float in typing.get_args(annotation)


FLOAT_SETTINGS = [(section, name) for section, name in SETTINGS
                  if _takes_float(type(getattr(Settings(), section)).model_fields[name].annotation)]


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(FLOAT_SETTINGS), st.floats(allow_nan=True, allow_infinity=True))
def test_a_number_setting_is_finite_or_refused_naming_it(key, number):
    section, name = key
    try:
        loaded = load_settings(overrides={section: {name: number}}, environ={})
    except ConfigError as error:
        assert f"{section}.{name}" in str(error)
        return
    assert math.isfinite(getattr(getattr(loaded, section), name)), key


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_yaml_file_loads_or_is_refused_with_a_sentence(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("yaml") / "settings.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_settings(path, environ={})
    except ConfigError as error:
        assert str(error).strip() and "settings.yaml" in str(error) or str(error).startswith("Invalid configuration")


person = dict(
    fps=st.sampled_from([25.0, 29.97, 60.0]),
    cadence_spm=st.floats(60.0, 220.0),
    duration_s=st.floats(0.3, 3.0),
    view=st.sampled_from(sorted(VIEW_YAW)),
    gait=st.sampled_from(["run", "walk", "stand"]),
    noise_px=st.floats(0.0, 30.0),
    seed=st.integers(0, 1000),
    travel=st.booleans(),
    first_frame=st.integers(0, 60),
)
people = st.builds(RunnerSpec, track_id=st.just(1), **person)
others = st.builds(RunnerSpec, track_id=st.just(2), **person)


def _knock_out(table: pa.Table, fraction: float, seed: int) -> pa.Table:
    """Null ``fraction`` of the keypoints at random (as the model does below keypoint_confidence)."""
    rng = np.random.default_rng(seed)
    for name in KEYPOINT_NAMES:
        lost = rng.random(table.num_rows) < fraction
        for suffix in ("x", "y"):
            column = table.column(f"{name}_{suffix}")
            kept = pc.if_else(pa.array(lost), pa.nulls(table.num_rows, column.type), column)
            table = table.set_column(table.schema.get_field_index(f"{name}_{suffix}"), table.schema.field(
                f"{name}_{suffix}"), kept)
    return table


def _nan_columns(table: pa.Table) -> list[str]:
    return [f.name for f in table.schema if pa.types.is_floating(f.type)
            and pc.any(pc.is_nan(table.column(f.name))).as_py()]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people, st.one_of(st.none(), others), st.floats(0.0, 1.0), st.floats(0.0, 0.9), st.integers(0, 10**6),
       st.sampled_from([(1280, 720), (320, 240)]))
def test_analysis_of_damaged_keypoints_never_crashes_and_gives_reasons_not_nan(spec, other, fraction, drop, seed,
                                                                              size):
    """Keypoints knocked out at random, whole detections dropped, a second person or not."""
    table = _knock_out(build_table(spec, *([other] if other else [])), fraction, seed)
    table = table.filter(pa.array(np.random.default_rng(seed).random(table.num_rows) >= drop))
    result = analyse_detections(table, spec.fps, size[0], size[1], AnalysisSettings())
    for name in ("runners", "contacts", "deviations"):
        assert _nan_columns(getattr(result, name)) == [], name
    for row in result.deviations.to_pylist():
        if row["value"] is None:
            assert row["reason"], row
            assert row["flagged"] is None, row


@pytest.mark.parametrize("fraction", [1.0])
def test_a_person_with_no_keypoints_at_all_is_analysed(fraction):
    table = _knock_out(build_runner(RunnerSpec(duration_s=2.0))[0], fraction, 0)
    result = analyse_detections(table, 30.0, 1280, 720, AnalysisSettings())
    assert result.runners.num_rows == 1 and not result.runners.column("is_runner")[0].as_py()
