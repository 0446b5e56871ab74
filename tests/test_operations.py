"""Nightly operations against real Prefect servers: `formwatch serve`, work-pool workers, Dask.

A Prefect server is started here on a free loopback port with a temporary PREFECT_HOME;
`formwatch` and `prefect worker` run as separate processes against it, as a user runs
them, and every assertion reads the Prefect API.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pyarrow.dataset as ds
import pytest
from clips import write_clip

from flows.server import LocalServer, free_port, port_is_free, signals_deferred

# Its module-scoped fixtures run once per test worker: keep the module's tests on one worker.
pytestmark = pytest.mark.xdist_group("operations")

BIN = Path(sys.executable).parent
CONFIG = "model:\n  image_size: 320\nrender:\n  clips: false\norchestration:\n  retry_delay_s: 1\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    # The scheduler creates the scheduled runs every 5 s instead of every minute.
    fast = {"PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5"}
    with LocalServer(tmp_path_factory.mktemp("prefect-home"), port=free_port(), settings=fast) as started:
        yield started


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Four short clips, each a different file."""
    folder = tmp_path_factory.mktemp("nightly-footage")
    for k in range(4):
        write_clip(folder / f"clip{k}.mp4", frames=6 + k, size=(320, 240))
    return folder


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "nightly.yaml"
    path.write_text(CONFIG)
    return path


def _env(api_url: str | None, weights: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(FORMWATCH_WEIGHTS=str(weights), PREFECT_SERVER_ANALYTICS_ENABLED="false", **extra)
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


class Api:
    def __init__(self, api_url: str) -> None:
        self.http = httpx.Client(base_url=api_url, timeout=30)

    def post(self, path: str, body: dict | None = None):
        response = self.http.post(path, json=body or {})
        response.raise_for_status()
        return response.json()

    def get(self, path: str):
        response = self.http.get(path)
        response.raise_for_status()
        return response.json()

    def deployment(self, name: str, timeout_s: float = 120.0) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            response = self.http.get(f"/deployments/name/{name}")
            if response.status_code == 200:
                return response.json()
            time.sleep(1)
        raise AssertionError(f"deployment {name} was not registered within {timeout_s} s")

    def wait_final(self, flow_run_id: str, timeout_s: float) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            run = self.get(f"/flow_runs/{flow_run_id}")
            if run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
                return run
            time.sleep(2)
        raise AssertionError(f"flow run {flow_run_id} did not finish within {timeout_s} s: {run['state']}")


def _next_local(hour: int, zone: str) -> datetime:
    now = datetime.now(ZoneInfo(zone))
    candidate = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    return candidate if candidate > now else (candidate + timedelta(days=1)).replace(hour=hour)


def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout_s: float = 60.0) -> tuple[int, str]:
    """Signal the command and wait for it; one that does not stop in time is killed with every
    process it started (its own Prefect server among them) before the test fails, so no server
    outlives the test."""
    process.send_signal(sig)
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        import psutil

        try:
            parent = psutil.Process(process.pid)
            family = [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            family = []
        for member in family:
            with contextlib.suppress(psutil.NoSuchProcess):
                member.kill()
        process.communicate()
        raise
    return process.returncode, output


def test_serve_registers_the_nightly_schedule_runs_on_demand_and_stops_on_sigterm(
        server: LocalServer, footage: Path, config: Path, weights: Path, tmp_path: Path):
    out = tmp_path / "out"
    serve = subprocess.Popen(
        [BIN / "formwatch", "serve", str(footage), "--out", str(out), "--config", str(config),
         "--cron", "0 2 * * *", "--timezone", "America/New_York"],
        env=_env(server.api_url, weights), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    api = Api(server.api_url)
    try:
        deployment = api.deployment("annotate_footage/formwatch-nightly")
        [schedule] = deployment["schedules"]
        assert schedule["schedule"]["cron"] == "0 2 * * *"
        assert schedule["schedule"]["timezone"] == "America/New_York" and schedule["active"]
        assert deployment["parameters"]["out_dir"] == str(out)
        query = {"flow_runs": {"deployment_id": {"any_": [deployment["id"]]},
                               "state": {"type": {"any_": ["SCHEDULED"]}}},
                 "sort": "EXPECTED_START_TIME_ASC", "limit": 1}
        for _ in range(60):
            if scheduled := api.post("/flow_runs/filter", query):
                break
            time.sleep(1)
        first = datetime.fromisoformat(scheduled[0]["expected_start_time"])
        assert first == _next_local(2, "America/New_York")  # 02:00 in New York, whatever the UTC offset

        run = api.post(f"/deployments/{deployment['id']}/create_flow_run", {})
        run = api.wait_final(run["id"], timeout_s=300)
        assert run["state"]["type"] == "COMPLETED", run["state"]
        assert run["name"].endswith(f"· {footage.name} · 4 videos")
        videos = ds.dataset(out / "videos").to_table().to_pylist()
        assert sorted(Path(v["path"]).name for v in videos) == [f"clip{k}.mp4" for k in range(4)]
        assert all(v["status"] == "ok" for v in videos)
        [summary] = api.post("/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run["id"]]},
                                                                  "key": {"any_": ["formwatch-summary"]}}})
        assert "| 4 | 4 | 0 | 0 | 0 | 0 |" in summary["data"]  # found, processed, skipped, failed, people, runners
    finally:
        code, output = _stop(serve)
    assert code == 0, output
    assert "formwatch serve: stopped" in output
    assert "Traceback" not in output and "ERROR" not in output, output


