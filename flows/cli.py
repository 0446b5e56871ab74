"""``formwatch``: the command line. Parses flags, validates settings once, runs the flow."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from enum import IntEnum
from pathlib import Path
from typing import Any, NoReturn

from flows.server import FORMWATCH_HOME_ENV, ServerError, TemporaryServer, no_flow_heartbeats
from pipeline.config import WEIGHTS_ENV, ConfigError, Settings, describe_settings, load_settings
from pipeline.outputs import OutputError, check_output_folder

EPILOG = f"""\
Settings come from the defaults (see `formwatch config`), then --config FILE, then
{WEIGHTS_ENV} (a weights path), then the flags given here. Runs on Prefect's embedded
local mode unless PREFECT_API_URL points at a Prefect server.
"""


class PrefectUnavailable(RuntimeError):
    """Prefect's API (embedded or a server) cannot be reached; the message says what to do."""


class ExitStatus(IntEnum):
    """What `formwatch run` exits with; each non-zero status comes with one sentence on stderr."""

    OK = 0  #: every video processed is ok, or up to date
    SOME_FAILED = 1  #: some videos failed or are partial; the others are ok
    USAGE = 2  #: a bad flag, setting, source or weights path
    ALL_FAILED = 3  #: every video this run processed failed, or no video was found
    ENVIRONMENT = 4  #: the output folder is unusable (a file, unwritable, disk full or read-only) or Prefect is
    BUSY = 5  #: another live run is writing the output folder (orchestration.if_output_busy: exit)


