"""Shared fixtures: where the real footage and weights are, one Prefect test harness."""

from __future__ import annotations

import os
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