def test_serve_without_a_server_starts_one_with_a_clean_log_and_stops_it(
        footage: Path, config: Path, weights: Path, tmp_path: Path):
    port = free_port()
    home = tmp_path / "formwatch-home"
    serve = subprocess.Popen(
        [BIN / "formwatch", "serve", str(footage), "--out", str(tmp_path / "out"), "--config", str(config),
         "--cron", "30 1 * * *", "--port", str(port)],
        env=_env(None, weights, FORMWATCH_HOME=str(home)), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    try:
        lines = []
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and not any("Serving" in line for line in lines):
            lines.append(serve.stdout.readline())
        assert f"Prefect UI: http://127.0.0.1:{port}\n" in lines, lines
        deployment = Api(f"http://127.0.0.1:{port}/api").deployment("annotate_footage/formwatch-nightly")
        assert deployment["schedules"][0]["schedule"]["cron"] == "30 1 * * *"
    finally:
        code, output = _stop(serve)
    assert code == 0, "".join(lines) + output
    assert port_is_free(port)  # the owned server stopped with it
    log = (home / "prefect-server" / "server.log").read_text()
    assert (home / "prefect-server" / "prefect.db").is_file()
    for bad in ("ERROR", "Traceback", "database is locked"):
        assert bad not in log, log[-3000:]


def test_two_process_workers_share_the_child_runs(
        server: LocalServer, footage: Path, config: Path, weights: Path, tmp_path: Path):
    out = tmp_path / "out"
    env = _env(server.api_url, weights, PREFECT_WORKER_QUERY_SECONDS="2")
    deploy = subprocess.run(
        [BIN / "formwatch", "deploy", str(footage), "--out", str(out), "--config", str(config), "--pool", "fw-test"],
        env=env, capture_output=True, text=True, timeout=120)
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    workers = [
        subprocess.Popen([BIN / "prefect", "worker", "start", "--pool", "fw-test", "--type", "process",
                          "--limit", "2", "--name", name], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
        for name in ("worker-a", "worker-b")
    ]
    api = Api(server.api_url)
    try:
        nightly = api.deployment("annotate_footage/formwatch-nightly")
        parent = api.post(f"/deployments/{nightly['id']}/create_flow_run", {})
        parent = api.wait_final(parent["id"], timeout_s=420)
        assert parent["state"]["type"] == "COMPLETED", parent["state"]
        video = api.deployment("process-one-video/formwatch-video")
        children = api.post("/flow_runs/filter", {"flow_runs": {"deployment_id": {"any_": [video["id"]]}}})
    finally:
        outputs = [_stop(worker, signal.SIGINT)[1] for worker in workers]
    assert len(children) == 4, outputs
    assert all(child["state"]["type"] == "COMPLETED" for child in children)
    assert sorted(child["name"] for child in children) == [f"clip{k}.mp4" for k in range(4)]
    ran_on = {child["labels"].get("prefect.worker.name") for child in children}
    assert ran_on == {"worker-a", "worker-b"}, [c["labels"] for c in children]
    videos = ds.dataset(out / "videos").to_table().to_pylist()
    assert len(videos) == 4 and all(v["status"] == "ok" for v in videos)


def test_dask_task_runner_on_a_two_worker_cluster(footage: Path, weights: Path, tmp_path: Path, prefect_harness):
    from distributed import Client, LocalCluster, get_task_stream

    from flows.annotate import annotate_footage
    from pipeline.config import load_settings

    settings = load_settings(overrides={
        "model": {"weights": str(weights), "image_size": 320}, "render": {"clips": False},
    }, environ={})
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        settings = settings.model_copy(update={"orchestration": settings.orchestration.model_copy(
            update={"task_runner": "dask", "dask_address": cluster.scheduler_address})})
        with get_task_stream(client) as stream:
            summary = annotate_footage([str(footage)], str(tmp_path / "out"), settings)
    assert (summary["found"], summary["ok"], summary["failed"]) == (4, 4, 0)
    assert len({task["worker"] for task in stream.data}) == 2  # both Dask workers processed videos
    assert ds.dataset(tmp_path / "out" / "videos").to_table().num_rows == 4


def test_sigterm_while_the_owned_server_starts_leaves_nothing_running(
        footage: Path, config: Path, weights: Path, tmp_path: Path):
    import psutil

    port = free_port()
    serve = subprocess.Popen(
        [BIN / "formwatch", "serve", str(footage), "--out", str(tmp_path / "out"), "--config", str(config),
         "--cron", "0 2 * * *", "--port", str(port)],
        env=_env(None, weights, FORMWATCH_HOME=str(tmp_path / "home")), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    first = serve.stdout.readline()
    assert first.startswith("Starting a local Prefect server"), first
    code, output = _stop(serve)
    assert code == 0 and "formwatch serve: stopped" in output, first + output
    time.sleep(1)
    left = [p.info["cmdline"] for p in psutil.process_iter(["cmdline"])
            if p.info["cmdline"] and "--port" in p.info["cmdline"] and str(port) in p.info["cmdline"]]
    assert left == [], left


def test_a_signal_during_a_deferred_block_arrives_after_it():
    """SIGTERM inside the block does not interrupt it; it reaches the handler right after."""
    received: list[str] = []

    def handler(signum: int, frame: object) -> None:
        received.append("handler")
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        with pytest.raises(KeyboardInterrupt), signals_deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            received.append("block went on")
            os.kill(os.getpid(), signal.SIGTERM)  # twice: delivered once
            received.append("block ended")
        assert received == ["block went on", "block ended", "handler"]
        assert signal.getsignal(signal.SIGTERM) is handler  # the handler is back
        with signals_deferred():
            received.append("quiet block")
        assert received[-1] == "quiet block"  # no signal, nothing raised
    finally:
        signal.signal(signal.SIGTERM, previous)


ADOPT = """
import json, os, sys
from flows.server import TemporaryServer
server = TemporaryServer(60).start()
pid = server._process.pid
adopted = server.adopt()
from prefect.client.orchestration import get_client
with get_client(sync_client=True) as client:
    healthy = client.api_healthcheck() is None
from prefect import flow
from prefect.settings import get_current_settings
from flows.server import no_flow_heartbeats

@flow
def heartbeat_seconds():
    return get_current_settings().flows.heartbeat_frequency

with no_flow_heartbeats():
    quiet = heartbeat_seconds()
print(json.dumps({"adopted": adopted, "healthy": healthy, "url": str(client.api_url) == server.api_url + "/",
                  "environment": os.environ["PREFECT_API_URL"] == server.api_url,
                  "server package": "prefect.server.api.server" in sys.modules,
                  "heartbeats": [quiet, heartbeat_seconds()], "pid": pid}), flush=True)
"""


def test_the_temporary_server_started_at_launch_is_the_one_prefect_uses(tmp_path: Path):
    """`formwatch run` starts Prefect's temporary server before loading the model; Prefect's
    client then talks to that process (also in processes spawned from here), starts no second
    one, never imports Prefect's server package here, and the server is gone when the process exits."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")} | {
        "HOME": str(tmp_path), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    done = subprocess.run([sys.executable, "-c", ADOPT], env=env, cwd=Path(__file__).resolve().parents[1],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    said = json.loads(done.stdout.strip().splitlines()[-1])
    pid = said.pop("pid")
    # flow runs on it send no heartbeats (their thread's 1 s naps held up each run's end); Prefect's default elsewhere
    assert said == {"adopted": True, "healthy": True, "url": True, "environment": True,
                    "server package": False, "heartbeats": [None, 180]}, said
    assert not _running(pid), "the temporary server outlived the process that adopted it"


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_configured_prefect_server_is_not_shadowed_by_a_temporary_one():
    from flows.server import TemporaryServer

    assert not TemporaryServer.wanted({"PREFECT_API_URL": "http://prefect-host:4200/api"})
    assert not TemporaryServer.wanted({"PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "false"})