EXIT_EPILOG = """\
Exit status:
  0  every video is ok (processed now or up to date)
  1  some videos failed or are partial (frames lost); the rest are ok
  2  usage or settings error (bad flag, setting, source or weights)
  3  every video this run processed failed, or no video was found
  4  environment error: the output folder is unusable, the output disk is full or
     read-only, or Prefect's API is unavailable
  5  the output folder is in use by another FormWatch run (--if-busy exit)
  130 interrupted (Ctrl-C)
Each non-zero status prints one sentence on stderr, never a traceback.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="formwatch", description="Per-runner form analysis of running footage.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    options = _run_options()
    commands.add_parser(
        "run", parents=[options], help="process new or changed videos now; write Parquet, clips and a report",
        description="Run the annotate_footage flow over video files and folders (searched "
        "recursively for mp4, mov, m4v, avi, mkv and webm, any letter case). Videos already processed "
        "with the same content, settings, weights and analysis version are skipped (--force redoes them).",
        epilog=EPILOG + "\n" + EXIT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    ).add_argument("--no-progress", action="store_true", help="no progress bars, even on a terminal")

    serve = commands.add_parser(
        "serve", parents=[options], help="run the job on a cron schedule until stopped (deployment formwatch-nightly)",
        description="Register the deployment annotate_footage/formwatch-nightly with a cron schedule and serve it "
        "until Ctrl-C or SIGTERM. Each run processes the new or changed videos of SOURCE. With no "
        "PREFECT_API_URL set, starts and owns a local Prefect server (SQLite in "
        f"${{{FORMWATCH_HOME_ENV}:-~/.formwatch}}/prefect-server, loopback only) and prints its UI address.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _schedule_options(serve, required=True)
    serve.add_argument("--pool", metavar="NAME",
                       help="send each video to this work pool as a child flow run (deployment "
                       "process-one-video/formwatch-video) instead of processing it here")
    serve.add_argument("--port", type=int, default=4200,
                       help="port of the owned local server (default: %(default)s, or a free one if taken)")

    deploy = commands.add_parser(
        "deploy", parents=[options], help="register the job on a work pool, for workers on many machines",
        description="Register annotate_footage/formwatch-nightly (optionally on a cron schedule) and "
        "process-one-video/formwatch-video on a Prefect work pool (created as a process pool if missing). "
        "Workers started with `prefect worker start --pool NAME` on any machine then share the videos of "
        "each run, one child flow run per video. Needs PREFECT_API_URL.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    deploy.add_argument("--pool", metavar="NAME", required=True, help="work pool name")
    _schedule_options(deploy, required=False)

    stats = commands.add_parser(
        "stats", help="print a per-runner summary of an output folder",
        description="Per person and video: activity, time on screen, steps, cadence, camera view and "
        "the form faults flagged, read from DIR's Parquet datasets.",
    )
    stats.add_argument("out", metavar="DIR", help="output folder of `formwatch run`")
    stats.add_argument("--runners-only", action="store_true", help="leave out walkers and standing people")

    report = commands.add_parser(
        "report", help="write DIR/report.html from an output folder",
        description="Write the self-contained HTML report (every video, runner, fault, plot and clip) of DIR. "
        "`formwatch run` writes it too; this re-writes it, e.g. after runs into the same folder.",
    )
    report.add_argument("out", metavar="DIR", help="output folder of `formwatch run`")

    _coach_commands(commands)

    config = commands.add_parser(
        "config", help="show every setting with its value, unit and meaning",
        description="Print every setting after applying --config FILE, with unit and meaning.",
    )
    config.add_argument("--config", metavar="FILE", help="YAML file overriding the default settings")
    return parser


def _coach_commands(commands: Any) -> None:
    """The coach's loop: athletes, name, rename, progress, compare."""
    athletes = commands.add_parser(
        "athletes", help="who is known: each athlete with their sessions, and the names proposed",
        description="List every named athlete of DIR with the number of sessions (videos) and their dates, then "
        "the runners FormWatch proposes as a named athlete (never counted until confirmed with `formwatch name`). "
        "Reads the roster (athletes.roster) of --config first.",
    )
    athletes.add_argument("out", metavar="DIR", help="output folder of `formwatch run`")
    athletes.add_argument("--config", metavar="FILE", help="YAML settings (athletes.roster)")

    name = commands.add_parser(
        "name", help="say who a runner is (or --undo it)",
        description="Name runner RUNNER_ID of VIDEO (a video_id, a file name or a path) ATHLETE. Idempotent; a "
        "different name replaces the runner's earlier one; confirms a proposal. Survives re-runs. --undo removes "
        "the runner's names (only ATHLETE's when given), whatever their source.",
    )
    name.add_argument("out", metavar="DIR", help="output folder of `formwatch run`")
    name.add_argument("video", metavar="VIDEO", help="video_id, file name or path of the video")
    name.add_argument("runner", metavar="RUNNER_ID", type=int, help="runner id (runners.track_id, as in stats)")
    name.add_argument("athlete", metavar="ATHLETE", nargs="?", help="the athlete's name")
    name.add_argument("--undo", action="store_true", help="remove the runner's names instead")

    rename = commands.add_parser("rename", help="rename an athlete everywhere",
                                 description="Give every runner named OLD the name NEW (same sources).")
    rename.add_argument("out", metavar="DIR", help="output folder of `formwatch run`")
    rename.add_argument("old", metavar="OLD")
    rename.add_argument("new", metavar="NEW")

    progress = commands.add_parser(
        "progress", help="an athlete's faults session by session, and the change",
        description="Per fault (and cadence, step asymmetry): the value of each session with its 90%% interval, "
        "the threshold, and the change from the session before: better or worse when the two intervals do not "
        "overlap, else no measurable change. Also writes DIR/progress/progress.parquet for every athlete.",
    )
    progress.add_argument("out", metavar="DIR", help="output folder of `formwatch run`")
    progress.add_argument("athlete", metavar="ATHLETE")
    progress.add_argument("--fault", metavar="NAME", help="one fault (or cadence, step_asymmetry) only")
    progress.add_argument("--all", action="store_true", help="also the metrics never measured in any session")
    progress.add_argument("--config", metavar="FILE", help="YAML settings (thresholds, athletes.roster)")

    compare = commands.add_parser(
        "compare", help="side-by-side clip of an athlete's first and latest sessions for one fault",
        description="Write DIR/athletes/compare/ATHLETE-FAULT.mp4 (H.264, plays in browsers): the first and the "
        "latest session side by side, aligned on ground contacts (the same phase of the stride in both halves), "
        "slowed, with the measurement drawn (overstride, shank angle), captioned with dates and values.",
    )
    compare.add_argument("out", metavar="DIR", help="output folder of `formwatch run`")
    compare.add_argument("athlete", metavar="ATHLETE")
    compare.add_argument("--fault", metavar="NAME", required=True, help="fault name, e.g. overstride")
    compare.add_argument("--slowmo", type=int, default=4, help="times slower than real time (default: %(default)s)")
    compare.add_argument("--size", type=int, default=480, help="height of each half in px (default: %(default)s)")


