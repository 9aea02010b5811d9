"""The Prefect flow: the dvc.yaml graph, one task per stage, DVC deciding freshness.

The graph comes from DVC's own API (``Repo.index.graph``), so dvc.yaml stays the
only description of it. Each task asks DVC whether its stage is fresh (and skips
it if so), runs the stage's command, then has DVC commit the results to its
cache and dvc.lock, exactly what ``dvc repro`` records. Stages on independent
branches run at once (``flow.max_workers``); a failed stage is retried
``flow.retries`` times, and when it still fails the flow's MLflow parent run
ends FAILED with the stage's error. DVC calls are serialised by a lock; stage
commands are not.

    python -m pipeline.flow run                # once, against PREFECT_API_URL
    python -m pipeline.flow serve --cron "0 3 * * *"   # a scheduled deployment
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.task_runners import ThreadPoolTaskRunner

from pipeline import track
from pipeline.config import load_params
from pipeline.lineage import git_commit

_DVC_LOCK = threading.Lock()  # DVC's repo lock admits one DVC operation at a time


def stage_graph(root: str | Path) -> dict[str, list[str]]:
    """Each dvc.yaml stage with the stages it depends on, in an order that runs upstream first."""
    import networkx as nx
    from dvc.repo import Repo

    with Repo(str(root)) as repo:
        graph = repo.index.graph  # edges point from a stage to the stages it reads from
        order = list(reversed(list(nx.topological_sort(graph))))
        return {
            stage.addressing: sorted(up.addressing for up in graph.successors(stage))
            for stage in order if stage.cmd
        }


def _stage_status(root: str, name: str) -> tuple[bool, str]:
    """(whether DVC reports the stage changed, its command)."""
    from dvc.repo import Repo

    with _DVC_LOCK, Repo(root) as repo:
        stage = repo.stage.collect(name)[0]
        changed = bool(repo.status(targets=[name]))
        cmd = stage.cmd if isinstance(stage.cmd, str) else " && ".join(stage.cmd)
        return changed, cmd


def _commit(root: str, name: str) -> None:
    from dvc.repo import Repo

    with _DVC_LOCK, Repo(root) as repo:
        repo.commit(name, force=True)


@task(name="dvc-stage", task_run_name="{name}")
def run_stage(root: str, name: str, env: dict[str, str]) -> str:
    """Run one stage if DVC says it is stale; return 'ran' or 'skipped'."""
    logger = get_run_logger()
    changed, cmd = _stage_status(root, name)
    if not changed:
        logger.info("stage %s is up to date, skipped", name)
        return "skipped"
    logger.info("running stage %s: %s", name, cmd)
    stage_env = {**env, "DVC_ROOT": root, "DVC_STAGE": name}
    done = subprocess.run(cmd, shell=True, cwd=root, env=stage_env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"stage {name} failed (exit {done.returncode}): {error_line(done.stderr)}\n{done.stderr[-4000:]}")
    _commit(root, name)
    return "ran"


def error_line(stderr: str) -> str:
    """The line of a stage's stderr that says what went wrong: its ``error:`` line, else the last."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if ": error: " in line]
    return (errors or lines or ["(no error output)"])[-1]


@flow(name="lightstage", log_prints=True)
def lightstage(root: str = ".", retries: int = 1, retry_delay_s: float = 5.0) -> dict[str, str]:
    """Reproduce the dvc.yaml graph; return each stage's outcome ('ran' or 'skipped')."""
    root = str(Path(root).resolve())
    graph = stage_graph(root)
    parent = track.start_parent(root, f"prefect flow {time.strftime('%Y-%m-%d %H:%M:%S')}",
                                f"prefect-{os.getpid()}-{time.time_ns()}", git_commit(root))
    env = {**os.environ, track.PARENT_ENV: parent}
    stage_task = run_stage.with_options(retries=retries, retry_delay_seconds=retry_delay_s)
    futures = {}
    for name, upstream in graph.items():
        futures[name] = stage_task.submit(root, name, env, wait_for=[futures[u] for u in upstream])
    try:
        outcomes = {name: future.result() for name, future in futures.items()}
    except BaseException as err:
        summary = str(err).splitlines()[0] if str(err) else type(err).__name__  # the failing stage's error line
        track.end_run(root, parent, failed=True, message=summary)
        raise
    track.end_run(root, parent)
    return outcomes


def configured_flow(root: str | Path):
    """The flow with its task runner and retries taken from params.yaml's ``flow`` section."""
    params = load_params(Path(root) / "params.yaml")  # validates every section before any work
    cfg = params.section("flow")
    runner = ThreadPoolTaskRunner(max_workers=cfg.max_workers)
    return lightstage.with_options(task_runner=runner), {
        "root": str(Path(root).resolve()), "retries": cfg.retries, "retry_delay_s": cfg.retry_delay_s,
    }


def server_healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout) as response:
            return response.status == 200
    except OSError:
        return False


def ensure_server(api_url: str, log_path: Path, startup_timeout: float = 120.0) -> subprocess.Popen | None:
    """Start a local Prefect server for ``api_url`` unless one answers; wait until it is healthy."""
    if server_healthy(api_url):
        return None
    from urllib.parse import urlparse

    address = urlparse(api_url)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", address.hostname, "--port", str(address.port)],
        stdout=open(log_path, "ab"), stderr=subprocess.STDOUT, start_new_session=True,
        env={**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"},
    )
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if server_healthy(api_url):
            return process
        if process.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with {process.returncode}; see {log_path}")
        time.sleep(1.0)
    process.terminate()
    raise RuntimeError(f"the Prefect server did not answer within {startup_timeout:.0f} s; see {log_path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.flow", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("run", "serve"), help="run once, or serve a scheduled deployment")
    parser.add_argument("--root", default=".", help="the repository (holds dvc.yaml and params.yaml)")
    parser.add_argument("--cron", default="0 3 * * *", help="schedule for 'serve' (cron syntax)")
    parser.add_argument("--no-server", action="store_true", help="do not start a local server")
    args = parser.parse_args(argv)
    api_url = os.environ.get("PREFECT_API_URL")
    if api_url and not args.no_server:
        server = ensure_server(api_url, Path(os.environ.get("PREFECT_HOME", ".prefect")) / "server.log")
        if server is not None:
            print(f"started a Prefect server at {api_url} (pid {server.pid}); it keeps running")
    configured, parameters = configured_flow(args.root)
    if args.command == "serve":
        configured.serve(name="lightstage-scheduled", cron=args.cron, parameters=parameters)
        return 0
    outcomes = configured(**parameters)
    for name, outcome in outcomes.items():
        print(f"{name}: {outcome}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
