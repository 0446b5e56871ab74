from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.cli import main
from pipeline.pose_model import WeightsNotFoundError, resolve_weights

ROOT = Path(__file__).resolve().parents[1]


def test_an_explicit_path_wins(tmp_path: Path):
    weights = tmp_path / "my-pose.pt"
    weights.write_bytes(b"not really weights")
    assert resolve_weights(str(weights)) == weights.resolve()


def test_missing_weights_say_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WeightsNotFoundError) as error:
        resolve_weights(str(tmp_path / "nowhere" / "yolo11n-pose.pt"))
    message = str(error.value)
    assert "--weights PATH" in message and "FORMWATCH_WEIGHTS" in message
    assert "\n" not in message


def _formwatch(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env=full_env, timeout=timeout)


def test_offline_without_weights_is_one_clear_line_and_no_hang(tmp_path: Path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    started = time.monotonic()
    done = _formwatch("run", str(clip), "--out", str(tmp_path / "out"),
                      env={"FORMWATCH_WEIGHTS": "", "YOLO_OFFLINE": "1", "YOLO_CONFIG_DIR": str(tmp_path / "yolo")})
    assert time.monotonic() - started < 60
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("formwatch: error: Pose weights 'yolo11n-pose.pt' not found")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "missing-folder", "--weights", __file__], "neither a video file nor a folder"),
        (["run", ".", "--start", "5", "--end", "1"], "must be greater than video.start_s"),
        (["run", ".", "--config", "nope.yaml"], "does not exist"),
        (["run", ".", "--workers", "0"], "orchestration.workers"),
        (["serve", ".", "--weights", __file__, "--cron", "61 2 * * *"], "'61 2 * * *' in time zone 'UTC' is not valid"),
        (["serve", ".", "--weights", __file__, "--cron", "0 2 * * *", "--timezone", "Mars/Olympus"],
         "Time zone 'Mars/Olympus' is unknown"),
        (["deploy", ".", "--weights", __file__, "--pool", "p"], "set PREFECT_API_URL"),
    ],
)
def test_bad_input_is_a_sentence_not_a_traceback(args, expected, capsys: pytest.CaptureFixture,
                                                 monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert main(args) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


@pytest.mark.parametrize("command", [[], ["run"], ["serve"], ["deploy"], ["config"]])
def test_help_explains_every_option(command, capsys: pytest.CaptureFixture):
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "usage: formwatch" in out
    if command == ["run"]:
        for option in ("--out", "--config", "--weights", "--start", "--end", "--device", "--tracker"):
            assert option in out


def test_config_command_lists_settings_with_units(capsys: pytest.CaptureFixture):
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "tracking.lost_track_buffer_s" in out and "[s]" in out


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the dropped one, on purpose
def test_a_stop_signal_dropped_in_a_weakref_callback_is_sent_again() -> None:
    """`formwatch serve` stops on SIGTERM by raising KeyboardInterrupt; one raised while Python
    runs a weakref callback is printed and dropped ("Exception ignored in ..."), so the handler
    sends the signal again until the command is seen stopping, and then lets it be."""
    import signal
    import weakref

    from flows.cli import StopSignal

    calls: list[int] = []

    class Counting(StopSignal):
        def __call__(self, signum: int, frame: object) -> None:
            calls.append(signum)
            super().__call__(signum, frame)

    class Thing:
        pass

    def in_the_callback(_: object) -> None:
        os.kill(os.getpid(), signal.SIGUSR1)
        for _ in range(1000):  # the pending signal's handler runs here, and its exception is dropped
            pass

    stopper = Counting(resend_s=0.2)
    previous = signal.signal(signal.SIGUSR1, stopper)
    try:
        thing = Thing()
        ref = weakref.ref(thing, in_the_callback)
        with pytest.raises(KeyboardInterrupt):
            del thing
            assert ref() is None and calls == [signal.SIGUSR1]  # the first one was dropped
            time.sleep(5.0)  # the signal comes again
        assert len(calls) == 2
        with stopper.unwinding():
            pass
        os.kill(os.getpid(), signal.SIGUSR1)  # stopping: the handler lets the stop run
        time.sleep(0.5)
        assert len(calls) == 3
    finally:
        signal.signal(signal.SIGUSR1, previous)
