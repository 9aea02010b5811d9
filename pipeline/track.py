"""MLflow tracking: one parent run per pipeline invocation, a nested run per stage.

A stage's run is created when the stage starts (params, and lineage tags of what
it reads), takes training curves while it runs, and ends FINISHED with its
outputs' tags and metrics, or FAILED with the error as tag ``lightstage.error``
and as the run's description.

The parent is found, in order, from ``LIGHTSTAGE_PARENT_RUN_ID`` (set by the
Prefect flow, which ends it), or from the ``dvc repro`` process that started
this stage (all stages of one ``dvc repro`` share it; it ends with the latest
stage, FAILED if one failed), or created for this process alone.
Default store: SQLite ``mlflow.db`` at the repo root; ``MLFLOW_TRACKING_URI``
overrides. mlflow is imported lazily: the import alone costs seconds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXPERIMENT = "lightstage"
PARENT_ENV = "LIGHTSTAGE_PARENT_RUN_ID"
INVOCATION_TAG = "lightstage.invocation"
STAGE_TAG = "lightstage.stage"
COMMIT_TAG = "lightstage.git_commit"
ERROR_TAG = "lightstage.error"
NOTE_TAG = "mlflow.note.content"  # the run's description in the MLflow UI
TAG_LIMIT = 8000  # MLflow's longest tag value
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




def end_run(root: str | Path, run_id: str, failed: bool = False, message: str | None = None) -> None:
    """End a run FINISHED, or FAILED with ``message`` recorded as its error."""
    client = _client(Path(root))
    if failed and message:
        _record_error(client, run_id, message)
    client.set_terminated(run_id, "FAILED" if failed else "FINISHED")


def _record_error(client, run_id: str, message: str) -> None:
    from mlflow.entities import RunTag

    text = message[:TAG_LIMIT]
    client.log_batch(run_id, tags=[RunTag(ERROR_TAG, text), RunTag(NOTE_TAG, text)])


def _log_metrics(client, run_id: str, metrics: list) -> None:
    for start in range(0, len(metrics), METRIC_BATCH):
        client.log_batch(run_id, metrics=metrics[start:start + METRIC_BATCH])


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class StageRun:
    """One stage's nested run, open while the stage runs."""

    client: Any = field(repr=False)
    run_id: str
    stage: str
    parent: str
    owns_parent: bool  # a dvc repro's parent ends with its latest stage; the flow ends its own
    history_logged: bool = False

    def log_history(self, rows: Sequence[tuple[int, Mapping[str, float]]]) -> None:
        """Training curves: each (step, losses) row as ``train/<name>`` metrics at that step."""
        from mlflow.entities import Metric

        now = _now_ms()
        metrics = [Metric(f"train/{k}", float(v), now, step) for step, values in rows for k, v in values.items()]
        _log_metrics(self.client, self.run_id, metrics)
        self.history_logged = self.history_logged or bool(metrics)

    def finish(self, metrics: Mapping[str, float], tags: Mapping[str, str], artifacts: Mapping[str, list[Path]]) -> None:
        """Record the outputs (tags, metrics, files) and end the run FINISHED."""
        from mlflow.entities import Metric, RunTag

        now = _now_ms()
        all_tags = [RunTag(k, v) for k, v in tags.items()]
        for start in range(0, len(all_tags), BATCH):
            self.client.log_batch(self.run_id, tags=all_tags[start:start + BATCH])
        _log_metrics(self.client, self.run_id, [Metric(k, float(v), now, 0) for k, v in metrics.items()])
        for folder, paths in artifacts.items():
            for path in paths:
                self.client.log_artifact(self.run_id, str(path), artifact_path=folder)
        self.client.set_terminated(self.run_id, "FINISHED")
        # A dvc repro's parent ends with its latest stage, unless an earlier one failed (--keep-going).
        if self.owns_parent and self.client.get_run(self.parent).info.status != "FAILED":
            self.client.set_terminated(self.parent, "FINISHED")

    def fail(self, message: str) -> None:
        """End the run FAILED with ``message``; a parent this process owns fails with it."""
        _record_error(self.client, self.run_id, message)
        self.client.set_terminated(self.run_id, "FAILED")
        if self.owns_parent:
            _record_error(self.client, self.parent, f"stage {self.stage} failed: {message}")
            self.client.set_terminated(self.parent, "FAILED")


def start_stage(
    root: str | Path, stage: str, params: Mapping[str, object], tags: Mapping[str, str], commit: str
) -> StageRun:
    """Open a stage's nested run under this invocation's parent, with its params and ``tags``
    (lineage of what it reads, where it runs)."""
    from mlflow.entities import Param, RunTag

    root = Path(root)
    client = _client(root)
    parent, owns_parent = _parent_for(client, root, commit)
    if owns_parent and client.get_run(parent).info.status == "FINISHED":
        client.update_run(parent, status="RUNNING")  # the dvc repro goes on with this stage
    run = client.create_run(
        _experiment_id(client, root), run_name=stage,
        tags={"mlflow.parentRunId": parent, STAGE_TAG: stage, COMMIT_TAG: commit},
    )
    all_params = [Param(k, str(v)) for k, v in params.items()]
    all_tags = [RunTag(k, v) for k, v in tags.items()]
    for start in range(0, max(len(all_params), len(all_tags)), BATCH):
        client.log_batch(run.info.run_id, params=all_params[start:start + BATCH], tags=all_tags[start:start + BATCH])
    return StageRun(client=client, run_id=run.info.run_id, stage=stage, parent=parent, owns_parent=owns_parent)
