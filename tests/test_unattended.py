"""Unattended nights: the real CLI over a hostile corpus, output-side faults, busy folders and
slots held by dead processes. Every failure must be a status and one sentence, never a traceback."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from hostile import CORPUS, build_corpus, empty, good, text

from flows.cli import ExitStatus, main
from pipeline.outputs import OutputBusyError, OutputLock, disk_error_sentence
from pipeline.video import content_id

# Its module-scoped fixtures run once per test worker: keep the module's tests on one worker.
pytestmark = pytest.mark.xdist_group("unattended")

ROOT = Path(__file__).resolve().parents[1]
CONFIG = "model:\n  image_size: 320\nrender:\n  clips: false\n"


def formwatch(*args: str, home: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    """Run the real CLI in a process of its own, with a Prefect home of its own."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    full.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", **env)
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          env=full, timeout=timeout)


def assert_no_traceback(done: subprocess.CompletedProcess) -> None:
    for stream in (done.stdout, done.stderr):
        assert "Traceback" not in stream, stream[-3000:]


def without_capture_noise(err: str) -> str:
    """stderr captured in-process, less the '--- Logging error ---' reports of Prefect's console handler
    writing to an earlier test's closed capture (pytest's artefact, not FormWatch's output)."""
    kept, skipping = [], False
    for line in err.splitlines():
        skipping = skipping or line == "--- Logging error ---"
        if not skipping:
            kept.append(line)
        skipping = skipping and not line.startswith("Arguments:")
    return "\n".join(kept)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "small.yaml"
    path.write_text(CONFIG)
    return path


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory, weights: Path, config: Path):
    root = build_corpus(tmp_path_factory.mktemp("hostile") / "footage")
    out = tmp_path_factory.mktemp("hostile-out")
    done = formwatch("run", str(root), "--out", str(out), "--config", str(config), "--no-progress",
                     home=tmp_path_factory.mktemp("prefect-home"), FORMWATCH_WEIGHTS=str(weights))
    rows = {Path(r["path"]).name: r for r in ds.dataset(out / "videos").to_table().to_pylist()}
    return out, done, rows


def test_every_hostile_input_gets_its_status_and_sentence(corpus_run):
    _, done, rows = corpus_run
    for name, (_, status, words) in CORPUS.items():
        if status is None:
            assert name not in rows
            continue
        row = rows[name]
        assert row["status"] == status, (name, row["error"])
        if words:
            assert words in row["error"], (name, row["error"])
        else:
            assert row["error"] is None and row["frames"] > 0, name
    assert (rows["rotated.mp4"]["width"], rows["rotated.mp4"]["height"]) == (64, 96)
    assert rows["uhd_4k.mp4"]["width"] == 3840


def test_some_failed_is_exit_1_with_a_sentence_and_no_traceback(corpus_run):
    _, done, _ = corpus_run
    assert done.returncode == ExitStatus.SOME_FAILED, done.stderr[-3000:]
    assert_no_traceback(done)
    assert "formwatch: error: of 13 videos processed, 5 failed and 1 are partial" in done.stderr


def test_a_folder_named_like_a_video_is_logged(corpus_run):
    _, done, _ = corpus_run
    assert "folder.mp4: not processed: a folder whose name ends like a video" in done.stderr


def test_a_damaged_video_keeps_its_good_frames(corpus_run):
    out, _, rows = corpus_run
    row = rows["damaged.mp4"]
    assert row["frames_lost"] >= 1 and row["frames"] + row["frames_lost"] == 30
    assert "frames did not decode" in row["error"]
    assert f"the {row['frames']} frames that did were analysed" in row["error"]
    for name in ("detections", "runners", "contacts", "deviations"):
        assert (out / name / f"{row['video_id']}.parquet").is_file()


def test_failed_videos_have_no_data_files_and_nothing_temporary_is_left(corpus_run):
    out, _, rows = corpus_run
    failed = {r["video_id"] for r in rows.values() if r["status"] == "failed"}
    for name in ("detections", "runners", "contacts", "deviations"):
        stems = {p.stem for p in (out / name).iterdir()}
        assert not stems & failed
        assert all(p.suffix == ".parquet" and not p.name.startswith(".") for p in (out / name).iterdir())
    assert not (out / ".staging").exists()