def _run_options() -> argparse.ArgumentParser:
    """The options of `run`, shared by `serve` and `deploy`."""
    run = argparse.ArgumentParser(add_help=False)
    run.add_argument("sources", nargs="+", metavar="SOURCE", help="a video file or a folder of videos")
    run.add_argument("--out", default="output", metavar="DIR",
                     help="output folder for the Parquet datasets, clips and report (default: %(default)s)")
    run.add_argument("--config", metavar="FILE", help="YAML file overriding the default settings")
    run.add_argument("--weights", metavar="PATH", help="pose weights file (setting model.weights)")
    run.add_argument("--start", type=float, metavar="SECONDS",
                     help="analyse each video from this time (setting video.start_s)")
    run.add_argument("--end", type=float, metavar="SECONDS",
                     help="stop analysing each video at this time (setting video.end_s)")
    run.add_argument("--device", metavar="DEVICE",
                     help="torch device: auto, cpu, 0, cuda:1 ... (setting model.device)")
    run.add_argument("--tracker", choices=["botsort", "bytetrack"], help="setting tracking.tracker")
    run.add_argument("--no-clips", action="store_true",
                     help="write no annotated or highlight clips (setting render.clips), for stats-only runs")
    run.add_argument("--blur-faces", choices=["none", "others", "all"],
                     help="faces to blur in clips (setting render.blur_faces; default: others)")
    run.add_argument("--force", action="store_true",
                     help="process every video, even those whose results are up to date")
    run.add_argument("--task-runner", choices=["thread", "process", "dask"],
                     help="where videos are processed: threads or processes here, or a Dask cluster "
                     "(setting orchestration.task_runner)")
    run.add_argument("--workers", type=int, metavar="N",
                     help="videos processed at once (setting orchestration.workers)")
    run.add_argument("--dask-address", metavar="ADDRESS",
                     help="scheduler of an existing Dask cluster, e.g. tcp://10.0.0.5:8786; implies "
                     "--task-runner dask (setting orchestration.dask_address)")
    run.add_argument("--inference-slots", type=int, metavar="N",
                     help="pose models run at once on a machine (setting orchestration.inference_slots)")
    run.add_argument("--if-busy", choices=["exit", "wait"],
                     help="when another run is writing --out: exit with status 5 (default) or wait for it "
                     "(setting orchestration.if_output_busy)")
    return run


def _schedule_options(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--cron", required=required, metavar="EXPR",
                        help='cron schedule, e.g. "0 2 * * *" for 02:00 every night')
    parser.add_argument("--timezone", metavar="TZ",
                        help="IANA time zone of the schedule, e.g. Europe/London (default: UTC)")


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    task_runner = args.task_runner or ("dask" if args.dask_address else None)
    return {
        "video": {"start_s": args.start, "end_s": args.end},
        "model": {"weights": args.weights, "device": args.device},
        "tracking": {"tracker": args.tracker},
        "render": {"clips": False if args.no_clips else None, "blur_faces": args.blur_faces},
        "orchestration": {"task_runner": task_runner, "workers": args.workers, "dask_address": args.dask_address,
                          "inference_slots": args.inference_slots, "if_output_busy": args.if_busy},
    }


