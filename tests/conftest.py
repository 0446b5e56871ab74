"""Shared fixtures: where the real footage and weights are, one Prefect test harness, and each
real clip's pipeline run shared by the tests that read it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FORMWATCH_SHARED", ROOT.parent / "shared"))
FOOTAGE = SHARED / "footage"
WEIGHTS = Path(os.environ.get("FORMWATCH_WEIGHTS", SHARED / "models" / "yolo11n-pose.pt"))


def footage(name: str) -> Path:
    """Path of a real clip in ../shared/footage, skipping the test with the reason if absent."""
    path = FOOTAGE / name
    if not path.is_file():
        pytest.skip(f"real footage {path} is not present (tests on real clips need ../shared/footage)")
    return path


@pytest.fixture(scope="session", autouse=True)
def _a_machine_per_test_worker(tmp_path_factory: pytest.TempPathFactory):
    """Under pytest-xdist each test worker is its own machine: the inference slots are one
    machine's lock files in the system's temporary folder (``flows.runners.slot_folder``), so the
    temporary folder, and the commands the tests start, are the worker's own. Else a test that
    checks nobody waited for a slot sees the other worker's run holding it."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        yield
        return
    previous = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(tmp_path_factory.mktemp("machine"))
    tempfile.tempdir = None  # read TMPDIR again
    yield
    if previous is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = previous
    tempfile.tempdir = None


@pytest.fixture(scope="session")
def weights() -> Path:
    """The pose weights; tests that run the model skip with the reason when they are absent."""
    if not WEIGHTS.is_file():
        pytest.skip(f"pose weights {WEIGHTS} are not present (set FORMWATCH_WEIGHTS or provide ../shared/models)")
    return WEIGHTS


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect database and API for the whole test session."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def processed(tmp_path_factory: pytest.TempPathFactory, weights: Path):
    """``run(clip, start_s, end_s, image_size)``: the clip's ``videos`` row and output folder from
    one ``process_video`` run (clips off) per test session (per test worker, under pytest-xdist) and
    span, shared by the tests that read it."""
    from pipeline.config import load_settings
    from pipeline.process import process_video

    cache: dict[tuple, tuple[dict, Path]] = {}

    def run(name: str, start_s: float = 0.0, end_s: float | None = None,
            image_size: int | str = "auto") -> tuple[dict, Path]:
        key = (name, start_s, end_s, image_size)
        if key not in cache:
            out = tmp_path_factory.mktemp(name.split(".")[0])
            settings = load_settings(environ={}, overrides={
                "video": {"start_s": start_s, "end_s": end_s},
                "model": {"weights": str(weights), "image_size": image_size}, "render": {"clips": False}})
            row = process_video(footage(name), settings, out, weights)
            assert row["status"] == "ok", row["error"]
            cache[key] = row, out
        return cache[key]

    return run


def pytest_collection_finish(session: pytest.Session) -> None:
    """Tests that share a module- or session-scoped fixture carry an ``xdist_group`` so that
    ``--dist loadgroup`` (scripts/test.sh) keeps them on one worker; pytest-xdist does it by
    writing the group into each test's id. pytest 9.2 keeps ids where xdist 3.8 no longer
    writes, and the groups were silently spread over both workers (each computing the shared
    footage runs again): fail loudly if the ids come without their group."""
    if not getattr(session.config.option, "loadgroup", False):  # set on xdist's workers under loadgroup
        return
    lost = [item.nodeid for item in session.items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if lost:
        raise pytest.UsageError(f"pytest-xdist did not group {len(lost)} tests (e.g. {lost[0]}): the installed "
                                "pytest and pytest-xdist disagree on node ids; see pyproject.toml's test extras")
