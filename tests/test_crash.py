"""Kill real runs (the whole process group, embedded Prefect server included) at chosen points,
re-run, and compare every dataset with an uninterrupted run.

The points are FormWatch's documented pause points (``pipeline.checkpoints``): the process
stops there and the test SIGKILLs it, as a crash, an out-of-memory kill or a reboot would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from clips import person_photo, write_clip

from flows.cli import ExitStatus
from pipeline.outputs import LOCK_NAME, NAMES_LOCK_NAME

# Its module-scoped fixtures run once per test worker: keep the module's tests on one worker.
pytestmark = pytest.mark.xdist_group("crash")

ROOT = Path(__file__).resolve().parents[1]
CONFIG = "model:\n  image_size: 320\nrender:\n  clips: false\n"
DATASETS = {"videos": ["video_id"], "detections": ["video_id", "frame", "track_id"],
            "runners": ["video_id", "track_id"], "contacts": ["video_id", "track_id", "frame", "foot"],
            "deviations": ["video_id", "track_id", "deviation"]}
#: Columns that differ between any two runs: when and how long.
VOLATILE = {"processing_s", "processed_at", "slot_wait_s"}


class Run:
    """A `formwatch run` in its own process group, its stderr collected line by line."""

    def __init__(self, footage: Path, out: Path, config: Path, home: Path, weights: Path,
                 pause_at: str | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "FORMWATCH_PAUSE"))}
        env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", FORMWATCH_WEIGHTS=str(weights))
        if pause_at:
            env["FORMWATCH_PAUSE_AT"] = pause_at
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flows.cli", "run", str(footage), "--out", str(out), "--config", str(config),
             "--no-progress"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        self.lines: list[str] = []
        self.paused = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append(line)
            if line.startswith("formwatch: paused at"):
                self.paused.set()

    def kill_when_paused(self, timeout_s: float = 240) -> None:
        if not self.paused.wait(timeout_s):
            self.process.kill()
            raise AssertionError(f"never reached its pause point:\n{''.join(self.lines)[-3000:]}")
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)
        _wait_until_gone(self.process.pid)  # the whole group: a loaded machine takes seconds to reap it
        self._reader.join(10)

    def finish(self, timeout_s: float = 240) -> int:
        code = self.process.wait(timeout_s)
        self._reader.join(10)
        return code

    @property
    def log(self) -> str:
        return "".join(self.lines)


def _wait_until_gone(group: int, timeout_s: float = 30.0) -> None:
    """Block until no process of process group ``group`` is left (a crash is over before a re-run)."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    raise AssertionError(f"process group {group} still has processes {timeout_s} s after SIGKILL")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory, weights: Path):
    root = tmp_path_factory.mktemp("crash")
    footage = root / "footage"
    footage.mkdir()
    write_clip(footage / "a.mp4", frames=6, size=(320, 240), image=person_photo())
    write_clip(footage / "b.mp4", frames=7, size=(320, 240), image=person_photo())
    config = root / "config.yaml"
    config.write_text(CONFIG)
    home = root / "prefect-home"  # one Prefect home for every run, as on a machine running nightly jobs
    reference = root / "reference"
    code = Run(footage, reference, config, home, weights).finish()
    assert code == ExitStatus.OK
    return footage, config, home, reference


def _table(out: Path, name: str) -> list[dict]:
    table = ds.dataset(out / name, format="parquet").to_table()
    keep = [c for c in table.column_names if c not in VOLATILE]
    return table.select(keep).sort_by([(k, "ascending") for k in DATASETS[name]]).to_pylist()


def _assert_readable_and_clean(out: Path) -> None:
    """What a reader sees after a kill: every dataset reads, and only final .parquet names are read."""
    for name in DATASETS:
        folder = out / name
        if not folder.is_dir():
            continue
        dataset = ds.dataset(folder, format="parquet")
        assert all(Path(f).suffix == ".parquet" and not Path(f).name.startswith(".") for f in dataset.files)
        dataset.to_table()


def test_kills_at_every_point_then_a_plain_rerun_match_an_uninterrupted_run(setup, weights: Path, tmp_path: Path):
    footage, config, home, reference = setup
    out = tmp_path / "out"
    # point -> what the kill leaves: (videos/ rows, detections/ files, a staging folder)
    points = {"inference": (0, 0, False),  # the first video mid-inference, its slot held, nothing on disk yet
              "commit:2": (1, 2, True),  # the first video committed, the second's detections moved, the rest not
              "row": (1, 2, True)}  # the second video's files all in place, its videos/ row not written
    for point, left in points.items():
        run = Run(footage, out, config, home, weights, pause_at=point)
        run.kill_when_paused()
        assert "Waiting for an inference slot" not in run.log  # the killed run's slot did not block this one
        files = {name: len(list((out / name).glob("*.parquet"))) for name in ("videos", "detections")}
        assert (files["videos"], files["detections"], (out / ".staging").exists()) == left, point
        _assert_readable_and_clean(out)
    final = Run(footage, out, config, home, weights)
    assert final.finish() == ExitStatus.OK, final.log[-3000:]
    assert "Traceback" not in final.log and "Waiting for an inference slot" not in final.log
    assert "Removed" in final.log and "leftovers of an interrupted run" in final.log
    for name in DATASETS:
        assert _table(out, name) == _table(reference, name), name
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".") and p.name not in (LOCK_NAME, NAMES_LOCK_NAME)]
    assert leftovers == []
    assert not list(out.rglob("*.raw")) and not list(out.rglob("*.tmp"))