def _settings(args: argparse.Namespace) -> Settings:
    """Validated settings with the weights resolved, before Prefect starts: a bad value or
    missing weights give one line, not a failed run."""
    settings = load_settings(args.config, _overrides(args))
    for source in args.sources:
        if not Path(source).exists():
            raise FileNotFoundError(f"Source {source!r} is neither a video file nor a folder.")
    from pipeline.pose_model import resolve_weights

    weights = resolve_weights(settings.model.weights)
    return settings.model_copy(update={"model": settings.model.model_copy(update={"weights": str(weights)})})


def _run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    check_output_folder(args.out)
    # Prefect's temporary server starts now, in its own process, rather than after the first frames
    server = TemporaryServer(_startup_timeout_s()).start() if TemporaryServer.wanted() else None
    try:
        if settings.orchestration.task_runner == "thread":  # the videos are processed in this process
            _head_start(args, settings)  # while Prefect's embedded server starts
        adopted = server is not None and server.adopt()
        from pipeline.progress import ProgressReporter, RichProgressReporter, use_reporter

        show = sys.stderr.isatty() and not args.no_progress
        reporter = RichProgressReporter() if show else ProgressReporter()
        with use_reporter(reporter), (reporter if isinstance(reporter, RichProgressReporter)
                                      else contextlib.nullcontext()), \
                (no_flow_heartbeats() if adopted else contextlib.nullcontext()):
            state = _run_flow(args, settings)
    finally:
        if server is not None:
            server.stop()
    result = state.result(raise_on_failure=False)
    if state.is_failed() and isinstance(result, dict) and result.get("error"):
        print(f"formwatch: error: {result['error']}", file=sys.stderr)
        return ExitStatus.BUSY if result.get("error_kind") == "busy" else ExitStatus.ENVIRONMENT
    if isinstance(result, BaseException):
        raise result  # a bug: Prefect has logged it; let the traceback show where
    return _report_run(args, result)


def _startup_timeout_s() -> float:
    """Prefect's PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS (set by :func:`main` when absent)."""
    value = os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"]
    try:
        return float(value)
    except ValueError:
        raise ConfigError(f"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS = {value!r} is not a number of "
                          "seconds; set it to e.g. 90, or unset it.") from None


#: Longest wait for the head start's first frame before Prefect starts anyway (a model load
#: takes ~3 s on 2 cores; another run holding every inference slot can take much longer).
HEAD_START_WAIT_S = 20.0


def _head_start(args: argparse.Namespace, settings: Settings) -> None:
    """Put the first video to process through the pose model before the flow asks for it (see
    :func:`pipeline.process.head_start`), while Prefect's server starts; nothing when every video
    is up to date (no model is loaded for a run that skips everything).

    Prefect is imported only once the first frame is through the model (or after
    ``HEAD_START_WAIT_S``): both are seconds of Python imports, which share one interpreter
    lock, so started together each took twice as long (the model's imports 5.5 s instead of
    1.4 s). Prefect's server is another process (:class:`flows.server.TemporaryServer`),
    started before all this, so it has no lock to share."""
    import functools

    from flows.runners import inference_slot
    from pipeline.incremental import plan_videos, run_key
    from pipeline.process import head_start
    from pipeline.video import discover_videos

    weights = Path(settings.model.weights)
    try:
        paths = discover_videos(args.sources, settings.video.extensions).videos
        first = next((item for item in plan_videos(paths, args.out, run_key(settings, weights), args.force)
                      if item.process), None)
    except OSError:  # the flow meets and reports whatever this is
        first = None
    if first is None:
        return
    slot = functools.partial(inference_slot, settings.orchestration.inference_slots)
    first_frame = threading.Event()
    head_start(first.path, settings, weights, slot, first_frame)
    first_frame.wait(HEAD_START_WAIT_S)