def test_the_report_escapes_html_in_file_names(corpus_run):
    out, _, _ = corpus_run
    page = (out / "report.html").read_text()
    assert "<img src=x onerror" not in page and "&lt;img src=x onerror" in page


def test_all_failed_is_exit_3(tmp_path: Path, weights: Path, config: Path):
    folder = tmp_path / "footage"
    folder.mkdir()
    empty(folder / "empty.mp4")
    text(folder / "notes.mov")
    done = formwatch("run", str(folder), "--out", str(tmp_path / "out"), "--config", str(config),
                     home=tmp_path / "home", FORMWATCH_WEIGHTS=str(weights))
    assert done.returncode == ExitStatus.ALL_FAILED, done.stderr[-3000:]
    assert_no_traceback(done)
    assert "formwatch: error: all 2 videos processed failed" in done.stderr


def test_a_server_that_does_not_start_is_exit_4_with_what_to_do(tmp_path: Path, weights: Path):
    clip = good(tmp_path / "a.mp4")
    done = formwatch("run", str(clip), "--out", str(tmp_path / "out"), home=tmp_path / "home",
                     FORMWATCH_WEIGHTS=str(weights), PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="0")
    assert done.returncode == ExitStatus.ENVIRONMENT
    assert_no_traceback(done)
    assert "trying once more" in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("formwatch: error: Prefect's embedded server did not "
                                                            "start within 0 s, twice")


def _unusable_outputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    a_file = tmp_path / "results.txt"
    a_file.write_text("not a folder")
    return {
        "a file": (a_file, "is a file, not a folder"),
        "under a file": (a_file / "out", "lies under a file"),
        "under /proc": (Path("/proc/formwatch-out"), "cannot be"),
    }


@pytest.mark.parametrize("case", ["a file", "under a file", "under /proc"])
def test_an_unusable_output_folder_is_exit_4_with_a_sentence(case: str, tmp_path: Path, weights: Path,
                                                             capsys: pytest.CaptureFixture):
    out, words = _unusable_outputs(tmp_path)[case]
    clip = good(tmp_path / "a.mp4")
    assert main(["run", str(clip), "--out", str(out), "--weights", str(weights)]) == ExitStatus.ENVIRONMENT
    err = capsys.readouterr().err
    assert err.startswith("formwatch: error: The output folder") and words in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("code", "words"), [(errno.ENOSPC, "No space left on the output disk"),
                                              (errno.EDQUOT, "No space left on the output disk"),
                                              (errno.EROFS, "The output disk is read-only"),
                                              (errno.EIO, None)])
def test_disk_errors_are_told_apart_from_other_errors(code: int, words: str | None, tmp_path: Path):
    sentence = disk_error_sentence(OSError(code, os.strerror(code)), tmp_path)
    assert sentence is None if words is None else sentence.startswith(words)


def test_a_full_disk_stops_the_run_keeps_finished_videos_and_leaves_nothing_half_written(
        tmp_path: Path, weights: Path, config: Path, prefect_harness, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture):
    import pipeline.process

    folder, out = tmp_path / "footage", tmp_path / "out"
    folder.mkdir()
    good(folder / "a.mp4", frames=3)
    good(folder / "b.mp4", frames=5)
    real = pipeline.process.write_video_tables
    ids = {content_id(folder / "b.mp4")}

    def disk_fills_up(stage, video_id, analysed):
        if video_id in ids:
            (stage / "runners").mkdir(parents=True, exist_ok=True)
            (stage / "runners" / "half.parquet").write_bytes(b"PAR1 half")  # what a full disk leaves
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(stage, video_id, analysed)

    monkeypatch.setattr(pipeline.process, "write_video_tables", disk_fills_up)
    status = main(["run", str(folder), "--out", str(out), "--config", str(config), "--weights", str(weights)])
    err = without_capture_noise(capsys.readouterr().err)
    assert status == ExitStatus.ENVIRONMENT and "Traceback" not in err
    assert "formwatch: error: No space left on the output disk" in err and "could not be read" not in err
    rows = {Path(r["path"]).name: r for r in ds.dataset(out / "videos").to_table().to_pylist()}
    assert rows["a.mp4"]["status"] == "ok"
    assert rows["b.mp4"]["status"] == "failed" and rows["b.mp4"]["error"].startswith("No space left")
    for name in ("detections", "runners", "contacts", "deviations"):
        assert {p.stem for p in (out / name).iterdir()} == {rows["a.mp4"]["video_id"]}
    assert not (out / ".staging").exists()


