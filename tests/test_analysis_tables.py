"""Output tables, settings and input validation, camera views."""

from __future__ import annotations

import pyarrow as pa
import pytest
from analysis_builders import RunnerSpec, analyse_spec, build_runner, build_table
from pydantic import ValidationError

from pipeline.analysis import AnalysisSettings, VideoAnalysis, analyse_detections
from pipeline.analysis.registry import DEVIATIONS as FAULTS
from pipeline.schemas import CONTACTS, DETECTIONS, DEVIATIONS, RUNNERS

# Its module-scoped fixtures run once per test worker: keep the module's tests on one worker.
pytestmark = pytest.mark.xdist_group("analysis_tables")

ANALYSIS_SCHEMAS = {"runners": RUNNERS, "contacts": CONTACTS, "deviations": DEVIATIONS}


@pytest.fixture(scope="module")
def crowd() -> VideoAnalysis:
    table = build_table(
        RunnerSpec(track_id=1, noise_px=0.5),
        RunnerSpec(track_id=2, view="front", origin_px=(300.0, 650.0), noise_px=0.5),
        RunnerSpec(track_id=4, gait="stand", origin_px=(1000.0, 650.0)),
    )
    return analyse_detections(table, 30.0, 1280, 720, AnalysisSettings())


def test_tables_have_their_schemas(crowd: VideoAnalysis) -> None:
    assert crowd.runners.schema.equals(RUNNERS, check_metadata=True)
    assert crowd.contacts.schema.equals(CONTACTS, check_metadata=True)
    assert crowd.deviations.schema.equals(DEVIATIONS, check_metadata=True)
    assert crowd.runners.column("track_id").to_pylist() == [1, 2, 4]
    assert crowd.runners.column("is_runner").to_pylist() == [True, True, False]
    assert crowd.deviations.column("deviation").to_pylist() == list(FAULTS) * 3
    assert crowd.contacts.num_rows == 36


@pytest.mark.parametrize("schema", ANALYSIS_SCHEMAS.values(), ids=ANALYSIS_SCHEMAS.keys())
def test_schemas_document_every_column(schema: pa.Schema) -> None:
    assert schema.metadata[b"schema_version"]
    for name in ("video_id", "track_id"):
        assert not schema.field(name).nullable
    for f in schema:
        assert f.metadata[b"description"], f.name


def test_empty_detections_give_empty_tables() -> None:
    analysis = analyse_detections(DETECTIONS.empty_table(), 30.0, 1280, 720, AnalysisSettings())
    assert (
        analysis.runners.num_rows,
        analysis.contacts.num_rows,
        analysis.deviations.num_rows,
    ) == (0, 0, 0)
    assert analysis.runners.schema.equals(RUNNERS)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fps": 0.0}, "fps must be a positive"),
        ({"fps": float("nan")}, "fps must be a positive"),
        ({"width": 0}, "width must be a positive integer"),
        ({"height": 7.5}, "height must be a positive integer"),
        ({"fps": True}, "fps must be a positive"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict, message: str) -> None:
    table, _ = build_runner(RunnerSpec(duration_s=1.0))
    args = {"fps": 30.0, "width": 1280, "height": 720, **kwargs}
    with pytest.raises(ValueError, match=message):
        analyse_detections(table, settings=AnalysisSettings(), **args)


def test_one_video_at_a_time() -> None:
    table, _ = build_runner(RunnerSpec(duration_s=1.0))
    other = table.set_column(0, table.schema.field(0), pa.array(["other"] * table.num_rows))
    with pytest.raises(ValueError, match="one video"):
        analyse_detections(pa.concat_tables([table, other]), 30.0, 1280, 720, AnalysisSettings())


def test_missing_columns_are_named() -> None:
    table, _ = build_runner(RunnerSpec(duration_s=1.0))
    with pytest.raises(ValueError, match="nose_x"):
        analyse_detections(table.drop_columns(["nose_x"]), 30.0, 1280, 720, AnalysisSettings())


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"elbow_angle_min_deg": 120.0}, "elbow_angle_min_deg"),
        ({"lowpass_cutoff_hz": -1.0}, "lowpass_cutoff_hz"),
        ({"no_such_setting": 1}, "no_such_setting"),
        ({"side_view_max_shoulder_ratio": 0.7}, "frontal_view_min_shoulder_ratio"),
    ],
)
def test_settings_are_validated(overrides: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AnalysisSettings(**overrides)


def test_every_setting_has_a_description_and_unit_or_is_a_flag() -> None:
    for name, field in AnalysisSettings.model_fields.items():
        assert field.description, name
        assert field.json_schema_extra and field.json_schema_extra.get("unit"), name


VIEWS = {
    "side_right": ("side", "right"),
    "side_left": ("side", "left"),
    "front": ("front", None),
    "back": ("back", None),
    # the facing is published within 45 deg of the side (sagittal_max_shoulder_ratio)
    "oblique_30": ("oblique", "right"),
    "oblique_50": ("oblique", None),
}


@pytest.mark.parametrize(("view", "expected"), VIEWS.items(), ids=VIEWS.keys())
def test_view_and_facing_come_from_the_body(view: str, expected: tuple) -> None:
    analysis, _ = analyse_spec(RunnerSpec(view=view, noise_px=0.5, pan_px_per_s=-200.0))
    runner = analysis.runners.to_pylist()[0]
    assert (runner["view"], runner["facing"]) == expected
    assert runner["views_seen"] == [expected[0]]
    assert set(analysis.contacts.column("view").to_pylist()) == {expected[0]}