def _run_flow(args: argparse.Namespace, settings: Settings) -> Any:
    """The final state of the annotate_footage flow run; the embedded server's start is tried twice."""
    from flows.annotate import annotate_footage

    for attempt in (1, 2):
        try:
            return annotate_footage(args.sources, args.out, settings, force=args.force, return_state=True)
        except RuntimeError as exc:
            _stop_embedded_servers()
            if "ephemeral Prefect API server" in str(exc) and attempt == 1:
                print("formwatch: the embedded Prefect server did not start in time; trying once more",
                      file=sys.stderr)
                continue
            if "ephemeral Prefect API server" in str(exc) or "Failed to reach API" in str(exc):
                raise PrefectUnavailable(_prefect_sentence(str(exc))) from None
            raise
    raise AssertionError("unreachable")


def _stop_embedded_servers() -> None:
    """Stop the embedded servers whose start timed out: Prefect leaves their processes running."""
    from prefect.server.api.server import SubprocessASGIServer

    for server in list(SubprocessASGIServer._instances.values()):
        server.stop()


def _prefect_sentence(error: str) -> str:
    if "ephemeral" in error:
        timeout = os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "?")
        return (f"Prefect's embedded server did not start within {timeout} s, twice (a loaded machine?): run again "
                "later, raise PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or start `prefect server start` "
                "and set PREFECT_API_URL.")
    return (f"The Prefect server at {os.environ.get('PREFECT_API_URL')} cannot be reached: start it, or unset "
            "PREFECT_API_URL to use the embedded one.")


def _report_run(args: argparse.Namespace, summary: dict[str, Any]) -> int:
    """Print the run's outcome; return its exit status."""
    print(f"{summary['found']} videos found: {summary['ok']} processed, {summary['partial']} partial, "
          f"{summary['failed']} failed, {summary['skipped']} skipped as up to date (--force redoes them). "
          f"Results: {Path(args.out).resolve()}")
    if (Path(args.out) / "report.html").is_file():
        print(f"Report: {(Path(args.out) / 'report.html').resolve()}")
    good = summary["ok"] + summary["partial"]
    if not summary["found"]:
        print(f"formwatch: error: no video file found under {', '.join(args.sources)}.", file=sys.stderr)
        return ExitStatus.ALL_FAILED
    if summary["failed"] and not good:
        print(f"formwatch: error: all {summary['failed']} videos processed failed (see their videos/ rows "
              "for why).", file=sys.stderr)
        return ExitStatus.ALL_FAILED
    if summary["failed"] or summary["partial"]:
        print(f"formwatch: error: of {summary['videos']} videos processed, {summary['failed']} failed and "
              f"{summary['partial']} are partial (see their videos/ rows for why).", file=sys.stderr)
        return ExitStatus.SOME_FAILED
    return ExitStatus.OK


def _serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.deployments import NIGHTLY, cron_schedule, serve_nightly

    schedule = cron_schedule(args.cron, args.timezone)  # a bad schedule stops here, before any server starts
    # SIGTERM while the server starts or the deployment registers stops as cleanly as Ctrl-C;
    # Prefect's runner installs its own graceful SIGTERM handler once it serves.
    stopper = StopSignal()
    signal.signal(signal.SIGTERM, stopper)
    try:
        with contextlib.ExitStack() as stack, stopper.unwinding():
            if os.environ.get("PREFECT_API_URL"):
                print(f"Using the Prefect server at {os.environ['PREFECT_API_URL']}", flush=True)
            else:
                from flows.server import LocalServer

                server = LocalServer(port=args.port)
                print(f"Starting a local Prefect server (database and log in {server.home}; "
                      "the first start sets up the database and takes about half a minute)...", flush=True)
                if args.pool:
                    print("Note: workers on this machine will share this SQLite-backed server; SQLite takes one "
                          "writer at a time, so busy workers can make it log 'database is locked' (Prefect's clients "
                          "retry). For workers on several machines, run a Prefect server on PostgreSQL and set "
                          "PREFECT_API_URL (README: many machines).", flush=True)
                stack.enter_context(server)
                os.environ["PREFECT_API_URL"] = server.api_url  # for the flow-run processes
                stack.enter_context(temporary_settings(updates={PREFECT_API_URL: server.api_url}))
                print(f"Prefect UI: {server.url}", flush=True)
            print(f"Serving annotate_footage/{NIGHTLY} on {args.cron!r} ({args.timezone or 'UTC'}); "
                  "Ctrl-C or SIGTERM stops it.", flush=True)
            serve_nightly(args.sources, args.out, settings, schedule, args.force, args.pool)
    except KeyboardInterrupt:
        pass  # stopped before the runner took over; the owned server has been stopped above
    print("formwatch serve: stopped", flush=True)
    return 0


