"""MLflow tracking: one parent run per pipeline invocation, a nested run per stage.

The parent is found, in order, from ``LIGHTSTAGE_PARENT_RUN_ID`` (set by the
Prefect flow), or from the ``dvc repro`` process that started this stage (all
stages of one ``dvc repro`` share it), or created for this process alone.
Default store: SQLite ``mlflow.db`` at the repo root; ``MLFLOW_TRACKING_URI``
overrides. mlflow is imported lazily: the import alone costs seconds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

EXPERIMENT = "lightstage"
PARENT_ENV = "LIGHTSTAGE_PARENT_RUN_ID"
INVOCATION_TAG = "lightstage.invocation"
STAGE_TAG = "lightstage.stage"
COMMIT_TAG = "lightstage.git_commit"
BATCH = 100  # MLflow accepts at most 100 params or tags per log_batch call
METRIC_BATCH = 1000  # and at most 1000 metrics


def tracking_uri(root: str | Path) -> str:
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path(root).resolve() / 'mlflow.db'}"


def _client(root: Path):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri(root))


def _experiment_id(client, root: Path) -> str:
    experiment = client.get_experiment_by_name(EXPERIMENT)
    if experiment is not None:
        return experiment.experiment_id
    artifacts = (Path(root).resolve() / "mlartifacts").as_uri()
    try:
        return client.create_experiment(EXPERIMENT, artifact_location=artifacts)
    except Exception:  # created meanwhile by a concurrent stage
        return client.get_experiment_by_name(EXPERIMENT).experiment_id


def _proc_stat(pid: int) -> tuple[int, str]:
    """(parent pid, start time in clock ticks) of a process, from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[1]), fields[19]


def dvc_invocation() -> str | None:
    """An id for the ``dvc`` process among this process's ancestors, or None."""
    pid = os.getppid()
    for _ in range(8):
        if pid <= 1:
            return None
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            parent, started = _proc_stat(pid)
        except OSError:
            return None
        if any(Path(arg.decode(errors="replace")).name == "dvc" for arg in argv[:3]):
            return f"dvc-{pid}-{started}"
        pid = parent
    return None


def start_parent(root: str | Path, name: str, invocation: str, commit: str) -> str:
    """Create a parent run for one pipeline invocation; return its id."""
    client = _client(Path(root))
    run = client.create_run(
        _experiment_id(client, Path(root)), run_name=name,
        tags={INVOCATION_TAG: invocation, COMMIT_TAG: commit},
    )
    return run.info.run_id


def end_run(root: str | Path, run_id: str, failed: bool = False) -> None:
    _client(Path(root)).set_terminated(run_id, "FAILED" if failed else "FINISHED")


def _parent_for(client, root: Path, commit: str) -> tuple[str, bool]:
    """The parent run's id, and whether this process owns its status (the flow owns its own)."""
    if os.environ.get(PARENT_ENV):
        return os.environ[PARENT_ENV], False
    invocation = dvc_invocation()
    if invocation is not None:
        found = client.search_runs(
            [_experiment_id(client, root)], filter_string=f"tags.`{INVOCATION_TAG}` = '{invocation}'", max_results=1
        )
        if found:
            return found[0].info.run_id, True
    name = f"dvc repro {time.strftime('%Y-%m-%d %H:%M:%S')}" if invocation else "stage run"
    return start_parent(root, name, invocation or f"pid-{os.getpid()}", commit), True


def log_stage(
    root: str | Path, stage: str, params: Mapping[str, object], metrics: Mapping[str, float],
    tags: Mapping[str, str], artifacts: Mapping[str, list[Path]], commit: str,
    history: list[tuple[int, Mapping[str, float]]] = (),
) -> str:
    """Record one stage run as a nested run; return its id. Params, metrics (with any per-step
    ``history`` curves, as ``train/<name>``) and tags go in batches."""
    from mlflow.entities import Metric, Param, RunTag

    root = Path(root)
    client = _client(root)
    parent, owns_parent = _parent_for(client, root, commit)
    run = client.create_run(
        _experiment_id(client, root), run_name=stage,
        tags={"mlflow.parentRunId": parent, STAGE_TAG: stage, COMMIT_TAG: commit},
    )
    run_id = run.info.run_id
    now = int(time.time() * 1000)
    all_params = [Param(k, str(v)) for k, v in params.items()]
    all_tags = [RunTag(k, v) for k, v in tags.items()]
    all_metrics = [Metric(k, float(v), now, 0) for k, v in metrics.items()]
    all_metrics += [Metric(f"train/{k}", float(v), now, step) for step, values in history for k, v in values.items()]
    for start in range(0, max(len(all_params), len(all_tags)), BATCH):
        client.log_batch(run_id, params=all_params[start:start + BATCH], tags=all_tags[start:start + BATCH])
    for start in range(0, len(all_metrics), METRIC_BATCH):
        client.log_batch(run_id, metrics=all_metrics[start:start + METRIC_BATCH])
    for folder, paths in artifacts.items():
        for path in paths:
            client.log_artifact(run_id, str(path), artifact_path=folder)
    client.set_terminated(run_id, "FINISHED")
    if owns_parent:  # a dvc repro parent ends with its latest stage
        client.set_terminated(parent, "FINISHED")
    return run_id
