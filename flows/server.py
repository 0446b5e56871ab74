"""A Prefect server that ``formwatch serve`` starts and owns when no PREFECT_API_URL is set.

Prefect fires schedules only from a real server (its scheduler service), never from the
temporary one behind a plain ``formwatch run``. This one keeps its SQLite database and
log in one folder (default ``~/.formwatch/prefect-server``, or ``$FORMWATCH_HOME/prefect-server``),
listens on loopback only, and stops with the command.

SQLite allows one writer at a time. The server's telemetry heartbeat writes on its own
schedule and is what logged ``database is locked`` on a first start here; it is turned
off (it would also try to reach the internet). With that, ``serve`` running its flow runs
itself leaves a clean log. Process workers on the same server add writers of their own
(heartbeats, state changes): under load SQLite can refuse one with ``database is locked``,
which Prefect's clients retry; that setup belongs on a PostgreSQL-backed server.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

#: Where the owned server keeps ``prefect.db`` and ``server.log``.
FORMWATCH_HOME_ENV = "FORMWATCH_HOME"


def default_server_home() -> Path:
    return Path(os.environ.get(FORMWATCH_HOME_ENV) or Path.home() / ".formwatch").expanduser() / "prefect-server"


class ServerError(RuntimeError):
    """The local Prefect server could not be started; the message says why and where its log is."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex((host, port)) != 0


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def server_environment(home: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of an owned server: its folder, its database, no telemetry."""
    env = dict(os.environ if base is None else base)
    env.pop("PREFECT_API_URL", None)
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    return env


@contextlib.contextmanager
def signals_deferred(*signums: int) -> Iterator[None]:
    """Hold ``signums`` (default SIGINT and SIGTERM) back until the block ends, then deliver them.

    A Ctrl-C or SIGTERM that lands while a child process is being spawned would otherwise
    raise inside ``subprocess.Popen``, after the fork but before its pid is kept, and leave
    the child running with nobody to stop it. Inside the block a signal is only recorded;
    at its end the previous handlers are back and each recorded signal is raised again, so
    it acts exactly as it would have, just after the child is known. Outside the main thread
    (where Python cannot set handlers) the block runs as it is.
    """
    signums = signums or (signal.SIGINT, signal.SIGTERM)
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {signum: signal.signal(signum, lambda number, _frame: received.append(number)) for signum in signums}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(received):
            signal.raise_signal(signum)


class LocalServer:
    """``with LocalServer(home) as server:`` a Prefect server at ``server.api_url`` until the block ends.

    ``port`` 4200 (Prefect's usual) is used when free, else any free port. ``settings`` adds
    Prefect settings (environment variables) for the server process.
    """

    def __init__(self, home: str | Path | None = None, port: int = 4200, host: str = "127.0.0.1",
                 startup_timeout_s: float = 180.0, settings: dict[str, str] | None = None) -> None:
        self.home = Path(home).expanduser().resolve() if home else default_server_home()
        self.host = host
        self.port = port
        self.startup_timeout_s = startup_timeout_s
        self.settings = dict(settings or {})  # extra PREFECT_* settings of the server
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api"

    @property
    def log_path(self) -> Path:
        return self.home / "server.log"

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def start(self) -> LocalServer:
        self.home.mkdir(parents=True, exist_ok=True)
        if not port_is_free(self.port, self.host):
            self.port = free_port(self.host)
        prefect = Path(sys.executable).with_name("prefect")
        command = [str(prefect) if prefect.exists() else "prefect", "server", "start",
                   "--host", self.host, "--port", str(self.port)]
        try:
            # A signal during the spawn is delivered once the process is kept, so stop() finds it.
            with signals_deferred(), open(self.log_path, "ab") as log:
                self._process = subprocess.Popen(
                    command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    env=server_environment(self.home) | self.settings, start_new_session=True)
            self._wait_until_healthy(self._process)
        except BaseException:  # a timeout, Ctrl-C or SIGTERM while starting: leave no server behind
            self.stop()
            raise
        return self

    def _wait_until_healthy(self, process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while not self._healthy():
            if process.poll() is not None:
                raise ServerError(f"The Prefect server exited with code {process.returncode} while starting; "
                                  f"see {self.log_path}.")
            if time.monotonic() > deadline:
                raise ServerError(f"The Prefect server did not answer within {self.startup_timeout_s:.0f} s; "
                                  f"see {self.log_path}.")
            time.sleep(0.5)

    def stop(self, timeout_s: float = 30.0) -> int | None:
        """SIGTERM the server (its whole process group), SIGKILL after ``timeout_s``; return its exit code."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        os.killpg(process.pid, signal.SIGTERM)
        try:
            return process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            return process.wait()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class TemporaryServer:
    """Prefect's temporary server (the one a run with no PREFECT_API_URL starts), started at
    launch so that its seconds of imports and database set-up run in their own process while
    this one loads the model and infers the first frames, instead of after them.

    ``start`` launches exactly the command Prefect's ``SubprocessASGIServer`` launches (uvicorn
    on Prefect's app factory, loopback, a free port, no UI), without importing Prefect here;
    ``adopt`` points Prefect at it once it answers (``PREFECT_API_URL``), so the flow runs on it
    as it would on the one Prefect starts itself, and stops it at exit; ``stop`` ends it if it
    was not adopted.
    """

    def __init__(self, startup_timeout_s: float = 90.0, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = free_port(host)
        self.startup_timeout_s = startup_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api"

    @staticmethod
    def wanted(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
        """Whether a run would start Prefect's temporary server: no PREFECT_API_URL in the
        environment and the ephemeral mode not turned off (a profile's API URL is checked
        in :meth:`adopt`, once Prefect is imported)."""
        off = {"0", "false", "no", "off"}
        if "prefect.settings" in sys.modules:  # already imported (a test harness, a caller's settings)
            from prefect.settings import PREFECT_API_URL

            if PREFECT_API_URL.value():
                return False
        return not environ.get("PREFECT_API_URL") and all(
            environ.get(name, "true").strip().lower() not in off
            for name in ("PREFECT_SERVER_EPHEMERAL_ENABLED", "PREFECT_SERVER_ALLOW_EPHEMERAL_MODE"))

    def start(self) -> TemporaryServer:
        import importlib.util

        spec = importlib.util.find_spec("prefect")
        if spec is None or spec.origin is None:
            raise ServerError("Prefect is not installed")
        site = Path(spec.origin).parent.parent
        env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1",
               "PREFECT__SERVER_FINAL": "1"}
        command = [sys.executable, "-m", "uvicorn", "--app-dir", str(site), "--factory",
                   "prefect.server.api.server:create_app", "--host", self.host, "--port", str(self.port),
                   "--log-level", "error", "--lifespan", "on"]
        # the server's own output goes to a file of its own, not this command's stderr: stopping it
        # at exit cancels its event flushes, which it reports with tracebacks (seen on a loaded
        # machine); the file is removed when the server is stopped, kept if it ends on its own
        log: int | None = None
        try:
            log, name = tempfile.mkstemp(prefix="formwatch-prefect-server-", suffix=".log")
            self.log_path = Path(name)
        except OSError:  # no writable temporary folder: the server writes to this stderr, as it did
            self.log_path = None
        try:
            with signals_deferred():
                self._process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                                 stderr=subprocess.STDOUT if log is not None else None)
        finally:
            if log is not None:
                os.close(log)
        return self

    def wait_until_healthy(self) -> bool:
        """True once the server answers; False if it exited or did not answer in time."""
        deadline = time.monotonic() + self.startup_timeout_s
        while self._process is not None and self._process.poll() is None:
            try:
                with urllib.request.urlopen(f"{self.api_url}/health", timeout=2) as response:
                    if response.status == 200:
                        return True
            except OSError:
                pass
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return False

    def adopt(self) -> bool:
        """Make this server the API of every Prefect client in this process (and of the processes
        it spawns), once it answers: ``PREFECT_API_URL`` is set in the environment and Prefect's
        global settings are read again, as if the user had pointed Prefect at it.

        Setting the API URL, rather than handing the process to Prefect's ``SubprocessASGIServer``,
        spares this process the import of Prefect's whole server package (FastAPI routes, ORM
        models: 1.5 s of CPU on 2 cores, taken from the pose model). The server is stopped at exit,
        after Prefect's own exit handlers have sent their last logs and events (``atexit`` runs
        handlers in reverse order, and this one is registered before Prefect starts its workers).

        False (and the server stopped) where Prefect has an API URL of its own (a profile) or the
        server did not come up: Prefect then goes its usual way.
        """
        from prefect.settings import PREFECT_API_URL

        if PREFECT_API_URL.value() or not self.wait_until_healthy():
            self.stop()
            return False
        from prefect.context import refresh_global_settings_context

        os.environ["PREFECT_API_URL"] = self.api_url
        os.environ.setdefault("PREFECT_UI_URL", "")  # the server has no UI: no "View at" links to it
        refresh_global_settings_context()
        process, self._process = self._process, None  # stop() from here on leaves it to the exit handler
        atexit.register(_terminate, process, self.log_path)
        return True

    def stop(self) -> None:
        process, self._process = self._process, None
        _terminate(process, self.log_path)


@contextlib.contextmanager
def no_flow_heartbeats() -> Iterator[None]:
    """Prefect's flow-run heartbeats off inside the block, for flow runs on a temporary server.

    A heartbeat lets a lasting server mark a run whose process died as crashed. The temporary
    server dies with this process, so it has no use for them, and the thread that sends them sleeps
    in 1 s steps that the end of every flow run waits out: 0.93 s of a 12 s run measured, half a
    second on average, with nothing else happening.
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def _terminate(process: subprocess.Popen[bytes] | None, log_path: Path | None = None) -> None:
    """Stop the temporary server and remove its log; one that ended on its own with an error keeps
    its log, and a line on stderr says where it is."""
    if process is None:
        return
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    elif process.returncode and log_path is not None:
        print(f"formwatch: Prefect's temporary server stopped on its own (exit {process.returncode}); "
              f"its log: {log_path}", file=sys.stderr)
        return
    if log_path is not None:
        log_path.unlink(missing_ok=True)