class StopSignal:
    """The SIGTERM handler of ``formwatch serve`` until Prefect's runner takes SIGTERM over (it
    installs its own graceful one when it starts serving): it raises KeyboardInterrupt, so the
    command unwinds and stops the server it started.

    Python prints and drops an exception raised while it runs a weakref callback or a
    ``__del__`` ("Exception ignored in ..."), and a signal can land there: one SIGTERM in a CI
    run was lost that way and ``serve`` kept serving. So the handler also sends the signal again
    every ``resend_s`` seconds until the command is seen stopping (:meth:`unwinding`), and once
    it is, further signals are ignored, so the server's stop is not cut short. A resent signal
    that finds Prefect's runner serving gets its graceful stop. Ctrl-C keeps Python's own
    handler: while serving, Prefect's shutdown on KeyboardInterrupt takes seconds and a second
    interrupt would cut it short.
    """

    def __init__(self, resend_s: float = 5.0) -> None:
        self.resend_s = resend_s
        self.stopping = threading.Event()

    def __call__(self, signum: int, frame: Any) -> None:
        if self.stopping.is_set():
            return
        timer = threading.Timer(self.resend_s, self._resend, (signum,))
        timer.daemon = True
        timer.start()
        raise KeyboardInterrupt

    def _resend(self, signum: int) -> None:
        if not self.stopping.is_set():
            os.kill(os.getpid(), signum)

    @contextlib.contextmanager
    def unwinding(self) -> Iterator[None]:
        """Marks the command stopping as soon as the block ends, however it ends."""
        try:
            yield
        finally:
            self.stopping.set()


def _deploy(args: argparse.Namespace) -> int:
    if not os.environ.get("PREFECT_API_URL"):
        raise ConfigError("formwatch deploy registers deployments on a Prefect server shared by the workers: "
                          "set PREFECT_API_URL (e.g. http://prefect-host:4200/api) first.")
    settings = _settings(args)
    from flows.deployments import cron_schedule, deploy_to_pool

    schedule = cron_schedule(args.cron, args.timezone) if args.cron else None
    names = deploy_to_pool(args.sources, args.out, settings, args.pool, schedule, args.force)
    print(f"Registered {' and '.join(names)} on work pool {args.pool!r}.")
    print(f"Start a worker on every machine: prefect worker start --pool {args.pool}")
    print(f"Run now: prefect deployment run {names[0]!r}")
    return 0