HOLD = textwrap.dedent("""
    import sys, time
    from pipeline.outputs import OutputLock
    with OutputLock(sys.argv[1]):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def _holder(out: Path, seconds: float) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(out), str(seconds)], cwd=ROOT,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_busy_output_folder_names_its_holder(tmp_path: Path):
    holder = _holder(tmp_path, 60)
    try:
        with pytest.raises(OutputBusyError) as busy, OutputLock(tmp_path):
            pass
        assert f"process {holder.pid} on " in str(busy.value) and " since 20" in str(busy.value)
    finally:
        holder.kill()
        holder.wait()


def test_a_second_run_waits_for_the_first_when_told_to(tmp_path: Path):
    holder = _holder(tmp_path, 2)
    said: list[str] = []
    started = time.monotonic()
    with OutputLock(tmp_path, wait=True, log=said.append, poll_s=0.1, report_every_s=0.5):
        waited = time.monotonic() - started
    holder.wait()
    assert 1.0 < waited < 30 and said and said[0].startswith(f"Waiting for the output folder {tmp_path}")
    assert f"process {holder.pid}" in said[0]


def test_a_lock_left_by_a_killed_run_is_taken_over_with_a_log_line(tmp_path: Path):
    holder = _holder(tmp_path, 60)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    said: list[str] = []
    with OutputLock(tmp_path, log=said.append):
        pass
    assert len(said) == 1 and said[0].startswith("Taking over the lock") and f"process {holder.pid}" in said[0]


def test_a_busy_output_folder_is_exit_5(tmp_path: Path, weights: Path):
    clip = good(tmp_path / "a.mp4")
    (tmp_path / "out").mkdir()
    holder = _holder(tmp_path / "out", 120)
    try:
        done = formwatch("run", str(clip), "--out", str(tmp_path / "out"), home=tmp_path / "home",
                         FORMWATCH_WEIGHTS=str(weights))
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == ExitStatus.BUSY
    assert_no_traceback(done)
    said = [line for line in done.stderr.splitlines() if line.startswith("formwatch: error:")]
    assert len(said) == 1 and f"is in use by another FormWatch run (process {holder.pid} on" in said[0]


SLOT = textwrap.dedent("""
    import time
    from flows.runners import inference_slot
    with inference_slot(1):
        print("slot", flush=True)
        time.sleep(600)
""")


def test_a_slot_held_by_a_killed_process_is_free_at_once(tmp_path: Path):
    from flows.runners import inference_slot

    holder = subprocess.Popen([sys.executable, "-c", SLOT], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "slot"
    said: list[str] = []
    waiting = subprocess.Popen([sys.executable, "-c", "from flows.runners import inference_slot\n"
                                "with inference_slot(1, poll_s=0.1, report_every_s=0.3): print('got it')"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    assert waiting.poll() is None  # the live holder keeps it
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    out, _ = waiting.communicate(timeout=30)
    assert out.strip() == "got it"
    started = time.monotonic()
    with inference_slot(1, log=said.append):
        assert time.monotonic() - started < 1.0 and not said


def test_waiting_for_a_slot_says_for_whom_and_how_long(tmp_path: Path):
    from flows.runners import inference_slot

    holder = subprocess.Popen([sys.executable, "-c", SLOT.replace("600", "2")], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "slot"
    said: list[str] = []
    with inference_slot(1, poll_s=0.1, report_every_s=0.5, log=said.append):
        pass
    holder.wait()
    assert said[0].startswith("Waiting for an inference slot of formwatch-inference-")
    assert f"all taken by process {holder.pid} on " in said[0] and "0 s so far" in said[0]
    assert said[-1].startswith("Inference slot taken after waiting")


def test_a_disk_too_full_for_the_videos_row_keeps_nothing_of_that_video(
        tmp_path: Path, weights: Path, config: Path, prefect_harness, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture):
    import pipeline.outputs
    import pipeline.process

    out = tmp_path / "out"
    clip = good(tmp_path / "a.mp4", frames=3)
    real = pipeline.outputs.write_table_atomic

    def full_for_rows(table, path):
        if path.parent.name == "videos":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(table, path)

    monkeypatch.setattr(pipeline.outputs, "write_table_atomic", full_for_rows)
    monkeypatch.setattr(pipeline.process, "write_table_atomic", full_for_rows)
    status = main(["run", str(clip), "--out", str(out), "--config", str(config), "--weights", str(weights)])
    err = without_capture_noise(capsys.readouterr().err)
    assert status == ExitStatus.ENVIRONMENT and "formwatch: error: No space left on the output disk" in err
    assert "Traceback" not in err
    assert [p for p in out.rglob("*.parquet")] == [] and not (out / ".staging").exists()


@pytest.mark.parametrize(("args", "status"), [(["run", "--help"], 0), (["run", "--workers", "0", "."], 2),
                                            (["no-such-command"], 2), (["stats", "no-such-folder"], 2)])
def test_the_command_exits_with_mains_status(args: list[str], status: int, tmp_path: Path):
    """The command ends the process right after the exit handlers (skipping the interpreter's
    teardown) with the status main gave, argparse's included."""
    done = formwatch(*args, home=tmp_path / "home", timeout=60)
    assert done.returncode == status, done.stderr[-2000:]
    assert_no_traceback(done)
    assert (done.stdout if status == 0 else done.stderr).strip()  # what it said reached the pipe


def test_a_server_timeout_that_is_not_a_number_is_a_sentence(tmp_path: Path, weights: Path):
    clip = good(tmp_path / "a.mp4")
    done = formwatch("run", str(clip), "--out", str(tmp_path / "out"), home=tmp_path / "home",
                     FORMWATCH_WEIGHTS=str(weights), PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="soon")
    assert done.returncode == ExitStatus.USAGE
    assert_no_traceback(done)
    assert done.stderr.strip().splitlines()[-1] == (
        "formwatch: error: PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS = 'soon' is not a number of seconds; "
        "set it to e.g. 90, or unset it.")


def test_run_help_lists_the_exit_statuses(capsys: pytest.CaptureFixture):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    for line in ("0  every video is ok", "1  some videos failed or are partial", "2  usage or settings error",
                 "3  every video this run processed failed", "4  environment error", "5  the output folder is in use"):
        assert line in text, line
    assert "--if-busy {exit,wait}" in text


def test_an_unreachable_prefect_server_is_exit_4_with_what_to_do(tmp_path: Path, weights: Path):
    clip = good(tmp_path / "a.mp4")
    done = formwatch("run", str(clip), "--out", str(tmp_path / "out"), home=tmp_path / "home",
                     FORMWATCH_WEIGHTS=str(weights), PREFECT_API_URL="http://127.0.0.1:9/api")
    assert done.returncode == ExitStatus.ENVIRONMENT
    assert_no_traceback(done)
    assert done.stderr.strip().splitlines()[-1] == ("formwatch: error: The Prefect server at http://127.0.0.1:9/api "
                                                    "cannot be reached: start it, or unset PREFECT_API_URL to use "
                                                    "the embedded one.")


def test_the_temporary_servers_output_goes_to_a_log_removed_when_it_is_stopped(
        tmp_path: Path, capsys: pytest.CaptureFixture):
    """Stopped at exit, Prefect's temporary server reports its cancelled event flushes with
    tracebacks (seen on a loaded machine, on the command's stderr): its output goes to a log file
    of its own, removed when the server is stopped; a server that ended on its own with an error
    keeps its log, and one line says where."""
    from flows.server import _terminate

    stopped_log = tmp_path / "stopped.log"
    with open(stopped_log, "wb") as log:
        running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], stdout=log)
    _terminate(running, stopped_log)
    assert running.returncode is not None and not stopped_log.exists()
    assert capsys.readouterr().err == ""

    failed_log = tmp_path / "failed.log"
    failed_log.write_text("Traceback (most recent call last): ...\n")
    failed = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    failed.wait()
    _terminate(failed, failed_log)
    assert failed_log.is_file()
    assert capsys.readouterr().err == (
        f"formwatch: Prefect's temporary server stopped on its own (exit 3); its log: {failed_log}\n")