def _stats(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from pipeline.analysis.registry import DEVIATIONS
    from pipeline.stats import runner_summaries

    summaries = runner_summaries(args.out, runners_only=args.runners_only)
    table = Table(title=f"FormWatch: {Path(args.out).resolve()}", show_lines=False)
    for heading in ("video", "id", "athlete", "activity", "seconds", "steps", "cadence (spm)", "view",
                    "faults flagged"):
        table.add_column(heading, overflow="fold")
    for s in summaries:
        cadence = f"{s.cadence_spm:.0f}" if s.cadence_spm is not None else "-"
        faults = "; ".join(s.faults) if s.faults else ("none" if s.activity == "running" else "-")
        if s.activity == "running" and s.unmeasured:
            faults = "not measurable" if not s.faults and s.unmeasured == len(DEVIATIONS) else \
                f"{faults} ({s.unmeasured} not measurable)"
        table.add_row(s.video, str(s.track_id), s.athlete or "-", s.activity, f"{s.seconds_visible:.1f}",
                      str(s.steps), cadence, s.view, faults)
    Console(width=None if sys.stdout.isatty() else 160).print(table)  # pipes and files get full rows
    runners = sum(s.activity == "running" for s in summaries)
    print(f"{len(summaries)} people, {runners} running. Columns and units: docs/SCHEMAS.md")
    return 0


def _report(args: argparse.Namespace) -> int:
    from pipeline.report import write_report

    print(f"Report: {write_report(args.out)}")
    return 0


def _athletes(args: argparse.Namespace) -> int:
    from flows.coach_cli import athletes_command

    return athletes_command(args)


def _name(args: argparse.Namespace) -> int:
    from flows.coach_cli import name_command

    return name_command(args)


def _rename(args: argparse.Namespace) -> int:
    from flows.coach_cli import rename_command

    return rename_command(args)


def _progress(args: argparse.Namespace) -> int:
    from flows.coach_cli import progress_command

    return progress_command(args)


def _compare(args: argparse.Namespace) -> int:
    from flows.coach_cli import compare_command

    return compare_command(args)


def _config(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    width = max(len(name) for name, *_ in describe_settings(settings))
    for name, value, unit, meaning in describe_settings(settings):
        unit_text = f" [{unit}]" if unit else ""
        print(f"{name:<{width}}  {value}{unit_text}\n{'':<{width}}  {meaning}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # The embedded Prefect server would phone home and log an ERROR on every offline run.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")  # a local Dask cluster's start-up chatter

    # A loaded machine can take longer than Prefect's 20 s to start its embedded server.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    from pipeline.coach.names import NamingError
    from pipeline.pose_model import WeightsNotFoundError

    try:
        commands = {"run": _run, "serve": _serve, "deploy": _deploy, "stats": _stats, "report": _report,
                    "config": _config, "athletes": _athletes, "name": _name, "rename": _rename,
                    "progress": _progress, "compare": _compare}
        return int(commands[args.command](args))
    except (ConfigError, WeightsNotFoundError, FileNotFoundError, ServerError, NamingError) as exc:
        print(f"formwatch: error: {exc}", file=sys.stderr)
        return ExitStatus.USAGE
    except (OutputError, PrefectUnavailable) as exc:
        print(f"formwatch: error: {exc}", file=sys.stderr)
        return ExitStatus.ENVIRONMENT
    except KeyboardInterrupt:
        print("formwatch: interrupted", file=sys.stderr)
        return 130


#: The status ``formwatch`` exits with (see :func:`console_main`); 1 until main returns.
_exit_status = 1


def console_main(argv: list[str] | None = None) -> NoReturn:
    """The ``formwatch`` command: :func:`main`, then an exit that skips the interpreter's teardown.

    When main returns, every output is written and closed; Prefect's exit handlers (its log and
    event flushes, the temporary server's stop) still run as usual. What is left after them is
    the interpreter freeing its modules one by one, 1.8-2.0 s on 2 cores after a run (the pose
    model's libraries), in which the command has nothing left to do. The last exit handler
    (registered first) ends the process there with main's status.
    """
    global _exit_status
    atexit.register(_end_now)
    try:
        _exit_status = main(argv)
    except SystemExit as exc:  # argparse's usage errors and --help
        _exit_status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        raise
    sys.exit(_exit_status)


def _end_now() -> None:
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(_exit_status)


if __name__ == "__main__":
    console_main()
